"""A procedural 3D face: the 68 iBUG landmarks of a parametric head, and their projection.

Model frame: x to the image right (the subject's left), y down, z toward the camera. Units are
face half-widths: on an average face jaw points 0 and 16 sit near x = -1 and x = +1, the eye
line is y = 0 and the chin (8) is near y = 1.5. The face is the front of a head ellipsoid
(`head_ellipsoid`); every landmark is placed on, or at a fixed offset from, that surface, so
the same surface gives the renderer its shading normals and its self-occlusion test.

Pose convention (degrees): yaw > 0 turns the face to the subject's left, so the nose tip moves
to the image right of the eyes (the sign of tinyface.features.YAW); pitch > 0 raises the chin
(the nose tip moves up); roll > 0 turns the face clockwise in the image (y points down).

The model is exactly left-right symmetric: every subject-right point is defined once and its
partner under FLIP_PERMUTATION_68 is its mirror image, so a frontal face mirrors onto itself.
"""

import numpy as np

from tinyface.data.landmarks import FLIP_PERMUTATION_68

# Points on the subject's right (image left, x < 0); their mirrors are set from them.
_RIGHT_SIDE = tuple(range(0, 8)) + tuple(range(17, 22)) + (31, 32) + tuple(range(36, 42)) + (
    48, 49, 50, 58, 59, 60, 61, 67)

# Head ellipsoid of an average face, (centre y, radii x, y, z); the face is its front half.
_HEAD_CENTRE_Y = 0.2
_HEAD_RADII = (1.03, 1.9, 0.95)


def sample_identity(rng):
    """Draws the shape of one person: proportions that stay fixed whatever the expression."""
    u = rng.uniform
    return {
        "width": u(0.92, 1.08), "length": u(0.92, 1.12), "depth": u(0.88, 1.12),
        "jaw_top": u(-0.12, 0.04), "jaw_squareness": u(2.0, 3.0), "jaw_taper": u(0.0, 0.16),
        "eye_spacing": u(0.93, 1.07), "eye_size": u(0.85, 1.15), "eye_tilt": u(-0.015, 0.05),
        "eye_height": u(0.8, 1.2),
        "brow_height": u(0.9, 1.12), "brow_arch": u(0.5, 1.5), "brow_length": u(0.9, 1.1),
        "nose_length": u(0.88, 1.12), "nose_width": u(0.85, 1.25), "nose_depth": u(0.8, 1.2),
        "mouth_width": u(0.85, 1.15), "lip_thickness": u(0.7, 1.35), "mouth_y": u(0.95, 1.05),
    }


def sample_expression(rng, strength=1.0):
    """Draws an expression; strength 0 gives the neutral face, 1 the full range.

    Most faces keep the mouth and eyes in their neutral state, as in real photo collections.
    """
    mouth_open = rng.uniform(0.1, 1.0) if rng.random() < 0.35 else 0.0
    smile = rng.uniform(0.0, 1.0) if rng.random() < 0.5 else 0.0
    brows = rng.uniform(-0.6, 1.0) if rng.random() < 0.5 else 0.0
    eyes_closed = rng.uniform(0.2, 1.0) if rng.random() < 0.12 else 0.0
    s = float(np.clip(strength, 0.0, 1.0))
    return {"mouth_open": s * mouth_open, "smile": s * smile, "brows_raised": s * brows,
            "eyes_closed": s * eyes_closed}


def head_ellipsoid(identity):
    """(centre (3,), radii (3,)) of the head ellipsoid in model units for this identity."""
    centre = np.array([0.0, _HEAD_CENTRE_Y * identity["length"], 0.0])
    radii = np.array(_HEAD_RADII) * [identity["width"], identity["length"], identity["depth"]]
    return centre, radii


def surface_z(identity, x, y):
    """z of the front of the head ellipsoid at (x, y); 0 on and beyond its outline."""
    centre, radii = head_ellipsoid(identity)
    inside = 1.0 - (np.asarray(x) / radii[0]) ** 2 - ((np.asarray(y) - centre[1]) / radii[1]) ** 2
    return radii[2] * np.sqrt(np.clip(inside, 0.0, None))


def _jaw(identity, drop):
    """17 contour points at equal arc length along a superellipse from temple to temple."""
    n = identity["jaw_squareness"]
    phi = np.linspace(0.0, np.pi, 257)
    c, s = np.cos(phi), np.abs(np.sin(phi))
    top, chin = identity["jaw_top"], 1.5
    x = -np.sign(c) * np.abs(c) ** (2.0 / n) * (1.0 - identity["jaw_taper"] * s ** 4)
    y = top + (chin - top) * s ** (2.0 / n)
    steps = np.hypot(np.diff(x), np.diff(y))
    arc = np.concatenate([[0.0], np.cumsum(steps)])
    targets = np.linspace(0.0, arc[-1], 17)
    jx, jy = np.interp(targets, arc, x), np.interp(targets, arc, y)
    jx[8] = 0.0  # exact centre despite interpolation rounding
    # An open mouth drops the jaw: most at the chin, not at all at the temples.
    jy = jy + drop * ((jy - top) / (chin - top)) ** 2
    return jx, jy


def face_model(identity, expression):
    """The face in model units: {"landmarks": (68, 3)} plus helper point sets for rendering.

    Helpers: "outline" (closed skin outline: jaw 0-16 then the forehead arc back over the top),
    "surface" (points spread over the face, for its silhouette at any pose), "protrusions"
    (point sets of the nose and mouth region, each filled as its convex hull), "hairline",
    "nose_sides" ((2, 3, 3): per side root, alar crease and nostril wing), "ears" ((2, 16, 3)).
    All are returned before any pose is applied; x and y are already scaled to the identity.
    """
    idn, ex = identity, expression
    p = np.zeros((68, 2))
    gap = 0.32 * ex["mouth_open"]
    jx, jy = _jaw(idn, 0.8 * gap)
    p[0:17, 0], p[0:17, 1] = jx, jy

    # Brows: outer (17) to inner (21), arched, resting above the eye line.
    t = np.linspace(0.0, 1.0, 5)
    eye_cx, eye_hw = 0.47 * idn["eye_spacing"], 0.215 * idn["eye_size"]
    outer = eye_cx + eye_hw * 1.2 * idn["brow_length"]
    p[17:22, 0] = -(outer + (0.15 - outer) * t)
    lift = ex["brows_raised"]
    # A frown (lift < 0) pulls the inner ends down more than the outer ones.
    lift_t = np.where(lift >= 0, lift, lift * (0.3 + 0.7 * t))
    p[17:22, 1] = -idn["brow_height"] * (0.3 + 0.11 * idn["brow_arch"] * np.sin(np.pi * (0.15 + 0.75 * t))) \
        - 0.1 * lift_t

    # Nose: bridge 27-30 down the midline, nostril base 31-35 below the tip.
    tip_y = 0.5 * idn["nose_length"]
    p[27:31, 1] = -0.03 + (tip_y + 0.03) * np.linspace(0.0, 1.0, 4)
    nw = idn["nose_width"]
    p[31] = (-0.2 * nw, tip_y + 0.08 * idn["nose_length"])
    p[32] = (-0.1 * nw, tip_y + 0.12 * idn["nose_length"])
    p[33] = (0.0, tip_y + 0.13 * idn["nose_length"])

    # Right eye: 36 outer corner, 37-38 upper lid, 39 inner corner, 40-41 lower lid. Closing
    # brings the upper lid down onto a lower lid that rises a little.
    closed = ex["eyes_closed"]
    up = 0.085 * idn["eye_size"] * idn["eye_height"]
    low = 0.055 * idn["eye_size"] * idn["eye_height"]
    upper = -up + closed * (up + 0.6 * low)
    lower = low * (1.0 - 0.4 * closed)
    tilt = idn["eye_tilt"]

    def base(frac):  # corner-to-corner line, outer corner raised by the tilt
        return -tilt * (1.0 - frac)

    p[36] = (-eye_cx - eye_hw, base(0.0))
    p[37] = (-eye_cx - eye_hw / 3, base(1 / 3) + 0.93 * upper)
    p[38] = (-eye_cx + eye_hw / 3, base(2 / 3) + 1.0 * upper)
    p[39] = (-eye_cx + eye_hw, base(1.0))
    p[40] = (-eye_cx + eye_hw / 3, base(2 / 3) + 0.9 * lower)
    p[41] = (-eye_cx - eye_hw / 3, base(1 / 3) + 1.0 * lower)

    # Mouth: a smile pulls the corners out and up; opening moves the lower lip and jaw down.
    mw = 0.4 * idn["mouth_width"]
    ym = 1.0 * idn["mouth_y"]
    tu, tl = 0.095 * idn["lip_thickness"], 0.115 * idn["lip_thickness"]
    dx, dy = 0.04 * ex["smile"], -0.075 * ex["smile"]
    p[48] = (-(mw + dx), ym + dy)
    p[49] = (-0.6 * mw - 0.5 * dx, ym - 0.8 * tu + 0.4 * dy)
    p[50] = (-0.22 * mw, ym - tu)
    p[51] = (0.0, ym - 0.82 * tu)
    p[59] = (-0.6 * mw - 0.5 * dx, ym + 0.8 * gap + 0.85 * tl + 0.3 * dy)
    p[58] = (-0.25 * mw, ym + gap + tl)
    p[57] = (0.0, ym + gap + 1.02 * tl)
    p[60] = (-(0.86 * mw + 0.8 * dx), ym + 0.9 * dy)
    p[61] = (-0.4 * mw, ym + 0.3 * dy)
    p[62] = (0.0, ym)
    p[67] = (-0.4 * mw, ym + 0.3 * dy + 0.85 * gap)
    p[66] = (0.0, ym + gap)

    for i in _RIGHT_SIDE:
        j = FLIP_PERMUTATION_68[i]
        p[j] = (-p[i, 0], p[i, 1])

    p[:, 0] *= idn["width"]
    p[:, 1] *= idn["length"]
    z = surface_z(idn, p[:, 0], p[:, 1])
    # Relief over the ellipsoid: brow ridge, nose, lips, eyes set into their sockets.
    relief = np.zeros(68)
    relief[17:27] = 0.06
    relief[27:31] = np.array([0.06, 0.13, 0.23, 0.36]) * idn["nose_depth"]
    relief[[31, 35]] = 0.1 * idn["nose_depth"]
    relief[[32, 34]] = 0.17 * idn["nose_depth"]
    relief[33] = 0.2 * idn["nose_depth"]
    relief[36:48] = -0.03
    relief[48:60] = [0.0, 0.05, 0.09, 0.1, 0.09, 0.05, 0.0, 0.05, 0.08, 0.08, 0.08, 0.05]
    relief[60:68] = 0.06
    landmarks = np.column_stack([p, z + relief])

    helpers = _helpers(idn, landmarks)
    helpers["landmarks"] = landmarks
    return helpers


def _on_surface(identity, x, y, lift=0.0):
    x, y = np.asarray(x, float), np.asarray(y, float)
    return np.stack([x, y, surface_z(identity, x, y) + lift], axis=-1)


def _helpers(idn, lm):
    temple_x, temple_y = abs(lm[0, 0]), lm[0, 1]
    theta = np.linspace(0.0, np.pi, 15)[1:-1]
    forehead_height = 1.3 * idn["length"] + temple_y
    fx = -temple_x * 0.97 * np.cos(theta)
    fy = temple_y - forehead_height * np.sin(theta)
    forehead = _on_surface(idn, fx, fy)
    outline = np.concatenate([lm[0:17], forehead[::-1]])
    # Shrunken copies of the outline: their projections bound the face at large yaw, where the
    # outline itself turns away from the camera.
    rings = [_on_surface(idn, outline[:, 0] * k, outline[:, 1] * (0.3 + 0.7 * k) + 0.35 * (1 - k))
             for k in (0.85, 0.6, 0.3)]
    # The sides of the head between the temples and the ears: hidden behind the outline on a
    # frontal face, they become the silhouette of the near cheek at large yaw.
    side_y = np.array([-0.3, 0.05, 0.35, 0.55]) * idn["length"]
    sides = [np.column_stack([np.full(4, sign * 0.97 * idn["width"]), side_y, np.full(4, -0.2)])
             for sign in (-1.0, 1.0)]
    surface = np.concatenate([outline, *rings, *sides, lm[17:27], lm[36:48]])

    h_theta = np.linspace(0.0, np.pi, 17)
    hairline = _on_surface(idn, -temple_x * 0.98 * np.cos(h_theta),
                           temple_y - 0.25 - 0.75 * idn["length"] * np.sin(h_theta) ** 0.7)

    nose_sides = []
    for sign, wing in ((-1.0, 31), (1.0, 35)):
        root = _on_surface(idn, sign * 0.1 * idn["width"], lm[27, 1] + 0.05)[None]
        crease = _on_surface(idn, lm[wing, 0] * 1.15, lm[wing, 1] - 0.1, 0.03)[None]
        nose_sides.append(np.concatenate([root, crease, lm[wing][None]]))

    # Ears: ellipses in a plane that faces sideways and a little forward, centred just behind
    # the temples between the eye line and the nose base.
    ears = []
    a = np.linspace(0.0, 2 * np.pi, 16, endpoint=False)
    for sign in (-1.0, 1.0):
        centre = np.array([sign * 1.0 * idn["width"], 0.28 * idn["length"], -0.22])
        back = np.array([sign * 0.5, 0.0, -1.0]) / np.hypot(0.5, 1.0)
        ring = centre + np.outer(0.3 * np.cos(a) * idn["length"], [0, 1, 0]) + np.outer(0.15 * np.sin(a), back)
        ears.append(ring)
    # What sticks out of the ellipsoid. Kept apart from "surface" so that at large yaw the
    # background shows between the nose and the far cheek instead of a convex wedge of skin.
    protrusions = [np.concatenate([lm[27:36], *nose_sides]), lm[[31, 32, 33, 34, 35, 48, 49, 50, 51, 52, 53, 54]],
                   lm[[48, 54, 55, 56, 57, 58, 59, 6, 7, 8, 9, 10]]]
    return {"outline": outline, "surface": surface, "protrusions": protrusions, "hairline": hairline,
            "nose_sides": np.stack(nose_sides), "ears": np.stack(ears)}


def rotation(yaw_deg, pitch_deg):
    """3x3 rotation (model -> camera) for yaw then pitch; roll is applied in the image plane."""
    yaw, pitch = np.radians(yaw_deg), np.radians(pitch_deg)
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    # Yaw: x' = x cos + z sin, so the nose (z > 0) moves to +x for yaw > 0.
    r_yaw = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    # Pitch: y' = y cos - z sin, so the nose moves up (y < 0) for pitch > 0.
    r_pitch = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])
    return r_pitch @ r_yaw


def project(points, rot, camera_distance):
    """Rotates model points and projects them with a pinhole camera `camera_distance` units in
    front of the head centre (large distances approach weak perspective).

    Returns (xy (..., 2), depth (...)) in model units: points on the z = 0 plane keep their
    size, nearer ones grow by d / (d - z).
    """
    cam = np.asarray(points) @ rot.T
    factor = camera_distance / (camera_distance - cam[..., 2])
    return cam[..., :2] * factor[..., None], cam[..., 2]


def facing_camera(identity, points, rot):
    """Whether the head surface at each model point faces the camera after rotation.

    Uses the ellipsoid normal under each point: features on a side that has turned away are
    hidden (drawn partly or not at all), while their landmarks stay where they project.
    """
    centre, radii = head_ellipsoid(identity)
    normal = (np.asarray(points) - centre) / radii ** 2
    return (normal @ rot.T)[..., 2] > 0.0
