"""Duplicate faces: the same image with the same landmarks, listed twice.

A face copied twice into a list (or into both the train and the test list) would be
trained on twice, or leak from training into evaluation. Such faces share a key; the first
by annotation file and line is kept, every other one is reported as a bad record naming
its own file and line and the one it repeats.
"""

import hashlib

import numpy as np

from tinyface.data.errors import BadInput, display_path

# Landmarks equal to this many decimals count as the same annotation (lists written by
# different tools round differently; a real second face of an image is pixels away).
_DECIMALS = 2


def duplicate_key(annotation):
    """A text key equal for two annotations of the same image with the same landmarks.

    Text (UTF-8 safe, via display_path) because Beam encodes grouping keys, and a file name
    that is not UTF-8 must reach the check that reports it rather than crash the grouping.
    """
    rounded = np.round(np.asarray(annotation.landmarks, dtype=np.float64), _DECIMALS) + 0.0  # -0.0 -> 0.0
    digest = hashlib.sha256(rounded.tobytes()).hexdigest()[:24]
    return f"{display_path(annotation.relative_path)}#{digest}"


def _origin_order(annotation):
    path, line = annotation.origin_file_and_line()
    return path, line if line is not None else 0, annotation.face_index


def split_duplicates(annotations):
    """(the one kept, [BadInput for each repeat]) of annotations that share a duplicate_key."""
    ordered = sorted(annotations, key=_origin_order)
    kept, repeats = ordered[0], ordered[1:]
    kept_path, kept_line = kept.origin_file_and_line()
    first = display_path(kept_path) + (f":{kept_line}" if kept_line is not None else "")
    bad = []
    for repeat in repeats:
        path, line = repeat.origin_file_and_line()
        bad.append(BadInput(path, f"duplicate face: same image and landmarks as {first}", line))
    return kept, bad
