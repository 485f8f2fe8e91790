"""The stride-1 rewrites of DIC's strided projections equal the stock Keras layers exactly."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.trainer.models import subpixel_projections
from tinyface.trainer.models.subpixel_projections import phase_groups

SubpixelConv2DTranspose = subpixel_projections.Conv2DTranspose
SpaceToDepthConv2D = subpixel_projections.Conv2D

# (kernel, stride, crop): DIC's feedback projections and its reconstruction deconv.
GEOMETRIES = [(12, 8, 2), (8, 4, 2)]


def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _stock_transposed(filters, k, s, crop):
    return keras.Sequential([keras.layers.Conv2DTranspose(filters, k, strides=s, padding="valid"),
                             keras.layers.Cropping2D(crop)])


def _stock_strided(filters, k, s, pad):
    return keras.Sequential([keras.layers.ZeroPadding2D(pad),
                             keras.layers.Conv2D(filters, k, strides=s, padding="valid")])


@pytest.mark.parametrize("k, s, p", GEOMETRIES)
def test_every_kernel_entry_is_used_once_per_dimension(k, s, p):
    for transposed in (True, False):
        sign = -1 if transposed else 1
        used = sorted(ph + p + sign * s * d for first, end, taps in phase_groups(k, s, p, transposed)
                      for ph in range(first, end) for d in taps)
        assert used == list(range(k))


@pytest.mark.parametrize("k, s, p", GEOMETRIES)
def test_subpixel_transposed_conv_equals_conv2d_transpose_then_crop(k, s, p):
    x = _random((2, 5, 4, 3), 0)
    stock = _stock_transposed(6, k, s, p)
    ours = SubpixelConv2DTranspose(6, k, s, p)
    expected = np.asarray(stock(x))
    ours.build(x.shape)
    kernel, bias = stock.layers[0].get_weights()
    ours.set_weights([kernel, _random(bias.shape, 1)])
    stock.layers[0].set_weights([kernel, ours.get_weights()[1]])
    expected = np.asarray(stock(x))
    got = np.asarray(ours(x))
    assert got.shape == expected.shape == (2, 5 * s, 4 * s, 6)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("k, s, p", GEOMETRIES)
def test_subpixel_transposed_conv_without_bias(k, s, p):
    x = _random((1, 3, 4, 5), 4)
    stock = keras.layers.Conv2DTranspose(6, k, strides=s, padding="valid", use_bias=False)
    ours = SubpixelConv2DTranspose(6, k, s, p, use_bias=False)
    stock.build(x.shape)
    ours.build(x.shape)
    assert len(ours.weights) == 1
    kernel = _random(stock.kernel.shape, 5)
    stock.set_weights([kernel])
    ours.set_weights([kernel])
    expected = np.asarray(stock(x))[:, p:-p, p:-p]
    np.testing.assert_allclose(np.asarray(ours(x)), expected, rtol=1e-5, atol=1e-5)


def test_group_kernels_are_a_permutation_of_the_kernel():
    for transposed in (True, False):
        groups = phase_groups(12, 8, 2, transposed)
        kernels = subpixel_projections.GroupKernels((12, 12, 3, 2), groups, 2, 8, transposed)
        assert len(kernels.shapes) == len(groups) ** 2
        assert sorted(kernels.order.tolist()) == list(range(12 * 12))   # kernel positions
        values = tf.constant(_random((12, 12, 3, 2), 6))
        pieces = kernels(values)
        assert [tuple(piece.shape) for piece in pieces] == [tuple(shape) for shape in kernels.shapes]
        np.testing.assert_array_equal(np.sort(np.concatenate([np.ravel(piece) for piece in pieces])),
                                      np.sort(np.ravel(values)))


@pytest.mark.parametrize("k, s, p", GEOMETRIES)
def test_space_to_depth_conv_equals_padded_strided_conv(k, s, p):
    x = _random((2, 5 * s, 3 * s, 4), 2)
    stock = _stock_strided(6, k, s, p)
    stock(x)
    ours = SpaceToDepthConv2D(6, k, s, p)
    ours.build(x.shape)
    kernel = stock.layers[1].get_weights()[0]
    bias = _random((6,), 3)
    stock.layers[1].set_weights([kernel, bias])
    ours.set_weights([kernel, bias])
    got, expected = np.asarray(ours(x)), np.asarray(stock(x))
    assert got.shape == expected.shape == (2, 5, 3, 6)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def _assert_same_gradients(stock, stock_conv, ours, x, target):
    """d(squared error)/d(input, kernel, bias) of the stock model and of our layer agree."""
    grads = []
    for layer, variables in ((stock, stock_conv.trainable_weights), (ours, ours.trainable_weights)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum((layer(x) - target) ** 2)
        grads.append(tape.gradient(loss, [x, *variables]))
    for a, b in zip(*grads):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=1e-4)


def test_transposed_projection_gradients_equal_the_stock_layers():
    x = tf.constant(_random((1, 4, 4, 3), 4))
    stock, ours = _stock_transposed(5, 12, 8, 2), SubpixelConv2DTranspose(5, 12, 8, 2)
    stock(x)
    ours.build(x.shape)
    ours.set_weights([stock.layers[0].get_weights()[0], _random((5,), 9)])
    stock.layers[0].set_weights(ours.get_weights())
    _assert_same_gradients(stock, stock.layers[0], ours, x, tf.constant(_random((1, 32, 32, 5), 5)))


def test_layers_keep_the_stock_weight_shapes_and_configs():
    up, down = SubpixelConv2DTranspose(6, 12, 8, 2), SpaceToDepthConv2D(6, 12, 8, 2)
    up.build((None, 4, 4, 3))
    down.build((None, 32, 32, 3))
    assert [tuple(w.shape) for w in up.weights] == [(12, 12, 6, 3), (6,)]
    assert [tuple(w.shape) for w in down.weights] == [(12, 12, 3, 6), (6,)]
    for layer in (up, down):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


def test_geometry_without_one_block_per_block_is_refused():
    with pytest.raises(ValueError, match="must equal stride"):
        SubpixelConv2DTranspose(4, 12, 8, 1)


def test_strided_projection_gradients_equal_the_stock_layers():
    x = tf.constant(_random((2, 24, 16, 3), 6))
    stock, ours = _stock_strided(5, 12, 8, 2), SpaceToDepthConv2D(5, 12, 8, 2)
    stock(x)
    ours.build(x.shape)
    ours.set_weights([stock.layers[1].get_weights()[0], _random((5,), 7)])
    stock.layers[1].set_weights(ours.get_weights())
    _assert_same_gradients(stock, stock.layers[1], ours, x, tf.constant(_random((2, 3, 2, 5), 8)))


@pytest.mark.parametrize("k, s, p", GEOMETRIES)
def test_phase_groups_pack_and_unpack_back(k, s, p):
    groups = phase_groups(k, s, p, transposed=True)
    counts = subpixel_projections.group_phase_counts(groups)
    assert sum(counts) == s * s
    pieces = [tf.constant(_random((2, 3, 4, n * 5), i)) for i, n in enumerate(counts)]
    packed = subpixel_projections.pack_phase_groups(pieces, s, 5)
    assert tuple(packed.shape) == (2, 3 * s, 4 * s, 5)
    for got, expected in zip(subpixel_projections.unpack_phase_groups(packed, s, counts), pieces):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))


def test_transposed_and_strided_projections_share_their_phase_groups():
    """A packed map is unpacked by the down-projection's own groups: the same phase ranges."""
    for k, s, p in GEOMETRIES:
        up = [(first, end) for first, end, _ in phase_groups(k, s, p, transposed=True)]
        down = [(first, end) for first, end, _ in phase_groups(k, s, p, transposed=False)]
        assert up == down


def _projection_pair(packed, up_weights=None, down_weights=None):
    """An up-projection, a per-pixel PReLU and a down-projection, as in DIC's feedback block."""
    up = SubpixelConv2DTranspose(6, 12, 8, 2, packed=packed)
    down = SpaceToDepthConv2D(5, 12, 8, 2, packed=packed)
    up.build((None, 3, 4, 4))
    down.build((None, 24, 32, 6))
    if up_weights is not None:
        up.set_weights(up_weights)
        down.set_weights(down_weights)
    return up, down, lambda x: down(tf.nn.leaky_relu(up(x), 0.25))


def test_packed_projections_equal_the_image_order_ones_values_and_gradients():
    x = tf.constant(_random((2, 3, 4, 4), 10))
    up, down, image_order = _projection_pair(False)
    up.set_weights([_random((12, 12, 6, 4), 11), _random((6,), 12)])
    down.set_weights([_random((12, 12, 6, 5), 13), _random((5,), 14)])
    packed_up, packed_down, packed = _projection_pair(True, up.get_weights(), down.get_weights())
    # The packed map holds the image-order map's values, not in image order (so the comparison
    # below is not between two identical layouts).
    a, b = np.asarray(up(x)), np.asarray(packed_up(x))
    assert a.shape == b.shape
    np.testing.assert_allclose(np.sort(a, axis=None), np.sort(b, axis=None), rtol=1e-5, atol=1e-5)
    assert np.abs(a - b).max() > 0.1
    target = tf.constant(_random((2, 3, 4, 5), 15))
    grads = []
    for model, layers in ((image_order, (up, down)), (packed, (packed_up, packed_down))):
        variables = [w for layer in layers for w in layer.trainable_weights]
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = model(x)
            loss = tf.reduce_sum((out - target) ** 2)
        grads.append((out, tape.gradient(loss, [x, *variables])))
    np.testing.assert_allclose(np.asarray(grads[1][0]), np.asarray(grads[0][0]), rtol=1e-4, atol=1e-4)
    for got, expected in zip(grads[1][1], grads[0][1]):
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-4, atol=1e-3)


def test_packed_layers_keep_their_setting_in_the_config():
    for layer in (SubpixelConv2DTranspose(6, 12, 8, 2, packed=True),
                  SpaceToDepthConv2D(6, 12, 8, 2, packed=True)):
        assert type(layer).from_config(layer.get_config()).packed
