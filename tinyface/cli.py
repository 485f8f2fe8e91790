"""The `tinyface` command. Each subcommand lives in tinyface/commands/ and is registered here."""

import argparse
import sys

from tinyface.data.errors import BadInput


def _commands():
    # Command modules import only argparse-level things at the top; TensorFlow, Beam and TFX
    # are imported inside each command's run(), so `tinyface synth` or `--help` start fast.
    from tinyface.commands import pipeline_run, synth, validate
    return (synth, validate, pipeline_run)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tinyface", description="Joint super-resolution and landmark alignment of tiny faces, on TFX.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _commands():
        command.register(subparsers)
    return parser


def main(argv=None):
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
