"""Splits are decided by the face id alone: re-ingesting, re-cropping or adding faces never
moves a face between train and eval."""

from tfx.components.example_gen.base_example_gen_executor import _PartitionFn

from tinyface.components.face_example_gen.component import split_config
from tinyface import features
from tinyface.data import example_codec


def _split_of(example, output_config):
    config = output_config.split_config
    buckets, total = [], 0
    for split in config.splits:
        total += split.hash_buckets
        buckets.append(total)
    return _PartitionFn(example, len(buckets), buckets, config)


def test_split_depends_on_face_id_only_and_is_about_80_20():
    output_config = split_config(train_buckets=8, eval_buckets=2)
    splits = []
    for i in range(400):
        face_id = f"300w/helen/{i}.png#0"
        a = example_codec.to_example({features.FACE_ID: face_id, features.BRIGHTNESS: 10.0})
        b = example_codec.to_example({features.FACE_ID: face_id, features.BRIGHTNESS: 200.0,
                                      features.SUBSET: "other"})
        assert _split_of(a, output_config) == _split_of(b, output_config)
        splits.append(_split_of(a, output_config))
    eval_share = splits.count(1) / len(splits)
    assert 0.13 < eval_share < 0.27
