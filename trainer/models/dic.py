"""DIC (Ma et al., CVPR 2020): iterative collaboration of face SR and landmark estimation, Keras 3.

Structure follows the reference (Maclory/Deep-Iterative-Collaboration, code/networks): an SR
branch (LR features -> SRFBN feedback block -> deconv x4 + conv, plus a bilinear x8 residual)
and an alignment branch (feedback hourglass on each step's SR image), unrolled for num_steps;
from the second step on, the previous heatmaps steer SR through the attentive fusion module.

Measured size of REFERENCE (16x16 -> 128x128, 4 steps), against the paper's 21.80 M / 90.7 GFLOP:
  parameters: 21,835,977 (+0.17%); without our 32,128 GroupNorm scales/offsets 21,803,849,
    i.e. the reference's own structure matches to rounding.
  FLOPs per face: tf.compat.v1.profiler float_operation on the graph of
    tf.function(model).get_concrete_function(TensorSpec([1, 16, 16, 3])): 91.66 GFLOP
    (91.46 before the dense links' 1x1 convs ran per piece, trainer/models/concat_conv.py: the
    profiler also counts the 0.19 G of adds of their partial sums; 92.05 before the
    transposed convs became stride-1 convs, see below).
    The profiler counts a multiply-add as 2 FLOPs, convolutions and some elementwise adds
    (norms, activations, resizes are not counted). Exact multiply-adds: convs 36.58 G + transposed convs 8.76 G =
    45.34 G MACs = 90.67 GFLOP at 2 per MAC: the paper's 90.7 GFLOP counts each multiply-add
    twice (it is not thop MACs: those would be ~45.3 G, or ~585 G with thop's output-based
    count of stride-8 transposed convs). With stock Conv2DTranspose layers the profiler's
    extra was 1.38 G: its transposed-conv formula credited the border that the reference's
    padding crops away ((260/8)^2 instead of 32^2 positions for the k12 s8 projections). The
    projections now run as stride-1 convs of exactly the transposed convs' multiply-adds
    (trainer/models/subpixel_projections.py); the remaining 0.79 G over the exact count (0.98 G
    with the adds above) was not broken down.

Changes from the reference, all for training from scratch (the reference relies on a
pre-trained, initially frozen hourglass and diverges without it):
  * GroupNorm in the hourglass where the reference's BatchNorm hourglass has BatchNorm, and
    after the compression that merges the previous step's hidden state (see
    dic_blocks.FeedbackHourglass). hourglass_norm=None builds the reference's un-normalised
    feedback hourglass exactly.
  * Initialisation (otherwise the reference's Kaiming-normal, zero bias): the second conv of
    each fusion residual block starts at zero (the un-normalised blocks amplified features
    ~35x, and the SR feedback state then grew ~3.5x per step); the heatmap head starts at
    std 1e-3; the last SR conv (conv_out) starts at zero, so every step initially returns the
    bilinear x8 upsampling and learns the residual from there.
Other differences, none of which change what the network can compute: pixel shuffle uses
depth_to_space's channel order; grouped convs run as one conv per group (same weights); the
stride-8 projections and the reconstruction deconv run as stride-1 convs + pixel (un)shuffle
(trainer/models/subpixel_projections.py: same weights and outputs, much faster on CPU), and the
feedback block keeps its full-resolution maps in phase-packed order, never shuffled into image
order, since only per-pixel layers read them between an up- and a down-projection; the
feedback block's dense links sum per-piece 1x1 convs instead of concatenating
(trainer/models/concat_conv.py); a serving export runs the PReLUs as LeakyRelu with the trained
slope (trainer/models/constant_slope_prelu.py). All keep the stock layers' weights files.
"""

import dataclasses

import keras

from tinyface.data.heatmaps import DIC_DOWNSAMPLING, dic_heatmaps
from tinyface.data.landmarks import FACE_PARTS_68
from tinyface.trainer.models import blocks
from tinyface.trainer.models import layers
from tinyface.trainer.models.outputs import HEATMAP_STEPS, SR_STEPS

# The alignment branch works at HR/4 (stride-2 stem conv, then a 2x2 max-pool): the grid of
# DIC's heatmaps, unnormalised Gaussians of sigma 1 cell without background channel.
HEATMAP_DOWNSAMPLING = DIC_DOWNSAMPLING
# The reference implements x8 only (pixel shuffle x2, then the k8 s4 p2 deconv for x4).
SUPPORTED_SCALE = 8
RECONSTRUCTION_KERNEL, RECONSTRUCTION_STRIDE, RECONSTRUCTION_CROP = 8, 4, 2
HOURGLASS_NORMS = (None, "group")


@dataclasses.dataclass(frozen=True)
class DicConfig:
    num_features: int          # SR branch width F (feedback block runs at F channels)
    num_steps: int             # SR/alignment iterations; every step is an output
    num_groups: int            # up/down projection groups in the feedback block
    hg_features: int           # hourglass width C (the hourglass itself runs at 2C)
    num_fusion_blocks: int     # grouped residual blocks in the attentive fusion module
    hr_size: int = 128
    scale: int = 8
    num_landmarks: int = 68
    hg_depth: int = 4          # hourglass levels (32x32 down to 2x2 at HR 128)
    # Landmark indices of each part the fusion module attends over.
    face_parts: tuple = tuple(tuple(v) for v in FACE_PARTS_68.values())
    hourglass_norm: object = "group"   # None: the reference's un-normalised hourglass

    def __post_init__(self):
        if self.scale != SUPPORTED_SCALE:
            raise ValueError(f"DIC supports x{SUPPORTED_SCALE} only, got x{self.scale}")
        if self.hr_size % (self.scale * 2):
            raise ValueError(f"hr_size {self.hr_size} must be a multiple of {self.scale * 2}")
        heatmap_size = self.hr_size // HEATMAP_DOWNSAMPLING
        if heatmap_size % (2 ** self.hg_depth):
            raise ValueError(f"{heatmap_size}x{heatmap_size} heatmaps cannot pool "
                             f"{self.hg_depth} hourglass levels")
        if self.hourglass_norm not in HOURGLASS_NORMS:
            raise ValueError(f"hourglass_norm must be one of {HOURGLASS_NORMS}")
        if self.num_steps < 1 or self.num_groups < 1 or self.num_fusion_blocks < 0:
            raise ValueError("num_steps and num_groups must be >= 1, num_fusion_blocks >= 0")
        covered = sorted(i for part in self.face_parts for i in part)
        if covered != list(range(self.num_landmarks)):
            raise ValueError("face_parts must partition the landmark indices")
        object.__setattr__(self, "face_parts", tuple(tuple(int(i) for i in p)
                                                     for p in self.face_parts))

    @property
    def lr_size(self):
        return self.hr_size // self.scale


# The CelebA model of the paper (train_DIC_CelebA.json).
REFERENCE = DicConfig(num_features=48, num_steps=4, num_groups=6, hg_features=256,
                      num_fusion_blocks=7)
# Tiny widths, 2 steps: builds and trains a few steps in seconds on CPU.
SMALL = DicConfig(num_features=8, num_steps=2, num_groups=2, hg_features=16,
                  num_fusion_blocks=1, hg_depth=1)


def heatmap_spec(config):
    """The heatmaps `build(config)` predicts: HR/4 grid, sigma 1, no background."""
    return dic_heatmaps(config.hr_size)


def build(config, name="dic"):
    """DIC as a Keras 3 model: (B, lr, lr, 3) in [0, 1] -> {SR_STEPS, HEATMAP_STEPS}, float32.

    SR_STEPS (B, num_steps, hr, hr, 3); HEATMAP_STEPS (B, num_steps, hr/4, hr/4, num_landmarks).
    """
    f = config.num_features
    lr = keras.Input((config.lr_size, config.lr_size, 3), name="lr")

    # LR features: 3x3 conv to 4F, pixel shuffle to F channels at 2x the LR size.
    features = layers.PixelShuffle(2, name="feat_in")(blocks.conv_prelu(4 * f, 3, "conv_in")(lr))
    bilinear = keras.layers.UpSampling2D(config.scale, interpolation="bilinear",
                                         name="bilinear_x8")(lr)

    first_block = blocks.FeedbackBlock(f, config.num_groups, "first_block")
    fusion = blocks.AttentiveFusion(f, len(config.face_parts), config.num_fusion_blocks,
                                    "fusion")
    guided_block = blocks.FeedbackBlock(f, config.num_groups, "block", fusion=fusion)
    reconstruct = blocks.Sequence(
        blocks.deconv_prelu(f, RECONSTRUCTION_KERNEL, RECONSTRUCTION_STRIDE,
                            RECONSTRUCTION_CROP, "out"),
        # Zero-initialised: every step starts as the bilinear upsampling (see module docstring).
        keras.layers.Conv2D(3, 3, padding="same", kernel_initializer="zeros", name="conv_out"))
    alignment = blocks.FeedbackHourglass(config.hg_features, config.num_landmarks,
                                         config.hg_depth, config.hourglass_norm is not None,
                                         "hg")

    sr_steps, heatmap_steps = [], []
    sr_hidden = hg_hidden = heatmaps = None
    for step in range(config.num_steps):
        if step == 0:
            sr_hidden = first_block(features)
        else:
            part_maps = blocks.HeatmapPartMerge(config.face_parts, config.num_landmarks,
                                                name=f"part_maps_step{step}")(heatmaps)
            sr_hidden = guided_block(features, hidden=sr_hidden, part_maps=part_maps)
        sr = keras.layers.Add(name=f"sr_step{step}")([bilinear, reconstruct(sr_hidden)])
        heatmaps, hg_hidden = alignment(sr, hidden=hg_hidden)
        sr_steps.append(sr)
        heatmap_steps.append(heatmaps)

    outputs = {SR_STEPS: blocks.StackSteps(name=SR_STEPS)(sr_steps),
               HEATMAP_STEPS: blocks.StackSteps(name=HEATMAP_STEPS)(heatmap_steps)}
    return keras.Model(lr, outputs, name=name)
