"""Artifact types tinyface adds to TFX's standard ones."""

from tfx.types import artifact


class DataReport(artifact.Artifact):
    """The data report of one span (data_report.json/.txt): faces read and skipped, schema
    anomalies and drift. Published only when the data passed; downstream data components
    take it as an input, so they run only on data that passed."""

    TYPE_NAME = "tinyface.DataReport"
