"""DataGate's inputs and outputs."""

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec

from tinyface.components.artifacts import DataReport

EXAMPLES_KEY = "examples"
SCHEMA_ANOMALIES_KEY = "schema_anomalies"
DRIFT_ANOMALIES_KEY = "drift_anomalies"
BASELINE_STATISTICS_KEY = "baseline_statistics"
DATA_REPORT_KEY = "data_report"


class DataGateSpec(ComponentSpec):
    PARAMETERS = {}
    INPUTS = {
        EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        SCHEMA_ANOMALIES_KEY: ChannelParameter(type=standard_artifacts.ExampleAnomalies),
        DRIFT_ANOMALIES_KEY: ChannelParameter(type=standard_artifacts.ExampleAnomalies),
        # Only to name the span drift was measured against; absent for the first span.
        BASELINE_STATISTICS_KEY: ChannelParameter(type=standard_artifacts.ExampleStatistics, optional=True),
    }
    OUTPUTS = {
        DATA_REPORT_KEY: ChannelParameter(type=DataReport),
    }
