import collections

from tinyface.evaluation import face_metrics as fm
from tinyface.evaluation.summary import slice_table

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
