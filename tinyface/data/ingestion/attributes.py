"""Per-face attributes for slicing and drift checks: yaw, pose and size buckets, light, focus."""

import math

import numpy as np

from tinyface.data import landmarks as landmark_schemes

# iBUG-68 points of the yaw estimate: the two eyes (subject's right 36-41, left 42-47) and
# the nose tip.
_RIGHT_EYE_68 = list(range(36, 42))
_LEFT_EYE_68 = list(range(42, 48))
_NOSE_TIP_68 = 30
# Five-point order: left eye, right eye, nose, ... where "left eye" is the one on the image's
# left, i.e. the subject's right eye, as in iBUG's numbering.
_RIGHT_EYE_5, _LEFT_EYE_5, _NOSE_5 = 0, 1, 2

_BT601 = np.array([0.299, 0.587, 0.114])


def estimate_yaw(landmarks, scheme):
    """Coarse head yaw in degrees from 2-D landmarks; positive = the face turned to ITS left.

    The subject's left is the viewer's right: with a positive yaw the nose tip has moved from
    between the eyes towards the right of the image (for an upright face). Mirroring the
    image (and relabelling left/right points) flips the sign; a frontal face gives ~0.

    Model: the nose tip sits in front of the eyes by about half the inter-eye distance
    (adult average: ~3 cm in front of eyes ~6.4 cm apart), so, on the axis from the subject's
    right eye to the left eye, offset(nose - eye midpoint) / half eye distance = tan(yaw).
    Using that axis, not the image x axis, makes the estimate independent of in-plane roll.
    Good to about ten degrees: enough for pose buckets, not for pose estimation.
    ValueError when the eyes coincide (no axis to measure along).
    """
    points = np.asarray(landmarks, dtype=np.float64)
    if scheme == landmark_schemes.FIVE_POINT:
        right_eye, left_eye, nose = points[_RIGHT_EYE_5], points[_LEFT_EYE_5], points[_NOSE_5]
    else:
        points68 = landmark_schemes.to_ibug68(points, scheme)
        if points68 is None:
            raise ValueError(f"no yaw estimate for landmark scheme {scheme!r}")
        right_eye = points68[_RIGHT_EYE_68].mean(axis=0)
        left_eye = points68[_LEFT_EYE_68].mean(axis=0)
        nose = points68[_NOSE_TIP_68]
    eye_axis = left_eye - right_eye
    half_eye_distance = np.linalg.norm(eye_axis) / 2
    if half_eye_distance == 0:
        raise ValueError("no yaw estimate: the two eyes coincide")
    offset = float(np.dot(nose - (right_eye + left_eye) / 2, eye_axis / (2 * half_eye_distance)))
    return math.degrees(math.atan(offset / half_eye_distance))


def pose_bucket(yaw):
    """frontal (|yaw| < 15), semi_profile (< 45) or profile."""
    magnitude = abs(yaw)
    if magnitude < 15:
        return "frontal"
    if magnitude < 45:
        return "semi_profile"
    return "profile"


def face_size_bucket(size):
    """tiny (< 32 px), small (< 64), medium (< 128) or large, by the face box side in source pixels."""
    if size < 32:
        return "tiny"
    if size < 64:
        return "small"
    if size < 128:
        return "medium"
    return "large"


def luma(image):
    """BT.601 luma (0..255 float64) of a uint8 RGB image."""
    return np.asarray(image, dtype=np.float64)[..., :3] @ _BT601


def brightness(image):
    """Mean BT.601 luma of the image, 0..255."""
    return float(luma(image).mean())


def sharpness(image):
    """Variance of the 3x3 (4-neighbour) Laplacian of the luma, over the interior pixels.

    Blur removes high frequencies, so a lower value means a softer image; only comparable
    between images of the same size, which all HR crops are.
    """
    y = luma(image)
    laplacian = y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:] - 4 * y[1:-1, 1:-1]
    return float(laplacian.var()) if laplacian.size else 0.0
