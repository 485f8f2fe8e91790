"""Reading a pipeline's ML Metadata: what ran, what was cached, what was produced."""

import collections

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2
from tfx import v1 as tfx

STATE_NAMES = {v: k for k, v in metadata_store_pb2.Execution.State.items()}


def open_store(metadata_path):
    return mlmd.MetadataStore(tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path))


def node_id_of(store, execution):
    """The pipeline node an execution belongs to (from its node context)."""
    for context in store.get_contexts_by_execution(execution.id):
        if store.get_context_types_by_id([context.type_id])[0].name == "node":
            return context.name.split(".", 1)[-1]
    return None


def executions_by_node(store):
    """{node id: [state names of its executions, oldest first]}."""
    out = collections.defaultdict(list)
    for execution in sorted(store.get_executions(), key=lambda e: e.id):
        out[node_id_of(store, execution)].append(STATE_NAMES[execution.last_known_state])
    return dict(out)


def latest_artifact(store, type_name):
    artifacts = store.get_artifacts_by_type(type_name)
    return max(artifacts, key=lambda a: a.id) if artifacts else None
