"""The Winograd convolutions that benchmarks/winograd_conv.py times compute what tf.nn.conv2d does."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def winograd(load_benchmark):
    return load_benchmark("winograd_conv")


def _case(shape, filters):
    import tensorflow as tf
    rng = np.random.default_rng(sum(shape) + filters)
    x = tf.constant(rng.standard_normal(shape).astype(np.float32))
    kernel = tf.constant(rng.standard_normal((3, 3, shape[-1], filters)).astype(np.float32))
    return x, kernel


@pytest.mark.parametrize("tile, shape, filters", [
    (2, (2, 8, 6, 5), 7), (2, (1, 4, 4, 1), 1), (2, (3, 10, 2, 4), 2),
    (4, (2, 8, 12, 5), 7), (4, (1, 4, 4, 1), 1), (4, (1, 16, 8, 16), 3)])
@pytest.mark.parametrize("xla_transforms", [False, True], ids=["tf-ops", "xla"])
def test_winograd_equals_direct_convolution(winograd, tile, shape, filters, xla_transforms):
    x, kernel = _case(shape, filters)
    expected = winograd.direct_conv2d(x, kernel).numpy()
    got = winograd.winograd_conv2d(x, kernel, tile, xla_transforms).numpy()
    assert got.shape == expected.shape
    # F(4x4, 3x3)'s transforms have entries up to 8 and 1/24: more float32 rounding than F(2x2).
    tolerance = 1e-5 if tile == 2 else 1e-4
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


def test_gradients_equal_the_direct_convolution_s(winograd):
    import tensorflow as tf
    x, kernel = _case((1, 8, 8, 3), 2)
    upstream = tf.constant(np.random.default_rng(1).standard_normal((1, 8, 8, 2)).astype(np.float32))
    expected = winograd._step(winograd.direct_conv2d, x, kernel, upstream)
    got = winograd._step(lambda x, k: winograd.winograd_conv2d(x, k, 4, True), x, kernel, upstream)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("tile", [2, 4])
def test_a_wrong_transform_is_caught(winograd, monkeypatch, tile):
    # The comparison above can fail: changing one entry of B^T breaks the result.
    import tensorflow as tf
    broken = dict(winograd.TRANSFORMS[tile])
    broken["B_T"] = broken["B_T"].copy()
    broken["B_T"][0, 2] += 1
    monkeypatch.setitem(winograd.TRANSFORMS, tile, broken)
    x = tf.constant(np.ones((1, 4, 4, 2), np.float32))
    kernel = tf.constant(np.ones((3, 3, 2, 1), np.float32))
    assert not np.allclose(winograd.winograd_conv2d(x, kernel, tile), winograd.direct_conv2d(x, kernel))
