"""The bad-input corpus through the commands, in process (cli.main): `tinyface validate` on the
folder of every case of one format, and the bad arguments of `run --config` and `synth`.

A bad record is reported, counted and skipped while the good faces pass (exit 0); with
--strict the command stops on the first bad record with its one line (exit 1). A bad
argument is one line on stderr (exit 2), never a traceback.
"""

import collections
import json

import pytest

from tinyface.cli import main as cli


def test_validate_reports_every_case_of_a_format_and_passes_on_the_good_faces(
        bad_input_format, bad_input_corpus, tmp_path, capsys):
    cases = bad_input_corpus.cases(bad_input_format)
    expected = sorted(bad_input_corpus.expected[case.name] for case in cases)
    report_path = tmp_path / "report.json"
    status = cli.main(["validate", "--data", str(bad_input_corpus.root / bad_input_format),
                       "--json", str(report_path)])
    printed = capsys.readouterr().out
    report = json.loads(report_path.read_text())
    assert report["data_format"] == bad_input_format  # detected, the bad files notwithstanding
    assert report["skipped"] == expected
    assert report["skipped_by_reason"] == dict(collections.Counter(case.reason for case in cases))
    assert report["faces_read"] == sum(case.good_faces for case in cases)
    assert status == 0 and report["passed"], printed
    assert f"faces skipped: {len(cases)}" in printed
    for line in expected[:20]:  # the text report lists the first 20, then "... and N more"
        assert f"    - {line}\n" in printed  # each bad record on one line of the report


def test_validate_strict_stops_on_the_first_bad_record(bad_input_format, bad_input_corpus, bad_input, capsys):
    first = min(bad_input_corpus.expected[case.name] for case in bad_input_corpus.cases(bad_input_format))
    status = cli.main(["validate", "--data", str(bad_input_corpus.root / bad_input_format), "--strict"])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err == f"tinyface validate: {first}{bad_input.STRICT_SUFFIX}\n"
    assert "verdict" not in captured.out  # no report of a run that stopped


def test_validate_a_file_instead_of_a_folder(tmp_path, capsys):
    path = tmp_path / "faces.zip"
    path.write_bytes(b"PK\x03\x04")
    assert cli.main(["validate", "--data", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"tinyface validate: error: cannot detect the annotation format: {path} is not a directory\n")


@pytest.mark.parametrize("text, line, problem", [
    ("training:\n  batch_size: many\n", 2, "training.batch_size must be an integer, got 'many'"),
    ("data:\n  strict: false\ntraining:\n  learning_rate: .nan\n", 4,
     "training.learning_rate must be a finite number, got nan"),
    ("data:\n  crop_margin: 1.5\n", 2, "invalid settings: crop_margin must lie in [0, 1), got 1.5"),
])
def test_run_config_with_a_bad_value_is_one_line_before_anything_runs(tmp_path, capsys, text, line, problem):
    config = tmp_path / "my_run.yaml"
    config.write_text(text)
    home = tmp_path / "home"
    assert cli.main(["run", "--config", str(config), "--home", str(home)]) == 2
    assert capsys.readouterr().err == f"tinyface run: error: {config}:{line}: {problem}\n"
    # Nothing started, nothing half-written: the home holds only the command's log.
    assert [path.name for path in home.iterdir()] == ["logs"]


@pytest.mark.parametrize("arguments, message", [
    (["--count", "2", "--brightness", "nan"], "brightness must be finite, got nan"),
    (["--count", "2", "--face-scale", "0.01", "0.99"], "face_scale must lie in [0.05, 0.95], got (0.01, 0.99)"),
])
def test_synth_with_a_bad_value_is_one_line(tmp_path, capsys, arguments, message):
    assert cli.main(["synth", "--out", str(tmp_path / "out"), *arguments]) == 2
    assert capsys.readouterr().err == f"tinyface synth: error: {message}\n"
    assert not (tmp_path / "out").exists()


def test_synth_into_a_file_is_one_line(tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("not a folder\n")
    assert cli.main(["synth", "--out", str(taken), "--count", "2"]) == 2
    assert capsys.readouterr().err == f"tinyface synth: error: {taken}: cannot create the output folder: File exists\n"
    assert taken.read_text() == "not a folder\n"
