"""create_pipeline(): wires tinyface's components and nothing else (settings: configs.py).

One graph for every place the pipeline runs: the nodes that differ between LocalDagRunner and
Kubeflow Pipelines v2 / Vertex come from the flavour passed in (pipeline/flavour.py;
pipeline/local_flavour.py and kubeflow/flavour.py); the edges are the same.
"""

from typing import Dict, List, Optional, Sequence, Tuple

from ml_metadata.proto import metadata_store_pb2
from tfx import v1 as tfx

from tinyface.components.face_example_gen.component import split_config
from tinyface.components.face_example_gen.spec import FaceIngestOptions
from tinyface.components.pair_gen.component import PairGen
from tinyface.components.served_model_pusher.component import Pusher
from tinyface.pipeline import code_fingerprint
from tinyface.pipeline.flavour import PipelineFlavour
from tinyface.data.degradation.pairs import PairConfig
from tinyface.validation.drift import distribution_validator_config
from tinyface.trainer.training.training_config import TrainingConfig


def create_pipeline(
    pipeline_name: str,
    pipeline_root: str,
    flavour: PipelineFlavour,
    data_root: str,
    ingest_options: FaceIngestOptions,
    use_spans: bool,
    schema_file: str,
    drift_thresholds: Dict[str, Tuple[str, float]],
    drift_splits: Sequence[str],
    pair_config: PairConfig,
    training_config: TrainingConfig,
    train_steps: int,
    eval_steps: int,
    serving_dir: str,
    train_buckets: int = 8,
    eval_buckets: int = 2,
    metadata_connection_config: Optional[metadata_store_pb2.ConnectionConfig] = None,
    beam_pipeline_args: Optional[List[str]] = None,
    enable_cache: bool = True,
) -> tfx.dsl.Pipeline:
    """The tinyface pipeline, its orchestrator-dependent nodes from `flavour` (on Kubeflow,
    data_root and train_steps may be RuntimeParameters)."""
    example_gen = flavour.example_gen(data_root, ingest_options, use_spans,
                                      split_config(train_buckets, eval_buckets))
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.ImportSchemaGen(schema_file=schema_file)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    previous_span, baseline_statistics = flavour.drift_baseline(example_gen, statistics_gen)
    distribution_validator = flavour.distribution_validator(
        statistics=statistics_gen.outputs["statistics"],
        baseline_statistics=baseline_statistics,
        config=distribution_validator_config(drift_thresholds),
        include_split_pairs=[(split, split) for split in drift_splits])
    data_gate = flavour.data_gate(
        examples=example_gen.outputs["examples"],
        schema_anomalies=example_validator.outputs["anomalies"],
        drift_anomalies=distribution_validator.outputs["anomalies"],
        baseline_statistics=baseline_statistics)
    after_data_gate = flavour.after_data_gate(example_gen, statistics_gen, data_gate)
    pair_gen = PairGen(
        examples=example_gen.outputs["examples"],
        data_report=data_gate.outputs["data_report"],
        config=pair_config)
    trainer = flavour.trainer(pair_gen.outputs["pairs"], training_config, train_steps, eval_steps)
    model_baseline = flavour.model_baseline()
    evaluator = flavour.evaluator(pair_gen.outputs["pairs"], trainer.outputs["model"],
                                  model_baseline.outputs["model"])
    infra_validator = flavour.infra_validator(trainer.outputs["model"], pair_gen.outputs["pairs"])
    # TFX's Pusher, except that a model TF Serving already serves is not pushed again.
    pusher = Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        infra_blessing=infra_validator.outputs["blessing"] if infra_validator else None,
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_dir)))

    components = [component for component in (
        example_gen, statistics_gen, schema_gen, example_validator, previous_span, distribution_validator,
        data_gate, after_data_gate, pair_gen, trainer, model_baseline, evaluator, infra_validator, pusher)
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
