"""FaceSRMetrics: the TFMA metric that scores joint face SR + 68-landmark models per slice.

TFMA hands the combiner one StandardMetricInputs per example (after unbatching) holding the
parsed tf.Example `features` and, per model, the `predictions` dict of the
serve_tf_examples signature. The model has no single label tensor (the HR image is a PNG and
the landmarks a flat float list), so the labels are read from the features instead of a
label_key: `hr_image` is the SR target, `landmarks68`/`has_landmarks68` the landmark target.

The numbers themselves (decoding, the SR and landmark metrics, the bicubic and mean-shape
floors, per-slice means) are face_scores.SliceScores', shared with `tinyface evaluate`; this
module only adapts them to TFMA: keys per model, the accumulator of a Beam CombineFn.
"""

import apache_beam as beam
from tensorflow_model_analysis.metrics import metric_types

from tinyface.evaluation.face_scores import (AUC_008, BICUBIC_PSNR_Y, BICUBIC_SSIM_Y, DEFAULT_SCALE, FAILURE_RATE_008, FAILURE_RATE_010, INPUT_FEATURES, MEAN_SHAPE_NME, METRIC_NAMES, NME, NME_RATIO_TO_MEAN_SHAPE, PSNR_RGB, PSNR_Y, PSNR_Y_GAIN_OVER_BICUBIC, SSIM_RGB, SSIM_Y, SliceScores)

FACE_SR_METRICS_NAME = "face_sr_metrics"


class FaceSRMetrics(metric_types.Metric):
    """SR quality (model and bicubic floor) and 68-point NME (model and mean-shape floor).

    Build it in a MetricConfig as class_name "FaceSRMetrics", module
    "tinyface.evaluation.face_metrics" (it is also registered with TFMA on import). Every key
    in METRIC_NAMES is produced for every model of the eval config (candidate and baseline).
    """

    def __init__(self, name=FACE_SR_METRICS_NAME, default_scale=DEFAULT_SCALE):
        # kwargs are the serialisable config: TFMA rebuilds the metric from MetricConfig.config.
        super().__init__(_face_sr_computations, name=name, default_scale=int(default_scale))


metric_types.register_metric(FaceSRMetrics)


def _face_sr_computations(name=FACE_SR_METRICS_NAME, default_scale=DEFAULT_SCALE,
                          model_names=None, output_names=None, example_weighted=False):
    del name  # the computation emits METRIC_NAMES, not a key under the metric's own name
    if example_weighted:
        # Weighted PSNR means are not a convention anyone reports; refuse rather than mislabel.
        raise ValueError("FaceSRMetrics does not support example weights; use an unweighted MetricsSpec")
    if output_names and any(output_names):
        # The signature's outputs (sr_image, landmarks) are read together from one prediction dict.
        raise ValueError(f"FaceSRMetrics reads all outputs itself; do not set output_names ({output_names})")
    model_names = list(model_names or [""])
    # The keys say example_weighted=None, not False: thresholds on a Metric that emits several
    # names can only be set in MetricsSpec.thresholds / per_slice_thresholds, and TFMA 0.47
    # builds those threshold keys with example_weighted=None (metric_specs.
    # metric_thresholds_from_metrics_specs). MetricKey equality is plain tuple equality, so a
    # False here would leave every threshold "Metric not found".
    keys = {model: {metric: metric_types.MetricKey(name=metric, model_name=model, example_weighted=None)
                    for metric in METRIC_NAMES}
            for model in model_names}
    # One computation for all models, so the HR decode and both floors are done once per example.
    return [metric_types.MetricComputation(
        keys=[key for per_model in keys.values() for key in per_model.values()],
        preprocessors=[metric_types.FeaturePreprocessor(feature_keys=list(INPUT_FEATURES),
                                                        include_default_inputs=True)],
        combiner=_FaceSRCombiner(keys, int(default_scale)))]


class _FaceSRCombiner(beam.CombineFn):
    """One face_scores.SliceScores per slice; TFMA runs a combiner per slice."""

    def __init__(self, keys, default_scale):
        self._keys = keys
        self._default_scale = default_scale

    def create_accumulator(self):
        return SliceScores(self._keys)

    def add_input(self, accumulator, element):
        predictions = {model: element.get_predictions(model_name=model or None) for model in self._keys}
        return accumulator.add(element.features, predictions, self._default_scale)

    def merge_accumulators(self, accumulators):
        accumulators = iter(accumulators)
        merged = next(accumulators)
        for other in accumulators:
            merged.merge(other)
        return merged

    def extract_output(self, accumulator):
        results = accumulator.results()
        return {key: results[model][metric] for model, keys in self._keys.items() for metric, key in keys.items()}
