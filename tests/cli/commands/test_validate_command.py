import json
import os
import subprocess
import sys

from tinyface.cli import main as cli
from tinyface import home


def test_validate_real_300w_photos_passes_and_writes_json(real_faces, tmp_path, capsys):
    out = tmp_path / "report.json"
    status = cli.main(["validate", "--data", os.path.join(real_faces, "superviseddescent_ibug_lfpw_trainset"),
                       "--json", str(out)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "faces read:    2" in printed and "verdict: PASS" in printed
    report = json.loads(out.read_text())
    assert report["data_format"] == "300w"          # detected from the files
    assert report["faces_read"] == 2 and report["passed"]
    assert report["drift_verdict"].startswith("not checked")


def test_validate_reports_drift_against_a_baseline(synthetic_faces, tmp_path, capsys):
    out = tmp_path / "report.json"
    status = cli.main(["validate", "--data", synthetic_faces(count=80, seed=3, preset="dark"),
                       "--baseline-data", synthetic_faces(count=80, seed=1), "--json", str(out)])
    assert status == 1
    report = json.loads(out.read_text())
    assert report["drift_verdict"] == "DRIFT"
    drifted = report["drift"]["split all"]
    assert "brightness" in drifted and "Jensen-Shannon" in drifted["brightness"]
    assert "drift: DRIFT" in capsys.readouterr().out


def test_validate_same_distribution_has_no_drift(synthetic_faces, tmp_path):
    out = tmp_path / "report.json"
    status = cli.main(["validate", "--data", synthetic_faces(count=80, seed=2),
                       "--baseline-data", synthetic_faces(count=80, seed=1), "--json", str(out)])
    assert status == 0
    assert json.loads(out.read_text())["drift_verdict"] == "no drift"


def test_validate_counts_bad_records_and_strict_stops(real_300w, capsys):
    pts = real_300w / "image_0001.pts"
    pts.write_text(pts.read_text().replace("n_points:  68", "n_points:  70"))
    assert cli.main(["validate", "--data", str(real_300w)]) == 0
    printed = capsys.readouterr().out
    assert "faces skipped: 1" in printed and str(pts) in printed
    assert cli.main(["validate", "--data", str(real_300w), "--strict"]) == 1
    assert str(pts) in capsys.readouterr().err


def test_empty_folder_is_a_one_line_error(tmp_path, capsys):
    status = cli.main(["validate", "--data", str(tmp_path), "--format", "300w"])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err == f"tinyface validate: error: {tmp_path}: no 300w annotations found"


def test_output_captured_to_a_file_is_the_report_alone(real_faces, tmp_path):
    # As a CI log sees it: a fresh process, stdout and stderr into one file. TensorFlow's CUDA
    # factory errors and TFDV's deprecation warnings go to the log whose path comes first.
    captured = tmp_path / "output.txt"
    report = tmp_path / "report.json"
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    with open(captured, "w") as output:
        status = subprocess.run(
            [sys.executable, "-m", "tinyface.cli.main", "validate", "--data",
             os.path.join(real_faces, "superviseddescent_ibug_lfpw_trainset"), "--json", str(report)],
            stdout=output, stderr=subprocess.STDOUT, env=env, timeout=600).returncode
    log_line, *lines = captured.read_text().splitlines()
    assert status == 0, lines
    log = log_line.removeprefix("log: ").split(" (")[0]
    assert log.startswith(env[home.HOME_VARIABLE]) and os.path.isfile(log)
    # The report, nothing else: its title, then its indented lines.
    assert lines[0].startswith("data report for ") and all(line.startswith("  ") for line in lines[1:]), lines
    assert "  verdict: PASS" in lines
    with open(log) as f:
        assert "deprecated" in f.read()        # TFDV's warnings were there, and were kept
