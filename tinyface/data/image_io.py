"""Loading a source image as 8-bit RGB pixels, the one way every reader's image is read."""

import re

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tinyface.data.errors import BadInput
from tinyface.data import files
from tinyface.data.files import require_regular_file

# The largest image decoded, in pixels, checked on the header before any pixel is decoded. A
# 30000x30000 PNG is a few hundred bytes on disk but 2.7 GB of RGB (and four times that while
# compositing alpha in float): one such file must be a bad record, not a dead worker. 50
# megapixels is above any photo of 300W, WFLW, CelebA or LFW and above most camera sensors,
# and stays under PIL's own limit (89 megapixels warns, 179 raises), so ours always decides.
MAX_IMAGE_PIXELS = 50_000_000

# Modes whose samples are 16 bit. PNG gives "I;16"; PIL reads 16-bit PGM as "I" (32-bit ints
# holding 0..65535). PIL's own convert("RGB") clips these at 255 instead of scaling them.
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16L", "I;16B", "I;16N")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def load_rgb(path, upright=False):
    """Returns the image at `path` as a uint8 (H, W, 3) array of its stored pixels.

    EXIF orientation is NOT applied by default: landmark annotations refer to the pixels as
    stored in the file, and rotating the image would move the face away from its landmarks.
    upright=True applies it (the photo as viewers show it: `tinyface predict` on photos, whose
    face boxes and outputs are in the pixels the user sees; exif_orientation() says how the
    stored pixels were turned).
    Raises BadInput(path, problem) for a missing, empty, undecodable, truncated or too large
    file, or a path that is not a regular file (a FIFO would block the read forever).
    """
    if require_regular_file(path, "image file").st_size == 0:
        raise BadInput(path, "empty image file (0 bytes)")
    try:
        with Image.open(_source(path)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise BadInput(path, f"image too large: {width}x{height} = {width * height} pixels, "
                                     f"above the limit of {MAX_IMAGE_PIXELS}")
            # PIL decodes lazily; load() forces the full decode so a truncated file fails here
            # rather than later, half-read, inside a Beam worker.
            image.load()
            return _to_rgb_array(ImageOps.exif_transpose(image) if upright else image)
    except Image.DecompressionBombError as error:
        # PIL refuses on its own above twice its limit, before we see the header's size.
        pixels = re.search(r"\((\d+) pixels\)", str(error))
        size = f"{pixels.group(1)} pixels" if pixels else "more pixels than PIL allows"
        raise BadInput(path, f"image too large: {size}, above the limit of {MAX_IMAGE_PIXELS}") from None
    except FileNotFoundError:
        raise BadInput(path, "image file not found") from None
    except PermissionError:
        raise BadInput(path, "cannot read image file: permission denied") from None
    except UnidentifiedImageError:
        # PIL's message repeats the path; ours names the file once, at the start of the line.
        raise BadInput(path, "cannot decode image: not a PNG, JPEG, PPM/PGM or BMP image") from None
    except (OSError, SyntaxError, EOFError, ValueError) as error:
        if isinstance(error, EOFError) or "truncated" in str(error).lower():
            raise BadInput(path, "truncated image") from None
        raise BadInput(path, f"cannot decode image: {error}") from None


def _source(path):
    """What PIL opens: a local path itself (PIL reads it lazily), a URI's bytes in memory."""
    return files.open_binary(path) if files.is_uri(path) else path


def _to_rgb_array(image):
    mode = image.mode
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in _ALPHA_MODES:
        return _composite_over_black(np.asarray(image.convert("RGBA")))
    if mode in _SIXTEEN_BIT_MODES:
        samples = np.asarray(image).astype(np.float64)
        gray = np.clip(np.rint(samples / 257.0), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode != "RGB":
        image = image.convert("RGB")
    return np.array(image, dtype=np.uint8)


def _composite_over_black(rgba):
    # Black, because the crops pad outside the image with zeros: a transparent region then
    # looks the same as "no pixels here", and the colour under a zero alpha (often garbage
    # left by editors) never reaches the training data.
    rgb = rgba[:, :, :3].astype(np.float64)
    alpha = rgba[:, :, 3:4].astype(np.float64) / 255.0
    return np.rint(rgb * alpha).astype(np.uint8)


def exif_orientation(path):
    """The EXIF orientation tag (1..8) of an image file; 1 (as stored) when it has none."""
    try:
        with Image.open(_source(path)) as image:
            value = image.getexif().get(_ORIENTATION_TAG, 1)
    except (OSError, SyntaxError, ValueError):
        return 1
    return value if value in _UPRIGHT_TRANSFORMS else 1


_ORIENTATION_TAG = 0x0112
# How each EXIF orientation's stored pixel (x, y) lands in the upright image, for a stored image
# of width w and height h (pixel centres at integers): the transposes PIL's exif_transpose applies.
_UPRIGHT_TRANSFORMS = {
    1: lambda x, y, w, h: (x, y),
    2: lambda x, y, w, h: (w - 1 - x, y),                 # mirrored left-right
    3: lambda x, y, w, h: (w - 1 - x, h - 1 - y),         # turned 180 degrees
    4: lambda x, y, w, h: (x, h - 1 - y),                 # mirrored top-bottom
    5: lambda x, y, w, h: (y, x),                         # transposed
    6: lambda x, y, w, h: (h - 1 - y, x),                 # stored turned 90 degrees anticlockwise
    7: lambda x, y, w, h: (h - 1 - y, w - 1 - x),         # transversed
    8: lambda x, y, w, h: (y, w - 1 - x),                 # stored turned 90 degrees clockwise
}


def stored_to_upright(points, orientation, stored_size):
    """(K, 2) points in a file's stored pixels -> the same points in its upright pixels
    (load_rgb(path, upright=True)); `stored_size` is the stored (width, height)."""
    points = np.asarray(points, dtype=np.float64)
    x, y = _UPRIGHT_TRANSFORMS[orientation](points[:, 0], points[:, 1], *stored_size)
    return np.stack([np.broadcast_to(x, points[:, 0].shape), np.broadcast_to(y, points[:, 1].shape)], axis=1)
