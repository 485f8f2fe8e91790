"""The pipeline's runtime parameters on Kubeflow: values chosen per run (KFP UI, Vertex,
`tinyface schedule --param`), not when the pipeline is compiled.

KFP v2 hands a task its parameters as whole values; it cannot splice one into a proto such as
TrainArgs or an EvalConfig. So each parameter here is a plain typed value, and the Kubeflow
component variants (kubeflow/components/) turn it into what TFX's executors expect at run time.
"""

import dataclasses
from typing import Any, Dict, Optional

from tfx.orchestration.data_types import RuntimeParameter

from tinyface.evaluation.blessing import DESCRIPTIONS as THRESHOLD_DESCRIPTIONS
from tinyface.evaluation.blessing import BlessingThresholds

DATA_ROOT = "data_root"
SPAN = "span"
MODEL = "model"
TRAIN_STEPS = "train_steps"
# The blessing thresholds are parameters named after BlessingThresholds' fields.

NEWEST_SPAN = 0   # the `span` value that means "the newest span-N folder of data_root"

_DESCRIPTIONS = {
    DATA_ROOT: "folder the pods read faces from: span-N folders (or the data itself without spans)",
    SPAN: f"span to ingest; {NEWEST_SPAN} = the newest span-N folder",
    MODEL: "model to train (a name in tinyface.trainer.models.registry); its paper's optimiser settings apply",
    TRAIN_STEPS: "training steps",
    **THRESHOLD_DESCRIPTIONS,
}


@dataclasses.dataclass(frozen=True)
class RuntimeParameters:
    """One RuntimeParameter per setting a run may change."""

    data_root: RuntimeParameter
    span: RuntimeParameter
    model: RuntimeParameter
    train_steps: RuntimeParameter
    blessing: BlessingThresholds   # of RuntimeParameters

    def by_name(self) -> Dict[str, RuntimeParameter]:
        named = {field.name: getattr(self, field.name) for field in dataclasses.fields(self) if field.name != "blessing"}
        return {**named, **self.blessing.by_name()}

    def defaults(self) -> Dict[str, Any]:
        """{name: default} of the parameters that have one (data_root may have none)."""
        return {name: p.default for name, p in self.by_name().items() if p.default is not None}


def runtime_parameters(data_root: Optional[str], model: str, train_steps: int,
                       thresholds: BlessingThresholds, span: int = NEWEST_SPAN) -> RuntimeParameters:
    """The parameters with these defaults (data_root None: each run must give it)."""
    def parameter(name, ptype, default):
        if default is not None:
            default = ptype(default)   # RuntimeParameter insists on the exact type (1 is not 1.0)
        return RuntimeParameter(name=name, ptype=ptype, default=default, description=_DESCRIPTIONS[name])

    if span < 0:
        raise ValueError(f"span must be >= 0 ({NEWEST_SPAN}: the newest), got {span}")
    if train_steps < 1:
        raise ValueError(f"train_steps must be at least 1, got {train_steps}")
    return RuntimeParameters(
        data_root=parameter(DATA_ROOT, str, data_root),
        span=parameter(SPAN, int, span),
        model=parameter(MODEL, str, model),
        train_steps=parameter(TRAIN_STEPS, int, train_steps),
        blessing=BlessingThresholds(**{
            name: parameter(name, float, value) for name, value in thresholds.by_name().items()}),
    )


def parse_assignment(text: str, types: Dict[str, type]):
    """("name", typed value) from "name=value"; `types` maps each parameter to int, float or str."""
    name, sep, value = text.partition("=")
    if not sep or name not in types:
        raise ValueError(f"--param {text!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(types))}")
    try:
        return name, types[name](value)
    except ValueError:
        raise ValueError(f"--param {text!r}: {name} takes a {types[name].__name__}") from None
