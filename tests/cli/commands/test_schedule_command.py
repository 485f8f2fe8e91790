"""`tinyface schedule`: kfp's real client, talking to a small HTTP server that stands in for the
KFP API server, uploads the compiled pipeline and creates the recurring run; the server records
every request, and the test reads what KFP would have received."""

import email.parser
import json

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from tinyface.kubeflow import parameters as names
from tinyface.kubeflow import schedule as kubeflow_schedule
from tinyface.pipeline import configs
from tinyface.cli import main as cli

ROOT = "gs://tinyface-test-bucket/tinyface"
IMAGE = "registry.example.com/ml/tinyface-pipeline:7"


class FakeKfp:
    """The v2beta1 endpoints kfp.Client uses to upload a pipeline and schedule it, as an app of
    json_http_server. Minimal valid answers; an upload creates the pipeline, so a second schedule
    finds it and adds a version. Records every request."""

    def __init__(self):
        self.url = None
        self.requests = []
        self.pipelines = {}          # display name -> id
        self.versions = 0
        self.refuse_schedules = None  # an error message: answer recurring-run requests with 400
        self.recurring_runs = {}      # id -> body, as created (and not deleted)

    def recorded(self, method, path):
        return [r for r in self.requests if r["method"] == method and r["path"] == path]

    def __call__(self, request):
        self.requests.append(request)
        return {"GET": self._get, "POST": self._post, "DELETE": self._delete}[request["method"]](request)

    def _get(self, request):
        if request["path"] == "/apis/v2beta1/healthz":
            return {"multi_user": False}, 200
        if request["path"] == "/apis/v2beta1/pipelines":
            (predicate,) = json.loads(request["query"]["filter"][0])["predicates"]
            wanted = predicate["stringValue"]
            found = [{"pipeline_id": pid, "display_name": name} for name, pid in self.pipelines.items()
                     if name == wanted]
            return ({"pipelines": found, "total_size": len(found)} if found else {}), 200
        if request["path"].endswith("/versions"):
            return {"pipeline_versions": [{"pipeline_version_id": f"version-{self.versions}"}], "total_size": 1}, 200
        if request["path"] == "/apis/v2beta1/experiments":
            return {}, 200
        if request["path"] == "/apis/v2beta1/recurringruns":
            (predicate,) = json.loads(request["query"]["filter"][0])["predicates"]
            found = [{"recurring_run_id": rid, "display_name": body["display_name"]}
                     for rid, body in self.recurring_runs.items()
                     if body["display_name"] == predicate["stringValue"]
                     and body["experiment_id"] == request["query"]["experiment_id"][0]]
            return ({"recurringRuns": found, "total_size": len(found)} if found else {}), 200
        return {"error": "not found"}, 404

    def _delete(self, request):
        recurring_run_id = request["path"].rsplit("/", 1)[-1]
        if request["path"].startswith("/apis/v2beta1/recurringruns/") and recurring_run_id in self.recurring_runs:
            del self.recurring_runs[recurring_run_id]
            return {}, 200
        return {"error": "not found"}, 404

    def _post(self, request):
        if request["path"] == "/apis/v2beta1/pipelines/upload":
            name = request["query"]["name"][0]
            self.pipelines[name] = "pipeline-1"
            self.versions += 1
            return {"pipeline_id": "pipeline-1", "display_name": name}, 200
        if request["path"] == "/apis/v2beta1/pipelines/upload_version":
            self.versions += 1
            return {"pipeline_id": request["query"]["pipelineid"][0],
                    "pipeline_version_id": f"version-{self.versions}"}, 200
        if request["path"] == "/apis/v2beta1/experiments":
            body = json.loads(request["body"])
            return {"experiment_id": "experiment-1", "display_name": body["display_name"]}, 200
        if request["path"] == "/apis/v2beta1/recurringruns" and self.refuse_schedules:
            return {"error": self.refuse_schedules, "code": 3}, 400
        if request["path"] == "/apis/v2beta1/recurringruns":
            recurring_run_id = f"recurring-{len(self.recorded('POST', request['path']))}"
            self.recurring_runs[recurring_run_id] = json.loads(request["body"])
            return {"recurring_run_id": recurring_run_id, **json.loads(request["body"])}, 200
        return {"error": "not found"}, 404


@pytest.fixture
def kfp_server(json_http_server):
    kfp = FakeKfp()
    with json_http_server(kfp) as url:
        kfp.url = url
        yield kfp


def _uploaded_spec(request):
    """The PipelineSpec in a multipart upload, parsed with KFP's proto."""
    message = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + request["content_type"].encode() + b"\r\n\r\n" + request["body"])
    (part,) = [p for p in message.walk() if p.get_filename()]
    return json_format.ParseDict(yaml.safe_load(part.get_payload(decode=True)), pipeline_spec_pb2.PipelineSpec())


def test_uploads_the_pipeline_and_creates_the_recurring_run(kfp_server, capsys, monkeypatch):
    monkeypatch.setenv("HOME", "/nonexistent")    # no ~/.config/kfp/context.json of this machine
    status = cli.main(["schedule", "--host", kfp_server.url, "--cron", "30 3 * * 1",
                       "--root", ROOT, "--image", IMAGE,
                       "--param", "data_root=/data/faces", "--param", "train_steps=20000",
                       "--param", "min_psnr_gain_db=0.5"])
    assert status == 0

    (upload,) = kfp_server.recorded("POST", "/apis/v2beta1/pipelines/upload")
    assert upload["query"]["name"] == [configs.PIPELINE_NAME]
    spec = _uploaded_spec(upload)
    assert spec.pipeline_info.name == configs.PIPELINE_NAME and "Trainer" in spec.root.dag.tasks
    assert spec.default_pipeline_root == f"{ROOT}/pipelines/{configs.PIPELINE_NAME}"

    (experiment,) = kfp_server.recorded("POST", "/apis/v2beta1/experiments")
    assert json.loads(experiment["body"])["display_name"] == configs.KUBEFLOW_EXPERIMENT
    (created,) = kfp_server.recorded("POST", "/apis/v2beta1/recurringruns")
    run = json.loads(created["body"])
    assert run["display_name"] == configs.KUBEFLOW_RECURRING_RUN
    assert run["experiment_id"] == "experiment-1"
    assert run["trigger"] == {"cron_schedule": {"cron": "0 30 3 * * 1"}}    # KFP's seconds field first
    assert run["mode"] == "ENABLE" and run["max_concurrency"] == 1 and run["no_catchup"] is True
    assert run["pipeline_version_reference"] == {"pipeline_id": "pipeline-1", "pipeline_version_id": "version-1"}
    assert "pipeline_spec" not in run                                        # runs the uploaded version
    assert run["runtime_config"] == {
        "pipeline_root": spec.default_pipeline_root,
        "parameters": {names.DATA_ROOT: "/data/faces", names.TRAIN_STEPS: 20000, "min_psnr_gain_db": 0.5}}
    assert "scheduled tinyface-retraining (0 30 3 * * 1): recurring run recurring-1" in capsys.readouterr().out


def test_a_second_schedule_adds_a_version_and_replaces_the_schedule(kfp_server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOME", "/nonexistent")
    package = str(tmp_path / "tinyface.yaml")
    assert cli.main(["compile-kubeflow", "--out", package, "--root", ROOT, "--image", IMAGE,
                     "--data-root", "/data/faces"]) == 0
    common = ["schedule", "--host", kfp_server.url, "--package", package]
    assert cli.main(common + ["--cron", "0 0 4 * * *", "--name", "nightly"]) == 0
    assert cli.main(common + ["--cron", "0 5 * * *", "--name", "nightly"]) == 0
    assert len(kfp_server.recorded("POST", "/apis/v2beta1/pipelines/upload")) == 1
    (version,) = kfp_server.recorded("POST", "/apis/v2beta1/pipelines/upload_version")
    assert version["query"]["pipelineid"] == ["pipeline-1"]
    assert version["query"]["name"][0].startswith(f"{configs.PIPELINE_NAME}-")
    first, second = (json.loads(r["body"]) for r in kfp_server.recorded("POST", "/apis/v2beta1/recurringruns"))
    assert first["trigger"]["cron_schedule"]["cron"] == "0 0 4 * * *"      # 6 fields are kept
    assert second["pipeline_version_reference"]["pipeline_version_id"] == "version-2"
    assert first["runtime_config"]["parameters"] == {}    # the compiled defaults apply, data_root included
    # One schedule per name: the second replaced the first, after it was created.
    assert [r["path"] for r in kfp_server.requests if r["method"] == "DELETE"] == [
        "/apis/v2beta1/recurringruns/recurring-1"]
    assert list(kfp_server.recurring_runs) == ["recurring-2"]
    assert capsys.readouterr().out.rstrip().endswith("; replaced recurring-1")


def test_bad_input_is_one_line_and_sends_nothing(kfp_server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOME", "/nonexistent")
    package = str(tmp_path / "tinyface.yaml")
    assert cli.main(["compile-kubeflow", "--out", package, "--root", ROOT, "--image", IMAGE]) == 0
    capsys.readouterr()
    cases = [
        (["--cron", "0 3 * *"], "expected 5 fields"),
        (["--cron", "0 3 * * 1"], f"{package}: data_root has no default; pass --param data_root=..."),
        (["--cron", "0 3 * * 1", "--param", "span=latest"], "span takes a int"),
        (["--cron", "0 3 * * 1", "--image", "other:1", "--no-infra-validation"],
         f"--image, --no-infra-validation: settings of the compilation, which --package {package} has had"),
    ]
    for extra, message in cases:
        assert cli.main(["schedule", "--host", kfp_server.url, "--package", package] + extra) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert cli.main(["schedule", "--host", kfp_server.url, "--package", str(tmp_path / "missing.yaml"),
                     "--cron", "0 3 * * 1"]) == 2
    assert "missing.yaml: cannot read the pipeline file" in capsys.readouterr().err
    assert not [r for r in kfp_server.requests if r["method"] == "POST"]


def test_what_kfp_refuses_is_a_one_line_error(kfp_server, capsys, monkeypatch):
    monkeypatch.setenv("HOME", "/nonexistent")
    kfp_server.refuse_schedules = "Invalid input error: invalid cron\nschedule rejected"
    assert cli.main(["schedule", "--host", kfp_server.url, "--cron", "0 3 * * 1", "--root", ROOT,
                     "--param", "data_root=/data/faces"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"tinyface schedule: error: {kfp_server.url}: KFP answered 400 Bad Request: ")
    assert "invalid cron schedule rejected" in err


def test_cron_conversion():
    assert kubeflow_schedule.kfp_cron("15 2 * * 0") == "0 15 2 * * 0"
    assert kubeflow_schedule.kfp_cron(" 0  15 2 * * 0 ") == "0 15 2 * * 0"
    with pytest.raises(ValueError, match="got 7"):
        kubeflow_schedule.kfp_cron("0 0 15 2 * * 0")
