"""DistributionValidator and DataGate for Kubeflow: TFX's and tinyface's own, taking a drift
baseline that PreviousSpanStatistics may have marked unresolved (the first span).

Dropping that artifact before the executor runs leaves exactly what a LocalDagRunner hands them
for the first span: no baseline, so DistributionValidator checks no drift and DataGate reports
"not checked".

DistributionValidator also needs its config as a proto: its spec marks the property
`use_proto`, so the local orchestrator hands the executor a DistributionValidatorConfig, while
TFX 1.16's KFP v2 entrypoint hands over the JSON text the compiler wrote (TFX's executor then
fails on `str.default_slice_config`).
"""

from tfx.components.distribution_validator import component as distribution_validator_component
from tfx.components.distribution_validator import executor as distribution_validator_executor
from tfx.dsl.components.base import executor_spec
from tfx.proto import distribution_validator_pb2
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from tinyface.components.data_gate import component as data_gate_component
from tinyface.components.data_gate import executor as data_gate_executor
from tinyface.components.data_gate import spec as data_gate_spec
from tinyface.kubeflow.components import resolution


def with_config_proto(exec_properties):
    """A copy of the exec properties with distribution_validator_config as the proto."""
    config = exec_properties.get(standard_component_specs.DISTRIBUTION_VALIDATOR_CONFIG_KEY)
    if not isinstance(config, str):
        return exec_properties
    return {**exec_properties, standard_component_specs.DISTRIBUTION_VALIDATOR_CONFIG_KEY: proto_utils.json_to_proto(
        config, distribution_validator_pb2.DistributionValidatorConfig())}


class DistributionValidatorExecutor(distribution_validator_executor.Executor):

    def Do(self, input_dict, output_dict, exec_properties):
        super().Do(resolution.without_unresolved(input_dict, standard_component_specs.BASELINE_STATISTICS_KEY),
                   output_dict, with_config_proto(exec_properties))


class DataGateExecutor(data_gate_executor.Executor):

    def Do(self, input_dict, output_dict, exec_properties):
        super().Do(resolution.without_unresolved(input_dict, data_gate_spec.BASELINE_STATISTICS_KEY),
                   output_dict, exec_properties)


class DistributionValidator(distribution_validator_component.DistributionValidator):
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(DistributionValidatorExecutor)


class DataGate(data_gate_component.DataGate):
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(DataGateExecutor)
