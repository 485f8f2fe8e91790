"""tinyface.reporting.eval_samples on real pair records and the exported (untrained) model: what
it returns is what the records hold and what the model answers when called directly, and its
per-face figures average to the Evaluator's slice means."""

import numpy as np
import pytest
import tensorflow as tf

from tinyface import features, metrics, signatures
from tinyface.data import example_codec
from tinyface.data.degradation.degrade import bicubic_resize
from tinyface.data.degradation.pairs import decode_png_rgb
from tinyface.evaluation import face_metrics, summary
from tinyface.reporting import eval_samples

COUNT = 6


@pytest.fixture(scope="module")
def records(eval_pair_records):
    return [record.numpy() for record in tf.data.TFRecordDataset(eval_pair_records, compression_type="GZIP")]


@pytest.fixture(scope="module")
def samples(loaded_model, eval_pair_records):
    return eval_samples.eval_samples(loaded_model, eval_samples.read_pairs([eval_pair_records], COUNT))


def test_read_pairs_takes_the_first_pairs_of_the_scale_asked_for(eval_pair_records, records):
    pairs = eval_samples.read_pairs([eval_pair_records], COUNT)
    assert pairs == [example_codec.from_example(record) for record in records[:COUNT]]
    assert len(eval_samples.read_pairs([eval_pair_records], COUNT, scale=8)) == COUNT
    assert eval_samples.read_pairs([eval_pair_records], COUNT, scale=4) == []    # the records are all x8
    assert len(eval_samples.read_pairs([eval_pair_records], 1000)) == len(records)
    with pytest.raises(ValueError, match="count must be at least 1"):
        eval_samples.read_pairs([eval_pair_records], 0)


def test_images_and_true_landmarks_are_the_records(samples, records):
    for index, record in enumerate(records[:COUNT]):
        pair = example_codec.from_example(record)
        lr = decode_png_rgb(example_codec.scalar(pair, features.LR_IMAGE))
        hr = decode_png_rgb(example_codec.scalar(pair, features.HR_IMAGE))
        np.testing.assert_array_equal(samples.lr[index], lr)
        np.testing.assert_array_equal(samples.hr[index], hr)
        np.testing.assert_array_equal(samples.bicubic[index], bicubic_resize(lr, (128, 128)))
        np.testing.assert_array_equal(samples.true_landmarks[index],
                                      np.asarray(pair[features.LANDMARKS_68], np.float32).reshape(68, 2))
        assert samples.scales[index] == example_codec.scalar(pair, features.SCALE) == 8


def test_sr_and_landmarks_are_the_models_answers(samples, exported_model, records):
    loaded = tf.saved_model.load(exported_model)
    # TF Serving's call: the serving signature on the same uint8 batch.
    served = loaded.signatures[signatures.SERVING_DEFAULT](**{signatures.LR_IMAGES_INPUT: tf.constant(samples.lr)})
    np.testing.assert_array_equal(samples.sr, served[signatures.SR_IMAGE_OUTPUT].numpy())
    np.testing.assert_array_equal(samples.predicted_landmarks, served[signatures.LANDMARKS_OUTPUT].numpy())
    # The Evaluator's call: serialized examples through serve_tf_examples (PNG decoded in the graph).
    evaluated = loaded.signatures[signatures.TF_EXAMPLE_SIGNATURE](
        **{signatures.EXAMPLES_INPUT: tf.constant(records[:COUNT])})
    assert np.abs(samples.sr.astype(int) - evaluated[signatures.SR_IMAGE_OUTPUT].numpy()).max() <= 1
    np.testing.assert_allclose(samples.predicted_landmarks, evaluated[signatures.LANDMARKS_OUTPUT].numpy(),
                               atol=1e-3)


def test_scores_are_tinyface_metrics_of_each_face(samples):
    scores = eval_samples.sample_scores(samples)
    for index in range(COUNT):
        assert scores.bicubic_psnr_y[index] == metrics.psnr(samples.bicubic[index], samples.hr[index],
                                                            shave=8, y_channel=True)
        assert scores.sr_psnr_y[index] == metrics.psnr(samples.sr[index], samples.hr[index], shave=8, y_channel=True)
        assert scores.nme[index] == metrics.nme(samples.predicted_landmarks[index], samples.true_landmarks[index])
    assert np.isfinite(scores.nme).all()


def test_a_face_without_68_point_truth_has_no_landmarks_and_no_nme(loaded_model, eval_pair_records):
    pair = eval_samples.read_pairs([eval_pair_records], 1)[0]
    pair[features.HAS_LANDMARKS_68] = [0]      # as PairGen writes a five-point face
    only = eval_samples.eval_samples(loaded_model, [pair])
    assert np.isnan(only.true_landmarks).all()
    assert np.isnan(eval_samples.sample_scores(only).nme).all()


def test_per_face_figures_average_to_the_evaluators_overall_slice(loaded_model, eval_pair_records, records,
                                                                  tfma_eval_output):
    everything = eval_samples.eval_samples(loaded_model,
                                           eval_samples.read_pairs([eval_pair_records], len(records)))
    scores = eval_samples.sample_scores(everything)
    overall = summary.load_evaluation(tfma_eval_output).candidate[0]
    assert overall.name == summary.OVERALL
    # Same bicubic image as the floor, to the last bit of the mean.
    assert overall.value(face_metrics.BICUBIC_PSNR_Y) == pytest.approx(np.mean(scores.bicubic_psnr_y), abs=1e-9)
    # The model through another signature and batching: equal up to a rounded pixel.
    assert overall.value(face_metrics.PSNR_Y) == pytest.approx(np.mean(scores.sr_psnr_y), abs=1e-3)
    assert overall.value(face_metrics.NME) == pytest.approx(np.mean(scores.nme), rel=1e-4)


def test_no_pairs_is_an_error(loaded_model):
    with pytest.raises(ValueError, match="no pairs"):
        eval_samples.eval_samples(loaded_model, [])
