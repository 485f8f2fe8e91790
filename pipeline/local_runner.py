"""Runs the tinyface pipeline locally: LocalDagRunner, Beam DirectRunner, ML Metadata in SQLite.

Thin on purpose: settings come from pipeline/configs.py through pipeline/run_config.RunConfig,
overridable per call (a --config file, command-line flags, tests).
"""

import contextlib
import dataclasses
import os

from tfx import v1 as tfx

from tinyface.components.face_example_gen.spec import FaceIngestOptions
from tinyface.pipeline import configs, progress
from tinyface.pipeline.local_flavour import LocalFlavour
from tinyface.pipeline.pipeline import create_pipeline
from tinyface.pipeline.run_config import RunConfig, resolved_data_root
from tinyface.evaluation.eval_config import build_eval_config


def local_pipeline(config: RunConfig = None, home=None, enable_cache=True, **overrides):
    """The pipeline of `config` (default: configs.py's settings) with RunConfig fields
    overridden by keyword; outputs and ML Metadata under `home`."""
    home = home or configs.HOME
    config = dataclasses.replace(config or RunConfig(), **overrides)
    return create_pipeline(
        pipeline_name=configs.PIPELINE_NAME,
        pipeline_root=os.path.join(home, "pipelines", configs.PIPELINE_NAME),
        flavour=LocalFlavour(
            trainer_module_file=configs.TRAINER_MODULE_FILE,
            eval_config=build_eval_config(config.eval_slice_features, config.blessing)),
        data_root=resolved_data_root(config, home),
        ingest_options=FaceIngestOptions(
            data_format=config.data_format,
            dataset=config.dataset,
            hr_size=config.model_contract.hr_size,
            margin=config.crop_margin,
            strict=config.strict),
        use_spans=config.use_spans,
        schema_file=config.schema_file,
        drift_thresholds=config.drift_thresholds,
        drift_splits=config.drift_splits,
        pair_config=config.model_pair_config,
        training_config=config.training_config,
        train_steps=config.train_steps,
        eval_steps=config.eval_steps,
        serving_dir=serving_dir(home),
        train_buckets=config.train_buckets,
        eval_buckets=config.eval_buckets,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            metadata_path(home)),
        beam_pipeline_args=list(config.beam_pipeline_args),
        enable_cache=enable_cache,
    )


def serving_dir(home=None):
    """Where Pusher writes blessed models, in TF Serving's versioned layout."""
    return os.path.join(home or configs.HOME, "serving", configs.PIPELINE_NAME)


def metadata_path(home=None):
    return os.path.join(home or configs.HOME, "metadata", configs.PIPELINE_NAME, "metadata.db")


def run(config: RunConfig = None, home=None, enable_cache=True, show_progress=False, **overrides):
    """Runs the pipeline; with show_progress, prints a line per node as it finishes."""
    tfx_pipeline = local_pipeline(config, home, enable_cache, **overrides)
    with progress.show_progress(tfx_pipeline) if show_progress else contextlib.nullcontext():
        tfx.orchestration.LocalDagRunner().run(tfx_pipeline)
