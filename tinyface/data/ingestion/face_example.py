"""One annotated face -> its feature dict / tf.Example: load, check, crop, measure.

The keys and their meaning are tinyface.features'. Geometry is checked here, where the image
size is first known, so a landmark file that does not fit its image fails with the
annotation's file and line rather than as a strange crop.
"""

import io

import numpy as np
from PIL import Image

from tinyface import features
from tinyface.data.ingestion import attributes, crop
from tinyface.data import image_io
from tinyface.data import landmarks as landmark_schemes
from tinyface.data.errors import BadInput, display_path
from tinyface.data.example_codec import to_example

# A landmark may lie this share of the image size beyond an edge (faces cut by the frame are
# annotated outside it); further out, the annotation belongs to another image or is garbage.
_OUTSIDE_TOLERANCE = 0.25


def face_features(annotation, hr_size=128, margin=0.25):
    """The feature dict of one face (keys from tinyface.features); BadInput for bad geometry."""
    path, line = annotation.origin_file_and_line()
    _check_utf8_names(annotation, path, line)
    image = image_io.load_rgb(annotation.image_path)
    _check_landmarks(annotation, image.shape, path, line)
    _check_box(annotation, path, line)
    try:
        yaw = attributes.estimate_yaw(annotation.landmarks, annotation.scheme)
    except ValueError as error:
        raise BadInput(path, f"degenerate landmarks: {error}", line) from None

    cropped = crop.crop_face(image, annotation, hr_size=hr_size, margin=margin)
    values = {
        features.FACE_ID: annotation.face_id,
        features.HR_IMAGE: _png_bytes(cropped.image),
        features.LANDMARKS: cropped.landmarks.ravel(),
        features.LANDMARK_SCHEME: annotation.scheme,
        features.DATASET: annotation.dataset,
        features.SUBSET: annotation.subset,
        features.SOURCE_PATH: annotation.relative_path,
        features.YAW: yaw,
        features.POSE_BUCKET: attributes.pose_bucket(yaw),
        features.FACE_SIZE: cropped.face_size,
        features.FACE_SIZE_BUCKET: attributes.face_size_bucket(cropped.face_size),
        features.BRIGHTNESS: attributes.brightness(cropped.image),
        features.SHARPNESS: attributes.sharpness(cropped.image),
    }
    landmarks68 = landmark_schemes.to_ibug68(cropped.landmarks, annotation.scheme)
    values[features.HAS_LANDMARKS_68] = int(landmarks68 is not None)
    if landmarks68 is not None:
        values[features.LANDMARKS_68] = np.asarray(landmarks68).ravel()
    for key in features.WFLW_ATTRIBUTES:
        if key in annotation.attributes:
            values[key] = int(annotation.attributes[key])
    return values


def face_example(annotation, hr_size=128, margin=0.25):
    """face_features() as a tf.train.Example."""
    return to_example(face_features(annotation, hr_size=hr_size, margin=margin))


def _check_utf8_names(annotation, path, line):
    # Names become bytes features (face_id, source_path, subset) and report lines, which are
    # UTF-8. A file name of other bytes (Latin-1 from an old archive) reaches Python as lone
    # surrogates; it is the user's to rename, and must not kill the worker that encodes it.
    # The image is named by its full path, so the user finds the file to rename.
    for what, name, shown in (("image path", annotation.relative_path, annotation.image_path),
                              ("subset", annotation.subset, annotation.subset),
                              ("dataset name", annotation.dataset, annotation.dataset)):
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise BadInput(path, f"{what} is not valid UTF-8: {display_path(shown)} (rename it)", line) from None


def _check_landmarks(annotation, image_shape, path, line):
    points = np.asarray(annotation.landmarks, dtype=np.float64)
    expected = landmark_schemes.NUM_POINTS.get(annotation.scheme)
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] != expected:
        raise BadInput(path, f"expected {expected} landmarks for {annotation.scheme}, found shape {points.shape}", line)
    if not np.isfinite(points).all():
        index = int(np.flatnonzero(~np.isfinite(points).all(axis=1))[0])
        raise BadInput(path, f"landmark {index} is not finite: {tuple(points[index])}", line)
    height, width = image_shape[:2]
    slack = np.array([width, height]) * _OUTSIDE_TOLERANCE
    low, high = -slack, np.array([width - 1, height - 1]) + slack
    outside = ((points < low) | (points > high)).any(axis=1)
    if outside.any():
        index = int(np.flatnonzero(outside)[0])
        x, y = points[index]
        raise BadInput(path, f"landmark {index} at ({x:.1f}, {y:.1f}) is far outside the {width}x{height} image", line)


def _check_box(annotation, path, line):
    x_min, y_min, x_max, y_max = crop.face_box(annotation)
    if annotation.box is not None and not (x_max > x_min and y_max > y_min):
        raise BadInput(path, f"degenerate face box ({x_min:g}, {y_min:g}, {x_max:g}, {y_max:g}): zero width or height", line)
    if annotation.box is None and not max(x_max - x_min, y_max - y_min) > 0:
        raise BadInput(path, "degenerate face: all landmarks at one point", line)


def _png_bytes(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
