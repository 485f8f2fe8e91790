import os

import pytest
import tensorflow as tf

from tinyface import features
from tinyface.beam.ingest import run_ingestion
from tinyface.data import example_codec
from tinyface.data.errors import BadInput


def _read_examples(pattern):
    return [example_codec.from_example(r.numpy())
            for r in tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP")]


def test_dlib_xml_folder_gives_every_face(real_faces, tmp_path):
    pattern, summary = run_ingestion(os.path.join(real_faces, "dlib_examples_faces"), "dlib_xml", str(tmp_path))
    examples = _read_examples(pattern)
    assert summary.faces_read == len(examples) == 43
    assert summary.skipped == []
    ids = [example_codec.text(e, features.FACE_ID) for e in examples]
    assert len(set(ids)) == 43
    decoded = tf.io.decode_png(examples[0][features.HR_IMAGE][0]).numpy()
    assert decoded.shape == (128, 128, 3)


def test_bad_records_are_counted_with_file_and_line_and_good_ones_kept(real_300w, tmp_path):
    pts = real_300w / "image_0002.pts"
    lines = pts.read_text().splitlines()
    lines[5] = "12.5 not-a-number"
    pts.write_text("\n".join(lines) + "\n")
    pattern, summary = run_ingestion(str(real_300w), "300w", str(tmp_path / "out"))
    assert summary.faces_read == len(_read_examples(pattern)) == 1
    assert summary.faces_skipped == 1
    message = summary.skipped[0]
    assert message.startswith(f"{pts}:6: ")
    assert "not-a-number" in message


def test_empty_folder_fails_before_any_work(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadInput, match=f"{empty}: no 300w annotations found"):
        run_ingestion(str(empty), "300w", str(tmp_path / "out"))


def test_summary_json_is_beside_the_examples(real_300w, tmp_path):
    run_ingestion(str(real_300w), "300w", str(tmp_path))
    with open(tmp_path / "ingestion_summary.json") as f:
        assert '"faces_read": 2' in f.read()
