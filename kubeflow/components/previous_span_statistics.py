"""PreviousSpanStatistics: the drift baseline on Kubeflow, found in the span archive.

Takes the place of pipeline/resolvers.py's PreviousSpanStatisticsStrategy (which reads ML
Metadata; KFP v2 runs no resolvers): it outputs the archived statistics of the newest span
older than the current one, so a retried drifted span is never compared with itself. For the
first span it outputs an artifact marked unresolved (resolution.py), and DistributionValidator
then checks nothing, as locally. Only spans that passed the DataGate are in the archive
(ArchiveSpanStatistics writes them), so a drifted span never becomes the next one's baseline.
"""

import re

from absl import logging
from tfx import types
from tfx.dsl.components.base import base_component, base_executor, executor_spec
from tfx.types import artifact_utils, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from tfx.utils import io_utils

from tinyface.kubeflow import span_archive
from tinyface.kubeflow.components import resolution
from tinyface.kubeflow.components.face_example_gen import DATA_ROOT_PROPERTY

EXAMPLES_KEY = "examples"                         # this span's: its span and data root
BASELINE_STATISTICS_KEY = "baseline_statistics"   # the previous span's (output)
ARCHIVE_ROOT_KEY = "archive_root"
SOURCE_URI_PROPERTY = "tinyface_source_uri"


class PreviousSpanStatisticsSpec(ComponentSpec):
    PARAMETERS = {ARCHIVE_ROOT_KEY: ExecutionParameter(type=str)}
    INPUTS = {EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {BASELINE_STATISTICS_KEY: ChannelParameter(type=standard_artifacts.ExampleStatistics)}


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict, output_dict, exec_properties):
        examples = artifact_utils.get_single_instance(input_dict[EXAMPLES_KEY])
        baseline = artifact_utils.get_single_instance(output_dict[BASELINE_STATISTICS_KEY])
        archive = span_archive.SpanArchive(exec_properties[ARCHIVE_ROOT_KEY],
                                           examples.get_string_custom_property(DATA_ROOT_PROPERTY))
        previous = archive.newest_before(examples.span)
        if previous is None:
            logging.info("span %d is the first span of %s: no drift baseline", examples.span, archive.data_root)
            baseline.split_names = artifact_utils.encode_split_names([])
            resolution.mark(baseline, resolved=False)
            return
        # The manifest describes the archive entry; the artifact is the statistics alone.
        io_utils.copy_dir(previous.uri, baseline.uri,
                          deny_regex_patterns=["/" + re.escape(span_archive.MANIFEST) + "$"])
        baseline.span = previous.span
        baseline.split_names = previous.split_names
        baseline.set_string_custom_property(SOURCE_URI_PROPERTY, previous.source_uri)
        resolution.mark(baseline, resolved=True)
        logging.info("drift baseline for span %d: span %d (%s)", examples.span, previous.span, previous.source_uri)


class PreviousSpanStatistics(base_component.BaseComponent):
    SPEC_CLASS = PreviousSpanStatisticsSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, examples: types.BaseChannel, archive_root: str):
        super().__init__(spec=PreviousSpanStatisticsSpec(
            examples=examples, archive_root=archive_root,
            baseline_statistics=types.Channel(type=standard_artifacts.ExampleStatistics)))
