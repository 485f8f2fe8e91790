"""Scheduled retraining on Kubeflow Pipelines: upload the compiled pipeline and create a
recurring run, through kfp's own client (kfp.Client, KFP API v2beta1).

Each scheduled run reads the newest span (the `span` parameter's default), checks its drift
against the previous span and pushes only a model blessed against the one being served. So:
- at most one run at a time (max_concurrency 1): the span statistics archive and the served
  model are what the next run compares with, and two runs must not race on them;
- no catch-up after a pause: a missed run would only read the same newest span again;
- one schedule per name: scheduling again replaces the experiment's recurring runs of that name
  (after the new one exists, so a failure leaves the old schedule running), else two schedules
  would retrain side by side.
A pipeline that already exists on the server gets the package as a new version.
"""

import dataclasses
import datetime
import json
from typing import Any, Dict, Optional, Tuple

CRON_FIELDS_STANDARD = 5      # minute hour day month weekday
CRON_FIELDS_KFP = 6           # KFP's scheduler (robfig/cron) puts seconds first


@dataclasses.dataclass(frozen=True)
class Scheduled:
    pipeline_id: str
    version_id: str
    experiment_id: str
    recurring_run_id: str
    cron: str                 # as sent to KFP (6 fields)
    replaced: Tuple[str, ...] = ()   # ids of the recurring runs of the same name it replaced


def kfp_cron(expression: str) -> str:
    """KFP's 6-field cron expression for a standard 5-field one (seconds 0) or a 6-field one."""
    fields = expression.split()
    if len(fields) == CRON_FIELDS_STANDARD:
        return " ".join(["0", *fields])
    if len(fields) == CRON_FIELDS_KFP:
        return " ".join(fields)
    raise ValueError(f"--cron {expression!r}: expected 5 fields (minute hour day month weekday) "
                     f"or KFP's 6 (seconds first), got {len(fields)}")


def schedule(client, package_path: str, cron: str, pipeline_name: str, experiment: str, run_name: str,
             parameters: Dict[str, Any], pipeline_root: str, namespace: Optional[str] = None) -> Scheduled:
    """Uploads `package_path` (a compiled PipelineSpec YAML) and schedules it with `client`."""
    cron = kfp_cron(cron)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    pipeline_id = client.get_pipeline_id(pipeline_name)
    if pipeline_id is None:
        pipeline_id = client.upload_pipeline(package_path, pipeline_name=pipeline_name, namespace=namespace,
                                             description="tinyface: scheduled retraining").pipeline_id
        versions = client.list_pipeline_versions(pipeline_id, page_size=1, sort_by="created_at desc")
        version_id = versions.pipeline_versions[0].pipeline_version_id
    else:
        version_id = client.upload_pipeline_version(
            package_path, pipeline_version_name=f"{pipeline_name}-{stamp}", pipeline_id=pipeline_id).pipeline_version_id
    experiment_id = client.create_experiment(experiment, namespace=namespace).experiment_id
    recurring_run = client.create_recurring_run(
        experiment_id=experiment_id,
        job_name=run_name,
        description=f"tinyface retraining on the newest span, cron {cron}",
        cron_expression=cron,
        max_concurrency=1,
        no_catchup=True,
        params=dict(parameters),
        pipeline_id=pipeline_id,
        version_id=version_id,
        pipeline_root=pipeline_root,
        enabled=True)
    replaced = _delete_other_recurring_runs(client, experiment_id, run_name, keep=recurring_run.recurring_run_id)
    return Scheduled(pipeline_id, version_id, experiment_id, recurring_run.recurring_run_id, cron, replaced)


def _delete_other_recurring_runs(client, experiment_id: str, run_name: str, keep: str) -> Tuple[str, ...]:
    same_name = json.dumps({"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": run_name}]})
    listed = client.list_recurring_runs(experiment_id=experiment_id, page_size=100, filter=same_name)
    replaced = tuple(run.recurring_run_id for run in listed.recurring_runs or []
                     if run.display_name == run_name and run.recurring_run_id != keep)
    for recurring_run_id in replaced:
        client.delete_recurring_run(recurring_run_id)
    return replaced
