"""The TFX Trainer's module file: a thin adapter from fn_args to tinyface.trainer.training.task.train_and_export.

Everything it calls is plain training code that runs and is tested without TFX.
"""

import dataclasses
import hashlib
import json
import os

from tinyface.trainer.training import input_pipeline, task
from tinyface.trainer.training.training_config import CONFIG_KEY, TrainingConfig


def backup_dir_for(fn_args, config):
    """Where a run's checkpoints live: the same place for the same inputs and settings.

    Each Trainer execution gets a fresh output folder, so checkpoints kept there would be lost
    when a killed run is started again; keying them by what the run trains on lets the new
    execution find and continue them. The key holds the whole custom_config, so also the
    fingerprint of the trainer's code (pipeline/code_fingerprint.py): after a code change the
    Trainer runs again and must not continue the checkpoints of the old code.
    """
    key = json.dumps({"train": sorted(fn_args.train_files), "steps": fn_args.train_steps,
                      "config": config.to_dict(), "custom_config": fn_args.custom_config}, sort_keys=True)
    trainer_root = os.path.dirname(os.path.dirname(fn_args.model_run_dir.rstrip("/")))
    return os.path.join(trainer_root, "backup", hashlib.sha256(key.encode()).hexdigest()[:16])


def training_config_of(fn_args) -> TrainingConfig:
    """The run's TrainingConfig, with the Trainer's eval step count from TFX's EvalArgs (a run
    config's trainer.eval_steps): TFX hands it over as fn_args.eval_steps (None when unset)."""
    config = TrainingConfig.from_dict(fn_args.custom_config[CONFIG_KEY])
    if fn_args.eval_steps:
        config = dataclasses.replace(config, eval_steps=int(fn_args.eval_steps))
    return config


def run_fn(fn_args):
    config = training_config_of(fn_args)

    def make_dataset(training, batch_size, contract):
        files = fn_args.train_files if training else fn_args.eval_files
        return input_pipeline.dataset_from_accessor(
            fn_args.data_accessor, files, batch_size, contract, training, seed=config.seed,
            augment=config.augmentation())

    task.train_and_export(
        config,
        make_dataset=make_dataset,
        train_steps=fn_args.train_steps,
        serving_model_dir=fn_args.serving_model_dir,
        log_dir=fn_args.model_run_dir,
        backup_dir=backup_dir_for(fn_args, config),
    )
