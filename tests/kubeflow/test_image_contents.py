"""Everything the compiled spec makes the pipeline image import or read is in the image: importable
from the installed package, inside a package setup.py installs, and not excluded from the Docker
build context. (Docker is not available here, so the image itself is not built.)"""

import fnmatch
import importlib
import os
import re

import pytest
import tensorflow_model_analysis as tfma
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils
from tfx.utils import import_utils, proto_utils

from tinyface.components.artifacts import DataReport
from tinyface.kubeflow import runner
from tinyface.kubeflow.components import evaluator as kubeflow_evaluator
from tinyface.pipeline import configs
from tinyface.evaluation.blessing import THRESHOLD_NAMES

REPO = configs.REPO_ROOT


def _setup_py():
    with open(os.path.join(REPO, "setup.py")) as f:
        return f.read()


@pytest.fixture(scope="module")
def installed_packages(installed_layout):
    """The packages pip installs from setup.py: the folders with an __init__.py that setuptools
    lays out (conftest's installed_layout), as dotted names."""
    return {os.path.relpath(folder, installed_layout).replace(os.sep, ".")
            for folder, _, files in os.walk(installed_layout) if "__init__.py" in files}


def _dockerignore_patterns():
    with open(os.path.join(REPO, ".dockerignore")) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def _excluded_from_build_context(relative_path):
    """Docker's rule, for the patterns our .dockerignore uses: a path is excluded when it or a
    parent folder matches a pattern (`**/` matching any depth)."""
    parts = relative_path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for pattern in _dockerignore_patterns():
        bare = pattern[3:] if pattern.startswith("**/") else None
        for prefix in prefixes:
            if fnmatch.fnmatch(prefix, pattern) or (bare and fnmatch.fnmatch(prefix.split("/")[-1], bare)):
                return True
    return False


def _assert_shipped(module_name, installed_packages):
    """`module_name` imports here, from this repository, inside an installed package, in the context."""
    imported = importlib.import_module(module_name)
    path = os.path.relpath(imported.__file__, REPO)
    assert not path.startswith(os.pardir), f"{module_name} is not this repository's code: {imported.__file__}"
    package = module_name.rsplit(".", 1)[0] if not path.endswith("__init__.py") else module_name
    assert package in installed_packages, f"{package} is not installed by setup.py"
    assert not _excluded_from_build_context(path.replace(os.sep, "/")), f"{path} is excluded by .dockerignore"


def _spec_dict(compiled):
    return json_format.MessageToDict(compiled[0].spec)


def test_every_executor_class_is_shipped(compiled, installed_packages):
    executors = _spec_dict(compiled)["deploymentSpec"]["executors"]
    class_paths = set()
    for executor in executors.values():
        args = executor["container"]["args"]
        class_paths.add(args[args.index("--executor_class_path") + 1])
    assert len(class_paths) == len(executors)
    ours = {path for path in class_paths if not path.startswith("tfx.")}
    assert ours == {
        "tinyface.kubeflow.components.face_example_gen.Executor", "tinyface.kubeflow.components.previous_span_statistics.Executor",
        "tinyface.kubeflow.components.archive_span_statistics.Executor",
        "tinyface.kubeflow.components.validators.DistributionValidatorExecutor", "tinyface.kubeflow.components.validators.DataGateExecutor",
        "tinyface.components.pair_gen.executor.Executor", "tinyface.kubeflow.components.trainer.Executor",
        "tinyface.kubeflow.components.serving_model_baseline.Executor", "tinyface.kubeflow.components.evaluator.Executor",
        "tinyface.kubeflow.components.infra_validator.Executor", "tinyface.components.served_model_pusher.executor.Executor"}
    for class_path in class_paths:
        assert import_utils.import_class_by_path(class_path), class_path
        if class_path in ours:
            _assert_shipped(class_path.rsplit(".", 1)[0], installed_packages)


def test_every_artifact_type_is_rebuilt_by_the_kubeflow_entrypoint(compiled):
    """TFX's KFP entrypoint imports each artifact class from its type's schema title; for custom
    types the title is the artifact's TYPE_NAME (tinyface.DataReport)."""
    spec = compiled[0].spec
    schemas = set()
    for component in spec.components.values():
        for definitions in (component.input_definitions.artifacts, component.output_definitions.artifacts):
            schemas.update(definition.artifact_type.instance_schema for definition in definitions.values())
    titles = {yaml.safe_load(schema)["title"] for schema in schemas}
    assert DataReport.TYPE_NAME in titles
    for schema in schemas:
        runtime = pipeline_spec_pb2.RuntimeArtifact(
            name="a", uri="gs://b/a", type=pipeline_spec_pb2.ArtifactTypeSchema(instance_schema=schema))
        runtime.metadata.update({"span": 3.0})
        (artifact,) = kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(
            {"x": pipeline_spec_pb2.ArtifactList(artifacts=[runtime])})["x"]
        title = yaml.safe_load(schema)["title"]
        assert artifact.TYPE_NAME == (title[len("tfx."):] if title.startswith("tfx.") else title)


def test_the_trainer_entry_point_and_the_metric_module_are_shipped(compiled, installed_packages):
    assert callable(import_utils.import_func_from_module(*runner.TRAINER_RUN_FN.rsplit(".", 1)))
    _assert_shipped(runner.TRAINER_RUN_FN.rsplit(".", 1)[0], installed_packages)
    # The Evaluator builds its EvalConfig at run time; its metric modules must be in the image.
    evaluator = json_format.MessageToDict(compiled[0].spec.root.dag.tasks["Evaluator"].inputs)["parameters"]
    exec_properties = {key: value["runtimeValue"]["constant"] for key, value in evaluator.items()
                       if "runtimeValue" in value}
    exec_properties.update({key: 1.0 for key in THRESHOLD_NAMES})
    eval_config = proto_utils.json_to_proto(kubeflow_evaluator.apply_runtime_parameters(exec_properties)["eval_config"],
                                            tfma.EvalConfig())
    metric_modules = {metric.module for spec in eval_config.metrics_specs for metric in spec.metrics}
    assert metric_modules == {"tinyface.evaluation.face_metrics"}
    for module in metric_modules:
        _assert_shipped(module, installed_packages)


def test_the_schema_the_spec_reads_is_in_the_image(compiled):
    schema = json_format.MessageToDict(compiled[0].spec.root.dag.tasks["ImportSchemaGen"].inputs)
    in_image = schema["parameters"]["schema_file"]["runtimeValue"]["constant"]
    relative = os.path.relpath(in_image, configs.KUBEFLOW_IMAGE_REPO_DIR)
    assert os.path.isfile(os.path.join(REPO, relative))
    assert not _excluded_from_build_context(relative)


def test_dockerfile_builds_from_tfx_1_16_and_installs_the_repository_where_configs_say():
    with open(os.path.join(REPO, "Dockerfile")) as f:
        dockerfile = f.read()
    assert re.search(r"^ARG TFX_IMAGE=gcr\.io/tfx-oss-public/tfx:1\.16\.0$", dockerfile, re.M)
    assert re.search(r"^FROM \$\{TFX_IMAGE\}$", dockerfile, re.M)
    assert re.search(rf"^WORKDIR {re.escape(configs.KUBEFLOW_IMAGE_REPO_DIR)}$", dockerfile, re.M)
    assert re.search(rf"^COPY \. {re.escape(configs.KUBEFLOW_IMAGE_REPO_DIR)}$", dockerfile, re.M)
    assert re.search(rf"pip install --no-cache-dir {re.escape(configs.KUBEFLOW_IMAGE_REPO_DIR)}\b", dockerfile)
    # The Beam boot program copied in must be the Beam the image ends up with (setup.py's pin).
    beam_pin = re.search(r'"apache-beam==([^"]+)"', _setup_py()).group(1)
    assert re.search(rf"^ARG BEAM_VERSION={re.escape(beam_pin)}$", dockerfile, re.M)
    for needed in ("setup.py", "kubeflow/runner.py", "trainer/run_fn.py", "schemas/faces/schema.pbtxt"):
        assert not _excluded_from_build_context(needed), needed
    assert _excluded_from_build_context(".venv/bin/python") and _excluded_from_build_context("tests/conftest.py")


def test_setup_py_pins_tensorflow_serving_api_and_keeps_the_installed_version(installed_packages):
    from importlib import metadata

    pins = dict(re.findall(r'"([A-Za-z0-9_.-]+)==([^"]+)"', _setup_py()))
    assert pins["tensorflow-serving-api"] == "2.16.1" == metadata.version("tensorflow-serving-api")
    assert {"tinyface.kubeflow", "tinyface.kubeflow.components"} <= installed_packages


@pytest.mark.parametrize("path,excluded", [
    ("tinyface/__pycache__/cli.cpython-310.pyc", True), ("tinyface.egg-info/PKG-INFO", True),
    ("cli/main.py", False), ("tinyface_home/metadata.db", True)])
def test_the_dockerignore_reading_used_above(path, excluded):
    assert _excluded_from_build_context(path) is excluded
