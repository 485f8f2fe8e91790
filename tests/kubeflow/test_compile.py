"""The pipeline compiled for Kubeflow Pipelines v2 / Vertex: what KFP reads from the spec file.

The file is read back through KFP's own code: its PipelineSpec proto, the kfp SDK's component
loader, and the loader kfp.Client.upload_pipeline uses before uploading.
"""

import dataclasses
import json
import os

import pytest
from google.protobuf import json_format
from kfp import components as kfp_components
from kfp.client import client as kfp_client
from kfp.pipeline_spec import pipeline_spec_pb2

from tinyface.kubeflow import parameters as names
from tinyface.kubeflow import pipeline_spec, runner
from tinyface.pipeline import configs
from tinyface.evaluation.blessing import THRESHOLD_NAMES

ENTRYPOINT = ["python", "-m", "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"]
PARAMETER_TYPES = {
    names.DATA_ROOT: "STRING", names.SPAN: "NUMBER_INTEGER", names.MODEL: "STRING",
    names.TRAIN_STEPS: "NUMBER_INTEGER", **{name: "NUMBER_DOUBLE" for name in THRESHOLD_NAMES},
}


def _executors(spec):
    return json_format.MessageToDict(spec)["deploymentSpec"]["executors"]


def _task_parameters(spec, task):
    return json_format.MessageToDict(spec.root.dag.tasks[task].inputs)["parameters"]


def test_the_file_parses_with_kfps_proto_and_loaders(compiled):
    result, path = compiled
    spec = pipeline_spec.read(path)
    assert spec == result.spec
    assert spec.schema_version == "2.1.0"          # the only version the KFP v2 backend accepts
    assert spec.pipeline_info.name == configs.PIPELINE_NAME
    assert kfp_client._extract_pipeline_yaml(path).pipeline_spec == spec   # what upload_pipeline sends
    loaded = kfp_components.load_component_from_file(path)                 # the kfp SDK's validation
    assert sorted(loaded.component_spec.inputs) == sorted(PARAMETER_TYPES)


def test_every_component_is_a_task(compiled):
    result, _ = compiled
    node_ids = {node.id for node in result.pipeline.components}
    assert set(result.spec.root.dag.tasks) == node_ids
    assert node_ids == {"FaceExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator",
                        "previous_span_statistics", "DistributionValidator", "DataGate", "archive_span_statistics",
                        "PairGen", "Trainer",
                        "served_model", "Evaluator", "InfraValidator", "Pusher"}
    tasks = result.spec.root.dag.tasks
    # Pusher waits for both verdicts; the Evaluator compares with the served model.
    assert {"Evaluator", "InfraValidator", "Trainer"} <= set(tasks["Pusher"].dependent_tasks)
    assert "served_model" in tasks["Evaluator"].dependent_tasks
    assert set(tasks["DistributionValidator"].dependent_tasks) == {"StatisticsGen", "previous_span_statistics"}


def test_runtime_parameters_with_their_types_and_defaults(compiled, kubeflow_settings):
    result, _ = compiled
    declared = result.spec.root.input_definitions.parameters
    assert {name: pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name(p.parameter_type)
            for name, p in declared.items()} == PARAMETER_TYPES
    defaults = {name: json_format.MessageToDict(p.default_value) for name, p in declared.items()}
    run = kubeflow_settings.run_config
    assert defaults == {
        names.DATA_ROOT: kubeflow_settings.data_root, names.SPAN: names.NEWEST_SPAN,
        names.MODEL: run.training_config.model, names.TRAIN_STEPS: run.train_steps, **run.blessing.by_name()}
    assert all(p.is_optional for p in declared.values())


def test_each_parameter_reaches_the_task_that_uses_it(compiled):
    result, _ = compiled
    spec = result.spec

    def wired(task):
        return {key: value["componentInputParameter"] for key, value in _task_parameters(spec, task).items()
                if "componentInputParameter" in value}

    assert wired("FaceExampleGen") == {"input_base": names.DATA_ROOT, "requested_span": names.SPAN}
    assert wired("Trainer") == {"model_name": names.MODEL, "train_steps": names.TRAIN_STEPS}
    assert wired("Evaluator") == {name: name for name in THRESHOLD_NAMES}
    # The Trainer runs run_fn from the image: no module file, nothing packed from this machine.
    trainer = _task_parameters(spec, "Trainer")
    assert trainer["run_fn"] == {"runtimeValue": {"constant": runner.TRAINER_RUN_FN}}
    assert "module_file" not in trainer and "module_path" not in trainer


def test_every_task_runs_the_pipeline_image_and_nothing_kfp_v2_rejects(compiled, kubeflow_settings):
    result, _ = compiled
    executors = _executors(result.spec)
    assert len(executors) == len(result.spec.root.dag.tasks)
    for label, executor in executors.items():
        # No resolver executors ("resolver executors not implemented" in the KFP v2 backend)
        # and no driver hooks (it does not run lifecycle.preCacheCheck).
        assert set(executor) == {"container"}, label
        container = executor["container"]
        assert container["image"] == kubeflow_settings.image, label
        assert container["command"] == ENTRYPOINT, label
        assert "lifecycle" not in container, label


def test_beam_components_get_the_configured_runner(compiled):
    result, _ = compiled
    executors = _executors(result.spec)
    beam_tasks = ["FaceExampleGen", "StatisticsGen", "PairGen"]
    for task in beam_tasks:
        args = executors[f"{task}_executor"]["container"]["args"]
        assert "--runner=DirectRunner" in args and "--direct_num_workers=0" in args, task


def test_tasks_that_read_outside_state_are_never_cached(compiled):
    result, _ = compiled
    tasks = result.spec.root.dag.tasks
    uncached = {name for name, task in tasks.items() if not task.caching_options.enable_cache}
    assert uncached == {"FaceExampleGen", "served_model"}


def test_nothing_of_this_machine_is_baked_in(compiled, kubeflow_settings):
    result, path = compiled
    with open(path) as f:
        text = f.read()
    for local in {configs.REPO_ROOT, configs.HOME, os.getcwd(), os.path.dirname(path)}:
        assert local not in text, local
    assert result.spec.default_pipeline_root == f"{kubeflow_settings.root}/pipelines/{configs.PIPELINE_NAME}"
    push = json.loads(_task_parameters(result.spec, "Pusher")["push_destination"]["runtimeValue"]["constant"])
    assert push["filesystem"]["base_directory"] == kubeflow_settings.serving_dir
    schema = _task_parameters(result.spec, "ImportSchemaGen")["schema_file"]["runtimeValue"]["constant"]
    assert schema == f"{configs.KUBEFLOW_IMAGE_REPO_DIR}/schemas/faces/schema.pbtxt"


def test_vertex_variant_without_infra_validation_and_its_job_json(kubeflow_settings, tmp_path):
    settings = dataclasses.replace(kubeflow_settings, infra_validation=False)
    path = str(tmp_path / "tinyface.json")
    result = runner.compile_pipeline(settings, path)
    assert "InfraValidator" not in result.spec.root.dag.tasks
    assert "InfraValidator" not in result.spec.root.dag.tasks["Pusher"].dependent_tasks
    with open(path) as f:
        job = json.load(f)
    assert job["runtimeConfig"]["gcsOutputDirectory"] == settings.pipeline_root
    assert job["runtimeConfig"]["parameterValues"][names.TRAIN_STEPS] == settings.run_config.train_steps
    assert pipeline_spec.read(path) == result.spec


def test_a_distributed_beam_runner_by_configuration(kubeflow_settings):
    settings = dataclasses.replace(kubeflow_settings, beam_runner="DataflowRunner", beam_options={
        **kubeflow_settings.beam_options, "project": "p", "region": "europe-west4",
        "temp_location": "gs://b/tmp"})
    result = runner.compile_pipeline(settings)
    args = _executors(result.spec)["StatisticsGen_executor"]["container"]["args"]
    assert {"--runner=DataflowRunner", "--project=p", "--region=europe-west4", "--temp_location=gs://b/tmp",
            f"--sdk_container_image={settings.image}"} <= set(args)
    missing_project = dataclasses.replace(settings, beam_options={**settings.beam_options, "project": None})
    with pytest.raises(ValueError, match="TINYFACE_BEAM_PROJECT"):
        runner.compile_pipeline(missing_project)


def test_other_output_suffixes_are_refused(kubeflow_settings, tmp_path):
    with pytest.raises(ValueError, match=r"\.yaml or \.yml"):
        runner.compile_pipeline(kubeflow_settings, str(tmp_path / "tinyface.txt"))
