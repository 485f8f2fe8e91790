"""The models tinyface trains, registered explicitly by name (no import-by-filename magic).

Each architecture module provides a config dataclass with REFERENCE (the paper's
hyperparameters) and SMALL (tests and the CPU demo) presets, `build(config)` (the network that
is trained and served, following tinyface.trainer.models.outputs) and `heatmap_spec(config)`; from a
preset's hr_size, scale, num_landmarks and heatmap_spec the registry makes its ModelContract
(trainer/model_contract.py), the one statement of its sizes and heatmap codec.
Adversarial models (trained as GANs by trainer/gan_training.py) also provide
`build_discriminator(config)`, and their config has a `discriminator` field
(tinyface.trainer.models.discriminator.DiscriminatorConfig); a module may name, as GENERATOR_PRETRAINED_AS, the
model whose trained weights its network starts from.
"""

import dataclasses
from types import ModuleType

from tinyface.trainer.models import dic, dicgan, jasrnet, proguigan
from tinyface.trainer.models.contract import ModelContract

MODELS = {
    "jasrnet": jasrnet,
    "dic": dic,
    "dicgan": dicgan,
    "proguigan": proguigan,
}
SIZES = ("small", "reference")


@dataclasses.dataclass(frozen=True)
class BuiltModel:
    name: str
    config: object       # the architecture's config dataclass
    network: object      # keras.Model following trainer.model_outputs (a GAN's generator)
    contract: ModelContract  # its sizes, scale and heatmap codec
    discriminator: object = None  # keras.Model (trainer.discriminator) of adversarial models


def architecture(name) -> ModuleType:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; registered models: {', '.join(sorted(MODELS))}") from None


def is_adversarial(name):
    """Whether model `name` trains against a discriminator (trainer/training/gan_loop.py)."""
    return hasattr(architecture(name), "build_discriminator")


def pretrained_as(name):
    """The model whose trained weights model `name` starts from in its paper, or None."""
    return getattr(architecture(name), "GENERATOR_PRETRAINED_AS", None)


def model_config(name, size="small", discriminator_overrides=None, **overrides):
    """The `size` preset of model `name`, with fields (and its discriminator's) overridden."""
    if size not in SIZES:
        raise ValueError(f"model size must be one of {SIZES}, got {size!r}")
    config = dataclasses.replace(getattr(architecture(name), size.upper()), **overrides)
    if discriminator_overrides:
        if not is_adversarial(name):
            raise ValueError(f"model {name!r} has no discriminator to configure")
        config = dataclasses.replace(
            config, discriminator=dataclasses.replace(config.discriminator, **discriminator_overrides))
    return config


def _contract_of(module, config):
    return ModelContract(hr_size=config.hr_size, scale=config.scale, heatmaps=module.heatmap_spec(config),
                         num_landmarks=config.num_landmarks)


def model_contract(name, size="small", **overrides) -> ModelContract:
    """The contract of the `size` preset of model `name` (fields overridden), without building it."""
    return _contract_of(architecture(name), model_config(name, size, **overrides))


def build_model(name, size="small", discriminator_overrides=None, **overrides) -> BuiltModel:
    module = architecture(name)
    config = model_config(name, size, discriminator_overrides, **overrides)
    return BuiltModel(name=name, config=config, network=module.build(config),
                      contract=_contract_of(module, config),
                      discriminator=module.build_discriminator(config) if is_adversarial(name) else None)
