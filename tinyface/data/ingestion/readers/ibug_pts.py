"""300W / iBUG `.pts` files: one face per file, the image beside it with the same stem.

    version: 1
    n_points:  68
    {
    x y        <- 68 lines, Matlab-style 1-based pixel coordinates
    }
"""

import numpy as np

from tinyface.data import files, landmarks
from tinyface.data.ingestion.annotation import FaceAnnotation
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers import base

_EXPECTED_POINTS = landmarks.NUM_POINTS[landmarks.IBUG68]


class IbugPtsReader(base.Reader):
    name = "300w"
    scheme = landmarks.IBUG68
    default_dataset = "300w"

    def matches(self, path):
        return path.lower().endswith(".pts")

    def parse_unit(self, root, unit, dataset=None):
        root, unit = files.absolute(root), files.absolute(unit)
        try:
            points = parse_pts(unit)
        except BadInput as error:
            yield error
            return
        image_path = base.image_beside(unit)
        if image_path is None:
            yield BadInput(unit, f"image not found beside the annotation: {base.describe_image_beside(unit)}")
            return
        relative = base.relative_path(image_path, root)
        folders = relative.split("/")[:-1]
        yield FaceAnnotation(
            image_path=image_path,
            relative_path=relative,
            face_index=0,
            landmarks=points - 1.0,  # 1-based (Matlab) -> 0-based pixel centres
            scheme=self.scheme,
            dataset=dataset or self.default_dataset,
            subset=folders[0] if folders else "all",
            origin=f"{unit}:1",
        )


def parse_pts(path):
    """The (68, 2) points of a .pts file as written (1-based); raises BadInput."""
    numbered = [(number, text.strip()) for number, text in enumerate(base.read_lines(path), start=1)]
    numbered = [(number, text) for number, text in numbered if text]
    if len(numbered) < 3:
        raise BadInput(path, "truncated file: incomplete header")
    _header_value(path, numbered[0], "version")
    count_line, count_text = _header_value(path, numbered[1], "n_points")
    try:
        count = int(count_text)
    except ValueError:
        raise BadInput(path, f"garbled header: n_points {count_text!r} is not a whole number", count_line) from None
    if count != _EXPECTED_POINTS:
        raise BadInput(path, f"expected {_EXPECTED_POINTS} points, found {count}", count_line)
    brace_line, brace = numbered[2]
    if brace != "{":
        raise BadInput(path, f"garbled header: expected '{{', found {brace!r}", brace_line)

    body = numbered[3:]
    closing = next((i for i, (_, text) in enumerate(body) if text == "}"), None)
    if closing is None:
        last_line = numbered[-1][0]
        raise BadInput(path, f"truncated file: no closing '}}' after {len(body)} point lines", last_line)
    if closing != count:
        raise BadInput(path, f"n_points says {count} but the file has {closing} point lines", body[closing][0])

    rows = []
    for number, text in body[:closing]:
        tokens = text.split()
        if len(tokens) != 2:
            raise BadInput(path, f"expected 'x y', found {len(tokens)} tokens", number)
        rows.append(base.parse_numbers(tokens, path, number))
    return np.asarray(rows, dtype=np.float64)


def _header_value(path, numbered_line, key):
    number, text = numbered_line
    found_key, colon, value = text.partition(":")
    if not colon or found_key.strip() != key or not value.strip():
        raise BadInput(path, f"garbled header: expected '{key}: ...', found {text!r}", number)
    return number, value.strip()
