"""What the latest pipeline run evaluated and decided, read from ML Metadata by lineage.

Everything is taken from one run (TFX's newest `pipeline_run` context) and followed through
the Evaluator's execution: the examples and models it read are its input events, the
evaluation and blessing its output events, the pushed model the output of the execution that
read that blessing. So the report describes the model that was evaluated on those examples,
never a newer Model or an older evaluation that happens to be the latest of its type (a run
whose Evaluator was served from cache still links the cached artifacts). Artifacts are found by
type and event key, not by node id, so renaming a node does not lose them.
"""

import dataclasses
import datetime
import json
from typing import Dict, List, Optional, Tuple

from ml_metadata.proto import metadata_store_pb2
from tfx.components.evaluator import constants as evaluator_constants
from tfx.dsl.compiler import constants as compiler_constants
from tfx.types import artifact_utils, standard_artifacts
from tfx.types import standard_component_specs as keys
from tfx.utils import path_utils

from tinyface.components.artifacts import DataReport
from tinyface.components.served_model_pusher.executor import (ALREADY_SERVED_PATH_PROPERTY, ALREADY_SERVED_VERSION_PROPERTY)
from tinyface.pipeline import metadata_queries

# The Evaluator's default when its `example_splits` is not set (tfx.components.evaluator.executor).
DEFAULT_EVAL_SPLIT = "eval"
# Custom properties the TFX Pusher writes on its PushedModel (private constants of
# tfx.components.pusher.executor, so spelt here once).
PUSHED_PROPERTY = "pushed"
PUSHED_DESTINATION_PROPERTY = "pushed_destination"
# Execution properties TFX stores as JSON: the Trainer's and the Evaluator's.
_CUSTOM_CONFIG = keys.CUSTOM_CONFIG_KEY
_TRAIN_ARGS = keys.TRAIN_ARGS_KEY
_EXAMPLE_SPLITS = keys.EXAMPLE_SPLITS_KEY
# Executions whose outputs exist: completed now, or served from the cache of an earlier run.
_PUBLISHED = (metadata_store_pb2.Execution.COMPLETE, metadata_store_pb2.Execution.CACHED)
_FAILED = metadata_store_pb2.Execution.State.Name(metadata_store_pb2.Execution.FAILED)
# The DataGate's report type (components/artifacts.py), by name: its class needs not be importable.
_DATA_REPORT_TYPE = DataReport.TYPE_NAME


@dataclasses.dataclass(frozen=True)
class RunLineage:
    """The latest run's executions and the artifacts around its evaluation.

    Artifacts are tfx.types.Artifact objects (uri, custom properties); each is None when the
    run did not produce or use it (e.g. no baseline on the first run, no evaluation when the
    data gate stopped the run).
    """

    run_id: str                                  # the pipeline_run context's name (TFX: start time)
    started: datetime.datetime                   # when the run's context was created, UTC
    node_states: Tuple[Tuple[str, str], ...]     # (node id, execution state) in execution order
    model: Optional[object] = None               # the evaluated (candidate) Model
    baseline_model: Optional[object] = None      # the last blessed Model it was compared with
    examples: Optional[object] = None            # the pairs the Evaluator read
    eval_splits: Tuple[str, ...] = ()            # the splits of `examples` it evaluated
    evaluation: Optional[object] = None          # ModelEvaluation (a TFMA output folder)
    blessing: Optional[object] = None            # ModelBlessing
    pushed_model: Optional[object] = None        # PushedModel written after that blessing
    training_config: Dict = dataclasses.field(default_factory=dict)  # the Trainer's custom_config
    train_steps: Optional[int] = None
    model_run: Optional[object] = None           # ModelRun: the Trainer's logs (TensorBoard, curves)
    data_report: Optional[object] = None         # tinyface.DataReport of this run's DataGate

    @property
    def stopped_at(self):
        """The node whose execution failed and stopped the run; None when none failed."""
        return next((node for node, state in self.node_states if state == _FAILED), None)

    @property
    def blessed(self):
        """True/False as the Evaluator decided; None without a blessing."""
        if self.blessing is None:
            return None
        return self.blessing.get_int_custom_property(
            evaluator_constants.ARTIFACT_PROPERTY_BLESSED_KEY) == evaluator_constants.BLESSED_VALUE

    @property
    def pushed_destination(self):
        """Where the Pusher wrote the model; None when it did not push."""
        if self.pushed_model is None or self.pushed_model.get_int_custom_property(PUSHED_PROPERTY) != 1:
            return None
        return self.pushed_model.get_string_custom_property(PUSHED_DESTINATION_PROPERTY) or None

    @property
    def already_served(self):
        """(version, folder) TF Serving already served this run's model from, so the Pusher did
        not push it again (components/served_model_pusher); None otherwise."""
        if self.pushed_model is None or not self.pushed_model.has_custom_property(ALREADY_SERVED_VERSION_PROPERTY):
            return None
        return (self.pushed_model.get_int_custom_property(ALREADY_SERVED_VERSION_PROPERTY),
                self.pushed_model.get_string_custom_property(ALREADY_SERVED_PATH_PROPERTY))

    def serving_model_dir(self, model=None):
        """The SavedModel folder inside a Model artifact (the candidate's by default)."""
        model = model or self.model
        return path_utils.serving_model_path(model.uri) if model is not None else None

    def eval_split_uri(self):
        """The folder of the first evaluated split of `examples` (GZIP TFRecords of pairs)."""
        return artifact_utils.get_split_uri([self.examples], self.eval_splits[0])


@dataclasses.dataclass
class _Execution:
    execution: metadata_store_pb2.Execution
    inputs: Dict[str, List[int]]                 # event key -> artifact ids
    outputs: Dict[str, List[int]]


def latest_run(store):
    """RunLineage of the newest pipeline run in `store`; None when no run is recorded."""
    runs = store.get_contexts_by_type(compiler_constants.PIPELINE_RUN_CONTEXT_TYPE_NAME)
    if not runs:
        return None
    run = max(runs, key=lambda context: (context.create_time_since_epoch, context.id))
    executions = sorted(store.get_executions_by_context(run.id), key=lambda e: e.id)
    lineage = dict(
        run_id=run.name,
        started=datetime.datetime.fromtimestamp(run.create_time_since_epoch / 1000, datetime.timezone.utc),
        node_states=tuple((metadata_queries.node_id_of(store, e), metadata_queries.STATE_NAMES[e.last_known_state])
                          for e in executions))
    published = _with_events(store, [e for e in executions if e.last_known_state in _PUBLISHED])
    artifacts = _artifacts(store, published)

    gate = _producer_of_type(published, artifacts, _DATA_REPORT_TYPE)
    if gate is not None:
        lineage["data_report"] = next(_single(gate.outputs, key, artifacts) for key in gate.outputs
                                      if artifacts[gate.outputs[key][-1]][1].name == _DATA_REPORT_TYPE)
    evaluator = _producer_of_type(published, artifacts, standard_artifacts.ModelEvaluation.TYPE_NAME)
    if evaluator is None:
        # No evaluation (the run stopped before or at the Evaluator): still the trained model
        # and its curves, when the Trainer got that far.
        trainer = _producer_of_type(published, artifacts, standard_artifacts.Model.TYPE_NAME)
        if trainer is not None:
            lineage.update(_trainer_facts(trainer, artifacts),
                           model=_single(trainer.outputs, keys.MODEL_KEY, artifacts))
        return RunLineage(**lineage)
    evaluation = _single(evaluator.outputs, keys.EVALUATION_KEY, artifacts)
    blessing = _single(evaluator.outputs, keys.BLESSING_KEY, artifacts)
    model = _single(evaluator.inputs, keys.MODEL_KEY, artifacts)
    pusher = next((e for e in published if blessing is not None
                   and blessing.id in e.inputs.get(keys.MODEL_BLESSING_KEY, ())), None)
    trainer = next((e for e in published if model is not None
                    and model.id in e.outputs.get(keys.MODEL_KEY, ())), None)
    splits = _json_property(evaluator.execution, _EXAMPLE_SPLITS) or [DEFAULT_EVAL_SPLIT]
    return RunLineage(
        **lineage,
        **(_trainer_facts(trainer, artifacts) if trainer else {}),
        model=model,
        baseline_model=_single(evaluator.inputs, keys.BASELINE_MODEL_KEY, artifacts),
        examples=_single(evaluator.inputs, keys.EXAMPLES_KEY, artifacts),
        eval_splits=tuple(splits),
        evaluation=evaluation,
        blessing=blessing,
        pushed_model=_single(pusher.outputs, keys.PUSHED_MODEL_KEY, artifacts) if pusher else None,
    )


def _trainer_facts(trainer, artifacts):
    """The RunLineage fields a Trainer execution gives: its settings, steps and logs."""
    train_args = _json_property(trainer.execution, _TRAIN_ARGS) or {}
    return dict(training_config=_json_property(trainer.execution, _CUSTOM_CONFIG) or {},
                train_steps=train_args.get("num_steps"),
                model_run=_single(trainer.outputs, keys.MODEL_RUN_KEY, artifacts))


def _with_events(store, executions):
    by_id = {e.id: _Execution(e, {}, {}) for e in executions}
    for event in store.get_events_by_execution_ids(list(by_id)) if by_id else []:
        step_keys = [step.key for step in event.path.steps if step.HasField("key")]
        if not step_keys:
            continue
        if event.type in (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT):
            side = by_id[event.execution_id].inputs
        elif event.type in (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT):
            side = by_id[event.execution_id].outputs
        else:
            continue
        # One artifact read under two keys is one event with both keys (a re-run evaluates the
        # cached model against itself as the last blessed one: model and baseline_model).
        for key in step_keys:
            side.setdefault(key, []).append(event.artifact_id)
    return list(by_id.values())


def _artifacts(store, executions):
    """{artifact id: (MLMD artifact, its type)} for every artifact the executions read or wrote.

    Kept as MLMD records: only the few the report uses become tfx Artifacts (_single), so the
    pipeline's custom artifact types need not be importable here.
    """
    ids = sorted({artifact_id for e in executions for side in (e.inputs, e.outputs)
                  for artifact_ids in side.values() for artifact_id in artifact_ids})
    if not ids:
        return {}
    records = store.get_artifacts_by_id(ids)
    types = {t.id: t for t in store.get_artifact_types_by_id(sorted({a.type_id for a in records}))}
    return {a.id: (a, types[a.type_id]) for a in records}


def _producer_of_type(executions, artifacts, type_name):
    """The last execution that output an artifact of `type_name`."""
    for execution in reversed(executions):
        if any(artifacts[i][1].name == type_name for ids in execution.outputs.values() for i in ids):
            return execution
    return None


def _single(side, key, artifacts):
    """The tfx Artifact under event key `key` (inputs or outputs of one execution), or None."""
    ids = side.get(key, [])
    if not ids:
        return None
    record, artifact_type = artifacts[ids[-1]]
    return artifact_utils.deserialize_artifact(artifact_type, record)


def _json_property(execution, name):
    """An execution property TFX stored as a JSON string (custom_config, train_args, ...)."""
    value = execution.custom_properties.get(name)
    if value is None or not value.string_value:
        return None
    return json.loads(value.string_value)
