import os

import numpy as np
import pytest
import tensorflow as tf
from tfx.components.trainer.fn_args_utils import DataAccessor
from tfx.components.util import examples_utils, tfxio_utils
from tfx.types import standard_artifacts

from tinyface import features
from tinyface.data.heatmaps import DIC_HEATMAPS
from tinyface.trainer.training import input_pipeline
from tinyface.trainer.models.contract import ModelContract

# The pair_records fixture's pairs are x8 of 128 px faces; DIC's heatmaps.
CONTRACT = ModelContract(hr_size=128, scale=8, heatmaps=DIC_HEATMAPS)


@pytest.fixture
def pair_files(pair_records):
    return pair_records, None


def _check_batch(lr, targets, batch_size):
    assert lr.shape == (batch_size, 16, 16, 3) and lr.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(lr)) and float(tf.reduce_max(lr)) <= 1.0
    assert targets[input_pipeline.HR].shape == (batch_size, 128, 128, 3)
    assert targets[input_pipeline.HEATMAPS].shape == (batch_size, 32, 32, 68)
    assert targets[input_pipeline.LANDMARKS].shape == (batch_size, 68, 2)
    np.testing.assert_array_equal(targets[input_pipeline.HAS_LANDMARKS].numpy(), np.ones(batch_size))
    # Each heatmap peaks where its landmark is (32x32 grid of a 128 px face: 4 px per cell).
    heatmaps, points = targets[input_pipeline.HEATMAPS].numpy(), targets[input_pipeline.LANDMARKS].numpy()
    flat = heatmaps[0].reshape(-1, 68).argmax(0)
    peak_y, peak_x = np.unravel_index(flat, (32, 32))
    np.testing.assert_allclose(peak_x, (points[0, :, 0] + 0.5) / 4 - 0.5, atol=0.51)
    np.testing.assert_allclose(peak_y, (points[0, :, 1] + 0.5) / 4 - 0.5, atol=0.51)


def test_batches_from_files(pair_files):
    root, _ = pair_files
    dataset = input_pipeline.dataset_from_files(
        os.path.join(root, "Split-train", "*"), 4, CONTRACT, training=False)
    batches = list(dataset)
    assert sum(int(lr.shape[0]) for lr, _ in batches) == 24
    _check_batch(*batches[0], batch_size=4)


def _data_accessor(root):
    artifact = standard_artifacts.Examples()
    artifact.uri = str(root)
    artifact.split_names = '["train"]'
    examples_utils.set_payload_format(artifact, examples_utils.get_payload_format(artifact))
    return DataAccessor(
        tf_dataset_factory=tfxio_utils.get_tf_dataset_factory_from_artifact([artifact], []),
        record_batch_factory=None, data_view_decode_fn=None)


def test_batches_through_tfx_data_accessor_match_the_files(pair_files):
    root, _ = pair_files
    dataset = input_pipeline.dataset_from_accessor(
        _data_accessor(root), [os.path.join(root, "Split-train", "*")], 4, CONTRACT, training=False)
    lr, targets = next(iter(dataset))
    _check_batch(lr, targets, batch_size=4)
    from_files = next(iter(input_pipeline.dataset_from_files(
        os.path.join(root, "Split-train", "*"), 4, CONTRACT, training=False)))
    np.testing.assert_array_equal(lr.numpy(), from_files[0].numpy())


def test_training_batches_repeat(pair_files):
    root, _ = pair_files
    dataset = input_pipeline.dataset_from_files(
        os.path.join(root, "Split-train", "*"), 5, CONTRACT, training=True, seed=1)
    assert len(list(dataset.take(8))) == 8   # 40 examples from 24: repeated
    assert features.SCALE in input_pipeline.feature_spec()


@pytest.mark.parametrize("through_tfx", [False, True])
def test_evaluation_batches_run_without_autotuning_training_batches_with(pair_files, through_tfx):
    # fit() drops its half-read evaluation iterator at every validation; with tf.data's
    # autotuner on, that drop waited 8-50 s for the autotuner's thread (input_pipeline._finish).
    root, _ = pair_files
    pattern = os.path.join(root, "Split-train", "*")

    def dataset(training):
        if through_tfx:
            return input_pipeline.dataset_from_accessor(_data_accessor(root), [pattern], 4, CONTRACT,
                                                        training=training)
        return input_pipeline.dataset_from_files(pattern, 4, CONTRACT, training=training)

    assert dataset(training=False).options().autotune.enabled is False
    assert dataset(training=True).options().autotune.enabled is not False


def _records_of_scales(path, scales):
    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for scale in scales:
            example = tf.train.Example()
            example.features.feature[features.SCALE].int64_list.value.append(scale)
            writer.write(example.SerializeToString())


def test_the_check_finds_the_models_scale_among_others_and_names_what_it_found(tmp_path):
    # 601 pairs: the one x8 pair is in the third batch the check reads.
    _records_of_scales(str(tmp_path / "mixed.gz"), [4, 2] * 300 + [8])
    input_pipeline.dataset_from_files(str(tmp_path / "mixed.gz"), 4, CONTRACT, training=True)
    _records_of_scales(str(tmp_path / "no_x8.gz"), [4, 2] * 300)
    with pytest.raises(ValueError, match=r"no pair of scale x8, the model's \(the pairs have: x2, x4\)"):
        input_pipeline.dataset_from_files(str(tmp_path / "no_x8.gz"), 4, CONTRACT, training=True)


@pytest.mark.parametrize("training", [True, False])
def test_a_wrong_scale_fails_fast_instead_of_filtering_a_repeated_dataset_forever(pair_files, training):
    # The pairs are x8 only: a x4 model would filter the repeated training data forever.
    root, _ = pair_files
    pattern = os.path.join(root, "Split-train", "*")
    x4 = ModelContract(hr_size=128, scale=4, heatmaps=DIC_HEATMAPS)
    with pytest.raises(ValueError) as caught:
        input_pipeline.dataset_from_files(pattern, 4, x4, training=training, seed=1)
    message = str(caught.value)
    assert "\n" not in message
    assert message == (f"{pattern}: no pair of scale x4, the model's (the pairs have: x8); "
                       "pairs.degradation.scales must include 4")


def test_a_wrong_scale_fails_fast_through_the_tfx_data_accessor_too(pair_files):
    root, _ = pair_files
    x4 = ModelContract(hr_size=128, scale=4, heatmaps=DIC_HEATMAPS)
    with pytest.raises(ValueError, match=r"no pair of scale x4, the model's \(the pairs have: x8\)"):
        input_pipeline.dataset_from_accessor(
            _data_accessor(root), [os.path.join(root, "Split-train", "*")], 4, x4, training=True, seed=1)
