"""An in-memory ML Metadata store filled the way TFX's LocalDagRunner fills it, so the report's
lineage queries are tested on runs (cached, failed, with a baseline) without running a pipeline."""

import json

import ml_metadata as mlmd
import pytest
from ml_metadata.proto import metadata_store_pb2
from tfx.dsl.compiler import constants as compiler_constants
from tfx import version as tfx_version
from tfx.types import artifact_utils

PIPELINE = "tinyface"
_STATES = {"COMPLETE": metadata_store_pb2.Execution.COMPLETE, "CACHED": metadata_store_pb2.Execution.CACHED,
           "FAILED": metadata_store_pb2.Execution.FAILED, "RUNNING": metadata_store_pb2.Execution.RUNNING}


class PipelineRecorder:
    """Records runs as TFX does: a pipeline_run context per run; per execution a node context,
    INPUT/OUTPUT events whose path is (key, index), and the artifacts attributed to the contexts.
    A cached execution re-links the earlier run's artifacts instead of making new ones."""

    def __init__(self, store):
        self.store = store
        self._context_types = {name: store.put_context_type(metadata_store_pb2.ContextType(name=name))
                               for name in (compiler_constants.PIPELINE_CONTEXT_TYPE_NAME,
                                            compiler_constants.PIPELINE_RUN_CONTEXT_TYPE_NAME,
                                            compiler_constants.NODE_CONTEXT_TYPE_NAME)}
        self._pipeline = self._context(compiler_constants.PIPELINE_CONTEXT_TYPE_NAME, PIPELINE)
        self._nodes = {}
        self._run = None

    def start_run(self, name):
        self._run = self._context(compiler_constants.PIPELINE_RUN_CONTEXT_TYPE_NAME, name)
        return self._run

    def artifact(self, artifact_class, uri, split_names=None, **custom_properties):
        """A new tfx artifact (not stored until an execution outputs it)."""
        artifact = artifact_class()
        artifact.uri = str(uri)
        # As TFX stamps every artifact: the split folder layout (Split-<name>) depends on it.
        artifact.set_string_custom_property("tfx_version", tfx_version.__version__)
        if split_names is not None:
            artifact.split_names = artifact_utils.encode_split_names(list(split_names))
        for name, value in custom_properties.items():
            if isinstance(value, int):
                artifact.set_int_custom_property(name, value)
            else:
                artifact.set_string_custom_property(name, value)
        return artifact

    def execution(self, node, state="COMPLETE", inputs=None, outputs=None, **json_properties):
        """Records one execution of `node` in the current run; inputs/outputs map an event key
        to a list of tfx artifacts. Keyword properties are stored as JSON strings, as TFX stores
        exec properties such as custom_config and train_args."""
        execution_type = self.store.put_execution_type(metadata_store_pb2.ExecutionType(name=f"type.{node}"))
        execution = metadata_store_pb2.Execution(type_id=execution_type, last_known_state=_STATES[state])
        for name, value in json_properties.items():
            execution.custom_properties[name].string_value = json.dumps(value)
        artifacts_and_events = []
        for event_type, side in ((metadata_store_pb2.Event.INPUT, inputs or {}),
                                 (metadata_store_pb2.Event.OUTPUT, outputs or {})):
            # As TFX: one event per artifact; an artifact under two keys (a re-run's Evaluator
            # reading the cached model as model and as baseline_model) gets both paths in it.
            events = {}
            for key, artifacts in side.items():
                for index, artifact in enumerate(artifacts):
                    self._store_artifact(artifact)
                    if artifact.id not in events:
                        events[artifact.id] = metadata_store_pb2.Event(type=event_type)
                        artifacts_and_events.append((artifact.mlmd_artifact, events[artifact.id]))
                    events[artifact.id].path.steps.add().key = key
                    events[artifact.id].path.steps.add().index = index
        contexts = [self.store.get_contexts_by_id([i])[0] for i in (self._pipeline, self._run, self._node(node))]
        self.store.put_execution(execution, artifacts_and_events, contexts)

    def _store_artifact(self, artifact):
        if artifact.mlmd_artifact.HasField("id"):
            return
        artifact_type = artifact.artifact_type
        artifact_type.id = self.store.put_artifact_type(artifact_type, can_add_fields=True)
        artifact.set_mlmd_artifact_type(artifact_type)
        artifact.mlmd_artifact.type_id = artifact_type.id
        artifact.mlmd_artifact.state = metadata_store_pb2.Artifact.LIVE
        [artifact.id] = self.store.put_artifacts([artifact.mlmd_artifact])

    def _node(self, node):
        if node not in self._nodes:
            self._nodes[node] = self._context(compiler_constants.NODE_CONTEXT_TYPE_NAME, f"{PIPELINE}.{node}")
        return self._nodes[node]

    def _context(self, type_name, name):
        # MLMD stamps the create time itself (ms); runs made within one ms are ordered by id.
        return self.store.put_contexts([metadata_store_pb2.Context(type_id=self._context_types[type_name],
                                                                   name=name)])[0]


@pytest.fixture
def recorder():
    config = metadata_store_pb2.ConnectionConfig()
    config.fake_database.SetInParent()
    return PipelineRecorder(mlmd.MetadataStore(config))
