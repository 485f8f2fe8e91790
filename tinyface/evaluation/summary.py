"""The evaluation by slice, read back from a TFMA output: the candidate's metrics next to the
floors (and the baseline model's, when there was one) and the blessing checks that failed.

Rows (slice_rows, failed_checks, load_evaluation) are what the HTML report renders; slice_table
formats the same rows as the text table `tinyface run` prints, so both show the same numbers;
`tinyface evaluate` prints its own scores (rows_by_slice) with the same format_slice_table.
"""

import dataclasses
import math
from typing import Dict, List, Optional, Tuple

from tensorflow_model_analysis.proto import config_pb2

from tinyface.evaluation import face_metrics as fm

COLUMNS = (
    ("PSNR-Y", fm.PSNR_Y), ("bicubic", fm.BICUBIC_PSNR_Y), ("gain dB", fm.PSNR_Y_GAIN_OVER_BICUBIC),
    ("SSIM-Y", fm.SSIM_Y), ("NME", fm.NME), ("mean shape", fm.MEAN_SHAPE_NME), ("FR@0.08", fm.FAILURE_RATE_008),
)
OVERALL = "overall"


@dataclasses.dataclass(frozen=True)
class SliceRow:
    """One slice's metrics, as TFMA stored them for one model."""

    name: str                     # "overall" or "feature=value[, feature=value]"
    key: Tuple                    # TFMA's slice key: () overall, else ((feature, value), ...)
    metrics: Dict[str, float]     # metric name -> value, for every metric TFMA stored a number for

    def value(self, metric):
        """The metric's value; NaN when the slice has none (shown, not hidden, like TFMA's NaN)."""
        return self.metrics.get(metric, math.nan)


@dataclasses.dataclass(frozen=True)
class FailedCheck:
    """A blessing threshold a slice did not meet (from TFMA's validation result)."""

    slice_name: str
    slice_key: Tuple
    metric: str                   # the metric's name, e.g. psnr_y_gain_over_bicubic
    against_baseline: bool        # a change threshold (candidate - baseline), not a fixed bound
    value: float                  # the metric's value, or its change against the baseline
    requirement: str              # e.g. ">= 1" or "change >= -0.1"; TFMA's message if it gave one


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """What the Evaluator wrote: rows per model and the failed checks."""

    candidate: List[SliceRow]
    baseline: Optional[List[SliceRow]]   # None when the run had no blessed model to compare with
    failed_checks: List[FailedCheck]
    validation_ok: bool                  # TFMA's own verdict on the thresholds
    # {metric: (lower, upper)}: the fixed bounds a slice's value had to meet (None: no bound).
    value_bounds: Dict[str, Tuple[Optional[float], Optional[float]]] = dataclasses.field(default_factory=dict)


def slice_name(slice_key):
    return OVERALL if not slice_key else ", ".join(f"{k}={v}" for k, v in slice_key)


def slice_rows(eval_result):
    """One SliceRow per slice of a tfma EvalResult (loaded for one model): overall first, then
    the slices by name."""
    rows = []
    for slice_key, by_output in eval_result.slicing_metrics:
        entries = by_output.get("", {}).get("", {})
        # float(): TFMA's dicts come from json_format.MessageToDict, which writes NaN and the
        # infinities as the strings "NaN", "Infinity", "-Infinity" (an empty slice, a zero floor).
        metrics = {name: float(entry["doubleValue"]) for name, entry in entries.items()
                   if isinstance(entry, dict) and "doubleValue" in entry}
        rows.append(SliceRow(slice_name(slice_key), tuple(slice_key), metrics))
    return ordered_rows(rows)


def rows_by_slice(metrics_by_slice):
    """SliceRows of {slice key: {metric: value}} (face_scores.score_by_slice), ordered as
    slice_rows orders TFMA's."""
    return ordered_rows(SliceRow(slice_name(key), tuple(key), dict(values)) for key, values in metrics_by_slice.items())


def ordered_rows(rows):
    """Overall first, then the slices by name."""
    return sorted(rows, key=lambda row: (bool(row.key), row.name))


def slice_table(eval_result):
    """Text table of a TFMA EvalResult: one row per slice, the candidate's metrics and the
    floors (PSNR/SSIM on Y, `scale` px shaved; NME normalised by the outer eye corners)."""
    return format_slice_table(slice_rows(eval_result))


def format_slice_table(rows):
    """The text table of SliceRows (`tinyface run` and `tinyface evaluate` print it)."""
    header = f"{'slice':32s}" + "".join(f"{title:>11s}" for title, _ in COLUMNS)
    lines = [header]
    for row in rows:
        lines.append(f"{row.name[:32]:32s}" + "".join(f"{row.value(key):11.4f}" for _, key in COLUMNS))
    return "\n".join(lines)


def failed_checks(validation_result):
    """The FailedChecks of a tfma ValidationResult, overall first, then by slice name."""
    import tensorflow_model_analysis as tfma

    checks = []
    for per_slice in validation_result.metric_validations_per_slice:
        key = tuple(tfma.slicer.deserialize_slice_key(per_slice.slice_key))
        for failure in per_slice.failures:
            checks.append(FailedCheck(
                slice_name=slice_name(key), slice_key=key, metric=failure.metric_key.name,
                against_baseline=failure.metric_key.is_diff,
                value=failure.metric_value.double_value.value,
                requirement=failure.message or _requirement(failure.metric_threshold)))
    return sorted(checks, key=lambda check: (bool(check.slice_key), check.slice_name, check.metric))


def _requirement(threshold):
    """A MetricThreshold as the condition the value had to meet (TFMA's bounds are inclusive)."""
    parts = []
    if threshold.HasField("value_threshold"):
        bounds = threshold.value_threshold
        if bounds.HasField("lower_bound"):
            parts.append(f">= {bounds.lower_bound.value:.6g}")
        if bounds.HasField("upper_bound"):
            parts.append(f"<= {bounds.upper_bound.value:.6g}")
    if threshold.HasField("change_threshold"):
        change = threshold.change_threshold
        # metrics_validator: HIGHER_IS_BETTER passes when diff >= bound, LOWER_IS_BETTER when <=.
        higher = change.direction == config_pb2.MetricDirection.HIGHER_IS_BETTER
        relation = ">=" if higher else "<="
        if change.HasField("absolute"):
            parts.append(f"change vs baseline {relation} {change.absolute.value:.6g}")
        if change.HasField("relative"):
            parts.append(f"relative change vs baseline {relation} {change.relative.value:.6g}")
    return " and ".join(parts)


def value_bounds(eval_config):
    """{metric: (lower, upper)} of the value thresholds of a tfma EvalConfig (global or per
    slice; ours are the same on every slice)."""
    bounds = {}

    def add(name, threshold):
        if threshold.HasField("value_threshold"):
            value = threshold.value_threshold
            bounds[name] = (value.lower_bound.value if value.HasField("lower_bound") else None,
                            value.upper_bound.value if value.HasField("upper_bound") else None)

    for spec in eval_config.metrics_specs:
        for name, threshold in spec.thresholds.items():
            add(name, threshold)
        for name, per_slice in spec.per_slice_thresholds.items():
            for entry in per_slice.thresholds:
                add(name, entry.threshold)
    return bounds


def load_evaluation(output_path):
    """The Evaluation in a TFMA output folder (the Evaluator's ModelEvaluation artifact).

    Each model is loaded by the name its ModelSpec has in the stored eval config: the TFX
    Evaluator names them "candidate" and "baseline" when it had a baseline model, and leaves
    the single spec unnamed when it had none.
    """
    import tensorflow_model_analysis as tfma

    config = tfma.load_eval_result(output_path).config
    candidate_name = next((spec.name for spec in config.model_specs if not spec.is_baseline), "")
    baseline_name = next((spec.name for spec in config.model_specs if spec.is_baseline), None)
    candidate = slice_rows(tfma.load_eval_result(output_path, model_name=candidate_name))
    baseline = (slice_rows(tfma.load_eval_result(output_path, model_name=baseline_name))
                if baseline_name is not None else None)
    validation = tfma.load_validation_result(output_path)
    return Evaluation(candidate=candidate, baseline=baseline, failed_checks=failed_checks(validation),
                      validation_ok=validation.validation_ok, value_bounds=value_bounds(config))
