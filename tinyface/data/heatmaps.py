"""Landmark heatmaps: the one rendering that PairGen (materialized) and the trainer share.

Both families use unnormalised Gaussians with peak 1 on a grid coarser than the HR image:
DIC 68 maps on 32x32 with sigma 1; JASRNet 68 maps + 1 background map on HR/8 (16x16 for
128x128 faces) with sigma 4. Sigma is in heatmap-grid cells.

Grid mapping: landmarks are in HR pixels, 0-based, pixel centres at integers. A heatmap cell
covers hr_size/size HR pixels, so HR x maps to u = (x + 0.5) * size / hr_size - 0.5 (cell
centres at integers again); decoding must invert exactly this.
"""

import dataclasses

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class HeatmapSpec:
    size: int          # heatmap side in cells
    sigma: float       # Gaussian sigma in cells
    background: bool   # append a background channel = 1 - max over the landmark channels

    def __post_init__(self):
        if isinstance(self.size, bool) or int(self.size) != self.size or self.size < 1:
            raise ValueError(f"heatmap size must be a positive integer, got {self.size!r}")
        if not self.sigma > 0:
            raise ValueError(f"heatmap sigma must be positive, got {self.sigma!r}")
        object.__setattr__(self, "size", int(self.size))
        object.__setattr__(self, "sigma", float(self.sigma))
        object.__setattr__(self, "background", bool(self.background))

    def num_channels(self, num_landmarks):
        return num_landmarks + int(self.background)

    def flat_length(self, num_landmarks):
        """Length of the flattened (size, size, channels) heatmaps feature."""
        return self.size * self.size * self.num_channels(num_landmarks)


# JASRNet predicts at HR/8, so its grid grows with the HR size (16 cells for 128x128 faces);
# use jasrnet_heatmaps(hr_size) for other HR sizes.
JASRNET_DOWNSAMPLING = 8


JASRNET_SIGMA = 4.0  # cells of the HR/8 grid, as the reference's label maps


def jasrnet_heatmaps(hr_size, sigma=JASRNET_SIGMA):
    """JASRNet's heatmap spec for HR faces of side `hr_size`: HR/8 grid, sigma 4 (by default),
    background channel."""
    if hr_size % JASRNET_DOWNSAMPLING:
        raise ValueError(f"JASRNet heatmaps need an HR size divisible by 8, got {hr_size}")
    return HeatmapSpec(hr_size // JASRNET_DOWNSAMPLING, sigma, True)


# DIC predicts at HR/4 (32 cells for 128x128 faces), sigma 1 cell, no background channel;
# Pro-UIGAN's landmark priors use the same grid.
DIC_DOWNSAMPLING = 4
DIC_SIGMA = 1.0


def dic_heatmaps(hr_size):
    """DIC's heatmap spec for HR faces of side `hr_size`: HR/4 grid, sigma 1, no background."""
    if hr_size % DIC_DOWNSAMPLING:
        raise ValueError(f"DIC heatmaps need an HR size divisible by {DIC_DOWNSAMPLING}, got {hr_size}")
    return HeatmapSpec(hr_size // DIC_DOWNSAMPLING, DIC_SIGMA, False)


# Both at 128x128 faces, as every model preset (trainer.model_registry.model_contract).
DIC_HEATMAPS = dic_heatmaps(128)
JASRNET_HEATMAPS = jasrnet_heatmaps(128)


def render_heatmaps(landmarks, hr_size, spec):
    """Renders Gaussian heatmaps for `landmarks` (..., K, 2) (x, y) in HR pixels.

    Works for unbatched (K, 2) and batched (B, K, 2) input, eagerly and in graph mode (e.g.
    inside tf.data.Dataset.map). `hr_size` is the HR side (Python number or scalar tensor).
    Returns float32 (..., size, size, K [+1 background]), channels last, peak value 1.
    """
    landmarks = tf.convert_to_tensor(landmarks, dtype=tf.float32)
    hr_size = tf.cast(hr_size, tf.float32)
    cells_per_pixel = spec.size / hr_size
    grid = (landmarks + 0.5) * cells_per_pixel - 0.5                 # (..., K, 2)
    centres = tf.range(spec.size, dtype=tf.float32)                  # (size,)
    # A 2-D Gaussian is the product of two 1-D ones: exp(-(dx^2 + dy^2) / 2s^2).
    two_sigma_sq = 2.0 * spec.sigma ** 2
    along_x = tf.exp(-tf.square(centres - grid[..., 0:1]) / two_sigma_sq)  # (..., K, size)
    along_y = tf.exp(-tf.square(centres - grid[..., 1:2]) / two_sigma_sq)  # (..., K, size)
    heatmaps = tf.einsum("...ky,...kx->...yxk", along_y, along_x)          # (..., size, size, K)
    if spec.background:
        background = 1.0 - tf.reduce_max(heatmaps, axis=-1, keepdims=True)
        heatmaps = tf.concat([heatmaps, background], axis=-1)
    return heatmaps
