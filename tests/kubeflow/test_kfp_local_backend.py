"""The test harness that runs compiled PipelineSpecs (kfp_local_backend.py), on a small KFP
pipeline of plain Python containers compiled by kfp's own compiler: the DAG order, what
flows between tasks, conditions, optional inputs and failures."""

import json
from typing import Optional

import pytest
from kfp import compiler, dsl

from tinyface.kubeflow import pipeline_spec

# Each container writes its argv (after the output path) as JSON to its output artifact.
RECORD_ARGS = ("import json, os, sys; os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True); "
               "json.dump(sys.argv[2:], open(sys.argv[1], 'w')); sys.exit(1 if 'fail' in sys.argv[2:] else 0)")


@dsl.container_component
def record(text: str, out: dsl.Output[dsl.Artifact]):
    return dsl.ContainerSpec(image="python:3.10", command=["python", "-c", RECORD_ARGS], args=[out.path, text])


@dsl.container_component
def join(out: dsl.Output[dsl.Artifact], first: dsl.Input[dsl.Artifact],
         second: Optional[dsl.Input[dsl.Artifact]] = None):
    return dsl.ContainerSpec(image="python:3.10", command=["python", "-c", RECORD_ARGS], args=[
        out.path, first.path, dsl.IfPresentPlaceholder(input_name="second", then=[second.path])])


@dsl.pipeline(name="harness-check")
def _pipeline(flag: str = "no", word: str = "fine"):
    first = record(text=word).set_caching_options(False)
    with dsl.If(flag == "yes"):
        second = record(text="inside")
        join(first=first.outputs["out"], second=second.outputs["out"])
    join(first=first.outputs["out"])
    failing = record(text="fail")
    join(first=failing.outputs["out"])


def _compiled(tmp_path):
    path = str(tmp_path / "pipeline.yaml")
    compiler.Compiler().compile(_pipeline, path, pipeline_parameters={})
    spec = pipeline_spec.read(path)
    spec.default_pipeline_root = str(tmp_path / "root")
    return spec


def _recorded(run, task):
    with open(run.artifact(task, "out").uri) as f:
        return json.load(f)


def test_tasks_run_in_order_with_their_inputs_conditions_and_failures(tmp_path, kfp_backend):
    spec = _compiled(tmp_path)
    backend = kfp_backend.LocalKfpBackend(kfp_backend.Mounts(bucket={}, image={}, env={}), str(tmp_path / "work"))

    run = backend.run(spec, {"word": "hello"}, run_id="no")
    assert _recorded(run, "record") == ["hello"]                          # the run's value reached the task
    assert run.state("condition-1") == kfp_backend.NOT_TRIGGERED          # flag keeps its default "no"
    assert not any(name.startswith("condition-1/") for name in run.tasks)
    # The optional input was not given: its IfPresent argument is left out.
    assert _recorded(run, "join-2") == [run.artifact("record", "out").uri]
    # A failing task stops what depends on it, and nothing else.
    assert run.state("record-3") == kfp_backend.FAILED
    assert run.state("join-3") == kfp_backend.SKIPPED
    assert not run.succeeded

    run = backend.run(spec, {"flag": "yes"}, run_id="yes")
    assert _recorded(run, "record") == ["fine"]                           # the spec's default
    assert run.state("condition-1") == kfp_backend.SUCCEEDED
    assert _recorded(run, "condition-1/record-2") == ["inside"]
    # Inside the condition the optional input is given: both paths reach the container.
    assert _recorded(run, "condition-1/join") == [run.artifact("record", "out").uri,
                                                    run.artifact("condition-1/record-2", "out").uri]


def test_conditions_in_the_cel_subset_the_sdk_writes(kfp_backend):
    values = {"pipelinechannel--n": 3, "pipelinechannel--s": "yes"}
    holds = kfp_backend.condition_holds
    assert holds("int(inputs.parameter_values['pipelinechannel--n']) > 2", values)
    assert not holds("inputs.parameter_values['pipelinechannel--s'] != 'yes'", values)
    assert holds("!(inputs.parameter_values['pipelinechannel--s'] == 'no') && "
                 "double(inputs.parameter_values['pipelinechannel--n']) == 3.0", values)
    with pytest.raises(NotImplementedError, match="outside the supported CEL subset"):
        holds("size(inputs.parameter_values['pipelinechannel--s']) > 1", values)
