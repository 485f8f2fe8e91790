"""Trainer fixtures: random input images, snapshots of variables, a few adversarial training
steps, and the check that an exported model answers like its Keras network.
(The pair examples they train on, pair_records, are in tests/conftest.py.)"""

import numpy as np
import pytest
import tensorflow as tf


@pytest.fixture(scope="session")
def random_images():
    """make(batch=2, size=16, seed=0): float32 images (batch, size, size, 3) of uniform noise in
    [0, 1); the default size is the networks' LR input."""
    def make(batch=2, size=16, seed=0):
        return np.random.default_rng(seed).random((batch, size, size, 3), dtype=np.float32)

    return make


@pytest.fixture(scope="session")
def variable_values():
    """values(variables): copies of their values now, to compare with after training."""
    def values(variables):
        return [v.numpy().copy() for v in variables]

    return values


@pytest.fixture(scope="session")
def adversarial_steps(variable_values):
    """run(built, config, file_pattern, steps) -> (before, logs): `steps` eager train steps of
    built's generator against its discriminator (config's losses and optimisers) on batches of 2
    x8 pairs from the GZIP files matching file_pattern. `before` holds (generator, discriminator)
    trainable values before the first step; `logs` the float logs of each step. Runs in the
    global dtype policy the caller set."""
    from tinyface.trainer.training import gan_loop, input_pipeline, loop
    from tinyface.trainer.losses import joint

    def run(built, config, file_pattern, steps):
        model = gan_loop.GanTrainingModel(
            built.network, built.discriminator,
            joint.joint_loss_for(config.model, built.contract.heatmaps, built.contract.hr_size),
            gan_loop.AdversarialSettings.from_training_config(config))
        model.compile(optimizer=loop.build_optimizer(config, steps),
                      d_optimizer=loop.build_optimizer(config, steps, config.d_learning_rate))
        model.build_training_state()
        before = (variable_values(built.network.trainable_variables),
                  variable_values(built.discriminator.trainable_variables))
        batches = input_pipeline.dataset_from_files(file_pattern, 2, built.contract, True, seed=1)
        logs = [{k: float(v) for k, v in model.train_step(batch).items()} for batch in batches.take(steps)]
        return before, logs

    return run


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
