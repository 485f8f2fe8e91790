"""A training killed mid-way continues from its last checkpoint; it does not start over."""

import json
import os
import signal
import subprocess
import sys
import time

from tfx.components.trainer.fn_args_utils import FnArgs

from tinyface.pipeline.code_fingerprint import CODE_FINGERPRINT_KEY
from tinyface.trainer.training import input_pipeline, task
from tinyface.trainer import run_fn
from tinyface.trainer.training.training_config import paper_config

STEPS, INTERVAL = 40, 5
CONFIG = paper_config("jasrnet", batch_size=4, checkpoint_every=INTERVAL, eval_steps=1, mixed_precision="off")

_CHILD = """
import os, sys
from tinyface.trainer.training import input_pipeline, task
from tinyface.trainer.training.training_config import TrainingConfig
import json
config = TrainingConfig.from_dict(json.loads(sys.argv[1]))
pattern, out = sys.argv[2], sys.argv[3]
make = lambda training, b, contract: input_pipeline.dataset_from_files(pattern, b, contract, training, seed=1)
task.train_and_export(config, make, int(sys.argv[4]), out + "/export", out + "/logs", out + "/backup")
"""


def _checkpointed_epoch(backup_dir):
    path = os.path.join(backup_dir, "training_metadata.json")
    try:
        with open(path) as f:
            return json.load(f)["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def test_killed_training_resumes_from_its_last_checkpoint(pair_records, tmp_path):
    pattern = os.path.join(pair_records, "Split-train", "*")
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, json.dumps(CONFIG.to_dict()), pattern, str(tmp_path), str(STEPS)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    try:
        while _checkpointed_epoch(tmp_path / "backup") < 2:
            assert child.poll() is None, "training ended before it could be killed"
            assert time.time() < deadline, "no checkpoint within 5 minutes"
            time.sleep(0.2)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    killed_at = _checkpointed_epoch(tmp_path / "backup")
    assert 2 <= killed_at < STEPS // INTERVAL
    assert not (tmp_path / "export").exists()  # the killed run exported nothing

    def make(training, batch, contract):
        return input_pipeline.dataset_from_files(pattern, batch, contract, training, seed=1)

    _, history = task.train_and_export(CONFIG, make, STEPS, str(tmp_path / "export"), str(tmp_path / "logs"),
                                       str(tmp_path / "backup"))
    # It picked up at the checkpoint: only the remaining intervals ran, and the optimiser
    # (restored with the weights) ends at exactly STEPS updates.
    assert history.epoch[0] == killed_at
    assert len(history.epoch) == STEPS // INTERVAL - killed_at
    assert int(history.model.optimizer.iterations.numpy()) == STEPS
    assert (tmp_path / "export" / "saved_model.pb").exists()


def test_a_rerun_pipeline_execution_finds_the_same_checkpoints():
    def fn_args(run):
        return FnArgs(train_files=["/p/PairGen/pairs/7/Split-train/*"], train_steps=100,
                      model_run_dir=f"/p/Trainer/model_run/{run}")

    first, rerun = run_fn.backup_dir_for(fn_args(9), CONFIG), run_fn.backup_dir_for(fn_args(12), CONFIG)
    assert first == rerun and first.startswith("/p/Trainer/backup/")
    other_data = FnArgs(train_files=["/p/PairGen/pairs/8/Split-train/*"], train_steps=100,
                        model_run_dir="/p/Trainer/model_run/13")
    assert run_fn.backup_dir_for(other_data, CONFIG) != first


def test_changed_trainer_code_does_not_continue_the_old_codes_checkpoints():
    def fn_args(fingerprint):
        return FnArgs(train_files=["/p/PairGen/pairs/7/Split-train/*"], train_steps=100,
                      model_run_dir="/p/Trainer/model_run/9",
                      custom_config={CODE_FINGERPRINT_KEY: fingerprint})

    old_code = run_fn.backup_dir_for(fn_args("sha256:aaaa"), CONFIG)
    assert run_fn.backup_dir_for(fn_args("sha256:aaaa"), CONFIG) == old_code
    assert run_fn.backup_dir_for(fn_args("sha256:bbbb"), CONFIG) != old_code
