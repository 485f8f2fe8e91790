"""CUHK "LFW 5-point" lists (Sun et al. 2013, trainImageList.txt / testImageList.txt).

    lfw_5590\\Abbas_Kiarostami_0001.jpg 75 165 87 177 106.75 108.25 ... (15 tokens)

image path, face box as left right top bottom, then five x,y points (left eye, right eye,
nose, left mouth corner, right mouth corner). The CUHK lists write Windows separators.
"""

import os


from tinyface.data import files, landmarks
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers import base

_TOKENS = 1 + 4 + 2 * landmarks.NUM_POINTS[landmarks.FIVE_POINT]  # 15


class Lfw5Reader(base.LineListReader):
    name = "lfw5"
    scheme = landmarks.FIVE_POINT
    default_dataset = "lfw"

    def matches(self, path):
        if not path.lower().endswith(".txt"):
            return False
        tokens = base.first_line_tokens(path)
        # A name first tells it from WFLW lines (all numbers) and CelebA lists (a count first).
        return len(tokens) == _TOKENS and not base.is_number(tokens[0])

    def _parse_line(self, root, unit, number, tokens, dataset, subset, faces_per_image):
        if len(tokens) != _TOKENS:
            raise BadInput(unit, f"expected {_TOKENS} tokens (name, left right top bottom, 5 x,y), found {len(tokens)}", number)
        values = base.parse_numbers(tokens[1:], unit, number, first_token_number=2)
        name = tokens[0].replace("\\", "/")
        image_path = _find_image(root, unit, name)
        if image_path is None:
            raise BadInput(unit, f"image not found: {name}", number)
        left, right, top, bottom = values[:4]
        return self._annotation(root, unit, number, image_path, values[4:], (left, top, right, bottom),
                                dataset, subset, faces_per_image)


def _find_image(root, unit, name):
    """The image as named (beside the list or under root), or in LFW's per-person folder."""
    file_name = os.path.basename(name)
    # LFW stores Abbas_Kiarostami_0001.jpg as Abbas_Kiarostami/Abbas_Kiarostami_0001.jpg.
    person = os.path.splitext(file_name)[0].rpartition("_")[0]
    candidates = []
    for folder in (os.path.dirname(unit), root):
        candidates.append(os.path.join(folder, name))
        candidates.append(os.path.join(folder, file_name))
        if person:
            candidates.append(os.path.join(folder, person, file_name))
    found = base.first_existing(candidates)
    return files.normalised(found) if found else None
