"""concat_conv.Conv2D equals a stock 1x1 Conv2D over the concatenation of its inputs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.trainer.models import concat_conv

ConcatConv2D = concat_conv.Conv2D
CHANNELS = (3, 5, 2)


def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _pieces(seed=0, batch=2):
    return [tf.constant(_random((batch, 6, 4, c), seed + i)) for i, c in enumerate(CHANNELS)]


def _pair(filters=7):
    """A stock Conv2D and ours with the same (random, non-zero) kernel and bias."""
    stock = keras.layers.Conv2D(filters, 1)
    stock.build((None, 6, 4, sum(CHANNELS)))
    stock.set_weights([_random((1, 1, sum(CHANNELS), filters), 10), _random((filters,), 11)])
    ours = ConcatConv2D(filters)
    ours.build([(None, 6, 4, c) for c in CHANNELS])
    ours.set_weights(stock.get_weights())
    return stock, ours


def test_equals_a_conv_over_the_concatenation():
    stock, ours = _pair()
    pieces = _pieces()
    expected = np.asarray(stock(tf.concat(pieces, axis=-1)))
    got = np.asarray(ours(pieces))
    assert got.shape == expected.shape == (2, 6, 4, 7)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # Not a trivially equal pair: every piece changes the output.
    for i in range(len(pieces)):
        zeroed = [tf.zeros_like(p) if j == i else p for j, p in enumerate(pieces)]
        assert not np.allclose(np.asarray(ours(zeroed)), got)


def test_gradients_equal_the_concatenated_convs():
    stock, ours = _pair()
    pieces = _pieces(seed=3)
    target = tf.constant(_random((2, 6, 4, 7), 4))
    grads = []
    for layer, inputs in ((stock, lambda: tf.concat(pieces, axis=-1)), (ours, lambda: pieces)):
        with tf.GradientTape() as tape:
            tape.watch(pieces)
            loss = tf.reduce_sum((layer(inputs()) - target) ** 2)
        grads.append(tape.gradient(loss, [*pieces, *layer.trainable_weights]))
    for got, expected in zip(*reversed(grads)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-4, atol=1e-4)


def test_one_tensor_is_a_plain_1x1_conv():
    stock = keras.layers.Conv2D(4, 1)
    x = tf.constant(_random((1, 3, 3, 6), 5))
    expected = np.asarray(stock(x))
    ours = ConcatConv2D(4)
    ours.build(x.shape)
    ours.set_weights(stock.get_weights())
    np.testing.assert_allclose(np.asarray(ours(x)), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(ours([x])), expected, rtol=1e-6, atol=1e-6)


def test_functional_model_round_trips_through_a_keras_file(tmp_path):
    inputs = [keras.Input((6, 4, c)) for c in CHANNELS]
    model = keras.Model(inputs, ConcatConv2D(7, name="link")(inputs))
    pieces = _pieces(seed=6)
    expected = np.asarray(model(pieces))
    path = str(tmp_path / "link.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.get_layer("link"), ConcatConv2D)
    np.testing.assert_allclose(np.asarray(loaded(pieces)), expected, rtol=1e-6, atol=1e-6)


def test_rejects_other_kernels_and_mismatched_pieces():
    with pytest.raises(ValueError, match="1x1"):
        ConcatConv2D(4, kernel_size=3)
    _, ours = _pair()
    with pytest.raises(ValueError, match="built for input channels"):
        ours(_pieces()[:2])
    with pytest.raises(ValueError, match="built for input channels"):
        ours([tf.zeros((2, 6, 4, 4)), *_pieces()[1:]])
