"""The local flavour of the pipeline's nodes (LocalDagRunner, ML Metadata in SQLite).

TFX's own nodes as its templates use them: the ExampleGen driver resolves spans, resolvers find
the previous span's statistics and the latest blessed model in ML Metadata, the Trainer runs a
module file. No InfraValidator: no TF Serving binary is available locally to load the model.
"""

from absl import logging
from tfx import v1 as tfx
# DistributionValidator is not exported under tfx.v1 in TFX 1.16.
from tfx.components.distribution_validator.component import DistributionValidator

from tinyface.components.data_gate.component import DataGate
from tinyface.components.face_example_gen.component import FaceExampleGen
from tinyface.pipeline import resolvers
from tinyface.pipeline.flavour import PipelineFlavour
from tinyface.trainer.training.training_config import CONFIG_KEY

INFRA_VALIDATION_SKIPPED = ("InfraValidator skipped: no TF Serving binary is available locally to load the "
                            "model into (on Kubeflow it checks that TF Serving loads and answers before the push)")


class LocalFlavour(PipelineFlavour):

    def __init__(self, trainer_module_file: str, eval_config):
        self.trainer_module_file = trainer_module_file
        self.eval_config = eval_config

    def example_gen(self, data_root, ingest_options, use_spans, output_config):
        return FaceExampleGen(input_base=data_root, options=ingest_options, use_spans=use_spans,
                              output_config=output_config)

    def drift_baseline(self, example_gen, statistics_gen):
        previous_span = tfx.dsl.Resolver(
            strategy_class=resolvers.PreviousSpanStatisticsStrategy,
            examples=example_gen.outputs["examples"],
            statistics=tfx.dsl.Channel(
                type=tfx.types.standard_artifacts.ExampleStatistics,
                producer_component_id=statistics_gen.id, output_key="statistics"),
        ).with_id("previous_span_statistics")
        return previous_span, previous_span.outputs[resolvers.STATISTICS].as_optional()

    def distribution_validator(self, **kwargs):
        return DistributionValidator(**kwargs)

    def data_gate(self, **kwargs):
        return DataGate(**kwargs)

    def trainer(self, pairs, training_config, train_steps, eval_steps):
        return tfx.components.Trainer(
            module_file=self.trainer_module_file,
            examples=pairs,
            train_args=tfx.proto.TrainArgs(num_steps=train_steps),
            eval_args=tfx.proto.EvalArgs(num_steps=eval_steps),
            custom_config={CONFIG_KEY: training_config.to_dict()})

    def model_baseline(self):
        return tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
            model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
            model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
        ).with_id("latest_blessed_model")

    def evaluator(self, pairs, model, baseline_model):
        return tfx.components.Evaluator(examples=pairs, model=model, baseline_model=baseline_model,
                                        eval_config=self.eval_config)

    def infra_validator(self, model, pairs):
        logging.warning(INFRA_VALIDATION_SKIPPED)
        return None
