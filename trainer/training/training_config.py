"""Training settings: the papers' optimisers and schedules, and everything else a run needs.

Travels to run_fn in the Trainer's custom_config (as a dict), so a pipeline config changes
any of it without code edits.
"""

import dataclasses
from typing import Tuple

from tinyface.trainer.training.augmentation import AugmentationConfig

MIXED_PRECISION = ("off", "bf16", "fp16", "auto")
# GAN losses of the adversarial models: "wgan_gp" is the WGAN critic loss plus its gradient penalty.
GAN_LOSSES = ("vanilla", "lsgan", "wgan_gp")
# Discriminator settings a run may override (the model preset's value where left unset).
DISCRIMINATOR_NORMS = ("none", "group", "layer")
DISCRIMINATOR_HEADS = ("global", "patch")
# The settings only adversarial models read, and those whose empty value means "not used".
ADVERSARIAL_SETTINGS = ("gan_loss", "adversarial_weight", "feature_weight", "gp_weight", "d_learning_rate",
                        "discriminator_width", "discriminator_depth", "discriminator_norm", "discriminator_head")
UNSET_MEANS_DEFAULT = ("perceptual_weights", "init_weights", "discriminator_width", "discriminator_depth",
                       "discriminator_norm", "discriminator_head")
CONFIG_KEY = "training_config"  # key of TrainingConfig.to_dict() in the Trainer's custom_config


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    model: str = "dic"                 # a name in trainer.model_registry.MODELS
    model_size: str = "small"          # "small" (tests, CPU demo) or "reference" (the papers')
    batch_size: int = 8
    learning_rate: float = 1e-4
    weight_decay: float = 0.0
    # Steps, as fractions of the run's train steps, where the learning rate is multiplied by
    # lr_gamma: the papers' milestones scaled to any run length.
    lr_milestones: Tuple[float, ...] = ()
    lr_gamma: float = 0.5
    mixed_precision: str = "auto"      # auto: fp16 on GPU, bf16 on CPUs with native bf16, else float32
    checkpoint_every: int = 100        # steps between checkpoints (a resumed run restarts there)
    eval_steps: int = 20
    # Augmentation of training batches (trainer/training/augmentation.py; zeros: off): the flip with
    # index permutation, rotation/zoom/shift about the crop's centre with the landmarks moved
    # alike and the LR made again from the warped HR, and colour jitter applied alike to LR/HR.
    augment_flip: bool = True
    augment_rotation_deg: float = 0.0   # angle in [-x, x] degrees
    augment_scale: float = 0.0          # zoom in [1 - x, 1 + x]
    augment_shift: float = 0.0          # shift in [-x, x] x the crop's side
    augment_brightness: float = 0.0     # added to pixels in [0, 1], in [-x, x]
    augment_contrast: float = 0.0       # factor in [1 - x, 1 + x] about the face's mean
    augment_saturation: float = 0.0     # factor in [1 - x, 1 + x] about the grey value
    perceptual_weights: str = ""       # local VGG19 weights file; empty: no perceptual loss
    seed: int = 0
    # ---- Adversarial models (dicgan, proguigan); the other models ignore these.
    gan_loss: str = "lsgan"            # one of GAN_LOSSES
    adversarial_weight: float = 0.005  # generator's adversarial term (DICGAN's 0.005)
    # Feature-matching (perceptual) term on the last SR step: VGG19 features when
    # perceptual_weights names a file, else the discriminator's own features.
    feature_weight: float = 0.1
    gp_weight: float = 10.0            # gradient penalty weight (wgan_gp only; Gulrajani et al.)
    d_learning_rate: float = 1e-4      # discriminator Adam; same milestones as the generator
    # Discriminator overrides; 0 / "" keep the model preset's value.
    discriminator_width: int = 0
    discriminator_depth: int = 0
    discriminator_norm: str = ""       # one of DISCRIMINATOR_NORMS
    discriminator_head: str = ""       # one of DISCRIMINATOR_HEADS
    # Weights to start the network from: a .weights.h5 file, or a Trainer's Model artifact
    # folder holding one (trainer/models/network_weights.py). Empty: random initialisation.
    init_weights: str = ""

    def __post_init__(self):
        if self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(f"mixed_precision must be one of {MIXED_PRECISION}, got {self.mixed_precision!r}")
        if self.model_size not in ("small", "reference"):
            raise ValueError(f"model_size must be 'small' or 'reference', got {self.model_size!r}")
        if any(not 0.0 < m < 1.0 for m in self.lr_milestones):
            raise ValueError(f"lr_milestones are fractions of the run in (0, 1), got {self.lr_milestones}")
        for name in ("batch_size", "checkpoint_every", "eval_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.gan_loss not in GAN_LOSSES:
            raise ValueError(f"gan_loss must be one of {GAN_LOSSES}, got {self.gan_loss!r}")
        for name in ("adversarial_weight", "feature_weight", "gp_weight"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not self.d_learning_rate > 0:
            raise ValueError(f"d_learning_rate must be positive, got {self.d_learning_rate!r}")
        for name in ("discriminator_width", "discriminator_depth"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (0: the preset's), got {getattr(self, name)}")
        if self.discriminator_norm not in ("", *DISCRIMINATOR_NORMS):
            raise ValueError(f"discriminator_norm must be one of {DISCRIMINATOR_NORMS} (or empty), "
                             f"got {self.discriminator_norm!r}")
        self.augmentation()  # its own range checks
        if self.discriminator_head not in ("", *DISCRIMINATOR_HEADS):
            raise ValueError(f"discriminator_head must be one of {DISCRIMINATOR_HEADS} (or empty), "
                             f"got {self.discriminator_head!r}")

    def settings_in_use(self, adversarial):
        """{name: value} of the settings this run's training reads: without the adversarial
        ones for a model that has no discriminator (`adversarial`: model_registry.is_adversarial),
        the gradient penalty without wgan_gp, lr_gamma without milestones, and the optional
        files and discriminator overrides left unset."""
        unused = set() if adversarial else set(ADVERSARIAL_SETTINGS)
        if self.gan_loss != "wgan_gp":
            unused.add("gp_weight")
        if not self.lr_milestones:
            unused.add("lr_gamma")
        return {name: value for name, value in self.to_dict().items()
                if name not in unused and not (name in UNSET_MEANS_DEFAULT and not value)}

    def augmentation(self):
        """The AugmentationConfig of training batches."""
        return AugmentationConfig(
            flip=self.augment_flip, max_rotation_deg=self.augment_rotation_deg,
            max_scale=self.augment_scale, max_shift=self.augment_shift,
            max_brightness=self.augment_brightness, max_contrast=self.augment_contrast,
            max_saturation=self.augment_saturation)

    def discriminator_overrides(self):
        """{DiscriminatorConfig field: value} for the discriminator settings this run sets."""
        values = dict(width=self.discriminator_width, depth=self.discriminator_depth,
                      norm=self.discriminator_norm, head=self.discriminator_head)
        return {name: value for name, value in values.items() if value}

    def with_model(self, model):
        """This config training `model`: when the model changes, that model's paper settings
        (PAPER_SETTINGS: optimiser, and for the GAN models their GAN loss) replace the current
        ones; every other setting carries over."""
        if model == self.model:
            return self
        if model not in PAPER_SETTINGS:
            raise ValueError(f"unknown model {model!r}; expected one of {', '.join(sorted(PAPER_SETTINGS))}")
        return dataclasses.replace(self, model=model, **PAPER_SETTINGS[model])

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        values = dict(values)
        if "lr_milestones" in values:
            values["lr_milestones"] = tuple(values["lr_milestones"])
        return cls(**values)


# The papers' optimiser settings (REFERENCE.md): JASRNet Adam 5e-5, weight decay 5e-4, x0.5 at
# epochs 20 and 30 of 40; DIC Adam 1e-4, halved at 10k/20k/40k/80k of 150k iterations.
# DICGAN (REFERENCE.md and the reference's train_DICGAN_CelebA.json): feature loss 0.1 and
# adversarial 0.005 on the last step, vanilla GAN loss; Adam 1e-4 for both networks, halved at
# 10k/20k/40k of 80k iterations, from a trained DIC. Pro-UIGAN has no public code and REFERENCE.md
# gives no hyperparameters: ours are DICGAN's, with the stabler LSGAN loss.
_DICGAN_SETTINGS = dict(learning_rate=1e-4, weight_decay=0.0, lr_milestones=(10 / 80, 20 / 80, 40 / 80),
                        lr_gamma=0.5, d_learning_rate=1e-4, adversarial_weight=0.005, feature_weight=0.1)
PAPER_SETTINGS = {
    "jasrnet": dict(learning_rate=5e-5, weight_decay=5e-4, lr_milestones=(0.5, 0.75), lr_gamma=0.5),
    "dic": dict(learning_rate=1e-4, weight_decay=0.0,
                lr_milestones=(10 / 150, 20 / 150, 40 / 150, 80 / 150), lr_gamma=0.5),
    "dicgan": dict(_DICGAN_SETTINGS, gan_loss="vanilla"),
    "proguigan": dict(_DICGAN_SETTINGS, gan_loss="lsgan"),
}


def paper_config(model, **overrides):
    """The TrainingConfig of `model` with its paper's optimiser settings, then `overrides`."""
    return TrainingConfig(model=model, **{**PAPER_SETTINGS[model], **overrides})
