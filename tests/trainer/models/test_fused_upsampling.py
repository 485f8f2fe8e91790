"""One low-resolution conv plus exact border strips computes what an up conv, a pixel shuffle and
an out conv compute."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tinyface.trainer.models import fused_upsampling


def _convs(channels_in, mid, channels_out, factor, up_size=3, out_size=3, seed=0):
    """Built 'same' Conv2D layers up (-> factor^2 * mid) and out (mid -> channels_out), random
    weights and biases (zero biases would hide a bias misplaced at the border)."""
    rng = np.random.default_rng(seed)
    up = keras.layers.Conv2D(factor * factor * mid, up_size, padding="same")
    out = keras.layers.Conv2D(channels_out, out_size, padding="same")
    up.build((None, None, None, channels_in))
    out.build((None, None, None, mid))
    for layer in (up, out):
        layer.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in layer.get_weights()])
    return up, out


def _two_convs(up, out, factor, x):
    return out(tf.nn.depth_to_space(up(x), factor)).numpy()


def _images(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("factor, inner, outer, expected", [
    (2, 1, 1, (-2, 2)), (3, 1, 1, (-2, 2)), (2, 2, 1, (-3, 3)), (2, 1, 0, (-1, 1)), (4, 0, 2, (-1, 1))])
def test_composite_offsets(factor, inner, outer, expected):
    assert fused_upsampling.composite_offsets(factor, inner, outer) == expected


@pytest.mark.parametrize("shape, mid, channels_out, factor, up_size, out_size", [
    ((2, 8, 6, 5), 4, 3, 2, 3, 3),      # JASRNet's form, small and not square
    ((1, 16, 16, 32), 32, 3, 2, 3, 3),  # wider channels
    ((1, 5, 7, 3), 2, 2, 3, 3, 3),      # shuffle by 3
    ((2, 6, 6, 4), 3, 2, 2, 5, 3),      # a wider up kernel
    ((1, 6, 5, 4), 3, 2, 2, 3, 5),      # a wider out kernel: a 2-pixel border
    ((1, 4, 4, 4), 3, 2, 2, 3, 1),      # a 1x1 out conv: no border at all
    ((1, 1, 3, 4), 3, 2, 2, 3, 3),      # smaller than a strip: the two convs as they are
])
def test_fused_layer_equals_the_two_convs(shape, mid, channels_out, factor, up_size, out_size):
    up, out = _convs(shape[-1], mid, channels_out, factor, up_size, out_size)
    x = _images(shape)
    fused = fused_upsampling.FusedUpsamplingOutput.from_convs(up, out, factor)
    expected = _two_convs(up, out, factor, x)
    got = fused(x).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    # In a traced graph too, as a serving signature runs it.
    np.testing.assert_allclose(tf.function(fused)(x).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_the_composite_conv_alone_is_wrong_only_at_the_border():
    # Why the strips exist, and proof that the comparison above can fail: without them the
    # outermost output pixels carry what the up conv computes outside the image.
    factor = 2
    up, out = _convs(4, 3, 2, factor)
    x = _images((1, 6, 6, 4))
    kernel, bias, (lowest, highest) = fused_upsampling.composite_kernel_and_bias(
        up.kernel.numpy(), up.bias.numpy(), out.kernel.numpy(), out.bias.numpy(), factor)
    padding = [[0, 0], [-lowest, highest], [-lowest, highest], [0, 0]]
    alone = tf.nn.depth_to_space(tf.nn.conv2d(x, kernel.astype(np.float32), 1, padding) + bias.astype(np.float32),
                                 factor).numpy()
    expected = _two_convs(up, out, factor, x)
    np.testing.assert_allclose(alone[:, 1:-1, 1:-1], expected[:, 1:-1, 1:-1], rtol=1e-4, atol=1e-4)
    for border in (alone[:, 0] - expected[:, 0], alone[:, -1] - expected[:, -1],
                   alone[:, :, 0] - expected[:, :, 0], alone[:, :, -1] - expected[:, :, -1]):
        assert np.abs(border).max() > 1e-2


def test_the_fused_weights_are_not_trainable():
    up, out = _convs(4, 3, 2, 2)
    fused = fused_upsampling.FusedUpsamplingOutput.from_convs(up, out, 2)
    assert fused.trainable_weights == [] and len(fused.non_trainable_weights) == 6


def test_mismatched_convs_are_refused():
    up, out = _convs(4, 3, 2, 2)
    with pytest.raises(ValueError, match="needs 27"):
        fused_upsampling.composite_kernel_and_bias(up.kernel.numpy(), None, out.kernel.numpy(), None, 3)


def test_convs_without_bias_are_fused_too():
    rng = np.random.default_rng(4)
    up = keras.layers.Conv2D(12, 3, padding="same", use_bias=False)
    out = keras.layers.Conv2D(2, 3, padding="same", use_bias=False)
    up.build((None, None, None, 4))
    out.build((None, None, None, 3))
    for layer in (up, out):
        layer.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in layer.get_weights()])
    x = _images((1, 6, 6, 4))
    fused = fused_upsampling.FusedUpsamplingOutput.from_convs(up, out, 2)
    np.testing.assert_allclose(fused(x).numpy(), _two_convs(up, out, 2, x), rtol=1e-4, atol=1e-4)
