"""dlib imglab XML: several faces per image, each a <box> holding 68 named <part>s.

    <dataset><images>
      <image file='a.jpg'>                       <- path relative to the XML's folder
        <box top='90' left='194' width='37' height='37' [ignore='1']>
          <part name='00' x='201' y='107'/> ...  <- 0-based integer pixels
"""

import dataclasses
import math
import os
import xml.parsers.expat
from typing import Dict, List

import numpy as np

from tinyface.data import files, landmarks
from tinyface.data.ingestion.annotation import FaceAnnotation
from tinyface.data.errors import BadInput
from tinyface.data.files import is_regular_file, require_regular_file
from tinyface.data.ingestion.readers import base

_EXPECTED_PARTS = landmarks.NUM_POINTS[landmarks.IBUG68]
_SNIFF_BYTES = 65536


@dataclasses.dataclass
class XmlPart:
    attributes: Dict[str, str]
    line: int


@dataclasses.dataclass
class XmlBox:
    attributes: Dict[str, str]
    line: int
    parts: List[XmlPart] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class XmlImage:
    attributes: Dict[str, str]
    line: int
    boxes: List[XmlBox] = dataclasses.field(default_factory=list)


class DlibXmlReader(base.Reader):
    name = "dlib_xml"
    scheme = landmarks.IBUG68
    default_dataset = "dlib"

    def matches(self, path):
        if not path.lower().endswith(".xml") or not is_regular_file(path):
            return False  # (opening a FIFO to sniff it would block forever)
        try:
            with files.open_binary(path) as handle:
                head = handle.read(_SNIFF_BYTES)
        except OSError:
            return False
        return b"<dataset" in head and b"<images" in head

    def parse_unit(self, root, unit, dataset=None):
        root, unit = files.absolute(root), files.absolute(unit)
        try:
            images = parse_dlib_xml(unit)
        except BadInput as error:
            yield error
            return
        dataset = dataset or self.default_dataset
        subset = os.path.splitext(os.path.basename(unit))[0]
        folder = os.path.dirname(unit)
        for image in images:
            kept = [(index, box) for index, box in enumerate(image.boxes)
                    if box.attributes.get("ignore", "0").strip() != "1"]  # ignore='1': "not a face to learn from"
            if not kept:
                continue
            file_name = image.attributes.get("file")
            if not file_name:
                yield BadInput(unit, "<image> has no 'file' attribute", image.line)
                continue
            image_path = files.normalised(os.path.join(folder, file_name))
            if not files.is_present(image_path):  # there but unreadable: load_rgb says why
                yield BadInput(unit, f"image not found: {image_path}", image.line)
                continue
            relative = base.relative_path(image_path, root)
            # face_index is the box's position in its <image>, so ids stay put when another
            # box is ignored or bad.
            for index, box in kept:
                try:
                    box_corners, points = _box_and_points(unit, box)
                except BadInput as error:
                    yield error
                    continue
                yield FaceAnnotation(
                    image_path=image_path,
                    relative_path=relative,
                    face_index=index,
                    landmarks=points,
                    scheme=self.scheme,
                    dataset=dataset,
                    subset=subset,
                    box=box_corners,
                    origin=f"{unit}:{box.line}",
                )


def parse_dlib_xml(path):
    """The <image> elements of an imglab XML with their boxes and parts (and line numbers).

    Raises BadInput with the parser's line number on an XML syntax error or a DTD.
    """
    require_regular_file(path, "annotation file")
    parser = xml.parsers.expat.ParserCreate()
    images = []
    open_elements = []

    # No DTD at all: entity declarations are how an XML "bomb" makes a few kilobytes expand
    # into gigabytes (nested entities) or reach outside the file (external entities), and
    # imglab never writes a <!DOCTYPE>. Refusing it in the stdlib parser is all defusedxml
    # would do for us here, without another pinned dependency; raising from the handler stops
    # expat before any entity is declared, whatever limits the linked expat has.
    def refuse_dtd(name, *_):
        raise BadInput(path, f"XML with a document type declaration (<!DOCTYPE {name}>) is not accepted: "
                             "imglab files have none, and its entities could expand without bound",
                       parser.CurrentLineNumber)

    def start(name, attributes):
        line = parser.CurrentLineNumber
        parent = open_elements[-1] if open_elements else None
        if name == "image" and open_elements[-2:] == ["dataset", "images"]:
            images.append(XmlImage(attributes, line))
        elif name == "box" and parent == "image" and images:
            images[-1].boxes.append(XmlBox(attributes, line))
        elif name == "part" and parent == "box" and images and images[-1].boxes:
            images[-1].boxes[-1].parts.append(XmlPart(attributes, line))
        open_elements.append(name)

    def end(name):
        open_elements.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = refuse_dtd
    try:
        with files.open_binary(path) as handle:
            parser.ParseFile(handle)
    except xml.parsers.expat.ExpatError as error:
        message = xml.parsers.expat.ErrorString(error.code)
        raise BadInput(path, f"XML syntax error: {message}", error.lineno) from None
    except OSError as error:
        raise BadInput(path, f"cannot read annotation file: {error.strerror or error}") from None
    return images


def _numbers(path, element, names):
    """The attributes `names` of an XML element as floats; BadInput naming a bad attribute."""
    values = []
    for name in names:
        written = element.attributes[name]
        try:
            value = float(written)
        except ValueError:
            raise BadInput(path, f"malformed number {written!r} in attribute {name}", element.line) from None
        if not math.isfinite(value):
            raise BadInput(path, f"non-finite number {written!r} in attribute {name}", element.line)
        values.append(value)
    return values


def _box_and_points(path, box):
    """(x_min, y_min, x_max, y_max) and the (68, 2) points of one <box>; raises BadInput."""
    names = ("left", "top", "width", "height")
    missing = [name for name in names if name not in box.attributes]
    if missing:
        raise BadInput(path, f"<box> is missing attribute(s) {', '.join(missing)}", box.line)
    left, top, width, height = _numbers(path, box, names)
    # dlib boxes are inclusive pixel ranges: columns left .. left + width - 1.
    corners = (left - 0.5, top - 0.5, left + width - 0.5, top + height - 0.5)

    points = {}
    for part in box.parts:
        name = part.attributes.get("name", "")
        try:
            index = int(name)
        except ValueError:
            raise BadInput(path, f"part name {name!r} is not a point index", part.line) from None
        if index in points:
            raise BadInput(path, f"duplicate part {name!r}", part.line)
        if "x" not in part.attributes or "y" not in part.attributes:
            raise BadInput(path, f"part {name!r} is missing x or y", part.line)
        points[index] = _numbers(path, part, ("x", "y"))

    absent = [index for index in range(_EXPECTED_PARTS) if index not in points]
    if len(points) != _EXPECTED_PARTS or absent:
        problem = f"expected {_EXPECTED_PARTS} parts named 00-{_EXPECTED_PARTS - 1}, found {len(points)}"
        if absent:
            shown = ", ".join(f"{index:02d}" for index in absent[:8])
            problem += f"; missing {shown}" + (", ..." if len(absent) > 8 else "")
        raise BadInput(path, problem, box.line)
    ordered = [points[index] for index in range(_EXPECTED_PARTS)]  # by name, not document order
    return corners, np.asarray(ordered, dtype=np.float64)
