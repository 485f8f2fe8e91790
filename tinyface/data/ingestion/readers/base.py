"""The Reader interface every dataset format implements, and the parsing rules they share.

A reader turns one dataset root into faces in two steps so ingestion can fan out over units
(in Beam): `list_units(root)` names the annotation files, `parse_unit(root, unit, dataset)`
yields a FaceAnnotation per face and a BadInput (yielded, never raised) per bad record, so
the caller decides whether to count bad records or stop at the first (strict mode).

Coordinates leave a reader 0-based in source-image pixels, pixel centres at integers (the
convention of tinyface.features). Boxes are (x_min, y_min, x_max, y_max) in those same
coordinates; a box given as "first pixel + width" covers [first - 0.5, first + width - 0.5].
"""

import abc
import collections
import math
import os

import numpy as np

from tinyface.data.ingestion.annotation import FaceAnnotation
from tinyface.data.errors import BadInput
from tinyface.data import files
from tinyface.data.files import is_regular_file, require_regular_file

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".bmp")


class Reader(abc.ABC):
    """One annotation format. Subclasses set the three attributes and implement the methods."""

    name = None             # registry key, e.g. "300w"
    scheme = None           # tinyface.data.landmarks scheme of the faces it yields
    default_dataset = None  # dataset name used when the caller gives none

    @abc.abstractmethod
    def matches(self, path):
        """Whether the file at `path` is an annotation file of this format (used for detection)."""

    @abc.abstractmethod
    def parse_unit(self, root, unit, dataset=None):
        """Yields FaceAnnotation for each face in `unit` and BadInput for each bad record."""

    def list_units(self, root):
        """Absolute paths of this format's annotation files under `root`, sorted.

        Folders are offered to `matches` too: a folder named like an annotation file
        ("face.pts/") is then reported when it cannot be read, instead of silently missing.
        """
        units = [path for path in walk_files(root, with_folders=True) if self.matches(path)]
        if not units:
            raise BadInput(root, f"no {self.name} annotations found")
        return units

    def parse_root(self, root, dataset=None):
        """All faces and bad records under `root`, unit by unit (for tools that run in one process)."""
        for unit in self.list_units(root):
            yield from self.parse_unit(root, unit, dataset)


class LineListReader(Reader):
    """A format with one face per line of a list file (WFLW, LFW 5-point): subclasses parse a
    line in `_parse_line(root, unit, number, tokens, dataset, subset, faces_per_image)`."""

    def parse_unit(self, root, unit, dataset=None):
        root, unit = files.absolute(root), files.absolute(unit)
        try:
            lines = read_lines(unit)
        except BadInput as error:
            yield error
            return
        dataset = dataset or self.default_dataset
        subset = subset_from_list_name(unit)
        faces_per_image = collections.Counter()  # face_index of the next face of each image
        for number, text in enumerate(lines, start=1):
            tokens = text.split()
            if not tokens:
                continue
            try:
                yield self._parse_line(root, unit, number, tokens, dataset, subset, faces_per_image)
            except BadInput as error:
                yield error

    def _annotation(self, root, unit, number, image_path, points, box, dataset, subset,
                    faces_per_image, attributes=None):
        """The FaceAnnotation of line `number`; faces of one image are numbered in order of appearance."""
        relative = relative_path(image_path, root)
        face_index = faces_per_image[relative]
        faces_per_image[relative] += 1
        return FaceAnnotation(
            image_path=image_path,
            relative_path=relative,
            face_index=face_index,
            landmarks=np.asarray(points, dtype=np.float64).reshape(-1, 2),
            scheme=self.scheme,
            dataset=dataset,
            subset=subset,
            box=tuple(box),
            attributes=attributes or {},
            origin=f"{unit}:{number}",
        )

    @abc.abstractmethod
    def _parse_line(self, root, unit, number, tokens, dataset, subset, faces_per_image):
        """Returns the FaceAnnotation of one line, or raises BadInput naming `unit` and `number`."""


def walk_files(root, with_folders=False):
    """Every file under `root` (and every folder below it, if `with_folders`), recursively,
    as sorted absolute paths (URIs under a URI root).

    Symbolic links to folders are not followed (a link loop cannot trap the walk); a link
    whose target cannot be resolved (broken, or a loop) is listed as a file, so reading it
    reports the problem with its name.
    """
    root = files.absolute(root)
    if not files.is_dir(root):
        raise BadInput(root, "not a directory")
    paths = []
    for folder, folders, names in files.walk(root):
        paths.extend(os.path.join(folder, name) for name in names)
        if with_folders:
            paths.extend(os.path.join(folder, name) for name in folders)
    return sorted(paths)


def read_lines(path):
    """The lines of a text annotation file, without line ends; BadInput if it cannot be read
    or holds no text at all.

    Undecodable bytes become U+FFFD so they surface as a malformed-number or missing-image
    record on their own line instead of failing the whole file.
    """
    require_regular_file(path, "annotation file")
    try:
        with files.open_text(path) as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        raise BadInput(path, f"cannot read annotation file: {error.strerror or error}") from None
    if not any(line.strip() for line in lines):
        raise BadInput(path, "empty annotation file (no text)")
    return lines


def first_line_tokens(path, limit=65536):
    """Whitespace tokens of the first non-blank line among the first few, for format sniffing."""
    if not is_regular_file(path):
        return []  # a FIFO would block the sniffing read forever
    try:
        with files.open_text(path) as handle:
            for _ in range(8):
                line = handle.readline(limit)
                if not line:
                    break
                if line.strip():
                    return line.split()
    except OSError:
        # Sniffing only decides which format a file looks like; an unreadable file looks like
        # none, and reading it for real reports the error with its path.
        return []
    return []


def is_number(token):
    try:
        float(token)
    except ValueError:
        return False
    return True


def parse_numbers(tokens, path, line, first_token_number=1):
    """Floats of `tokens`; BadInput naming the token for a malformed or non-finite number.

    `first_token_number` is the 1-based position of tokens[0] on its line, for the message.
    """
    values = []
    for position, token in enumerate(tokens, start=first_token_number):
        try:
            value = float(token)
        except ValueError:
            raise BadInput(path, f"malformed number {token!r} (token {position})", line) from None
        if not math.isfinite(value):
            raise BadInput(path, f"non-finite number {token!r} (token {position})", line)
        values.append(value)
    return values


def first_existing(candidates):
    """The first path in `candidates` that is a regular file; else the first that is there
    but is not one (a broken link, a link loop, a FIFO: loading it then says which); else None.
    Folders never count: an image is never a folder of the same name."""
    candidates = list(candidates)
    for candidate in candidates:
        if is_regular_file(candidate):
            return candidate
    for candidate in candidates:
        if files.is_present(candidate) and not files.is_dir(candidate):
            return candidate
    return None


def image_beside(annotation_path):
    """The image with the annotation file's stem in its folder (extension case-insensitive)."""
    folder, file_name = os.path.split(annotation_path)
    stem = os.path.splitext(file_name)[0]
    spellings = [ext for extension in IMAGE_EXTENSIONS for ext in (extension, extension.upper())]
    found = first_existing(os.path.join(folder, stem + ext) for ext in spellings)
    if found is not None:
        return found
    # Mixed-case extensions (".Jpg") are rare; only then pay for listing the folder.
    try:
        names = sorted(files.list_dir(folder))
    except OSError:
        return None
    for name in names:
        name_stem, ext = os.path.splitext(name)
        if name_stem == stem and ext.lower() in IMAGE_EXTENSIONS:
            return os.path.join(folder, name)
    return None


def describe_image_beside(annotation_path):
    """How image_beside() searched, for a missing-image message: "/data/a(.png|.jpg|...)"."""
    return os.path.splitext(annotation_path)[0] + "(" + "|".join(IMAGE_EXTENSIONS) + ")"


def relative_path(path, root):
    """`path` relative to `root` with '/' separators (part of every face id, so OS-independent)."""
    return files.relative(path, files.absolute(root)).replace(os.sep, "/")


def subset_from_list_name(path):
    """"train" / "test" when the list file's name says so (WFLW, CUHK LFW lists), else "all"."""
    stem = os.path.splitext(os.path.basename(path))[0].lower()
    if "train" in stem:
        return "train"
    if "test" in stem:
        return "test"
    return "all"

