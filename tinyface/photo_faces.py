"""Which faces of an input image `tinyface predict` answers, and where: the model's inputs cut
from whole photos, and the way back from SR pixels to the photo's pixels. No TensorFlow.

Where the faces come from, per image (FacesFrom):
- BOX: the boxes given on the command line (--box x,y,w,h: first pixel and size, as dlib and
  CelebA write boxes), used as an annotation's box is;
- ANNOTATION: an iBUG 300-W `.pts` file beside the image (same stem): its 68 landmarks'
  bounding box, exactly as the 300w reader's faces are cropped;
- DETECTOR: tinyface.data.ingestion.face_detector (OpenCV's frontal-face Haar cascade), its square mapped
  to the same landmark-box convention;
- WHOLE: the image already is one face crop; it is resized whole to the model's input (no crop,
  as before photos were supported). Mode AUTO takes images no larger than the model's SR image
  (128 px) this way, since that is the size of a face crop, and finds the faces in larger ones.

Each found face is cropped as the pipeline crops it (tinyface.data.ingestion.crop: a square `margin` of the
face size wider on every side, zero outside the photo, bicubic to the SR size), then made the
model's LR input with the training bicubic, as the pairs' LR images are made. Photos are read
upright (EXIF orientation applied): boxes, landmarks_image and the drawn copy are in the pixels
a viewer shows; a .pts beside a turned photo is turned with it.
"""

import dataclasses
import os
from typing import List, Optional, Tuple

import numpy as np

from tinyface.data.ingestion import crop, face_detector
from tinyface.data import image_io
from tinyface.data import landmarks as landmark_schemes
from tinyface.data.ingestion.annotation import FaceAnnotation
from tinyface.data.degradation.degrade import bicubic_resize
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers.ibug_pts import parse_pts

AUTO, DETECT, WHOLE = "auto", "detect", "whole"
MODES = (AUTO, DETECT, WHOLE)
BOX, ANNOTATION, DETECTOR = "box", "annotation", "detector"
# Below this side an image holds too few pixels for any face: even the x8 model's 16 px input
# would be mostly invented by the upscale. 1x1 or 3x500 "images" are mistakes to report.
MIN_IMAGE_SIDE = 8


@dataclasses.dataclass(frozen=True)
class FaceInput:
    """One face of an image: its box and crop window in the image's pixels, and the model input."""

    box: Tuple[float, float, float, float]      # x_min, y_min, x_max, y_max (pixel centres at integers)
    window: Optional[Tuple[int, int, int]]      # (left, top, side) of the crop; None for a whole image
    lr: np.ndarray                              # uint8 (lr, lr, 3)


@dataclasses.dataclass(frozen=True)
class ImageFaces:
    path: str
    size: Tuple[int, int]                       # (width, height), upright
    faces_from: str                             # BOX, ANNOTATION, DETECTOR or WHOLE
    faces: List[FaceInput]
    note: str = ""                              # how a WHOLE image was resized ("" when it was not)


def parse_box(text):
    """"x,y,w,h" (first pixel and size, numbers) -> face box (x_min, y_min, x_max, y_max)."""
    try:
        x, y, width, height = (float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--box must be x,y,w,h (four numbers), got {text!r}") from None
    if not (width > 0 and height > 0):
        raise ValueError(f"--box must have a positive width and height, got {text!r}")
    # Pixel x covers [x - 0.5, x + 0.5): a box from pixel x, w pixels wide, spans [x - 0.5, x + w - 0.5).
    return (x - 0.5, y - 0.5, x + width - 0.5, y + height - 0.5)


def annotation_beside(image_path):
    """The .pts file with the image's stem in its folder, or None."""
    stem = os.path.splitext(str(image_path))[0]
    return next((stem + ext for ext in (".pts", ".PTS") if os.path.isfile(stem + ext)), None)


def _annotated_box(pts_path, image_path, orientation, stored_size):
    points = stored_to_upright_points(parse_pts(pts_path) - 1.0, orientation, stored_size)  # 1-based -> 0-based
    annotation = FaceAnnotation(image_path=str(image_path), relative_path="", face_index=0, landmarks=points,
                                scheme=landmark_schemes.IBUG68, dataset="")
    return crop.face_box(annotation)


def stored_to_upright_points(points, orientation, stored_size):
    return image_io.stored_to_upright(points, orientation, stored_size) if orientation != 1 else points


def image_faces(path, lr_size, sr_size, mode=AUTO, boxes=None, margin=0.25):
    """The ImageFaces of the image at `path` for a model of input lr_size and output sr_size.

    BadInput naming the file for an unreadable image, one smaller than MIN_IMAGE_SIDE, a box
    outside the image, or a bad .pts beside it."""
    path = str(path)
    image = image_io.load_rgb(path, upright=True)
    height, width = image.shape[:2]
    if min(width, height) < MIN_IMAGE_SIDE:
        raise BadInput(path, f"image is {width}x{height} pixels: too small to hold a face "
                             f"(at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE})")
    if mode not in MODES:
        raise ValueError(f"faces mode must be one of {MODES}, got {mode!r}")

    pts = annotation_beside(path)
    if boxes:
        faces_from, found = BOX, [tuple(box) for box in boxes]
        for box in found:
            if box[0] >= width - 0.5 or box[1] >= height - 0.5 or box[2] <= -0.5 or box[3] <= -0.5:
                raise BadInput(path, f"box {_xywh(box)} lies outside the {width}x{height} image")
    elif mode == WHOLE or (mode == AUTO and pts is None and max(width, height) <= sr_size):
        return _whole(path, image, lr_size)
    elif pts is not None and mode != DETECT:
        orientation = image_io.exif_orientation(path)
        stored = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
        faces_from, found = ANNOTATION, [_annotated_box(pts, path, orientation, stored)]
    else:
        faces_from, found = DETECTOR, face_detector.detect_faces(image)

    faces = []
    for box in found:
        hr, window = crop.crop_box(image, box, hr_size=sr_size, margin=margin)
        faces.append(FaceInput(box=tuple(float(v) for v in box), window=window, lr=bicubic_resize(hr, lr_size)))
    return ImageFaces(path=path, size=(width, height), faces_from=faces_from, faces=faces)


def prepare_lr(image, lr_size):
    """(uint8 (lr, lr, 3) model input, note) for an RGB uint8 (H, W, 3) image of any size.

    Faces are assumed already cropped, so the whole image is resized to the square LR input
    (no crop: cropping would cut off landmarks near the border) with the same antialiased
    bicubic that made the training inputs. The note says what was done ("" when the image
    already is lr x lr), and warns when the face gets stretched or upscaled.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"prepare_lr expects a uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    height, width = image.shape[:2]
    if (height, width) == (lr_size, lr_size):
        return image, ""
    note = f"resized {width}x{height} -> {lr_size}x{lr_size}"
    if width != height:
        note += f" (aspect ratio {width / height:.2f}, stretched to a square: expects a square face crop)"
    if width < lr_size or height < lr_size:
        note += " (upscaled: smaller than the model's input)"
    return bicubic_resize(image, lr_size), note


def _whole(path, image, lr_size):
    height, width = image.shape[:2]
    lr, note = prepare_lr(image, lr_size)
    return ImageFaces(path=path, size=(width, height), faces_from=WHOLE, note=note,
                      faces=[FaceInput(box=(-0.5, -0.5, width - 0.5, height - 0.5), window=None, lr=lr)])


def to_image_pixels(face, image_size, landmarks, sr_size):
    """A face's landmarks in SR pixels -> the same points in its image's pixels (0-based,
    pixel centres at integers): through the crop window, or the whole-image resize."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if face.window is not None:
        return crop.map_from_crop(landmarks, *face.window, sr_size)
    width, height = image_size
    return (landmarks + 0.5) * (np.array([width, height], dtype=np.float64) / sr_size) - 0.5


def _xywh(box):
    x_min, y_min, x_max, y_max = box
    return f"{x_min + 0.5:g},{y_min + 0.5:g},{x_max - x_min:g},{y_max - y_min:g}"
