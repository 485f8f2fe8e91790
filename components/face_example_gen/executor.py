"""FaceExampleGen executor: TFX's ExampleGen executor over tinyface.beam.ingest.

It adds to the base executor what a face dataset needs: the ingestion summary (faces read,
faces skipped and why) written beside the splits and onto the artifact, and the checks that
make a bad run fail instead of publishing half a dataset (no faces at all; strict mode).
"""

import os

import apache_beam as beam
from absl import logging
from tfx.components.example_gen import utils as example_gen_utils
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from tinyface.components.face_example_gen.spec import AUTO_FORMAT, FaceIngestOptions
from tinyface.beam.ingest import ReadFaces, SummarizeIngestion
from tinyface.data import files
from tinyface.data.ingestion.readers.detect import detect_format
from tinyface.data.ingestion import ingestion_summary

FACES_READ_PROPERTY = "faces_read"
FACES_SKIPPED_PROPERTY = "faces_skipped"
DATA_FORMAT_PROPERTY = "data_format"


class Executor(BaseExampleGenExecutor):

    def GetInputSourceToExamplePTransform(self):
        root, data_format, options, summary_path = (
            self._root, self._data_format, self._options, self._summary_path)

        @beam.ptransform_fn
        def _ReadSpanFolder(pipeline, exec_properties, split_pattern):  # pylint: disable=invalid-name
            del exec_properties, split_pattern  # resolved once in Do(): FaceExampleGen has one input split
            outputs = pipeline | "ReadFaces" >> ReadFaces(
                root, data_format, dataset=options.dataset, hr_size=options.hr_size, margin=options.margin)
            _ = outputs | "SummarizeIngestion" >> SummarizeIngestion(summary_path)
            return outputs["examples"]

        return _ReadSpanFolder

    def Do(self, input_dict, output_dict, exec_properties):
        examples = artifact_utils.get_single_instance(output_dict[standard_component_specs.EXAMPLES_KEY])
        self._summary_path = os.path.join(examples.uri, ingestion_summary.FILE_NAME)
        options = self._options = FaceIngestOptions.from_custom_config_json(
            exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY])
        input_config = example_gen_pb2.Input()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY], input_config)
        # The driver has already put the resolved span into the split's pattern.
        self._root = files.normalised(os.path.join(
            exec_properties[standard_component_specs.INPUT_BASE_KEY], input_config.splits[0].pattern))
        self._data_format = (detect_format(self._root) if options.data_format == AUTO_FORMAT
                             else options.data_format)
        super().Do(input_dict, output_dict, exec_properties)
        # The driver resolved span/version into exec properties; put them on the artifact here
        # too, since under LocalDagRunner the driver's own artifact update is not published.
        examples.span = int(exec_properties.get(example_gen_utils.SPAN_PROPERTY_NAME) or 0)
        version = exec_properties.get(example_gen_utils.VERSION_PROPERTY_NAME)
        if version is not None:
            examples.version = int(version)

        with fileio.open(self._summary_path) as f:
            summary = ingestion_summary.IngestionSummary.from_json(f.read())
        examples.set_int_custom_property(FACES_READ_PROPERTY, summary.faces_read)
        examples.set_int_custom_property(FACES_SKIPPED_PROPERTY, summary.faces_skipped)
        examples.set_string_custom_property(DATA_FORMAT_PROPERTY, self._data_format)
        for message in summary.skipped:
            logging.warning("skipped: %s", message)
        logging.info("FaceExampleGen read %d faces, skipped %d", summary.faces_read, summary.faces_skipped)
        # Raising here fails the execution, so TFX publishes none of its outputs.
        if options.strict and summary.strict_failure():
            raise BadInputError(summary.strict_failure())
        if summary.faces_read == 0:
            detail = f"; first problem: {summary.skipped[0]}" if summary.skipped else ""
            raise BadInputError(f"no faces could be read ({summary.faces_skipped} bad records){detail}")


class BadInputError(RuntimeError):
    """Raised by the executor to fail the run; carries the one-line BadInput message."""

