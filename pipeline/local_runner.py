"""Runs the tinyface pipeline locally: LocalDagRunner, Beam DirectRunner, ML Metadata in SQLite.

Thin on purpose: settings come from pipeline/configs.py, overridable per call.
"""

import os

from tfx import v1 as tfx

from components.face_example_gen.spec import FaceIngestOptions
from pipeline import configs
from pipeline.pipeline import create_pipeline
from tinyface.evaluation.eval_config import build_eval_config


def local_pipeline(home=None, data_root=None, data_format=None, dataset=None, use_spans=None,
                   strict=None, schema_file=None, training_config=None, train_steps=None,
                   enable_cache=True):
    """The pipeline with configs' settings, some overridden; paths under `home`."""
    home = home or configs.HOME
    return create_pipeline(
        pipeline_name=configs.PIPELINE_NAME,
        pipeline_root=os.path.join(home, "pipelines", configs.PIPELINE_NAME),
        data_root=data_root or configs.DATA_ROOT,
        ingest_options=FaceIngestOptions(
            data_format=data_format or configs.DATA_FORMAT,
            dataset=dataset if dataset is not None else configs.DATASET_NAME,
            hr_size=configs.HR_SIZE,
            margin=configs.CROP_MARGIN,
            strict=configs.STRICT if strict is None else strict),
        use_spans=configs.USE_SPANS if use_spans is None else use_spans,
        schema_file=schema_file or configs.SCHEMA_FILE,
        drift_thresholds=configs.DRIFT_THRESHOLDS,
        drift_splits=configs.DRIFT_SPLITS,
        pair_config=configs.PAIR_CONFIG,
        trainer_module_file=configs.TRAINER_MODULE_FILE,
        training_config=training_config or configs.TRAINING,
        train_steps=train_steps or configs.TRAIN_STEPS,
        eval_steps=configs.EVAL_STEPS,
        eval_config=build_eval_config(
            configs.EVAL_SLICE_FEATURES, configs.MIN_PSNR_GAIN_DB, configs.MAX_NME_RATIO_TO_MEAN_SHAPE,
            configs.PSNR_REGRESSION_MARGIN_DB, configs.NME_REGRESSION_MARGIN),
        serving_dir=serving_dir(home),
        train_buckets=configs.TRAIN_BUCKETS,
        eval_buckets=configs.EVAL_BUCKETS,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            metadata_path(home)),
        beam_pipeline_args=configs.BEAM_PIPELINE_ARGS,
        enable_cache=enable_cache,
    )


def serving_dir(home=None):
    """Where Pusher writes blessed models, in TF Serving's versioned layout."""
    return os.path.join(home or configs.HOME, "serving", configs.PIPELINE_NAME)


def metadata_path(home=None):
    return os.path.join(home or configs.HOME, "metadata", configs.PIPELINE_NAME, "metadata.db")


def run(**overrides):
    tfx.orchestration.LocalDagRunner().run(local_pipeline(**overrides))
