"""The report's charts, as PNG files drawn with matplotlib (no TensorFlow; tested on their own).

- training curves: one panel per loss term, over the steps, the training running mean as a line
  and the validation figure (end of each checkpoint interval) as dots;
- by slice: the PSNR-Y gain over bicubic and the NME of every slice, as bars, against the
  floors the blessing holds them to (the minimum gain; the mean shape's NME times the allowed
  ratio) and against the last blessed model when the run had one. A bar that failed a blessing
  check is red.
"""

import math

import matplotlib

matplotlib.use("Agg")   # files only: no display, whatever MPLBACKEND says
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

from tinyface.evaluation import face_metrics as fm  # noqa: E402

CANDIDATE_COLOUR = "#3b6fb6"
FAILED_COLOUR = "#d64541"
BASELINE_COLOUR = "#222222"
FLOOR_COLOUR = "#e08a00"
VALIDATION_COLOUR = "#d64541"
_DPI = 100


def write_curves_chart(path, curves, train_split="train", validation_split="validation"):
    """curves: {split: {term: (steps, values)}} (tinyface.trainer.training.training_curves.read_curves). One panel
    per term, the total loss first; returns `path`."""
    train, validation = curves.get(train_split, {}), curves.get(validation_split, {})
    terms = sorted(set(train) | set(validation), key=lambda term: (term != "loss", term))
    if not terms:
        raise ValueError("no training curves to draw")
    columns = min(3, len(terms))
    rows = math.ceil(len(terms) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.0 * rows), squeeze=False)
    for axis, term in zip(axes.flat, terms):
        if term in train:
            axis.plot(*train[term], color=CANDIDATE_COLOUR, linewidth=1.2, label="training (running mean)")
        if term in validation:
            axis.plot(*validation[term], "o--", color=VALIDATION_COLOUR, markersize=4, linewidth=0.8,
                      label="validation")
        values = [v for split in (train, validation) for v in split.get(term, ((), ()))[1]]
        if values and min(values) > 0 and max(values) / min(values) > 20:
            axis.set_yscale("log")
        axis.set_title(term)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    for axis in list(axes.flat)[len(terms):]:
        axis.set_visible(False)
    return _save(figure, path)


def write_slice_chart(path, evaluation):
    """evaluation: tinyface.evaluation.summary.Evaluation. Two panels, one row per slice:
    PSNR-Y gain over bicubic, and NME; returns `path`."""
    rows = evaluation.candidate
    if not rows:
        raise ValueError("the evaluation has no slices to draw")
    baseline = {row.key: row for row in evaluation.baseline or ()}
    failed = {(check.slice_key, check.metric) for check in evaluation.failed_checks}
    names = [row.name for row in rows]
    positions = list(range(len(rows)))[::-1]    # overall on top
    figure, (gain_axis, nme_axis) = plt.subplots(1, 2, figsize=(12, 0.42 * len(rows) + 2.2), sharey=True)

    gain_failed = [(row.key, fm.PSNR_Y_GAIN_OVER_BICUBIC) in failed or (row.key, fm.PSNR_Y) in failed
                   for row in rows]
    gains = [row.value(fm.PSNR_Y_GAIN_OVER_BICUBIC) for row in rows]
    gain_axis.barh(positions, gains, color=[FAILED_COLOUR if f else CANDIDATE_COLOUR for f in gain_failed],
                   label="model")
    minimum_gain = evaluation.value_bounds.get(fm.PSNR_Y_GAIN_OVER_BICUBIC, (None, None))[0]
    if minimum_gain is not None and math.isfinite(minimum_gain) and abs(minimum_gain) < 50:
        gain_axis.axvline(minimum_gain, color=FLOOR_COLOUR, linestyle="--", label=f"floor: +{minimum_gain:g} dB")
    gain_axis.axvline(0, color="#888888", linewidth=0.8)
    if baseline:
        gain_axis.plot([_value(baseline, row, fm.PSNR_Y_GAIN_OVER_BICUBIC) for row in rows], positions, "D",
                       color=BASELINE_COLOUR, markersize=5, label="last blessed model")
    gain_axis.set_title("PSNR-Y gain over bicubic (dB), higher is better")

    nme_failed = [(row.key, fm.NME_RATIO_TO_MEAN_SHAPE) in failed or (row.key, fm.NME) in failed for row in rows]
    nme_axis.barh(positions, [row.value(fm.NME) for row in rows],
                  color=[FAILED_COLOUR if f else CANDIDATE_COLOUR for f in nme_failed], label="model")
    nme_axis.plot([row.value(fm.MEAN_SHAPE_NME) for row in rows], positions, "|", color=FLOOR_COLOUR,
                  markersize=16, markeredgewidth=2.5, label="mean shape (floor)")
    max_ratio = evaluation.value_bounds.get(fm.NME_RATIO_TO_MEAN_SHAPE, (None, None))[1]
    if max_ratio is not None and math.isfinite(max_ratio) and abs(max_ratio - 1.0) > 1e-6 and max_ratio < 10:
        nme_axis.plot([max_ratio * row.value(fm.MEAN_SHAPE_NME) for row in rows], positions, "|",
                      color=FLOOR_COLOUR, alpha=0.5, markersize=16, markeredgewidth=1.5,
                      label=f"allowed: {max_ratio:.3g} x mean shape")
    if baseline:
        nme_axis.plot([_value(baseline, row, fm.NME) for row in rows], positions, "D", color=BASELINE_COLOUR,
                      markersize=5, label="last blessed model")
    nme_axis.set_title("NME (outer eye corners), lower is better")

    gain_axis.set_yticks(positions, names)
    for axis in (gain_axis, nme_axis):
        axis.grid(axis="x", alpha=0.3)
        # Under the panel, so it never hides a bar.
        axis.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    return _save(figure, path)


def _value(rows_by_key, row, metric):
    other = rows_by_key.get(row.key)
    return other.value(metric) if other is not None else math.nan


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=_DPI)
    plt.close(figure)
    return path
