"""300W .pts reader on the real LFPW files and on broken copies of them."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from tinyface.data import landmarks
from tinyface.data.ingestion.annotation import FaceAnnotation
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers import get_reader

REAL_FACES = Path(__file__).resolve().parents[4] / "data" / "real_faces"
LFPW = REAL_FACES / "superviseddescent_ibug_lfpw_trainset"
READER = get_reader("300w")


def test_real_pts_files_give_one_face_each_zero_based():
    faces = list(READER.parse_root(LFPW))
    assert [face.relative_path for face in faces] == ["image_0001.png", "image_0002.png"]
    for face in faces:
        assert isinstance(face, FaceAnnotation)
        pts_path = Path(face.image_path).with_suffix(".pts")
        written = np.loadtxt(pts_path, skiprows=3, max_rows=68)
        np.testing.assert_allclose(face.landmarks, written - 1.0)
        assert face.scheme == landmarks.IBUG68
        assert face.face_id == f"300w/{face.relative_path}#0"
        assert face.subset == "all"
        assert face.origin == f"{pts_path}:1"


def test_subset_is_the_first_folder_under_root_and_dataset_can_be_named():
    unit = READER.list_units(REAL_FACES)[0]
    face = next(READER.parse_unit(REAL_FACES, unit, "lfpw_dev"))
    assert face.subset == "superviseddescent_ibug_lfpw_trainset"
    assert face.face_id == "lfpw_dev/superviseddescent_ibug_lfpw_trainset/image_0001.png#0"


def test_image_extension_is_matched_case_insensitively(tmp_path):
    shutil.copy(LFPW / "image_0001.pts", tmp_path / "face.pts")
    shutil.copy(LFPW / "image_0001.png", tmp_path / "face.PNG")
    (face,) = list(READER.parse_root(tmp_path))
    assert face.image_path == str(tmp_path / "face.PNG")


def broken_copy(tmp_path, edit):
    """Real image + its .pts with `edit` applied to the list of lines; returns the .pts path."""
    shutil.copy(LFPW / "image_0001.png", tmp_path / "image_0001.png")
    lines = (LFPW / "image_0001.pts").read_text().splitlines()
    pts = tmp_path / "image_0001.pts"
    pts.write_text("\n".join(edit(lines)) + "\n")
    return pts


def only_error(tmp_path):
    (item,) = list(READER.parse_root(tmp_path))
    assert isinstance(item, BadInput)
    return item


def test_truncated_file(tmp_path):
    pts = broken_copy(tmp_path, lambda lines: lines[:40])
    assert str(only_error(tmp_path)) == f"{pts}:40: truncated file: no closing '}}' after 37 point lines"


def test_malformed_number(tmp_path):
    def garble(lines):
        lines[9] = "115.1x7 220.8"
        return lines
    pts = broken_copy(tmp_path, garble)
    assert str(only_error(tmp_path)) == f"{pts}:10: malformed number '115.1x7' (token 1)"


def test_nan_coordinate(tmp_path):
    def poison(lines):
        lines[20] = lines[20].split()[0] + " nan"
        return lines
    pts = broken_copy(tmp_path, poison)
    assert str(only_error(tmp_path)) == f"{pts}:21: non-finite number 'nan' (token 2)"


def test_wrong_point_count(tmp_path):
    pts = broken_copy(tmp_path, lambda lines: [lines[0], "n_points: 67", lines[2]] + lines[3:70] + ["}"])
    assert str(only_error(tmp_path)) == f"{pts}:2: expected 68 points, found 67"


def test_n_points_disagrees_with_lines(tmp_path):
    pts = broken_copy(tmp_path, lambda lines: lines[:70] + ["}"])
    assert str(only_error(tmp_path)) == f"{pts}:71: n_points says 68 but the file has 67 point lines"


def test_garbled_header(tmp_path):
    pts = broken_copy(tmp_path, lambda lines: ["vers1on 1"] + lines[1:])
    assert str(only_error(tmp_path)) == f"{pts}:1: garbled header: expected 'version: ...', found 'vers1on 1'"


def test_missing_image(tmp_path):
    pts = broken_copy(tmp_path, lambda lines: lines)
    (tmp_path / "image_0001.png").unlink()
    error = only_error(tmp_path)
    assert error.path == str(pts)
    assert error.problem.startswith(f"image not found beside the annotation: {tmp_path / 'image_0001'}(.png|")


def test_empty_directory(tmp_path):
    with pytest.raises(BadInput) as caught:
        READER.list_units(tmp_path)
    assert str(caught.value) == f"{tmp_path}: no 300w annotations found"
