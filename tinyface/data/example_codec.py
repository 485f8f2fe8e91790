"""Python dicts <-> tf.train.Example, the one place feature values are typed.

Types follow the Python/numpy value: str/bytes -> bytes_list, bool/int -> int64_list,
float -> float_list; sequences and arrays by their element type (arrays are flattened).
"""

import numpy as np
from tensorflow.core.example import example_pb2, feature_pb2


def _feature(key, value):
    if isinstance(value, (str, bytes)) or np.isscalar(value):
        value = [value]
    if len(value) and isinstance(value[0], (str, bytes)):
        # Kept out of numpy: its fixed-width bytes dtype drops trailing NUL bytes of binary data.
        items = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in value]
        return feature_pb2.Feature(bytes_list=feature_pb2.BytesList(value=items))
    array = np.asarray(value)
    if array.size == 0:
        raise ValueError(f"feature {key!r} is empty; leave it out instead")
    kind = array.dtype.kind
    if kind in "biu":
        return feature_pb2.Feature(int64_list=feature_pb2.Int64List(value=array.ravel().astype(np.int64)))
    if kind == "f":
        return feature_pb2.Feature(float_list=feature_pb2.FloatList(value=array.ravel().astype(np.float32)))
    raise TypeError(f"feature {key!r} has unsupported dtype {array.dtype}")


def to_example(features):
    """Builds a tf.train.Example from {key: value}; None values are left out."""
    example = example_pb2.Example()
    for key, value in features.items():
        if value is not None:
            example.features.feature[key].CopyFrom(_feature(key, value))
    return example


def from_example(example):
    """Reads a tf.train.Example (or its serialized bytes) into {key: list of values}."""
    if isinstance(example, bytes):
        example = example_pb2.Example.FromString(example)
    out = {}
    for key, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        out[key] = list(getattr(feature, kind).value) if kind else []
    return out


def scalar(features, key, default=None):
    """The single value of `key` in a dict from from_example(), or `default` if absent."""
    values = features.get(key)
    return values[0] if values else default


def text(features, key, default=None):
    """Like scalar() for a bytes feature that holds UTF-8 text."""
    value = scalar(features, key)
    return value.decode("utf-8") if value is not None else default
