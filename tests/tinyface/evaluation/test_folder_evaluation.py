"""`tinyface evaluate`'s library gives the Evaluator's numbers: TFMA's real evaluation (our
EvalConfig, FaceSRMetrics, the pipeline's slicing features) on the very tf.Examples that
evaluate_folder scores, compared slice by slice and metric by metric."""

import json
import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma

from tinyface.pipeline import configs
from tinyface import features
from tinyface.data.errors import BadInput
from tinyface.evaluation.folder_pairs import face_pairs
from tinyface.evaluation import eval_config, face_scores, folder_evaluation, summary
from tinyface.prediction import open_saved_model


@pytest.fixture(scope="module")
def predict(exported_model):
    loaded, saved_model_dir, _ = open_saved_model(exported_model)
    return folder_evaluation.example_predictor(loaded, saved_model_dir)


@pytest.fixture(scope="module")
def folder(synthetic_faces):
    return synthetic_faces(count=24, seed=5)


@pytest.fixture(scope="module")
def evaluated(folder, predict):
    return folder_evaluation.evaluate_folder(predict, folder, configs.EVAL_SLICE_FEATURES,
                                             pair_config=configs.PAIR_CONFIG)


@pytest.fixture(scope="module")
def tfma_rows(tmp_path_factory, exported_model, folder):
    """TFMA's candidate rows for the examples evaluate scores, with the pipeline's EvalConfig."""
    records = tmp_path_factory.mktemp("evaluate-pairs") / "pairs.tfrecord"
    with tf.io.TFRecordWriter(str(records)) as writer:
        for pairs in face_pairs(folder, pair_config=configs.PAIR_CONFIG):
            for pair in pairs:
                writer.write(pair)
    # With a baseline, as the Evaluator has after the first blessing (the change thresholds
    # need one); the baseline is the same model, which changes none of the candidate's numbers.
    config = tfma.utils.update_eval_config_with_defaults(
        eval_config.build_eval_config(configs.EVAL_SLICE_FEATURES, configs.BLESSING), has_baseline=True)
    models = [tfma.default_eval_shared_model(exported_model, eval_config=config, model_name=spec.name)
              for spec in config.model_specs]
    output = str(tmp_path_factory.mktemp("evaluate-tfma"))
    tfma.run_model_analysis(eval_shared_model=models, eval_config=config, data_location=str(records),
                            output_path=output, file_format="tfrecords")
    return summary.slice_rows(tfma.load_eval_result(output, model_name=tfma.CANDIDATE_KEY))


def test_evaluate_gives_the_evaluators_numbers_on_every_slice(evaluated, tfma_rows):
    ours = summary.rows_by_slice(evaluated.by_slice)
    assert [row.name for row in ours] == [row.name for row in tfma_rows]
    assert len(ours) > 5, "the synthetic faces should fill several slices"
    for mine, theirs in zip(ours, tfma_rows):
        for metric in face_scores.METRIC_NAMES:
            expected = theirs.value(metric)
            if math.isnan(expected):
                assert math.isnan(mine.value(metric)), (mine.name, metric)
            else:  # the same examples and model: only float noise may differ
                assert mine.value(metric) == pytest.approx(expected, rel=1e-6, abs=1e-9), (mine.name, metric)


def test_counts_faces_and_writes_the_json_document(evaluated):
    assert evaluated.faces == 24 and evaluated.skipped == []
    document = json.loads(folder_evaluation.scores_json(evaluated))
    assert list(document) == ["faces", "overall", "slices"] and document["faces"] == 24
    keys = ["psnr_y", "bicubic_psnr_y", "ssim_y", "bicubic_ssim_y", "nme", "mean_shape_nme", "failure_rate_0.08"]
    assert list(document["overall"]) == keys
    assert document["overall"]["psnr_y"] == evaluated.by_slice[()][face_scores.PSNR_Y]
    assert document["overall"]["failure_rate_0.08"] == evaluated.by_slice[()][face_scores.FAILURE_RATE_008]
    assert f"{features.SCALE}=8" in document["slices"]
    assert all(list(values) == keys for values in document["slices"].values())


def test_nan_is_written_as_null():
    nan = float("nan")
    scores = folder_evaluation.FolderScores(
        faces=1, skipped=[], by_slice={(): {metric: nan for metric in face_scores.METRIC_NAMES}})
    assert json.loads(folder_evaluation.scores_json(scores))["overall"]["nme"] is None


def test_a_folder_without_readable_faces_is_an_error_naming_it(tmp_path, predict):
    (tmp_path / "a.pts").write_text("version: 1\nn_points: 68\n{\n}\n")
    with pytest.raises(BadInput, match="no faces could be read") as raised:
        folder_evaluation.evaluate_folder(predict, str(tmp_path), configs.EVAL_SLICE_FEATURES)
    assert raised.value.path == str(tmp_path)


def test_batches_do_not_change_the_scores(folder, predict, evaluated):
    small_batches = folder_evaluation.evaluate_folder(predict, folder, configs.EVAL_SLICE_FEATURES,
                                                      pair_config=configs.PAIR_CONFIG, batch_size=5)
    overall, expected = small_batches.by_slice[()], evaluated.by_slice[()]
    for metric in face_scores.METRIC_NAMES:
        assert overall[metric] == pytest.approx(expected[metric], rel=1e-4), metric
    assert np.isfinite(overall[face_scores.NME])
