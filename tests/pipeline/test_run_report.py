"""tinyface.pipeline.run_report: the files it writes for a run recorded in ML Metadata whose
artifacts are real (the exported model, pair records, a TFMA output), and for runs without an
evaluation."""

import os

import numpy as np
import pytest
from PIL import Image
from tfx.types import standard_artifacts as sa

from tinyface import features, prediction
from tinyface.data import example_codec
from tinyface.evaluation import summary
from tinyface.reporting import browser_check, eval_samples, grid
from tinyface.pipeline import run_report
from tinyface.trainer.training import training_curves
from tinyface.trainer.training.training_config import paper_config

RUN = "2026-11-21T22:23:56.448596"


def _evaluated_run(recorder, tmp_path, exported_model, eval_pair_records, tfma_eval_output):
    """A run whose artifacts are laid out as TFX lays them out, on the test fixtures."""
    model_uri = tmp_path / "Trainer" / "model" / "10"
    model_uri.mkdir(parents=True)
    os.symlink(exported_model, model_uri / "Format-Serving")
    pairs_uri = tmp_path / "PairGen" / "pairs" / "9"
    (pairs_uri / "Split-eval").mkdir(parents=True)
    os.symlink(eval_pair_records, pairs_uri / "Split-eval" / "data_tfrecord-00000-of-00001.gz")

    model_run_uri = tmp_path / "Trainer" / "model_run" / "10"
    model_run_uri.mkdir(parents=True)
    (model_run_uri / training_curves.CURVES_CSV).write_text(
        "step,split,term,value\n" + "".join(f"{step},train,{term},{value / step}\n" for step in range(10, 1001, 10)
                                         for term, value in (("loss", 3.0), ("pixel", 1.0), ("heatmap", 2.0)))
        + "".join(f"{step},validation,{term},{value / step}\n" for step in (500, 1000)
                  for term, value in (("loss", 3.5), ("pixel", 1.2), ("heatmap", 2.3))))

    recorder.start_run(RUN)
    pairs = recorder.artifact(sa.Examples, pairs_uri, split_names=["train", "eval"])
    model = recorder.artifact(sa.Model, model_uri)
    model_run = recorder.artifact(sa.ModelRun, model_run_uri)
    blessing = recorder.artifact(sa.ModelBlessing, tmp_path / "blessing", blessed=0)
    recorder.execution("PairGen", outputs={"pairs": [pairs]})
    recorder.execution("Trainer", inputs={"examples": [pairs]}, outputs={"model": [model], "model_run": [model_run]},
                       custom_config={"training_config": paper_config("jasrnet").to_dict()},
                       train_args={"num_steps": 1000})
    recorder.execution("Evaluator", inputs={"examples": [pairs], "model": [model]},
                       outputs={"evaluation": [recorder.artifact(sa.ModelEvaluation, tfma_eval_output)],
                                "blessing": [blessing]})
    recorder.execution("Pusher", inputs={"model": [model], "model_blessing": [blessing]},
                       outputs={"pushed_model": [recorder.artifact(sa.PushedModel, tmp_path / "pushed", pushed=0)]})


def test_report_pictures_and_latest_page(recorder, tmp_path, exported_model, eval_pair_records, tfma_eval_output):
    _evaluated_run(recorder, tmp_path, exported_model, eval_pair_records, tfma_eval_output)
    reports = tmp_path / "reports"
    path = run_report.write_report(recorder.store, str(reports), sample_pool=12)

    folder = reports / run_report.run_folder_name(RUN)
    assert folder.name == "2026-11-21T22-23-56.448596"
    assert path == str(folder / run_report.REPORT_HTML)
    page = (folder / run_report.REPORT_HTML).read_text()
    assert "NOT BLESSED" in page and "not pushed" in page and 'data-slice="overall"' in page
    assert "among the first 12 faces of the evaluated split (eval)" in page
    for picture in (run_report.SAMPLES_PNG, run_report.CURVES_PNG, run_report.SLICES_PNG):
        assert f'src="{picture}"' in page and Image.open(folder / picture).format == "PNG"
    # The model table: the settings JASRNet uses, not the GAN models' ones.
    assert "<th>learning_rate</th><td>5e-05</td>" in page and "gan_loss" not in page

    # Samples: each slice's worst and best face, labelled, in the grid's layout.
    pairs = eval_samples.read_pairs([eval_pair_records], 12, scale=8)
    model = prediction.load_model(exported_model)
    scores = eval_samples.sample_scores(eval_samples.eval_samples(model, pairs))
    evaluation = summary.load_evaluation(tfma_eval_output)
    chosen = eval_samples.worst_and_best(pairs, scores.sr_psnr_y - scores.bicubic_psnr_y,
                                         [row.key for row in evaluation.candidate], summary.slice_name)
    assert chosen[:2] == [("worst of overall", int(np.argmin(scores.sr_psnr_y - scores.bicubic_psnr_y))),
                          ("best of overall", int(np.argmax(scores.sr_psnr_y - scores.bicubic_psnr_y)))]
    picture = Image.open(folder / run_report.SAMPLES_PNG)
    assert picture.size == grid.layout_for((128, 128)).canvas_size(len(chosen))
    # The SR tile of the first face is the model's SR image with the predicted landmarks on it.
    layout = grid.layout_for((128, 128))
    left, top = layout.tile_origin(0, grid.SR_COLUMN)
    sr_tile = np.asarray(picture)[top:top + 128, left:left + 128]
    assert (sr_tile == grid.PREDICTED_FILL).all(axis=2).sum() > 68

    latest = (reports / run_report.LATEST_HTML).read_text()
    for picture in (run_report.SAMPLES_PNG, run_report.CURVES_PNG, run_report.SLICES_PNG):
        link = f"{folder.name}/{picture}"
        assert f'src="{link}"' in latest and (reports / link).is_file()
        latest = latest.replace(link, picture)
    assert latest == page


def test_the_report_renders_in_a_real_browser(recorder, tmp_path, exported_model, eval_pair_records,
                                              tfma_eval_output):
    chromium = browser_check.find_chromium()
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("CI must check the report in Chromium: scripts/test.sh installs it (apt-get install chromium)")
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium); CI installs it")
    _evaluated_run(recorder, tmp_path, exported_model, eval_pair_records, tfma_eval_output)
    reports = tmp_path / "reports"
    run_report.write_report(recorder.store, str(reports), sample_pool=12)
    for page in (reports / run_report.run_folder_name(RUN) / run_report.REPORT_HTML, reports / run_report.LATEST_HTML):
        rendered = browser_check.render(str(page), str(tmp_path / f"{page.stem}.png"), chromium)
        assert rendered.images == 3 and rendered.broken == () and rendered.console_errors == (), rendered
        screenshot = np.asarray(Image.open(rendered.screenshot).convert("L"))
        assert screenshot.shape[1] == 1280 and screenshot.std() > 10     # a page was drawn, not a blank


def test_worst_and_best_of_each_slice_leave_out_slices_that_are_all_faces(eval_pair_records):
    pairs = eval_samples.read_pairs([eval_pair_records], 6, scale=8)
    poses = [eval_samples.slice_value(pair, features.POSE_BUCKET) for pair in pairs]
    quality = np.arange(6.0)
    quality[0] = np.nan                                  # never chosen
    keys = [(), ((features.SCALE, 8),)] + [((features.POSE_BUCKET, pose),) for pose in sorted(set(poses))]
    chosen = eval_samples.worst_and_best(pairs, quality, keys, summary.slice_name)
    assert chosen[:2] == [("worst of overall", 1), ("best of overall", 5)]
    assert not any("scale=8" in label for label, _ in chosen)     # every face is x8: overall again
    for pose in set(poses[1:]):
        members = [i for i in range(1, 6) if poses[i] == pose]
        expected = ([(f"only face of pose_bucket={pose}", members[0])] if len(members) == 1 else
                    [(f"worst of pose_bucket={pose}", members[0]), (f"best of pose_bucket={pose}", members[-1])])
        assert all(entry in chosen for entry in expected)


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


def test_a_stopped_run_gets_a_page_saying_where_and_why(recorder, tmp_path):
    recorder.start_run("2026-11-21T23:00:00.000001")
    recorder.execution("FaceExampleGen", outputs={"examples": [recorder.artifact(sa.Examples, tmp_path / "faces")]})
    recorder.execution("DataGate", "FAILED")
    reason = "data rejected before training: drift in split all, feature brightness: too dark"
    path = run_report.write_report(recorder.store, str(tmp_path / "reports"), stop_reason=reason)
    page = open(path).read()
    assert "The run stopped at DataGate</strong>" in page and f"<pre>{reason}</pre>" in page
    assert "produced no model evaluation" in page and "FAILED" in page and "<img" not in page
    assert os.listdir(os.path.dirname(path)) == [run_report.REPORT_HTML]


def test_no_run_recorded_writes_only_the_latest_page(recorder, tmp_path):
    path = run_report.write_report(recorder.store, str(tmp_path / "reports"))
    assert path == str(tmp_path / "reports" / run_report.LATEST_HTML)
    assert "no verdict" in open(path).read() and os.listdir(tmp_path / "reports") == [run_report.LATEST_HTML]
