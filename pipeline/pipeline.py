"""create_pipeline(): wires tinyface's components and nothing else (settings: configs.py).

The same function builds the pipeline for Kubeflow Pipelines v2 and Vertex (kubeflow=...): the
edges are the same; what KFP v2 cannot run as it runs locally (TFX resolvers, the ExampleGen
driver, InfraValidator, values inside protos chosen per run) is done by the component variants
in kubeflow/components/, which run the same executors.
"""

from typing import Dict, List, Optional, Sequence, Tuple

from absl import logging
from ml_metadata.proto import metadata_store_pb2
from tfx import v1 as tfx
# DistributionValidator is not exported under tfx.v1 in TFX 1.16.
from tfx.components.distribution_validator.component import DistributionValidator

from components.data_gate.component import DataGate
from components.face_example_gen.component import FaceExampleGen, split_config
from components.face_example_gen.spec import FaceIngestOptions
from components.pair_gen.component import PairGen
from components.served_model_pusher.component import Pusher
from kubeflow.components import evaluator as kubeflow_evaluator
from kubeflow.components.archive_span_statistics import ArchiveSpanStatistics
from kubeflow.components import face_example_gen as kubeflow_example_gen
from kubeflow.components import infra_validator as kubeflow_infra_validator
from kubeflow.components import trainer as kubeflow_trainer
from kubeflow.components import validators as kubeflow_validators
from kubeflow.components.previous_span_statistics import BASELINE_STATISTICS_KEY, PreviousSpanStatistics
from kubeflow.components.serving_model_baseline import ServingModelBaseline
from kubeflow.wiring import KubeflowWiring
from pipeline import code_fingerprint, resolvers
from tinyface.data.pairs import PairConfig
from tinyface.validation.drift import distribution_validator_config
from trainer.training_config import CONFIG_KEY, TrainingConfig

INFRA_VALIDATION_SKIPPED = ("InfraValidator skipped: no TF Serving binary is available locally to load the "
                            "model into (on Kubeflow it checks that TF Serving loads and answers before the push)")


def create_pipeline(
    pipeline_name: str,
    pipeline_root: str,
    data_root: str,
    ingest_options: FaceIngestOptions,
    use_spans: bool,
    schema_file: str,
    drift_thresholds: Dict[str, Tuple[str, float]],
    drift_splits: Sequence[str],
    pair_config: PairConfig,
    trainer_module_file: Optional[str],
    training_config: TrainingConfig,
    train_steps: int,
    eval_steps: int,
    eval_config,
    serving_dir: str,
    train_buckets: int = 8,
    eval_buckets: int = 2,
    metadata_connection_config: Optional[metadata_store_pb2.ConnectionConfig] = None,
    beam_pipeline_args: Optional[List[str]] = None,
    enable_cache: bool = True,
    kubeflow: Optional[KubeflowWiring] = None,
) -> tfx.dsl.Pipeline:
    """The tinyface pipeline; `kubeflow` (kubeflow/wiring.py) wires it for Kubeflow, where
    data_root and train_steps may be RuntimeParameters, trainer_module_file and eval_config are
    not used (the Trainer imports kubeflow.trainer_run_fn from the image, the Evaluator builds its
    EvalConfig from the runtime thresholds) and InfraValidator gates the push."""
    kf = kubeflow
    output_config = split_config(train_buckets, eval_buckets)
    if kf is None:
        example_gen = FaceExampleGen(
            input_base=data_root, options=ingest_options, use_spans=use_spans, output_config=output_config)
    else:   # resolves the span itself: KFP v2 runs no ExampleGen driver
        example_gen = kubeflow_example_gen.FaceExampleGen(
            input_base=data_root, options=ingest_options, use_spans=use_spans, output_config=output_config,
            span=kf.parameters.span)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.ImportSchemaGen(schema_file=schema_file)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    if kf is None:
        previous_span = tfx.dsl.Resolver(
            strategy_class=resolvers.PreviousSpanStatisticsStrategy,
            examples=example_gen.outputs["examples"],
            statistics=tfx.dsl.Channel(
                type=tfx.types.standard_artifacts.ExampleStatistics,
                producer_component_id=statistics_gen.id, output_key="statistics"),
        ).with_id("previous_span_statistics")
        baseline_statistics = previous_span.outputs[resolvers.STATISTICS].as_optional()
        drift_validator_class, data_gate_class = DistributionValidator, DataGate
    else:   # the same baseline, from the span statistics archive instead of ML Metadata
        previous_span = PreviousSpanStatistics(
            examples=example_gen.outputs["examples"], archive_root=kf.statistics_archive,
        ).with_id("previous_span_statistics")
        baseline_statistics = previous_span.outputs[BASELINE_STATISTICS_KEY]
        drift_validator_class, data_gate_class = kubeflow_validators.DistributionValidator, kubeflow_validators.DataGate
    distribution_validator = drift_validator_class(
        statistics=statistics_gen.outputs["statistics"],
        baseline_statistics=baseline_statistics,
        config=distribution_validator_config(drift_thresholds),
        include_split_pairs=[(split, split) for split in drift_splits])
    data_gate = data_gate_class(
        examples=example_gen.outputs["examples"],
        schema_anomalies=example_validator.outputs["anomalies"],
        drift_anomalies=distribution_validator.outputs["anomalies"],
        baseline_statistics=baseline_statistics)
    # On Kubeflow the span's statistics join the drift baselines once its data passed.
    archive_statistics = None if kf is None else ArchiveSpanStatistics(
        examples=example_gen.outputs["examples"], statistics=statistics_gen.outputs["statistics"],
        data_report=data_gate.outputs["data_report"], archive_root=kf.statistics_archive,
    ).with_id("archive_span_statistics")
    pair_gen = PairGen(
        examples=example_gen.outputs["examples"],
        data_report=data_gate.outputs["data_report"],
        config=pair_config)

    if kf is None:
        trainer = tfx.components.Trainer(
            module_file=trainer_module_file,
            examples=pair_gen.outputs["pairs"],
            train_args=tfx.proto.TrainArgs(num_steps=train_steps),
            eval_args=tfx.proto.EvalArgs(num_steps=eval_steps),
            custom_config={CONFIG_KEY: training_config.to_dict()})
    else:
        trainer = kubeflow_trainer.Trainer(
            examples=pair_gen.outputs["pairs"], run_fn=kf.trainer_run_fn, model=kf.parameters.model,
            train_steps=train_steps, eval_steps=eval_steps, training_config=training_config)

    if kf is None:
        latest_blessed_model = tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
            model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
            model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
        ).with_id("latest_blessed_model")
        evaluator = tfx.components.Evaluator(
            examples=pair_gen.outputs["pairs"],
            model=trainer.outputs["model"],
            baseline_model=latest_blessed_model.outputs["model"],
            eval_config=eval_config)
    else:   # the baseline is the model TF Serving serves: the newest blessed and infra-validated one
        latest_blessed_model = ServingModelBaseline(serving_dir=serving_dir).with_id("served_model")
        evaluator = kubeflow_evaluator.Evaluator(
            examples=pair_gen.outputs["pairs"],
            model=trainer.outputs["model"],
            baseline_model=latest_blessed_model.outputs["model"],
            slice_features=kf.eval_slice_features,
            thresholds=kf.parameters.blessing)

    infra_validator = None
    if kf is not None and kf.infra_validation is not None:
        infra_validator = kubeflow_infra_validator.InfraValidator(
            model=trainer.outputs["model"],
            examples=pair_gen.outputs["pairs"],
            serving_spec=kf.infra_validation.serving_spec,
            request_spec=kf.infra_validation.request_spec,
            validation_spec=kf.infra_validation.validation_spec)
    elif kf is None:
        logging.warning(INFRA_VALIDATION_SKIPPED)
    # TFX's Pusher, except that a model TF Serving already serves is not pushed again.
    pusher = Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        infra_blessing=infra_validator.outputs["blessing"] if infra_validator else None,
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_dir)))

    components = [component for component in (
        example_gen, statistics_gen, schema_gen, example_validator, previous_span, distribution_validator,
        data_gate, archive_statistics, pair_gen, trainer, latest_blessed_model, evaluator, infra_validator, pusher)
        if component is not None]
    # TFX's cache keys see no code: each node's key gets the fingerprint of the code it runs.
    code_fingerprint.attach(components)
    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=components,
        enable_cache=enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args,
    )
