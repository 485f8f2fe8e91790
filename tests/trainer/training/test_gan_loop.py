"""The GAN training loop (trainer/gan_loop.py) on a tiny stand-in generator, so each check
traces in seconds: both networks update, each optimiser only its own; the discriminator steps
first; every GAN loss (also in bfloat16, where the CPU runs it natively) stays finite; the checkpointed state is complete."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.data.heatmaps import DIC_HEATMAPS
from tinyface.trainer.models import discriminator
from tinyface.trainer.training import gan_loop, input_pipeline
from tinyface.trainer.losses import joint
from tinyface.trainer.losses.adversarial import AdversarialLoss, real_labels
from tinyface.trainer.models.outputs import HEATMAP_STEPS, SR_STEPS
from tinyface.trainer.training.training_config import TrainingConfig

BATCH = 2


@pytest.fixture
def policy(training_policy):
    """Sets a global dtype policy for one test ("auto": the one training picks on this machine)
    and restores float32 afterwards."""
    def set_policy(name):
        keras.mixed_precision.set_global_policy(training_policy if name == "auto" else name)
    yield set_policy
    keras.mixed_precision.set_global_policy("float32")


def _tiny_generator():
    """A network that follows tinyface.trainer.models.outputs: 16 px -> one 128 px SR step, 32x32 heatmaps."""
    lr = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(lr)
    sr = keras.layers.UpSampling2D(8)(keras.layers.Conv2D(3, 3, padding="same")(x))
    heatmaps = keras.layers.Conv2D(68, 1)(keras.layers.UpSampling2D(2)(x))
    return keras.Model(lr, {SR_STEPS: keras.layers.Reshape((1, 128, 128, 3), dtype="float32")(sr),
                            HEATMAP_STEPS: keras.layers.Reshape((1, 32, 32, 68), dtype="float32")(heatmaps)})


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    lr = rng.random((BATCH, 16, 16, 3), dtype=np.float32)
    targets = {
        input_pipeline.HR: rng.random((BATCH, 128, 128, 3), dtype=np.float32),
        input_pipeline.HEATMAPS: rng.random((BATCH, 32, 32, 68), dtype=np.float32),
        input_pipeline.LANDMARKS: rng.uniform(30, 100, (BATCH, 68, 2)).astype(np.float32),
        input_pipeline.HAS_LANDMARKS: np.ones((BATCH,), np.float32),
    }
    return tf.constant(lr), {k: tf.constant(v) for k, v in targets.items()}


def _model(settings, g_learning_rate=1e-3, d_learning_rate=1e-3, seed=0):
    keras.utils.set_random_seed(seed)
    content = joint.joint_loss_for("dic", DIC_HEATMAPS, 128)
    model = gan_loop.GanTrainingModel(_tiny_generator(), discriminator.build(discriminator.SMALL, 128),
                                          content, settings)
    model.compile(optimizer=keras.optimizers.Adam(g_learning_rate),
                  d_optimizer=keras.optimizers.Adam(d_learning_rate))
    model.build_training_state()
    return model


def _changed(before, variables):
    return [not np.array_equal(b, v.numpy()) for b, v in zip(before, variables)]


# bfloat16 where this CPU runs it natively (the GAN losses must stay finite there), else float32.
@pytest.mark.parametrize("gan_loss, precision", [("vanilla", "float32"), ("lsgan", "auto"), ("wgan_gp", "auto")])
def test_fit_updates_both_networks_with_finite_losses(gan_loss, precision, policy, variable_values):
    policy(precision)
    model = _model(gan_loop.AdversarialSettings(gan_loss=gan_loss))
    g_before = variable_values(model.network.trainable_variables)
    d_before = variable_values(model.discriminator.trainable_variables)
    dataset = tf.data.Dataset.from_tensors(_batch()).repeat()
    history = model.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)

    logs = {name: values[-1] for name, values in history.history.items()}
    expected = {"loss", "pixel", "heatmap", "adversarial", "feature_matching", "d_loss", "d_real", "d_fake"}
    if gan_loss == "wgan_gp":
        expected.add("gradient_penalty")
    assert set(logs) == expected
    assert all(np.isfinite(value) for value in logs.values()), logs
    assert all(_changed(g_before, model.network.trainable_variables))
    d_changed = dict(zip([v.path for v in model.discriminator.trainable_variables],
                         _changed(d_before, model.discriminator.trainable_variables)))
    if gan_loss == "wgan_gp":
        # The critic's output bias cancels between real and fake scores and the penalty does
        # not see it: exactly zero gradient. Everything else moves.
        assert d_changed.pop("logits/bias") is False
    assert all(d_changed.values()), d_changed
    assert int(model.optimizer.iterations) == int(model.d_optimizer.iterations) == 2


def test_each_optimiser_updates_only_its_network(variable_values):
    data = _batch()
    frozen_generator = _model(gan_loop.AdversarialSettings(), g_learning_rate=0.0)
    g_before = variable_values(frozen_generator.network.trainable_variables)
    d_before = variable_values(frozen_generator.discriminator.trainable_variables)
    frozen_generator.train_step(data)
    assert not any(_changed(g_before, frozen_generator.network.trainable_variables))
    assert all(_changed(d_before, frozen_generator.discriminator.trainable_variables))

    frozen_discriminator = _model(gan_loop.AdversarialSettings(), d_learning_rate=0.0)
    g_before = variable_values(frozen_discriminator.network.trainable_variables)
    d_before = variable_values(frozen_discriminator.discriminator.trainable_variables)
    frozen_discriminator.train_step(data)
    assert all(_changed(g_before, frozen_discriminator.network.trainable_variables))
    assert not any(_changed(d_before, frozen_discriminator.discriminator.trainable_variables))


def test_the_generator_is_judged_by_the_discriminator_after_its_update():
    # Generator frozen, so its faces are the same before and after the step; the logged
    # adversarial term must be the updated discriminator's verdict on them, not the old one's.
    lr, targets = _batch()
    model = _model(gan_loop.AdversarialSettings(gan_loss="lsgan"), g_learning_rate=0.0,
                   d_learning_rate=1e-2)
    fake = model.network(lr)[SR_STEPS][:, -1]
    loss = AdversarialLoss("lsgan")

    def verdict():
        logits = model.discriminator(fake)[discriminator.LOGITS]
        return float(loss(real_labels(logits), logits))

    before = verdict()
    logs = model.train_step((lr, targets))
    after = verdict()
    assert abs(after - before) > 1e-3
    assert float(logs["adversarial"]) == pytest.approx(after, rel=1e-4)


def test_feature_matching_replaces_the_missing_vgg_file():
    local = gan_loop.AdversarialSettings.from_training_config(TrainingConfig(model="dicgan"))
    assert local.feature_matching_weight == pytest.approx(0.1)
    with_vgg = gan_loop.AdversarialSettings.from_training_config(
        TrainingConfig(model="dicgan", perceptual_weights="/models/vgg19_notop.h5"))
    assert with_vgg.feature_matching_weight == 0.0
    # Off: the loop neither computes nor logs the term.
    model = _model(gan_loop.AdversarialSettings(feature_matching_weight=0.0))
    assert "feature_matching" not in model.train_step(_batch())


def test_the_saved_state_holds_both_networks_and_both_optimisers(tmp_path, variable_values):
    # BackupAndRestore checkpoints with save_weights/load_weights: a model restored from it
    # must continue with exactly the trained networks and optimiser states.
    trained = _model(gan_loop.AdversarialSettings(gan_loss="wgan_gp"))
    trained.train_step(_batch(1))
    trained.train_step(_batch(2))
    path = str(tmp_path / "state.weights.h5")
    trained.save_weights(path)
    restored = _model(gan_loop.AdversarialSettings(gan_loss="wgan_gp"), seed=7)
    assert any(_changed(variable_values(trained.discriminator.weights), restored.discriminator.weights))
    restored.load_weights(path)
    for mine, theirs in ((trained.network, restored.network), (trained.discriminator, restored.discriminator),
                         (trained.optimizer, restored.optimizer), (trained.d_optimizer, restored.d_optimizer)):
        mine_values = [v.numpy() for v in mine.variables]
        assert len(mine_values) == len(theirs.variables)
        for a, b in zip(mine_values, theirs.variables):
            np.testing.assert_array_equal(a, b.numpy())
    assert int(restored.d_optimizer.iterations) == 2
