"""crop_face geometry: the landmark mapping is exact, padding is black, real faces land inside."""

from pathlib import Path

import numpy as np
import pytest

from tinyface.data import landmarks
from tinyface.data.ingestion.annotation import FaceAnnotation
from tinyface.data.ingestion.crop import crop_face, crop_window, face_box, map_from_crop, map_to_crop
from tinyface.data.image_io import load_rgb
from tinyface.data.ingestion.readers import get_reader

REAL_FACES = Path(__file__).resolve().parents[3] / "data" / "real_faces"


def annotation(points, box=None, scheme=landmarks.IBUG68):
    return FaceAnnotation(image_path="unused", relative_path="x.png", face_index=0,
                          landmarks=np.asarray(points, dtype=np.float64), scheme=scheme,
                          dataset="test", box=box)


def bright_centroid(image):
    """Intensity-weighted centre (x, y) of a dark image with one bright spot."""
    weights = image[:, :, 0].astype(np.float64)
    ys, xs = np.mgrid[:weights.shape[0], :weights.shape[1]]
    return np.array([(weights * xs).sum(), (weights * ys).sum()]) / weights.sum()


@pytest.mark.parametrize("box", [
    (60.3, 50.0, 110.9, 96.2),   # crop side 76 -> enlarged to 128
    (20.0, 10.0, 171.0, 150.0),  # crop side 227 -> shrunk to 128
])
def test_a_bright_pixel_stays_on_its_mapped_landmark(box):
    image = np.zeros((160, 200, 3), dtype=np.uint8)
    x, y = 83, 71
    image[y, x] = 255
    cropped = crop_face(image, annotation([[x, y]], box=box))
    assert cropped.image.shape == (128, 128, 3)
    np.testing.assert_allclose(bright_centroid(cropped.image), cropped.landmarks[0], atol=0.1)


def test_mapping_formula_and_window():
    box = (10.0, 20.0, 50.0, 44.0)  # 40 x 24 -> face size 40, crop side 60 at margin 0.25
    left, top, side = crop_window(box, margin=0.25)
    assert side == 60
    # the crop's centre pixel (left + (side - 1) / 2) is within half a pixel of the box centre
    assert abs(left + (side - 1) / 2 - 30.0) <= 0.5 and abs(top + (side - 1) / 2 - 32.0) <= 0.5
    cropped = crop_face(np.zeros((100, 100, 3), np.uint8), annotation([[left, top], [30.0, 32.0]], box=box))
    scale = 128 / side
    np.testing.assert_allclose(cropped.landmarks[0], [0.5 * scale - 0.5] * 2)  # first pixel's centre
    np.testing.assert_allclose(cropped.landmarks[1], (np.array([30.0, 32.0]) - [left, top] + 0.5) * scale - 0.5)
    assert cropped.face_size == 40.0


def test_outside_the_image_is_zero_padded_without_resampling():
    rng = np.random.default_rng(0)
    image = rng.integers(1, 256, size=(40, 50, 3), dtype=np.uint8)
    box = (-30.5, -60.5, 97.5, 67.5)  # 128 wide: with margin 0 the crop needs no resize
    left, top, side = crop_window(box, margin=0.0)
    assert side == 128
    cropped = crop_face(image, annotation([[0.0, 0.0]], box=box), margin=0.0)
    expected = np.zeros((128, 128, 3), np.uint8)
    expected[-top:-top + 40, -left:-left + 50] = image
    np.testing.assert_array_equal(cropped.image, expected)


def test_box_from_landmarks_and_five_point_expansion():
    points = [[10.0, 20.0], [30.0, 20.0], [20.0, 30.0], [12.0, 40.0], [28.0, 40.0]]
    assert face_box(annotation(points)) == (10.0, 20.0, 30.0, 40.0)
    assert face_box(annotation(points, scheme=landmarks.FIVE_POINT)) == (0.0, 10.0, 40.0, 50.0)


def test_degenerate_box_is_refused():
    with pytest.raises(ValueError, match="degenerate"):
        crop_window((5.0, 5.0, 5.0, 5.0), margin=0.25)


def test_real_pts_faces_land_inside_the_crop():
    reader = get_reader("300w")
    root = REAL_FACES / "superviseddescent_ibug_lfpw_trainset"
    for unit in reader.list_units(root):
        (face,) = reader.parse_unit(root, unit, None)
        cropped = crop_face(load_rgb(face.image_path), face)
        assert cropped.image.shape == (128, 128, 3)
        assert cropped.landmarks.min() >= 0 and cropped.landmarks.max() <= 127
        # the face box is 1 / (1 + 2 * margin) of the crop and centred in it
        span = cropped.landmarks.max(axis=0) - cropped.landmarks.min(axis=0)
        assert abs(span.max() - 128 / 1.5) < 1.5
        box_centre = (cropped.landmarks.max(axis=0) + cropped.landmarks.min(axis=0)) / 2
        np.testing.assert_allclose(box_centre, [63.5, 63.5], atol=1.5)


def test_map_from_crop_undoes_map_to_crop():
    points = np.random.default_rng(3).uniform(-20, 300, (68, 2))
    left, top, side = crop_window((40.2, 31.7, 180.9, 190.3), 0.25)
    there = map_to_crop(points, left, top, side, 128)
    np.testing.assert_allclose(map_from_crop(there, left, top, side, 128), points, atol=1e-9)
