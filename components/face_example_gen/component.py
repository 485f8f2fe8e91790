"""FaceExampleGen: TFX's FileBasedExampleGen with a face-dataset executor and driver.

Being a FileBasedExampleGen keeps spans ({SPAN} in the pattern), range configs, caching by
input fingerprint and Kubeflow's ExampleGen driver working as TFX users expect.
"""

from typing import Optional

from tfx.components import FileBasedExampleGen
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2, range_config_pb2

from tinyface.components.face_example_gen import driver, executor
from tinyface.components.face_example_gen.spec import FaceIngestOptions
from tinyface import features

# A span is a folder under input_base; without spans the data is input_base itself.
NO_SPANS_PATTERN = "."
SPAN_PATTERN = "span-{SPAN}"


def split_config(train_buckets=8, eval_buckets=2):
    """Train/eval by a hash of the stable face id: the same face always lands in the same split."""
    return example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(
        splits=[
            example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=train_buckets),
            example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=eval_buckets),
        ],
        partition_feature_name=features.FACE_ID))


class FaceExampleGen(FileBasedExampleGen):
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)
    DRIVER_CLASS = driver.FaceDataDriver

    def __init__(self,
                 input_base: str,
                 options: FaceIngestOptions,
                 use_spans: bool = False,
                 output_config: Optional[example_gen_pb2.Output] = None,
                 range_config: Optional[range_config_pb2.RangeConfig] = None):
        """Reads faces from `input_base` (or its newest `span-N` folder when `use_spans`)."""
        pattern = SPAN_PATTERN if use_spans else NO_SPANS_PATTERN
        super().__init__(
            input_base=input_base,
            input_config=example_gen_pb2.Input(
                splits=[example_gen_pb2.Input.Split(name="faces", pattern=pattern)]),
            output_config=output_config or split_config(),
            custom_config=options.to_custom_config(),
            range_config=range_config,
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
        )
