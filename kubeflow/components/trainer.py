"""Trainer for Kubeflow: TFX's Trainer whose model and step count are runtime parameters.

TFX's Trainer takes them inside TrainArgs and custom_config, which KFP v2 can only pass as
compile-time constants. This variant adds `model_name` and `train_steps` as plain parameters
and, at run time, writes them into those properties before TFX's GenericExecutor runs
trainer/run_fn.py as usual. Choosing another model also brings that model's paper optimiser
settings (trainer/training_config.PAPER_SETTINGS), as choosing it locally does.

The entry point is `run_fn` as a module path (tinyface.trainer.run_fn.run_fn) imported from the pipeline
image, not a module file: a module file is packed into a wheel on the pipeline root at compile
time, from this machine's copy of trainer/.
"""

from typing import Any, Dict

from absl import logging
from tfx import types
from tfx.components.trainer import executor as trainer_executor
from tfx.dsl.components.base import base_component, executor_spec
from tfx.proto import trainer_pb2
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import json_utils, proto_utils

from tinyface.trainer.training.training_config import CONFIG_KEY, TrainingConfig

MODEL_NAME_KEY = "model_name"
TRAIN_STEPS_KEY = "train_steps"


class TrainerSpec(standard_component_specs.TrainerSpec):
    PARAMETERS = {
        **standard_component_specs.TrainerSpec.PARAMETERS,
        MODEL_NAME_KEY: ExecutionParameter(type=str),
        TRAIN_STEPS_KEY: ExecutionParameter(type=int),
    }


def apply_runtime_parameters(exec_properties: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of the Trainer's exec properties with model_name and train_steps written into
    custom_config and train_args, where trainer/run_fn.py and TFX read them."""
    train_steps = int(exec_properties[TRAIN_STEPS_KEY])
    if train_steps < 1:
        raise ValueError(f"train_steps must be at least 1, got {train_steps}")
    custom_config = json_utils.loads(exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY])
    config = TrainingConfig.from_dict(custom_config[CONFIG_KEY]).with_model(exec_properties[MODEL_NAME_KEY])
    resolved = dict(exec_properties)
    resolved[standard_component_specs.CUSTOM_CONFIG_KEY] = json_utils.dumps(
        {**custom_config, CONFIG_KEY: config.to_dict()})
    resolved[standard_component_specs.TRAIN_ARGS_KEY] = proto_utils.proto_to_json(
        trainer_pb2.TrainArgs(num_steps=train_steps))
    return resolved


class Executor(trainer_executor.GenericExecutor):

    def Do(self, input_dict, output_dict, exec_properties):
        logging.info("runtime parameters: model %s, %d training steps",
                     exec_properties[MODEL_NAME_KEY], int(exec_properties[TRAIN_STEPS_KEY]))
        super().Do(input_dict, output_dict, apply_runtime_parameters(exec_properties))


class Trainer(base_component.BaseComponent):
    SPEC_CLASS = TrainerSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, examples: types.BaseChannel, run_fn: str, model, train_steps, eval_steps: int,
                 training_config: TrainingConfig):
        """`model` and `train_steps`: values or RuntimeParameters; `training_config` supplies the
        rest of the training settings (and the model's when `model` is its own)."""
        super().__init__(spec=TrainerSpec(
            examples=examples,
            run_fn=run_fn,
            # Overwritten at run time from train_steps; TFX's spec requires the property.
            train_args=trainer_pb2.TrainArgs(),
            eval_args=trainer_pb2.EvalArgs(num_steps=eval_steps),
            custom_config=json_utils.dumps({CONFIG_KEY: training_config.to_dict()}),
            model_name=model,
            train_steps=train_steps,
            model=types.Channel(type=standard_artifacts.Model),
            model_run=types.Channel(type=standard_artifacts.ModelRun)))
