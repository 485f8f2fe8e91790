"""Runs a compiled KFP v2 PipelineSpec on this machine, task by task, as the KFP v2 backend does.

For each task of the DAG (and of the DAGs nested in it, e.g. by dsl.If), in dependency order: the parameters from the run's values and
the spec's defaults and constants, the input artifacts (URI and metadata) from the upstream
tasks' outputs, output URIs under the pipeline root; then the container's own command and
args from the spec with the placeholders filled in by kfp.local, run as a process whose
output is the task's log; then the artifacts' metadata read back from the executor output
file the task wrote. A failed task stops every task downstream of it; a task whose trigger
condition is false does not run; optional inputs whose producer did not run are left out.

Test glue only: it knows nothing of tinyface's pipeline. Where it must behave differently from
the real backend, one comment starting "Backend difference:" says so.
"""

import concurrent.futures
import dataclasses
import os
import re
import subprocess
import sys
import time
import uuid
from typing import Any, Dict, List, Mapping, Optional, Sequence

from google.protobuf import json_format, struct_pb2
from kfp.local import executor_input_utils, executor_output_utils, placeholder_utils
from kfp.pipeline_spec import pipeline_spec_pb2

SUCCEEDED, FAILED, SKIPPED, NOT_TRIGGERED = "SUCCEEDED", "FAILED", "SKIPPED", "NOT_TRIGGERED"
_ALL_UPSTREAM_COMPLETED = pipeline_spec_pb2.PipelineTaskSpec.TriggerPolicy.TriggerStrategy.ALL_UPSTREAM_TASKS_COMPLETED


@dataclasses.dataclass(frozen=True)
class Mounts:
    """What stands in, on this machine, for what a pod of the cluster sees.

    bucket: {remote prefix (e.g. gs://bucket): local folder}; image: {folder inside the
    pipeline image: folder of this machine holding the same files}; env: the pod's environment.
    """
    bucket: Mapping[str, str]
    image: Mapping[str, str]
    env: Mapping[str, str]

    def local(self, value: str) -> str:
        # Backend difference: the bucket is a local folder, like Vertex's Cloud Storage FUSE
        # mount (/gcs/<bucket>); every remote URI in the task's command, constants included, is
        # rewritten to it, so the executors read and write through tf.io.gfile and Beam's local
        # filesystem instead of the bucket's client.
        for remote, folder in self.bucket.items():
            value = value.replace(remote.rstrip("/"), folder.rstrip("/"))
        return value

    def in_image(self, value: str) -> str:
        # Backend difference: no pipeline image is pulled; a path inside it (a parameter that
        # is a whole path, such as the schema file) is read from this machine's copy.
        for image_dir, folder in self.image.items():
            if value == image_dir or value.startswith(image_dir.rstrip("/") + "/"):
                return folder.rstrip("/") + value[len(image_dir.rstrip("/")):]
        return value


@dataclasses.dataclass
class TaskRun:
    name: str
    state: str
    log_path: Optional[str] = None
    outputs: Dict[str, pipeline_spec_pb2.RuntimeArtifact] = dataclasses.field(default_factory=dict)
    output_parameters: Dict[str, Any] = dataclasses.field(default_factory=dict)
    reason: str = ""
    seconds: float = 0.0

    def log(self) -> str:
        if not self.log_path:
            return ""
        with open(self.log_path, errors="replace") as f:
            return f.read()


@dataclasses.dataclass
class PipelineRun:
    run_id: str
    pipeline_root: str            # the local folder standing in for the remote pipeline root
    parameters: Dict[str, Any]
    tasks: Dict[str, TaskRun]

    def state(self, task: str) -> str:
        return self.tasks[task].state

    def artifact(self, task: str, key: str) -> pipeline_spec_pb2.RuntimeArtifact:
        return self.tasks[task].outputs[key]

    def metadata(self, task: str, key: str) -> Dict[str, Any]:
        return json_format.MessageToDict(self.artifact(task, key).metadata)

    @property
    def succeeded(self) -> bool:
        return all(task.state in (SUCCEEDED, NOT_TRIGGERED) for task in self.tasks.values())


def run_parameters(spec: pipeline_spec_pb2.PipelineSpec, values: Mapping[str, Any]) -> Dict[str, Any]:
    """The run's parameters: the given values over the spec's defaults; an unknown name or a
    missing required parameter is refused before anything runs, as KFP refuses to create the run."""
    definitions = spec.root.input_definitions.parameters
    unknown = sorted(set(values) - set(definitions))
    if unknown:
        raise ValueError(f"unknown pipeline parameters: {', '.join(unknown)}")
    result = {}
    for name, definition in definitions.items():
        if name in values:
            result[name] = values[name]
        elif definition.HasField("default_value"):
            result[name] = json_format.MessageToDict(definition.default_value)
        elif not definition.is_optional:
            raise ValueError(f"pipeline parameter {name} is required and has no default")
    return result


def topological_order(dag: pipeline_spec_pb2.DagSpec) -> List[str]:
    """The tasks, each after every task it depends on (ties by name, so runs are repeatable)."""
    upstream = {name: set(_upstream(task)) for name, task in dag.tasks.items()}
    order, done = [], set()
    while len(order) < len(upstream):
        ready = sorted(name for name, needs in upstream.items() if name not in done and needs <= done)
        if not ready:
            raise ValueError(f"the DAG has a cycle among {sorted(set(upstream) - done)}")
        order.append(ready[0])
        done.add(ready[0])
    return order


def _upstream(task: pipeline_spec_pb2.PipelineTaskSpec) -> List[str]:
    names = set(task.dependent_tasks)
    names.update(spec.task_output_artifact.producer_task for spec in task.inputs.artifacts.values()
                 if spec.HasField("task_output_artifact"))
    names.update(spec.task_output_parameter.producer_task for spec in task.inputs.parameters.values()
                 if spec.HasField("task_output_parameter"))
    return sorted(names)


def condition_holds(condition: str, parameter_values: Mapping[str, Any]) -> bool:
    """A task's trigger condition, in the subset of CEL the KFP SDK writes (comparisons of
    inputs.parameter_values['...'], int()/double() casts, &&, ||, !)."""
    # Backend difference: the backend evaluates full CEL; this translates the SDK's subset to a
    # Python expression and refuses anything outside it.
    expression = condition.replace("inputs.parameter_values", "_values")
    expression = re.sub(r"&&", " and ", expression)
    expression = re.sub(r"\|\|", " or ", expression)
    expression = re.sub(r"!(?!=)", " not ", expression)
    expression = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", expression))
    names = set(re.findall(r"[A-Za-z_]\w*", re.sub(r"'[^']*'|\"[^\"]*\"", "", expression)))
    if not names <= {"_values", "int", "double", "string", "and", "or", "not", "True", "False"}:
        raise NotImplementedError(f"trigger condition {condition!r} is outside the supported CEL subset")
    allowed = {"_values": dict(parameter_values), "int": int, "double": float, "string": str,
               "__builtins__": {}}
    return bool(eval(expression, allowed))   # noqa: S307 - a condition from our own compiled spec


class LocalKfpBackend:
    """Runs PipelineSpecs with `mounts`; `work_dir` holds the per-task scratch and the logs."""

    def __init__(self, mounts: Mounts, work_dir: str, parallel_tasks: int = 2, python: str = sys.executable):
        self.mounts = mounts
        self.parallel_tasks = parallel_tasks
        self.work_dir = work_dir
        self.python = python

    def run(self, spec: pipeline_spec_pb2.PipelineSpec, parameters: Mapping[str, Any],
            run_id: Optional[str] = None, reuse: Optional[PipelineRun] = None,
            reuse_tasks: Sequence[str] = ()) -> PipelineRun:
        """Runs `spec` with the run parameters `parameters`; the tasks named in `reuse_tasks`
        do not run but answer with their outputs in the earlier run `reuse`."""
        values = run_parameters(spec, parameters)
        run_id = run_id or f"run-{uuid.uuid4().hex[:8]}"
        pipeline_root = self.mounts.local(spec.default_pipeline_root)
        # Backend difference: the output URIs follow KFP v2's layout
        # <pipeline root>/<run id>/<task>/<output key>, with the run id chosen here.
        run = PipelineRun(run_id, pipeline_root, values, {})
        # Backend difference: KFP's cache answers a task from an earlier execution when its
        # component, inputs and parameters are the same; here the test names the tasks to reuse.
        for name in reuse_tasks:
            if reuse is None or reuse.tasks[name].state != SUCCEEDED:
                raise ValueError(f"task {name} did not succeed in the run to reuse")
            run.tasks[name] = dataclasses.replace(reuse.tasks[name], reason=f"reused from {reuse.run_id}")
        self._run_dag(spec, _Scope("", spec.root.dag, values, {}), run, self.parallel_tasks)
        return run

    def _run_dag(self, spec, scope: "_Scope", run: PipelineRun, parallel: int) -> None:
        upstream = {name: {scope.prefix + producer for producer in _upstream(task)}
                    for name, task in scope.dag.tasks.items()}
        topological_order(scope.dag)   # refuses a cycle before anything runs
        # Backend difference: at most `parallel` tasks run at once (one inside a nested DAG);
        # the backend starts every task that is ready.
        with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
            running = {}
            while any(scope.prefix + name not in run.tasks for name in upstream):
                for name in sorted(upstream):
                    path = scope.prefix + name
                    if path not in run.tasks and path not in running.values() and upstream[name] <= set(run.tasks):
                        running[pool.submit(self._run_task, spec, scope, name, run)] = path
                done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    run.tasks[running.pop(future)] = future.result()

    def _run_task(self, spec, scope: "_Scope", name: str, run: PipelineRun) -> TaskRun:
        task = scope.dag.tasks[name]
        path = scope.prefix + name
        upstream_states = {producer: run.tasks[scope.prefix + producer].state for producer in _upstream(task)}
        blocked = sorted(producer for producer, state in upstream_states.items() if state in (FAILED, SKIPPED))
        if blocked and task.trigger_policy.strategy != _ALL_UPSTREAM_COMPLETED:
            return TaskRun(path, SKIPPED, reason=f"upstream {', '.join(blocked)} did not succeed")

        component = spec.components[task.component_ref.name]
        parameter_values = self._input_parameters(scope, task, component, run)
        if task.trigger_policy.condition and not condition_holds(task.trigger_policy.condition, parameter_values):
            return TaskRun(path, NOT_TRIGGERED, reason=f"condition {task.trigger_policy.condition} is false")
        artifacts, missing = self._input_artifacts(scope, task, component, run)
        if missing:
            return TaskRun(path, SKIPPED, reason=f"no value for the required inputs {', '.join(missing)}")
        if component.HasField("dag"):
            return self._run_sub_dag(spec, path, component, parameter_values, artifacts, run)

        task_root = f"{run.pipeline_root}/{run.run_id}/{path}"
        # Backend difference: the launcher writes the executor output to the pod's own
        # /tmp/kfp_outputs/output_metadata.json; each task here has a scratch folder instead.
        scratch = os.path.join(self.work_dir, run.run_id, path, "kfp_outputs")
        os.makedirs(scratch, exist_ok=True)
        executor_input = pipeline_spec_pb2.ExecutorInput(
            inputs=pipeline_spec_pb2.ExecutorInput.Inputs(
                parameter_values={key: _to_value(value) for key, value in parameter_values.items()},
                artifacts=artifacts),
            outputs=pipeline_spec_pb2.ExecutorInput.Outputs(
                artifacts={key: pipeline_spec_pb2.ArtifactList(artifacts=[pipeline_spec_pb2.RuntimeArtifact(
                    name=f"{run.run_id}/{path}/{key}", type=definition.artifact_type, uri=f"{task_root}/{key}")])
                    for key, definition in component.output_definitions.artifacts.items()},
                parameters={key: pipeline_spec_pb2.ExecutorInput.OutputParameter(
                    output_file=os.path.join(scratch, key))
                    for key in component.output_definitions.parameters},
                output_file=os.path.join(scratch, "output_metadata.json")))

        container = json_format.MessageToDict(spec.deployment_spec)["executors"][component.executor_label]["container"]
        command = placeholder_utils.replace_placeholders(
            full_command=[*container["command"], *container.get("args", [])],
            executor_input_dict=executor_input_utils.executor_input_to_dict(executor_input, component),
            pipeline_resource_name=run.run_id, task_resource_name=name, pipeline_root=run.pipeline_root)
        # Backend difference: the image's interpreter is this machine's, with the repository
        # on its path (the image has it installed at its WORKDIR).
        if command and command[0] in ("python", "python3"):
            command[0] = self.python
        command = [self.mounts.local(part) for part in command]

        # Backend difference: the task's log (its pod's stdout and stderr, which the KFP UI
        # shows) is a file under the work folder.
        log_dir = os.path.join(self.work_dir, run.run_id, "logs")
        os.makedirs(log_dir, exist_ok=True)
        log_path = os.path.join(log_dir, f"{path.replace('/', '.')}.log")
        started = time.monotonic()
        with open(log_path, "w") as log:
            status = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=scratch,
                                    env={**os.environ, **self.mounts.env}).returncode
        if status != 0:
            return TaskRun(path, FAILED, log_path, reason=f"exit status {status}",
                           seconds=time.monotonic() - started)

        written = executor_output_utils.load_executor_output(executor_input.outputs.output_file)
        outputs = {}
        for key, listed in executor_input.outputs.artifacts.items():
            artifact = pipeline_spec_pb2.RuntimeArtifact()
            artifact.CopyFrom(listed.artifacts[0])
            if key in written.artifacts and written.artifacts[key].artifacts:
                # Backend difference: no ML Metadata store; the metadata the executor wrote goes
                # to the consumers as it is (the launcher stores it in ML Metadata and hands the
                # same JSON values on).
                artifact.metadata.CopyFrom(written.artifacts[key].artifacts[0].metadata)
            outputs[key] = artifact
        output_parameters = {key: json_format.MessageToDict(value) for key, value in written.parameter_values.items()}
        return TaskRun(path, SUCCEEDED, log_path, outputs, output_parameters, seconds=time.monotonic() - started)

    def _run_sub_dag(self, spec, path, component, parameter_values, artifacts, run: PipelineRun) -> TaskRun:
        """A task whose component is a DAG (what a dsl.Condition compiles to): its tasks run
        with its inputs in scope; it fails when one of them fails."""
        inner = _Scope(path + "/", component.dag, parameter_values,
                       {key: listed.artifacts[0] for key, listed in artifacts.items()})
        self._run_dag(spec, inner, run, parallel=1)
        failed = sorted(key for key in run.tasks if key.startswith(inner.prefix) and run.tasks[key].state == FAILED)
        if failed:
            return TaskRun(path, FAILED, reason=f"{', '.join(failed)} failed")
        outputs = {}
        for key, selectors in component.dag.outputs.artifacts.items():
            selector = selectors.artifact_selectors[0]
            producer = run.tasks[inner.prefix + selector.producer_subtask]
            if producer.state == SUCCEEDED:
                outputs[key] = producer.outputs[selector.output_artifact_key]
        return TaskRun(path, SUCCEEDED, outputs=outputs)

    def _input_parameters(self, scope, task, component, run: PipelineRun) -> Dict[str, Any]:
        values = {}
        for key, source in task.inputs.parameters.items():
            if source.HasField("component_input_parameter"):
                if source.component_input_parameter in scope.parameters:
                    values[key] = scope.parameters[source.component_input_parameter]
            elif source.HasField("runtime_value"):
                values[key] = json_format.MessageToDict(source.runtime_value.constant)
            elif source.HasField("task_output_parameter"):
                producer = run.tasks[scope.prefix + source.task_output_parameter.producer_task]
                if producer.state == SUCCEEDED:
                    values[key] = producer.output_parameters[source.task_output_parameter.output_parameter_key]
            else:
                raise NotImplementedError(f"task {task.task_info.name}: parameter {key} has an unsupported source")
        for key, definition in component.input_definitions.parameters.items():
            if key not in values and definition.HasField("default_value"):
                values[key] = json_format.MessageToDict(definition.default_value)
            if key not in values and not definition.is_optional:
                raise ValueError(f"task {task.task_info.name}: required parameter {key} has no value")
        return {key: self.mounts.in_image(value) if isinstance(value, str) else value
                for key, value in values.items()}

    def _input_artifacts(self, scope, task, component, run: PipelineRun):
        """({input: ArtifactList}, [required inputs without an artifact])."""
        artifacts, missing = {}, []
        for key, source in task.inputs.artifacts.items():
            if source.HasField("task_output_artifact"):
                producer = run.tasks[scope.prefix + source.task_output_artifact.producer_task]
                found = (producer.outputs.get(source.task_output_artifact.output_artifact_key)
                         if producer.state == SUCCEEDED else None)
            elif source.HasField("component_input_artifact"):
                found = scope.artifacts.get(source.component_input_artifact)
            else:
                raise NotImplementedError(f"task {task.task_info.name}: input artifact {key} has an unsupported source")
            if found is not None:
                artifacts[key] = pipeline_spec_pb2.ArtifactList(artifacts=[found])
            elif not component.input_definitions.artifacts[key].is_optional:
                missing.append(key)
            # else: an optional input whose producer did not run is left out
        return artifacts, missing


@dataclasses.dataclass(frozen=True)
class _Scope:
    """A DAG being run: its tasks' names are prefixed with `prefix` in the run; `parameters`
    and `artifacts` are what its tasks' componentInput... sources name."""
    prefix: str
    dag: pipeline_spec_pb2.DagSpec
    parameters: Mapping[str, Any]
    artifacts: Mapping[str, pipeline_spec_pb2.RuntimeArtifact]


def _to_value(value: Any) -> struct_pb2.Value:
    result = struct_pb2.Value()
    json_format.ParseDict(value, result)
    return result

