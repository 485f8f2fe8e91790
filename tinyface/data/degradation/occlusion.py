"""Synthetic occluders (sunglasses, a hand, a rectangle) drawn on HR face crops.

The one implementation of occluders: the pair degradation (tinyface.data.degradation) lays
them over real and synthetic HR crops, and the synthetic face renderer (tinyface.data.synth)
over the faces it draws, recording which landmarks they hide (hidden_points).

Occluders are drawn at HR resolution and placed from the iBUG-68 landmarks when they are known
(else from where a centred face crop has its eyes and mouth). The caller applies them to the
image that is downscaled into the LR input only: the HR target stays clean, so training learns
to hallucinate the hidden part (the Pro-UIGAN setting).

An occluder is an alpha mask in [0, 1] (soft, anti-aliased edges) and a colour layer; it is
filled with a plausible surface (dark shaded lenses, skin-toned shaded hand, a smooth coloured
card), never with pure noise, which a network would learn to detect trivially.
"""

import dataclasses

import numpy as np
from scipy import ndimage

NO_OCCLUDER = "none"
RECTANGLE = "rectangle"
HAND = "hand"
SUNGLASSES = "sunglasses"
OCCLUDER_KINDS = (RECTANGLE, HAND, SUNGLASSES)

# Anti-aliasing of the hard shape masks, in HR pixels.
_EDGE_SOFTNESS = 0.7
# A point counts as hidden when the occluder covers at least this share of its pixel.
_HIDDEN_COVERAGE = 0.5

# Where a face crop centred on its face box has its parts when no landmarks are known, as
# fractions of the crop side (close to the iBUG-68 mean shape in a tight face crop).
_DEFAULT_RIGHT_EYE = (0.33, 0.40)
_DEFAULT_LEFT_EYE = (0.67, 0.40)
_DEFAULT_EYE_HALF_WIDTH = 0.075
_DEFAULT_MOUTH = (0.50, 0.76)
_DEFAULT_MOUTH_HALF_WIDTH = 0.14
_DEFAULT_NOSE_TIP = (0.50, 0.60)
_DEFAULT_FACE_BOX = (0.08, 0.15, 0.92, 0.98)


@dataclasses.dataclass(frozen=True)
class _FaceFrame:
    """The few face anchors the occluders are placed from, in HR pixels."""

    right_eye: np.ndarray      # (2,) centre of points 36-41 (subject's right: image left)
    left_eye: np.ndarray       # (2,) centre of points 42-47
    right_eye_points: np.ndarray  # (n, 2) the points a lens must cover
    left_eye_points: np.ndarray
    mouth: np.ndarray          # (2,) centre of points 48-67
    mouth_half_width: float
    nose_tip: np.ndarray       # (2,)
    box: tuple                 # x_min, y_min, x_max, y_max of the face

    @property
    def roll(self):
        """In-plane rotation of the eye line, radians (image y points down)."""
        dx, dy = self.left_eye - self.right_eye
        return float(np.arctan2(dy, dx))

    @property
    def eye_distance(self):
        return float(np.linalg.norm(self.left_eye - self.right_eye))


def _face_frame(size, landmarks68):
    height, width = size
    if landmarks68 is not None:
        points = np.asarray(landmarks68, dtype=np.float64).reshape(68, 2)
        right_eye_points, left_eye_points = points[36:42], points[42:48]
        mouth_points = points[48:68]
        mouth = mouth_points.mean(axis=0)
        return _FaceFrame(
            right_eye=right_eye_points.mean(axis=0),
            left_eye=left_eye_points.mean(axis=0),
            right_eye_points=right_eye_points,
            left_eye_points=left_eye_points,
            mouth=mouth,
            mouth_half_width=float(np.abs(mouth_points[:, 0] - mouth[0]).max()),
            nose_tip=points[30],
            box=(points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()),
        )
    scale = np.array([width, height], dtype=np.float64)

    def at(fraction):
        return np.asarray(fraction) * scale

    def eye_corners(centre):
        half = _DEFAULT_EYE_HALF_WIDTH * width
        return np.array([centre - (half, 0.0), centre + (half, 0.0)])

    right_eye, left_eye = at(_DEFAULT_RIGHT_EYE), at(_DEFAULT_LEFT_EYE)
    x0, y0, x1, y1 = _DEFAULT_FACE_BOX
    return _FaceFrame(
        right_eye=right_eye,
        left_eye=left_eye,
        right_eye_points=eye_corners(right_eye),
        left_eye_points=eye_corners(left_eye),
        mouth=at(_DEFAULT_MOUTH),
        mouth_half_width=_DEFAULT_MOUTH_HALF_WIDTH * width,
        nose_tip=at(_DEFAULT_NOSE_TIP),
        box=(x0 * width, y0 * height, x1 * width, y1 * height),
    )


def _pixel_grid(size):
    ys, xs = np.mgrid[0:size[0], 0:size[1]].astype(np.float64)
    return xs, ys


def _shape_frame(size, centre, angle):
    """Every pixel's coordinates (u, v) in the frame of a shape centred at `centre`, rotated by `angle`."""
    xs, ys = _pixel_grid(size)
    dx, dy = xs - centre[0], ys - centre[1]
    cos, sin = np.cos(angle), np.sin(angle)
    return dx * cos + dy * sin, -dx * sin + dy * cos


def _ellipse(size, centre, half_axes, angle):
    u, v = _shape_frame(size, centre, angle)
    return (u / half_axes[0]) ** 2 + (v / half_axes[1]) ** 2 <= 1.0


def _capsule(size, start, end, radius):
    """Pixels within `radius` of the segment start-end (a finger, a glasses arm)."""
    xs, ys = _pixel_grid(size)
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    direction = end - start
    length_sq = max(float(direction @ direction), 1e-12)
    t = np.clip(((xs - start[0]) * direction[0] + (ys - start[1]) * direction[1]) / length_sq, 0.0, 1.0)
    nearest_x, nearest_y = start[0] + t * direction[0], start[1] + t * direction[1]
    return (xs - nearest_x) ** 2 + (ys - nearest_y) ** 2 <= radius ** 2


def _rotated_rectangle(size, centre, half_sides, angle):
    u, v = _shape_frame(size, centre, angle)
    return (np.abs(u) <= half_sides[0]) & (np.abs(v) <= half_sides[1])


def _soften(mask):
    return np.clip(ndimage.gaussian_filter(mask.astype(np.float64), _EDGE_SOFTNESS), 0.0, 1.0)


def _smooth_texture(size, rng, correlation, amplitude):
    """Low-frequency variation (surface shading), not pixel noise."""
    field = ndimage.gaussian_filter(rng.standard_normal(size), correlation)
    field /= max(float(np.abs(field).max()), 1e-9)
    return amplitude * field


def _sunglasses(image, frame, rng):
    size = image.shape[:2]
    angle = frame.roll
    axis = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-axis[1], axis[0]])
    lens_scale = rng.uniform(1.35, 1.7)
    mask = np.zeros(size, dtype=bool)
    lens_outer_edges = []
    for centre, points, outward in ((frame.right_eye, frame.right_eye_points, -1.0),
                                    (frame.left_eye, frame.left_eye_points, 1.0)):
        offsets = points - centre
        half_width = np.abs(offsets @ axis).max() * lens_scale + 1.5
        half_height = max(np.abs(offsets @ normal).max() * lens_scale + 1.5, 0.7 * half_width)
        mask |= _ellipse(size, centre, (half_width, half_height), angle)
        lens_outer_edges.append(centre + outward * half_width * axis)
    # Bridge between the lenses and arms from the lenses to the sides of the face.
    thickness = max(0.04 * frame.eye_distance, 1.0)
    mask |= _capsule(size, frame.right_eye, frame.left_eye, thickness)
    face_half_width = 0.5 * (frame.box[2] - frame.box[0])
    face_centre_x = 0.5 * (frame.box[0] + frame.box[2])
    for edge, outward in zip(lens_outer_edges, (-1.0, 1.0)):
        reach = max(outward * (face_centre_x + outward * face_half_width * 1.05 - edge[0]), 0.0)
        mask |= _capsule(size, edge, edge + outward * reach * axis, thickness)
    alpha = _soften(mask)
    # Dark tinted lenses, lighter towards the bottom, with a soft specular highlight.
    tint = rng.uniform(10, 45) + rng.uniform(-8, 8, size=3)
    _, ys = _pixel_grid(size)
    eye_y = 0.5 * (frame.right_eye[1] + frame.left_eye[1])
    gradient = 12.0 * np.clip((ys - eye_y) / max(frame.eye_distance, 1.0), -1.0, 1.0)
    colour = tint[None, None, :] + gradient[..., None]
    highlight_centre = frame.right_eye + (-0.15 * frame.eye_distance, -0.12 * frame.eye_distance)
    highlight = _ellipse(size, highlight_centre, (0.12 * frame.eye_distance, 0.06 * frame.eye_distance), angle)
    colour += 60.0 * _soften(highlight)[..., None]
    return alpha, colour


def _skin_tone(image, frame, rng):
    """The face's own skin colour (median around the nose), so the hand looks like a hand."""
    height, width = image.shape[:2]
    x, y = np.round(frame.nose_tip).astype(int)
    radius = max(int(0.08 * frame.eye_distance) + 1, 2)
    patch = image[max(y - 4 * radius, 0):min(y + radius, height), max(x - radius, 0):min(x + radius, width)]
    if patch.size == 0:
        patch = image
    tone = np.median(patch.reshape(-1, 3).astype(np.float64), axis=0)
    return tone * rng.uniform(0.85, 1.1) + rng.uniform(-10, 10, size=3)


def _hand(image, frame, rng):
    size = image.shape[:2]
    eye_distance = max(frame.eye_distance, 4.0)
    site = rng.choice(("mouth", "right_cheek", "left_cheek"))
    if site == "mouth":
        palm_centre = frame.mouth + (0.0, 0.15 * eye_distance)
        finger_angle = -np.pi / 2 + rng.uniform(-0.6, 0.6)  # fingers point up across the mouth
    else:
        eye = frame.right_eye if site == "right_cheek" else frame.left_eye
        palm_centre = 0.45 * eye + 0.55 * frame.mouth + (0.0, 0.1 * eye_distance)
        outward = -1.0 if site == "right_cheek" else 1.0
        palm_centre = palm_centre + (outward * 0.35 * eye_distance, 0.0)
        # Fingers point up and towards the temple: a hand resting on the cheek.
        finger_angle = -np.pi / 2 + outward * rng.uniform(0.1, 0.7)
    palm_size = eye_distance * rng.uniform(0.55, 0.75)
    up = np.array([np.cos(finger_angle), np.sin(finger_angle)])
    across = np.array([-up[1], up[0]])
    mask = _ellipse(size, palm_centre, (0.5 * palm_size, 0.62 * palm_size), finger_angle + np.pi / 2)
    finger_radius = 0.11 * palm_size
    for index, length in enumerate((0.85, 1.0, 0.95, 0.75)):  # index .. little finger
        base = palm_centre + up * 0.45 * palm_size + across * (index - 1.5) * 2.1 * finger_radius
        tip = base + up * length * palm_size * rng.uniform(0.9, 1.1)
        mask |= _capsule(size, base, tip, finger_radius)
    thumb_base = palm_centre - across * 0.4 * palm_size
    thumb_tip = thumb_base + (up * 0.5 - across * 0.55) * palm_size
    mask |= _capsule(size, thumb_base, thumb_tip, 1.15 * finger_radius)
    alpha = _soften(mask)
    # Rounded shading: darker where the shape is thin (finger gaps, rims) than inside the palm.
    body = ndimage.gaussian_filter(mask.astype(np.float64), max(finger_radius, 1.0))
    shade = 0.72 + 0.38 * np.clip(body, 0.0, 1.0) + _smooth_texture(size, rng, max(finger_radius, 1.0), 0.04)
    colour = _skin_tone(image, frame, rng)[None, None, :] * shade[..., None]
    return alpha, colour


def _rectangle(image, frame, rng):
    size = image.shape[:2]
    x0, y0, x1, y1 = frame.box
    face_w, face_h = max(x1 - x0, 4.0), max(y1 - y0, 4.0)
    centre = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
    half_sides = (0.5 * face_w * rng.uniform(0.2, 0.5), 0.5 * face_h * rng.uniform(0.2, 0.5))
    angle = rng.uniform(-0.35, 0.35)
    alpha = _soften(_rotated_rectangle(size, centre, half_sides, angle))
    # A card or phone: one saturated colour, a linear light gradient and a faint surface grain.
    base = rng.uniform(20, 235, size=3)
    xs, ys = _pixel_grid(size)
    direction = rng.uniform(-1, 1, size=2)
    gradient = ((xs - centre[0]) * direction[0] + (ys - centre[1]) * direction[1]) / max(face_w, face_h)
    shade = 25.0 * gradient + _smooth_texture(size, rng, 2.0, 6.0)
    return alpha, base[None, None, :] + shade[..., None]


_DRAWERS = {SUNGLASSES: _sunglasses, HAND: _hand, RECTANGLE: _rectangle}


def draw_occluder(hr, landmarks68, kind, rng):
    """Draws one occluder for the HR image `hr` (H, W, 3) uint8.

    Returns (alpha, colour): alpha (H, W) float in [0, 1] is the occluder's coverage, colour
    (H, W, 3) float is what it looks like (only meaningful where alpha > 0). `landmarks68` is a
    (68, 2) array in HR pixels or None (then the parts are assumed where a centred face crop has
    them). Deterministic given the state of `rng` (a numpy Generator).
    """
    if kind not in _DRAWERS:
        raise ValueError(f"unknown occluder {kind!r}; expected one of {OCCLUDER_KINDS}")
    hr = np.asarray(hr)
    if hr.ndim != 3 or hr.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {hr.shape}")
    frame = _face_frame(hr.shape[:2], landmarks68)
    return _DRAWERS[kind](hr, frame, rng)


def composite(image, alpha, colour):
    """Returns a uint8 copy of `image` (H, W, 3) with the occluder (alpha, colour) of
    draw_occluder laid over it."""
    blended = np.asarray(image, np.float64) * (1.0 - alpha[..., None]) + np.clip(colour, 0, 255) * alpha[..., None]
    return np.clip(np.round(blended), 0, 255).astype(np.uint8)


def hidden_points(alpha, points):
    """Which of `points` ((K, 2) pixels, pixel centres at integers) the occluder of coverage
    `alpha` hides: the visibility a landmark annotation records. Points outside the image
    are not hidden."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    height, width = alpha.shape
    xs, ys = np.round(points[:, 0]).astype(int), np.round(points[:, 1]).astype(int)
    inside = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    hidden = np.zeros(len(points), dtype=bool)
    hidden[inside] = alpha[ys[inside], xs[inside]] >= _HIDDEN_COVERAGE
    return hidden


def occlude(hr, landmarks68, kind, rng):
    """Returns a copy of `hr` (uint8 RGB) with an occluder of `kind` composited over it."""
    return composite(hr, *draw_occluder(hr, landmarks68, kind, rng))
