"""TFX's Pusher executor, skipping the push of a model TF Serving already serves.

TFX's pushes whenever the model is blessed, so a re-run on unchanged data (the Trainer served
from cache, the Evaluator blessing the same model against itself) would push it again as a new
version. Here the PushedModel of such a run says pushed=0 and names the version that serves it.
"""

from absl import logging
from tfx.components.pusher import executor as tfx_pusher
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils
from tfx.types import standard_component_specs as keys
from tfx.utils import proto_utils

from tinyface.components.served_model_pusher.served_model import served_version_of

# Custom properties of the PushedModel when the model was already served.
ALREADY_SERVED_VERSION_PROPERTY = "already_served_version"
ALREADY_SERVED_PATH_PROPERTY = "already_served_path"


class Executor(tfx_pusher.Executor):

    def Do(self, input_dict, output_dict, exec_properties):
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties[keys.PUSH_DESTINATION_KEY], destination)
        if destination.WhichOneof("destination") == "filesystem" and self.CheckBlessing(input_dict):
            served = served_version_of(self.GetModelPath(input_dict), destination.filesystem.base_directory)
            if served is not None:
                version, folder = served
                model_push = artifact_utils.get_single_instance(output_dict[keys.PUSHED_MODEL_KEY])
                self._MarkNotPushed(model_push)
                model_push.set_int_custom_property(ALREADY_SERVED_VERSION_PROPERTY, version)
                model_push.set_string_custom_property(ALREADY_SERVED_PATH_PROPERTY, folder)
                logging.info("not pushed: the model is already served as version %d (%s)", version, folder)
                return
        super().Do(input_dict, output_dict, exec_properties)
