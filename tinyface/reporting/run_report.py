"""Writes the report of the latest pipeline run: report.html and samples.png.

Layout under `reports_dir` (`tinyface run` uses <home>/reports):
    <run>/report.html, <run>/samples.png   one folder per pipeline run, kept
    latest.html                           the newest run's page, linking to <run>/samples.png
<run> is the run's id (TFX names a run by its start time) with ':' made filesystem-safe. A run
without an evaluation (e.g. stopped by the data gate) still gets a page, saying so.
"""

import dataclasses
import datetime
import math
import os
import re

from tinyface import features
from tinyface.data import example_codec
from tinyface.evaluation import summary
from tinyface.reporting import eval_samples, grid, html_report, run_lineage

REPORTS_DIR = "reports"
REPORT_HTML = "report.html"
SAMPLES_PNG = "samples.png"
LATEST_HTML = "latest.html"
SAMPLE_COUNT = 8
_CAPTION_CHARS = 24   # what fits under a 128-pixel tile in PIL's default font


def write_report(store, reports_dir, sample_count=SAMPLE_COUNT):
    """Writes the latest run's report under `reports_dir`; returns the path of its report.html
    (of latest.html alone when `store` records no run at all)."""
    os.makedirs(reports_dir, exist_ok=True)
    lineage = run_lineage.latest_run(store)
    generated = datetime.datetime.now(datetime.timezone.utc)
    if lineage is None:
        content = html_report.ReportContent(run_id="(none recorded)", run_started=None, generated=generated)
        return _write(os.path.join(reports_dir, LATEST_HTML), html_report.render_html(content))

    run_dir = os.path.join(reports_dir, run_folder_name(lineage.run_id))
    os.makedirs(run_dir, exist_ok=True)
    samples_note = ""
    if lineage.evaluation is not None and lineage.model is not None and lineage.examples is not None:
        samples_note = _write_samples(lineage, os.path.join(run_dir, SAMPLES_PNG), sample_count)
    content = html_report.ReportContent(
        run_id=lineage.run_id,
        run_started=lineage.started,
        node_states=lineage.node_states,
        model_dir=lineage.serving_model_dir(),
        baseline_model_dir=lineage.serving_model_dir(lineage.baseline_model) if lineage.baseline_model else None,
        training_config=lineage.training_config,
        train_steps=lineage.train_steps,
        evaluation=summary.load_evaluation(lineage.evaluation.uri) if lineage.evaluation is not None else None,
        blessed=lineage.blessed,
        pushed_to=lineage.pushed_destination,
        samples_png=SAMPLES_PNG if samples_note else None,
        samples_note=samples_note,
        generated=generated,
    )
    report = _write(os.path.join(run_dir, REPORT_HTML), html_report.render_html(content))
    # The same page one folder up, its picture reached through the run's folder.
    latest = content
    if content.samples_png:
        latest = dataclasses.replace(content, samples_png=f"{os.path.basename(run_dir)}/{content.samples_png}")
    _write(os.path.join(reports_dir, LATEST_HTML), html_report.render_html(latest))
    return report


def run_folder_name(run_id):
    """A run id as a folder name: characters other than letters, digits, '.', '_', '-' become
    '-' (TFX's ids are ISO times, whose ':' some filesystems and tools refuse)."""
    return re.sub(r"[^0-9A-Za-z._-]", "-", run_id)


def _write_samples(lineage, path, count):
    """Draws the first `count` pairs of the evaluated split through the evaluated model into
    `path`; returns the sentence saying what the picture shows ("" when there were no pairs)."""
    from tfx.dsl.io import fileio

    from tinyface import prediction

    model = prediction.load_model(lineage.serving_model_dir())
    # TFX's filesystem layer, so a pipeline root on a remote filesystem reads the same way.
    files = sorted(fileio.glob(os.path.join(lineage.eval_split_uri(), "*")))
    pairs = eval_samples.read_pairs(files, count, scale=model.sr_size // model.lr_size)
    if not pairs:
        return ""
    samples = eval_samples.eval_samples(model, pairs)
    scores = eval_samples.sample_scores(samples)
    grid.write_grid(path, samples.lr, samples.bicubic, samples.sr, samples.hr,
                    samples.predicted_landmarks, samples.true_landmarks, captions(samples, scores))
    return (f"The first {len(pairs)} faces of the evaluated split ({lineage.eval_splits[0]}), "
            f"x{model.sr_size // model.lr_size}: the LR input enlarged without smoothing, its bicubic "
            "upsampling (the floor), the model's SR image with its predicted landmarks, and the HR "
            "target with the true landmarks and the predicted ones. Captions: PSNR-Y of that image "
            "against HR and NME of the predicted landmarks, as the evaluation computes them per face.")


def captions(samples, scores):
    """Per face, one caption per grid column: which face, bicubic's PSNR-Y, the model's PSNR-Y
    and NME, and the slice attributes that explain a hard face (pose, occluder)."""
    rows = []
    for index, pair in enumerate(samples.pairs):
        face_id = example_codec.text(pair, features.FACE_ID, "")
        nme = scores.nme[index]
        landmarks = f"NME {nme:.4f}" if math.isfinite(nme) else "NME n/a (no truth)"
        attributes = f"pose {example_codec.text(pair, features.POSE_BUCKET, '?')}"
        if example_codec.scalar(pair, features.OCCLUDED, 0) == 1:
            attributes += f"\noccluder {example_codec.text(pair, features.OCCLUDER, '?')}"
        rows.append((
            _fit(face_id.rsplit("/", 1)[-1]),
            f"PSNR-Y {scores.bicubic_psnr_y[index]:.2f} dB",
            f"PSNR-Y {scores.sr_psnr_y[index]:.2f} dB\n{landmarks}",
            "\n".join(_fit(line) for line in attributes.splitlines()),
        ))
    return rows


def _fit(text):
    return text if len(text) <= _CAPTION_CHARS else "..." + text[-(_CAPTION_CHARS - 3):]


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path
