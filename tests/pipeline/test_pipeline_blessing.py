"""`tinyface run` end to end: a blessed model is pushed in TF Serving's layout, and the next
candidate is judged against that real blessed model (through ML Metadata).

Run twice: on synthetic faces with configs.py's settings, and as a short form of the real-face
recipe (configs/real_faces.yaml, its augmentations included) on a few real 300-W faces."""

import json
import os
import re

import pytest
import yaml

from tinyface.pipeline import configs, local_runner, metadata_queries
from tinyface.cli import main as cli
from tinyface import prediction
from tinyface.trainer.training.training_config import CONFIG_KEY

pytestmark = pytest.mark.pipeline

REAL_FACES_RECIPE = os.path.join(configs.REPO_ROOT, "configs", "real_faces.yaml")
# 16 faces of the 300-W LFPW trainset (tests/data/lfpw_trainset_few/README.md).
REAL_FACES = os.path.join(os.path.dirname(__file__), "..", "data", "lfpw_trainset_few")

# A few steps of the small JASRNet. The floors are switched off (a 4-step model cannot beat
# bicubic) so the first run is blessed; the test is about the blessing logic, not quality.
FIRST_RUN = """
training:
  batch_size: 4
  checkpoint_every: 2
trainer:
  train_steps: {steps}
  eval_steps: 2
evaluation:
  min_psnr_gain_db: -100
  max_nme_ratio_to_mean_shape: 100
  psnr_regression_margin_db: {psnr_margin}
"""

# The real-face recipe on 16 faces: half of them in the eval split (with configs.py's 8:2
# buckets it would hold one face, whose mean shape is itself).
RECIPE_ON_FEW_FACES = {"data": {"train_buckets": 1, "eval_buckets": 1}}


def _run(tmp_path, capsys, home, data, steps, psnr_margin, recipe=None):
    """`tinyface run` with FIRST_RUN's settings, over those of the `recipe` file if given."""
    settings = yaml.safe_load(FIRST_RUN.format(steps=steps, psnr_margin=psnr_margin))
    if recipe:
        with open(recipe) as f:
            document = yaml.safe_load(f)
        for overrides in (settings, RECIPE_ON_FEW_FACES):
            for section, values in overrides.items():
                document.setdefault(section, {}).update(values)
        settings = document
    config = tmp_path / f"run-{steps}.yaml"
    config.write_text(yaml.safe_dump(settings))
    dataset = [] if recipe else ["--dataset", "synthetic"]
    status = cli.main(["run", "--config", str(config), "--data", data, *dataset, "--home", home])
    assert status == 0
    return capsys.readouterr().out


def _executions(store, node):
    return [e for e in sorted(store.get_executions(), key=lambda e: e.id)
            if metadata_queries.node_id_of(store, e) == node]


def _input_artifact_ids(store, execution, key):
    ids = []
    for event in store.get_events_by_execution_ids([execution.id]):
        if event.type == event.INPUT and any(step.key == key for step in event.path.steps):
            ids.append(event.artifact_id)
    return ids


def _versions(serving_dir):
    return sorted(name for name in os.listdir(serving_dir) if name.isdigit()) if os.path.isdir(serving_dir) else []


@pytest.mark.parametrize("faces", ["synthetic", "real_faces_recipe"])
def test_blessed_push_then_regression_against_the_blessed_model(faces, tmp_path, capsys, synthetic_faces):
    recipe = REAL_FACES_RECIPE if faces == "real_faces_recipe" else None
    home = str(tmp_path / "home")
    data = REAL_FACES if recipe else synthetic_faces(count=60, seed=11)
    serving_dir = local_runner.serving_dir(home)

    # Run 1: no previous model, judged against the (disabled) floors alone: blessed and pushed.
    out = _run(tmp_path, capsys, home, data, steps=4, psnr_margin=0.1, recipe=recipe)
    assert re.search(r"^\[ 1/12\] FaceExampleGen \.+ ran in ", out, re.M)    # progress, node by node
    assert re.search(r"^\[12/12\] Pusher \.+ ran in ", out, re.M)
    assert "verdict: BLESSED" in out
    versions = _versions(serving_dir)
    assert len(versions) == 1
    pushed = os.path.join(serving_dir, versions[0])
    assert f"pushed: {pushed}" in out
    # TF Serving's layout: base/<numeric version>/saved_model.pb, loadable by our client.
    assert os.path.isfile(os.path.join(pushed, "saved_model.pb"))
    report = re.search(r"^report: (.+)$", out, re.M).group(1)
    assert os.path.isfile(report) and os.path.isfile(os.path.join(os.path.dirname(report), "samples.png"))
    with open(report) as f:
        assert pushed in f.read()
    model = prediction.load_model(serving_dir)
    assert model.version == int(versions[0]) and (model.lr_size, model.sr_size) == (16, 128)

    store = metadata_queries.open_store(local_runner.metadata_path(home))
    (first_eval,) = _executions(store, "Evaluator")
    assert _input_artifact_ids(store, first_eval, "baseline_model") == []
    (first_model,) = store.get_artifacts_by_type("Model")
    if recipe:
        # The recipe's training settings (its augmentations, ...) reached the Trainer, except
        # those FIRST_RUN shortens.
        (trainer,) = _executions(store, "Trainer")
        trained = json.loads(trainer.custom_properties["custom_config"].string_value)[CONFIG_KEY]
        with open(recipe) as f:
            wanted = yaml.safe_load(f)["training"]
        shortened = yaml.safe_load(FIRST_RUN.format(steps=0, psnr_margin=0))["training"]
        assert {key: trained[key] for key in wanted if key not in shortened} == \
            {key: value for key, value in wanted.items() if key not in shortened}
        return  # the regression half below is blessing logic, which the synthetic case covers

    # Run 2: the same data and settings. The Trainer is cached and the Evaluator blesses that
    # model against itself; the Pusher does not push it again as a new version.
    out = _run(tmp_path, capsys, home, data, steps=4, psnr_margin=0.1)
    assert re.search(r"^\[ *\d+/12\] Trainer \.+ cached$", out, re.M)
    assert "verdict: BLESSED" in out
    assert f"not pushed: model already served as version {versions[0]} ({pushed})" in out
    assert "pushed: " not in out.replace("not pushed: ", "")
    assert _versions(serving_dir) == versions
    rerun_report = re.search(r"^report: (.+)$", out, re.M).group(1)
    with open(rerun_report) as f:
        assert f"already served as version {versions[0]}" in f.read()

    # Run 3: a new candidate (more steps) that must beat the blessed model's PSNR by 50 dB.
    out = _run(tmp_path, capsys, home, data, steps=6, psnr_margin=-50, recipe=recipe)
    assert re.search(r"^\[ *\d+/12\] PairGen \.+ cached$", out, re.M)          # the data half is reused
    assert re.search(r"^\[ *\d+/12\] Trainer \.+ ran in ", out, re.M)
    assert "verdict: NOT BLESSED" in out
    assert _versions(serving_dir) == versions            # nothing new pushed
    store = metadata_queries.open_store(local_runner.metadata_path(home))
    second_eval = _executions(store, "Evaluator")[-1]
    # The baseline was the real model blessed by run 1, not a copy or the candidate itself.
    assert _input_artifact_ids(store, second_eval, "baseline_model") == [first_model.id]
    candidate = _input_artifact_ids(store, second_eval, "model")
    assert len(candidate) == 1 and candidate[0] != first_model.id
    blessing = metadata_queries.latest_artifact(store, "ModelBlessing")
    assert blessing.custom_properties["blessed"].int_value == 0
    pusher = _executions(store, "Pusher")[-1]
    pushed_model = metadata_queries.latest_artifact(store, "PushedModel")
    assert pushed_model.custom_properties["pushed"].int_value == 0
    assert metadata_queries.STATE_NAMES[pusher.last_known_state] == "COMPLETE"
