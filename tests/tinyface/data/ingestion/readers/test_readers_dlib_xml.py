"""dlib imglab XML reader on dlib's real example files and on broken copies of them."""

import shutil
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest

from tinyface.data import landmarks
from tinyface.data.ingestion.annotation import FaceAnnotation
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers import get_reader

REAL_FACES = Path(__file__).resolve().parents[4] / "data" / "real_faces"
DLIB = REAL_FACES / "dlib_examples_faces"
TRAINING = DLIB / "training_with_face_landmarks.xml"
READER = get_reader("dlib_xml")


def parse(root, unit):
    return list(READER.parse_unit(root, unit, None))


def test_real_files_give_18_and_25_faces():
    units = READER.list_units(DLIB)
    assert [Path(unit).name for unit in units] == ["testing_with_face_landmarks.xml", "training_with_face_landmarks.xml"]
    testing, training = (parse(DLIB, unit) for unit in units)
    assert len(training) == 18 and len(testing) == 25
    for face in training + testing:
        assert isinstance(face, FaceAnnotation)
        assert face.landmarks.shape == (landmarks.NUM_POINTS[landmarks.IBUG68], 2)
        assert face.scheme == landmarks.IBUG68
        x_min, y_min, x_max, y_max = face.box
        centre = face.landmarks.mean(axis=0)
        assert x_min < centre[0] < x_max and y_min < centre[1] < y_max
    assert {face.subset for face in training} == {"training_with_face_landmarks"}
    assert len({face.face_id for face in training + testing}) == 43


def test_first_real_face_matches_the_xml():
    first = parse(DLIB, str(TRAINING))[0]
    box = ElementTree.parse(TRAINING).find("images/image/box")
    expected = [[float(part.get("x")), float(part.get("y"))]
                for part in sorted(box.findall("part"), key=lambda part: int(part.get("name")))]
    np.testing.assert_array_equal(first.landmarks, expected)
    left, top, width = (float(box.get(key)) for key in ("left", "top", "width"))
    assert first.box[0] == left - 0.5 and first.box[2] == left + width - 0.5
    assert first.relative_path == "2007_007763.jpg"
    assert first.face_id == "dlib/2007_007763.jpg#0"
    assert first.origin == f"{TRAINING}:11"


def edited_copy(tmp_path, edit):
    """The training XML with `edit` applied to its lines, beside copies of its images."""
    for image in DLIB.glob("*.jpg"):
        shutil.copy(image, tmp_path / image.name)
    lines = TRAINING.read_text(encoding="iso-8859-1").splitlines()
    path = tmp_path / TRAINING.name
    path.write_text("\n".join(edit(lines)) + "\n", encoding="iso-8859-1")
    return path


def replace_line(number, text):
    def edit(lines):
        lines[number - 1] = text
        return lines
    return edit


def test_parts_are_ordered_by_name_not_document_order(tmp_path):
    def swap_first_two_parts(lines):
        lines[11], lines[12] = lines[12], lines[11]  # parts 00 and 01 of the first box
        return lines
    path = edited_copy(tmp_path, swap_first_two_parts)
    np.testing.assert_array_equal(parse(tmp_path, path)[0].landmarks, parse(DLIB, str(TRAINING))[0].landmarks)


def test_ignored_boxes_are_skipped_and_other_ids_stay(tmp_path):
    path = edited_copy(tmp_path, replace_line(11, "    <box top='90' left='194' width='37' height='37' ignore='1'>"))
    faces = parse(tmp_path, path)
    assert len(faces) == 17
    assert all(isinstance(face, FaceAnnotation) for face in faces)
    assert faces[0].face_id == "dlib/2007_007763.jpg#1"


def test_xml_syntax_error_names_the_line(tmp_path):
    path = edited_copy(tmp_path, replace_line(20, "      <part name='08' x='213' y='129'<"))
    (error,) = parse(tmp_path, path)
    assert isinstance(error, BadInput)
    assert str(error) == f"{path}:20: XML syntax error: not well-formed (invalid token)"


def test_missing_part(tmp_path):
    path = edited_copy(tmp_path, lambda lines: lines[:16] + lines[17:])  # drops part '05'
    items = parse(tmp_path, path)
    assert str(items[0]) == f"{path}:11: expected 68 parts named 00-67, found 67; missing 05"
    assert sum(isinstance(item, FaceAnnotation) for item in items) == 17


def test_wrong_part_count(tmp_path):
    path = edited_copy(tmp_path, lambda lines: lines[:12] + ["      <part name='68' x='1' y='2'/>"] + lines[12:])
    assert str(parse(tmp_path, path)[0]) == f"{path}:11: expected 68 parts named 00-67, found 69"


def test_malformed_part_coordinate(tmp_path):
    path = edited_copy(tmp_path, replace_line(14, "      <part name='02' x='2o1' y='113'/>"))
    assert str(parse(tmp_path, path)[0]) == f"{path}:14: malformed number '2o1' in attribute x"


def test_missing_image_names_xml_line_and_image(tmp_path):
    path = edited_copy(tmp_path, lambda lines: lines)
    (tmp_path / "2007_007763.jpg").unlink()
    items = parse(tmp_path, path)
    assert str(items[0]) == f"{path}:10: image not found: {tmp_path / '2007_007763.jpg'}"
    assert sum(isinstance(item, FaceAnnotation) for item in items) == 18 - 7  # that image held 7 faces


def test_empty_directory(tmp_path):
    with pytest.raises(BadInput) as caught:
        READER.list_units(tmp_path)
    assert str(caught.value) == f"{tmp_path}: no dlib_xml annotations found"
