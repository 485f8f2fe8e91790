"""`tinyface compile-kubeflow --out FILE`: flags and environment reach the spec it writes; bad
settings are one-line errors with exit status 2."""

import json

from google.protobuf import json_format

from tinyface.kubeflow import pipeline_spec
from tinyface.kubeflow.settings import UNPINNED_IMAGE_NOTE
from tinyface.pipeline import configs
from tinyface.cli import main as cli

ROOT = "gs://tinyface-test-bucket/tinyface"


def _args(executors, task):
    return executors[f"{task}_executor"]["container"]["args"]


def test_writes_the_spec_and_says_what_it_holds(tmp_path, command_stdout, monkeypatch):
    monkeypatch.setattr(configs, "KUBEFLOW_ROOT", ROOT)           # as TINYFACE_KUBEFLOW_ROOT would
    out = str(tmp_path / "tinyface.yaml")
    assert cli.main(["compile-kubeflow", "--out", out, "--image", "reg/tinyface-pipeline:3",
                     "--data-root", "/mnt/faces", "--beam-runner", "DataflowRunner",
                     "--beam-option", "project=tf-proj", "--beam-option", "region=us-central1",
                     "--beam-option", "temp_location=gs://b/tmp", "--no-infra-validation"]) == 0
    printed = command_stdout().splitlines()
    assert printed[0] == (f"wrote {out}: 13 tasks, image reg/tinyface-pipeline:3, "
                          f"pipeline root {ROOT}/pipelines/{configs.PIPELINE_NAME}")
    assert printed[1].startswith('runtime parameters: data_root="/mnt/faces", max_nme_ratio_to_mean_shape=1.0')
    assert "span=0" in printed[1] and f"train_steps={configs.TRAIN_STEPS}" in printed[1]
    assert printed[2:] == [UNPINNED_IMAGE_NOTE]   # named by a tag: KFP's cache cannot tell builds apart
    spec = pipeline_spec.read(out)
    assert "InfraValidator" not in spec.root.dag.tasks
    executors = json_format.MessageToDict(spec)["deploymentSpec"]["executors"]
    assert {"--runner=DataflowRunner", "--project=tf-proj", "--sdk_container_image=reg/tinyface-pipeline:3"} <= set(
        _args(executors, "PairGen"))
    assert all(e["container"]["image"] == "reg/tinyface-pipeline:3" for e in executors.values())


def test_an_image_named_by_digest_is_what_every_task_runs(tmp_path, command_stdout):
    image = "reg/tinyface-pipeline@sha256:" + "0123456789abcdef" * 4
    out = str(tmp_path / "tinyface.yaml")
    assert cli.main(["compile-kubeflow", "--out", out, "--root", ROOT, "--image", image]) == 0
    printed = command_stdout().splitlines()
    assert f"image {image}," in printed[0] and UNPINNED_IMAGE_NOTE not in printed
    executors = json_format.MessageToDict(pipeline_spec.read(out))["deploymentSpec"]["executors"]
    assert all(e["container"]["image"] == image for e in executors.values())


def test_a_config_file_sets_the_defaults(tmp_path, capsys):
    config = tmp_path / "weekly.yaml"
    config.write_text("training:\n  model: dic\nevaluation:\n  nme_regression_margin: 0.01\n")
    out = str(tmp_path / "tinyface.json")
    assert cli.main(["compile-kubeflow", "--out", out, "--root", ROOT, "--config", str(config)]) == 0
    job = json.loads(open(out).read())
    assert job["runtimeConfig"]["parameterValues"]["model"] == "dic"
    assert job["runtimeConfig"]["parameterValues"]["nme_regression_margin"] == 0.01
    assert "data_root=(required)" in capsys.readouterr().out


def test_bad_settings_are_one_line_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(configs, "KUBEFLOW_ROOT", None)
    out = str(tmp_path / "tinyface.yaml")
    bad_config = tmp_path / "bad.yaml"
    bad_config.write_text("training:\n  modle: dic\n")
    cases = [
        ([], "the Kubeflow root is not set: set TINYFACE_KUBEFLOW_ROOT"),
        (["--root", str(tmp_path)], "must be a remote URI"),
        (["--root", ROOT, "--beam-runner", "SparkRunner"], "set TINYFACE_BEAM_SPARK_MASTER_URL"),
        (["--root", ROOT, "--config", str(bad_config)], f"{bad_config}:2: unknown setting training.modle"),
        (["--root", ROOT, "--image", "reg/tinyface-pipeline@sha256:abc"], "after '@' must come a digest"),
    ]
    for extra, message in cases:
        assert cli.main(["compile-kubeflow", "--out", out] + extra) == 2
        err = capsys.readouterr().err
        assert err.startswith("tinyface compile-kubeflow: error: ") and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "tinyface.yaml").exists()
