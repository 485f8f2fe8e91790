"""group_norm.GroupNormalization equals Keras' GroupNormalization: outputs, gradients, weights files."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.trainer.models import group_norm

OursGroupNormalization = group_norm.GroupNormalization


def _random(shape, seed, loc=0.0):
    return (loc + np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def _pair(shape, groups, **kwargs):
    """Keras' layer and ours with the same random (not 1 / 0) gamma and beta."""
    stock = keras.layers.GroupNormalization(groups=groups, **kwargs)
    ours = OursGroupNormalization(groups=groups, **kwargs)
    for layer in (stock, ours):
        layer.build((None, *shape[1:]))
    if stock.weights:
        stock.set_weights([_random(w.shape, 20 + i) for i, w in enumerate(stock.weights)])
        ours.set_weights(stock.get_weights())
    return stock, ours


# Channel means far from zero (loc) make a one-pass E[x^2] - E[x]^2 lose digits; the two-pass
# per-channel moments must not.
@pytest.mark.parametrize("shape, groups, loc", [
    ((2, 6, 5, 8), 4, 0.0),
    ((2, 6, 5, 8), 1, 0.0),      # layer norm
    ((2, 6, 5, 8), 8, 0.0),      # instance norm
    ((1, 4, 4, 32), 32, 0.0),
    ((3, 7, 9), 3, 30.0),        # rank 3: (B, T, C)
    ((2, 3, 4, 5, 6), 2, 50.0),  # rank 5
])
def test_equals_keras_group_normalization(shape, groups, loc):
    stock, ours = _pair(shape, groups)
    x = tf.constant(_random(shape, 1, loc) * np.linspace(0.1, 3.0, shape[-1], dtype=np.float32))
    expected = np.asarray(stock(x))
    got = np.asarray(ours(x))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=2e-5)
    # Not the identity: the normalisation changed the input.
    assert not np.allclose(got, np.asarray(x), atol=1e-2)


@pytest.mark.parametrize("scale, center", [(False, True), (True, False), (False, False)])
def test_without_gamma_or_beta(scale, center):
    stock, ours = _pair((2, 5, 5, 6), 3, scale=scale, center=center)
    x = tf.constant(_random((2, 5, 5, 6), 2))
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(stock(x)), rtol=1e-4, atol=2e-5)


def test_gradients_equal_keras():
    stock, ours = _pair((2, 6, 5, 8), 4)
    x = tf.constant(_random((2, 6, 5, 8), 3, 2.0))
    target = tf.constant(_random((2, 6, 5, 8), 4))
    grads = []
    for layer in (stock, ours):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum((layer(x) - target) ** 2 * tf.range(8, dtype=tf.float32))
        grads.append(tape.gradient(loss, [x, *layer.trainable_weights]))
    for got, expected in zip(grads[1], grads[0]):
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-3, atol=1e-3)


def test_bfloat16_is_normalised_in_float32_as_keras_does():
    """Under a bf16 policy both compute in float32 and round once at the end: the results may
    differ by the float32 summation order only, i.e. at most one bf16 rounding step."""
    policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        stock, ours = _pair((2, 8, 8, 16), 4)
        x = tf.cast(tf.constant(_random((2, 8, 8, 16), 5, 3.0)), tf.bfloat16)
        expected, got = stock(x), ours(x)
    finally:
        keras.mixed_precision.set_global_policy(policy)
    assert got.dtype == expected.dtype == tf.bfloat16
    expected = np.asarray(tf.cast(expected, tf.float32))
    got = np.asarray(tf.cast(got, tf.float32))
    one_step = np.abs(expected) * 2.0 ** -7 + 1e-6          # bf16 keeps 8 significant bits
    assert np.all(np.abs(got - expected) <= one_step)
    assert np.mean(got == expected) > 0.95


def test_other_axis_runs_keras_computation():
    stock, ours = _pair((2, 8, 5, 5), 4, axis=1)
    x = tf.constant(_random((2, 8, 5, 5), 6))
    np.testing.assert_array_equal(np.asarray(ours(x)), np.asarray(stock(x)))


def test_stock_weights_files_load(tmp_path):
    """A model saved with Keras' layer loads into one built with ours (same class name)."""
    def model(norm):
        inputs = keras.Input((6, 6, 8))
        x = keras.layers.Conv2D(8, 3, padding="same")(inputs)
        return keras.Model(inputs, norm(groups=4)(x))
    stock_model = model(keras.layers.GroupNormalization)
    norm_layer = stock_model.layers[-1]
    norm_layer.set_weights([_random(w.shape, 30 + i) for i, w in enumerate(norm_layer.weights)])
    path = str(tmp_path / "stock.weights.h5")
    stock_model.save_weights(path)
    ours_model = model(OursGroupNormalization)
    ours_model.load_weights(path)
    for expected, got in zip(stock_model.get_weights(), ours_model.get_weights()):
        np.testing.assert_array_equal(got, expected)
    x = _random((2, 6, 6, 8), 7)
    np.testing.assert_allclose(np.asarray(ours_model(x)), np.asarray(stock_model(x)), rtol=1e-4, atol=2e-5)


def test_keras_config_round_trip():
    layer = OursGroupNormalization(groups=2, epsilon=1e-4, name="gn")
    rebuilt = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(rebuilt) is OursGroupNormalization
    assert (rebuilt.groups, rebuilt.epsilon) == (2, 1e-4)
