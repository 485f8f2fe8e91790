"""The `tinyface` command. Each subcommand lives in cli/commands/ and is registered here."""

import argparse
import datetime
import logging
import os
import sys
import traceback
import warnings

from tinyface import console, home
from tinyface.data.errors import BadInput


def _commands():
    # Command modules import only argparse-level things at the top; TensorFlow, Beam and TFX
    # are imported inside each command's run(), so `tinyface synth` or `--help` start fast.
    from tinyface.cli.commands import (compile_kubeflow, evaluate, pipeline_run, predict, schedule, synth, validate)
    return (synth, validate, pipeline_run, predict, evaluate, compile_kubeflow, schedule)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tinyface", description="Joint super-resolution and landmark alignment of tiny faces, on TFX.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also show the libraries' output (TensorFlow, Beam, TFX, pip) as it comes; "
                             "it always goes to the log file under the home, whose path is printed")
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
    # The home a command works in (only `run` takes --home): its log goes there too.
    log = home.log_path(getattr(args, "home", None) or home.default_home(), args.command,
                        datetime.datetime.now(datetime.timezone.utc))
    with console.library_output_to_log(log, live=args.verbose):
        console.say(f"log: {log}" + ("" if args.verbose else " (library output; -v shows it here)"))
        try:
            status = args.func(args)
        except (BadInput, ValueError, FileNotFoundError) as error:
            # Bad input is the user's to fix: one line naming the file and the problem, no traceback.
            console.note(f"tinyface {args.command}: error: {error}")
            return 2
        except Exception as error:  # pylint: disable=broad-except
            traceback.print_exc()   # into the log, with the libraries' lines that led to it
            console.note(f"tinyface {args.command}: failed: {_first_line(error)}\n"
                             f"  the traceback and the libraries' output: {log}")
            return 1
    return status or 0


def _first_line(error):
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


if __name__ == "__main__":
    sys.exit(main())
