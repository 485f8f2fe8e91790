"""The bad-input corpus (tests/bad_input_corpus.py) through the readers, the image
loader and the duplicate check, in one process: each case gives exactly its one line, and
the good face beside it is still read.

The same corpus goes through Beam ingestion in tests/tinyface/beam/test_ingest_bad_input.py
and through `tinyface validate` in tests/cli/commands/test_bad_input_commands.py.
"""

import collections
import shutil

import pytest

from tinyface.data.ingestion import duplicates, face_example
from tinyface.data.errors import BadInput
from tinyface.data.image_io import MAX_IMAGE_PIXELS, load_rgb
from tinyface.data.ingestion.readers import get_reader
from tinyface.data.ingestion.readers.detect import detect_format


def read_in_process(root, data_format):
    """(feature dicts, BadInputs) of a folder: what ingestion does, without Beam."""
    by_key, bad, faces = collections.defaultdict(list), [], []
    for item in get_reader(data_format).parse_root(str(root)):
        if isinstance(item, BadInput):
            bad.append(item)
        else:
            by_key[duplicates.duplicate_key(item)].append(item)
    for group in by_key.values():
        kept, repeats = duplicates.split_duplicates(group)
        bad += repeats
        try:
            faces.append(face_example.face_features(kept))
        except BadInput as error:
            bad.append(error)
    return faces, bad


def test_the_corpus_has_at_least_25_cases_that_run_here(bad_input):
    runnable = [case for case in bad_input.CASES if not case.skip_reason]
    assert len(runnable) >= 25
    assert len({case.name for case in bad_input.CASES}) == len(bad_input.CASES)
    assert set(bad_input.FORMATS) == {"300w", "dlib_xml", "wflw", "celeba", "lfw5"}


def test_each_case_is_one_line_naming_the_file_and_the_good_face_is_read(bad_case, bad_input_corpus):
    folder = bad_input_corpus.folder(bad_case)
    assert detect_format(str(folder)) == bad_case.data_format  # the bad file does not confuse detection
    faces, bad = read_in_process(folder, bad_case.data_format)
    assert [str(error) for error in bad] == [bad_input_corpus.expected[bad_case.name]]
    assert "\n" not in str(bad[0]) and str(bad[0]).isprintable()
    assert str(bad[0]).encode("utf-8")  # printable and writable, whatever the file's name
    assert bad[0].reason == bad_case.reason
    assert len(faces) == bad_case.good_faces


def test_the_pixel_limit_is_checked_on_the_header_not_after_decoding(tmp_path, bad_input):
    # Just over the limit as a real 1-pixel-high strip: the check must not depend on PIL's
    # own (higher) limit, and a size just under it still decodes.
    over, under = tmp_path / "over.png", tmp_path / "under.png"
    bad_input.huge_png_header(over, MAX_IMAGE_PIXELS + 1, 1)
    with pytest.raises(BadInput, match=f"image too large: {MAX_IMAGE_PIXELS + 1}x1 = "):
        load_rgb(over)
    bad_input.zero_bomb_png(under, 64)
    assert load_rgb(under).shape == (64, 64, 3)


def test_a_face_listed_three_times_is_kept_once_and_counted_twice(tmp_path, bad_input):
    lines = bad_input.dlib_xml_lines("face.png", boxes=3)
    shutil.copy(bad_input.LFPW / "image_0001.png", tmp_path / "face.png")
    (tmp_path / "three.xml").write_text("\n".join(lines) + "\n")
    faces, bad = read_in_process(tmp_path, "dlib_xml")
    assert len(faces) == 1
    boxes = [n for n, text in enumerate(lines, start=1) if "<box" in text]
    assert [error.line for error in bad] == boxes[1:]
    assert all(error.problem.endswith(f"three.xml:{boxes[0]}") for error in bad)


def test_names_are_escaped_where_needed_and_bombs_are_small_on_disk(bad_input_corpus):
    expected = bad_input_corpus.expected
    assert "/caf\\xe9.pts:5: " in expected["non_utf8_pts_name"]      # the byte, not U+FFFD or a crash
    assert "/Jos\\xe9_0001.png (rename it)" in expected["non_utf8_image_name"]
    assert "/two\\nlines.pts:6: " in expected["newline_in_name"]     # one line, however named
    assert "/my \"best\" face's copy.pts:1: " in expected["spaces_and_quotes_in_name"]  # as ls shows it
    for case, image in (("huge_png_30000x30000", "huge.png"), ("decompression_bomb_png", "bomb.png")):
        assert (bad_input_corpus.root / "300w" / case / image).stat().st_size < 100_000
