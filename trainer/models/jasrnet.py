"""JASRNet (Yin et al., AAAI 2020): joint x8 face super-resolution and 68-point alignment.

Keras 3 (TF backend) re-implementation of the structure of the reference PyTorch model
(YuYin1/JASRNet, src/model/jasr.py). Returns the dict of trainer/models/outputs.py.

Data flow for hr = 128 (every conv is 3x3, 'same', with bias; ReLU is the only activation):
  LR 16x16 -> bicubic to 128 -> normalise (ImageNet mean/std) -> head conv (128x128)
  shared encoder, four levels of residual blocks (each followed by a ReLU), max-pool between:
    L0 at hr (2 blocks), L1 at hr/2 (3), L2 at hr/4 (4), L3 at hr/8 (2);
    fusion pathway of stride-2 convs: P1 = down(L0) + L1, P2 = down(P1) + L2, P3 = down(P2)
  trunk: n_resblocks blocks on L3, plus P3 -> shared features at hr/8
  SR head:  2 blocks (residual scale 0.1) + conv, plus a skip from the head conv
            (3 x [conv, max-pool]) -> 3 x [conv to 4n, pixel shuffle 2] -> conv to RGB -> de-normalise
  CPM head: 2 blocks + conv = shared CPM features F (hr/8);
            stage 1: 2 blocks + conv to 69 maps; stage t > 1: [F, maps of t-1] -> conv + ReLU,
            3 blocks, conv to 69 maps.  All stages are returned (the loss sums over them).

Size at REFERENCE (hr 128, n_feats 128, 32 trunk blocks, 69 maps of 16x16), measured:
  parameters: 19,885,778 (reference figure: 19.89 M). The reference additionally owns
    3 frozen 1x1 "MeanShift" convs (36 numbers, requires_grad=False, one of them unused);
    here normalisation is a constant Normalization layer without weights.
  FLOPs per face (tf.compat.v1.profiler float_operation on the graph of
    tf.function(model).get_concrete_function(tf.TensorSpec([1, 16, 16, 3]))): 50.976 G, of
    which Conv2D 50.938 G (= 2 x 25.469 G multiply-adds), BiasAdd 0.024 G, Add 0.009 G,
    MaxPool 0.006 G, the rest < 0.001 G. The profiler counts a multiply-add as 2 FLOPs and
    registers no count for ReLU, DepthToSpace or ResizeBicubic. The reference 50.9 G matches
    2 x MACs of the convolutions (50.94 G, +0.07 %), so it too counts 2 FLOPs per
    multiply-add; a thop-style MAC count of this network is 25.5 G.

Deliberate differences from the reference code (none changes parameters or conv FLOPs):
  * The output de-normalisation is the exact inverse of the input normalisation,
    x * std + mean. The reference's add_mean computes (x + mean) / std, which inverts the
    input only for std = 1 (its commented-out DIV2K setting); with the ImageNet std it makes
    the zero-initialised network output ~2 instead of ~0.45 on a [0, 1] target.
  * Stride-2 convs use TF 'same' padding (pad bottom/right) instead of PyTorch's symmetric
    pad 1, a half-pixel shift of the sampling grid; pixel shuffle uses TF's depth_to_space
    channel order. Both are immaterial when training from scratch.
  * The bicubic upsampling is inside the model (TF half-pixel Keys cubic, a = -0.5); the
    reference feeds an OpenCV INTER_CUBIC (a = -0.75) image prepared outside the network.
  * The x8 SR upsampler factor is the encoder's fixed /8 (JASRNET_DOWNSAMPLING), not the
    LR scale: the trunk always works at hr/8, so for scale != 8 the reference's
    Upsampler(scale) would not return to hr. At scale 8 the two are the same.
Two options that are NOT the paper's, off in REFERENCE and on in SMALL (the CPU demo), because
the 16-feature demo net did not learn within a demo's budget without them. Measured on the
default synthetic data (320 train / 78 eval faces, x8, batch 8, Adam 1e-3, 2000 steps):
  * global_residual: the SR head predicts only what bicubic misses and the bicubic input is
    added back (VDSR-style). Without it the paper's output starts at the ImageNet mean colour
    and after 1000 steps (paper lr 5e-5) was still 1.3 dB *below* bicubic; with it, +1.5 dB
    above bicubic after 2000 steps.
  * heatmap_sigma 1.5 cells instead of the reference's 4: a sigma-4 Gaussian on the 16x16 grid
    is 32 HR pixels wide, so its MSE barely moves with the peak; the net then predicted near
    the mean shape (NME 0.161 vs the eval mean shape's 0.162 after 2000 steps, 0.149 after
    4000). With sigma 1.5: NME 0.088 after 2000 steps, below the mean shape on every pose.
Initialisation follows the reference (weights_init_cpm): conv kernels N(0, 0.01), biases 0.
"""

import dataclasses
import math

import keras
import tensorflow as tf

from tinyface.data.heatmaps import JASRNET_DOWNSAMPLING, JASRNET_SIGMA, jasrnet_heatmaps
from tinyface.trainer.models import avx2_conv, layers
from tinyface.trainer.models.outputs import HEATMAP_STEPS, SR_STEPS

# Input normalisation of the reference (its MeanShift with rgb_range 1): ImageNet statistics.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# The encoder halves the resolution once per level after the first, down to hr / 8.
_ENCODER_LEVELS = 4
_DOWNSAMPLING_STEPS = int(math.log2(JASRNET_DOWNSAMPLING))


@dataclasses.dataclass(frozen=True)
class JasrnetConfig:
    n_feats: int                  # width of every feature map
    n_resblocks: int              # residual blocks of the shared trunk at hr/8
    hr_size: int = 128            # side of the SR output; heatmaps are hr/8
    scale: int = 8                # LR input side = hr_size / scale
    encoder_resblocks: tuple = (2, 3, 4, 2)   # blocks at hr, hr/2, hr/4, hr/8
    sr_resblocks: int = 2
    sr_res_scale: float = 0.1     # residual scaling of the SR head's blocks (EDSR style)
    cpm_feature_resblocks: int = 2
    cpm_first_stage_resblocks: int = 2
    cpm_later_stage_resblocks: int = 3
    cpm_stages: int = 3
    num_landmarks: int = 68
    init_stddev: float = 0.01     # conv kernel init N(0, init_stddev) as weights_init_cpm
    # Add the bicubic input to the SR output (VDSR-style global residual): not in the paper;
    # see the module docstring for why the CPU demo preset turns it on.
    global_residual: bool = False
    heatmap_sigma: float = JASRNET_SIGMA   # Gaussian sigma of the heatmap targets, grid cells

    def __post_init__(self):
        object.__setattr__(self, "encoder_resblocks", tuple(self.encoder_resblocks))
        positive = dict(n_feats=self.n_feats, hr_size=self.hr_size, scale=self.scale,
                        cpm_stages=self.cpm_stages, num_landmarks=self.num_landmarks)
        for name, value in positive.items():
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        depths = dict(n_resblocks=self.n_resblocks, sr_resblocks=self.sr_resblocks,
                      cpm_feature_resblocks=self.cpm_feature_resblocks,
                      cpm_first_stage_resblocks=self.cpm_first_stage_resblocks,
                      cpm_later_stage_resblocks=self.cpm_later_stage_resblocks)
        for name, value in depths.items():
            if isinstance(value, bool) or int(value) != value or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if len(self.encoder_resblocks) != _ENCODER_LEVELS or any(
                int(n) != n or n < 0 for n in self.encoder_resblocks):
            raise ValueError(f"encoder_resblocks must be {_ENCODER_LEVELS} non-negative "
                             f"integers, got {self.encoder_resblocks!r}")
        if self.hr_size % JASRNET_DOWNSAMPLING:
            raise ValueError(f"hr_size must be divisible by {JASRNET_DOWNSAMPLING} (the "
                             f"encoder and heatmap grid are hr/8), got {self.hr_size}")
        if self.hr_size % self.scale:
            raise ValueError(f"hr_size {self.hr_size} is not a multiple of scale {self.scale}")
        if not self.init_stddev > 0:
            raise ValueError(f"init_stddev must be positive, got {self.init_stddev!r}")
        if not self.heatmap_sigma > 0:
            raise ValueError(f"heatmap_sigma must be positive, got {self.heatmap_sigma!r}")

    @property
    def lr_size(self):
        return self.hr_size // self.scale

    @property
    def num_heatmaps(self):
        return heatmap_spec(self).num_channels(self.num_landmarks)


# The reference hyperparameters (paper and src/option.py defaults).
REFERENCE = JasrnetConfig(n_feats=128, n_resblocks=32)

# Narrow and shallow for tests and the CPU demo; same structure, every stage still present.
# It also turns on the two demo deviations described in the module docstring (global
# residual, sigma 1.5): measured, they are what lets 16 features learn within minutes on a CPU.
SMALL = JasrnetConfig(n_feats=16, n_resblocks=2, encoder_resblocks=(1, 1, 1, 1),
                      sr_resblocks=1, cpm_feature_resblocks=1, cpm_first_stage_resblocks=1,
                      cpm_later_stage_resblocks=1, global_residual=True, heatmap_sigma=1.5)


def heatmap_spec(config):
    """The heatmaps this model predicts: HR/8 grid, config.heatmap_sigma, background channel."""
    return jasrnet_heatmaps(config.hr_size, config.heatmap_sigma)


class _Builder:
    """Creates the named layers of one model; keeps the config out of every helper call."""

    def __init__(self, config):
        self.config = config

    def conv(self, x, filters, name, strides=1):
        # keras.layers.Conv2D, with exact rewrites for CPUs without AVX-512 (avx2_conv.py).
        return avx2_conv.Conv2D(
            filters, 3, strides=strides, padding="same", name=name,
            kernel_initializer=keras.initializers.RandomNormal(stddev=self.config.init_stddev),
            bias_initializer="zeros")(x)

    def relu(self, x, name):
        return keras.layers.ReLU(name=name)(x)

    def res_block(self, x, name, res_scale=1.0):
        """EDSR residual block: x + res_scale * conv(relu(conv(x)))."""
        y = self.conv(x, self.config.n_feats, f"{name}_conv1")
        y = self.relu(y, f"{name}_act")
        y = self.conv(y, self.config.n_feats, f"{name}_conv2")
        if res_scale != 1.0:
            y = keras.layers.Rescaling(res_scale, name=f"{name}_scale")(y)
        return keras.layers.Add(name=f"{name}_add")([x, y])

    def res_stack(self, x, count, name):
        """Residual blocks each followed by a ReLU, the reference's [ResBlock, ReLU] pattern."""
        for i in range(count):
            x = self.res_block(x, f"{name}_rb{i}")
            x = self.relu(x, f"{name}_rb{i}_out_relu")
        return x

    def encoder(self, head):
        """Shared encoder to hr/8, fusing every level's output into a strided side pathway.

        Returns (deepest level features, fused pathway), both at hr/8.
        """
        depths = self.config.encoder_resblocks
        level = self.res_stack(head, depths[0], "encoder_l0")
        fused = level
        for i in range(1, _ENCODER_LEVELS):
            pooled = keras.layers.MaxPooling2D(2, name=f"encoder_l{i}_pool")(level)
            level = self.res_stack(pooled, depths[i], f"encoder_l{i}")
            fused = self.conv(fused, self.config.n_feats, f"fusion_down{i}", strides=2)
            if i < _ENCODER_LEVELS - 1:
                # As the reference, the deepest level joins only after the trunk.
                fused = keras.layers.Add(name=f"fusion_add{i}")([fused, level])
        return level, fused

    def sr_head(self, features, head):
        c = self.config
        x = features
        for i in range(c.sr_resblocks):
            x = self.res_block(x, f"sr_rb{i}", res_scale=c.sr_res_scale)
        x = self.conv(x, c.n_feats, "sr_conv")
        # Long skip from full-resolution head features to hr/8 (reference: long_connection).
        skip = head
        for i in range(_DOWNSAMPLING_STEPS):
            skip = self.conv(skip, c.n_feats, f"sr_skip{i}_conv")
            skip = keras.layers.MaxPooling2D(2, name=f"sr_skip{i}_pool")(skip)
        x = keras.layers.Add(name="sr_skip_add")([x, skip])
        for i in range(_DOWNSAMPLING_STEPS):
            x = self.conv(x, 4 * c.n_feats, f"sr_up{i}_conv")
            x = layers.PixelShuffle(2, name=f"sr_up{i}_shuffle")(x)
        return self.conv(x, 3, "sr_out_conv")

    def cpm_head(self, features):
        c = self.config
        shared = self.res_stack(features, c.cpm_feature_resblocks, "cpm_feature")
        shared = self.conv(shared, c.n_feats, "cpm_feature_conv")
        stages = []
        for t in range(c.cpm_stages):
            name = f"cpm_stage{t}"
            if t == 0:
                x = self.res_stack(shared, c.cpm_first_stage_resblocks, name)
            else:
                # Later stages refine: shared features plus the previous stage's belief maps.
                x = keras.layers.Concatenate(name=f"{name}_concat")([shared, stages[-1]])
                x = self.relu(self.conv(x, c.n_feats, f"{name}_in_conv"), f"{name}_in_relu")
                x = self.res_stack(x, c.cpm_later_stage_resblocks, name)
            stages.append(self.conv(x, c.num_heatmaps, f"{name}_heatmaps"))
        return stages


def build(config, name="jasrnet"):
    """JASRNet as a keras.Model: LR (B, hr/scale, hr/scale, 3) float32 in [0, 1] -> dict
    {SR_STEPS: (B, 1, hr, hr, 3), HEATMAP_STEPS: (B, cpm_stages, hr/8, hr/8, 69)}, float32.
    """
    c = config
    b = _Builder(c)
    hr = c.hr_size
    grid = heatmap_spec(c).size
    lr = keras.Input((c.lr_size, c.lr_size, 3), dtype="float32", name="lr")
    # Pre-processing and output layers are pinned to float32 under a mixed policy: bicubic
    # interpolation and the mean shift would lose precision in bfloat16, and the output
    # contract is float32. The convs in between follow the global policy.
    upsampled = keras.layers.Resizing(hr, hr, interpolation="bicubic", dtype="float32",
                                      name="bicubic_upsample")(lr)
    x = keras.layers.Normalization(mean=IMAGENET_MEAN, variance=[s * s for s in IMAGENET_STD],
                                   dtype="float32", name="normalize")(upsampled)
    head = b.conv(x, c.n_feats, "head_conv")

    deepest, fused = b.encoder(head)
    trunk = b.res_stack(deepest, c.n_resblocks, "trunk")
    features = keras.layers.Add(name="trunk_fusion_add")([trunk, fused])

    sr = b.sr_head(features, head)
    if c.global_residual:
        # The head predicts only the detail bicubic misses, in normalised units.
        detail = keras.layers.Rescaling(IMAGENET_STD, dtype="float32", name="detail_scale")(sr)
        sr = keras.layers.Add(dtype="float32", name="global_residual_add")([upsampled, detail])
    else:
        sr = keras.layers.Normalization(mean=IMAGENET_MEAN, variance=[s * s for s in IMAGENET_STD],
                                        invert=True, dtype="float32", name="denormalize")(sr)
    sr_steps = keras.layers.Reshape((1, hr, hr, 3), dtype="float32", name=SR_STEPS)(sr)

    stages = [keras.layers.Reshape((1, grid, grid, c.num_heatmaps), dtype="float32",
                                   name=f"cpm_stage{t}_step")(h)
              for t, h in enumerate(b.cpm_head(features))]
    if len(stages) == 1:
        heatmap_steps = keras.layers.Identity(dtype="float32", name=HEATMAP_STEPS)(stages[0])
    else:
        heatmap_steps = keras.layers.Concatenate(axis=1, dtype="float32",
                                                 name=HEATMAP_STEPS)(stages)
    return keras.Model(lr, {SR_STEPS: sr_steps, HEATMAP_STEPS: heatmap_steps}, name=name)
