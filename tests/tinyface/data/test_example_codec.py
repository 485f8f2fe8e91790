import numpy as np
import pytest

from tinyface.data import example_codec


def test_round_trip_keeps_types_and_values():
    features = {
        "blob": b"\x89PNG\x00\x00",           # binary with trailing NULs must survive
        "name": "face",
        "count": 3,
        "flag": True,
        "points": np.array([[1.5, 2.0], [3.25, 4.0]], dtype=np.float64),
        "ids": [1, 2, 3],
        "names": ["a", b"b"],
        "absent": None,
    }
    decoded = example_codec.from_example(example_codec.to_example(features).SerializeToString())
    assert decoded["blob"] == [b"\x89PNG\x00\x00"]
    assert example_codec.text(decoded, "name") == "face"
    assert decoded["count"] == [3] and decoded["flag"] == [1]
    assert decoded["points"] == [1.5, 2.0, 3.25, 4.0]
    assert decoded["ids"] == [1, 2, 3]
    assert decoded["names"] == [b"a", b"b"]
    assert "absent" not in decoded
    assert example_codec.scalar(decoded, "missing", default=7) == 7


def test_empty_feature_is_refused():
    with pytest.raises(ValueError, match="'points' is empty"):
        example_codec.to_example({"points": []})
