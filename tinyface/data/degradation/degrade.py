"""HR -> LR degradation: the papers' bicubic downscale, plus optional blur, noise, JPEG, occlusion.

The DIC and JASRNet data is "bicubic to 16": MATLAB imresize semantics, i.e. a cubic kernel
(a = -0.5) that is widened by the scale factor when shrinking, so it also low-passes. PIL's
BICUBIC resampling is that filter (and its border handling only differs in the outermost
pixels); we use PIL rather than re-implementing it.

Order of the degradations, as in real capture pipelines: occluder on the HR image, optical
blur at HR resolution, bicubic downscale, sensor noise on the LR image, JPEG of the LR image.
"""

import dataclasses
import hashlib
import io
from typing import Tuple

import numpy as np
from PIL import Image
from scipy import ndimage

from tinyface import features
from tinyface.data.degradation import occlusion


def _as_range(name, value, minimum, maximum=None):
    try:
        low, high = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (low, high) pair, got {value!r}") from None
    if not low <= high:
        raise ValueError(f"{name} must have low <= high, got {value!r}")
    if low < minimum or (maximum is not None and high > maximum):
        bound = f"[{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{name} must lie in {bound}, got {value!r}")
    return (low, high)


@dataclasses.dataclass(frozen=True)
class DegradationConfig:
    """What degradations a pair gets; every range is (low, high), sampled uniformly per example.

    The defaults are the papers' setting: x8 bicubic only, no blur/noise/JPEG/occlusion.
    """

    scales: Tuple[int, ...] = (8,)
    blur_sigma: Tuple[float, float] = (0.0, 0.0)    # Gaussian sigma in HR pixels, before downscaling
    noise_sigma: Tuple[float, float] = (0.0, 0.0)   # Gaussian noise sigma on the LR image, 0..255 scale
    jpeg_quality: Tuple[int, int] = (0, 0)          # (0, 0) = no JPEG; else qualities in 1..100
    occlusion_probability: float = 0.0
    occluders: Tuple[str, ...] = occlusion.OCCLUDER_KINDS

    def __post_init__(self):
        # Frozen, so normalise through object.__setattr__ (configs may arrive as JSON lists).
        scales = tuple(self.scales) if not isinstance(self.scales, (int, np.integer)) else (self.scales,)
        if not scales:
            raise ValueError("scales must not be empty")
        for scale in scales:
            if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
                raise ValueError(f"scales must be positive integers, got {scales!r}")
        if len(set(scales)) != len(scales):
            raise ValueError(f"scales must not repeat, got {scales!r}")
        object.__setattr__(self, "scales", tuple(int(s) for s in scales))
        object.__setattr__(self, "blur_sigma", _as_range("blur_sigma", self.blur_sigma, 0.0))
        object.__setattr__(self, "noise_sigma", _as_range("noise_sigma", self.noise_sigma, 0.0))
        quality = _as_range("jpeg_quality", self.jpeg_quality, 0, 100)
        if any(int(q) != q for q in quality):
            raise ValueError(f"jpeg_quality must be integers, got {self.jpeg_quality!r}")
        if quality != (0, 0) and quality[0] < 1:
            raise ValueError(f"jpeg_quality must be (0, 0) for no JPEG or lie in [1, 100], got {quality!r}")
        object.__setattr__(self, "jpeg_quality", (int(quality[0]), int(quality[1])))
        if not 0.0 <= self.occlusion_probability <= 1.0:
            raise ValueError(f"occlusion_probability must lie in [0, 1], got {self.occlusion_probability!r}")
        occluders = (self.occluders,) if isinstance(self.occluders, str) else tuple(self.occluders)
        unknown = [kind for kind in occluders if kind not in occlusion.OCCLUDER_KINDS]
        if unknown:
            raise ValueError(f"unknown occluders {unknown}; expected some of {occlusion.OCCLUDER_KINDS}")
        if self.occlusion_probability > 0 and not occluders:
            raise ValueError("occlusion_probability > 0 needs at least one occluder kind")
        object.__setattr__(self, "occluders", occluders)


def example_seed(face_id: str, global_seed: int) -> int:
    """A seed for one face that is the same in every process, Python version and platform.

    (Python's hash() of a str is salted per process, so it cannot be used.) The result fits a
    signed int64 feature.
    """
    digest = hashlib.sha256(f"{int(global_seed)}\x00{face_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def bicubic_resize(image, size):
    """Resizes a uint8 (H, W) or (H, W, C) image to `size` = (width, height) with bicubic.

    Antialiased when shrinking (the kernel is widened by the scale), as MATLAB imresize.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"bicubic_resize expects uint8, got {image.dtype}")
    width, height = (size, size) if np.isscalar(size) else size
    resized = Image.fromarray(image).resize((int(width), int(height)), Image.BICUBIC, reducing_gap=None)
    return np.asarray(resized)


def _gaussian_blur(image, sigma):
    if sigma <= 0:
        return image
    blurred = ndimage.gaussian_filter(image.astype(np.float64), sigma=(sigma, sigma, 0), mode="reflect")
    return np.clip(np.round(blurred), 0, 255).astype(np.uint8)


def _jpeg_roundtrip(image, quality):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=int(quality))
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def degrade(hr, scale, config, rng, landmarks68=None):
    """Makes the LR input for the HR crop `hr` (H, W, 3) uint8 at integer factor `scale`.

    `rng` is a numpy Generator (np.random.default_rng(seed) for a reproducible example);
    `landmarks68` ((68, 2) HR pixels or None) places occluders. Returns (lr, params): lr is
    (H/scale, W/scale, 3) uint8 and params maps the feature keys BLUR_SIGMA, NOISE_SIGMA,
    JPEG_QUALITY, OCCLUDER, OCCLUDED to the values actually applied.
    """
    hr = np.asarray(hr)
    if hr.dtype != np.uint8 or hr.ndim != 3 or hr.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {hr.dtype} {hr.shape}")
    height, width = hr.shape[:2]
    if height % scale or width % scale:
        raise ValueError(f"HR size {width}x{height} is not divisible by scale {scale}")
    # Every parameter is drawn, in a fixed order, even when its range is degenerate, so that the
    # values of one degradation do not shift when another one is switched on or off.
    blur_sigma = float(rng.uniform(*config.blur_sigma))
    noise_sigma = float(rng.uniform(*config.noise_sigma))
    low_quality, high_quality = config.jpeg_quality
    jpeg_quality = int(rng.integers(low_quality, high_quality + 1))
    occlusion_draw = float(rng.random())
    occluders = config.occluders or (occlusion.NO_OCCLUDER,)
    occluder = str(occluders[int(rng.integers(len(occluders)))])
    # Independent child streams: the noise field's and the occluder's draws do not depend on
    # each other's size.
    occluder_rng, noise_rng = (np.random.default_rng(s) for s in rng.integers(0, 2**63, size=2))

    image = hr
    occluded = occlusion_draw < config.occlusion_probability
    if occluded:
        image = occlusion.occlude(image, landmarks68, occluder, occluder_rng)
    else:
        occluder = occlusion.NO_OCCLUDER
    image = _gaussian_blur(image, blur_sigma)
    lr = bicubic_resize(image, (width // scale, height // scale))
    if noise_sigma > 0:
        noisy = lr.astype(np.float64) + noise_rng.normal(0.0, noise_sigma, size=lr.shape)
        lr = np.clip(np.round(noisy), 0, 255).astype(np.uint8)
    if jpeg_quality > 0:
        lr = _jpeg_roundtrip(lr, jpeg_quality)
    params = {
        features.BLUR_SIGMA: blur_sigma,
        features.NOISE_SIGMA: noise_sigma,
        features.JPEG_QUALITY: jpeg_quality,
        features.OCCLUDER: occluder,
        features.OCCLUDED: int(occluded),
    }
    return lr, params
