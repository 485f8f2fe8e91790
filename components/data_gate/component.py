"""DataGate: combines ExampleGen's ingestion summary, ExampleValidator's schema anomalies and
DistributionValidator's drift anomalies into one data report, and fails the run (so nothing
downstream runs) when the report does not pass."""

from typing import Optional

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec

from tinyface.components.artifacts import DataReport
from tinyface.components.data_gate import executor, spec


class DataGate(base_component.BaseComponent):
    SPEC_CLASS = spec.DataGateSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self,
                 examples: types.BaseChannel,
                 schema_anomalies: types.BaseChannel,
                 drift_anomalies: types.BaseChannel,
                 baseline_statistics: Optional[types.BaseChannel] = None):
        super().__init__(spec=spec.DataGateSpec(
            examples=examples,
            schema_anomalies=schema_anomalies,
            drift_anomalies=drift_anomalies,
            baseline_statistics=baseline_statistics,
            data_report=types.Channel(type=DataReport)))
