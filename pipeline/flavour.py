"""PipelineFlavour: the nodes that differ between where the pipeline runs.

create_pipeline() wires one graph. Most nodes are the same everywhere; a few cannot run on
Kubeflow Pipelines v2 as they run locally (TFX resolvers, the ExampleGen driver, values inside
protos chosen per run, InfraValidator's TF Serving), so each place the pipeline runs supplies
those nodes through this interface: pipeline/local_flavour.py for LocalDagRunner,
kubeflow/flavour.py for Kubeflow and Vertex. Their edges are the same.
"""

import abc
from typing import Optional, Tuple

from tfx.dsl.components.base.base_node import BaseNode
from tfx.types import Channel

from tinyface.components.face_example_gen.spec import FaceIngestOptions
from tinyface.trainer.training.training_config import TrainingConfig


class PipelineFlavour(abc.ABC):
    """Builds the nodes whose implementation depends on the orchestrator."""

    @abc.abstractmethod
    def example_gen(self, data_root, ingest_options: FaceIngestOptions, use_spans: bool, output_config) -> BaseNode:
        """FaceExampleGen: reads the span of faces under data_root."""

    @abc.abstractmethod
    def drift_baseline(self, example_gen: BaseNode, statistics_gen: BaseNode) -> Tuple[BaseNode, Channel]:
        """(the node that finds the previous span's statistics, its statistics channel)."""

    @abc.abstractmethod
    def distribution_validator(self, **kwargs) -> BaseNode:
        """TFX's DistributionValidator with kwargs, or its equivalent."""

    @abc.abstractmethod
    def data_gate(self, **kwargs) -> BaseNode:
        """DataGate (components/data_gate) with kwargs, or its equivalent."""

    def after_data_gate(self, example_gen: BaseNode, statistics_gen: BaseNode,
                        data_gate: BaseNode) -> Optional[BaseNode]:
        """A node run once a span's data passed, or None (the default)."""
        del example_gen, statistics_gen, data_gate
        return None

    @abc.abstractmethod
    def trainer(self, pairs: Channel, training_config: TrainingConfig, train_steps, eval_steps: int) -> BaseNode:
        """The Trainer, fitting training_config's model on the pairs."""

    @abc.abstractmethod
    def model_baseline(self) -> BaseNode:
        """The node whose outputs["model"] is the model a candidate must not regress against."""

    @abc.abstractmethod
    def evaluator(self, pairs: Channel, model: Channel, baseline_model: Channel) -> BaseNode:
        """TFX's Evaluator blessing `model` against the floors and `baseline_model`."""

    def infra_validator(self, model: Channel, pairs: Channel) -> Optional[BaseNode]:
        """InfraValidator gating the push, or None (the default: no TF Serving to check in)."""
        del model, pairs
        return None
