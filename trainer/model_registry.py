"""The models tinyface trains, registered explicitly by name (no import-by-filename magic).

Each architecture module provides a config dataclass with REFERENCE (the paper's
hyperparameters) and SMALL (tests and the CPU demo) presets, `build(config)` and
`heatmap_spec(config)`.
"""

import dataclasses
from types import ModuleType

from trainer import dic, jasrnet

MODELS = {
    "jasrnet": jasrnet,
    "dic": dic,
}
SIZES = ("small", "reference")


@dataclasses.dataclass(frozen=True)
class BuiltModel:
    name: str
    config: object       # the architecture's config dataclass
    network: object      # keras.Model following trainer.model_outputs
    heatmap_spec: object  # tinyface.data.heatmaps.HeatmapSpec of its heatmap targets


def architecture(name) -> ModuleType:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; registered models: {', '.join(sorted(MODELS))}") from None


def model_config(name, size="small", **overrides):
    """The `size` preset of model `name`, with fields overridden."""
    if size not in SIZES:
        raise ValueError(f"model size must be one of {SIZES}, got {size!r}")
    preset = getattr(architecture(name), size.upper())
    return dataclasses.replace(preset, **overrides)


def build_model(name, size="small", **overrides) -> BuiltModel:
    module = architecture(name)
    config = model_config(name, size, **overrides)
    return BuiltModel(name=name, config=config, network=module.build(config),
                      heatmap_spec=module.heatmap_spec(config))
