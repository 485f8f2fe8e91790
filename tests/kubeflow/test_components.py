"""The Kubeflow component variants' executors, run on local folders: span resolution without a
driver, the span statistics archive, the two storage resolvers, and the consumers that must
treat an unresolved baseline exactly as no baseline."""

import json
import os

import numpy as np
import pandas as pd
import pytest
import tensorflow_data_validation as tfdv
import tensorflow_model_analysis as tfma
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.components.distribution_validator import executor as tfx_distribution_validator
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils
from tfx.proto import example_gen_pb2, trainer_pb2
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.utils import json_utils, proto_utils

from tinyface.components.artifacts import DataReport
from tinyface.components.data_gate import spec as data_gate_spec
from tinyface.kubeflow import span_archive
from tinyface.kubeflow.components import (evaluator, face_example_gen, resolution, serving_model_baseline, trainer, validators)
from tinyface.kubeflow.components import archive_span_statistics as archive_statistics
from tinyface.kubeflow.components import infra_validator
from tinyface.kubeflow.components import previous_span_statistics as previous_span
from tinyface.pipeline import configs
from tinyface import features
from tinyface.evaluation.blessing import BlessingThresholds
from tinyface.evaluation.eval_config import build_eval_config
from tinyface.validation import data_report
from tinyface.data.ingestion import ingestion_summary
from tinyface.validation.drift import distribution_validator_config
from tinyface.trainer.training.training_config import CONFIG_KEY, PAPER_SETTINGS, TrainingConfig, paper_config


def _artifact(cls, uri, span=None, split_names=None):
    artifact = cls()
    artifact.uri = str(uri)
    os.makedirs(artifact.uri, exist_ok=True)
    if span is not None:
        artifact.span = span
    if split_names is not None:
        artifact.split_names = artifact_utils.encode_split_names(split_names)
    return artifact


# ---- FaceExampleGen: the span, resolved by the executor.

def _example_gen_properties(root, pattern="span-{SPAN}", span=0):
    return {
        standard_component_specs.INPUT_BASE_KEY: str(root),
        standard_component_specs.INPUT_CONFIG_KEY: proto_utils.proto_to_json(example_gen_pb2.Input(
            splits=[example_gen_pb2.Input.Split(name="faces", pattern=pattern)])),
        face_example_gen.REQUESTED_SPAN_KEY: span,
    }


def test_the_newest_span_or_the_requested_one(tmp_path):
    for span in (1, 3, 12):
        (tmp_path / f"span-{span}").mkdir()
        (tmp_path / f"span-{span}" / "a.pts").write_text(f"span {span}")
    resolved = face_example_gen.resolve_span(_example_gen_properties(tmp_path))
    assert resolved["span"] == 12 and resolved["version"] is None   # 12 > 3 as numbers
    pattern = json.loads(resolved[standard_component_specs.INPUT_CONFIG_KEY])["splits"][0]["pattern"]
    assert pattern == "span-12"
    assert resolved["input_fingerprint"].startswith("split:faces,files:1,sha256:")
    assert face_example_gen.resolve_span(_example_gen_properties(tmp_path, span=3))["span"] == 3
    with pytest.raises(ValueError):
        face_example_gen.resolve_span(_example_gen_properties(tmp_path, span=2))   # no span-2 folder
    with pytest.raises(ValueError, match="span must be >= 0"):
        face_example_gen.resolve_span(_example_gen_properties(tmp_path, span=-1))


def test_without_spans_the_data_root_itself_is_read(tmp_path):
    (tmp_path / "a.pts").write_text("x")
    resolved = face_example_gen.resolve_span(_example_gen_properties(tmp_path, pattern="."))
    assert resolved["span"] == 0
    with pytest.raises(ValueError, match="Span or Date spec"):   # a span without span folders
        face_example_gen.resolve_span(_example_gen_properties(tmp_path, pattern=".", span=2))


# ---- The span statistics archive and PreviousSpanStatistics.

def _statistics(folder, span, brightness):
    """An ExampleStatistics artifact of one train split, computed by TFDV from `brightness`."""
    artifact = _artifact(standard_artifacts.ExampleStatistics, folder, span=span, split_names=["train"])
    statistics = tfdv.generate_statistics_from_dataframe(pd.DataFrame({features.BRIGHTNESS: brightness}))
    os.makedirs(os.path.join(artifact.uri, "Split-train"))
    with open(os.path.join(artifact.uri, "Split-train", "FeatureStats.pb"), "wb") as f:
        f.write(statistics.SerializeToString())
    return artifact


def test_archive_keeps_the_newest_statistics_per_span_and_data_root(tmp_path):
    archive = span_archive.SpanArchive(str(tmp_path / "archive"), "/data/faces")
    assert archive.newest_before(5) is None
    first = _statistics(tmp_path / "s1", 1, [10.0, 20.0])
    archive.put(1, first.uri, first.split_names)
    rerun = _statistics(tmp_path / "s1b", 1, [30.0, 40.0])
    archive.put(1, rerun.uri, rerun.split_names)              # a re-run of span 1 replaces it
    archive.put(3, first.uri, first.split_names)
    assert [entry.span for entry in archive.entries()] == [1, 3]
    assert archive.newest_before(3).source_uri == rerun.uri
    assert archive.newest_before(1) is None                   # never a span's own statistics
    assert archive.newest_before(9).span == 3
    # An interrupted copy (no manifest) is not an entry; other data roots have their own.
    os.makedirs(os.path.join(archive.folder, "span-7", "Split-train"))
    assert archive.newest_before(9).span == 3
    assert span_archive.SpanArchive(str(tmp_path / "archive"), "/data/other").newest_before(9) is None


def _run_previous_span(tmp_path, span, data_root="/data/faces"):
    examples = _artifact(standard_artifacts.Examples, tmp_path / f"examples-{span}", span=span)
    examples.set_string_custom_property(face_example_gen.DATA_ROOT_PROPERTY, data_root)
    output = _artifact(standard_artifacts.ExampleStatistics, tmp_path / f"baseline-{span}")
    previous_span.Executor().Do(
        {previous_span.EXAMPLES_KEY: [examples]},
        {previous_span.BASELINE_STATISTICS_KEY: [output]},
        {previous_span.ARCHIVE_ROOT_KEY: str(tmp_path / "archive")})
    return output


def _archive_span(tmp_path, span, statistics, passed=True, data_root="/data/faces"):
    examples = _artifact(standard_artifacts.Examples, tmp_path / f"examples-{span}", span=span)
    examples.set_string_custom_property(face_example_gen.DATA_ROOT_PROPERTY, data_root)
    report = _artifact(DataReport, tmp_path / f"report-{span}")
    with open(os.path.join(report.uri, data_report.REPORT_JSON), "w") as f:
        json.dump({"passed": passed}, f)
    archive_statistics.Executor().Do(
        {archive_statistics.EXAMPLES_KEY: [examples], archive_statistics.STATISTICS_KEY: [statistics],
         archive_statistics.DATA_REPORT_KEY: [report]},
        {}, {archive_statistics.ARCHIVE_ROOT_KEY: str(tmp_path / "archive")})


def test_previous_span_statistics_first_span_then_the_one_before(tmp_path):
    first = _run_previous_span(tmp_path, 1)
    assert not resolution.is_resolved(first)                 # the first span: no baseline
    _archive_span(tmp_path, 1, _statistics(tmp_path / "stats-1", 1, [100.0, 110.0]))
    second_statistics = _statistics(tmp_path / "stats-2", 2, [50.0, 60.0])
    second = _run_previous_span(tmp_path, 2)
    assert resolution.is_resolved(second) and second.span == 1
    assert artifact_utils.decode_split_names(second.split_names) == ["train"]
    assert sorted(os.listdir(second.uri)) == ["Split-train"]   # the statistics, not the manifest
    _archive_span(tmp_path, 2, second_statistics)
    retried = _run_previous_span(tmp_path, 2)                  # a retried span 2: still span 1
    assert retried.span == 1


def test_only_spans_that_passed_the_data_gate_are_archived(tmp_path):
    statistics = _statistics(tmp_path / "stats-1", 1, [100.0, 110.0])
    with pytest.raises(ValueError, match="did not pass the DataGate; not archived"):
        _archive_span(tmp_path, 1, statistics, passed=False)
    assert span_archive.SpanArchive(str(tmp_path / "archive"), "/data/faces").entries() == []
    _archive_span(tmp_path, 1, statistics)
    assert [entry.span for entry in span_archive.SpanArchive(str(tmp_path / "archive"), "/data/faces").entries()] == [1]


def test_the_unresolved_mark_survives_kfps_artifact_metadata(tmp_path):
    """Artifacts travel between KFP tasks as metadata; TFX's entrypoint turns ints into numbers."""
    for resolved in (False, True):
        artifact = _artifact(standard_artifacts.ExampleStatistics, tmp_path / str(resolved), span=4)
        resolution.mark(artifact, resolved)
        runtime = kubeflow_v2_entrypoint_utils.to_runtime_artifact(artifact, {})
        runtime.type.CopyFrom(pipeline_spec_pb2.ArtifactTypeSchema(schema_title="tfx.ExampleStatistics"))
        (back,) = kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(
            {"x": pipeline_spec_pb2.ArtifactList(artifacts=[runtime])})["x"]
        assert resolution.is_resolved(back) is resolved and back.span == 4
    assert resolution.is_resolved(standard_artifacts.Model())   # an artifact no resolver made


# ---- The consumers: an unresolved baseline is no baseline.

def _run_distribution_validator(tmp_path, baseline):
    current = _statistics(tmp_path / "current", 2, list(np.linspace(0, 40, 200)))
    anomalies = _artifact(standard_artifacts.ExampleAnomalies, tmp_path / "anomalies")
    validators.DistributionValidatorExecutor().Do(
        {standard_component_specs.STATISTICS_KEY: [current],
         standard_component_specs.BASELINE_STATISTICS_KEY: [baseline]},
        {standard_component_specs.ANOMALIES_KEY: [anomalies]},
        {standard_component_specs.DISTRIBUTION_VALIDATOR_CONFIG_KEY: proto_utils.proto_to_json(
            distribution_validator_config({features.BRIGHTNESS: ("jensen_shannon_divergence", 0.2)})),
         standard_component_specs.INCLUDE_SPLIT_PAIRS_KEY: json_utils.dumps([("train", "train")])})
    return anomalies.get_json_value_custom_property(tfx_distribution_validator.ARTIFACT_PROPERTY_BLESSED_KEY)


def test_distribution_validator_checks_a_real_baseline_and_skips_an_unresolved_one(tmp_path):
    bright = _statistics(tmp_path / "bright", 1, list(np.linspace(200, 255, 200)))
    resolution.mark(bright, resolved=True)
    verdict = _run_distribution_validator(tmp_path / "drift", bright)
    assert verdict == {"train_train": tfx_distribution_validator.NOT_BLESSED_VALUE}   # dark vs bright
    unresolved = _artifact(standard_artifacts.ExampleStatistics, tmp_path / "none", split_names=[])
    resolution.mark(unresolved, resolved=False)
    assert _run_distribution_validator(tmp_path / "first", unresolved) == {
        "train": tfx_distribution_validator.NO_BASELINE_STATS}


def _run_data_gate(tmp_path, baseline):
    examples = _artifact(standard_artifacts.Examples, tmp_path / "examples", span=2)
    with open(os.path.join(examples.uri, ingestion_summary.FILE_NAME), "w") as f:
        f.write(ingestion_summary.IngestionSummary.from_messages(5, []).to_json())
    schema_anomalies = _artifact(standard_artifacts.ExampleAnomalies, tmp_path / "schema_anomalies")
    drift_anomalies = _artifact(standard_artifacts.ExampleAnomalies, tmp_path / "drift_anomalies")
    report = _artifact(DataReport, tmp_path / "report")
    validators.DataGateExecutor().Do(
        {data_gate_spec.EXAMPLES_KEY: [examples], data_gate_spec.SCHEMA_ANOMALIES_KEY: [schema_anomalies],
         data_gate_spec.DRIFT_ANOMALIES_KEY: [drift_anomalies], data_gate_spec.BASELINE_STATISTICS_KEY: [baseline]},
        {data_gate_spec.DATA_REPORT_KEY: [report]}, {})
    with open(os.path.join(report.uri, data_report.REPORT_JSON)) as f:
        return json.load(f)


def test_data_gate_reports_no_baseline_for_an_unresolved_one(tmp_path):
    unresolved = _artifact(standard_artifacts.ExampleStatistics, tmp_path / "none")
    resolution.mark(unresolved, resolved=False)
    report = _run_data_gate(tmp_path / "first", unresolved)
    assert report["passed"] and report["drift_baseline"] is None
    assert report["drift_verdict"].startswith("not checked")
    previous = _artifact(standard_artifacts.ExampleStatistics, tmp_path / "span1", span=1)
    resolution.mark(previous, resolved=True)
    assert _run_data_gate(tmp_path / "second", previous)["drift_baseline"].startswith("span 1 ")


# ---- ServingModelBaseline: the served model, TF Serving's way.

def _served(base, version, with_model=True):
    folder = base / version
    folder.mkdir(parents=True)
    if with_model:
        (folder / "saved_model.pb").write_bytes(version.encode())
        (folder / "variables").mkdir()
        (folder / "variables" / "variables.index").write_bytes(b"index")


def _run_serving_baseline(tmp_path, serving_dir):
    model = _artifact(standard_artifacts.Model, tmp_path / "baseline")
    serving_model_baseline.Executor().Do({}, {serving_model_baseline.MODEL_KEY: [model]},
                                         {serving_model_baseline.SERVING_DIR_KEY: str(serving_dir)})
    return model


def test_the_served_model_is_the_highest_numeric_version(tmp_path):
    base = tmp_path / "serving"
    assert not resolution.is_resolved(_run_serving_baseline(tmp_path / "a", base))   # nothing served
    for version in ("3", "12"):
        _served(base, version)
    _served(base, "20", with_model=False)       # an unfinished push: TF Serving would skip it too
    (base / "99-temp").mkdir()
    model = _run_serving_baseline(tmp_path / "b", base)
    assert resolution.is_resolved(model)
    assert model.get_int_custom_property(serving_model_baseline.SERVING_VERSION_PROPERTY) == 12
    copied = os.path.join(model.uri, "Format-Serving")        # where TFX's Evaluator looks
    assert open(os.path.join(copied, "saved_model.pb"), "rb").read() == b"12"
    assert os.path.exists(os.path.join(copied, "variables", "variables.index"))


# ---- Trainer and Evaluator: runtime parameters into TFX's properties.

def test_trainer_writes_the_model_and_steps_where_run_fn_and_tfx_read_them():
    base = paper_config("jasrnet", model_size="small", batch_size=4)
    properties = {standard_component_specs.CUSTOM_CONFIG_KEY: json_utils.dumps({CONFIG_KEY: base.to_dict()}),
                  trainer.MODEL_NAME_KEY: "dic", trainer.TRAIN_STEPS_KEY: 1234,
                  standard_component_specs.TRAIN_ARGS_KEY: "{}"}
    resolved = trainer.apply_runtime_parameters(properties)
    train_args = proto_utils.json_to_proto(resolved[standard_component_specs.TRAIN_ARGS_KEY], trainer_pb2.TrainArgs())
    assert train_args.num_steps == 1234
    config = json_utils.loads(resolved[standard_component_specs.CUSTOM_CONFIG_KEY])[CONFIG_KEY]
    assert config["model"] == "dic" and config["batch_size"] == 4 and config["model_size"] == "small"
    assert config["learning_rate"] == PAPER_SETTINGS["dic"]["learning_rate"]     # the DIC paper's optimiser
    same = trainer.apply_runtime_parameters({**properties, trainer.MODEL_NAME_KEY: "jasrnet"})
    assert TrainingConfig.from_dict(json_utils.loads(same[standard_component_specs.CUSTOM_CONFIG_KEY])[CONFIG_KEY]) == base
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        trainer.apply_runtime_parameters({**properties, trainer.MODEL_NAME_KEY: "resnet"})
    with pytest.raises(ValueError, match="train_steps must be at least 1"):
        trainer.apply_runtime_parameters({**properties, trainer.TRAIN_STEPS_KEY: 0})


def test_evaluator_builds_the_eval_config_from_the_runtime_thresholds():
    slices = ["dataset", "pose_bucket"]
    thresholds = BlessingThresholds(min_psnr_gain_db=0.5, max_nme_ratio_to_mean_shape=0.9,
                                    psnr_regression_margin_db=0.2, nme_regression_margin=0.01)
    resolved = evaluator.apply_runtime_parameters({
        evaluator.SLICE_FEATURES_KEY: json.dumps(slices), **thresholds.by_name()})
    built = proto_utils.json_to_proto(resolved[standard_component_specs.EVAL_CONFIG_KEY], tfma.EvalConfig())
    assert built == build_eval_config(slices, thresholds)
    assert built != build_eval_config(slices, configs.BLESSING)


# ---- InfraValidator: the namespace KFP v2 does not set.

def test_kfp_namespace_comes_from_the_service_account_mount(tmp_path):
    namespace_file = tmp_path / "namespace"
    namespace_file.write_text("team-ml\n")
    environ = {"KFP_POD_NAME": "tinyface-xyz"}
    assert infra_validator.ensure_kfp_namespace(environ, str(namespace_file)) == "team-ml"
    assert environ["KFP_NAMESPACE"] == "team-ml"
    kept = {"KFP_NAMESPACE": "given"}
    assert infra_validator.ensure_kfp_namespace(kept, str(namespace_file)) == "given" and kept == {"KFP_NAMESPACE": "given"}
    outside = {}
    assert infra_validator.ensure_kfp_namespace(outside, str(tmp_path / "missing")) is None and outside == {}
