import collections
import math

from tinyface.evaluation import face_metrics as fm
from tinyface.evaluation.summary import slice_rows, slice_table

FakeResult = collections.namedtuple("FakeResult", "slicing_metrics")


def _metrics(**values):
    return {"": {"": {key: {"doubleValue": value} for key, value in values.items()}}}


def test_overall_first_then_slices_with_candidate_and_floors():
    result = FakeResult([
        ((("pose_bucket", "profile"),), _metrics(**{fm.PSNR_Y: 21.5, fm.BICUBIC_PSNR_Y: 23.0})),
        ((), _metrics(**{fm.PSNR_Y: 25.25, fm.BICUBIC_PSNR_Y: 23.5, fm.PSNR_Y_GAIN_OVER_BICUBIC: 1.75,
                         fm.NME: 0.05, fm.MEAN_SHAPE_NME: 0.12})),
    ])
    lines = slice_table(result).splitlines()
    assert lines[0].startswith("slice") and "bicubic" in lines[0] and "mean shape" in lines[0]
    overall, profile = lines[1].split(), lines[2].split()
    assert overall[:6] == ["overall", "25.2500", "23.5000", "1.7500", "nan", "0.0500"]
    assert overall[6] == "0.1200"
    assert profile[0] == "pose_bucket=profile" and profile[1:3] == ["21.5000", "23.0000"]


def test_nan_and_infinities_stored_as_strings_are_numbers():
    # TFMA's EvalResult dicts come from json_format, which writes non-finite doubles as strings.
    result = FakeResult([((), _metrics(**{fm.PSNR_Y: "Infinity", fm.NME: "NaN", fm.SSIM_Y: 0.5}))])
    (row,) = slice_rows(result)
    assert row.name == "overall" and row.value(fm.PSNR_Y) == float("inf") and math.isnan(row.value(fm.NME))
    assert math.isnan(row.value(fm.AUC_008))                      # absent: NaN, not an error
    assert slice_table(result).splitlines()[1].split()[:2] == ["overall", "inf"]
