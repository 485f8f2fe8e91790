"""`tinyface synth`: writes synthetic faces with 68-point landmarks in the 300W layout.

    tinyface synth --out data/synth --count 1000 --seed 0 --preset dark --yaw-std 30

Options start from --preset (default: "default"); each flag given overrides one field of it.
"""

import dataclasses
import time

from tinyface import console
from tinyface.data.synthesis import synth

# flag -> SynthOptions field, for the single-value overrides.
_OVERRIDES = {
    "image_size": ("--image-size", int, "output square image side in pixels"),
    "brightness": ("--brightness", float, "lighting gain: <1 darker, >1 brighter"),
    "yaw_mean_deg": ("--yaw-mean", float, "mean yaw in degrees (+ = face turned to its left)"),
    "yaw_std_deg": ("--yaw-std", float, "yaw standard deviation in degrees"),
    "yaw_max_deg": ("--yaw-max", float, "yaw is clipped to +-this, degrees"),
    "pitch_std_deg": ("--pitch-std", float, "pitch standard deviation in degrees"),
    "roll_std_deg": ("--roll-std", float, "roll standard deviation in degrees"),
    "occluder_probability": ("--occluder-probability", float, "chance of an occluder per face"),
    "blur_probability": ("--blur-probability", float, "chance of a blurred face"),
    "clutter": ("--clutter", float, "amount of background clutter (0 = plain)"),
    "expression_strength": ("--expression-strength", float, "0 = neutral faces only, 1 = full range"),
}


def register(subparsers):
    parser = subparsers.add_parser(
        "synth", help="write synthetic faces with exact 68-point landmarks (PNG + 300W .pts)",
        description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--count", required=True, type=int, help="number of faces")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed; face i depends only on (seed, i)")
    parser.add_argument("--preset", default="default", choices=sorted(synth.PRESETS),
                        help="named distribution to start from (default: default)")
    parser.add_argument("--subset", default=None, help="write into OUT/SUBSET/")
    parser.add_argument("--face-scale", nargs=2, type=float, metavar=("MIN", "MAX"), default=None,
                        help="face height as a fraction of the image side, uniform in [MIN, MAX]")
    for field, (flag, kind, text) in _OVERRIDES.items():
        parser.add_argument(flag, dest=field, type=kind, default=None, help=text)
    parser.set_defaults(func=run)
    return parser


def options_from_args(args):
    """The SynthOptions of the preset with every given flag applied (ValueError if invalid)."""
    changes = {field: getattr(args, field) for field in _OVERRIDES if getattr(args, field) is not None}
    if args.face_scale is not None:
        changes["face_scale"] = tuple(args.face_scale)
    return dataclasses.replace(synth.PRESETS[args.preset], **changes)


def run(args):
    # ValueError for bad values: cli/main.py turns it into a one-line error and exit status 2.
    if args.count < 0:
        raise ValueError(f"--count must be >= 0, got {args.count}")
    options = options_from_args(args)
    start = time.perf_counter()
    summary = synth.generate_dataset(args.out, args.count, seed=args.seed, options=options, subset=args.subset)
    seconds = time.perf_counter() - start
    console.say(f"wrote {summary['count']} faces to {summary['out_dir']} (preset {args.preset}, seed {args.seed}): "
          f"mean |yaw| {summary['mean_abs_yaw']:.1f} deg, occluded {summary['occluded']}, "
          f"blurred {summary['blurred']}, {seconds:.1f} s")
    return 0
