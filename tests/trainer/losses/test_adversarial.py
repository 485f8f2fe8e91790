"""Adversarial loss terms against hand-computed values: GAN losses, feature matching, gradient
penalty; the losses contract (per-example values, float32 from bfloat16)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.trainer.losses.adversarial import (LSGAN, VANILLA, WGAN, AdversarialLoss, FeatureMatchingLoss, fake_labels, gradient_penalty, real_labels)

LOGITS = np.array([[2.0], [-1.0]], np.float32)          # two images, one logit each


def _sigmoid_ce(label, logit):
    return -(label * np.log(1 / (1 + np.exp(-logit))) + (1 - label) * np.log(1 - 1 / (1 + np.exp(-logit))))


@pytest.mark.parametrize("kind, real, fake", [
    (LSGAN, [(2 - 1) ** 2, (-1 - 1) ** 2], [4.0, 1.0]),
    (VANILLA, [_sigmoid_ce(1, 2.0), _sigmoid_ce(1, -1.0)], [_sigmoid_ce(0, 2.0), _sigmoid_ce(0, -1.0)]),
    (WGAN, [-2.0, 1.0], [2.0, -1.0]),
])
def test_gan_losses_per_example(kind, real, fake):
    loss = AdversarialLoss(kind, reduction=None)
    np.testing.assert_allclose(loss(real_labels(LOGITS), LOGITS), real, rtol=1e-5)
    np.testing.assert_allclose(loss(fake_labels(LOGITS), LOGITS), fake, rtol=1e-5)
    # The default reduction is the batch mean.
    assert float(AdversarialLoss(kind)(real_labels(LOGITS), LOGITS)) == pytest.approx(np.mean(real), rel=1e-5)


def test_patch_logits_are_averaged_per_image():
    patches = np.zeros((2, 2, 2, 1), np.float32)
    patches[0, 0, 0, 0] = 2.0      # image 0: one patch at 2, three at 0
    loss = AdversarialLoss(LSGAN, reduction=None)(real_labels(patches), patches)
    np.testing.assert_allclose(loss, [(1 + 3 * 1) / 4, 1.0])


def test_losses_are_float32_from_bfloat16_logits():
    logits = tf.constant(LOGITS, tf.bfloat16)
    assert AdversarialLoss(LSGAN)(real_labels(logits), logits).dtype == tf.float32
    features = [tf.ones((2, 4, 4, 3), tf.bfloat16)]
    assert FeatureMatchingLoss()(features, [f * 0 for f in features]).dtype == tf.float32


def test_unknown_gan_loss_is_rejected():
    with pytest.raises(ValueError, match="unknown GAN loss"):
        AdversarialLoss("hinge")


def test_feature_matching_averages_layers_and_does_not_move_the_real_features():
    real = [tf.zeros((2, 4, 4, 2)), tf.zeros((2, 2, 2, 8))]
    fake = [tf.Variable(tf.fill((2, 4, 4, 2), 0.5)), tf.Variable(tf.fill((2, 2, 2, 8), -2.0))]
    per_example = FeatureMatchingLoss(reduction=None)(real, fake)
    np.testing.assert_allclose(per_example, [(0.5 + 2.0) / 2] * 2)
    real_variables = [tf.Variable(r) for r in real]
    with tf.GradientTape() as tape:
        loss = FeatureMatchingLoss()(real_variables, fake)
    real_grads, fake_grads = tape.gradient(loss, [real_variables, fake])
    assert all(g is None for g in real_grads)
    assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in fake_grads)
    with pytest.raises(ValueError, match="same non-empty list"):
        FeatureMatchingLoss()(real, fake[:1])


def _linear_critic(scale):
    """critic(x) = scale * sum(w * x) with ||w|| = 1: its input gradient has norm |scale|."""
    weights = np.random.default_rng(0).normal(size=(8, 8, 3)).astype(np.float32)
    weights /= np.linalg.norm(weights)
    variable = tf.Variable(scale, dtype=tf.float32)
    critic = lambda x: variable * tf.reduce_sum(x * weights, axis=[1, 2, 3])[:, None]   # noqa: E731
    return critic, variable


def test_gradient_penalty_is_the_squared_distance_of_the_gradient_norm_from_one():
    real = np.random.default_rng(1).random((3, 8, 8, 3), dtype=np.float32)
    fake = np.zeros_like(real)
    for scale, expected in ((1.0, 0.0), (3.0, 4.0), (0.5, 0.25)):
        critic, _ = _linear_critic(scale)
        np.testing.assert_allclose(gradient_penalty(critic, real, fake), [expected] * 3, atol=1e-5)


def test_gradient_penalty_trains_the_critic_towards_unit_gradients():
    real = np.random.default_rng(2).random((2, 8, 8, 3), dtype=np.float32)
    critic, scale = _linear_critic(3.0)
    with tf.GradientTape() as tape:
        penalty = tf.reduce_mean(gradient_penalty(critic, real, np.zeros_like(real)))
    # d/ds (s - 1)^2 = 2 (s - 1) = 4 at s = 3: second-order gradients reach the critic's weights.
    assert float(tape.gradient(penalty, scale)) == pytest.approx(4.0, rel=1e-4)


def test_loss_objects_serialise():
    loss = AdversarialLoss(WGAN)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert isinstance(restored, AdversarialLoss) and restored.kind == WGAN
