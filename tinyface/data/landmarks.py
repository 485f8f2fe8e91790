"""Landmark schemes and the index facts every other module relies on.

iBUG 68 (0-based): jaw 0-16, right brow 17-21, left brow 22-26, nose 27-35, right eye 36-41,
left eye 42-47, outer lips 48-59, inner lips 60-67. "Right" is the subject's right, which
appears on the left of the image.
"""

import numpy as np

IBUG68 = "ibug68"
WFLW98 = "wflw98"
FIVE_POINT = "five_point"   # CelebA / LFW: left eye, right eye, nose, left mouth, right mouth
SCHEMES = (IBUG68, WFLW98, FIVE_POINT)
NUM_POINTS = {IBUG68: 68, WFLW98: 98, FIVE_POINT: 5}

# Normalisation points for NME: outer eye corners (68: 36/45, WFLW 98: 60/72).
# Five-point data has eye centres (0/1); box size is used where there are no eye corners.
OUTER_EYE_CORNERS = {IBUG68: (36, 45), WFLW98: (60, 72), FIVE_POINT: (0, 1)}

# The five face parts of DIC's attentive fusion module, as iBUG-68 index ranges.
FACE_PARTS_68 = {
    "left_eye": tuple(range(36, 42)),
    "right_eye": tuple(range(42, 48)),
    "nose": tuple(range(27, 36)),
    "mouth": tuple(range(48, 68)),
    "jaw_and_brows": tuple(range(0, 27)),
}


def _flip_permutation_68():
    pairs = [(i, 16 - i) for i in range(8)]                      # jaw
    pairs += [(17 + i, 26 - i) for i in range(5)]                # brows
    pairs += [(31, 35), (32, 34)]                                # nostrils
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes
    pairs += [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]  # outer lips
    pairs += [(60, 64), (61, 63), (65, 67)]                      # inner lips
    perm = list(range(68))
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return tuple(perm)


# Index permutation that a horizontal flip applies to iBUG-68 landmarks: after flipping the
# image, new point i is old point FLIP_PERMUTATION_68[i] (with x mirrored).
FLIP_PERMUTATION_68 = _flip_permutation_68()

# WFLW 98 -> iBUG 68: contour every other point, upper brow edges, nose as is, six of the
# eight eye points, the 20 mouth points; the two pupils (96, 97) have no 68-point equivalent.
WFLW98_TO_IBUG68 = tuple(
    list(range(0, 33, 2))
    + [33, 34, 35, 36, 37]
    + [42, 43, 44, 45, 46]
    + list(range(51, 60))
    + [60, 61, 63, 64, 65, 67]
    + [68, 69, 71, 72, 73, 75]
    + list(range(76, 96))
)
assert len(WFLW98_TO_IBUG68) == 68


def to_ibug68(points, scheme):
    """Returns the (68, 2) iBUG landmarks for `points` in `scheme`, or None if not derivable."""
    points = np.asarray(points)
    if scheme == IBUG68:
        return points
    if scheme == WFLW98:
        return points[list(WFLW98_TO_IBUG68)]
    return None


def flip_horizontal_68(points, width):
    """Mirrors (68, 2) landmarks for an image of `width` pixels and permutes their indices."""
    points = np.asarray(points, dtype=np.float64)
    mirrored = points.copy()
    mirrored[:, 0] = (width - 1) - points[:, 0]
    return mirrored[list(FLIP_PERMUTATION_68)]


def template_68(size=128):
    """A rough frontal iBUG-68 layout in a tight `size` px face crop (jaw arc, brows, nose,
    eyes, lips): plausible landmarks for tests and benchmarks that need no dataset."""
    t = np.linspace(np.pi * 0.05, np.pi * 0.95, 17)
    jaw = np.stack([0.5 - 0.42 * np.cos(t), 0.35 + 0.6 * np.sin(t)], 1)
    brow_right = np.stack([np.linspace(0.17, 0.43, 5), 0.30 - 0.04 * np.sin(np.linspace(0, np.pi, 5))], 1)
    brow_left = np.stack([1 - brow_right[::-1, 0], brow_right[::-1, 1]], 1)
    nose = np.concatenate([np.stack([np.full(4, 0.5), np.linspace(0.40, 0.58, 4)], 1),
                           np.stack([np.linspace(0.42, 0.58, 5), np.full(5, 0.64)], 1)])

    def ring(cx, cy, rx, ry, n):
        a = np.linspace(0, 2 * np.pi, n + 1)[:-1]
        return np.stack([cx - rx * np.cos(a), cy - ry * np.sin(a)], 1)

    points = np.concatenate([jaw, brow_right, brow_left, nose, ring(0.32, 0.42, 0.08, 0.025, 6),
                             ring(0.68, 0.42, 0.08, 0.025, 6), ring(0.5, 0.78, 0.15, 0.05, 12),
                             ring(0.5, 0.78, 0.1, 0.02, 8)])
    return points * size
