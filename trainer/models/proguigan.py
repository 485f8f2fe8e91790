"""Pro-UIGAN ("Progressive Face Hallucination from Occluded Thumbnails", IEEE TIP 2022), Keras 3.

The paper has no public code; REFERENCE.md gives its design, which this follows: a 16x16
(possibly occluded) thumbnail is super-resolved and inpainted x8 coarse to fine, in one stage
per doubling (16 -> 32 -> 64 -> 128); each stage (1) estimates facial landmark priors of the
current estimate and (2) upsamples under their guidance, through a cross-modal attention block
with face features as queries and landmark features as keys; trained as a GAN. Every size,
width and block below is our choice, documented here.

Data flow at hr 128 (F, F_s: widths; trainer/models/proguigan_blocks.py for the blocks):
  LR (16) -> conv3x3 to F, LeakyReLU, head_blocks residual blocks: face features at 16x16
  x_0 = LR; for stage s = 1, 2, 3 (resolution r_s = 16 * 2^s):
    H_{s-1} = prior estimator(x_{s-1})          landmark heatmaps of the current estimate
    features: x2 upsampling block to F_s channels at r_s
              + cross-modal attention(queries: features, keys/values: features of H_{s-1})
              -> stage_blocks residual blocks
    x_s = bilinear x2 (x_{s-1}) + conv3x3 to RGB (zero-initialised)   the stage's estimate
  H_3 = prior estimator(x_3)                    the alignment of the answer
One prior estimator (its weights shared by all four calls) reads every estimate resized to
hr/2: a stride-2 stem, a normalised hourglass and a 68-map head on the hr/4 grid, sigma 1 (DIC's
heatmaps). Residual blocks, attention output and RGB convs start at zero, so the untrained
model is the bilinear upsampling chain and the guidance is learned from there (the same
trick that lets our DIC train from scratch).

Outputs (trainer/models/outputs.py):
  SR_STEPS (B, 3, hr, hr, 3): the three stage estimates x_1, x_2, x_3, the coarse ones
    upsampled to hr bilinearly *inside the model*, so the shared pixel loss (against the HR
    face, summed over steps as DIC's) also supervises the intermediate stages: a stage is
    asked for the r_s-pixel image whose bilinear upsampling is closest to the HR face, a
    deterministic, well-posed target. The last step is the model's answer at full resolution.
  HEATMAP_STEPS (B, 4, hr/4, hr/4, 68): H_0 .. H_3, all on one grid; H_0..H_2 are the priors
    that guided stages 1-3, H_3 (the last step) the landmarks of the answer, which the export
    decodes. The heatmap loss sums over all four.
The adversarial and feature-matching losses apply to the last step (trainer/training/gan_loop.py).

Occlusion: the thumbnails come occluded (rectangles, hands, sunglasses, drawn on the HR image
before downscaling: tinyface/data/degradation/occlusion.py) and the HR targets clean, so the network learns
to inpaint. It is given no occlusion mask: a deployed model would not have one.
"""

import dataclasses
import math
from typing import Tuple

import keras

from tinyface.data.heatmaps import DIC_DOWNSAMPLING, dic_heatmaps
from tinyface.trainer.models import blocks as dic_blocks, discriminator
from tinyface.trainer.models import proguigan_blocks as blocks
from tinyface.trainer.models.outputs import HEATMAP_STEPS, SR_STEPS

# The landmark priors live on an hr/4 grid (32x32 at 128 px), sigma 1, no background: DIC's.
HEATMAP_DOWNSAMPLING = DIC_DOWNSAMPLING


@dataclasses.dataclass(frozen=True)
class ProUiganConfig:
    num_features: int                 # face feature width at the LR size
    stage_features: Tuple[int, ...]   # feature width of each stage, one per x2 (3 for x8)
    head_blocks: int                  # residual blocks at the LR size
    stage_blocks: int                 # residual blocks per stage, after the attention
    prior_features: int               # prior estimator width (its hourglass runs at this)
    prior_depth: int                  # hourglass levels of the prior estimator
    attention_dim: int                # token width of the cross-modal attention
    attention_heads: int
    attention_grid: int               # side of the grid attention runs on (at most)
    discriminator: discriminator.DiscriminatorConfig
    hr_size: int = 128
    scale: int = 8
    num_landmarks: int = 68

    def __post_init__(self):
        object.__setattr__(self, "stage_features", tuple(int(f) for f in self.stage_features))
        for name in ("num_features", "prior_features", "attention_dim", "attention_heads",
                     "attention_grid", "hr_size", "scale", "num_landmarks", "prior_depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("head_blocks", "stage_blocks"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.scale < 2 or self.scale & (self.scale - 1):
            raise ValueError(f"scale must be a power of two >= 2 (one stage per x2), got {self.scale}")
        if len(self.stage_features) != self.num_stages or min(self.stage_features) < 1:
            raise ValueError(f"x{self.scale} needs {self.num_stages} positive stage widths, "
                             f"got {self.stage_features}")
        if self.hr_size % self.scale or self.hr_size % HEATMAP_DOWNSAMPLING:
            raise ValueError(f"hr_size {self.hr_size} must be a multiple of the scale and of "
                             f"{HEATMAP_DOWNSAMPLING}")
        grid = self.hr_size // HEATMAP_DOWNSAMPLING
        if grid % 2 ** self.prior_depth:
            raise ValueError(f"a {grid}x{grid} heatmap grid cannot pool {self.prior_depth} "
                             f"hourglass levels")
        if self.attention_grid & (self.attention_grid - 1) or self.attention_grid > grid:
            raise ValueError(f"attention_grid must be a power of two <= the {grid}-cell heatmap "
                             f"grid, got {self.attention_grid}")
        if self.attention_dim % self.attention_heads:
            raise ValueError(f"attention_dim {self.attention_dim} is not divisible by "
                             f"{self.attention_heads} heads")
        if self.prior_features % 4:
            raise ValueError(f"prior_features must be a multiple of 4, got {self.prior_features}")

    @property
    def lr_size(self):
        return self.hr_size // self.scale

    @property
    def num_stages(self):
        return int(round(math.log2(self.scale)))

    @property
    def stage_sizes(self):
        return tuple(self.lr_size * 2 ** (s + 1) for s in range(self.num_stages))


# Our reference size (the paper publishes none we have): attention on the full 32x32 heatmap
# grid (1024 tokens), DIC-sized prior hourglass, widths shrinking as the resolution grows.
REFERENCE = ProUiganConfig(num_features=64, stage_features=(64, 48, 32), head_blocks=8,
                           stage_blocks=4, prior_features=128, prior_depth=4, attention_dim=64,
                           attention_heads=4, attention_grid=32,
                           discriminator=discriminator.REFERENCE)
# Tests and the CPU demo: every block present, tiny widths, attention on 8x8.
SMALL = ProUiganConfig(num_features=16, stage_features=(16, 12, 8), head_blocks=1, stage_blocks=1,
                       prior_features=16, prior_depth=1, attention_dim=16, attention_heads=2,
                       attention_grid=8, discriminator=discriminator.SMALL)


def heatmap_spec(config):
    return dic_heatmaps(config.hr_size)


def build(config, name="proguigan"):
    """Pro-UIGAN's generator: (B, lr, lr, 3) in [0, 1] -> {SR_STEPS (B, stages, hr, hr, 3),
    HEATMAP_STEPS (B, stages + 1, hr/4, hr/4, num_landmarks)}, float32."""
    c = config
    grid = heatmap_spec(c).size
    lr = keras.Input((c.lr_size, c.lr_size, 3), name="lr")
    features = blocks.lrelu("head_lrelu")(blocks.conv(c.num_features, 3, "head_conv")(lr))
    for i in range(c.head_blocks):
        features = blocks.residual_block(features, f"head_res{i}")

    estimator = blocks.LandmarkPriorEstimator(c.prior_features, c.num_landmarks, c.prior_depth,
                                              2 * grid, "prior")
    image = lr
    sr_steps, heatmap_steps = [], []
    for stage, (size, width) in enumerate(zip(c.stage_sizes, c.stage_features), start=1):
        heatmaps = estimator(image)
        heatmap_steps.append(heatmaps)
        features = blocks.upsample_block(features, width, f"stage{stage}_up")
        attention = blocks.CrossModalAttention(width, c.attention_dim, c.attention_heads,
                                               c.attention_grid, size, grid, f"stage{stage}_attention")
        features = attention(features, heatmaps)
        for i in range(c.stage_blocks):
            features = blocks.residual_block(features, f"stage{stage}_res{i}")
        # The image path stays float32 under mixed precision: it accumulates over the stages.
        residual = blocks.conv(3, 3, f"stage{stage}_rgb", kernel_initializer="zeros")(features)
        upsampled = keras.layers.UpSampling2D(2, interpolation="bilinear", dtype="float32",
                                              name=f"stage{stage}_image_up")(image)
        image = keras.layers.Add(dtype="float32", name=f"stage{stage}_image")([upsampled, residual])
        sr_steps.append(blocks.resize_image(image, c.hr_size, f"stage{stage}_to_hr"))
    heatmap_steps.append(estimator(image))

    outputs = {SR_STEPS: dic_blocks.StackSteps(name=SR_STEPS)(sr_steps),
               HEATMAP_STEPS: dic_blocks.StackSteps(name=HEATMAP_STEPS)(heatmap_steps)}
    return keras.Model(lr, outputs, name=name)


def build_discriminator(config, name="proguigan_discriminator"):
    return discriminator.build(config.discriminator, config.hr_size, name=name)
