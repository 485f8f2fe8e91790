"""constant_slope_prelu.PReLU: Keras' PReLU outside constant_slopes(), one LeakyRelu inside,
with the same results bit for bit."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.trainer.models import constant_slope_prelu
from tinyface.trainer.models.constant_slope_prelu import constant_slopes

PReLU = constant_slope_prelu.PReLU


def _inputs(seed=0, dtype=tf.float32):
    x = np.random.default_rng(seed).standard_normal((2, 5, 4, 3)).astype(np.float32)
    x[0, 0, 0] = [0.0, -0.0, 1e-30]   # zeros of both signs and a denormal-range value
    return tf.cast(tf.constant(x), dtype)


def _ops(function, *args):
    graph = tf.function(function).get_concrete_function(*args).graph
    return {op.type for op in graph.get_operations()}


@pytest.mark.parametrize("slope", [0.2, 0.0, -0.7, 1.0, 3.5])
def test_constant_slope_equals_keras_prelu_bit_for_bit(slope):
    stock = keras.layers.PReLU(shared_axes=[1, 2, 3])
    ours = PReLU(shared_axes=[1, 2, 3])
    x = _inputs()
    for layer in (stock, ours):
        layer.build(x.shape)
        layer.set_weights([np.full((1, 1, 1), slope, np.float32)])
    expected = stock(x).numpy()
    np.testing.assert_array_equal(ours(x).numpy(), expected)
    with constant_slopes():
        traced = tf.function(lambda t: ours(t))(x).numpy()
        assert "LeakyRelu" in _ops(lambda t: ours(t), x)
    np.testing.assert_array_equal(traced, expected)


def test_traced_slope_is_the_value_at_trace_time_and_scope_is_left_clean():
    layer = PReLU(shared_axes=[1, 2, 3])
    x = _inputs(1)
    layer.build(x.shape)
    layer.set_weights([np.full((1, 1, 1), 0.25, np.float32)])
    with constant_slopes():
        frozen = tf.function(lambda t: layer(t))
        frozen(x)
    assert "LeakyRelu" not in _ops(lambda t: layer(t), x)
    layer.set_weights([np.full((1, 1, 1), 0.5, np.float32)])
    negative = x.numpy() < 0
    np.testing.assert_array_equal(frozen(x).numpy()[negative], 0.25 * x.numpy()[negative])
    np.testing.assert_array_equal(layer(x).numpy()[negative], 0.5 * x.numpy()[negative])


def test_per_channel_slopes_stay_keras_prelu():
    layer = PReLU()
    x = _inputs(2)
    layer.build(x.shape)
    with constant_slopes():
        assert "LeakyRelu" not in _ops(lambda t: layer(t), x)


def test_mixed_bfloat16_matches_keras_prelu():
    stock = keras.layers.PReLU(shared_axes=[1, 2, 3], dtype="mixed_bfloat16")
    ours = PReLU(shared_axes=[1, 2, 3], dtype="mixed_bfloat16")
    x = _inputs(3, tf.bfloat16)
    for layer in (stock, ours):
        layer.build(x.shape)
        layer.set_weights([np.full((1, 1, 1), 0.3, np.float32)])
    with constant_slopes():
        got = tf.function(lambda t: ours(t))(x)
    assert got.dtype == tf.bfloat16
    np.testing.assert_array_equal(tf.cast(got, tf.float32).numpy(),
                                  tf.cast(stock(x), tf.float32).numpy())


def test_weights_of_a_keras_prelu_model_load(tmp_path):
    def model(layer):
        inputs = keras.Input((5, 4, 3))
        return keras.Model(inputs, layer(shared_axes=[1, 2, 3])(inputs))
    stock, ours = model(keras.layers.PReLU), model(PReLU)
    stock.set_weights([np.full((1, 1, 1), -0.4, np.float32)])
    path = str(tmp_path / "prelu.weights.h5")
    stock.save_weights(path)
    ours.load_weights(path)
    np.testing.assert_array_equal(ours.get_weights()[0], stock.get_weights()[0])
