"""DataGate executor: reads the three upstream artifacts, writes the report, passes or stops."""

import os

from absl import logging
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.components.base import base_executor
from tfx.dsl.io import fileio
from tfx.types import artifact_utils

from tinyface.components.data_gate import spec
from tinyface.components.face_example_gen.executor import DATA_FORMAT_PROPERTY
from tinyface.validation import data_report
from tinyface.data.ingestion import ingestion_summary

ANOMALIES_FILE = "SchemaDiff.pb"   # the file name ExampleValidator and DistributionValidator write


class DataRejected(RuntimeError):
    """The data report did not pass; the message lists every reason."""


def _read_anomalies(path):
    anomalies = anomalies_pb2.Anomalies()
    with fileio.open(path, "rb") as f:
        anomalies.ParseFromString(f.read())
    return anomalies


def _anomalies_by_split(artifact, prefix):
    """{split or split pair: {feature: description}} from an anomalies artifact's folders."""
    out = {}
    if not fileio.exists(artifact.uri):
        return out
    for entry in sorted(fileio.listdir(artifact.uri)):
        entry = entry.rstrip("/")
        path = os.path.join(artifact.uri, entry, ANOMALIES_FILE)
        if entry.startswith(prefix) and fileio.exists(path):
            out[entry[len(prefix):]] = data_report.anomalies_by_feature(_read_anomalies(path))
    return out


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict, output_dict, exec_properties):
        examples = artifact_utils.get_single_instance(input_dict[spec.EXAMPLES_KEY])
        with fileio.open(os.path.join(examples.uri, ingestion_summary.FILE_NAME)) as f:
            summary = ingestion_summary.IngestionSummary.from_json(f.read())
        baseline = input_dict.get(spec.BASELINE_STATISTICS_KEY) or []
        report = data_report.DataReport(
            data_root=f"span {examples.span} ({examples.uri})",
            data_format=examples.get_string_custom_property(DATA_FORMAT_PROPERTY),
            ingestion=summary,
            schema_anomalies=_anomalies_by_split(
                artifact_utils.get_single_instance(input_dict[spec.SCHEMA_ANOMALIES_KEY]), "Split-"),
            drift={f"split pair {pair}": anomalies for pair, anomalies in _anomalies_by_split(
                artifact_utils.get_single_instance(input_dict[spec.DRIFT_ANOMALIES_KEY]), "SplitPair-").items()},
            baseline=f"span {baseline[0].span} ({baseline[0].uri})" if baseline else None,
        )
        output = artifact_utils.get_single_instance(output_dict[spec.DATA_REPORT_KEY])
        fileio.makedirs(output.uri)
        with fileio.open(os.path.join(output.uri, data_report.REPORT_JSON), "w") as f:
            f.write(report.to_json())
        with fileio.open(os.path.join(output.uri, data_report.REPORT_TEXT), "w") as f:
            f.write(report.to_text())
        output.set_int_custom_property("passed", int(report.passed))
        output.set_string_custom_property("drift_verdict", report.drift_verdict)
        logging.info("%s", report.to_text())
        if not report.passed:
            # Failing the execution keeps this report unpublished and stops every downstream node.
            raise DataRejected("data rejected before training: " + "; ".join(report.problems()))
