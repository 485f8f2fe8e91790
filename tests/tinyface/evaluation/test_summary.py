import collections
import math

from tinyface.evaluation import face_metrics as fm
from tinyface.evaluation import summary
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


def test_failed_blessing_checks_state_the_requirement_they_missed():
    from tensorflow_model_analysis.proto import validation_result_pb2

    from tinyface.evaluation.blessing import BlessingThresholds
    from tinyface.evaluation.eval_config import build_eval_config

    config = build_eval_config(["pose_bucket"], BlessingThresholds(
        min_psnr_gain_db=1.0, max_nme_ratio_to_mean_shape=1.0, psnr_regression_margin_db=-50,
        nme_regression_margin=0.005))
    thresholds = {name: spec.thresholds[0].threshold
                  for name, spec in config.metrics_specs[0].per_slice_thresholds.items()}
    validation = validation_result_pb2.ValidationResult(validation_ok=False)
    failing = validation.metric_validations_per_slice.add()
    failing.slice_key.single_slice_keys.add(column="pose_bucket", bytes_value=b"frontal")
    for name, value in ((fm.PSNR_Y_GAIN_OVER_BICUBIC, 0.4), (fm.PSNR_Y, -0.2), (fm.NME, 0.01)):
        failure = failing.failures.add(metric_value={"double_value": {"value": value}})
        failure.metric_key.name = name
        failure.metric_threshold.CopyFrom(thresholds[name])
    checks = summary.failed_checks(validation)
    requirements = {check.metric: check.requirement for check in checks}
    assert requirements[fm.PSNR_Y_GAIN_OVER_BICUBIC] == ">= 1"
    # A negative margin: the candidate must beat the baseline by 50 dB.
    assert requirements[fm.PSNR_Y] == "change vs baseline >= 50"
    assert requirements[fm.NME] == "change vs baseline <= 0.005"
