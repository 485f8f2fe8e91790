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
        os.path.join(root, "Split-train", "*"), 4, 128, 8, DIC_HEATMAPS, training=False)
    batches = list(dataset)
    assert sum(int(lr.shape[0]) for lr, _ in batches) == 24
    _check_batch(*batches[0], batch_size=4)


def test_batches_through_tfx_data_accessor_match_the_files(pair_files):
    root, _ = pair_files
    artifact = standard_artifacts.Examples()
    artifact.uri = str(root)
    artifact.split_names = '["train"]'
    examples_utils.set_payload_format(artifact, examples_utils.get_payload_format(artifact))
    accessor = DataAccessor(
        tf_dataset_factory=tfxio_utils.get_tf_dataset_factory_from_artifact([artifact], []),
        record_batch_factory=None, data_view_decode_fn=None)
    dataset = input_pipeline.dataset_from_accessor(
        accessor, [os.path.join(root, "Split-train", "*")], 4, 128, 8, DIC_HEATMAPS, training=False)
    lr, targets = next(iter(dataset))
    _check_batch(lr, targets, batch_size=4)
    from_files = next(iter(input_pipeline.dataset_from_files(
        os.path.join(root, "Split-train", "*"), 4, 128, 8, DIC_HEATMAPS, training=False)))
    np.testing.assert_array_equal(lr.numpy(), from_files[0].numpy())


def test_training_batches_repeat_and_pairs_of_other_scales_are_dropped(pair_files):
    root, _ = pair_files
    dataset = input_pipeline.dataset_from_files(
        os.path.join(root, "Split-train", "*"), 5, 128, 8, DIC_HEATMAPS, training=True, seed=1)
    assert len(list(dataset.take(8))) == 8   # 40 examples from 24: repeated
    none_at_x4 = input_pipeline.dataset_from_files(
        os.path.join(root, "Split-train", "*"), 4, 128, 4, DIC_HEATMAPS, training=False)
    assert list(none_at_x4) == []
    assert features.SCALE in input_pipeline.feature_spec()
