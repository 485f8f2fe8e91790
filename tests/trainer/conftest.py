"""Trainer fixtures: real pair examples (PairGen's core on synthetic faces) as GZIP TFRecords,
and the check that an exported model answers like its Keras network."""

import numpy as np
import pytest
import tensorflow as tf

from tinyface.data import example_codec
from tinyface.data.ingestion import face_example
from tinyface.data.degradation import pairs
from tinyface.data.ingestion.readers import get_reader


@pytest.fixture(scope="session")
def pair_records(tmp_path_factory, synthetic_faces):
    """Folder with Split-train/data.gz: pairs of 24 synthetic faces (x8); returns the folder."""
    root = tmp_path_factory.mktemp("pairs")
    split_dir = root / "Split-train"
    split_dir.mkdir()
    with tf.io.TFRecordWriter(str(split_dir / "data.gz"), options="GZIP") as writer:
        for annotation in get_reader("300w").parse_root(synthetic_faces(count=24, seed=5)):
            face = example_codec.from_example(face_example.face_example(annotation).SerializeToString())
            for pair in pairs.make_pairs(face, pairs.PairConfig()):
                writer.write(example_codec.to_example(pair).SerializeToString())
    return root


@pytest.fixture(scope="session")
def assert_export_answers_like():
    """check(network, export_dir, lr_float): the SavedModel's serving_default, given the uint8
    version of `lr_float` (N, lr, lr, 3) in [0, 1], answers like `network` on the same pixels."""
    from tinyface import signatures
    from tinyface.trainer.models.landmark_decoding import decode_landmarks
    from tinyface.trainer.models.outputs import HEATMAP_STEPS, SR_STEPS

    def check(network, export_dir, lr_float):
        lr_uint8 = tf.constant(np.round(lr_float * 255).astype(np.uint8))
        served = tf.saved_model.load(export_dir).signatures[signatures.SERVING_DEFAULT](
            **{signatures.LR_IMAGES_INPUT: lr_uint8})
        outputs = network(tf.cast(lr_uint8, tf.float32) / 255.0, training=False)
        batch, hr = lr_uint8.shape[0], outputs[SR_STEPS].shape[2]
        # bf16 compute (where native): eager and the saved graph may round one value by one bf16 step.
        expected_sr = np.round(np.clip(outputs[SR_STEPS][:, -1].numpy(), 0, 1) * 255)
        sr_difference = np.abs(served[signatures.SR_IMAGE_OUTPUT].numpy().astype(int) - expected_sr)
        assert served[signatures.SR_IMAGE_OUTPUT].shape == (batch, hr, hr, 3)
        assert sr_difference.max() <= 3 and sr_difference.mean() < 0.5
        np.testing.assert_allclose(served[signatures.HEATMAPS_OUTPUT].numpy(),
                                   outputs[HEATMAP_STEPS][:, -1].numpy(), atol=2 ** -6)
        np.testing.assert_allclose(served[signatures.LANDMARKS_OUTPUT].numpy(),
                                   decode_landmarks(served[signatures.HEATMAPS_OUTPUT], hr).numpy(), atol=1e-3)
        assert served[signatures.LANDMARKS_OUTPUT].shape == (batch, 68, 2)

    return check
