"""A table of the candidate's metrics next to the floors', by slice, from a TFMA EvalResult."""

from tinyface.evaluation import face_metrics as fm

COLUMNS = (
    ("PSNR-Y", fm.PSNR_Y), ("bicubic", fm.BICUBIC_PSNR_Y), ("gain dB", fm.PSNR_Y_GAIN_OVER_BICUBIC),
    ("SSIM-Y", fm.SSIM_Y), ("NME", fm.NME), ("mean shape", fm.MEAN_SHAPE_NME), ("FR@0.08", fm.FAILURE_RATE_008),
)


def _slice_name(slice_key):
    return "overall" if not slice_key else ", ".join(f"{k}={v}" for k, v in slice_key)


def _value(metrics, key):
    entry = metrics.get(key, {})
    return entry.get("doubleValue", float("nan")) if isinstance(entry, dict) else float("nan")


def slice_table(eval_result, model_name=""):
    """Text table: one row per slice, the candidate's metrics and the floors (PSNR/SSIM on Y,
    `scale` px shaved; NME normalised by the outer eye corners)."""
    header = f"{'slice':32s}" + "".join(f"{title:>11s}" for title, _ in COLUMNS)
    rows = [header]
    for slice_key, by_output in sorted(eval_result.slicing_metrics, key=lambda item: (bool(item[0]), _slice_name(item[0]))):
        metrics = by_output.get("", {}).get("", {})
        rows.append(f"{_slice_name(slice_key)[:32]:32s}" + "".join(f"{_value(metrics, key):11.4f}" for _, key in COLUMNS))
    return "\n".join(rows)
