"""tinyface.reporting.grid: the LR | bicubic | SR | HR picture, its landmarks and captions."""

import numpy as np
import pytest
from PIL import Image

from tinyface.reporting import grid

GREY = 128


def _faces(count=2, size=128, scale=8, seed=0):
    rng = np.random.default_rng(seed)
    hr = rng.integers(0, 256, (count, size, size, 3), dtype=np.uint8)
    lr = rng.integers(0, 256, (count, size // scale, size // scale, 3), dtype=np.uint8)
    bicubic = rng.integers(0, 256, hr.shape, dtype=np.uint8)
    sr = np.full(hr.shape, GREY, np.uint8)
    return lr, bicubic, sr, np.full(hr.shape, GREY, np.uint8)


def _tile(image, layout, row, column):
    left, top = layout.tile_origin(row, column)
    return np.asarray(image)[top:top + layout.height, left:left + layout.width]


def _no_points(count, points=68):
    return np.full((count, points, 2), np.nan)


def test_grid_holds_each_face_once_per_column():
    lr, bicubic, sr, hr = _faces()
    image = grid.render_grid(lr, bicubic, sr, hr, _no_points(2), _no_points(2))
    layout = grid.layout_for((128, 128))
    assert image.mode == "RGB" and image.size == layout.canvas_size(2)
    assert image.size[0] == 4 * 128 + 5 * grid.GAP and image.size[1] > 2 * 128
    for row in range(2):
        # LR blown up by nearest neighbour: every LR pixel an 8x8 block of the same colour.
        expected_lr = np.repeat(np.repeat(lr[row], 8, axis=0), 8, axis=1)
        np.testing.assert_array_equal(_tile(image, layout, row, grid.LR_COLUMN), expected_lr)
        np.testing.assert_array_equal(_tile(image, layout, row, grid.BICUBIC_COLUMN), bicubic[row])
        np.testing.assert_array_equal(_tile(image, layout, row, grid.SR_COLUMN), sr[row])  # no points to draw


def test_predicted_points_on_sr_and_hr_true_points_on_hr_only():
    lr, bicubic, sr, hr = _faces(count=2)
    predicted = _no_points(2)
    true = _no_points(2)
    predicted[:, 0] = (30, 40)        # (x, y): column 30, row 40
    true[0, 0] = (90, 100)
    true[0, 1] = (30, 40)             # where a prediction is exact, the truth is drawn on top
    image = grid.render_grid(lr, bicubic, sr, hr, predicted, true)
    layout = grid.layout_for((128, 128))

    sr_tile = _tile(image, layout, 0, grid.SR_COLUMN)
    hr_tile = _tile(image, layout, 0, grid.HR_COLUMN)
    assert tuple(sr_tile[40, 30]) == grid.PREDICTED_FILL
    assert tuple(sr_tile[100, 90]) == (GREY,) * 3                  # truth is not drawn on SR
    assert tuple(hr_tile[100, 90]) == grid.TRUE_FILL
    assert tuple(hr_tile[40, 30]) == grid.TRUE_FILL
    # Face 1 has no true landmarks (NaN): only the prediction shows on its HR tile.
    hr_tile_1 = _tile(image, layout, 1, grid.HR_COLUMN)
    assert tuple(hr_tile_1[40, 30]) == grid.PREDICTED_FILL
    assert not (hr_tile_1 == grid.TRUE_FILL).all(axis=2).any()
    # The bicubic and LR tiles carry no dots.
    assert not (_tile(image, layout, 0, grid.BICUBIC_COLUMN) != bicubic[0]).any()


def test_captions_are_written_under_their_tile_only():
    lr, bicubic, sr, hr = _faces(count=2)
    captions = [["", "", "PSNR-Y 22.30 dB\nNME 0.2310", ""], ["", "", "", ""]]
    image = np.asarray(grid.render_grid(lr, bicubic, sr, hr, _no_points(2), _no_points(2), captions))
    layout = grid.layout_for((128, 128))

    def caption_strip(row, column, line):
        left, top = layout.tile_origin(row, column)
        top += layout.height + line * layout.line_height
        return image[top:top + layout.line_height, left:left + layout.width]

    for line in range(grid.CAPTION_LINES):
        assert (caption_strip(0, grid.SR_COLUMN, line) < 100).any(), f"caption line {line} not drawn"
    for row, column in [(0, grid.LR_COLUMN), (0, grid.HR_COLUMN), (1, grid.SR_COLUMN)]:
        assert (caption_strip(row, column, 0) == grid.BACKGROUND).all()


def test_header_names_the_columns_and_shows_both_dot_colours():
    lr, bicubic, sr, hr = _faces(count=1)
    image = np.asarray(grid.render_grid(lr, bicubic, sr, hr, _no_points(1), _no_points(1)))
    layout = grid.layout_for((128, 128))
    header = image[:layout.header_height]
    for column in range(len(grid.COLUMN_TITLES)):
        left, _ = layout.tile_origin(0, column)
        assert (header[:, left:left + 20] < 100).any(), f"no title over column {column}"
    hr_left, _ = layout.tile_origin(0, grid.HR_COLUMN)
    hr_header = header[:, hr_left:]
    assert (hr_header == grid.TRUE_FILL).all(axis=2).any()
    assert (hr_header == grid.PREDICTED_FILL).all(axis=2).any()


def test_write_grid_saves_the_rendered_png(tmp_path):
    lr, bicubic, sr, hr = _faces(count=1)
    points = np.full((1, 68, 2), 64.0)
    path = grid.write_grid(str(tmp_path / "grid.png"), lr, bicubic, sr, hr, points, points, [["a", "b", "c", "d"]])
    expected = grid.render_grid(lr, bicubic, sr, hr, points, points, [["a", "b", "c", "d"]])
    np.testing.assert_array_equal(np.asarray(Image.open(path)), np.asarray(expected))


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(sr=a["sr"][:1]), "sr must be uint8"),
    (lambda a: a.update(bicubic=a["bicubic"].astype(np.float32)), "bicubic must be uint8"),
    (lambda a: a.update(lr=a["lr"][:, :15, :15]), "not a multiple of the LR size"),
    (lambda a: a.update(lr=a["lr"][:1]), "lr must be uint8"),
    (lambda a: a.update(predicted_landmarks=a["predicted_landmarks"][:1]), "predicted_landmarks must be"),
    (lambda a: a.update(true_landmarks=a["true_landmarks"][:, :, :1]), "true_landmarks must be"),
    (lambda a: a.update(captions=[["a", "b", "c", "d"]]), "captions must be 2 rows of 4"),
    (lambda a: a.update(captions=[["a", "b", "c"]] * 2), "captions must be 2 rows of 4"),
    (lambda a: a.update(hr=a["hr"][:0], sr=a["sr"][:0], bicubic=a["bicubic"][:0], lr=a["lr"][:0]), "no faces"),
])
def test_mismatched_inputs_are_errors(change, message):
    lr, bicubic, sr, hr = _faces(count=2)
    arguments = dict(lr=lr, bicubic=bicubic, sr=sr, hr=hr, predicted_landmarks=_no_points(2),
                     true_landmarks=_no_points(2), captions=None)
    change(arguments)
    with pytest.raises(ValueError, match=message):
        grid.render_grid(**arguments)
