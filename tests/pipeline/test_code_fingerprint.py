"""The code fingerprints that make TFX's cache keys see code: which files each node's covers,
that an edit changes exactly the fingerprints of the nodes that can run the edited file, and
that every node running our code carries one, locally and compiled for Kubeflow."""

import os
import shutil

import pytest

from tinyface.pipeline import code_fingerprint, configs, local_runner
from tinyface.pipeline.code_fingerprint import CODE_FINGERPRINT_KEY, CodeIndex

DEGRADATION = "tinyface/data/degradation/degrade.py"
# Nodes that run only TFX's code: their inputs change when ours do, so they need no fingerprint.
TFX_ONLY = {"StatisticsGen", "ExampleValidator", "DistributionValidator"}


def _closure_names(index, *modules):
    return {index.relative_name(path) for path in index.closure(modules)}


@pytest.fixture(scope="module")
def index():
    return CodeIndex(code_fingerprint.package_folders())


@pytest.fixture(scope="module")
def local_nodes(tmp_path_factory):
    pipeline = local_runner.local_pipeline(home=str(tmp_path_factory.mktemp("home")))
    return {node.id: node for node in pipeline.components}


def test_a_closure_follows_imports_of_ours_and_the_packages_above_them(index):
    names = _closure_names(index, "tinyface.components.pair_gen.executor")
    assert {"tinyface/components/pair_gen/executor.py", "tinyface/components/pair_gen/spec.py",
            "tinyface/components/__init__.py",
            "tinyface/beam/pairs.py", "tinyface/__init__.py", "tinyface/data/__init__.py", DEGRADATION} <= names
    assert not any(name.startswith("tfx/") for name in names)   # TFX's code is not ours
    # Ingestion never imports the degradation: editing it must leave FaceExampleGen cached.
    assert DEGRADATION not in _closure_names(index, "tinyface.components.face_example_gen.executor",
                                             "tinyface.components.face_example_gen.driver")


def test_relative_and_function_local_imports_count(tmp_path):
    package = tmp_path / "tinyface"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from . import sibling\n")
    (package / "sub" / "sibling.py").write_text("def f():\n    from ..late import g\n    return g\n")
    (package / "late.py").write_text("from .sub.deeper import *\n")
    (package / "sub" / "deeper.py").write_text("x = 1\n")
    (package / "unused.py").write_text("y = 2\n")
    index = CodeIndex({"tinyface": str(package)})
    assert _closure_names(index, "tinyface.sub") == {
        "tinyface/__init__.py", "tinyface/sub/__init__.py", "tinyface/sub/sibling.py", "tinyface/late.py",
        "tinyface/sub/deeper.py"}


def test_an_edit_changes_the_fingerprints_of_the_nodes_that_run_it_and_no_other(tmp_path, local_nodes):
    folders = code_fingerprint.package_folders()
    copied = {name: str(tmp_path / os.path.relpath(folder, configs.REPO_ROOT)) for name, folder in folders.items()}
    for name, folder in folders.items():
        shutil.copytree(folder, copied[name], ignore=shutil.ignore_patterns("__pycache__"))
    copy = CodeIndex(copied)
    original = CodeIndex(folders)

    def fingerprints(index):
        return {node_id: code_fingerprint.node_code_fingerprint(node, index) for node_id, node in local_nodes.items()}

    before = fingerprints(copy)
    # A copy elsewhere: the same fingerprints, so the same cache. (The Trainer's module file and
    # the schema are named by paths into this checkout here; a pipeline built in the copy names
    # the copy's.)
    names_files = {"Trainer", "ImportSchemaGen"}
    assert {k: v for k, v in before.items() if k not in names_files} == {
        k: v for k, v in fingerprints(original).items() if k not in names_files}
    with open(tmp_path / DEGRADATION, "a") as f:
        f.write("# edited\n")
    after = fingerprints(CodeIndex(copied))
    changed = {node_id for node_id in before if before[node_id] != after[node_id]}
    # PairGen degrades; the Evaluator's metrics compare with bicubic from the same module.
    assert changed == {"PairGen", "Evaluator"}


def test_every_local_node_running_our_code_carries_its_fingerprint(local_nodes):
    from tfx.utils import json_utils

    for node_id, node in local_nodes.items():
        if node_id == "Trainer":   # the TFX way for the Trainer: its custom_config (run_fn sees it too)
            custom_config = json_utils.loads(node.exec_properties["custom_config"])
            assert custom_config[CODE_FINGERPRINT_KEY].startswith("sha256:")
        elif node_id in TFX_ONLY or node_id in ("latest_blessed_model", "previous_span_statistics"):
            assert CODE_FINGERPRINT_KEY not in node.exec_properties, node_id
        else:
            assert node.exec_properties[CODE_FINGERPRINT_KEY].startswith("sha256:"), node_id


def test_the_schema_gen_sees_the_schemas_content(tmp_path, local_nodes, index):
    node = local_nodes["ImportSchemaGen"]
    schema = tmp_path / "schema.pbtxt"
    shutil.copy(configs.SCHEMA_FILE, schema)
    node.exec_properties["schema_file"] = str(schema)
    try:
        before = code_fingerprint.node_code_fingerprint(node, index)
        schema.write_text(schema.read_text() + "\n# edited\n")
        assert code_fingerprint.node_code_fingerprint(node, index) != before
    finally:
        node.exec_properties["schema_file"] = configs.SCHEMA_FILE


def test_every_kubeflow_task_running_our_code_gets_it_as_a_parameter(compiled_kubeflow):
    from google.protobuf import json_format

    tasks = compiled_kubeflow.spec.root.dag.tasks
    tfx_only = {"StatisticsGen", "ExampleValidator"}   # the DistributionValidator variant is ours here
    runs_ours = set(tasks) - tfx_only - {"Trainer"}
    for name in runs_ours:
        parameters = json_format.MessageToDict(tasks[name].inputs)["parameters"]
        assert parameters[CODE_FINGERPRINT_KEY]["runtimeValue"]["constant"].startswith("sha256:"), name
    trainer = json_format.MessageToDict(tasks["Trainer"].inputs)["parameters"]
    assert CODE_FINGERPRINT_KEY in trainer["custom_config"]["runtimeValue"]["constant"]
    for name in tfx_only:
        assert CODE_FINGERPRINT_KEY not in json_format.MessageToDict(tasks[name].inputs)["parameters"], name


@pytest.fixture(scope="module")
def compiled_kubeflow():
    from tinyface.kubeflow import runner
    from tinyface.kubeflow.settings import kubeflow_settings

    return runner.compile_pipeline(kubeflow_settings(root="gs://tinyface-test-bucket/tinyface",
                                                     image="registry.example/tinyface-pipeline@sha256:" + "0" * 64,
                                                     data_root="/gcs/tinyface-test-bucket/faces"))


def test_every_package_with_a_folder_of_its_own_is_fingerprinted(installed_layout):
    """setup.py's package_dir maps some tinyface.* packages to top-level folders; the fingerprint
    must know each of them, or edits there would be invisible to the cache."""
    installed = installed_layout / "tinyface"
    core = os.path.join(configs.REPO_ROOT, "tinyface")
    own_folders = {f"tinyface.{name}" for name in os.listdir(installed)
                   if (installed / name / "__init__.py").is_file() and not os.path.isdir(os.path.join(core, name))}
    assert own_folders == set(code_fingerprint.OUR_PACKAGES) - {"tinyface"}
