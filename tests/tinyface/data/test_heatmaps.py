import math

import numpy as np
import pytest
import tensorflow as tf

from tinyface.data import heatmaps
from tinyface.data.heatmaps import DIC_HEATMAPS, JASRNET_HEATMAPS, HeatmapSpec, render_heatmaps


def test_presets_match_the_papers():
    assert (DIC_HEATMAPS.size, DIC_HEATMAPS.sigma, DIC_HEATMAPS.background) == (32, 1.0, False)
    assert (JASRNET_HEATMAPS.size, JASRNET_HEATMAPS.sigma, JASRNET_HEATMAPS.background) == (16, 4.0, True)
    assert heatmaps.jasrnet_heatmaps(256).size == 32
    assert JASRNET_HEATMAPS.num_channels(68) == 69
    assert DIC_HEATMAPS.flat_length(68) == 32 * 32 * 68
    with pytest.raises(ValueError, match="divisible by 8"):
        heatmaps.jasrnet_heatmaps(100)


@pytest.mark.parametrize("size, sigma", [(0, 1.0), (8, 0.0), (8, -1.0), (2.5, 1.0)])
def test_spec_rejects_bad_values(size, sigma):
    with pytest.raises(ValueError):
        HeatmapSpec(size, sigma, False)


def test_landmark_on_a_grid_point_peaks_there_with_gaussian_falloff():
    # 128 HR px -> 32 cells: 4 px per cell; cell (u=5, v=10) has its centre at HR (21.5, 41.5).
    spec = HeatmapSpec(32, 1.5, False)
    maps = render_heatmaps([[21.5, 41.5]], 128, spec).numpy()
    assert maps.shape == (32, 32, 1)
    assert maps[10, 5, 0] == pytest.approx(1.0)
    assert np.unravel_index(maps[..., 0].argmax(), (32, 32)) == (10, 5)
    one_away = math.exp(-1.0 / (2 * 1.5 ** 2))
    for row, col in [(9, 5), (11, 5), (10, 4), (10, 6)]:
        assert maps[row, col, 0] == pytest.approx(one_away, rel=1e-5)
    assert maps[11, 6, 0] == pytest.approx(math.exp(-2.0 / (2 * 1.5 ** 2)), rel=1e-5)


def test_hr_to_grid_mapping_is_centre_aligned():
    # HR pixel centre 0 lies a quarter cell left of cell centre 0 at 2 px per cell:
    # u = (0 + 0.5) * 8 / 16 - 0.5 = -0.25, so the value at cell 0 is exp(-0.25^2 / 2).
    spec = HeatmapSpec(8, 1.0, False)
    maps = render_heatmaps([[0.0, 0.0]], 16, spec).numpy()
    assert maps[0, 0, 0] == pytest.approx(math.exp(-(0.25 ** 2 + 0.25 ** 2) / 2.0), rel=1e-5)
    # The HR centre (7.5, 7.5) of a 16 px image maps to the grid centre (3.5, 3.5): symmetric.
    centred = render_heatmaps([[7.5, 7.5]], 16, spec).numpy()[..., 0]
    np.testing.assert_allclose(centred, centred[::-1, ::-1], rtol=1e-6)
    np.testing.assert_allclose(centred, centred.T, rtol=1e-6)


def test_x_is_columns_and_y_is_rows():
    spec = HeatmapSpec(16, 1.0, False)
    maps = render_heatmaps([[8 * 3 + 3.5, 8 * 12 + 3.5]], 128, spec).numpy()
    assert np.unravel_index(maps[..., 0].argmax(), (16, 16)) == (12, 3)


def test_background_channel_is_one_minus_the_max():
    landmarks = np.array([[20.0, 30.0], [90.0, 70.0], [64.0, 64.0]])
    maps = render_heatmaps(landmarks, 128, JASRNET_HEATMAPS).numpy()
    assert maps.shape == (16, 16, 4)
    np.testing.assert_allclose(maps[..., 3], 1.0 - maps[..., :3].max(axis=-1), atol=1e-6)
    without = render_heatmaps(landmarks, 128, HeatmapSpec(16, 4.0, False)).numpy()
    np.testing.assert_allclose(maps[..., :3], without, atol=1e-6)


def test_batched_equals_unbatched():
    rng = np.random.default_rng(3)
    batch = rng.uniform(0, 127, size=(3, 68, 2)).astype(np.float32)
    together = render_heatmaps(batch, 128, JASRNET_HEATMAPS).numpy()
    assert together.shape == (3, 16, 16, 69)
    for index in range(3):
        alone = render_heatmaps(batch[index], 128, JASRNET_HEATMAPS).numpy()
        np.testing.assert_allclose(together[index], alone, atol=1e-6)


def test_works_inside_dataset_map_in_graph_mode():
    rng = np.random.default_rng(4)
    coords = rng.uniform(0, 127, size=(4, 68, 2)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(coords).map(
        lambda lm: render_heatmaps(lm, 128, DIC_HEATMAPS)).batch(2)
    mapped = np.concatenate([batch.numpy() for batch in dataset])
    assert mapped.shape == (4, 32, 32, 68)
    np.testing.assert_allclose(mapped, render_heatmaps(coords, 128, DIC_HEATMAPS).numpy(), atol=1e-6)
    # Also with a tensor hr_size and an unknown batch dimension inside tf.function.
    function = tf.function(lambda lm, size: render_heatmaps(lm, size, DIC_HEATMAPS),
                           input_signature=[tf.TensorSpec([None, 68, 2]), tf.TensorSpec([], tf.int32)])
    np.testing.assert_allclose(function(coords, tf.constant(128)).numpy(), mapped, atol=1e-6)
