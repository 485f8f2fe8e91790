"""The data half of the pipeline under LocalDagRunner, asserted through ML Metadata.

One scenario walks a dataset through four weekly spans: the first (no baseline), a cached
re-run, a second span from the same distribution (compared with the first, passes), and a
darker third span (drift: the run stops before pairs are made).
"""

import html
import json
import os
import re

import pytest
import tensorflow as tf

from tinyface.components.artifacts import DataReport
from tinyface.pipeline import configs, local_runner, metadata_queries
from tinyface.trainer.training.training_config import paper_config
from tinyface.cli import main as cli
from tinyface import features
from tinyface.data import example_codec
from tinyface.data.synthesis import synth
from tinyface.data.image_io import MAX_IMAGE_PIXELS
from tinyface.validation import data_report

pytestmark = pytest.mark.pipeline

DATA_NODES = ["FaceExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator",
              "DistributionValidator", "DataGate", "PairGen"]
ALL_NODES = DATA_NODES + ["Trainer", "Evaluator", "Pusher"]
FACES_PER_SPAN = 80
# A few steps of the small JASRNet: the pipeline test checks wiring, not model quality.
TINY_TRAINING = dict(training_config=paper_config("jasrnet", batch_size=4, checkpoint_every=2),
                     train_steps=4, eval_steps=1)


def _add_span(root, span, preset, seed):
    synth.generate_dataset(os.path.join(root, f"span-{span}"), FACES_PER_SPAN, seed=seed,
                           options=synth.PRESETS[preset])


def _latest_report(store):
    artifact = metadata_queries.latest_artifact(store, DataReport.TYPE_NAME)
    with open(os.path.join(artifact.uri, data_report.REPORT_JSON)) as f:
        return json.load(f)


def _count_records(examples_artifact, split):
    files = tf.io.gfile.glob(os.path.join(examples_artifact.uri, f"Split-{split}", "*"))
    return sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP"))


def test_spans_caching_and_drift(tmp_path):
    home, data = str(tmp_path / "home"), str(tmp_path / "data")

    def run():
        local_runner.run(home=home, data_root=data, use_spans=True, dataset="synthetic", **TINY_TRAINING)

    # Span 1: everything runs; no baseline, so drift is not checked and the data passes.
    _add_span(data, 1, "default", seed=1)
    run()
    store = metadata_queries.open_store(local_runner.metadata_path(home))
    executions = metadata_queries.executions_by_node(store)
    for node in ALL_NODES:
        assert executions[node] == ["COMPLETE"], node
    model = metadata_queries.latest_artifact(store, "Model")
    assert os.path.exists(os.path.join(model.uri, "Format-Serving", "saved_model.pb"))
    # Four training steps do not beat bicubic: the Evaluator must not bless, Pusher must not push.
    blessing = metadata_queries.latest_artifact(store, "ModelBlessing")
    assert blessing.custom_properties["blessed"].int_value == 0
    serving = local_runner.serving_dir(home)
    assert not os.path.exists(serving) or not os.listdir(serving)
    report = _latest_report(store)
    assert report["passed"] and report["faces_read"] == FACES_PER_SPAN and report["faces_skipped"] == 0
    assert report["drift_verdict"].startswith("not checked")

    pairs_artifact = [a for a in store.get_artifacts_by_type("Examples") if "PairGen" in a.uri][-1]
    first_pair = next(iter(tf.data.TFRecordDataset(
        tf.io.gfile.glob(os.path.join(pairs_artifact.uri, "Split-train", "*")), compression_type="GZIP")))
    pair = example_codec.from_example(first_pair.numpy())
    assert tf.io.decode_png(pair[features.LR_IMAGE][0]).shape == (16, 16, 3)
    assert tf.io.decode_png(pair[features.HR_IMAGE][0]).shape == (128, 128, 3)
    assert _count_records(pairs_artifact, "train") + _count_records(pairs_artifact, "eval") == FACES_PER_SPAN

    # Same span again: every component is a cache hit.
    run()
    executions = metadata_queries.executions_by_node(store)
    for node in ALL_NODES:
        assert executions[node] == ["COMPLETE", "CACHED"], node

    # Span 2 from the same distribution: compared with span 1, no drift, pairs made.
    _add_span(data, 2, "default", seed=2)
    run()
    executions = metadata_queries.executions_by_node(store)
    assert executions["FaceExampleGen"][-1] == "COMPLETE"
    assert executions["PairGen"][-1] == "COMPLETE"
    assert executions["Trainer"][-1] == "COMPLETE"
    report = _latest_report(store)
    assert report["passed"], report
    assert report["drift_verdict"] == "no drift"
    assert report["drift_baseline"].startswith("span 1 ")

    # Span 3 is darker: drift in brightness stops the run before pairs are made.
    _add_span(data, 3, "dark", seed=3)
    with pytest.raises(Exception, match=r"drift in split pair train_train, feature brightness: .*Jensen-Shannon divergence .* is 0\.[0-9]+.*above the threshold 0\.2"):
        run()
    executions = metadata_queries.executions_by_node(store)
    assert executions["DataGate"][-1] == "FAILED"
    assert len(executions["PairGen"]) == 3  # no PairGen (and no Trainer) execution for span 3
    assert len(executions["Trainer"]) == 3
    assert _latest_report(store)["drift_baseline"].startswith("span 1 ")  # span 3's report is not published


def test_bad_records_are_reported_and_strict_mode_publishes_nothing(tmp_path, synthetic_faces, bad_input):
    import shutil

    data = tmp_path / "faces"
    shutil.copytree(synthetic_faces(count=40, seed=7), data)
    broken = sorted(data.glob("*.pts"))[3]
    lines = broken.read_text().splitlines()
    broken.write_text("\n".join(lines[:20]) + "\n")  # truncated: no closing brace, too few points
    os.remove(sorted(data.glob("*.png"))[5])          # an annotation whose image is missing
    bomb = sorted(data.glob("*.png"))[8]              # a 30000x30000 PNG of a few hundred bytes
    bad_input.huge_png_header(bomb, 30000, 30000)

    home = str(tmp_path / "home")
    local_runner.run(home=home, data_root=str(data), dataset="synthetic", **TINY_TRAINING)
    store = metadata_queries.open_store(local_runner.metadata_path(home))
    report = _latest_report(store)
    assert report["passed"]
    assert report["faces_read"] == 37 and report["faces_skipped"] == 3
    assert any(message.startswith(str(broken)) for message in report["skipped"])
    assert f"{bomb}: image too large: 900000000 pixels, above the limit of {MAX_IMAGE_PIXELS}" in report["skipped"]
    assert report["skipped_by_reason"]["image too large"] == 1
    examples = [a for a in store.get_artifacts_by_type("Examples") if "FaceExampleGen" in a.uri]
    assert examples[0].custom_properties["faces_skipped"].int_value == 3

    strict_home = str(tmp_path / "strict")
    with pytest.raises(Exception, match="strict mode"):
        local_runner.run(home=strict_home, data_root=str(data), dataset="synthetic", strict=True)
    store = metadata_queries.open_store(local_runner.metadata_path(strict_home))
    assert metadata_queries.executions_by_node(store)["FaceExampleGen"] == ["FAILED"]
    live = [a for a in store.get_artifacts_by_type("Examples") if a.state == a.LIVE]
    assert live == []  # the failed ingestion published no examples


def test_schema_anomaly_stops_the_run_before_pairs_and_the_report_says_why(tmp_path, synthetic_faces, capsys):
    # A stricter schema than ours (only frontal faces allowed) makes real data anomalous.
    with open(configs.SCHEMA_FILE) as f:
        schema = f.read()
    strict_schema = tmp_path / "schema.pbtxt"
    strict_schema.write_text(schema.replace('  value: "semi_profile"\n  value: "profile"\n', ""))
    assert strict_schema.read_text() != schema
    config = tmp_path / "strict.yaml"
    config.write_text(f"validation:\n  schema_file: {strict_schema}\n")

    home = str(tmp_path / "home")
    status = cli.main(["run", "--config", str(config), "--data", synthetic_faces(count=40, seed=7),
                       "--dataset", "synthetic", "--home", home])
    out = capsys.readouterr().out
    assert status == 1
    reason = re.search(r"^run stopped at DataGate: (.+)$", out, re.M).group(1)
    assert re.search(r"schema anomaly in (train|eval) split, feature pose_bucket: Unexpected string values", reason)
    store = metadata_queries.open_store(local_runner.metadata_path(home))
    executions = metadata_queries.executions_by_node(store)
    assert executions["ExampleValidator"] == ["COMPLETE"]
    assert executions["DataGate"] == ["FAILED"]
    assert "PairGen" not in executions
    # The stopped run has its report: the node that stopped it and why.
    report = re.search(r"^report: (.+)$", out, re.M).group(1)
    with open(report) as f:
        page = f.read()
    assert "The run stopped at DataGate</strong>" in page and html.escape(reason) in page
