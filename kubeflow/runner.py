"""Compiles the tinyface pipeline for Kubeflow Pipelines v2 and Vertex AI Pipelines.

Thin, as pipeline/local_runner.py: the settings come from kubeflow/settings.py, the wiring from
pipeline/tinyface.pipeline.py::create_pipeline, the compilation from TFX's KubeflowV2DagRunner (pipeline
spec schema 2.1.0, the version KFP v2 accepts); kubeflow/pipeline_spec.py adds the defaults and
cache settings and writes the file. `tinyface compile-kubeflow` calls compile_pipeline();
`python -m tinyface.kubeflow.runner OUT` compiles with configs.py's settings alone.
"""

import dataclasses
import sys
from typing import Any, Dict, Optional

from absl import logging
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner

from tinyface.components.face_example_gen.spec import FaceIngestOptions
from tinyface.kubeflow import pipeline_spec
from tinyface.kubeflow.beam import beam_pipeline_args
from tinyface.kubeflow.components.face_example_gen import FaceExampleGen
from tinyface.kubeflow.flavour import KubeflowFlavour
from tinyface.kubeflow.components.serving_model_baseline import ServingModelBaseline
from tinyface.kubeflow.infra_validation import infra_validation
from tinyface.kubeflow.parameters import RuntimeParameters, runtime_parameters
from tinyface.kubeflow.settings import (UNPINNED_IMAGE_NOTE, KubeflowSettings, image_path, is_pinned, kubeflow_settings)
from tinyface.pipeline import configs
from tinyface.pipeline.pipeline import create_pipeline

# The Trainer's entry point, imported from the pipeline image (a path, not a module file: TFX
# would pack a module file from this machine into a wheel on the pipeline root at compile time).
TRAINER_RUN_FN = "tinyface.trainer.run_fn.run_fn"
# Tasks reading state that is not among their inputs (new span folders; the served model): KFP's
# cache, which compares inputs only, must never answer for them.
UNCACHEABLE = (FaceExampleGen, ServingModelBaseline)


@dataclasses.dataclass(frozen=True)
class CompiledPipeline:
    spec: pipeline_spec_pb2.PipelineSpec
    job: Dict[str, Any]                 # Vertex's PipelineJob: displayName, labels, runtimeConfig, pipelineSpec
    parameters: RuntimeParameters
    pipeline: Any                       # the TFX pipeline it was compiled from


def kubeflow_pipeline(settings: KubeflowSettings):
    """(the TFX pipeline wired for Kubeflow, its RuntimeParameters)."""
    run = settings.run_config
    parameters = runtime_parameters(
        data_root=settings.data_root, model=run.training_config.model, train_steps=run.train_steps,
        thresholds=run.blessing)
    flavour = KubeflowFlavour(
        parameters=parameters,
        trainer_run_fn=TRAINER_RUN_FN,
        statistics_archive=settings.statistics_archive,
        serving_dir=settings.serving_dir,
        eval_slice_features=run.eval_slice_features,
        infra_validation=infra_validation(
            configs.KUBEFLOW_TF_SERVING_IMAGE, configs.KUBEFLOW_TF_SERVING_TAG,
            configs.KUBEFLOW_SERVING_MODEL_NAME, configs.KUBEFLOW_INFRA_VALIDATION_EXAMPLES)
        if settings.infra_validation else None)
    if not settings.infra_validation:
        logging.warning("InfraValidator left out: pushed models are not checked in TF Serving first")
    pipeline = create_pipeline(
        pipeline_name=configs.PIPELINE_NAME,
        pipeline_root=settings.pipeline_root,
        flavour=flavour,
        data_root=parameters.data_root,
        ingest_options=FaceIngestOptions(data_format=run.data_format, dataset=run.dataset,
                                         hr_size=run.model_contract.hr_size, margin=run.crop_margin,
                                         strict=run.strict),
        use_spans=configs.KUBEFLOW_USE_SPANS,
        schema_file=image_path(run.schema_file),
        drift_thresholds=run.drift_thresholds,
        drift_splits=run.drift_splits,
        pair_config=run.model_pair_config,
        training_config=run.training_config,
        train_steps=parameters.train_steps,
        eval_steps=run.eval_steps,
        serving_dir=settings.serving_dir,
        train_buckets=run.train_buckets,
        eval_buckets=run.eval_buckets,
        metadata_connection_config=None,    # KFP keeps ML Metadata itself (README: "Kubeflow")
        beam_pipeline_args=beam_pipeline_args(settings.beam_runner, configs.KUBEFLOW_BEAM_RUNNER_FLAGS,
                                              settings.beam_options, settings.image, settings.beam_extra_args),
        enable_cache=True)
    return pipeline, parameters


def compile_pipeline(settings: KubeflowSettings, output_path: Optional[str] = None) -> CompiledPipeline:
    """Compiles the pipeline; writes it to `output_path` (.yaml/.yml: PipelineSpec; .json: PipelineJob)."""
    if output_path:
        pipeline_spec.check_output_path(output_path)
    pipeline, parameters = kubeflow_pipeline(settings)
    if not is_pinned(settings.image):
        logging.warning("%s", UNPINNED_IMAGE_NOTE)
    runner = kubeflow_v2_dag_runner.KubeflowV2DagRunner(kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(
        display_name=configs.PIPELINE_NAME, default_image=settings.image, use_pipeline_spec_2_1=True))
    job = runner.run(pipeline, parameter_values=parameters.defaults(), write_out=False)
    spec = json_format.ParseDict(job["pipelineSpec"], pipeline_spec_pb2.PipelineSpec())
    pipeline_spec.set_parameter_defaults(spec, parameters.defaults())
    pipeline_spec.set_default_pipeline_root(spec, settings.pipeline_root)
    pipeline_spec.disable_cache(spec, [node.id for node in pipeline.components if isinstance(node, UNCACHEABLE)])
    job = {**job, "pipelineSpec": json_format.MessageToDict(spec)}
    if output_path:
        pipeline_spec.write(output_path, spec, job)
    return CompiledPipeline(spec=spec, job=job, parameters=parameters, pipeline=pipeline)


def main(argv):
    output_path = argv[1] if len(argv) > 1 else f"{configs.PIPELINE_NAME}_pipeline.yaml"
    compile_pipeline(kubeflow_settings(), output_path)
    print(f"wrote {output_path}")


if __name__ == "__main__":
    main(sys.argv)
