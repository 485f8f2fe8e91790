"""create_pipeline(): wires tinyface's components and nothing else (settings: configs.py)."""

from typing import Dict, List, Optional, Sequence, Tuple

from ml_metadata.proto import metadata_store_pb2
from tfx import v1 as tfx
# DistributionValidator is not exported under tfx.v1 in TFX 1.16.
from tfx.components.distribution_validator.component import DistributionValidator

from components.data_gate.component import DataGate
from components.face_example_gen.component import FaceExampleGen, split_config
from components.face_example_gen.spec import FaceIngestOptions
from components.pair_gen.component import PairGen
from pipeline import resolvers
from tinyface.data.pairs import PairConfig
from tinyface.validation.drift import distribution_validator_config
from trainer.training_config import CONFIG_KEY, TrainingConfig


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
    trainer_module_file: str,
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
) -> tfx.dsl.Pipeline:
    example_gen = FaceExampleGen(
        input_base=data_root, options=ingest_options, use_spans=use_spans,
        output_config=split_config(train_buckets, eval_buckets))
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.ImportSchemaGen(schema_file=schema_file)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    previous_span = tfx.dsl.Resolver(
        strategy_class=resolvers.PreviousSpanStatisticsStrategy,
        examples=example_gen.outputs["examples"],
        statistics=tfx.dsl.Channel(
            type=tfx.types.standard_artifacts.ExampleStatistics,
            producer_component_id=statistics_gen.id, output_key="statistics"),
    ).with_id("previous_span_statistics")
    baseline_statistics = previous_span.outputs[resolvers.STATISTICS].as_optional()
    distribution_validator = DistributionValidator(
        statistics=statistics_gen.outputs["statistics"],
        baseline_statistics=baseline_statistics,
        config=distribution_validator_config(drift_thresholds),
        include_split_pairs=[(split, split) for split in drift_splits])
    data_gate = DataGate(
        examples=example_gen.outputs["examples"],
        schema_anomalies=example_validator.outputs["anomalies"],
        drift_anomalies=distribution_validator.outputs["anomalies"],
        baseline_statistics=baseline_statistics)
    pair_gen = PairGen(
        examples=example_gen.outputs["examples"],
        data_report=data_gate.outputs["data_report"],
        config=pair_config)

    trainer = tfx.components.Trainer(
        module_file=trainer_module_file,
        examples=pair_gen.outputs["pairs"],
        train_args=tfx.proto.TrainArgs(num_steps=train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=eval_steps),
        custom_config={CONFIG_KEY: training_config.to_dict()})

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
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_dir)))

    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=[example_gen, statistics_gen, schema_gen, example_validator, previous_span,
                    distribution_validator, data_gate, pair_gen, trainer, latest_blessed_model,
                    evaluator, pusher],
        enable_cache=enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args,
    )
