"""FaceExampleGen for Kubeflow: tinyface's ingestion, with the span chosen by the executor.

TFX compiles a FileBasedExampleGen with a driver hook (lifecycle.preCacheCheck) that picks the
span before the executor runs. Vertex runs that hook; the open-source KFP v2 backend does not,
and its executor would be handed the unresolved `span-{SPAN}` pattern. This variant is not a
FileBasedExampleGen, so no hook is compiled in, and its executor resolves the span itself with
TFX's own input processor, on both platforms: the newest span, or the one the `span` runtime
parameter names. It then runs tinyface's FaceExampleGen executor unchanged.

Without the hook KFP's cache cannot see new data under an unchanged data_root, so the compiler
(kubeflow/runner.py) turns caching off for this task.
"""

import os
from typing import Any, Dict

from tfx import types
from tfx.components.example_gen import input_processor
from tfx.components.example_gen import utils as example_gen_utils
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.proto import example_gen_pb2, range_config_pb2
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import proto_utils

from tinyface.components.face_example_gen import component as face_example_gen
from tinyface.components.face_example_gen import executor as face_example_gen_executor
from tinyface.components.face_example_gen.driver import tree_fingerprint
from tinyface.components.face_example_gen.spec import FaceIngestOptions
from tinyface.kubeflow.parameters import NEWEST_SPAN

REQUESTED_SPAN_KEY = "requested_span"        # exec property: the `span` runtime parameter
DATA_ROOT_PROPERTY = "tinyface_data_root"    # on the Examples artifact: where they were read from
SPLIT_NAME = "faces"                         # the one input split, named as FaceExampleGen names it


class FaceExampleGenSpec(standard_component_specs.FileBasedExampleGenSpec):
    PARAMETERS = {
        **standard_component_specs.FileBasedExampleGenSpec.PARAMETERS,
        REQUESTED_SPAN_KEY: ExecutionParameter(type=int),
    }


def resolve_span(exec_properties: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of `exec_properties` with the span resolved, as TFX's ExampleGen driver leaves them:
    the split pattern filled in, and span, version and input fingerprint set."""
    input_base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
    requested = int(exec_properties.get(REQUESTED_SPAN_KEY) or NEWEST_SPAN)
    if requested < 0:
        raise ValueError(f"span must be >= 0 ({NEWEST_SPAN}: the newest), got {requested}")
    input_config = example_gen_pb2.Input()
    proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY], input_config)
    range_config = None
    if requested != NEWEST_SPAN:
        range_config = range_config_pb2.RangeConfig(static_range=range_config_pb2.StaticRange(
            start_span_number=requested, end_span_number=requested))
    processor = input_processor.FileBasedInputProcessor(input_base, input_config.splits, range_config)
    span, version = processor.resolve_span_and_version()
    for split in input_config.splits:
        split.pattern = processor.get_pattern_for_span_version(split.pattern, span, version)
    resolved = dict(exec_properties)
    resolved[standard_component_specs.INPUT_CONFIG_KEY] = proto_utils.proto_to_json(input_config)
    resolved[example_gen_utils.SPAN_PROPERTY_NAME] = span
    resolved[example_gen_utils.VERSION_PROPERTY_NAME] = version
    # The same fingerprint tinyface's local driver records: every file under the span.
    resolved[example_gen_utils.FINGERPRINT_PROPERTY_NAME] = "\n".join(
        f"split:{split.name},{tree_fingerprint(os.path.join(input_base, split.pattern))}"
        for split in input_config.splits)
    return resolved


class Executor(face_example_gen_executor.Executor):

    def Do(self, input_dict, output_dict, exec_properties):
        exec_properties = resolve_span(exec_properties)
        super().Do(input_dict, output_dict, exec_properties)
        examples = artifact_utils.get_single_instance(output_dict[standard_component_specs.EXAMPLES_KEY])
        # The drift check keys its archive of span statistics by data root (kubeflow/span_archive.py).
        examples.set_string_custom_property(DATA_ROOT_PROPERTY,
                                            exec_properties[standard_component_specs.INPUT_BASE_KEY])


class FaceExampleGen(base_beam_component.BaseBeamComponent):
    """Reads faces from `input_base` (its `span-N` folder `span`, or the newest, with `use_spans`)."""

    SPEC_CLASS = FaceExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(self, input_base, options: FaceIngestOptions, use_spans: bool,
                 output_config: example_gen_pb2.Output, span=NEWEST_SPAN):
        pattern = face_example_gen.SPAN_PATTERN if use_spans else face_example_gen.NO_SPANS_PATTERN
        super().__init__(spec=FaceExampleGenSpec(
            input_base=input_base,
            input_config=example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name=SPLIT_NAME, pattern=pattern)]),
            output_config=output_config,
            custom_config=options.to_custom_config(),
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
            requested_span=span,
            examples=types.Channel(type=standard_artifacts.Examples)))
