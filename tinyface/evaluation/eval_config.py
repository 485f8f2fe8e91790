"""The Evaluator's tfma.EvalConfig: FaceSRMetrics on the serve_tf_examples signature, sliced,
with the blessing thresholds.

What TFMA 0.47 does with this config (read from its source):
- No label_key: FaceSRMetrics reads its labels from the features (hr_image, landmarks68)
  through a FeaturePreprocessor, so the ModelSpec names only the signature. TFMA does not
  require a label key for a custom metric; labels are simply absent from its inputs.
- Thresholds sit in MetricsSpec.per_slice_thresholds keyed by the output name (psnr_y, ...),
  not in MetricConfig.threshold: a MetricConfig threshold is keyed by the metric's own name
  ("face_sr_metrics"), and FaceSRMetrics emits thirteen other names. TFMA builds these
  MetricsSpec threshold keys with example_weighted=None, which is why face_metrics emits
  its keys with example_weighted=None (else every threshold reports "Metric not found").
- Value thresholds compare the candidate's metric with fixed bounds; lower_bound and
  upper_bound are inclusive. TFMA has no strict bound, so "nme_ratio < max_nme_ratio" is the
  inclusive upper bound just below it (np.nextafter towards 0).
- Change thresholds compare diff = candidate - baseline (the metric's diff key) with
  `absolute` as a signed bound: HIGHER_IS_BETTER passes when diff >= absolute,
  LOWER_IS_BETTER when diff <= absolute (metrics_validator). "psnr_y may drop by at most m"
  is therefore absolute = -m, "nme may rise by at most m" absolute = +m. They need a
  baseline model: the TFX Evaluator adds the baseline ModelSpec as a copy of this one when
  a baseline model is wired in, and drops change thresholds when there is none (rubber
  stamp, the first run). Standalone run_model_analysis raises on change thresholds with a
  single model unless that model is built with rubber_stamp=True, or a baseline is given
  (tfma.utils.update_eval_config_with_defaults(config, has_baseline=True) adds its spec).
- A threshold in MetricsSpec.thresholds applies to every slice TFMA computes;
  per_slice_thresholds apply only to the SlicingSpecs they list (the overall SlicingSpec()
  matches only the overall slice; SlicingSpec(feature_keys=[f]) matches every value of f).
  The thresholds here are per_slice_thresholds over exactly this config's slicing specs, so
  the config itself says which slices gate the blessing, and each is checked once.
- Slices where a metric is NaN (no faces with landmarks) fail a bound check: a slice that
  cannot show the model beats the floor does not bless it.
"""

import numpy as np
import tensorflow_model_analysis as tfma

from tinyface import signatures
from tinyface.evaluation import face_metrics
from tinyface.evaluation.blessing import BlessingThresholds


def _value_threshold(lower=None, upper=None):
    bounds = {}
    if lower is not None:
        bounds["lower_bound"] = {"value": float(lower)}
    if upper is not None:
        bounds["upper_bound"] = {"value": float(upper)}
    return tfma.MetricThreshold(value_threshold=tfma.GenericValueThreshold(**bounds))


def _change_threshold(margin, direction):
    """Allows the metric to get worse than the baseline by at most `margin` (>= 0)."""
    bound = -float(margin) if direction == tfma.MetricDirection.HIGHER_IS_BETTER else float(margin)
    return tfma.MetricThreshold(change_threshold=tfma.GenericChangeThreshold(
        absolute={"value": bound}, direction=direction))


def build_eval_config(slice_features, thresholds: BlessingThresholds):
    """tfma.EvalConfig scoring the model on overall + one slice per feature in `slice_features`.

    Blessing needs, on every slice: psnr_y_gain_over_bicubic >= min_psnr_gain_db and
    nme_ratio_to_mean_shape < max_nme_ratio_to_mean_shape (the floors), and against a baseline
    model (when there is one): psnr_y not lower by more than psnr_regression_margin_db and nme
    not higher by more than nme_regression_margin.
    """
    slice_features = list(slice_features)
    slicing_specs = [tfma.SlicingSpec()] + [tfma.SlicingSpec(feature_keys=[name]) for name in slice_features]

    thresholds = {
        face_metrics.PSNR_Y_GAIN_OVER_BICUBIC: _value_threshold(lower=thresholds.min_psnr_gain_db),
        # Strict "< max": the largest float below it is the inclusive bound TFMA supports.
        face_metrics.NME_RATIO_TO_MEAN_SHAPE: _value_threshold(
            upper=np.nextafter(thresholds.max_nme_ratio_to_mean_shape, 0.0)),
        face_metrics.PSNR_Y: _change_threshold(thresholds.psnr_regression_margin_db,
                                               tfma.MetricDirection.HIGHER_IS_BETTER),
        face_metrics.NME: _change_threshold(thresholds.nme_regression_margin, tfma.MetricDirection.LOWER_IS_BETTER),
    }
    per_slice = {
        name: tfma.PerSliceMetricThresholds(thresholds=[
            tfma.PerSliceMetricThreshold(slicing_specs=slicing_specs, threshold=threshold)])
        for name, threshold in thresholds.items()
    }
    metrics_spec = tfma.MetricsSpec(
        metrics=[tfma.MetricConfig(class_name=face_metrics.FaceSRMetrics.__name__,
                                   module=face_metrics.__name__)],
        per_slice_thresholds=per_slice,
    )
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(signature_name=signatures.TF_EXAMPLE_SIGNATURE)],
        slicing_specs=slicing_specs,
        metrics_specs=[metrics_spec],
    )
