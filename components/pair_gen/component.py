"""PairGen: a Beam component that degrades each HR face into LR inputs (papers' bicubic plus
configurable blur, noise, JPEG and occluders) and writes training pairs per split."""

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts

from tinyface.components.pair_gen import executor, spec
from tinyface.data.degradation.pairs import PairConfig


class PairGen(base_beam_component.BaseBeamComponent):
    SPEC_CLASS = spec.PairGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(self, examples: types.BaseChannel, data_report: types.BaseChannel,
                 config: PairConfig = PairConfig()):
        super().__init__(spec=spec.PairGenSpec(
            examples=examples,
            data_report=data_report,
            pair_config=spec.pair_config_to_json(config),
            pairs=types.Channel(type=standard_artifacts.Examples)))
