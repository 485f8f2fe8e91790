"""Decoding rendered heatmaps back to landmarks: sub-pixel accuracy, grid mapping, dtypes, graph mode.

Tolerances (HR px, 128 px faces; a heatmap cell is 4 px for DIC's 32x32 grid, 8 px for
JASRNet's 16x16 one):
* refined_argmax, float32: the log of a rendered Gaussian is exactly quadratic, so the fit is
  exact up to float32 rounding; 0.01 px. Integer argmax alone is off by up to half a cell
  (2 / 4 px), which every test below asserts its data would expose.
* soft_argmax, float32, landmarks >= 4 widths inside the grid: the discrete mean of a
  one-cell-wide sampled Gaussian is exact to ~1e-8 cells; border truncation is what remains,
  < 1e-3 px at that distance; 0.01 px (DIC) / 0.05 px (JASRNet, only 3 cells of margin).
* bfloat16 inputs keep 8 significant bits (relative error 2^-9). For DIC the three fitted log
  values differ by ~0.5, so the vertex moves < 0.02 cells (0.1 px bound). JASRNet's sigma-4
  peak is flat (neighbours differ by ~3%), so the same rounding moves the vertex by up to
  ~0.2 cells: mean < 0.4 px, max < 2 px (still better than the 4 px of plain argmax).
"""

import numpy as np
import pytest
import tensorflow as tf

from tinyface.data.heatmaps import DIC_HEATMAPS, JASRNET_HEATMAPS, render_heatmaps
from tinyface.trainer.models.landmark_decoding import decode_landmarks, grid_to_hr, soft_argmax_beta

HR = 128
SPECS = {"dic": DIC_HEATMAPS, "jasrnet": JASRNET_HEATMAPS}


def _landmarks(seed, low, high, batch=8):
    return np.random.default_rng(seed).uniform(low, high, (batch, 68, 2)).astype(np.float32)


def _integer_argmax_error(landmarks, spec):
    """Max error of decoding without refinement (the nearest cell centre), in HR px."""
    cell = HR / spec.size
    grid = np.clip(np.round((landmarks + 0.5) / cell - 0.5), 0, spec.size - 1)
    return np.abs((grid + 0.5) * cell - 0.5 - landmarks).max()


@pytest.mark.parametrize("name", SPECS)
def test_refined_argmax_is_subpixel_exact_everywhere_in_the_crop(name):
    spec = SPECS[name]
    landmarks = _landmarks(0, 0.0, HR - 1.0)
    landmarks[0, :4] = [[0, 0], [HR - 1, HR - 1], [0, HR - 1], [HR - 1, 0]]   # the corners
    heatmaps = render_heatmaps(landmarks, HR, spec)
    assert heatmaps.shape[-1] == 68 + int(spec.background)
    decoded = decode_landmarks(heatmaps, HR, method="refined_argmax")
    assert decoded.dtype == tf.float32 and decoded.shape == (8, 68, 2)
    assert np.abs(decoded.numpy() - landmarks).max() < 0.01
    assert _integer_argmax_error(landmarks, spec) > 0.45 * HR / spec.size


@pytest.mark.parametrize("name,margin,tolerance", [("dic", 16, 0.01), ("jasrnet", 24, 0.05)])
def test_soft_argmax_is_subpixel_inside_the_grid(name, margin, tolerance):
    spec = SPECS[name]
    landmarks = _landmarks(1, margin, HR - 1 - margin)
    heatmaps = render_heatmaps(landmarks, HR, spec)
    decoded = decode_landmarks(heatmaps, HR, method="soft_argmax", beta=soft_argmax_beta(spec.sigma))
    assert np.abs(decoded.numpy() - landmarks).max() < tolerance
    assert _integer_argmax_error(landmarks, spec) > 0.45 * HR / spec.size


def test_soft_argmax_is_pulled_inwards_at_the_border():
    # Documented limitation (and why LandmarkConsistencyLoss decodes its targets too): half of
    # a border landmark's peak lies outside the grid.
    landmarks = np.full((1, 68, 2), 64.0, np.float32)
    landmarks[0, 0] = [0.0, 64.0]
    decoded = decode_landmarks(render_heatmaps(landmarks, HR, DIC_HEATMAPS), HR, method="soft_argmax")
    assert decoded.numpy()[0, 0, 0] > 1.0
    assert abs(decoded.numpy()[0, 1, 0] - 64.0) < 0.01


def test_soft_argmax_beta_makes_one_cell_wide_weights():
    assert soft_argmax_beta(1.0) == 1.0
    assert soft_argmax_beta(4.0) == 16.0
    assert soft_argmax_beta(4.0, width=2.0) == 4.0
    with pytest.raises(ValueError):
        soft_argmax_beta(0.0)


@pytest.mark.parametrize("name,mean_tol,max_tol", [("dic", 0.05, 0.1), ("jasrnet", 0.4, 2.0)])
def test_refined_argmax_on_bfloat16_heatmaps(name, mean_tol, max_tol):
    spec = SPECS[name]
    landmarks = _landmarks(2, 0.0, HR - 1.0)
    heatmaps = tf.cast(render_heatmaps(landmarks, HR, spec), tf.bfloat16)
    decoded = decode_landmarks(heatmaps, HR)
    assert decoded.dtype == tf.float32
    error = np.linalg.norm(decoded.numpy() - landmarks, axis=-1)
    assert error.mean() < mean_tol and error.max() < max_tol


@pytest.mark.parametrize("name,margin,tolerance", [("dic", 16, 0.05), ("jasrnet", 24, 0.25)])
def test_soft_argmax_on_bfloat16_heatmaps(name, margin, tolerance):
    # bf16 rounding (2^-9 relative) raised to the power beta: 0.2% per cell for DIC (beta 1),
    # ~3% for JASRNet (beta 16), spread over ~2*pi cells of weight.
    spec = SPECS[name]
    landmarks = _landmarks(3, margin, HR - 1 - margin)
    heatmaps = tf.cast(render_heatmaps(landmarks, HR, spec), tf.bfloat16)
    decoded = decode_landmarks(heatmaps, HR, method="soft_argmax", beta=soft_argmax_beta(spec.sigma))
    assert decoded.dtype == tf.float32
    assert np.abs(decoded.numpy() - landmarks).max() < tolerance


@pytest.mark.parametrize("method", ["refined_argmax", "soft_argmax"])
def test_decoding_ignores_the_peak_height(method):
    # Predicted peaks are rarely exactly 1; the log-domain decoders only see the shape.
    landmarks = _landmarks(4, 20.0, 107.0, batch=2)
    heatmaps = render_heatmaps(landmarks, HR, DIC_HEATMAPS)
    full = decode_landmarks(heatmaps, HR, method=method)
    scaled = decode_landmarks(0.3 * heatmaps, HR, method=method)
    np.testing.assert_allclose(scaled.numpy(), full.numpy(), atol=1e-3)


def test_graph_mode_with_unknown_shapes_and_tensor_hr_size():
    spec = SPECS["jasrnet"]
    landmarks = _landmarks(5, 0.0, HR - 1.0, batch=3)
    heatmaps = render_heatmaps(landmarks, HR, spec)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 69], tf.float32),
                                  tf.TensorSpec([], tf.int32)])
    def decode_both(maps, hr_size):
        return (decode_landmarks(maps, hr_size, method="refined_argmax"),
                decode_landmarks(maps, hr_size, method="soft_argmax", beta=16.0))

    refined, soft = decode_both(heatmaps, tf.constant(HR))
    np.testing.assert_allclose(refined.numpy(), decode_landmarks(heatmaps, HR).numpy(), atol=1e-5)
    np.testing.assert_allclose(soft.numpy(), decode_landmarks(heatmaps, HR, method="soft_argmax", beta=16.0).numpy(),
                               atol=1e-5)
    assert np.abs(refined.numpy() - landmarks).max() < 0.01


def test_background_channel_is_dropped_and_channel_count_checked():
    landmarks = _landmarks(6, 10.0, 117.0, batch=1)
    with_background = render_heatmaps(landmarks, HR, JASRNET_HEATMAPS)
    decoded = decode_landmarks(with_background, HR)
    assert decoded.shape == (1, 68, 2)
    np.testing.assert_allclose(decoded.numpy(), decode_landmarks(with_background[..., :68], HR).numpy())
    with pytest.raises(ValueError, match="channels"):
        decode_landmarks(with_background[..., :5], HR)
    with pytest.raises(ValueError, match="method"):
        decode_landmarks(with_background, HR, method="argmax")


def test_grid_to_hr_inverts_the_renderer_mapping():
    # u = (x + 0.5) * size / hr - 0.5  <=>  x = (u + 0.5) * hr / size - 0.5
    grid = tf.constant([[-0.5, 31.5], [0.0, 0.0]], tf.float32)   # grid edges and a cell centre
    hr = grid_to_hr(grid, 128, 32, 32).numpy()
    np.testing.assert_allclose(hr, [[-0.5, 127.5], [1.5, 1.5]])


def test_flat_maps_decode_to_finite_values():
    flat = tf.zeros([1, 32, 32, 68])
    assert np.isfinite(decode_landmarks(flat, HR).numpy()).all()
    soft = decode_landmarks(flat, HR, method="soft_argmax").numpy()
    np.testing.assert_allclose(soft, np.full_like(soft, 63.5), atol=1e-4)   # the grid centre


def test_soft_argmax_is_differentiable():
    landmarks = _landmarks(7, 30.0, 97.0, batch=2)
    heatmaps = tf.Variable(render_heatmaps(landmarks, HR, DIC_HEATMAPS))
    with tf.GradientTape() as tape:
        x = decode_landmarks(heatmaps, HR, method="soft_argmax")[0, 0, 0]
    gradient = tape.gradient(x, heatmaps).numpy()
    assert np.isfinite(gradient).all()
    # Raising a cell right of the landmark moves it right, so the gradient there is positive.
    column = int(round((landmarks[0, 0, 0] + 0.5) / 4 - 0.5))
    row = int(round((landmarks[0, 0, 1] + 0.5) / 4 - 0.5))
    assert gradient[0, row, column + 1, 0] > 0 > gradient[0, row, column - 1, 0]
    assert np.abs(gradient[1]).max() == 0.0
