"""The Winograd convolution that benchmarks/winograd_conv.py times computes what tf.nn.conv2d does."""

import importlib.util
import pathlib

import numpy as np
import pytest

_SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "winograd_conv.py"


@pytest.fixture(scope="module")
def winograd():
    spec = importlib.util.spec_from_file_location("winograd_conv", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("shape, filters", [((2, 8, 6, 5), 7), ((1, 4, 4, 1), 1), ((3, 10, 2, 4), 2)])
def test_winograd_equals_direct_convolution(winograd, shape, filters):
    import tensorflow as tf
    rng = np.random.default_rng(sum(shape))
    x = tf.constant(rng.standard_normal(shape).astype(np.float32))
    kernel = tf.constant(rng.standard_normal((3, 3, shape[-1], filters)).astype(np.float32))
    expected = winograd.direct_conv2d(x, kernel).numpy()
    got = winograd.winograd_conv2d(x, kernel).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_a_wrong_transform_is_caught(winograd, monkeypatch):
    # The comparison above can fail: flipping one entry of B^T breaks the result.
    import tensorflow as tf
    broken = winograd._B_T.copy()
    broken[0, 2] = 1
    monkeypatch.setattr(winograd, "_B_T", broken)
    x = tf.constant(np.ones((1, 4, 4, 2), np.float32))
    kernel = tf.constant(np.ones((3, 3, 2, 1), np.float32))
    assert not np.allclose(winograd.winograd_conv2d(x, kernel), winograd.direct_conv2d(x, kernel))
