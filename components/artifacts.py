"""Artifact types tinyface adds to TFX's standard ones."""

from tfx.types import artifact


class DataReport(artifact.Artifact):
    """The data report of one span (data_report.json/.txt): faces read and skipped, schema
    anomalies and drift. Published only when the data passed; downstream data components
    take it as an input, so they run only on data that passed."""

    # On Kubeflow the type name is the class path TFX's entrypoint imports, and KFP allows only
    # "<namespace>.<Title>": tinyface/__init__.py exposes the class under that name.
    TYPE_NAME = "tinyface.DataReport"
