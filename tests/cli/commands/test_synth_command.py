"""`tinyface synth`: flags reach SynthOptions, and the command writes N image/.pts pairs."""

import os

import numpy as np
import pytest

from tinyface.cli import main as cli
from tinyface.cli.commands import synth as synth_command
from tinyface.data.synthesis import synth


def _parse(argv):
    return cli.build_parser().parse_args(["synth"] + argv)


def test_writes_count_image_and_pts_pairs(tmp_path, capsys):
    args = _parse(["--out", str(tmp_path), "--count", "3", "--seed", "4", "--image-size", "96"])
    assert args.func is synth_command.run
    assert args.func(args) == 0
    names = sorted(os.listdir(tmp_path))
    assert names == [f"synth_{i:06d}.{ext}" for i in range(3) for ext in ("png", "pts")]
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and out.startswith("wrote 3 faces to ")
    # The files are the faces of seed 4 at the requested size.
    expected = synth.render_face(synth.face_rng(4, 2), synth.SynthOptions(image_size=96))
    lines = (tmp_path / "synth_000002.pts").read_text().splitlines()
    points = np.array([[float(v) for v in line.split()] for line in lines[3:-1]])
    np.testing.assert_allclose(points - 1.0, expected.landmarks, atol=1e-4)


def test_preset_and_overrides_build_the_options():
    args = _parse(["--out", "x", "--count", "1", "--preset", "dark", "--brightness", "0.3", "--yaw-mean", "10",
                   "--yaw-std", "5", "--face-scale", "0.3", "0.4", "--occluder-probability", "0.5",
                   "--image-size", "128"])
    options = synth_command.options_from_args(args)
    assert options.brightness == 0.3 and options.yaw_mean_deg == 10.0 and options.yaw_std_deg == 5.0
    assert options.face_scale == (0.3, 0.4) and options.occluder_probability == 0.5
    assert options.image_size == 128
    assert options.ambient == synth.PRESETS["dark"].ambient  # untouched fields come from the preset
    assert synth_command.options_from_args(_parse(["--out", "x", "--count", "1"])) == synth.SynthOptions()


def test_subset_and_invalid_values(tmp_path):
    args = _parse(["--out", str(tmp_path), "--count", "1", "--subset", "train", "--image-size", "64"])
    args.func(args)
    assert sorted(os.listdir(tmp_path / "train")) == ["synth_000000.png", "synth_000000.pts"]
    with pytest.raises(ValueError):
        args = _parse(["--out", str(tmp_path), "--count", "1", "--face-scale", "0.8", "0.2"])
        args.func(args)
    with pytest.raises(SystemExit):
        _parse(["--out", str(tmp_path), "--count", "1", "--preset", "no_such_preset"])
