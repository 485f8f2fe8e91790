"""Evaluation fixtures: pair examples (PairGen's core on synthetic faces) as a GZIP TFRecord.

The same recipe as tests/trainer/conftest.py's pair_records, repeated here so the evaluation
tests do not import across test folders."""

import pytest
import tensorflow as tf

from tinyface.data import example_codec, face_example, pairs
from tinyface.data.readers import get_reader


@pytest.fixture(scope="session")
def eval_pair_records(tmp_path_factory, synthetic_faces):
    """Path of a GZIP TFRecord of x8 pairs of 24 synthetic faces."""
    path = tmp_path_factory.mktemp("eval-pairs") / "pairs.gz"
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for annotation in get_reader("300w").parse_root(synthetic_faces(count=24, seed=5)):
            face = example_codec.from_example(face_example.face_example(annotation).SerializeToString())
            for pair in pairs.make_pairs(face, pairs.PairConfig()):
                writer.write(example_codec.to_example(pair).SerializeToString())
    return str(path)
