"""tinyface.reporting.run_report: the files it writes for a run recorded in ML Metadata whose
artifacts are real (the exported model, pair records, a TFMA output), and for runs without an
evaluation."""

import os

import numpy as np
from PIL import Image
from tfx.types import standard_artifacts as sa

from tinyface import features, prediction
from tinyface.data import example_codec
from tinyface.reporting import eval_samples, grid, run_report

RUN = "2026-11-21T22:23:56.448596"


def _evaluated_run(recorder, tmp_path, exported_model, eval_pair_records, tfma_eval_output):
    """A run whose artifacts are laid out as TFX lays them out, on the test fixtures."""
    model_uri = tmp_path / "Trainer" / "model" / "10"
    model_uri.mkdir(parents=True)
    os.symlink(exported_model, model_uri / "Format-Serving")
    pairs_uri = tmp_path / "PairGen" / "pairs" / "9"
    (pairs_uri / "Split-eval").mkdir(parents=True)
    os.symlink(eval_pair_records, pairs_uri / "Split-eval" / "data_tfrecord-00000-of-00001.gz")

    recorder.start_run(RUN)
    pairs = recorder.artifact(sa.Examples, pairs_uri, split_names=["train", "eval"])
    model = recorder.artifact(sa.Model, model_uri)
    blessing = recorder.artifact(sa.ModelBlessing, tmp_path / "blessing", blessed=0)
    recorder.execution("PairGen", outputs={"pairs": [pairs]})
    recorder.execution("Trainer", inputs={"examples": [pairs]}, outputs={"model": [model]},
                       custom_config={"training_config": {"model": "jasrnet"}}, train_args={"num_steps": 1000})
    recorder.execution("Evaluator", inputs={"examples": [pairs], "model": [model]},
                       outputs={"evaluation": [recorder.artifact(sa.ModelEvaluation, tfma_eval_output)],
                                "blessing": [blessing]})
    recorder.execution("Pusher", inputs={"model": [model], "model_blessing": [blessing]},
                       outputs={"pushed_model": [recorder.artifact(sa.PushedModel, tmp_path / "pushed", pushed=0)]})


def test_report_picture_and_latest_page(recorder, tmp_path, exported_model, eval_pair_records, tfma_eval_output):
    _evaluated_run(recorder, tmp_path, exported_model, eval_pair_records, tfma_eval_output)
    reports = tmp_path / "reports"
    path = run_report.write_report(recorder.store, str(reports), sample_count=3)

    folder = reports / run_report.run_folder_name(RUN)
    assert folder.name == "2026-11-21T22-23-56.448596"
    assert path == str(folder / run_report.REPORT_HTML)
    page = (folder / run_report.REPORT_HTML).read_text()
    assert "NOT BLESSED" in page and "not pushed" in page and 'data-slice="overall"' in page
    assert f'src="{run_report.SAMPLES_PNG}"' in page and "The first 3 faces of the evaluated split (eval)" in page
    picture = Image.open(folder / run_report.SAMPLES_PNG)
    assert picture.size == grid.layout_for((128, 128)).canvas_size(3)
    # The SR tile of the first face is the model's SR image with the predicted landmarks on it.
    layout = grid.layout_for((128, 128))
    left, top = layout.tile_origin(0, grid.SR_COLUMN)
    sr_tile = np.asarray(picture)[top:top + 128, left:left + 128]
    assert (sr_tile == grid.PREDICTED_FILL).all(axis=2).sum() > 68

    latest = (reports / run_report.LATEST_HTML).read_text()
    link = f"{folder.name}/{run_report.SAMPLES_PNG}"
    assert f'src="{link}"' in latest and (reports / link).is_file()
    assert latest.replace(link, run_report.SAMPLES_PNG) == page


def test_captions_carry_psnr_nme_and_the_face(exported_model, eval_pair_records):
    model = prediction.load_model(exported_model)
    samples = eval_samples.eval_samples(model, eval_samples.read_pairs([eval_pair_records], 2))
    scores = eval_samples.sample_scores(samples)
    rows = run_report.captions(samples, scores)
    assert len(rows) == 2 and all(len(row) == len(grid.COLUMN_TITLES) for row in rows)
    lr, bicubic, sr, hr = rows[0]
    assert lr and lr in example_codec.text(samples.pairs[0], features.FACE_ID)
    assert bicubic == f"PSNR-Y {scores.bicubic_psnr_y[0]:.2f} dB"
    assert sr == f"PSNR-Y {scores.sr_psnr_y[0]:.2f} dB\nNME {scores.nme[0]:.4f}"
    assert hr.startswith("pose ")


def test_a_run_without_evaluation_gets_a_page_saying_so(recorder, tmp_path):
    recorder.start_run("2026-11-21T23:00:00.000001")
    recorder.execution("FaceExampleGen", outputs={"examples": [recorder.artifact(sa.Examples, tmp_path / "faces")]})
    recorder.execution("DataGate", "FAILED")
    path = run_report.write_report(recorder.store, str(tmp_path / "reports"))
    page = open(path).read()
    assert "produced no model evaluation" in page and "FAILED" in page and "<img" not in page
    assert os.listdir(os.path.dirname(path)) == [run_report.REPORT_HTML]


def test_no_run_recorded_writes_only_the_latest_page(recorder, tmp_path):
    path = run_report.write_report(recorder.store, str(tmp_path / "reports"))
    assert path == str(tmp_path / "reports" / run_report.LATEST_HTML)
    assert "no verdict" in open(path).read() and os.listdir(tmp_path / "reports") == [run_report.LATEST_HTML]
