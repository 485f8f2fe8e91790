"""Evaluator for Kubeflow: TFX's Evaluator whose blessing thresholds are runtime parameters.

The thresholds live inside the EvalConfig proto, which KFP v2 can only pass as a compile-time
constant. This variant takes them as plain parameters and builds the EvalConfig at run time with
the same function the local pipeline uses (tinyface/evaluation/eval_config.py), then runs TFX's
Evaluator executor. Its baseline comes from ServingModelBaseline; when nothing is served yet
that artifact is marked unresolved and dropped, so TFX applies no change thresholds (as for the
first local run).
"""

import json
from typing import Any, Dict, Sequence

from absl import logging
from tfx import types
from tfx.components.evaluator import executor as evaluator_executor
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import proto_utils

from tinyface.kubeflow.components import resolution
from tinyface.evaluation.blessing import THRESHOLD_NAMES, BlessingThresholds
from tinyface.evaluation.eval_config import build_eval_config

SLICE_FEATURES_KEY = "slice_features"          # JSON list of feature names
# Each blessing threshold is an exec property named after its BlessingThresholds field.


class EvaluatorSpec(standard_component_specs.EvaluatorSpec):
    PARAMETERS = {
        **standard_component_specs.EvaluatorSpec.PARAMETERS,
        SLICE_FEATURES_KEY: ExecutionParameter(type=str),
        **{name: ExecutionParameter(type=float) for name in THRESHOLD_NAMES},
    }


def apply_runtime_parameters(exec_properties: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of the exec properties with the EvalConfig built from the threshold parameters."""
    eval_config = build_eval_config(
        json.loads(exec_properties[SLICE_FEATURES_KEY]),
        BlessingThresholds(**{name: float(exec_properties[name]) for name in THRESHOLD_NAMES}))
    resolved = dict(exec_properties)
    resolved[standard_component_specs.EVAL_CONFIG_KEY] = proto_utils.proto_to_json(eval_config)
    return resolved


class Executor(evaluator_executor.Executor):

    def Do(self, input_dict, output_dict, exec_properties):
        logging.info("runtime parameters: %s", ", ".join(
            f"{name} {float(exec_properties[name])}" for name in THRESHOLD_NAMES))
        super().Do(resolution.without_unresolved(input_dict, standard_component_specs.BASELINE_MODEL_KEY),
                   output_dict, apply_runtime_parameters(exec_properties))


class Evaluator(base_component.BaseComponent):
    SPEC_CLASS = EvaluatorSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, examples: types.BaseChannel, model: types.BaseChannel, baseline_model: types.BaseChannel,
                 slice_features: Sequence[str], thresholds: BlessingThresholds):
        """`thresholds`: of values or RuntimeParameters (see build_eval_config)."""
        super().__init__(spec=EvaluatorSpec(
            examples=examples,
            model=model,
            baseline_model=baseline_model,
            slice_features=json.dumps(list(slice_features)),
            **thresholds.by_name(),
            evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
            blessing=types.Channel(type=standard_artifacts.ModelBlessing)))
