"""ArchiveSpanStatistics: puts a span's statistics into the span archive once its data passed.

The archive (kubeflow/span_archive.py) is what PreviousSpanStatistics reads the drift baseline
from. The task runs after the DataGate and takes its report as an input, so a span stopped for
drift or schema anomalies never runs it: its statistics never become the next span's baseline.
"""

import json
import os

from absl import logging
from tfx import types
from tfx.dsl.components.base import base_component, base_executor, executor_spec
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from tinyface.components.artifacts import DataReport
from tinyface.kubeflow import span_archive
from tinyface.kubeflow.components.face_example_gen import DATA_ROOT_PROPERTY
from tinyface.validation import data_report

EXAMPLES_KEY = "examples"
STATISTICS_KEY = "statistics"
DATA_REPORT_KEY = "data_report"
ARCHIVE_ROOT_KEY = "archive_root"


class ArchiveSpanStatisticsSpec(ComponentSpec):
    PARAMETERS = {ARCHIVE_ROOT_KEY: ExecutionParameter(type=str)}
    INPUTS = {
        EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        STATISTICS_KEY: ChannelParameter(type=standard_artifacts.ExampleStatistics),
        DATA_REPORT_KEY: ChannelParameter(type=DataReport),
    }
    OUTPUTS = {}


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict, output_dict, exec_properties):
        del output_dict
        examples = artifact_utils.get_single_instance(input_dict[EXAMPLES_KEY])
        statistics = artifact_utils.get_single_instance(input_dict[STATISTICS_KEY])
        report = artifact_utils.get_single_instance(input_dict[DATA_REPORT_KEY])
        report_path = os.path.join(report.uri, data_report.REPORT_JSON)
        with fileio.open(report_path) as f:
            if not json.load(f)["passed"]:
                # The DataGate fails on such data, so this is reached only if it was rewired.
                raise ValueError(f"{report_path}: span {examples.span} did not pass the DataGate; not archived")
        archive = span_archive.SpanArchive(exec_properties[ARCHIVE_ROOT_KEY],
                                           examples.get_string_custom_property(DATA_ROOT_PROPERTY))
        entry = archive.put(examples.span, statistics.uri, statistics.split_names)
        logging.info("archived the statistics of span %d as %s", entry.span, entry.uri)


class ArchiveSpanStatistics(base_component.BaseComponent):
    SPEC_CLASS = ArchiveSpanStatisticsSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, examples: types.BaseChannel, statistics: types.BaseChannel,
                 data_report: types.BaseChannel, archive_root: str):
        super().__init__(spec=ArchiveSpanStatisticsSpec(
            examples=examples, statistics=statistics, data_report=data_report, archive_root=archive_root))
