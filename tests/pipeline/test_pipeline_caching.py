"""Caching sees code: after an edit to the code of one component, `tinyface run` re-runs that
component and everything downstream of it, and serves the rest from cache.

The run happens on a copy of the checkout's code (laid out as installed: tinyface/pipeline/...),
in a child process that imports the copy, so the edited file is the code that runs (as for a
user editing their checkout between two runs).
"""

import os
import shutil
import subprocess
import sys

import pytest

from tinyface.pipeline import code_fingerprint, configs, metadata_queries

pytestmark = pytest.mark.pipeline

# A few steps of the small JASRNet, two eval batches: this test is about caching, not quality.
RUN_CONFIG = """
training: {model: jasrnet, batch_size: 2, checkpoint_every: 2}
trainer: {train_steps: 2, eval_steps: 2}
"""
# PairGen runs tinyface/data/degradation/degrade.py; nothing upstream of PairGen imports it.
EDITED = os.path.join("tinyface", "data", "degradation", "degrade.py")
UPSTREAM = ["FaceExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator",
            "DistributionValidator", "DataGate"]
DOWNSTREAM = ["PairGen", "Trainer", "Evaluator", "Pusher"]


def _copy_checkout(installed_layout, destination):
    """The code, and the checked-in schema where configs.SCHEMA_FILE finds it in the copy
    (beside the installed pipeline package's parent: ImportSchemaGen reads it by path)."""
    shutil.copytree(installed_layout, destination)
    shutil.copytree(os.path.join(configs.REPO_ROOT, "schemas"), destination / "tinyface" / "schemas")


def _tinyface_run(checkout, home, data, config):
    environment = {**os.environ, "PYTHONPATH": str(checkout), "TINYFACE_HOME": str(home)}
    result = subprocess.run(
        [sys.executable, "-m", "tinyface.cli.main", "run", "--config", str(config), "--data", data,
         "--dataset", "synthetic", "--home", str(home)],
        cwd=checkout, env=environment, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _fingerprints(store, node):
    """The code fingerprint each execution of `node` ran with, oldest first."""
    executions = [e for e in sorted(store.get_executions(), key=lambda e: e.id)
                  if metadata_queries.node_id_of(store, e) == node]
    key = code_fingerprint.CODE_FINGERPRINT_KEY
    return [e.custom_properties[key].string_value if key in e.custom_properties
            else e.custom_properties["custom_config"].string_value for e in executions]


def test_an_edit_reruns_its_component_and_downstream_and_caches_upstream(tmp_path, synthetic_faces,
                                                                       installed_layout):
    checkout, home = tmp_path / "checkout", tmp_path / "home"
    _copy_checkout(installed_layout, checkout)
    config = tmp_path / "run.yaml"
    config.write_text(RUN_CONFIG)
    data = synthetic_faces(count=24, seed=5)

    _tinyface_run(checkout, home, data, config)
    with open(checkout / EDITED, "a") as f:
        f.write("\n# An edit: the pairs may now be made differently.\n")
    _tinyface_run(checkout, home, data, config)

    store = metadata_queries.open_store(os.path.join(home, "metadata", configs.PIPELINE_NAME, "metadata.db"))
    executions = metadata_queries.executions_by_node(store)
    for node in UPSTREAM:
        assert executions[node] == ["COMPLETE", "CACHED"], node
    for node in DOWNSTREAM:
        assert executions[node] == ["COMPLETE", "COMPLETE"], node
    # PairGen ran again because its code changed (not only its inputs, which did not).
    first, second = _fingerprints(store, "PairGen")
    assert first != second
    assert len(set(_fingerprints(store, "FaceExampleGen"))) == 1
