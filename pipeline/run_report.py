"""Writes the report of the latest pipeline run: report.html and its pictures.

Layout under `reports_dir` (`tinyface run` uses <home>/reports):
    <run>/report.html                     one folder per pipeline run, kept
    <run>/curves.png                      the training curves of every loss term
    <run>/slices.png                      PSNR gain and NME by slice against the floors
    <run>/samples.png                     the worst and the best eval face of each slice
    latest.html                           the newest run's page, linking into <run>/
<run> is the run's id (TFX names a run by its start time) with ':' made filesystem-safe. Every
run gets a page: one stopped by a failed node (the data gate) says which node and why.
"""

import dataclasses
import datetime
import math
import os
import re

from tinyface import features
from tinyface.data import example_codec
from tinyface.evaluation import summary
from tinyface.reporting import charts, eval_samples, grid, html_report
from tinyface.pipeline import run_lineage

REPORTS_DIR = "reports"
REPORT_HTML = "report.html"
SAMPLES_PNG = "samples.png"
CURVES_PNG = "curves.png"
SLICES_PNG = "slices.png"
LATEST_HTML = "latest.html"
SAMPLE_POOL = 256       # eval faces read to choose each slice's worst and best from
_CAPTION_CHARS = 24     # what fits under a 128-pixel tile in PIL's default font


def write_report(store, reports_dir, sample_pool=SAMPLE_POOL, stop_reason=None):
    """Writes the latest run's report under `reports_dir`; returns the path of its report.html
    (of latest.html alone when `store` records no run at all). `stop_reason`: why the run
    stopped, when it did (the failed node's error, which ML Metadata does not keep)."""
    os.makedirs(reports_dir, exist_ok=True)
    lineage = run_lineage.latest_run(store)
    generated = datetime.datetime.now(datetime.timezone.utc)
    if lineage is None:
        content = html_report.ReportContent(run_id="(none recorded)", run_started=None, generated=generated)
        return _write(os.path.join(reports_dir, LATEST_HTML), html_report.render_html(content))

    run_dir = os.path.join(reports_dir, run_folder_name(lineage.run_id))
    os.makedirs(run_dir, exist_ok=True)
    evaluation = summary.load_evaluation(lineage.evaluation.uri) if lineage.evaluation is not None else None
    samples_note = ""
    if evaluation is not None and lineage.model is not None and lineage.examples is not None:
        samples_note = _write_samples(lineage, evaluation, os.path.join(run_dir, SAMPLES_PNG), sample_pool)
    curves = _write_curves(lineage, os.path.join(run_dir, CURVES_PNG))
    slices = (charts.write_slice_chart(os.path.join(run_dir, SLICES_PNG), evaluation)
              if evaluation is not None and evaluation.candidate else None)
    content = html_report.ReportContent(
        run_id=lineage.run_id,
        run_started=lineage.started,
        node_states=lineage.node_states,
        stopped_at=lineage.stopped_at,
        stop_reason=stop_reason if lineage.stopped_at else None,
        model_dir=lineage.serving_model_dir(),
        baseline_model_dir=lineage.serving_model_dir(lineage.baseline_model) if lineage.baseline_model else None,
        training_config=_settings_in_use(lineage.training_config),
        train_steps=lineage.train_steps,
        evaluation=evaluation,
        blessed=lineage.blessed,
        pushed_to=lineage.pushed_destination,
        already_served=lineage.already_served,
        curves_png=CURVES_PNG if curves else None,
        slices_png=SLICES_PNG if slices else None,
        samples_png=SAMPLES_PNG if samples_note else None,
        samples_note=samples_note,
        generated=generated,
    )
    report = _write(os.path.join(run_dir, REPORT_HTML), html_report.render_html(content))
    # The same page one folder up, its pictures reached through the run's folder.
    folder = os.path.basename(run_dir)
    latest = dataclasses.replace(content, **{
        name: f"{folder}/{getattr(content, name)}" for name in html_report.PICTURE_FIELDS
        if getattr(content, name)})
    _write(os.path.join(reports_dir, LATEST_HTML), html_report.render_html(latest))
    return report


def run_folder_name(run_id):
    """A run id as a folder name: characters other than letters, digits, '.', '_', '-' become
    '-' (TFX's ids are ISO times, whose ':' some filesystems and tools refuse)."""
    return re.sub(r"[^0-9A-Za-z._-]", "-", run_id)


def _write_samples(lineage, evaluation, path, pool):
    """Draws the worst and the best face of every slice of `evaluation`, among the first
    `pool` pairs of the evaluated split, through the evaluated model into `path`; returns the
    sentence saying what the picture shows ("" when there were no pairs)."""
    from tfx.dsl.io import fileio

    from tinyface import prediction

    model = prediction.load_model(lineage.serving_model_dir())
    scale = model.sr_size // model.lr_size
    # TFX's filesystem layer, so a pipeline root on a remote filesystem reads the same way.
    files = sorted(fileio.glob(os.path.join(lineage.eval_split_uri(), "*")))
    pairs = eval_samples.read_pairs(files, pool, scale=scale)
    if not pairs:
        return ""
    samples = eval_samples.eval_samples(model, pairs)
    scores = eval_samples.sample_scores(samples)
    chosen = eval_samples.worst_and_best(samples.pairs, scores.sr_psnr_y - scores.bicubic_psnr_y,
                                         [row.key for row in evaluation.candidate], summary.slice_name)
    if not chosen:
        return ""
    labels, indices = zip(*chosen)
    shown = eval_samples.select(samples, indices)
    grid.write_grid(path, shown.lr, shown.bicubic, shown.sr, shown.hr, shown.predicted_landmarks,
                    shown.true_landmarks, captions(shown, eval_samples.sample_scores(shown), labels))
    return (f"For every slice, its worst and its best face by the model's PSNR-Y gain over bicubic, "
            f"among the first {len(pairs)} faces of the evaluated split ({lineage.eval_splits[0]}), "
            f"x{scale}: the LR input enlarged without smoothing, its bicubic upsampling (the floor), "
            "the model's SR image with its predicted landmarks, and the HR target with the true "
            "landmarks and the predicted ones. Captions: PSNR-Y of that image against HR and NME "
            "of the predicted landmarks, as the evaluation computes them per face.")


def _write_curves(lineage, path):
    """The Trainer's training curves (trainer/training/training_curves.py) as a chart at `path`; None
    when the run has no Trainer logs with curves (a stopped run, a model trained before them)."""
    from tinyface.trainer.training import training_curves

    if lineage.model_run is None:
        return None
    csv_path = os.path.join(lineage.model_run.uri, training_curves.CURVES_CSV)
    if not os.path.isfile(csv_path):
        return None
    curves = training_curves.read_curves(csv_path)
    if not curves:
        return None
    return charts.write_curves_chart(path, curves, training_curves.TRAIN, training_curves.VALIDATION)


def _settings_in_use(custom_config):
    """The settings, of the Trainer's custom_config, that its model reads
    (tinyface.trainer.training.training_config.TrainingConfig.settings_in_use)."""
    from tinyface.trainer.models import registry
    from tinyface.trainer.training.training_config import CONFIG_KEY, TrainingConfig

    if CONFIG_KEY not in (custom_config or {}):
        return custom_config or {}
    try:
        config = TrainingConfig.from_dict(custom_config[CONFIG_KEY])
        adversarial = registry.is_adversarial(config.model)
    except (TypeError, ValueError, KeyError):
        return custom_config        # settings of another version: shown as they were recorded
    return config.settings_in_use(adversarial)


def captions(samples, scores, labels=None):
    """Per face, one caption per grid column: which face (or, when `labels` gives one per face,
    why it is shown, e.g. "worst of pose_bucket=profile"), bicubic's PSNR-Y, the model's PSNR-Y
    and NME, and the slice attributes that explain a hard face (pose, occluder)."""
    rows = []
    for index, pair in enumerate(samples.pairs):
        face_id = example_codec.text(pair, features.FACE_ID, "")
        name = _fit(face_id.rsplit("/", 1)[-1])
        nme = scores.nme[index]
        landmarks = f"NME {nme:.4f}" if math.isfinite(nme) else "NME n/a (no truth)"
        attributes = f"pose {example_codec.text(pair, features.POSE_BUCKET, '?')}"
        if example_codec.scalar(pair, features.OCCLUDED, 0) == 1:
            attributes += f"\noccluder {example_codec.text(pair, features.OCCLUDER, '?')}"
        rows.append((
            _label_caption(labels[index]) if labels else name,
            f"PSNR-Y {scores.bicubic_psnr_y[index]:.2f} dB",
            f"PSNR-Y {scores.sr_psnr_y[index]:.2f} dB\n{landmarks}",
            "\n".join(_fit(line) for line in attributes.splitlines()),
        ))
    return rows


def _label_caption(label):
    """"worst of pose_bucket=profile" on two lines, so the slice's name fits under the tile."""
    kind, _, slice_name = label.partition(" of ")
    return f"{kind} of\n{_fit(slice_name)}" if slice_name else _fit(label)


def _fit(text):
    return text if len(text) <= _CAPTION_CHARS else "..." + text[-(_CAPTION_CHARS - 3):]


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path
