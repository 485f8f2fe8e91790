"""What the compiler adds to the PipelineSpec TFX's KubeflowV2DagRunner builds, and how the
result is written and read back.

- Defaults: TFX puts runtime parameters' defaults only into a PipelineJob's runtimeConfig
  (Vertex's JSON job), not into the spec itself; KFP v2 reads defaults from the spec's root
  inputDefinitions, and without them every run would have to give every parameter.
- Pipeline root: TFX writes it only into the PipelineJob's runtimeConfig too; in the spec's
  defaultPipelineRoot a KFP v2 run uses it instead of KFP's own default (a minio:// root, whose
  URIs TFX's executors, reading through tf.io.gfile, cannot open).
- Caching: KFP v2 reuses a task's outputs when its inputs and parameters are unchanged. A task
  that reads state outside its inputs (new span folders, the served model) must not be cached.
- Files: `.yaml`/`.yml` holds the PipelineSpec, which both KFP v2 (upload) and Vertex accept;
  `.json` holds Vertex's PipelineJob (the spec plus a runtimeConfig with the pipeline root).
"""

import json
from typing import Any, Dict, Iterable, Mapping

import yaml
from google.protobuf import json_format, struct_pb2
from kfp.pipeline_spec import pipeline_spec_pb2

from tinyface.data.errors import BadInput

YAML_SUFFIXES = (".yaml", ".yml")
JSON_SUFFIX = ".json"


def set_parameter_defaults(spec: pipeline_spec_pb2.PipelineSpec, defaults: Mapping[str, Any]) -> None:
    """Writes each default into the root's parameter definition and marks it optional."""
    parameters = spec.root.input_definitions.parameters
    for name, value in defaults.items():
        if name not in parameters:
            raise ValueError(f"runtime parameter {name!r} is not in the compiled spec")
        parameters[name].default_value.CopyFrom(_value(value))
        parameters[name].is_optional = True


def _value(value) -> struct_pb2.Value:
    result = struct_pb2.Value()
    if isinstance(value, bool):
        result.bool_value = value
    elif isinstance(value, (int, float)):
        result.number_value = value
    else:
        result.string_value = str(value)
    return result


def set_default_pipeline_root(spec: pipeline_spec_pb2.PipelineSpec, pipeline_root: str) -> None:
    spec.default_pipeline_root = pipeline_root


def disable_cache(spec: pipeline_spec_pb2.PipelineSpec, task_names: Iterable[str]) -> None:
    tasks = spec.root.dag.tasks
    for name in task_names:
        if name not in tasks:
            raise ValueError(f"task {name!r} is not in the compiled spec")
        tasks[name].caching_options.enable_cache = False


def check_output_path(path: str) -> None:
    if not path.endswith((*YAML_SUFFIXES, JSON_SUFFIX)):
        raise ValueError(f"{path}: the output must end in .yaml or .yml (KFP v2 and Vertex) or .json "
                         f"(a Vertex PipelineJob)")


def write(path: str, spec: pipeline_spec_pb2.PipelineSpec, job: Dict[str, Any]) -> None:
    """Writes `spec` as YAML, or the PipelineJob `job` (with `spec` in it) as JSON."""
    check_output_path(path)
    spec_dict = json_format.MessageToDict(spec)
    if path.endswith(YAML_SUFFIXES):
        text = _yaml_header(spec) + yaml.safe_dump(spec_dict, sort_keys=True)
    else:
        text = json.dumps({**job, "pipelineSpec": spec_dict}, indent=2, sort_keys=True)
    with open(path, "w") as f:
        f.write(text + ("" if text.endswith("\n") else "\n"))


def _yaml_header(spec: pipeline_spec_pb2.PipelineSpec) -> str:
    lines = ["# PIPELINE DEFINITION", f"# Name: {spec.pipeline_info.name}", f"# Compiled by: {spec.sdk_version}",
             "# Inputs:"]
    for name, parameter in sorted(spec.root.input_definitions.parameters.items()):
        kind = pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name(parameter.parameter_type)
        default = f" [Default: {default_text(parameter)}]" if parameter.HasField("default_value") else " [required]"
        lines.append(f"#    {name}: {kind}{default}")
    return "\n".join(lines) + "\n"


def default_text(parameter) -> str:
    """A parameter's default as JSON text (integers without a decimal point)."""
    value = json_format.MessageToDict(parameter.default_value)
    if parameter.parameter_type == pipeline_spec_pb2.ParameterType.NUMBER_INTEGER:
        value = int(value)
    return json.dumps(value)


_PYTHON_TYPES = {
    pipeline_spec_pb2.ParameterType.STRING: str,
    pipeline_spec_pb2.ParameterType.NUMBER_INTEGER: int,
    pipeline_spec_pb2.ParameterType.NUMBER_DOUBLE: float,
}


def parameter_types(spec: pipeline_spec_pb2.PipelineSpec) -> Dict[str, type]:
    """{runtime parameter: int, float or str} as the spec declares them."""
    return {name: _PYTHON_TYPES[parameter.parameter_type]
            for name, parameter in spec.root.input_definitions.parameters.items()}


def required_parameters(spec: pipeline_spec_pb2.PipelineSpec):
    """The runtime parameters without a default: every run must give them."""
    return sorted(name for name, parameter in spec.root.input_definitions.parameters.items()
                  if not parameter.HasField("default_value"))


def read(path: str) -> pipeline_spec_pb2.PipelineSpec:
    """The PipelineSpec in a file `write` wrote, parsed with KFP's own proto (BadInput if it is not one)."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as error:
        raise BadInput(path, f"cannot read the pipeline file: {error.strerror or error}") from None
    try:
        document = json.loads(text)["pipelineSpec"] if path.endswith(JSON_SUFFIX) else yaml.safe_load(text)
        return json_format.ParseDict(document, pipeline_spec_pb2.PipelineSpec())
    except (ValueError, KeyError, TypeError, yaml.YAMLError, json_format.ParseError) as error:
        raise BadInput(path, f"not a KFP pipeline spec: {str(error).splitlines()[0] if str(error) else error!r}") from None
