"""PairGen's inputs, outputs and parameter, and the JSON form of its PairConfig."""

import dataclasses
import json

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from tinyface.components.artifacts import DataReport
from tinyface.data.degradation.degrade import DegradationConfig
from tinyface.data.heatmaps import HeatmapSpec
from tinyface.data.degradation.pairs import PairConfig

EXAMPLES_KEY = "examples"
DATA_REPORT_KEY = "data_report"
PAIRS_KEY = "pairs"
PAIR_CONFIG_KEY = "pair_config"


def pair_config_to_json(config: PairConfig) -> str:
    return json.dumps(dataclasses.asdict(config), sort_keys=True)


def pair_config_from_json(text: str) -> PairConfig:
    values = json.loads(text)
    degradation = {k: tuple(v) if isinstance(v, list) else v for k, v in values.pop("degradation").items()}
    heatmap_spec = values.pop("heatmap_spec")
    return PairConfig(
        degradation=DegradationConfig(**degradation),
        heatmap_spec=HeatmapSpec(**heatmap_spec) if heatmap_spec is not None else None,
        **values)


class PairGenSpec(ComponentSpec):
    PARAMETERS = {
        PAIR_CONFIG_KEY: ExecutionParameter(type=str),  # pair_config_to_json(PairConfig)
    }
    INPUTS = {
        EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        # Pairs are made only from data whose report passed (DataGate publishes it only then).
        DATA_REPORT_KEY: ChannelParameter(type=DataReport),
    }
    OUTPUTS = {
        PAIRS_KEY: ChannelParameter(type=standard_artifacts.Examples),
    }
