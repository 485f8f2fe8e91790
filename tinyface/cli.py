"""The `tinyface` command. Each subcommand lives in tinyface/commands/ and is registered here."""

import argparse
import logging
import os
import sys
import warnings

from tinyface.data.errors import BadInput


def _commands():
    # Command modules import only argparse-level things at the top; TensorFlow, Beam and TFX
    # are imported inside each command's run(), so `tinyface synth` or `--help` start fast.
    from tinyface.commands import compile_kubeflow, evaluate, pipeline_run, predict, schedule, synth, validate
    return (synth, validate, pipeline_run, predict, evaluate, compile_kubeflow, schedule)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tinyface", description="Joint super-resolution and landmark alignment of tiny faces, on TFX.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _commands():
        command.register(subparsers)
    return parser


class _DropKnownNoise(logging.Filter):
    # TFX 1.16 warns on every input resolution that its local MLMD query ignores a property
    # predicate it never needs; it drowns the messages a user must see.
    def filter(self, record):
        return "property_predicate is not supported" not in record.getMessage()


def _quiet_libraries():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    # google-api-core warns at import that Python 3.10 support ends; TFX 1.16 needs 3.10.
    warnings.filterwarnings("ignore", category=FutureWarning, module="google")
    logging.getLogger("absl").addFilter(_DropKnownNoise())


def main(argv=None):
    _quiet_libraries()
    args = build_parser().parse_args(argv)
    try:
        status = args.func(args)
    except (BadInput, ValueError, FileNotFoundError) as error:
        # Bad input is the user's to fix: one line naming the file and the problem, no traceback.
        print(f"tinyface {args.command}: error: {error}", file=sys.stderr)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
