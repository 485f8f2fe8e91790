"""The image discriminator of the GAN models (DICGAN, Pro-UIGAN), built from a config.

A VGG-style convolutional discriminator (the family of SRGAN's and ESRGAN's, BasicSR's
VGGStyleDiscriminator): a stem conv at full resolution, then `depth` levels of
[3x3 conv, 4x4 stride-2 conv], each conv followed by the normalisation and LeakyReLU(0.2), the
width doubling per level from `width` up to `max_width`. Two heads:
  * "global": flatten -> dense(dense_units) -> LeakyReLU -> dense(1): one logit per image
    (SRGAN/ESRGAN; the DICGAN reference's LightCNN discriminator is also global);
  * "patch": a 3x3 conv to one channel: one logit per receptive field, (B, h/2^depth,
    h/2^depth, 1) (PatchGAN): judges local texture and costs no dense layer.

The model returns a dict: LOGITS (float32 whatever the dtype policy, so the adversarial losses
see float32), and FEATURES, every level's activations (compute dtype), which the
feature-matching loss compares between real and generated faces.

Normalisations: "none", "group" (GroupNorm, 32 groups or fewer) and "layer" (GroupNorm with one
group: one mean and variance over all of a sample's features, the layer norm Gulrajani et al.
recommend for WGAN-GP). No BatchNorm: the gradient penalty constrains each sample's gradient,
and BatchNorm makes a sample's output depend on the rest of its batch. The stem conv is never
normalised (as DCGAN and ESRGAN), so the input's colour statistics reach the network.

The DICGAN reference's discriminator is a LightCNN-9 (max-feature-map activations, max-pools,
global head); we use this generic family instead and say so in the README.
"""

import dataclasses
import math

import keras

from tinyface.trainer.models import group_norm

LOGITS = "logits"
FEATURES = "features"
NORMS = ("none", "group", "layer")
HEADS = ("global", "patch")
LRELU_SLOPE = 0.2
# GroupNorm groups for "group": the usual 32, or fewer where a layer is narrower.
_MAX_GROUPS = 32


@dataclasses.dataclass(frozen=True)
class DiscriminatorConfig:
    width: int = 64          # channels of the stem and the first level
    depth: int = 5           # stride-2 levels: 128 px -> 4 px at depth 5
    max_width: int = 512     # widths double per level up to this
    norm: str = "group"
    head: str = "global"
    dense_units: int = 100   # hidden units of the global head

    def __post_init__(self):
        for name in ("width", "depth", "max_width", "dense_units"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"discriminator {name} must be a positive integer, got {value!r}")
        if self.max_width < self.width:
            raise ValueError(f"discriminator max_width {self.max_width} < width {self.width}")
        if self.norm not in NORMS:
            raise ValueError(f"discriminator norm must be one of {NORMS}, got {self.norm!r}")
        if self.head not in HEADS:
            raise ValueError(f"discriminator head must be one of {HEADS}, got {self.head!r}")

    def level_width(self, level):
        return min(self.width * 2 ** level, self.max_width)


# SRGAN/ESRGAN's 128-px discriminator geometry (64 -> 512 channels, 5 levels, dense 100).
REFERENCE = DiscriminatorConfig()
# Tests and the CPU demo: a few thousand parameters, same structure.
SMALL = DiscriminatorConfig(width=8, depth=3, max_width=16, dense_units=16)


def _norm(config, channels, name):
    if config.norm == "none":
        return None
    groups = 1 if config.norm == "layer" else math.gcd(channels, _MAX_GROUPS)
    return group_norm.GroupNormalization(groups=groups, name=name)


def _conv_block(x, config, filters, kernel, strides, name, normalise=True):
    x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", name=f"{name}_conv")(x)
    norm = _norm(config, filters, f"{name}_norm") if normalise else None
    if norm is not None:
        x = norm(x)
    return keras.layers.LeakyReLU(LRELU_SLOPE, name=f"{name}_lrelu")(x)


def build(config, image_size, name="discriminator"):
    """The discriminator as a keras.Model: (B, image_size, image_size, 3) in [0, 1] ->
    {LOGITS: float32 (B, 1) for the global head or (B, s, s, 1) for the patch head,
     FEATURES: [the activations of the stem and of every level]}."""
    if image_size % 2 ** config.depth:
        raise ValueError(f"a {image_size}-px image cannot be halved {config.depth} times")
    image = keras.Input((image_size, image_size, 3), name="image")
    # Centre the [0, 1] input, so the stem conv starts unbiased towards bright images.
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="centre")(image)
    x = _conv_block(x, config, config.width, 3, 1, "stem", normalise=False)
    features = [x]
    for level in range(config.depth):
        filters = config.level_width(level)
        x = _conv_block(x, config, filters, 3, 1, f"level{level}_a")
        x = _conv_block(x, config, filters, 4, 2, f"level{level}_down")
        features.append(x)
    if config.head == "global":
        x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dense(config.dense_units, name="dense")(x)
        x = keras.layers.LeakyReLU(LRELU_SLOPE, name="dense_lrelu")(x)
        logits = keras.layers.Dense(1, dtype="float32", name=LOGITS)(x)
    else:
        logits = keras.layers.Conv2D(1, 3, padding="same", dtype="float32", name=LOGITS)(x)
    return keras.Model(image, {LOGITS: logits, FEATURES: features}, name=name)
