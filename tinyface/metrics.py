"""Evaluation metrics as plain numpy functions, so tests, the TFMA evaluator and the reports
all compute the same number (no TensorFlow import here).

Image metrics (PSNR, SSIM) follow the BasicSR / DIC convention:
- images are (H, W, 3) RGB or (H, W) single-channel, uint8 or float, on the [0, 255] scale.
  Values are used as given: no clipping and no rounding. Evaluations that score the saved
  uint8 image (as BasicSR does after tensor2img) must round and clip before calling.
- `shave` pixels are cut from every border of both images first (BasicSR's crop_border;
  the usual choice is the upscale factor, 8 for 16 -> 128).
- `y_channel=True` scores only the luma Y of MATLAB's rgb2ycbcr (BT.601, studio range
  16..235, see rgb_to_y); otherwise all channels.
- everything is computed in float64.
Every reported figure must name its channel (RGB or Y) and its shave.

Landmark metrics follow 300W / WFLW practice (HRNet, MMPose): NME normalised by the outer
eye corners (iBUG 68: points 36 and 45; WFLW 98: points 60 and 72), or by the face box size
where there are no eye corners; failure rate and AUC of the cumulative error distribution
(CED) up to a threshold (0.08 and 0.10 in our reports).
"""

import numpy as np

from tinyface.data import landmarks as landmark_schemes

# MATLAB rgb2ycbcr luma row for RGB in [0, 1], giving Y in [16, 235]. 65.481 + 128.553 +
# 24.966 = 219, the studio-range excursion, so white maps to exactly 235.
_Y_COEFFICIENTS = np.array([65.481, 128.553, 24.966], dtype=np.float64)
_Y_OFFSET = 16.0

# SSIM constants of Wang et al. (2004) for data range L = 255, as BasicSR and the DIC code use.
_SSIM_C1 = (0.01 * 255.0) ** 2
_SSIM_C2 = (0.03 * 255.0) ** 2
_SSIM_WINDOW = 11
_SSIM_SIGMA = 1.5

# Schemes whose OUTER_EYE_CORNERS really are outer eye corners. The five-point scheme lists
# eye *centres* there (an inter-pupil distance), which is not the convention any 5-point
# benchmark reports, so it falls back to the box size.
_EYE_CORNER_SCHEMES = (landmark_schemes.IBUG68, landmark_schemes.WFLW98)

NORMS = ("auto", "inter_ocular", "box")


# --------------------------------------------------------------------------- images


def rgb_to_y(image):
    """Luma Y of an (H, W, 3) RGB image on the [0, 255] scale, as (H, W) float64 in [16, 235].

    Y = (65.481 R + 128.553 G + 24.966 B) / 255 + 16: MATLAB's rgb2ycbcr (ITU-R BT.601,
    studio range). Unlike MATLAB on uint8 input the result is not rounded to integers
    (BasicSR does not round either; it only differs by computing in float32).
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"rgb_to_y needs an (H, W, 3) RGB image, got shape {image.shape}")
    return image.astype(np.float64) @ _Y_COEFFICIENTS / 255.0 + _Y_OFFSET


def psnr(sr, hr, shave=0, y_channel=False):
    """Peak signal-to-noise ratio in dB of `sr` against `hr`, peak 255.

    Both images on the [0, 255] scale, same shape, (H, W, 3) RGB or (H, W[, 1]). `shave`
    pixels are removed from every border first; `y_channel` scores the MATLAB Y channel
    (rgb_to_y) instead of all channels (then the MSE is over all pixels and channels).
    Returns float('inf') when the (shaved) images are identical (MSE 0), deliberately: the
    caller decides how to aggregate or report it rather than getting a huge finite number.
    """
    a, b = _prepare_pair(sr, hr, shave, y_channel)
    mse = np.mean((a - b) ** 2)
    if mse == 0:
        return float("inf")
    return float(10.0 * np.log10(255.0 ** 2 / mse))


def ssim(sr, hr, shave=0, y_channel=False):
    """Structural similarity of `sr` against `hr` (Wang et al. 2004), BasicSR / DIC style.

    Same input conventions as psnr(). Local statistics use an 11 x 11 Gaussian window of
    sigma 1.5 (normalised to sum 1), C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2, population
    (not sample) covariances, and only 'valid' window positions: the SSIM map covers the
    (H - 10) x (W - 10) pixels whose whole window lies inside the shaved image, with no
    border padding (BasicSR filters with cv2.filter2D and then drops 5 px per side, which is
    the same set of values). The result is the mean of that map; for RGB, the mean of the
    three per-channel SSIMs. Identical images give 1.0.
    """
    a, b = _prepare_pair(sr, hr, shave, y_channel)
    if a.shape[0] < _SSIM_WINDOW or a.shape[1] < _SSIM_WINDOW:
        raise ValueError(f"ssim needs at least {_SSIM_WINDOW}x{_SSIM_WINDOW} pixels after shaving, got {a.shape[:2]}")
    if a.ndim == 2:
        return float(_ssim_single_channel(a, b))
    return float(np.mean([_ssim_single_channel(a[:, :, c], b[:, :, c]) for c in range(a.shape[2])]))


def _gaussian_taps(size=_SSIM_WINDOW, sigma=_SSIM_SIGMA):
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2
    taps = np.exp(-(offsets ** 2) / (2 * sigma ** 2))
    return taps / taps.sum()


def _valid_filter(image, taps):
    """'Valid' separable filtering: rows then columns, each output a weighted sum of the
    window lying wholly inside the image. The Gaussian is symmetric, so correlation and
    convolution coincide."""
    n = len(taps)
    rows = sum(w * image[k:image.shape[0] - n + 1 + k, :] for k, w in enumerate(taps))
    return sum(w * rows[:, k:rows.shape[1] - n + 1 + k] for k, w in enumerate(taps))


def _ssim_single_channel(a, b):
    taps = _gaussian_taps()
    mu_a, mu_b = _valid_filter(a, taps), _valid_filter(b, taps)
    # E[x^2] - E[x]^2 form, as in BasicSR; float64 keeps its cancellation error far below
    # the metric's reporting precision for 8-bit data.
    var_a = _valid_filter(a * a, taps) - mu_a ** 2
    var_b = _valid_filter(b * b, taps) - mu_b ** 2
    cov = _valid_filter(a * b, taps) - mu_a * mu_b
    numerator = (2 * mu_a * mu_b + _SSIM_C1) * (2 * cov + _SSIM_C2)
    denominator = (mu_a ** 2 + mu_b ** 2 + _SSIM_C1) * (var_a + var_b + _SSIM_C2)
    return np.mean(numerator / denominator)


def _prepare_pair(sr, hr, shave, y_channel):
    """Both images as float64, shaved and (optionally) reduced to Y; checks shapes."""
    sr, hr = np.asarray(sr), np.asarray(hr)
    if sr.shape != hr.shape:
        raise ValueError(f"sr and hr shapes differ: {sr.shape} vs {hr.shape}")
    if sr.ndim == 3 and sr.shape[2] == 1:
        sr, hr = sr[:, :, 0], hr[:, :, 0]
    if sr.ndim not in (2, 3) or (sr.ndim == 3 and sr.shape[2] != 3):
        raise ValueError(f"expected (H, W), (H, W, 1) or (H, W, 3) images, got shape {sr.shape}")
    shave = int(shave)
    if shave < 0:
        raise ValueError(f"shave must be >= 0, got {shave}")
    if 2 * shave >= min(sr.shape[0], sr.shape[1]):
        raise ValueError(f"shave {shave} leaves nothing of a {sr.shape[0]}x{sr.shape[1]} image")
    if shave:
        sr, hr = sr[shave:-shave, shave:-shave], hr[shave:-shave, shave:-shave]
    if y_channel:
        if sr.ndim != 3:
            raise ValueError("y_channel=True needs (H, W, 3) RGB images")
        return rgb_to_y(sr), rgb_to_y(hr)
    return sr.astype(np.float64), hr.astype(np.float64)


# --------------------------------------------------------------------------- landmarks


def nme(pred, gt, scheme=landmark_schemes.IBUG68, norm="auto", box=None):
    """Normalised mean error of one face: mean over points of ||pred - gt|| / normaliser.

    pred, gt: (K, 2) points in the same pixel frame (NME is invariant to a common scale and
    shift, so source or crop pixels give the same value). `norm` picks the normaliser:
    - "inter_ocular": distance between gt's outer eye corners (iBUG 68: 36/45, WFLW 98:
      60/72), the 300W / WFLW convention;
    - "box": the face box size sqrt(w * h), of `box` = (x_min, y_min, x_max, y_max) if given,
      else of the bounding box of the gt landmarks (w = x_max - x_min, no +1), the AFLW
      convention;
    - "auto" (default): "inter_ocular" for iBUG 68 and WFLW 98, "box" for schemes without
      eye corners (five-point);
    - a positive number: used as the normaliser directly.
    Returns a fraction (0.05 = 5%), not a percentage.
    """
    return float(nme_batch(np.asarray(pred)[None], np.asarray(gt)[None], scheme, norm,
                           None if box is None else np.asarray(box, dtype=np.float64)[None])[0])


def nme_batch(preds, gts, scheme=landmark_schemes.IBUG68, norm="auto", boxes=None):
    """nme() of N faces at once: preds, gts (N, K, 2); boxes None or (N, 4). Returns (N,)."""
    preds = np.asarray(preds, dtype=np.float64)
    gts = np.asarray(gts, dtype=np.float64)
    if preds.shape != gts.shape or preds.ndim != 3 or preds.shape[2] != 2:
        raise ValueError(f"preds and gts must both be (N, K, 2), got {preds.shape} and {gts.shape}")
    if not (np.isfinite(preds).all() and np.isfinite(gts).all()):
        raise ValueError("landmarks contain NaN or infinite values")
    normalisers = _normalisers(gts, scheme, norm, boxes)
    errors = np.linalg.norm(preds - gts, axis=2).mean(axis=1)
    return errors / normalisers


def _normalisers(gts, scheme, norm, boxes):
    count = gts.shape[0]
    if not isinstance(norm, str):
        value = float(norm)
        if not value > 0 or not np.isfinite(value):
            raise ValueError(f"a numeric norm must be positive and finite, got {norm!r}")
        return np.full(count, value)
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; valid: {', '.join(NORMS)} or a positive number")
    if norm == "auto":
        norm = "inter_ocular" if scheme in _EYE_CORNER_SCHEMES else "box"

    if norm == "inter_ocular":
        if scheme not in _EYE_CORNER_SCHEMES:
            raise ValueError(f"scheme {scheme!r} has no outer eye corners; use norm='box'")
        expected = landmark_schemes.NUM_POINTS[scheme]
        if gts.shape[1] != expected:
            raise ValueError(f"scheme {scheme!r} has {expected} points, landmarks have {gts.shape[1]}")
        first, second = landmark_schemes.OUTER_EYE_CORNERS[scheme]
        values = np.linalg.norm(gts[:, first] - gts[:, second], axis=1)
    else:
        if boxes is None:
            lows, highs = gts.min(axis=1), gts.max(axis=1)
        else:
            boxes = np.asarray(boxes, dtype=np.float64)
            if boxes.shape != (count, 4):
                raise ValueError(f"boxes must be ({count}, 4) as (x_min, y_min, x_max, y_max), got {boxes.shape}")
            lows, highs = boxes[:, :2], boxes[:, 2:]
        sides = highs - lows
        values = np.sqrt(np.clip(sides[:, 0], 0, None) * np.clip(sides[:, 1], 0, None))
    bad = ~(values > 0) | ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"zero or invalid {norm} normaliser for face(s) {np.flatnonzero(bad).tolist()}")
    return values


def _checked_errors(nmes):
    nmes = np.asarray(nmes, dtype=np.float64).ravel()
    if nmes.size == 0:
        raise ValueError("no NME values given")
    if not np.isfinite(nmes).all() or (nmes < 0).any():
        raise ValueError("NME values must be finite and non-negative")
    return nmes


def failure_rate(nmes, threshold=0.08):
    """Share of faces whose NME is strictly greater than `threshold` (a fraction in [0, 1])."""
    return float(np.mean(_checked_errors(nmes) > threshold))


def auc(nmes, threshold=0.08, steps=None):
    """Area under the cumulative error distribution from 0 to `threshold`, / threshold.

    CED(e) = share of faces with NME <= e. With steps=None (default) the integral is exact:
    CED is a step function, and each face contributes (threshold - min(nme, threshold)) to
    the area, so AUC = mean(max(0, 1 - nme / threshold)). With an integer `steps`, the
    trapezoid rule on steps + 1 equally spaced errors from 0 to threshold is used instead (the
    grid integration of published 300W / WFLW evaluation code); it differs from the exact
    value by at most 1 / (2 * steps). All zeros -> 1.0; all above threshold -> 0.0.
    """
    nmes = _checked_errors(nmes)
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    if steps is None:
        return float(np.mean(np.clip(1.0 - nmes / threshold, 0.0, None)))
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    grid = np.linspace(0.0, threshold, steps + 1)
    ced = np.searchsorted(np.sort(nmes), grid, side="right") / nmes.size
    area = np.sum((ced[1:] + ced[:-1]) / 2) * (threshold / steps)
    return float(area / threshold)


def mean_shape(landmarks):
    """Per-point mean (K, 2) of (N, K, 2) landmarks, float64: the "mean-shape" predictor
    that every face is scored against to give the NME floor a model must beat. The
    landmarks must share one frame (e.g. the HR crops), else the mean is meaningless."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.ndim != 3 or landmarks.shape[2] != 2 or landmarks.shape[0] == 0:
        raise ValueError(f"landmarks must be (N, K, 2) with N >= 1, got {landmarks.shape}")
    if not np.isfinite(landmarks).all():
        raise ValueError("landmarks contain NaN or infinite values")
    return landmarks.mean(axis=0)
