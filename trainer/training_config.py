"""Training settings: the papers' optimisers and schedules, and everything else a run needs.

Travels to run_fn in the Trainer's custom_config (as a dict), so a pipeline config changes
any of it without code edits.
"""

import dataclasses
from typing import Tuple

MIXED_PRECISION = ("off", "bf16", "fp16", "auto")
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
    mixed_precision: str = "auto"      # auto: bf16 on CPU, fp16 on GPU
    checkpoint_every: int = 100        # steps between checkpoints (a resumed run restarts there)
    eval_steps: int = 20
    augment_flip: bool = True
    perceptual_weights: str = ""       # local VGG19 weights file; empty: no perceptual loss
    seed: int = 0

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
PAPER_SETTINGS = {
    "jasrnet": dict(learning_rate=5e-5, weight_decay=5e-4, lr_milestones=(0.5, 0.75), lr_gamma=0.5),
    "dic": dict(learning_rate=1e-4, weight_decay=0.0,
                lr_milestones=(10 / 150, 20 / 150, 40 / 150, 80 / 150), lr_gamma=0.5),
}


def paper_config(model, **overrides):
    """The TrainingConfig of `model` with its paper's optimiser settings, then `overrides`."""
    return TrainingConfig(model=model, **{**PAPER_SETTINGS[model], **overrides})
