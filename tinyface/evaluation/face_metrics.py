"""FaceSRMetrics: the TFMA metric that scores joint face SR + 68-landmark models per slice.

TFMA hands the combiner one StandardMetricInputs per example (after unbatching) holding the
parsed tf.Example `features` and, per model, the `predictions` dict of the
serve_tf_examples signature. The model has no single label tensor (the HR image is a PNG and
the landmarks a flat float list), so the labels are read from the features instead of a
label_key: `hr_image` is the SR target, `landmarks68`/`has_landmarks68` the landmark target.

Alongside the model it computes the two floors a model must beat on the same examples:
- the SR floor: the LR input (`lr_image`) upsampled with PIL bicubic to the HR size;
- the landmark floor: the mean shape of the slice's ground-truth landmarks, predicted for
  every face of that slice (so it is computed at extract time, per slice).
All numbers come from tinyface.metrics; this module only decodes, accumulates and divides.

PSNR and SSIM are per-image values averaged over the slice (the BasicSR / DIC reporting
convention), with `scale` px shaved (the example's `scale` feature, else the metric's
default_scale). An image identical to its HR gives PSNR inf (tinyface.metrics.psnr) and the
slice mean is then inf: it is reported, not hidden. Landmark metrics only use faces with
has_landmarks68 = 1; a slice with none reports NaN for them.
"""

import io

import apache_beam as beam
import numpy as np
from PIL import Image
from tensorflow_model_analysis.metrics import metric_types

from tinyface import features, metrics, signatures
from tinyface.data import landmarks as landmark_schemes
from tinyface.data.degradation import bicubic_resize

FACE_SR_METRICS_NAME = "face_sr_metrics"
DEFAULT_SCALE = 8

# Output metric keys: thresholds in eval_config.py and the tests refer to these constants.
PSNR_Y = "psnr_y"
SSIM_Y = "ssim_y"
PSNR_RGB = "psnr_rgb"
SSIM_RGB = "ssim_rgb"
BICUBIC_PSNR_Y = "bicubic_psnr_y"
BICUBIC_SSIM_Y = "bicubic_ssim_y"
PSNR_Y_GAIN_OVER_BICUBIC = "psnr_y_gain_over_bicubic"
NME = "nme"
MEAN_SHAPE_NME = "mean_shape_nme"
NME_RATIO_TO_MEAN_SHAPE = "nme_ratio_to_mean_shape"
FAILURE_RATE_008 = "failure_rate_008"
FAILURE_RATE_010 = "failure_rate_010"
AUC_008 = "auc_008"

METRIC_NAMES = (
    PSNR_Y, SSIM_Y, PSNR_RGB, SSIM_RGB, BICUBIC_PSNR_Y, BICUBIC_SSIM_Y, PSNR_Y_GAIN_OVER_BICUBIC,
    NME, MEAN_SHAPE_NME, NME_RATIO_TO_MEAN_SHAPE, FAILURE_RATE_008, FAILURE_RATE_010, AUC_008,
)

# The features the combiner reads; only these are copied into its inputs (the preprocessor's
# include filter), so the other slice attributes do not travel through the combine.
INPUT_FEATURES = (features.HR_IMAGE, features.LR_IMAGE, features.LANDMARKS_68,
                  features.HAS_LANDMARKS_68, features.SCALE)

# Per-image sums kept for each model, in this order.
_IMAGE_SUMS = (PSNR_Y, SSIM_Y, PSNR_RGB, SSIM_RGB)
_NUM_POINTS = landmark_schemes.NUM_POINTS[landmark_schemes.IBUG68]


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


class _Accumulator:
    """Sums of per-image SR metrics, and the per-face landmark data the floors need later.

    The ground-truth landmarks are kept (N x 68 x 2 floats per slice) because the mean-shape
    floor depends on the whole slice's mean, known only at extract time; per-face model NMEs
    are kept because failure rate and AUC are not functions of a running sum.
    """

    __slots__ = ("images", "bicubic", "model_sums", "gt_landmarks", "model_nmes")

    def __init__(self, model_names):
        self.images = 0
        self.bicubic = np.zeros(2)                                  # psnr_y, ssim_y
        self.model_sums = {m: np.zeros(len(_IMAGE_SUMS)) for m in model_names}
        self.gt_landmarks = []                                      # (68, 2) arrays
        self.model_nmes = {m: [] for m in model_names}              # aligned with gt_landmarks


class _FaceSRCombiner(beam.CombineFn):

    def __init__(self, keys, default_scale):
        self._keys = keys
        self._default_scale = default_scale

    def create_accumulator(self):
        return _Accumulator(self._keys)

    def add_input(self, accumulator, element):
        feats = element.features
        hr = _decode_png(_scalar(feats, features.HR_IMAGE))
        lr = _decode_png(_scalar(feats, features.LR_IMAGE))
        scale_value = _scalar(feats, features.SCALE, default=None)
        shave = int(scale_value) if scale_value is not None else self._default_scale

        bicubic = bicubic_resize(lr, (hr.shape[1], hr.shape[0]))
        accumulator.images += 1
        accumulator.bicubic += (metrics.psnr(bicubic, hr, shave=shave, y_channel=True),
                                metrics.ssim(bicubic, hr, shave=shave, y_channel=True))

        has_landmarks = int(_scalar(feats, features.HAS_LANDMARKS_68, default=0)) == 1
        gt = None
        if has_landmarks:
            gt = np.asarray(feats[features.LANDMARKS_68], dtype=np.float64).reshape(_NUM_POINTS, 2)
            accumulator.gt_landmarks.append(gt)

        for model in self._keys:
            prediction = element.get_predictions(model_name=model or None)
            sr = np.asarray(prediction[signatures.SR_IMAGE_OUTPUT])
            if sr.shape != hr.shape:
                raise ValueError(f"model {model!r}: {signatures.SR_IMAGE_OUTPUT} shape {sr.shape} "
                                 f"does not match the HR label {hr.shape}")
            accumulator.model_sums[model] += (
                metrics.psnr(sr, hr, shave=shave, y_channel=True),
                metrics.ssim(sr, hr, shave=shave, y_channel=True),
                metrics.psnr(sr, hr, shave=shave, y_channel=False),
                metrics.ssim(sr, hr, shave=shave, y_channel=False))
            if gt is not None:
                points = np.asarray(prediction[signatures.LANDMARKS_OUTPUT], dtype=np.float64)
                accumulator.model_nmes[model].append(metrics.nme(points.reshape(_NUM_POINTS, 2), gt))
        return accumulator

    def merge_accumulators(self, accumulators):
        accumulators = iter(accumulators)
        merged = next(accumulators)
        for other in accumulators:
            merged.images += other.images
            merged.bicubic += other.bicubic
            merged.gt_landmarks.extend(other.gt_landmarks)
            for model in self._keys:
                merged.model_sums[model] += other.model_sums[model]
                merged.model_nmes[model].extend(other.model_nmes[model])
        return merged

    def extract_output(self, accumulator):
        nan = float("nan")
        images = accumulator.images
        bicubic_psnr_y, bicubic_ssim_y = (accumulator.bicubic / images) if images else (nan, nan)

        mean_shape_nme = nan
        if accumulator.gt_landmarks:
            gts = np.stack(accumulator.gt_landmarks)
            shape = metrics.mean_shape(gts)
            mean_shape_nme = float(np.mean(metrics.nme_batch(np.broadcast_to(shape, gts.shape), gts)))

        output = {}
        for model, keys in self._keys.items():
            means = accumulator.model_sums[model] / images if images else np.full(len(_IMAGE_SUMS), nan)
            values = dict(zip(_IMAGE_SUMS, (float(v) for v in means)))
            values[BICUBIC_PSNR_Y] = float(bicubic_psnr_y)
            values[BICUBIC_SSIM_Y] = float(bicubic_ssim_y)
            values[PSNR_Y_GAIN_OVER_BICUBIC] = values[PSNR_Y] - values[BICUBIC_PSNR_Y]
            nmes = accumulator.model_nmes[model]
            if nmes:
                values[NME] = float(np.mean(nmes))
                values[FAILURE_RATE_008] = metrics.failure_rate(nmes, 0.08)
                values[FAILURE_RATE_010] = metrics.failure_rate(nmes, 0.10)
                values[AUC_008] = metrics.auc(nmes, 0.08)
            else:
                values.update({NME: nan, FAILURE_RATE_008: nan, FAILURE_RATE_010: nan, AUC_008: nan})
            values[MEAN_SHAPE_NME] = mean_shape_nme
            # A zero floor (all faces identical) makes the ratio meaningless, not infinite.
            values[NME_RATIO_TO_MEAN_SHAPE] = (values[NME] / mean_shape_nme
                                               if mean_shape_nme and np.isfinite(mean_shape_nme) else nan)
            for metric, key in keys.items():
                output[key] = values[metric]
        return output


def _scalar(feats, key, default=...):
    """The single value of a parsed feature: TFMA gives (1,) arrays (or lists) per example."""
    value = feats.get(key) if feats is not None else None
    if value is not None:
        value = np.asarray(value, dtype=object if isinstance(value, (bytes, list)) else None).ravel()
        if value.size:
            return value[0]
    if default is ...:
        raise KeyError(f"example has no {key!r} feature; FaceSRMetrics needs pair examples")
    return default


def _decode_png(data):
    """uint8 RGB array of PNG bytes, as the pair generator wrote them (PIL)."""
    return np.asarray(Image.open(io.BytesIO(bytes(data))).convert("RGB"))
