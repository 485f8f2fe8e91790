"""`tinyface compile-kubeflow`: the pipeline as a Kubeflow Pipelines v2 / Vertex pipeline spec.

    tinyface compile-kubeflow --out tinyface.yaml --root gs://my-bucket/tinyface \\
        --image europe-docker.pkg.dev/my-project/ml/tinyface-pipeline:1.0

The .yaml spec is what KFP v2 uploads and Vertex runs; .json writes Vertex's PipelineJob. The
data root, span, model, training steps and blessing thresholds stay runtime parameters (the
values given here and in --config are their defaults). Settings not given come from
pipeline/configs.py's Kubeflow block and its TINYFACE_* environment variables.
"""

import argparse

from tinyface import console


def _option(text):
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def add_compile_arguments(parser):
    """The settings of a compilation (shared with `tinyface schedule`)."""
    parser.add_argument("--root", metavar="URI",
                        help="remote root the pipeline writes under (default: $TINYFACE_KUBEFLOW_ROOT)")
    parser.add_argument("--image", metavar="IMAGE",
                        help="the pipeline image, best by digest: NAME@sha256:... (KFP's cache keys tasks on "
                             "this name; default: $TINYFACE_IMAGE_REGISTRY/tinyface-pipeline:latest, or "
                             "@$TINYFACE_IMAGE_DIGEST)")
    parser.add_argument("--data-root", metavar="DIR",
                        help="default of the data_root parameter: a folder of span-N folders the pods read "
                             "(gs://, s3://, ... or a mounted path)")
    parser.add_argument("--config", metavar="FILE",
                        help="YAML/JSON settings file, as for `tinyface run --config` (defaults of the parameters)")
    parser.add_argument("--no-infra-validation", action="store_true",
                        help="leave InfraValidator out (Vertex: it starts no Kubernetes pods)")
    parser.add_argument("--beam-runner", metavar="NAME",
                        help="DirectRunner, DataflowRunner, FlinkRunner, SparkRunner or PortableRunner")
    parser.add_argument("--beam-option", type=_option, action="append", default=[], metavar="NAME=VALUE",
                        help="a value for the runner's flags, e.g. project=my-project (repeatable)")


COMPILE_FLAGS = ("root", "image", "data_root", "config", "no_infra_validation", "beam_runner", "beam_option")


def given_compile_flags(args):
    """The compile settings given on the command line (as --flag-names)."""
    return [f"--{name.replace('_', '-')}" for name in COMPILE_FLAGS if getattr(args, name)]


def settings_from_args(args):
    from tinyface.kubeflow.settings import kubeflow_settings
    from tinyface.pipeline.run_config import load_run_config

    return kubeflow_settings(
        run_config=load_run_config(args.config) if args.config else None,
        root=args.root, image=args.image, data_root=args.data_root,
        infra_validation=False if args.no_infra_validation else None,
        beam_runner=args.beam_runner, beam_options=dict(args.beam_option))


def register(subparsers):
    parser = subparsers.add_parser(
        "compile-kubeflow", help="compile the pipeline for Kubeflow Pipelines v2 / Vertex AI Pipelines",
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="the spec to write: .yaml/.yml (KFP v2 and Vertex) or .json (Vertex PipelineJob)")
    add_compile_arguments(parser)
    parser.set_defaults(func=run)


def run(args):
    from tinyface.kubeflow import pipeline_spec, runner
    from tinyface.kubeflow.settings import UNPINNED_IMAGE_NOTE, is_pinned

    settings = settings_from_args(args)
    compiled = runner.compile_pipeline(settings, args.out)
    parameters = compiled.spec.root.input_definitions.parameters
    console.say(f"wrote {args.out}: {len(compiled.spec.root.dag.tasks)} tasks, image {settings.image}, "
          f"pipeline root {compiled.spec.default_pipeline_root}")
    console.say("runtime parameters: " + ", ".join(
        f"{name}={pipeline_spec.default_text(parameter) if parameter.HasField('default_value') else '(required)'}"
        for name, parameter in sorted(parameters.items())))
    if not is_pinned(settings.image):
        console.say(UNPINNED_IMAGE_NOTE)
    return 0

