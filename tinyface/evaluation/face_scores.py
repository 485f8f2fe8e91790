"""Scoring pair examples against a model's outputs, per slice: the computation behind the
Evaluator's FaceSRMetrics (face_metrics.py wraps it in a TFMA combiner) and `tinyface evaluate`
(which runs it without TFMA). Pure numpy and PIL; no TensorFlow, Beam or TFMA.

Per example: the HR target and LR input are decoded from the pair's PNGs; the SR floor is the LR
image upsampled with PIL bicubic; PSNR/SSIM shave `scale` px (the example's `scale` feature, else
the default). Per slice: per-image PSNR and SSIM averaged (the BasicSR / DIC convention), the
landmark metrics over the faces with has_landmarks68 = 1, and the mean-shape floor: the slice's
mean ground-truth shape predicted for every face of that slice (known only once the slice is
complete, hence kept per face). An image identical to its HR gives PSNR inf and its slice mean
is inf: reported, not hidden. A slice without landmark faces reports NaN for them.

Slices are the Evaluator's: overall, plus one per value of each slicing feature
(tfma.SlicingSpec(feature_keys=[feature]) in eval_config.py), named as summary.slice_name names
TFMA's keys.
"""

import io

import numpy as np
from PIL import Image

from tinyface import features, metrics, signatures
from tinyface.data import landmarks as landmark_schemes
from tinyface.data.degradation.degrade import bicubic_resize

DEFAULT_SCALE = 8

# Output metric names: thresholds (eval_config.py), tables (summary.py) and tests refer to these.
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

# The features a score reads from each example.
INPUT_FEATURES = (features.HR_IMAGE, features.LR_IMAGE, features.LANDMARKS_68,
                  features.HAS_LANDMARKS_68, features.SCALE)

# Per-image sums kept for each model, in this order.
_IMAGE_SUMS = (PSNR_Y, SSIM_Y, PSNR_RGB, SSIM_RGB)
_NUM_POINTS = landmark_schemes.NUM_POINTS[landmark_schemes.IBUG68]


class SliceScores:
    """The running scores of one slice for one or more models (keyed by model name).

    Sums of per-image SR metrics, and per face the ground-truth landmarks (N x 68 x 2 floats)
    and each model's NME: the mean-shape floor needs the whole slice's mean, failure rate and
    AUC are not functions of a running sum.
    """

    __slots__ = ("images", "bicubic", "model_sums", "gt_landmarks", "model_nmes")

    def __init__(self, model_names=("",)):
        self.images = 0
        self.bicubic = np.zeros(2)                                  # psnr_y, ssim_y
        self.model_sums = {m: np.zeros(len(_IMAGE_SUMS)) for m in model_names}
        self.gt_landmarks = []                                      # (68, 2) arrays
        self.model_nmes = {m: [] for m in model_names}              # aligned with gt_landmarks

    def add(self, example_features, predictions, default_scale=DEFAULT_SCALE):
        """Scores one pair example. `example_features` maps feature keys to their values as a
        sequence (TFMA's (1,) arrays or example_codec's lists); `predictions` maps each model
        name to its outputs for the example ({sr_image: (H, W, 3) uint8, landmarks: (68, 2)})."""
        hr = decode_png(feature_value(example_features, features.HR_IMAGE))
        lr = decode_png(feature_value(example_features, features.LR_IMAGE))
        scale_value = feature_value(example_features, features.SCALE, default=None)
        shave = int(scale_value) if scale_value is not None else int(default_scale)

        bicubic = bicubic_resize(lr, (hr.shape[1], hr.shape[0]))
        self.images += 1
        self.bicubic += (metrics.psnr(bicubic, hr, shave=shave, y_channel=True),
                         metrics.ssim(bicubic, hr, shave=shave, y_channel=True))

        has_landmarks = int(feature_value(example_features, features.HAS_LANDMARKS_68, default=0)) == 1
        gt = None
        if has_landmarks:
            gt = np.asarray(example_features[features.LANDMARKS_68], dtype=np.float64).reshape(_NUM_POINTS, 2)
            self.gt_landmarks.append(gt)

        for model in self.model_sums:
            prediction = predictions[model]
            sr = np.asarray(prediction[signatures.SR_IMAGE_OUTPUT])
            if sr.shape != hr.shape:
                raise ValueError(f"model {model!r}: {signatures.SR_IMAGE_OUTPUT} shape {sr.shape} "
                                 f"does not match the HR label {hr.shape}")
            self.model_sums[model] += (
                metrics.psnr(sr, hr, shave=shave, y_channel=True),
                metrics.ssim(sr, hr, shave=shave, y_channel=True),
                metrics.psnr(sr, hr, shave=shave, y_channel=False),
                metrics.ssim(sr, hr, shave=shave, y_channel=False))
            if gt is not None:
                points = np.asarray(prediction[signatures.LANDMARKS_OUTPUT], dtype=np.float64)
                self.model_nmes[model].append(metrics.nme(points.reshape(_NUM_POINTS, 2), gt))
        return self

    def merge(self, other):
        """Adds another SliceScores of the same models into this one; returns self."""
        self.images += other.images
        self.bicubic += other.bicubic
        self.gt_landmarks.extend(other.gt_landmarks)
        for model in self.model_sums:
            self.model_sums[model] += other.model_sums[model]
            self.model_nmes[model].extend(other.model_nmes[model])
        return self

    def results(self):
        """{model name: {metric name: value}} for every name in METRIC_NAMES."""
        nan = float("nan")
        images = self.images
        bicubic_psnr_y, bicubic_ssim_y = (self.bicubic / images) if images else (nan, nan)

        mean_shape_nme = nan
        if self.gt_landmarks:
            gts = np.stack(self.gt_landmarks)
            shape = metrics.mean_shape(gts)
            mean_shape_nme = float(np.mean(metrics.nme_batch(np.broadcast_to(shape, gts.shape), gts)))

        output = {}
        for model, sums in self.model_sums.items():
            means = sums / images if images else np.full(len(_IMAGE_SUMS), nan)
            values = dict(zip(_IMAGE_SUMS, (float(v) for v in means)))
            values[BICUBIC_PSNR_Y] = float(bicubic_psnr_y)
            values[BICUBIC_SSIM_Y] = float(bicubic_ssim_y)
            values[PSNR_Y_GAIN_OVER_BICUBIC] = values[PSNR_Y] - values[BICUBIC_PSNR_Y]
            nmes = self.model_nmes[model]
            if nmes:
                values[NME] = float(np.mean(nmes))
                values[FAILURE_RATE_008] = metrics.failure_rate(nmes, 0.08)
                values[FAILURE_RATE_010] = metrics.failure_rate(nmes, 0.10)
                values[AUC_008] = metrics.auc(nmes, 0.08)
            else:
                values.update({NME: nan, FAILURE_RATE_008: nan, FAILURE_RATE_010: nan, AUC_008: nan})
            values[MEAN_SHAPE_NME] = mean_shape_nme
            values[NME_RATIO_TO_MEAN_SHAPE] = _ratio_to_mean_shape(values[NME], mean_shape_nme)
            output[model] = values
        return output


def _ratio_to_mean_shape(nme, mean_shape_nme):
    """NME over the mean shape's, the floor blessing compares with. A slice of one face (or of
    identical faces) has a mean shape equal to its truth, NME 0: a floor no model can beat and
    nothing to judge, so its ratio is 0 and it never blocks blessing (a weekly span with a single
    profile face would otherwise stop every push). No landmarks at all: NaN, as NME is."""
    if not np.isfinite(mean_shape_nme):
        return float("nan")
    if mean_shape_nme == 0.0:
        return 0.0
    return nme / mean_shape_nme


def slice_keys(example_features, slice_features):
    """The slices an example belongs to, as TFMA keys them for SlicingSpec() and
    SlicingSpec(feature_keys=[f]) per f: () overall, then ((f, value),) for every value of every
    slicing feature the example has (bytes as text, integers as int, floats as float)."""
    keys = [()]
    for name in slice_features:
        for value in example_features.get(name) or ():
            keys.append(((name, _slice_value(value)),))
    return keys


def _slice_value(value):
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8")
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value)


def score_by_slice(scored_examples, slice_features, default_scale=DEFAULT_SCALE):
    """{slice key: {metric: value}} of one model over (example features, prediction) pairs,
    for the overall slice and every slice of `slice_features` some example has."""
    by_slice = {(): SliceScores()}
    for example_features, prediction in scored_examples:
        for key in slice_keys(example_features, slice_features):
            by_slice.setdefault(key, SliceScores()).add(example_features, {"": prediction}, default_scale)
    return {key: scores.results()[""] for key, scores in by_slice.items()}


def feature_value(example_features, key, default=...):
    """The single value of a feature given as a sequence (TFMA's (1,) arrays, lists)."""
    value = example_features.get(key) if example_features is not None else None
    if value is not None:
        value = np.asarray(value, dtype=object if isinstance(value, (bytes, list)) else None).ravel()
        if value.size:
            return value[0]
    if default is ...:
        raise KeyError(f"example has no {key!r} feature; scoring needs pair examples")
    return default


def decode_png(data):
    """uint8 RGB array of PNG bytes, as the pair generator wrote them (PIL)."""
    return np.asarray(Image.open(io.BytesIO(bytes(data))).convert("RGB"))
