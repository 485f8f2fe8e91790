"""Scheduled retraining on Kubeflow, run from the spec `tinyface compile-kubeflow` writes.

tests/kubeflow/kfp_local_backend.py runs the compiled PipelineSpec task by task as the KFP v2
backend does (each task's own container command, TFX's v2 entrypoint, the executor input a
launcher builds). Three weekly runs on small synthetic spans, each with its runtime parameters:
span 1 is trained, blessed and pushed; span 2 is darker and stops at the data gate; span 3 is
clean, is judged against the model TF Serving serves (span 1's) and is pushed when blessed.
What only a real cluster shows (images, pods, the KFP UI) is out of reach here.
"""

import json
import os
import shutil
import warnings

import pytest

from tinyface.components.served_model_pusher.served_model import folder_digest
from tinyface.kubeflow import pipeline_spec, span_archive
from tinyface.pipeline import configs
from tinyface.cli import main as cli
from tinyface.validation import data_report

pytestmark = pytest.mark.pipeline

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUCKET = "gs://tinyface-ci-bucket"
ROOT = f"{BUCKET}/tinyface"
FACES_PER_SPAN = 80       # enough that two clean spans do not differ by chance beyond the drift thresholds
# The compiled defaults are what a run would get without parameters: the paper-size step count,
# the DIC model and blessing floors a 3-step model cannot meet. Each run below overrides them,
# so a blessed 3-step JASRNet proves the run's values reached the Trainer and the Evaluator.
COMPILE_CONFIG = """
data:
  dataset: synthetic
training:
  model: dic
  batch_size: 4
  checkpoint_every: 2
  mixed_precision: "off"
trainer:
  eval_steps: 1
evaluation:
  slice_features: [dataset]
"""
RUN = dict(model="jasrnet", train_steps=3, min_psnr_gain_db=-100.0, max_nme_ratio_to_mean_shape=100.0)
# Beam inside each task: one in-process worker (the compiled default starts one per core).
BEAM_ARGS = ("--direct_running_mode=in_memory", "--direct_num_workers=1")
TRAINING_TASKS = ("PairGen", "Trainer", "Evaluator", "Pusher")


def _compile(tmp_path, monkeypatch, name, *flags):
    config = tmp_path / "compile.yaml"
    config.write_text(COMPILE_CONFIG)
    monkeypatch.setattr(configs, "KUBEFLOW_BEAM_EXTRA_ARGS", BEAM_ARGS)
    out = str(tmp_path / name)
    status = cli.main(["compile-kubeflow", "--out", out, "--root", ROOT, "--image", "tinyface-pipeline:ci",
                       "--config", str(config), *flags])
    assert status == 0
    return pipeline_spec.read(out)


def _add_span(data_root, span, faces):
    shutil.copytree(faces, os.path.join(data_root, f"span-{span}"))


def _versions(serving_dir):
    """{version: folder} TF Serving would see under serving_dir."""
    if not os.path.isdir(serving_dir):
        return {}
    return {int(name): os.path.join(serving_dir, name) for name in os.listdir(serving_dir) if name.isdigit()}


def _archived_spans(archive_root, data_root):
    return [entry.span for entry in span_archive.SpanArchive(archive_root, data_root).entries()]


def _uri(run, task, key):
    return run.artifact(task, key).uri


def test_three_spans_of_scheduled_retraining(tmp_path, monkeypatch, synthetic_faces, kfp_backend):
    spec = _compile(tmp_path, monkeypatch, "tinyface.yaml", "--no-infra-validation")
    infra_spec = _compile(tmp_path, monkeypatch, "tinyface-infra.yaml")
    bucket = str(tmp_path / "bucket")
    backend = kfp_backend.LocalKfpBackend(
        kfp_backend.Mounts(bucket={BUCKET: bucket}, image={configs.KUBEFLOW_IMAGE_REPO_DIR: REPO},
                           env={"PYTHONPATH": REPO}),
        work_dir=str(tmp_path / "work"))
    serving_dir = os.path.join(bucket, "tinyface", "serving", configs.KUBEFLOW_SERVING_MODEL_NAME)
    archive_root = os.path.join(bucket, "tinyface", "span_statistics", configs.PIPELINE_NAME)
    data_root = str(tmp_path / "faces")
    _add_span(data_root, 1, synthetic_faces(count=FACES_PER_SPAN, seed=1))
    _add_span(data_root, 2, synthetic_faces(count=FACES_PER_SPAN, seed=3, preset="dark"))

    # ---- Span 1, named by the run although span 2 is newer: the whole pipeline runs.
    first = backend.run(spec, {**RUN, "data_root": data_root, "span": 1}, run_id="span-1")
    assert first.succeeded, {name: (task.state, task.reason) for name, task in first.tasks.items()}
    examples = first.metadata("FaceExampleGen", "examples")
    assert examples["span"] == 1 and examples["tinyface_data_root"] == data_root
    trainer_log = first.tasks["Trainer"].log()
    assert "runtime parameters: model jasrnet, 3 training steps" in trainer_log
    assert "exported jasrnet to" in trainer_log
    assert "runtime parameters: min_psnr_gain_db -100.0, max_nme_ratio_to_mean_shape 100.0" in first.tasks["Evaluator"].log()
    assert first.metadata("served_model", "model")["tinyface_resolved"] == 0      # nothing served yet
    blessing = first.metadata("Evaluator", "blessing")
    assert blessing["blessed"] == 1 and "baseline_model" not in blessing
    # The blessed model is served in TF Serving's layout: <base>/<numeric version>/saved_model.pb.
    (first_version, first_folder), = _versions(serving_dir).items()
    assert os.path.isfile(os.path.join(first_folder, "saved_model.pb"))
    assert os.path.isdir(os.path.join(first_folder, "variables"))
    assert folder_digest(first_folder) == folder_digest(os.path.join(_uri(first, "Trainer", "model"), "Format-Serving"))
    assert _archived_spans(archive_root, data_root) == [1]

    # ---- InfraValidator, compiled in by default, starts TF Serving in a pod of the cluster.
    # There is no cluster (nor a TF Serving binary) here: the model cannot be infra-blessed,
    # and Pusher must refuse it although the Evaluator blessed it.
    warnings.warn("no Kubernetes cluster and no TF Serving binary here: InfraValidator cannot load the model, "
                  "so this test checks only that Pusher refuses a model without an infra blessing")
    infra = backend.run(infra_spec, {**RUN, "data_root": data_root, "span": 1}, run_id="span-1-infra",
                        reuse=first, reuse_tasks=[name for name in first.tasks if name != "Pusher"])
    assert infra.state("InfraValidator") == infra.state("Pusher") == kfp_backend.SUCCEEDED
    assert infra.metadata("InfraValidator", "blessing")["blessed"] == 0
    assert os.path.exists(os.path.join(_uri(infra, "InfraValidator", "blessing"), "INFRA_NOT_BLESSED"))
    assert "Model failed infra validation." in infra.tasks["InfraValidator"].log()
    assert infra.metadata("Pusher", "pushed_model")["pushed"] == 0
    assert _versions(serving_dir) == {first_version: first_folder}

    # ---- Span 2 (the newest, no span given) is darker: stopped at the data gate.
    second = backend.run(spec, {**RUN, "data_root": data_root}, run_id="span-2")
    assert second.metadata("FaceExampleGen", "examples")["span"] == 2
    assert second.state("DataGate") == kfp_backend.FAILED
    assert "drift in split pair train_train, feature brightness" in second.tasks["DataGate"].log()
    for task in ("archive_span_statistics", *TRAINING_TASKS):
        assert second.state(task) == kfp_backend.SKIPPED, task
    assert _versions(serving_dir) == {first_version: first_folder}
    assert _archived_spans(archive_root, data_root) == [1]        # a drifted span is no baseline

    # ---- Span 3, clean: compared with span 1 (not the drifted span 2), trained, judged against
    # the served model, pushed because it is blessed.
    _add_span(data_root, 3, synthetic_faces(count=FACES_PER_SPAN, seed=2))
    third = backend.run(spec, {**RUN, "data_root": data_root, "psnr_regression_margin_db": 100.0,
                               "nme_regression_margin": 100.0}, run_id="span-3")
    assert third.succeeded, {name: (task.state, task.reason) for name, task in third.tasks.items()}
    with open(os.path.join(_uri(third, "DataGate", "data_report"), data_report.REPORT_JSON)) as f:
        report = json.load(f)
    assert report["drift_verdict"] == "no drift" and report["drift_baseline"].startswith("span 1 ")
    served = third.metadata("served_model", "model")
    assert served["tinyface_resolved"] == 1 and served["tinyface_source_uri"] == first_folder
    blessing = third.metadata("Evaluator", "blessing")
    assert blessing["baseline_model"] == _uri(third, "served_model", "model")
    assert _has_diff_metrics(_uri(third, "Evaluator", "evaluation"))   # candidate minus the served model
    assert blessing["blessed"] == 1
    versions = _versions(serving_dir)
    assert len(versions) == 2 and versions[first_version] == first_folder
    assert folder_digest(versions[max(versions)]) == folder_digest(
        os.path.join(_uri(third, "Trainer", "model"), "Format-Serving"))
    assert _archived_spans(archive_root, data_root) == [1, 3]


def _has_diff_metrics(evaluation_uri):
    import tensorflow_model_analysis as tfma
    return any(entry.key.is_diff for metrics in tfma.load_metrics(evaluation_uri)
               for entry in metrics.metric_keys_and_values)
