"""Synthetic faces with exact iBUG-68 landmarks: the embedded default dataset and test data.

A procedural 3D face (tinyface.data.synthesis.synth_geometry) is posed, projected and placed; every
drawn feature is built from the projected points, so the landmarks are exactly on the
features (eye corners at 36/39/42/45, lip corners at 48/54, ...). Drawing happens at
SUPERSAMPLE x the output size and is box-averaged down for antialiasing; an output pixel
centre p is the hi-res coordinate SUPERSAMPLE * p + (SUPERSAMPLE - 1) / 2, and the landmarks
are returned in output pixels (0-based, pixel centres at integers).

SynthOptions shift the distribution (pose, lighting, face size, occlusion, blur), which is
how the drift demos are made; PRESETS holds the named shifts.
"""

import dataclasses
import io
import os

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from tinyface.data.degradation import occlusion
from tinyface.data.synthesis import synth_geometry as geometry
from tinyface.data.errors import BadInput

SUPERSAMPLE = 2
# Bump whenever the same (seed, index, options) would draw a different face, so that caches of
# generated datasets (keyed on it) are rebuilt. 2: occluders drawn by tinyface.data.occlusion.
GENERATOR_VERSION = 2
_PITCH_LIMIT_DEG = 40.0
_ROLL_LIMIT_DEG = 45.0

# Skin from light to dark (RGB, frontal-lit): skin_tone 0 is the first, 1 the last.
_SKIN = np.array([[246, 214, 190], [228, 184, 150], [198, 144, 106], [160, 108, 72],
                  [116, 74, 48], [78, 50, 34]], dtype=np.float64)
_HAIR = np.array([[22, 18, 16], [48, 32, 22], [92, 62, 38], [150, 110, 64], [196, 164, 112],
                  [132, 58, 28], [150, 148, 144], [210, 206, 200]], dtype=np.float64)
_HAIR_WEIGHTS = np.array([0.3, 0.22, 0.16, 0.08, 0.07, 0.05, 0.07, 0.05])
_IRIS = np.array([[70, 42, 22], [36, 24, 16], [66, 104, 140], [74, 104, 66], [112, 86, 46],
                  [96, 110, 120]], dtype=np.float64)
OCCLUDERS = occlusion.OCCLUDER_KINDS
# How often each occluder is drawn, when a face is occluded.
_OCCLUDER_WEIGHTS = {occlusion.RECTANGLE: 0.4, occlusion.HAND: 0.4, occlusion.SUNGLASSES: 0.2}


@dataclasses.dataclass(frozen=True)
class SynthOptions:
    """The distribution faces are drawn from. Angles in degrees; see synth_geometry for signs."""

    image_size: int = 192              # output square image side, pixels
    yaw_std_deg: float = 20.0          # yaw ~ N(yaw_mean, yaw_std) clipped to +-yaw_max
    yaw_mean_deg: float = 0.0          # + turns the face to the subject's left (nose to image right)
    yaw_max_deg: float = 60.0
    pitch_std_deg: float = 8.0         # pitch ~ N(0, std) clipped to +-40; + raises the chin
    roll_std_deg: float = 8.0          # roll ~ N(0, std) clipped to +-45; + is clockwise in the image
    face_scale: tuple = (0.45, 0.7)    # face height (frontal brow top to chin) / image side, uniform range
    brightness: float = 1.0            # global lighting gain: <1 darker, >1 brighter
    occluder_probability: float = 0.15  # chance of a hand, bar or sunglasses over the face
    blur_probability: float = 0.15     # chance of a Gaussian blur of the whole image
    clutter: float = 1.0               # amount of background clutter: 0 plain gradient, 1 normal, >1 busier
    expression_strength: float = 1.0   # 0 neutral faces only, 1 full expression range
    skin_tone: tuple = (0.0, 1.0)      # uniform range of skin tone, 0 lightest .. 1 darkest
    ambient: tuple = (0.35, 0.65)      # uniform range of ambient share of the light (low = hard side light)
    camera_distance: tuple = (7.0, 16.0)  # camera to head centre, face half-widths (larger = weaker perspective)
    blur_sigma: tuple = (0.7, 2.0)     # Gaussian blur sigma range in output pixels, when blurred
    noise_std: float = 2.0             # sensor noise std on the 0..255 scale

    def __post_init__(self):
        # First, since NaN passes every range check below (all comparisons with it are false).
        for field in dataclasses.fields(self):
            values = np.ravel(getattr(self, field.name)).astype(np.float64)
            if not np.isfinite(values).all():
                raise ValueError(f"{field.name} must be finite, got {getattr(self, field.name)}")
        if not 32 <= self.image_size <= 4096:
            raise ValueError(f"image_size must be in [32, 4096], got {self.image_size}")
        for name in ("face_scale", "skin_tone", "ambient", "camera_distance", "blur_sigma"):
            value = getattr(self, name)
            if len(value) != 2 or value[0] > value[1]:
                raise ValueError(f"{name} must be a (min, max) pair with min <= max, got {value}")
        if not (0.05 <= self.face_scale[0] and self.face_scale[1] <= 0.95):
            raise ValueError(f"face_scale must lie in [0.05, 0.95], got {self.face_scale}")
        if not (0.0 <= self.skin_tone[0] and self.skin_tone[1] <= 1.0):
            raise ValueError(f"skin_tone must lie in [0, 1], got {self.skin_tone}")
        if not (0.0 <= self.ambient[0] and self.ambient[1] <= 1.0):
            raise ValueError(f"ambient must lie in [0, 1], got {self.ambient}")
        if self.camera_distance[0] < 3.0:
            raise ValueError(f"camera_distance must be >= 3 face half-widths, got {self.camera_distance}")
        for name in ("occluder_probability", "blur_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        for name in ("yaw_std_deg", "pitch_std_deg", "roll_std_deg", "clutter", "expression_strength",
                     "noise_std"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.yaw_max_deg <= 90.0:
            raise ValueError(f"yaw_max_deg must be in [0, 90], got {self.yaw_max_deg}")
        if self.brightness <= 0:
            raise ValueError(f"brightness must be > 0, got {self.brightness}")


# Named distribution shifts for drift demos; each changes one statistic of the default.
PRESETS = {
    "default": SynthOptions(),
    "dark": SynthOptions(brightness=0.45, ambient=(0.2, 0.45)),
    "large_yaw": SynthOptions(yaw_std_deg=45.0, yaw_max_deg=70.0),
    "small_faces": SynthOptions(face_scale=(0.2, 0.35)),
    "occluded": SynthOptions(occluder_probability=0.8),
    "blurry": SynthOptions(blur_probability=0.8, blur_sigma=(1.0, 2.5)),
}


@dataclasses.dataclass(frozen=True)
class SynthFace:
    image: np.ndarray      # (S, S, 3) uint8 RGB
    landmarks: np.ndarray  # (68, 2) float64, output pixels, 0-based, pixel centres at integers
    params: dict           # what was drawn: pose, lighting, occlusion, blur, skin tone, ...


def face_rng(seed, index):
    """The generator of face `index` of dataset `seed`: depends on (seed, index) only."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(int(index),))))


# ---------------------------------------------------------------------------------------------
# Placement: model units -> output pixels.

@dataclasses.dataclass
class _Placement:
    rot: np.ndarray        # 3x3 model -> camera (yaw, pitch)
    roll: np.ndarray       # 2x2 image-plane rotation
    scale: float           # output pixels per model unit (at the z = 0 plane)
    offset: np.ndarray     # (2,) output pixel position of the model origin
    distance: float        # camera distance, model units

    def __call__(self, points, rot=None):
        xy, _ = geometry.project(points, self.rot if rot is None else rot, self.distance)
        return self.offset + self.scale * (xy @ self.roll.T)


def _roll_matrix(roll_deg):
    c, s = np.cos(np.radians(roll_deg)), np.sin(np.radians(roll_deg))
    return np.array([[c, -s], [s, c]])  # y down: positive angles turn clockwise on screen


def _place(rng, landmarks3d, rot, roll_deg, distance, options):
    size = options.image_size
    frontal_height = landmarks3d[:, 1].max() - landmarks3d[:, 1].min()
    scale = rng.uniform(*options.face_scale) * size / frontal_height
    placement = _Placement(rot, _roll_matrix(roll_deg), scale, np.zeros(2), distance)
    xy = placement(landmarks3d)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    margin = 0.03 * size
    offset = np.empty(2)
    for axis in range(2):
        a, b = margin - lo[axis], size - 1 - margin - hi[axis]
        offset[axis] = rng.uniform(a, b) if a <= b else 0.5 * (a + b)
    placement.offset = offset
    return placement


# ---------------------------------------------------------------------------------------------
# Drawing helpers. Points are in output pixels until _hi() maps them onto the hi-res canvas.

def _hi(points):
    # PIL truncates float vertices; rounding first keeps shapes unbiased (error <= half a hi-res pixel).
    return np.round(np.asarray(points, dtype=np.float64) * SUPERSAMPLE + (SUPERSAMPLE - 1) / 2.0)


def _xy(points):
    return [tuple(p) for p in _hi(points).tolist()]


def _rgb(colour):
    return tuple(int(v) for v in np.clip(np.round(colour), 0, 255))


_SPLINE_T = {k: np.linspace(0.0, 1.0, k, endpoint=False)[None, :, None] for k in (4, 6)}


def _spline(points, closed=False, samples=6):
    """Catmull-Rom curve through `points` (it passes exactly through every one of them)."""
    p = np.asarray(points, dtype=np.float64)
    if closed:
        ext = np.concatenate([p[-1:], p, p[:2]])
        segments = len(p)
    else:
        ext = np.concatenate([2 * p[:1] - p[1:2], p, 2 * p[-1:] - p[-2:-1]])
        segments = len(p) - 1
    t = _SPLINE_T[samples]
    p0, p1, p2, p3 = (ext[k:k + segments, None, :] for k in range(4))
    curve = 0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                   + (3 * p1 - p0 - 3 * p2 + p3) * t ** 3)
    curve = curve.reshape(-1, 2)
    return curve if closed else np.concatenate([curve, p[-1:]])


_CIRCLES = {n: (np.cos(np.linspace(0.0, 2 * np.pi, n, endpoint=False)),
                np.sin(np.linspace(0.0, 2 * np.pi, n, endpoint=False))) for n in (4, 8, 12, 16, 24)}


def _ellipse(centre, rx, ry, angle=0.0, n=24):
    cos_a, sin_a = _CIRCLES[n]
    c, s = np.cos(angle), np.sin(angle)
    x, y = rx * cos_a, ry * sin_a
    return np.column_stack([centre[0] + c * x - s * y, centre[1] + s * x + c * y])


def _area(poly):
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


_HULL_DIRECTIONS = np.stack([np.cos(np.linspace(0, 2 * np.pi, 96, endpoint=False)),
                             np.sin(np.linspace(0, 2 * np.pi, 96, endpoint=False))])


def _hull(points):
    """Convex polygon of the points extreme in 96 directions (within a fraction of a pixel of
    the exact hull for our shapes; scipy's Qhull costs a temporary file per call)."""
    points = np.asarray(points)
    extreme = np.argmax(points @ _HULL_DIRECTIONS, axis=0)
    keep = np.concatenate([[True], extreme[1:] != extreme[:-1]])
    extreme = extreme[keep]
    if len(extreme) > 1 and extreme[0] == extreme[-1]:
        extreme = extreme[:-1]
    return points[extreme]


def _line(draw, points, colour, width):
    draw.line(_xy(points), fill=_rgb(colour), width=max(1, int(round(width * SUPERSAMPLE))), joint="curve")


def _paste_clipped(canvas, clip_polygon, paint):
    """Runs paint(draw, origin) on a crop of the canvas and pastes it back inside clip_polygon."""
    hi = _hi(clip_polygon)
    x0, y0 = np.floor(hi.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(hi.max(axis=0)).astype(int) + 3
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, canvas.width), min(y1, canvas.height)
    if x1 <= x0 or y1 <= y0:
        return
    crop = canvas.crop((x0, y0, x1, y1))
    mask = Image.new("L", crop.size, 0)
    ImageDraw.Draw(mask).polygon([tuple(p) for p in (hi - [x0, y0]).tolist()], fill=255)
    # Shift output-pixel points so that _xy() lands them on the crop.
    paint(ImageDraw.Draw(crop), np.array([x0, y0]) / SUPERSAMPLE)
    canvas.paste(crop, (x0, y0), mask)


# ---------------------------------------------------------------------------------------------
# Scene parts.

def _background(rng, size, clutter):
    """Hi-res background: a smooth colour field with crisp clutter shapes, sometimes defocused."""
    hsize = size * SUPERSAMPLE
    grey = rng.uniform(40, 215)
    # Smooth field: a random bilinear gradient plus blotches, built small and scaled up.
    field = grey + rng.normal(0, 30, (2, 2, 3))
    field = _upsample_corners(field, 6)
    field = field + rng.normal(0, 14 * min(clutter, 2.0), (6, 6, 3))
    smooth = Image.fromarray(np.clip(field, 0, 255).astype(np.uint8), "RGB").resize((size, size), Image.BILINEAR)
    # Nearest 2x up then the final box reduce gives this field back exactly.
    canvas = smooth.resize((hsize, hsize), Image.NEAREST)
    draw = ImageDraw.Draw(canvas)
    count = int(rng.poisson(9.0 * clutter))
    kinds = rng.integers(0, 4, count)
    colours = np.clip(rng.uniform(0, 255, (count, 1)) + rng.normal(0, 40, (count, 3)), 0, 255)
    centres = rng.uniform(-0.1, 1.1, (count, 2)) * hsize
    radii = rng.uniform(0.03, 0.35, (count, 2)) * hsize
    angles = rng.uniform(0, np.pi, count)
    extra = rng.normal(0, 0.3, (count, 2)) * hsize
    for kind, colour, c, r, angle, e in zip(kinds, colours, centres, radii, angles, extra):
        colour = _rgb(colour)
        if kind == 0:
            corners4 = _ellipse(c, r[0], r[1], angle, n=4)
            draw.polygon([tuple(p) for p in corners4.tolist()], fill=colour)
        elif kind == 1:
            draw.ellipse([c[0] - r[0], c[1] - r[1], c[0] + r[0], c[1] + r[1]], fill=colour)
        elif kind == 2:
            draw.line([tuple(c), tuple(c + e)], fill=colour, width=int(2 + abs(e[0]) % 10))
        else:
            # A striped patch: regular texture that the SR model has to keep sharp.
            period = 4 + abs(e[1]) % 12
            d = np.array([np.cos(angle), np.sin(angle)])
            n = np.array([-d[1], d[0]])
            for k in range(int(2 * r[0] / period)):
                a = c + n * (k * period - r[0]) - d * r[1]
                draw.line([tuple(a), tuple(a + 2 * d * r[1])], fill=colour, width=max(1, int(period / 3)))
    if clutter > 0 and rng.random() < 0.5:  # depth of field: the background is often out of focus
        blurred = canvas.reduce(SUPERSAMPLE).filter(ImageFilter.GaussianBlur(float(rng.uniform(0.6, 2.0))))
        canvas = blurred.resize((hsize, hsize), Image.NEAREST)
    return canvas


def _upsample_corners(corners, n):
    """Bilinear (n, n, 3) field between four corner colours (2, 2, 3)."""
    t = np.linspace(0.0, 1.0, n)
    top = corners[0, 0] + t[:, None] * (corners[0, 1] - corners[0, 0])       # (n, 3) along x
    bottom = corners[1, 0] + t[:, None] * (corners[1, 1] - corners[1, 0])
    return top[None] * (1 - t[:, None, None]) + bottom[None] * t[:, None, None]


def _hair_layer(rng, colour, crown, box, scale, long_hair):
    """Hair colour with strands flowing away from the crown, for the hi-res box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    layer = Image.new("RGB", (x1 - x0, y1 - y0), _rgb(colour))
    draw = ImageDraw.Draw(layer)
    n = 140
    lo = np.array([x0, y0]) / SUPERSAMPLE
    hi = np.array([x1, y1]) / SUPERSAMPLE
    start = rng.uniform(lo, hi, (n, 2))
    d = start - crown
    d = d / (np.linalg.norm(d, axis=1, keepdims=True) + 1e-6) + rng.normal(0, 0.25, (n, 2))
    end = start + d * ((1.4 if long_hair else 0.6) * scale * rng.uniform(0.4, 1.0, (n, 1)))
    shades = np.clip(colour * rng.uniform(0.7, 1.3, (n, 1)) + rng.uniform(0, 12, (n, 1)), 0, 255).astype(int)
    widths = rng.integers(1, 3, n)
    offset = np.array([x0, y0])
    a_pts, b_pts = (_hi(start) - offset).tolist(), (_hi(end) - offset).tolist()
    for a, b, shade, width in zip(a_pts, b_pts, shades.tolist(), widths.tolist()):
        draw.line([tuple(a), tuple(b)], fill=tuple(shade), width=width)
    return layer


class _Relief:
    """Soft relief shading (socket, nose and lip shadows, highlights) drawn at half resolution,
    where it is blurred and combined with the lighting: 128 is neutral, lower darkens."""

    def __init__(self, size):
        self.size, self.half = size, size // 2
        self.image = Image.new("L", (self.half, self.half), 128)
        self._draw = ImageDraw.Draw(self.image)

    def _p(self, points):
        # Output pixel centre p sits at (p + 0.5) * half / size - 0.5 on the half-res grid.
        k = self.half / self.size
        return [tuple(q) for q in ((np.asarray(points, dtype=np.float64) + 0.5) * k - 0.5).tolist()]

    def polygon(self, points, value):
        self._draw.polygon(self._p(points), fill=int(value))

    def ellipse(self, centre, rx, ry, value, angle=0.0):
        self._draw.polygon(self._p(_ellipse(centre, rx, ry, angle, n=16)), fill=int(value))

    def line(self, points, value, width):
        self._draw.line(self._p(points), fill=int(value), width=max(1, int(round(width * self.half / self.size))))

    def field(self, blur):
        blurred = self.image.filter(ImageFilter.GaussianBlur(float(max(0.5, blur * self.half / self.size))))
        return (np.asarray(blurred, dtype=np.float32) - 128.0) / 128.0


def _shading(place, identity, light, ambient, specular, relief):
    """Shading factor per output pixel: the head ellipsoid lit from `light` (camera frame, y
    down, z toward the camera), times the relief; rays are cast from the camera at half
    resolution, so perspective matches the landmarks."""
    size, half = relief.size, relief.half
    g = (np.arange(half, dtype=np.float64) + 0.5) * (size / half) - 0.5
    u, v = np.meshgrid(g - place.offset[0], g - place.offset[1])
    r, rot, d = place.roll, place.rot, place.distance
    qx = (r[0, 0] * u + r[1, 0] * v) / place.scale          # undo roll and scale: z = 0 plane
    qy = (r[0, 1] * u + r[1, 1] * v) / place.scale
    centre, radii = geometry.head_ellipsoid(identity)
    inv = 1.0 / radii ** 2
    origin = np.array([0.0, 0.0, d]) @ rot - centre         # camera position, model frame
    dirs = [qx * rot[0, k] + qy * rot[1, k] - d * rot[2, k] for k in range(3)]
    a = sum(dirs[k] ** 2 * inv[k] for k in range(3))
    b = 2.0 * sum(origin[k] * dirs[k] * inv[k] for k in range(3))
    c = float(np.sum(origin ** 2 * inv)) - 1.0
    t = (-b - np.sqrt(np.clip(b * b - 4.0 * a * c, 0.0, None))) / (2.0 * a)  # misses: closest approach
    nm = [(origin[k] + t * dirs[k]) * inv[k] for k in range(3)]
    nc = [sum(rot[i, k] * nm[k] for k in range(3)) for i in range(3)]   # back to the camera frame
    nx, ny, nz = r[0, 0] * nc[0] + r[0, 1] * nc[1], r[1, 0] * nc[0] + r[1, 1] * nc[1], nc[2]
    norm = np.sqrt(nx * nx + ny * ny + nz * nz)
    cos_light = (nx * light[0] + ny * light[1] + nz * light[2]) / norm
    halfway = (light + [0.0, 0.0, 1.0]) / np.linalg.norm(light + [0.0, 0.0, 1.0])
    cos_half = (nx * halfway[0] + ny * halfway[1] + nz * halfway[2]) / norm
    shade = ambient + (1.12 - ambient) * np.clip(cos_light, 0.0, None) \
        + specular * np.clip(cos_half, 0.0, None) ** 24
    shade = (shade * (1.0 + relief.field(0.03 * place.scale))).astype(np.float32)
    return np.asarray(Image.fromarray(shade, "F").resize((size, size), Image.BILINEAR))


# ---------------------------------------------------------------------------------------------
# Face features.

def _draw_eye(canvas, draw, soft, pts, skin, iris_rgb, gaze, scale, brow):
    upper = _spline(pts[[0, 1, 2, 3]])
    lower = _spline(pts[[3, 4, 5, 0]])
    poly = np.concatenate([upper, lower[1:-1]])
    width = np.linalg.norm(pts[3] - pts[0])
    axis = (pts[3] - pts[0]) / max(width, 1e-6)
    down = np.array([-axis[1], axis[0]])
    if _area(pts) < 0:  # the far eye once the head has turned past it: nothing to draw
        return
    centre = 0.5 * (pts[0] + pts[3])
    # Socket shadow and lid crease: the eye sits under the brow ridge.
    sock = _ellipse(0.5 * (centre + brow), 0.65 * width, 0.75 * np.linalg.norm(centre - brow) + 0.1 * width,
                    np.arctan2(axis[1], axis[0]))
    soft.polygon(sock, 104)
    crease = upper - down * (0.12 * width + 0.1 * np.abs(upper - centre) @ down[:, None])
    _line(draw, crease[2:-2], skin * 0.8, 0.012 * scale)
    if _area(poly) > 0.5:
        draw.polygon(_xy(poly), fill=_rgb([218, 212, 204] * (0.85 + 0.1 * skin / 255)))
        eye_h = np.linalg.norm(pts[1] - pts[5]) + np.linalg.norm(pts[2] - pts[4])
        iris_r = 0.22 * max(width, 0.5 * 0.09 * scale)
        iris_c = centre + axis * gaze[0] * 0.16 * width + down * (gaze[1] * 0.06 * eye_h)

        def paint(crop_draw, origin):
            ring = _ellipse(iris_c - origin, iris_r * max(width / (0.43 * scale), 0.35), iris_r,
                            np.arctan2(axis[1], axis[0]))
            crop_draw.polygon(_xy(ring), fill=_rgb(iris_rgb * 0.75))
            inner = _ellipse(iris_c - origin, 0.8 * iris_r * max(width / (0.43 * scale), 0.35), 0.8 * iris_r,
                             np.arctan2(axis[1], axis[0]))
            crop_draw.polygon(_xy(inner), fill=_rgb(iris_rgb))
            pupil = _ellipse(iris_c - origin, 0.42 * iris_r * max(width / (0.43 * scale), 0.35), 0.42 * iris_r)
            crop_draw.polygon(_xy(pupil), fill=(12, 10, 10))
            glint = iris_c - origin + (-0.35 * axis - 0.35 * down) * iris_r
            crop_draw.polygon(_xy(_ellipse(glint, 0.13 * iris_r, 0.13 * iris_r, n=8)), fill=(245, 245, 240))

        _paste_clipped(canvas, poly, paint)
    # Lash line along the upper lid (heavier toward the outer corner), soft lower lid.
    lash = skin * 0.22 + 8
    _line(draw, upper, lash, 0.022 * scale)
    for corner in (pts[0], pts[3]):  # round the lid line off over the corners themselves
        draw.polygon(_xy(_ellipse(corner, 0.011 * scale + 0.25, 0.011 * scale + 0.25, n=8)), fill=_rgb(lash))
    _line(draw, lower[:len(lower) // 2 + 1], skin * 0.6, 0.009 * scale)
    _line(draw, lower[len(lower) // 2:], skin * 0.5, 0.012 * scale)


def _draw_brow(draw, pts, visible, colour, thickness, inner_last):
    pts = pts[visible]
    if len(pts) < 2:
        return
    curve = _spline(pts, samples=4)
    tangent = np.gradient(curve, axis=0)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-9
    if np.mean(normal[:, 1]) < 0:
        normal = -normal                                   # point toward the eye (down the face)
    t = np.linspace(0.0, 1.0, len(curve))
    th = thickness * (0.55 + 0.6 * (t if inner_last else 1 - t))[:, None]
    # The landmarks run a third of the way down the brow, so their pixels are brow pixels.
    poly = np.concatenate([curve - 0.35 * th * normal, (curve + 0.65 * th * normal)[::-1]])
    draw.polygon(_xy(poly), fill=_rgb(colour))
    _line(draw, curve, colour * 0.8, 0.25 * thickness)


def _draw_mouth(scene, head, look):
    draw, soft, lm, lip, scale = scene.draw, scene.relief, head.landmarks, look.lip, head.scale
    outer = _spline(lm[48:60], closed=True)
    draw.polygon(_xy(outer), fill=_rgb(lip * 1.05))
    upper_outer = _spline(lm[48:55])
    inner_upper = _spline(lm[60:65])
    inner_lower = _spline(lm[[64, 65, 66, 67, 60]])
    draw.polygon(_xy(np.concatenate([upper_outer, inner_upper[::-1]])), fill=_rgb(lip * 0.86))
    opening = np.concatenate([inner_upper, inner_lower[1:-1]])
    if _area(opening) > 0.02 * scale * scale * 0.01:
        draw.polygon(_xy(opening), fill=_rgb(lip * 0.28 + [10, 2, 2]))
        below = inner_lower[::-1]
        gap = below - inner_upper
        gap_len = np.linalg.norm(gap, axis=1, keepdims=True)
        teeth_h = 0.07 * scale
        bottom = inner_upper + gap * np.minimum(1.0, teeth_h / np.maximum(gap_len, 1e-6))
        draw.polygon(_xy(np.concatenate([inner_upper, bottom[::-1]])), fill=(222, 214, 196))
        _line(draw, inner_lower, lip * 0.5, 0.01 * scale)
    _line(draw, inner_upper, lip * 0.45, 0.014 * scale)
    # Soft relief: a highlight on the lower lip, a shadow under it and at the corners.
    lower_mid = 0.5 * (lm[57] + lm[66])
    soft.ellipse(lower_mid, 0.12 * scale, 0.03 * scale, 152)
    soft.ellipse(lm[57] + (lm[57] - lm[66]) * 0.6, 0.16 * scale, 0.05 * scale, 100)
    for corner in (lm[48], lm[54]):
        soft.ellipse(corner, 0.03 * scale, 0.03 * scale, 90)


def _draw_nose(scene, head, look):
    draw, soft, lm, skin, light, scale = scene.draw, scene.relief, head.landmarks, look.skin, look.light, head.scale
    sides = np.stack([head.place(head.model["nose_sides"][0]), head.place(head.model["nose_sides"][1])])
    far_side = None if abs(look.yaw) < 4 else (1 if look.yaw > 0 else 0)
    # The side facing away from the light is darker; the ridge catches light.
    dark = 0 if light[0] > 0 else 1
    ridge = lm[27:31]
    side = sides[dark]
    soft.polygon(np.concatenate([ridge, side[[2, 1, 0]]]), 128 - 40 * (0.3 + abs(light[0])))
    soft.line(ridge[1:], 150, 0.04 * scale)
    soft.ellipse(lm[30], 0.05 * scale, 0.04 * scale, 150)
    under = lm[33] + 0.5 * (lm[33] - lm[30])
    soft.ellipse(under, 0.3 * np.linalg.norm(lm[35] - lm[31]), 0.04 * scale, 96)
    # Hidden part of the far eye: the nose side wall facing away from the camera covers it.
    if far_side is not None:
        wall = np.concatenate([lm[27:31], sides[far_side][[2, 1, 0]]])
        draw.polygon(_xy(wall), fill=_rgb(skin))
        _line(draw, lm[27:31], skin * 0.8, 0.012 * scale)
    # Nostrils and the wing outlines along 31-35.
    _line(draw, _spline(lm[31:36]), skin * 0.62, 0.012 * scale)
    for wing, inner, side_pts in ((31, 32, sides[0]), (35, 34, sides[1])):
        _line(draw, _spline([side_pts[1], 0.5 * (side_pts[1] + lm[wing]) + 0.1 * (lm[wing] - lm[33]), lm[wing]]),
              skin * 0.7, 0.011 * scale)
        c = 0.45 * lm[wing] + 0.55 * lm[inner] + 0.22 * (lm[30] - lm[33])
        span = np.linalg.norm(lm[inner] - lm[wing])
        angle = np.arctan2(*(lm[inner] - lm[wing])[::-1])
        if span > 0.02 * scale:
            draw.polygon(_xy(_ellipse(c, 0.55 * span, 0.3 * span, angle, n=12)), fill=_rgb(skin * 0.32))


def _draw_ear(draw, ear, skin):
    draw.polygon(_xy(ear), fill=_rgb(skin * [0.93, 0.86, 0.84]))
    c = ear.mean(axis=0)
    draw.polygon(_xy(c + (ear - c) * 0.55 + (ear[4] - c) * 0.1), fill=_rgb(skin * 0.72))


def _paste_polygon(canvas, layer, box, polygon, clip=None):
    """Pastes `layer` (covering hi-res `box`) onto the canvas inside `polygon` (output pixels)
    and, if given, inside the hi-res mask `clip`."""
    mask = Image.new("L", layer.size, 0)
    ImageDraw.Draw(mask).polygon([tuple(p) for p in (_hi(polygon) - box[:2]).tolist()], fill=255)
    if clip is not None:
        mask = ImageChops.darker(mask, clip.crop(box))
    canvas.paste(layer, box[:2], mask)


def _skin_colour(rng, tone):
    pos = tone * (len(_SKIN) - 1)
    k = min(int(pos), len(_SKIN) - 2)
    base = _SKIN[k] + (pos - k) * (_SKIN[k + 1] - _SKIN[k])
    return np.clip(base * rng.uniform(0.93, 1.05) + rng.normal(0, 5, 3), 0, 255)


# ---------------------------------------------------------------------------------------------
# The face, drawn in named steps. The steps take their random draws from `rng` in a fixed
# order, so a generator state always gives the same face.

def render_face(rng, options=SynthOptions()):
    """Draws one face from `options` with `rng`; the same generator state gives the same face."""
    look = _sample_look(rng, options)
    head = _place_head(rng, look, options)
    scene = _Scene(_background(rng, options.image_size, options.clutter), options.image_size)
    _draw_shoulders(scene, head, look)
    hair = _draw_hair_behind_head(rng, scene, head, look)
    _draw_neck(scene, head, look)
    ears_behind, ears_in_front = _ears_by_depth(head)
    _draw_ears(scene, head, look, ears_behind)
    _draw_skin(scene, head, look)
    _draw_ears(scene, head, look, ears_in_front)
    _draw_nasolabial_folds(scene, head, look)
    _draw_brows(scene, head, look)
    _draw_eyes(scene, head, look)
    _draw_nose(scene, head, look)
    _draw_mouth(scene, head, look)
    _draw_fringe(scene, head, look, hair)
    image, skin_mask = scene.output_size()
    image, skin_mask, occluded_points = _draw_occluder(scene, head, look, image, skin_mask)
    pores, sensor_noise = _sample_grain(rng, options.image_size)
    image = _light(rng, scene, head, look, image, skin_mask, pores)
    image = _blur_and_add_noise(image, look, options, sensor_noise)
    return SynthFace(image=image, landmarks=head.landmarks.astype(np.float64),
                     params=_annotations(head, look, occluded_points))


@dataclasses.dataclass(frozen=True)
class _Look:
    """Everything random about a face but its placement and textures, drawn first."""

    identity: dict
    expression: dict
    yaw: float
    pitch: float
    roll: float
    distance: float
    tone: float
    skin: np.ndarray
    hair: np.ndarray
    hair_style: str
    hair_volume: float
    hairline_drop: float
    iris: np.ndarray
    gaze: np.ndarray
    lip: np.ndarray
    brow_colour: np.ndarray
    brow_thickness: float
    light: np.ndarray
    ambient: float
    specular: float
    tint: np.ndarray
    gain: float
    clothes: np.ndarray
    occluded: bool
    occluder: str                      # occlusion.NO_OCCLUDER when not occluded
    occluder_rng: np.random.Generator  # the occluder's own draws
    blurred: bool
    blur_sigma: float                  # 0 when not blurred


def _sample_look(rng, options):
    identity = geometry.sample_identity(rng)
    expression = geometry.sample_expression(rng, options.expression_strength)
    return _Look(identity=identity, expression=expression, **_sample_pose(rng, options),
                 **_sample_colours(rng, options), **_sample_lighting(rng, options),
                 clothes=rng.uniform(10, 240, 3), **_sample_occluder_and_blur(rng, options))


def _sample_pose(rng, options):
    return {
        "yaw": float(np.clip(rng.normal(options.yaw_mean_deg, options.yaw_std_deg),
                             -options.yaw_max_deg, options.yaw_max_deg)),
        "pitch": float(np.clip(rng.normal(0.0, options.pitch_std_deg), -_PITCH_LIMIT_DEG, _PITCH_LIMIT_DEG)),
        "roll": float(np.clip(rng.normal(0.0, options.roll_std_deg), -_ROLL_LIMIT_DEG, _ROLL_LIMIT_DEG)),
        "distance": rng.uniform(*options.camera_distance),
    }


def _sample_colours(rng, options):
    """Skin, hair, eyes, lips and brows; the dict's order is the draw order."""
    tone = rng.uniform(*options.skin_tone)
    skin = _skin_colour(rng, tone)
    hair = _HAIR[rng.choice(len(_HAIR), p=_HAIR_WEIGHTS)] * rng.uniform(0.85, 1.15)
    colours = {"tone": tone, "skin": skin, "hair": hair,
               "hair_style": str(rng.choice(["short", "long", "bald"], p=[0.55, 0.38, 0.07])),
               "hair_volume": rng.uniform(1.0, 1.18), "hairline_drop": rng.uniform(0.0, 0.3),
               "iris": _IRIS[rng.integers(len(_IRIS))] * rng.uniform(0.85, 1.15),
               "gaze": rng.uniform(-1, 1, 2) * 0.6,
               "lip": np.clip(skin * [0.86, 0.6, 0.6] + rng.uniform(0, 30) * np.array([1.0, 0.2, 0.3]), 0, 255)}
    colours["brow_colour"] = skin + (np.minimum(hair, skin * 0.5) - skin) * rng.uniform(0.55, 0.9)
    colours["brow_thickness"] = rng.uniform(0.7, 1.4)
    return colours


def _sample_lighting(rng, options):
    light = np.array([rng.uniform(-0.9, 0.9), rng.uniform(-0.8, 0.2), rng.uniform(0.35, 1.0)])
    return {"light": light / np.linalg.norm(light), "ambient": rng.uniform(*options.ambient),
            "specular": rng.uniform(0.0, 0.25), "tint": 1.0 + rng.normal(0, 0.04, 3),
            "gain": options.brightness * rng.uniform(0.85, 1.15)}


def _sample_occluder_and_blur(rng, options):
    # Drawn whether used or not, so that occlusion and blur settings never change the faces
    # themselves; the occluder gets a generator of its own for the same reason.
    occluded = bool(rng.random() < options.occluder_probability)
    occluder = str(rng.choice(OCCLUDERS, p=[_OCCLUDER_WEIGHTS[kind] for kind in OCCLUDERS]))
    occluder_rng = np.random.default_rng(rng.integers(2 ** 63))
    blurred = bool(rng.random() < options.blur_probability)
    blur_sigma = float(rng.uniform(*options.blur_sigma))
    return {"occluded": occluded, "occluder": occluder if occluded else occlusion.NO_OCCLUDER,
            "occluder_rng": occluder_rng, "blurred": blurred, "blur_sigma": blur_sigma if blurred else 0.0}


@dataclasses.dataclass(frozen=True)
class _Head:
    """The posed face model and where it lands in the image."""

    model: dict            # geometry.face_model: landmarks, surface, ears, ... in model units
    rot: np.ndarray        # 3x3 yaw and pitch
    place: _Placement      # model units -> output pixels
    landmarks: np.ndarray  # (68, 2) output pixels
    visible: np.ndarray    # (68,) bool: the landmark's surface faces the camera

    @property
    def scale(self):
        return self.place.scale


def _place_head(rng, look, options):
    model = geometry.face_model(look.identity, look.expression)
    rot = geometry.rotation(look.yaw, look.pitch)
    place = _place(rng, model["landmarks"], rot, look.roll, look.distance, options)
    return _Head(model, rot, place, place(model["landmarks"]),
                 geometry.facing_camera(look.identity, model["landmarks"], rot))


class _Scene:
    """The hi-res canvas, the mask of the face's skin (where the face's lighting applies) and
    the soft relief shading."""

    def __init__(self, background, size):
        self.canvas = background
        self.draw = ImageDraw.Draw(background)
        self.skin_mask = Image.new("L", background.size, 0)
        self.mask_draw = ImageDraw.Draw(self.skin_mask)
        self.relief = _Relief(size)

    def output_size(self):
        """The canvas (uint8) and the skin mask (float32 in [0, 1]), box-averaged to the output size."""
        return (np.asarray(self.canvas.reduce(SUPERSAMPLE)),
                np.asarray(self.skin_mask.reduce(SUPERSAMPLE), dtype=np.float32) / 255.0)


def _body_rotation(look):
    """The neck and shoulders turn less than the head."""
    return geometry.rotation(0.3 * look.yaw, 0.3 * look.pitch)


def _draw_shoulders(scene, head, look):
    ln = look.identity["length"]
    centre = head.place(np.array([[0.0, 3.3 * ln, -0.5]]), _body_rotation(look))[0]
    outline = _ellipse(centre, 2.4 * head.scale, 1.1 * head.scale, np.radians(look.roll) * 0.3)
    scene.draw.polygon(_xy(outline), fill=_rgb(look.clothes))


def _draw_hair_behind_head(rng, scene, head, look):
    """The hair behind the head: the projected skull (bigger for more volume), longer for long
    hair. Returns (hair layer, its hi-res box) for the fringe, or None (bald, off the canvas)."""
    w, ln, volume = look.identity["width"], look.identity["length"], look.hair_volume
    skull_pts = _SPHERE * (np.array([1.14 * w, 1.5 * ln, 1.3]) * volume) + [0.0, -0.3 * ln, -0.3]
    if look.hair_style == "long":
        skull_pts = np.concatenate([skull_pts, [[-1.25 * w * volume, 2.5 * ln, -0.5],
                                                [1.25 * w * volume, 2.5 * ln, -0.5]]])
    if look.hair_style == "bald":
        bare = _hull(head.place(skull_pts / [volume, volume, volume]))
        scene.draw.polygon(_xy(bare), fill=_rgb(look.skin * 0.92))
        return None
    skull = _hull(head.place(skull_pts))
    crown = head.place(np.array([[0.0, -1.6 * ln, -0.6]]))[0]
    hs, hsize = _hi(skull), scene.canvas.width
    box = (*np.clip(np.floor(hs.min(axis=0)).astype(int), 0, hsize),
           *np.clip(np.ceil(hs.max(axis=0)).astype(int) + 1, 0, hsize))
    if box[2] <= box[0] or box[3] <= box[1]:
        return None
    layer = _hair_layer(rng, look.hair, crown, box, head.scale, look.hair_style == "long")
    _paste_polygon(scene.canvas, layer, box, skull)
    return layer, box


def _draw_neck(scene, head, look):
    w, ln = look.identity["width"], look.identity["length"]
    neck = head.place(np.array([[-0.55 * w, 0.9 * ln, -0.35], [0.55 * w, 0.9 * ln, -0.35],
                                [0.62 * w, 3.2 * ln, -0.45], [-0.62 * w, 3.2 * ln, -0.45]]), _body_rotation(look))
    scene.draw.polygon(_xy(neck), fill=_rgb(look.skin * 0.8))
    # The jaw's shadow on the neck: a band under jaw 3-13 (the face covers its upper half).
    lm = head.landmarks
    jaw_down = head.place(np.array([[0.0, 0.0, 0.0], [0.0, 0.18, 0.0]]))
    shadow = np.concatenate([lm[3:14], lm[13:2:-1] + (jaw_down[1] - jaw_down[0])])
    scene.draw.polygon(_xy(shadow), fill=_rgb(look.skin * 0.7))


def _ears_by_depth(head):
    """(ears drawn behind the face, ears drawn in front of it), as indices into model["ears"]:
    hidden when turned away; in front of the face outline once turned well toward the camera."""
    behind, in_front = [], []
    for k, sign in enumerate((-1.0, 1.0)):
        facing = (np.array([sign, 0.0, 0.0]) @ head.rot.T)[2]
        if facing > 0.35:
            in_front.append(k)
        elif facing > -0.25:
            behind.append(k)
    return behind, in_front


def _draw_ears(scene, head, look, ears):
    for k in ears:
        _draw_ear(scene.draw, head.place(head.model["ears"][k]), look.skin)


def _draw_skin(scene, head, look):
    """The silhouette of the face surface (its outline follows the jaw 0-16 on a frontal face),
    also marked in the skin mask."""
    for points in [head.model["surface"]] + head.model["protrusions"]:
        face_poly = _xy(_hull(head.place(points)))
        scene.draw.polygon(face_poly, fill=_rgb(look.skin))
        scene.mask_draw.polygon(face_poly, fill=255)


def _draw_nasolabial_folds(scene, head, look):
    """Mid-scale relief, deeper with a smile."""
    lm = head.landmarks
    for wing, corner in ((31, 48), (35, 54)):
        fold = [lm[wing] + (lm[wing] - lm[33]) * 0.4, lm[corner] + (lm[corner] - lm[62]) * 0.25]
        scene.relief.line(fold, 112 - 25 * look.expression["smile"], 0.035 * head.scale)


def _draw_brows(scene, head, look):
    lm, thickness = head.landmarks, 0.075 * head.scale * look.brow_thickness
    _draw_brow(scene.draw, lm[17:22], head.visible[17:22], look.brow_colour, thickness, True)
    _draw_brow(scene.draw, lm[22:27], head.visible[22:27], look.brow_colour, thickness, False)


def _draw_eyes(scene, head, look):
    lm = head.landmarks
    for eye, brow_mid in ((lm[36:42], lm[19]), (lm[42:48], lm[24])):
        _draw_eye(scene.canvas, scene.draw, scene.relief, eye, look.skin, look.iris, look.gaze, head.scale, brow_mid)


def _draw_fringe(scene, head, look, hair):
    """Hair over the forehead: the face above the visible part of the hairline, clipped to the
    face so that it never spills onto the background."""
    if hair is None:
        return
    hairline = head.model["hairline"].copy()
    hairline[:, 1] -= look.hairline_drop * np.sin(np.linspace(0, np.pi, len(hairline)))
    seen = geometry.facing_camera(look.identity, hairline, head.rot)
    if seen.sum() < 2:
        return
    edge = head.place(hairline[seen])
    up = head.place(np.array([[0.0, -3.0 * look.identity["length"], 0.0], [0.0, 0.0, 0.0]]))
    up = up[0] - up[1]
    fringe = np.concatenate([edge, [edge[-1] + up, edge[0] + up]])
    layer, box = hair
    _paste_polygon(scene.canvas, layer, box, fringe, scene.skin_mask)


def _draw_occluder(scene, head, look, image, skin_mask):
    """Lays the face's occluder (tinyface.data.occlusion, from the occluder's own generator)
    over the output-size image and takes it out of the skin mask, so that the face's lighting
    does not shade it. Returns (image, skin mask, occluded points): the landmarks on the skin
    that it hides, which keep their true positions."""
    if not look.occluded:
        return image, skin_mask, []
    alpha, colour = occlusion.draw_occluder(image, head.landmarks, look.occluder, look.occluder_rng)
    hi_lm = np.clip(_hi(head.landmarks).astype(int), 0, scene.skin_mask.width - 1)
    on_skin = np.asarray(scene.skin_mask)[hi_lm[:, 1], hi_lm[:, 0]] > 0
    hidden = on_skin & occlusion.hidden_points(alpha, head.landmarks)
    return (occlusion.composite(image, alpha, colour), skin_mask * (1.0 - alpha.astype(np.float32)),
            [int(i) for i in np.nonzero(hidden)[0]])


def _sample_grain(rng, size):
    """(pores, sensor noise): one uniform draw feeds both (uniform: much cheaper than normal),
    unit variance."""
    grain = (rng.random((2, size, size), dtype=np.float32) - 0.5) * np.float32(12 ** 0.5)
    return grain[0], grain[1]


def _light(rng, scene, head, look, image, skin_mask, grain):
    """Shades the skin (head ellipsoid, relief, texture), then applies the global light's gain and tint."""
    shade = _shading(head.place, look.identity, look.light, look.ambient, look.specular, scene.relief)
    texture = _skin_texture(rng, scene.relief.size, grain)
    image = image.astype(np.float32)
    image *= (1.0 + skin_mask * (shade * (1.0 + texture) - 1.0))[..., None]
    image *= (look.gain * look.tint).astype(np.float32)
    return image


def _blur_and_add_noise(image, look, options, grain):
    """The camera: optional defocus, then sensor noise; returns uint8."""
    if look.blurred:
        image = np.asarray(Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
                           .filter(ImageFilter.GaussianBlur(look.blur_sigma)), dtype=np.float32)
    if options.noise_std > 0:
        image += (np.float32(options.noise_std) * grain)[..., None]
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def _annotations(head, look, occluded_points):
    """What was drawn: the params a SynthFace records."""
    lm3 = head.model["landmarks"]
    return {
        "yaw": look.yaw, "pitch": look.pitch, "roll": look.roll, "camera_distance": float(look.distance),
        "face_height_px": float(head.scale * (lm3[:, 1].max() - lm3[:, 1].min())),
        "skin_tone": float(look.tone), "skin_rgb": tuple(float(v) for v in look.skin),
        "hair_style": look.hair_style, "light_direction": tuple(float(v) for v in look.light),
        "ambient": float(look.ambient), "brightness_gain": float(look.gain),
        "occluded": look.occluded, "occluder": look.occluder, "occluded_points": occluded_points,
        "blurred": look.blurred, "blur_sigma": look.blur_sigma,
        "visible_points": [int(i) for i in np.nonzero(head.visible)[0]],
        "expression": {k: float(v) for k, v in look.expression.items()},
        "identity": {k: float(v) for k, v in look.identity.items()},
    }


def _skin_texture(rng, size, grain):
    """Relative skin texture: blotches a few pixels wide plus pores, a few percent in amplitude."""
    coarse = rng.normal(0.0, 0.035, (max(2, size // 10),) * 2).astype(np.float32)
    coarse = np.asarray(Image.fromarray(coarse, "F").resize((size, size), Image.BICUBIC))
    return coarse + np.float32(0.02) * grain


def _fibonacci_sphere(n):
    k = np.arange(n) + 0.5
    polar = np.arccos(1 - 2 * k / n)
    azimuth = np.pi * (1 + 5 ** 0.5) * k
    return np.column_stack([np.sin(polar) * np.cos(azimuth), np.cos(polar), np.sin(polar) * np.sin(azimuth)])


_SPHERE = _fibonacci_sphere(64)


# ---------------------------------------------------------------------------------------------
# Files.

def write_pts(path, landmarks):
    """Writes landmarks (0-based pixels) as a 300W .pts file (1-based coordinates)."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.ndim != 2 or landmarks.shape[1] != 2:
        raise ValueError(f"landmarks must have shape (K, 2), got {landmarks.shape}")
    lines = ["version: 1", f"n_points:  {len(landmarks)}", "{"]
    lines += [f"{x + 1:.4f} {y + 1:.4f}" for x, y in landmarks]
    lines.append("}")
    _write_atomic(path, ("\n".join(lines) + "\n").encode("ascii"))


def _write_atomic(path, data):
    # A half-written file never sits under the final name, so a crashed run cannot poison a re-run.
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _png_bytes(image):
    buffer = io.BytesIO()
    Image.fromarray(image, "RGB").save(buffer, format="PNG", compress_level=3)  # 6 is 5x slower for 2% smaller files
    return buffer.getvalue()


def generate_dataset(out_dir, count, seed=0, options=SynthOptions(), subset=None):
    """Writes `count` faces as out_dir/[subset/]synth_{index:06d}.png + .pts (300W layout).

    Face i is render_face(face_rng(seed, i), options), so a bigger count extends a smaller one
    and rewriting the same folder gives identical bytes. Returns a summary dict.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    folder = os.path.join(out_dir, subset) if subset else str(out_dir)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:  # a file of that name, a read-only disk, ...
        raise BadInput(folder, f"cannot create the output folder: {error.strerror or error}") from None
    paths, yaws, occluded, blurred, heights = [], [], 0, 0, []
    for index in range(count):
        face = render_face(face_rng(seed, index), options)
        stem = os.path.join(folder, f"synth_{index:06d}")
        _write_atomic(stem + ".png", _png_bytes(face.image))
        write_pts(stem + ".pts", face.landmarks)
        paths.append(stem + ".png")
        yaws.append(face.params["yaw"])
        occluded += face.params["occluded"]
        blurred += face.params["blurred"]
        heights.append(face.params["face_height_px"])
    yaws = np.asarray(yaws)
    return {
        "count": count, "out_dir": folder, "seed": seed, "paths": paths, "generator_version": GENERATOR_VERSION,
        "mean_yaw": float(yaws.mean()) if count else 0.0,
        "mean_abs_yaw": float(np.abs(yaws).mean()) if count else 0.0,
        "occluded": int(occluded), "blurred": int(blurred),
        "mean_face_height_px": float(np.mean(heights)) if count else 0.0,
        "options": dataclasses.asdict(options),
    }
