"""The Kubeflow flavour of the pipeline's nodes (Kubeflow Pipelines v2 and Vertex AI).

KFP v2 runs no TFX resolvers and no ExampleGen driver, and its runtime parameters cannot sit
inside protos, so the nodes that need them are the variants in kubeflow/components/, running the
same executors: the ExampleGen resolves its span itself, the drift baseline comes from the span
statistics archive, the Trainer imports its run_fn from the pipeline image, the Evaluator builds
its EvalConfig from the runtime thresholds against the model TF Serving serves, and
InfraValidator checks the model in TF Serving before the push.
"""

from typing import Optional, Sequence

from tinyface.kubeflow.components import evaluator as kubeflow_evaluator
from tinyface.kubeflow.components import face_example_gen as kubeflow_example_gen
from tinyface.kubeflow.components import infra_validator as kubeflow_infra_validator
from tinyface.kubeflow.components import trainer as kubeflow_trainer
from tinyface.kubeflow.components import validators as kubeflow_validators
from tinyface.kubeflow.components.archive_span_statistics import ArchiveSpanStatistics
from tinyface.kubeflow.components.previous_span_statistics import (BASELINE_STATISTICS_KEY, PreviousSpanStatistics)
from tinyface.kubeflow.components.serving_model_baseline import ServingModelBaseline
from tinyface.kubeflow.infra_validation import InfraValidation
from tinyface.kubeflow.parameters import RuntimeParameters
from tinyface.pipeline.flavour import PipelineFlavour


class KubeflowFlavour(PipelineFlavour):

    def __init__(self, parameters: RuntimeParameters, trainer_run_fn: str, statistics_archive: str,
                 serving_dir: str, eval_slice_features: Sequence[str],
                 infra_validation: Optional[InfraValidation]):
        self.parameters = parameters                  # span, model and blessing thresholds, set per run
        self.trainer_run_fn = trainer_run_fn          # the Trainer's entry point as a module path in the image
        self.statistics_archive = statistics_archive  # remote root of the span statistics archive
        self.serving_dir = serving_dir                # the Pusher's base folder, whose newest model is the baseline
        self.eval_slice_features = tuple(eval_slice_features)
        self.infra_validation = infra_validation      # None: no InfraValidator (Vertex has no pods to start)

    def example_gen(self, data_root, ingest_options, use_spans, output_config):
        return kubeflow_example_gen.FaceExampleGen(
            input_base=data_root, options=ingest_options, use_spans=use_spans, output_config=output_config,
            span=self.parameters.span)

    def drift_baseline(self, example_gen, statistics_gen):
        del statistics_gen   # the archive holds the statistics of every span that passed
        previous_span = PreviousSpanStatistics(
            examples=example_gen.outputs["examples"], archive_root=self.statistics_archive,
        ).with_id("previous_span_statistics")
        return previous_span, previous_span.outputs[BASELINE_STATISTICS_KEY]

    def distribution_validator(self, **kwargs):
        return kubeflow_validators.DistributionValidator(**kwargs)

    def data_gate(self, **kwargs):
        return kubeflow_validators.DataGate(**kwargs)

    def after_data_gate(self, example_gen, statistics_gen, data_gate):
        # The span's statistics join the drift baselines once its data passed.
        return ArchiveSpanStatistics(
            examples=example_gen.outputs["examples"], statistics=statistics_gen.outputs["statistics"],
            data_report=data_gate.outputs["data_report"], archive_root=self.statistics_archive,
        ).with_id("archive_span_statistics")

    def trainer(self, pairs, training_config, train_steps, eval_steps):
        return kubeflow_trainer.Trainer(
            examples=pairs, run_fn=self.trainer_run_fn, model=self.parameters.model,
            train_steps=train_steps, eval_steps=eval_steps, training_config=training_config)

    def model_baseline(self):
        # The model TF Serving serves: the newest blessed and infra-validated one.
        return ServingModelBaseline(serving_dir=self.serving_dir).with_id("served_model")

    def evaluator(self, pairs, model, baseline_model):
        return kubeflow_evaluator.Evaluator(
            examples=pairs, model=model, baseline_model=baseline_model,
            slice_features=self.eval_slice_features, thresholds=self.parameters.blessing)

    def infra_validator(self, model, pairs):
        if self.infra_validation is None:
            return None
        return kubeflow_infra_validator.InfraValidator(
            model=model, examples=pairs,
            serving_spec=self.infra_validation.serving_spec,
            request_spec=self.infra_validation.request_spec,
            validation_spec=self.infra_validation.validation_spec)
