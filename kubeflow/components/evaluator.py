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

from kubeflow.components import resolution
from tinyface.evaluation.eval_config import build_eval_config

SLICE_FEATURES_KEY = "slice_features"          # JSON list of feature names
MIN_PSNR_GAIN_DB_KEY = "min_psnr_gain_db"
MAX_NME_RATIO_KEY = "max_nme_ratio_to_mean_shape"
PSNR_REGRESSION_MARGIN_DB_KEY = "psnr_regression_margin_db"
NME_REGRESSION_MARGIN_KEY = "nme_regression_margin"
THRESHOLD_KEYS = (MIN_PSNR_GAIN_DB_KEY, MAX_NME_RATIO_KEY, PSNR_REGRESSION_MARGIN_DB_KEY, NME_REGRESSION_MARGIN_KEY)


class EvaluatorSpec(standard_component_specs.EvaluatorSpec):
    PARAMETERS = {
        **standard_component_specs.EvaluatorSpec.PARAMETERS,
        SLICE_FEATURES_KEY: ExecutionParameter(type=str),
        MIN_PSNR_GAIN_DB_KEY: ExecutionParameter(type=float),
        MAX_NME_RATIO_KEY: ExecutionParameter(type=float),
        PSNR_REGRESSION_MARGIN_DB_KEY: ExecutionParameter(type=float),
        NME_REGRESSION_MARGIN_KEY: ExecutionParameter(type=float),
    }


def apply_runtime_parameters(exec_properties: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of the exec properties with the EvalConfig built from the threshold parameters."""
    eval_config = build_eval_config(
        json.loads(exec_properties[SLICE_FEATURES_KEY]),
        min_psnr_gain_db=float(exec_properties[MIN_PSNR_GAIN_DB_KEY]),
        max_nme_ratio=float(exec_properties[MAX_NME_RATIO_KEY]),
        psnr_regression_margin_db=float(exec_properties[PSNR_REGRESSION_MARGIN_DB_KEY]),
        nme_regression_margin=float(exec_properties[NME_REGRESSION_MARGIN_KEY]))
    resolved = dict(exec_properties)
    resolved[standard_component_specs.EVAL_CONFIG_KEY] = proto_utils.proto_to_json(eval_config)
    return resolved


class Executor(evaluator_executor.Executor):

    def Do(self, input_dict, output_dict, exec_properties):
        logging.info("runtime parameters: %s", ", ".join(
            f"{key} {float(exec_properties[key])}" for key in THRESHOLD_KEYS))
        super().Do(resolution.without_unresolved(input_dict, standard_component_specs.BASELINE_MODEL_KEY),
                   output_dict, apply_runtime_parameters(exec_properties))


class Evaluator(base_component.BaseComponent):
    SPEC_CLASS = EvaluatorSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, examples: types.BaseChannel, model: types.BaseChannel, baseline_model: types.BaseChannel,
                 slice_features: Sequence[str], min_psnr_gain_db, max_nme_ratio_to_mean_shape,
                 psnr_regression_margin_db, nme_regression_margin):
        """The four thresholds: values or RuntimeParameters (see build_eval_config)."""
        super().__init__(spec=EvaluatorSpec(
            examples=examples,
            model=model,
            baseline_model=baseline_model,
            slice_features=json.dumps(list(slice_features)),
            min_psnr_gain_db=min_psnr_gain_db,
            max_nme_ratio_to_mean_shape=max_nme_ratio_to_mean_shape,
            psnr_regression_margin_db=psnr_regression_margin_db,
            nme_regression_margin=nme_regression_margin,
            evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
            blessing=types.Channel(type=standard_artifacts.ModelBlessing)))
