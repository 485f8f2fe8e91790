"""`tinyface evaluate`: the table and the --json file of a real run on a folder, and models that
are something else fail in one line naming the file (exit status 2, no traceback)."""

import json

import pytest

from tinyface.pipeline import configs
from tinyface.cli import main as cli
from tinyface import pretrained
from tinyface.evaluation import folder_evaluation, summary
from tinyface.prediction import open_saved_model


@pytest.fixture(scope="module")
def folder(synthetic_faces):
    return synthetic_faces(count=12, seed=3)


def test_prints_the_run_table_and_writes_the_json(exported_model, folder, tmp_path, command_stdout):
    out = tmp_path / "scores.json"
    assert cli.main(["evaluate", "--model", exported_model, "--data", folder, "--json", str(out)]) == 0
    loaded, saved_model_dir, _ = open_saved_model(exported_model)
    expected = folder_evaluation.evaluate_folder(folder_evaluation.example_predictor(loaded, saved_model_dir),
                                                 folder, configs.EVAL_SLICE_FEATURES)
    printed = command_stdout()
    assert printed.startswith(f"12 faces of {folder} (x8) scored by {exported_model} ")
    assert summary.format_slice_table(summary.rows_by_slice(expected.by_slice)) in printed
    assert json.loads(out.read_text()) == json.loads(folder_evaluation.scores_json(expected))


def test_config_sets_the_degradation(exported_model, folder, tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text("pairs:\n  degradation:\n    noise_sigma: [12, 12]\nevaluation:\n  slice_features: [scale]\n")
    clean, noisy = tmp_path / "clean.json", tmp_path / "noisy.json"
    assert cli.main(["evaluate", "--model", exported_model, "--data", folder, "--json", str(clean)]) == 0
    assert cli.main(["evaluate", "--model", exported_model, "--data", folder, "--config", str(config),
                     "--json", str(noisy)]) == 0
    capsys.readouterr()
    clean, noisy = json.loads(clean.read_text()), json.loads(noisy.read_text())
    assert list(noisy["slices"]) == ["scale=8"]
    # Noise on the LR input lowers the bicubic floor; the HR targets are the same.
    assert noisy["overall"]["bicubic_psnr_y"] < clean["overall"]["bicubic_psnr_y"] - 0.3  # 23.3 vs 23.8 dB


def test_a_scale_the_model_was_not_built_for_is_a_one_line_error(exported_model, folder, tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text("pairs:\n  degradation:\n    scales: [4]\n")
    assert cli.main(["evaluate", "--model", exported_model, "--data", folder, "--config", str(config)]) == 2
    # Refused when the config is read, before any model sees a pair: x4 is not the scale of the
    # model the config trains (the served model's own refusal is tested in tests/trainer).
    error = capsys.readouterr().err
    assert error == (f"tinyface evaluate: error: {config}:3: invalid settings: pairs.degradation.scales [4] leave "
                     "out x8, the scale of the model trained, jasrnet (small)\n")


def test_a_model_that_is_something_else_is_a_one_line_error(not_a_saved_model, folder, capsys):
    model, problem = not_a_saved_model
    assert cli.main(["evaluate", "--model", str(model), "--data", folder]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"tinyface evaluate: error: {model}: {problem}")
    assert error.count("\n") == 1 and "Traceback" not in error


def test_without_model_and_without_a_pretrained_one_says_so(folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pretrained, "MODEL_DIR", str(tmp_path / "none"))
    assert cli.main(["evaluate", "--data", folder]) == 2
    assert capsys.readouterr().err == (f"tinyface evaluate: error: {tmp_path / 'none'}: no pretrained model "
                                       f"in this install; pass --model DIR\n")
