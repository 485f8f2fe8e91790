"""Trainer fixtures: real pair examples (PairGen's core on synthetic faces) as GZIP TFRecords."""

import pytest
import tensorflow as tf

from tinyface.data import example_codec, face_example, pairs
from tinyface.data.readers import get_reader


@pytest.fixture(scope="session")
def pair_records(tmp_path_factory, synthetic_faces):
    """Folder with Split-train/data.gz: pairs of 24 synthetic faces (x8); returns the folder."""
    root = tmp_path_factory.mktemp("pairs")
    split_dir = root / "Split-train"
    split_dir.mkdir()
    with tf.io.TFRecordWriter(str(split_dir / "data.gz"), options="GZIP") as writer:
        for annotation in get_reader("300w").parse_root(synthetic_faces(count=24, seed=5)):
            face = example_codec.from_example(face_example.face_example(annotation).SerializeToString())
            for pair in pairs.make_pairs(face, pairs.PairConfig()):
                writer.write(example_codec.to_example(pair).SerializeToString())
    return root
