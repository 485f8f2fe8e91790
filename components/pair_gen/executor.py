"""PairGen executor: reads each split of the face examples, writes the pairs split by split."""

import os

import apache_beam as beam
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils

from tinyface.components.pair_gen import spec
from tinyface.beam.pairs import MakePairs

OUTPUT_FILE_PREFIX = "data_tfrecord"


class Executor(base_beam_executor.BaseBeamExecutor):

    def Do(self, input_dict, output_dict, exec_properties):
        examples = artifact_utils.get_single_instance(input_dict[spec.EXAMPLES_KEY])
        pairs = artifact_utils.get_single_instance(output_dict[spec.PAIRS_KEY])
        config = spec.pair_config_from_json(exec_properties[spec.PAIR_CONFIG_KEY])
        split_names = artifact_utils.decode_split_names(examples.split_names)
        pairs.split_names = artifact_utils.encode_split_names(split_names)

        with self._make_beam_pipeline() as pipeline:
            for split in split_names:
                _ = (
                    pipeline
                    | f"Read[{split}]" >> beam.io.ReadFromTFRecord(
                        os.path.join(artifact_utils.get_split_uri([examples], split), "*"))
                    | f"MakePairs[{split}]" >> MakePairs(config)
                    | f"Write[{split}]" >> beam.io.WriteToTFRecord(
                        os.path.join(artifact_utils.get_split_uri([pairs], split), OUTPUT_FILE_PREFIX),
                        file_name_suffix=".gz")
                )

        pairs.span = examples.span
        examples_utils.set_payload_format(pairs, examples_utils.get_payload_format(examples))
        examples_utils.set_file_format(pairs, "tfrecords_gzip")
