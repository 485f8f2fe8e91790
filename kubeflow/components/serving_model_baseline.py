"""ServingModelBaseline: the model a candidate must not regress against, on Kubeflow.

Locally the Evaluator's baseline is the latest blessed model in ML Metadata (TFX's
LatestBlessedModelStrategy; KFP v2 runs no resolvers). Here it is the model TF Serving serves:
the highest version under the Pusher's base folder, which is the newest model that was blessed
and passed infra validation. It is copied into a Model artifact (Format-Serving/, where TFX's
Evaluator looks). With nothing served yet the artifact is marked unresolved and the Evaluator
applies no change thresholds, as for the first local run.
"""

from absl import logging
from tfx import types
from tfx.dsl.components.base import base_component, base_executor, executor_spec
from tfx.types import artifact_utils, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from tfx.utils import io_utils, path_utils

from tinyface.components.served_model_pusher.served_model import newest_served_version
from tinyface.kubeflow.components import resolution

SERVING_DIR_KEY = "serving_dir"
MODEL_KEY = "model"
SERVING_VERSION_PROPERTY = "tinyface_serving_version"
SOURCE_URI_PROPERTY = "tinyface_source_uri"


class ServingModelBaselineSpec(ComponentSpec):
    PARAMETERS = {SERVING_DIR_KEY: ExecutionParameter(type=str)}
    INPUTS = {}
    OUTPUTS = {MODEL_KEY: ChannelParameter(type=standard_artifacts.Model)}


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict, output_dict, exec_properties):
        del input_dict
        model = artifact_utils.get_single_instance(output_dict[MODEL_KEY])
        served = newest_served_version(exec_properties[SERVING_DIR_KEY])
        if served is None:
            logging.info("no model served under %s yet: no baseline", exec_properties[SERVING_DIR_KEY])
            resolution.mark(model, resolved=False)
            return
        version, folder = served
        io_utils.copy_dir(folder, path_utils.serving_model_dir(model.uri))
        model.set_int_custom_property(SERVING_VERSION_PROPERTY, version)
        model.set_string_custom_property(SOURCE_URI_PROPERTY, folder)
        resolution.mark(model, resolved=True)
        logging.info("baseline: served model version %d (%s)", version, folder)


class ServingModelBaseline(base_component.BaseComponent):
    SPEC_CLASS = ServingModelBaselineSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, serving_dir: str):
        super().__init__(spec=ServingModelBaselineSpec(
            serving_dir=serving_dir, model=types.Channel(type=standard_artifacts.Model)))
