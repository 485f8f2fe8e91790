"""`tinyface schedule`: retrain on Kubeflow Pipelines on a schedule.

    tinyface schedule --host https://kfp.example.com --cron "0 3 * * 1" \\
        --root gs://my-bucket/tinyface --image my-registry/tinyface-pipeline:1.0 \\
        --param data_root=/data/faces

Compiles the pipeline (or takes --package FILE from `tinyface compile-kubeflow`), uploads it
with kfp's client (a new version when the pipeline exists) and creates a recurring run: each
run reads the newest span, checks drift against the previous one and pushes only a model
blessed against the one being served. --cron takes 5 fields (minute hour day month weekday;
KFP's 6-field form with seconds first also works). --param sets a runtime parameter for every
scheduled run.
"""

import argparse
import json
import os
import tempfile
import warnings

from tinyface import console
from tinyface.cli.commands import compile_kubeflow


def register(subparsers):
    parser = subparsers.add_parser(
        "schedule", help="upload the pipeline to Kubeflow Pipelines and create a recurring run",
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--host", required=True, metavar="URL", help="the KFP API endpoint")
    parser.add_argument("--cron", required=True, metavar="EXPR", help='when to run, e.g. "0 3 * * 1"')
    parser.add_argument("--package", metavar="FILE",
                        help="a compiled .yaml spec to upload instead of compiling here")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="runtime parameter of every run (repeatable), e.g. train_steps=20000")
    parser.add_argument("--experiment", metavar="NAME", help="KFP experiment (default: tinyface)")
    parser.add_argument("--name", metavar="NAME", help="the recurring run's name (default: tinyface-retraining)")
    parser.add_argument("--namespace", metavar="NS", help="Kubeflow namespace (multi-user installations)")
    compile_kubeflow.add_compile_arguments(parser)
    parser.set_defaults(func=run)


def run(args):
    from tinyface.kubeflow import pipeline_spec
    from tinyface.kubeflow.schedule import kfp_cron
    from tinyface.pipeline import configs

    kfp_cron(args.cron)   # a malformed expression is reported before anything is compiled or sent
    if args.package and compile_kubeflow.given_compile_flags(args):
        raise ValueError(f"{', '.join(compile_kubeflow.given_compile_flags(args))}: settings of the compilation, "
                         f"which --package {args.package} has had already")
    with tempfile.TemporaryDirectory() as scratch:
        package = args.package or _compile(args, os.path.join(scratch, f"{configs.PIPELINE_NAME}.yaml"))
        if not package.endswith(pipeline_spec.YAML_SUFFIXES):
            raise ValueError(f"--package {package}: KFP uploads the .yaml spec (compile with --out FILE.yaml)")
        spec = pipeline_spec.read(package)
        parameters = _parameters(args.param, spec, package)
        scheduled = _schedule(args, package, spec, parameters)
    console.say(f"scheduled {args.name or configs.KUBEFLOW_RECURRING_RUN} ({scheduled.cron}): recurring run "
          f"{scheduled.recurring_run_id} of pipeline {scheduled.pipeline_id} version {scheduled.version_id} "
          f"in experiment {scheduled.experiment_id}"
          + (f"; replaced {', '.join(scheduled.replaced)}" if scheduled.replaced else ""))
    return 0


def _compile(args, path):
    from tinyface.kubeflow import runner

    runner.compile_pipeline(compile_kubeflow.settings_from_args(args), path)
    return path


def _parameters(assignments, spec, package):
    from tinyface.kubeflow import parameters as kubeflow_parameters
    from tinyface.kubeflow import pipeline_spec

    types = pipeline_spec.parameter_types(spec)
    values = dict(kubeflow_parameters.parse_assignment(text, types) for text in assignments)
    missing = [name for name in pipeline_spec.required_parameters(spec) if name not in values]
    if missing:
        raise ValueError(f"{package}: {', '.join(missing)} has no default; pass --param "
                         + " ".join(f"{name}=..." for name in missing))
    return values


def _schedule(args, package, spec, parameters):
    import kfp
    import kfp_server_api
    import urllib3

    from tinyface.kubeflow.schedule import schedule
    from tinyface.pipeline import configs
    from tinyface.data.errors import BadInput

    try:
        with warnings.catch_warnings():
            # kfp 2.5 warns on every client that it needs a KFP v2 backend, which the pipeline needs anyway.
            warnings.filterwarnings("ignore", message="This client only works with Kubeflow Pipeline",
                                    category=FutureWarning)
            client = kfp.Client(host=args.host, namespace=args.namespace or "kubeflow")
        return schedule(client, package, args.cron, pipeline_name=spec.pipeline_info.name,
                        experiment=args.experiment or configs.KUBEFLOW_EXPERIMENT,
                        run_name=args.name or configs.KUBEFLOW_RECURRING_RUN, parameters=parameters,
                        pipeline_root=spec.default_pipeline_root, namespace=args.namespace)
    except kfp_server_api.ApiException as error:
        raise BadInput(args.host, f"KFP answered {error.status} {error.reason}: {_kfp_error(error.body)}") from None
    except urllib3.exceptions.HTTPError as error:
        raise BadInput(args.host, f"cannot reach KFP: {error}") from None


def _kfp_error(body):
    """The message of a KFP API error body ({"error": ..., "message": ...}), on one line."""
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")
    try:
        document = json.loads(text)
        text = str(document.get("error") or document.get("message") or text)
    except (ValueError, AttributeError):
        pass
    return " ".join(text.split())[:500] or "no details"
