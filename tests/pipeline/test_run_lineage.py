"""tinyface.pipeline.run_lineage: the latest run's evaluation, followed through its events."""

import datetime

from tfx.types import standard_artifacts as sa

from tinyface.pipeline import run_lineage

TRAINING = {"training_config": {"model": "jasrnet", "model_size": "small"}}


def _first_run(recorder, home):
    """A complete first run: the model is blessed (no baseline) and pushed."""
    recorder.start_run("2026-11-21T22:00:00.000001")
    faces = recorder.artifact(sa.Examples, home / "faces", split_names=["train", "eval"])
    pairs = recorder.artifact(sa.Examples, home / "pairs", split_names=["train", "eval"])
    model = recorder.artifact(sa.Model, home / "model1")
    evaluation = recorder.artifact(sa.ModelEvaluation, home / "eval1")
    blessing = recorder.artifact(sa.ModelBlessing, home / "blessing1", blessed=1)
    pushed = recorder.artifact(sa.PushedModel, home / "pushed1", pushed=1, pushed_destination="/serving/tinyface/1")
    recorder.execution("FaceExampleGen", outputs={"examples": [faces]})
    recorder.execution("PairGen", inputs={"examples": [faces]}, outputs={"pairs": [pairs]})
    recorder.execution("Trainer", inputs={"examples": [pairs]}, outputs={"model": [model]},
                       custom_config=TRAINING, train_args={"num_steps": 500})
    recorder.execution("Evaluator", inputs={"examples": [pairs], "model": [model]},
                       outputs={"evaluation": [evaluation], "blessing": [blessing]}, example_splits=None)
    recorder.execution("Pusher", inputs={"model": [model], "model_blessing": [blessing]},
                       outputs={"pushed_model": [pushed]})
    return dict(faces=faces, pairs=pairs, model=model, evaluation=evaluation, blessing=blessing, pushed=pushed)


def test_no_run_recorded(recorder):
    assert run_lineage.latest_run(recorder.store) is None


def test_first_run_blessed_and_pushed(recorder, tmp_path):
    first = _first_run(recorder, tmp_path)
    lineage = run_lineage.latest_run(recorder.store)
    assert lineage.run_id == "2026-11-21T22:00:00.000001"
    assert isinstance(lineage.started, datetime.datetime) and lineage.started.tzinfo is not None
    assert [node for node, _ in lineage.node_states] == ["FaceExampleGen", "PairGen", "Trainer", "Evaluator", "Pusher"]
    assert {state for _, state in lineage.node_states} == {"COMPLETE"}
    assert lineage.model.id == first["model"].id and lineage.baseline_model is None
    assert lineage.examples.id == first["pairs"].id        # the pairs, not the faces (also Examples)
    assert lineage.eval_splits == ("eval",)                # the Evaluator's default split
    assert lineage.eval_split_uri() == str(tmp_path / "pairs" / "Split-eval")
    assert (lineage.evaluation.id, lineage.blessing.id) == (first["evaluation"].id, first["blessing"].id)
    assert lineage.blessed is True and lineage.pushed_destination == "/serving/tinyface/1"
    assert lineage.serving_model_dir() == str(tmp_path / "model1" / "Format-Serving")
    assert lineage.training_config == TRAINING and lineage.train_steps == 500


def test_second_run_against_the_blessed_baseline_with_cached_pairs(recorder, tmp_path):
    first = _first_run(recorder, tmp_path)
    recorder.start_run("2026-11-21T22:10:00.000001")
    model = recorder.artifact(sa.Model, tmp_path / "model2")
    evaluation = recorder.artifact(sa.ModelEvaluation, tmp_path / "eval2")
    blessing = recorder.artifact(sa.ModelBlessing, tmp_path / "blessing2", blessed=0)
    pushed = recorder.artifact(sa.PushedModel, tmp_path / "pushed2", pushed=0)
    recorder.execution("FaceExampleGen", "CACHED", outputs={"examples": [first["faces"]]})
    recorder.execution("PairGen", "CACHED", inputs={"examples": [first["faces"]]}, outputs={"pairs": [first["pairs"]]})
    recorder.execution("Trainer", inputs={"examples": [first["pairs"]]}, outputs={"model": [model]},
                       custom_config={"training_config": {"model": "dic"}}, train_args={"num_steps": 2000})
    recorder.execution("Evaluator", inputs={"examples": [first["pairs"]], "model": [model],
                                            "baseline_model": [first["model"]]},
                       outputs={"evaluation": [evaluation], "blessing": [blessing]}, example_splits=["eval"])
    recorder.execution("Pusher", inputs={"model": [model], "model_blessing": [blessing]},
                       outputs={"pushed_model": [pushed]})

    lineage = run_lineage.latest_run(recorder.store)
    assert lineage.run_id == "2026-11-21T22:10:00.000001"
    assert lineage.node_states[1] == ("PairGen", "CACHED")
    assert lineage.model.id == model.id and lineage.baseline_model.id == first["model"].id
    assert lineage.examples.id == first["pairs"].id and lineage.evaluation.id == evaluation.id
    assert lineage.blessed is False and lineage.pushed_destination is None
    assert lineage.training_config == {"training_config": {"model": "dic"}} and lineage.train_steps == 2000


def test_a_run_stopped_by_the_data_gate_has_no_evaluation_even_though_an_older_one_exists(recorder, tmp_path):
    first = _first_run(recorder, tmp_path)
    recorder.start_run("2026-11-21T22:20:00.000001")
    recorder.execution("FaceExampleGen", outputs={"examples": [recorder.artifact(sa.Examples, tmp_path / "faces3")]})
    recorder.execution("DataGate", "FAILED", inputs={"examples": [first["faces"]]})
    lineage = run_lineage.latest_run(recorder.store)
    assert lineage.run_id == "2026-11-21T22:20:00.000001"
    assert lineage.node_states == (("FaceExampleGen", "COMPLETE"), ("DataGate", "FAILED"))
    assert lineage.evaluation is None and lineage.model is None and lineage.blessed is None
    assert lineage.pushed_destination is None and lineage.training_config == {}


def test_a_cached_evaluator_links_the_evaluation_it_reused(recorder, tmp_path):
    first = _first_run(recorder, tmp_path)
    recorder.start_run("2026-11-21T22:30:00.000001")
    recorder.execution("Trainer", "CACHED", inputs={"examples": [first["pairs"]]}, outputs={"model": [first["model"]]},
                       custom_config=TRAINING, train_args={"num_steps": 500})
    recorder.execution("Evaluator", "CACHED", inputs={"examples": [first["pairs"]], "model": [first["model"]]},
                       outputs={"evaluation": [first["evaluation"]], "blessing": [first["blessing"]]})
    lineage = run_lineage.latest_run(recorder.store)
    assert lineage.evaluation.id == first["evaluation"].id and lineage.model.id == first["model"].id
    assert lineage.pushed_model is None          # no Pusher ran in this run
    assert lineage.train_steps == 500


def test_a_failed_evaluator_is_no_evaluation(recorder, tmp_path):
    first = _first_run(recorder, tmp_path)
    recorder.start_run("2026-11-21T22:40:00.000001")
    recorder.execution("Evaluator", "FAILED", inputs={"examples": [first["pairs"]], "model": [first["model"]]})
    lineage = run_lineage.latest_run(recorder.store)
    assert lineage.evaluation is None and lineage.node_states == (("Evaluator", "FAILED"),)


def test_a_fully_cached_rerun_evaluates_the_model_against_itself(recorder, tmp_path):
    # The second `tinyface run` on unchanged data: every node is cached but the Evaluator, whose
    # baseline is now the blessed model, i.e. the candidate itself (one event, two keys).
    first = _first_run(recorder, tmp_path)
    recorder.start_run("2026-11-21T22:20:00.000001")
    evaluation = recorder.artifact(sa.ModelEvaluation, tmp_path / "eval3")
    blessing = recorder.artifact(sa.ModelBlessing, tmp_path / "blessing3", blessed=1)
    recorder.execution("Trainer", "CACHED", inputs={"examples": [first["pairs"]]}, outputs={"model": [first["model"]]},
                       custom_config=TRAINING, train_args={"num_steps": 500})
    recorder.execution("Evaluator", inputs={"examples": [first["pairs"]], "model": [first["model"]],
                                            "baseline_model": [first["model"]]},
                       outputs={"evaluation": [evaluation], "blessing": [blessing]}, example_splits=None)
    lineage = run_lineage.latest_run(recorder.store)
    assert lineage.model.id == lineage.baseline_model.id == first["model"].id
    assert lineage.evaluation.id == evaluation.id and lineage.blessed is True
