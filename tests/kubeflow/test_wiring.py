"""One create_pipeline(): the Kubeflow wiring has the local pipeline's edges, with the local
resolvers replaced by their storage counterparts; and the settings that feed it."""

import dataclasses

import pytest
from tfx import v1 as tfx

from tinyface.kubeflow import beam, parameters, settings
from tinyface.kubeflow.components.previous_span_statistics import PreviousSpanStatistics
from tinyface.kubeflow.components.serving_model_baseline import ServingModelBaseline
from tinyface.pipeline import configs, local_runner
from tinyface.evaluation.blessing import DESCRIPTIONS, THRESHOLD_NAMES, BlessingThresholds
from tinyface.pipeline.local_flavour import INFRA_VALIDATION_SKIPPED

# Local node id -> its Kubeflow counterpart (the served model stands in for the latest blessed).
RENAMED = {"latest_blessed_model": "served_model"}


def _edges(pipeline):
    return {(upstream.id, node.id) for node in pipeline.components for upstream in node.upstream_nodes}


def test_kubeflow_wiring_has_the_local_edges(tmp_path, compiled, caplog):
    with caplog.at_level("WARNING"):
        local = local_runner.local_pipeline(home=str(tmp_path))
    assert INFRA_VALIDATION_SKIPPED in caplog.text             # the local run says what it leaves out
    kubeflow = compiled[0].pipeline
    local_nodes = {node.id: node for node in local.components}
    kubeflow_nodes = {node.id: node for node in kubeflow.components}
    assert set(kubeflow_nodes) == {RENAMED.get(node_id, node_id) for node_id in local_nodes} | {
        "InfraValidator", "archive_span_statistics"}
    # Locally resolvers read ML Metadata; on Kubeflow components read storage.
    assert isinstance(local_nodes["previous_span_statistics"], tfx.dsl.Resolver)
    assert isinstance(local_nodes["latest_blessed_model"], tfx.dsl.Resolver)
    assert isinstance(kubeflow_nodes["previous_span_statistics"], PreviousSpanStatistics)
    assert isinstance(kubeflow_nodes["served_model"], ServingModelBaseline)
    # The local resolvers have no upstream edges (they query metadata); their replacements take
    # the current span's artifacts; InfraValidator sits between the Trainer and Pusher.
    expected = {(RENAMED.get(a, a), RENAMED.get(b, b)) for a, b in _edges(local)}
    expected |= {("FaceExampleGen", "previous_span_statistics"),
                 ("FaceExampleGen", "archive_span_statistics"), ("StatisticsGen", "archive_span_statistics"),
                 ("DataGate", "archive_span_statistics"),
                 ("Trainer", "InfraValidator"), ("PairGen", "InfraValidator"), ("InfraValidator", "Pusher")}
    assert _edges(kubeflow) == expected


def test_remote_root_is_required(monkeypatch):
    monkeypatch.setattr(configs, "KUBEFLOW_ROOT", None)
    with pytest.raises(ValueError, match="TINYFACE_KUBEFLOW_ROOT"):
        settings.kubeflow_settings()
    for local in ("/tmp/tinyface", "tinyface_home", "file-without-scheme"):
        with pytest.raises(ValueError, match="remote URI"):
            settings.kubeflow_settings(root=local)
    made = settings.kubeflow_settings(root="s3://bucket/tinyface/")
    assert made.pipeline_root == f"s3://bucket/tinyface/pipelines/{configs.PIPELINE_NAME}"
    assert made.serving_dir == f"s3://bucket/tinyface/serving/{configs.KUBEFLOW_SERVING_MODEL_NAME}"


def test_repository_files_map_into_the_image(tmp_path):
    assert settings.image_path(configs.SCHEMA_FILE) == f"{configs.KUBEFLOW_IMAGE_REPO_DIR}/schemas/faces/schema.pbtxt"
    assert settings.image_path("gs://b/schema.pbtxt") == "gs://b/schema.pbtxt"
    with pytest.raises(ValueError, match="outside the repository"):
        settings.image_path(str(tmp_path / "schema.pbtxt"))


def test_image_name_from_registry_and_name(monkeypatch):
    monkeypatch.setattr(configs, "KUBEFLOW_IMAGE_REGISTRY", "")
    assert settings.default_image() == configs.KUBEFLOW_IMAGE_NAME
    monkeypatch.setattr(configs, "KUBEFLOW_IMAGE_REGISTRY", "gcr.io/p/")
    assert settings.default_image() == f"gcr.io/p/{configs.KUBEFLOW_IMAGE_NAME}"


def test_beam_runner_flags_by_name():
    flags = configs.KUBEFLOW_BEAM_RUNNER_FLAGS
    options = {"flink_master": "flink:8081", "environment_type": "EXTERNAL", "environment_config": "localhost:50000"}
    assert beam.beam_pipeline_args("FlinkRunner", flags, options, "img", ("--parallelism=4",)) == [
        "--runner=FlinkRunner", "--flink_master=flink:8081", "--environment_type=EXTERNAL",
        "--environment_config=localhost:50000", "--parallelism=4"]
    with pytest.raises(ValueError, match="TINYFACE_BEAM_SPARK_MASTER_URL"):
        beam.beam_pipeline_args("SparkRunner", flags, options, "img")
    with pytest.raises(ValueError, match="unknown Beam runner 'Flink'"):
        beam.beam_pipeline_args("Flink", flags, options, "img")


def test_runtime_parameters_keep_their_types():
    thresholds = BlessingThresholds(min_psnr_gain_db=1, max_nme_ratio_to_mean_shape=1, psnr_regression_margin_db=0,
                                    nme_regression_margin=0)
    made = parameters.runtime_parameters(None, "dic", 5, thresholds)
    assert made.blessing.min_psnr_gain_db.default == 1.0 and isinstance(made.blessing.min_psnr_gain_db.default, float)
    # Each threshold is a parameter named after its field, with its description.
    assert {name: p.description for name, p in made.by_name().items() if name in THRESHOLD_NAMES} == DESCRIPTIONS
    assert made.defaults()[parameters.TRAIN_STEPS] == 5 and parameters.DATA_ROOT not in made.defaults()
    types = {name: p.ptype for name, p in made.by_name().items()}
    assert parameters.parse_assignment("span=3", types) == ("span", 3)
    assert parameters.parse_assignment("data_root=/a=b", types) == ("data_root", "/a=b")
    with pytest.raises(ValueError, match="span takes a int"):
        parameters.parse_assignment("span=newest", types)
    with pytest.raises(ValueError, match="expected NAME=VALUE"):
        parameters.parse_assignment("steps=3", types)
    with pytest.raises(ValueError, match="train_steps must be at least 1"):
        parameters.runtime_parameters(None, "dic", 0, thresholds)


def test_a_config_file_sets_the_parameters_defaults(tmp_path, kubeflow_settings):
    from tinyface.kubeflow import runner
    from tinyface.pipeline.run_config import load_run_config

    config = tmp_path / "run.yaml"
    config.write_text("training:\n  model: dic\ntrainer:\n  train_steps: 20000\nevaluation:\n  min_psnr_gain_db: 0.5\n")
    made = dataclasses.replace(kubeflow_settings, run_config=load_run_config(str(config)))
    _, defaults = runner.kubeflow_pipeline(made)
    assert (defaults.model.default, defaults.train_steps.default, defaults.blessing.min_psnr_gain_db.default) == ("dic", 20000, 0.5)


DIGEST = "sha256:" + "ab" * 32


def test_the_image_by_digest(monkeypatch):
    # The tag goes (a digest names one build); a registry's port stays.
    assert settings.pinned_image("gcr.io/p/tinyface-pipeline:latest", DIGEST) == f"gcr.io/p/tinyface-pipeline@{DIGEST}"
    assert settings.pinned_image("localhost:5000/tinyface", DIGEST) == f"localhost:5000/tinyface@{DIGEST}"
    monkeypatch.setattr(configs, "KUBEFLOW_IMAGE_REGISTRY", "gcr.io/p")
    monkeypatch.setattr(configs, "KUBEFLOW_IMAGE_DIGEST", DIGEST)
    assert settings.default_image() == f"gcr.io/p/tinyface-pipeline@{DIGEST}"
    assert settings.is_pinned(settings.default_image())
    assert not settings.is_pinned("gcr.io/p/tinyface-pipeline:latest")
    with pytest.raises(ValueError, match="sha256: and 64 hex digits"):
        settings.pinned_image("gcr.io/p/tinyface-pipeline", "latest")
    with pytest.raises(ValueError, match="after '@' must come a digest"):
        settings.kubeflow_settings(root="gs://b/t", image="gcr.io/p/tinyface-pipeline@sha256:abc")
