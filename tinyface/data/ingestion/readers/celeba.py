"""CelebA landmark lists: five points per image, optional boxes and train/val/test partition.

    202599                                   <- line 1: number of records
    lefteye_x lefteye_y ... rightmouth_y     <- line 2: header
    000001.jpg 69 109 106 113 77 142 73 152 108 154

`list_landmarks_celeba.txt` refers to the in-the-wild images (img_celeba/) and may come with
`list_bbox_celeba.txt` (`image_id x_1 y_1 width height`, same two header lines);
`list_landmarks_align_celeba.txt` refers to the aligned crops (img_align_celeba/), for which
those boxes do not hold. CelebA does not state a coordinate base; its integer points are
taken as 0-based pixels, as the public CelebA loaders use them.
"""

import os

import numpy as np

from tinyface.data import files, landmarks
from tinyface.data.ingestion.annotation import FaceAnnotation
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers import base

_LANDMARK_TOKENS = 1 + 2 * landmarks.NUM_POINTS[landmarks.FIVE_POINT]
_BBOX_TOKENS = 5
_BBOX_FILE = "list_bbox_celeba.txt"
_PARTITION_FILE = "list_eval_partition.txt"
_PARTITIONS = {"0": "train", "1": "val", "2": "test"}


class CelebaReader(base.Reader):
    name = "celeba"
    scheme = landmarks.FIVE_POINT
    default_dataset = "celeba"

    def matches(self, path):
        file_name = os.path.basename(path).lower()
        return file_name.startswith("list_landmarks") and "celeba" in file_name and file_name.endswith(".txt")

    def parse_unit(self, root, unit, dataset=None):
        root, unit = files.absolute(root), files.absolute(unit)
        dataset = dataset or self.default_dataset
        aligned = "align" in os.path.basename(unit).lower()
        list_folder = os.path.dirname(unit)

        boxes, partition = {}, {}
        if not aligned:
            bbox_path = os.path.join(list_folder, _BBOX_FILE)
            if files.is_regular_file(bbox_path):
                yield from _read_boxes(bbox_path, boxes)
        partition_path = base.first_existing(
            os.path.join(folder, _PARTITION_FILE)
            for folder in (list_folder, os.path.join(os.path.dirname(list_folder), "Eval"), root, os.path.join(root, "Eval"))
        )
        if partition_path:
            yield from _read_partition(partition_path, partition)

        find_image = _image_finder(root, list_folder, "img_align_celeba" if aligned else "img_celeba")
        for number, tokens in (yield from _read_table(unit, _LANDMARK_TOKENS, "image name and 5 x,y")):
            try:
                values = base.parse_numbers(tokens[1:], unit, number, first_token_number=2)
            except BadInput as error:
                yield error
                continue
            name = tokens[0]
            image_path = find_image(name)
            if image_path is None:
                yield BadInput(unit, f"image not found: {name}", number)
                continue
            yield FaceAnnotation(
                image_path=image_path,
                relative_path=base.relative_path(image_path, root),
                face_index=0,
                landmarks=np.asarray(values, dtype=np.float64).reshape(-1, 2),
                scheme=self.scheme,
                dataset=dataset,
                subset=partition.get(name, "all"),
                box=boxes.get(name),
                origin=f"{unit}:{number}",
            )


def _read_table(path, tokens_per_record, record_description):
    """Yields BadInput for bad lines; returns [(line number, tokens)] of well-shaped records.

    The count on line 1 is checked against the records present, which is how a truncated
    CelebA list shows.
    """
    try:
        lines = base.read_lines(path)
    except BadInput as error:
        yield error
        return []
    if len(lines) < 2:
        yield BadInput(path, "truncated file: expected a record count on line 1 and a header on line 2")
        return []
    try:
        count = int(lines[0].strip())
    except ValueError:
        yield BadInput(path, f"expected the record count on line 1, found {lines[0].strip()!r}", 1)
        return []
    records, present = [], 0
    for number, text in enumerate(lines[2:], start=3):
        tokens = text.split()
        if not tokens:
            continue
        present += 1
        if len(tokens) != tokens_per_record:
            yield BadInput(path, f"expected {tokens_per_record} tokens ({record_description}), found {len(tokens)}", number)
            continue
        records.append((number, tokens))
    if present != count:
        yield BadInput(path, f"line 1 says {count} records but the file has {present}", 1)
    return records


def _read_boxes(path, boxes):
    """Fills `boxes` {image name: (x_min, y_min, x_max, y_max)}; yields BadInput for bad lines."""
    for number, tokens in (yield from _read_table(path, _BBOX_TOKENS, "image_id x_1 y_1 width height")):
        try:
            x, y, width, height = base.parse_numbers(tokens[1:], path, number, first_token_number=2)
        except BadInput as error:
            yield error
            continue
        # x_1, y_1 is the first pixel: the box covers columns x_1 .. x_1 + width - 1.
        boxes[tokens[0]] = (x - 0.5, y - 0.5, x + width - 0.5, y + height - 0.5)


def _read_partition(path, partition):
    """Fills `partition` {image name: train|val|test}; yields BadInput for bad lines."""
    try:
        lines = base.read_lines(path)
    except BadInput as error:
        yield error
        return
    for number, text in enumerate(lines, start=1):
        tokens = text.split()
        if not tokens:
            continue
        if len(tokens) != 2 or tokens[1] not in _PARTITIONS:
            yield BadInput(path, f"expected 'image_name 0|1|2', found {text.strip()!r}", number)
            continue
        partition[tokens[0]] = _PARTITIONS[tokens[1]]


def _image_finder(root, list_folder, image_folder_name):
    """A function name -> image path (or None) over the places CelebA images are unpacked to.

    All images of one list share a folder, so the folder that last held one is tried first.
    """
    folders = []
    for parent in (list_folder, os.path.dirname(list_folder), root):
        for sub in (image_folder_name, os.path.join("Img", image_folder_name), ""):
            folder = files.normalised(os.path.join(parent, sub))
            if folder not in folders:
                folders.append(folder)
    last_hit = []

    def find(name):
        for folder in last_hit + folders:
            path = os.path.join(folder, name)
            if files.is_regular_file(path):
                last_hit[:] = [folder]
                return path
        return None

    return find
