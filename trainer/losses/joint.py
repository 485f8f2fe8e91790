"""Training losses for every tinyface model, on the stepwise outputs of tinyface.trainer.models.outputs.

One contract for every term: a keras.losses.Loss whose call(y_true, y_pred) takes the target
and the model's *stepwise* output (SR_STEPS (B, S, hr, hr, 3) or HEATMAP_STEPS
(B, S, h, w, C)) and returns one value per example, (B,); the step weighting happens inside.
Keras' Loss.__call__ casts both arguments to float32 first, so bfloat16 (mixed-precision)
predictions give float32 losses, and does the batch reduction with an optional sample_weight.

Masking faces without 68 landmarks: the mask (the targets' HAS_LANDMARKS, 1/0 per example) is
passed as `sample_weight` to HeatmapLoss and LandmarkConsistencyLoss. Both reduce with
"mean_with_sample_weight": the sum of the kept examples' losses over the number of kept
examples, so a batch with few labelled faces is not down-weighted, and a batch with none gives
0 (not NaN) with zero gradients. Masked examples still need finite placeholder targets (0 * NaN
is NaN). JointLoss wires this up.

JointLoss(weights, ...)(targets, outputs) -> (total, {name: unweighted term}) is what the
training loop calls; targets use tinyface.trainer.losses.targets' keys.
"""

import dataclasses
import os

import keras
import tensorflow as tf

from tinyface.data.heatmaps import HeatmapSpec, render_heatmaps
from tinyface.trainer.losses import targets as target_keys
from tinyface.trainer.models.landmark_decoding import SOFT_ARGMAX, decode_landmarks, soft_argmax_beta
from tinyface.trainer.models.outputs import HEATMAP_STEPS, SR_STEPS

_PACKAGE = "tinyface"
# Losses are computed in float32 whatever the global mixed-precision policy is.
_LOSS_DTYPE = "float32"


def _step_weight_vector(step_weights, num_steps):
    """(S,) float32 step weights: 1 each by default, else the given ones (one per step)."""
    if step_weights is None:
        return tf.ones([num_steps], tf.float32)
    weights = tf.constant(step_weights, tf.float32)
    static_steps = tf.get_static_value(num_steps)
    if static_steps is not None:
        if len(step_weights) != static_steps:
            raise ValueError(f"{len(step_weights)} step weights for {static_steps} steps")
        return weights
    with tf.control_dependencies([tf.debugging.assert_equal(
            tf.size(weights), num_steps, message="one step weight per output step")]):
        return tf.identity(weights)


def _check_step_weights(step_weights):
    if step_weights is None:
        return None
    weights = tuple(float(w) for w in step_weights)
    if not weights or any(w < 0 for w in weights):
        raise ValueError(f"step weights must be a non-empty sequence of non-negative numbers, got {step_weights!r}")
    return weights


def _weighted_step_sum(per_step, step_weights):
    """(B, S) per-step losses -> (B,) weighted sum over steps."""
    weights = _step_weight_vector(step_weights, tf.shape(per_step)[1])
    return tf.reduce_sum(per_step * weights, axis=1)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PixelLoss(keras.losses.Loss):
    """Pixel loss between the HR image (B, hr, hr, 3) and every step of SR_STEPS.

    kind "l1": |d|; "charbonnier": sqrt(d^2 + eps^2), a smooth L1 whose gradient goes to 0 at
    d = 0 instead of jumping between -1 and 1 (its value at d = 0 is eps, not 0). Mean over the
    pixels of each step, then a weighted sum over steps (1 each by default, the DIC/JASRNet
    "summed over steps").
    """

    KINDS = ("l1", "charbonnier")

    def __init__(self, kind="l1", eps=1e-3, step_weights=None, name="pixel_loss",
                 reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction, dtype=_LOSS_DTYPE)
        if kind not in self.KINDS:
            raise ValueError(f"unknown pixel loss kind {kind!r}; expected one of {self.KINDS}")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps!r}")
        self.kind = kind
        self.eps = float(eps)
        self.step_weights = _check_step_weights(step_weights)

    def call(self, y_true, y_pred):
        diff = y_pred - y_true[:, None]                                  # (B, S, hr, hr, 3)
        if self.kind == "l1":
            error = tf.abs(diff)
        else:
            error = tf.sqrt(tf.square(diff) + self.eps ** 2)
        return _weighted_step_sum(tf.reduce_mean(error, axis=[2, 3, 4]), self.step_weights)

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "eps": self.eps,
                "step_weights": self.step_weights}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class HeatmapLoss(keras.losses.Loss):
    """L2 (mean squared error over h, w and all C channels, background included) between the
    target heatmaps (B, h, w, C) and every step of HEATMAP_STEPS, weighted sum over steps.

    Mask: pass HAS_LANDMARKS as sample_weight (see the module docstring).
    """

    def __init__(self, step_weights=None, name="heatmap_loss", reduction="mean_with_sample_weight"):
        super().__init__(name=name, reduction=reduction, dtype=_LOSS_DTYPE)
        self.step_weights = _check_step_weights(step_weights)

    def call(self, y_true, y_pred):
        per_step = tf.reduce_mean(tf.square(y_pred - y_true[:, None]), axis=[2, 3, 4])
        return _weighted_step_sum(per_step, self.step_weights)

    def get_config(self):
        return {**super().get_config(), "step_weights": self.step_weights}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LandmarkConsistencyLoss(keras.losses.Loss):
    """How far the landmarks found on the model's answer are from the true ones, in NME units.

    y_true: the true landmarks (B, K, 2) in HR px. y_pred: with alignment_fn None, the model's
    own HEATMAP_STEPS (its last step is the alignment of its last SR image, as in DIC); with an
    alignment_fn (e.g. a frozen landmark network: SR image (B, hr, hr, 3) -> heatmaps
    (B, h, w, C) or (B, S, h, w, C), last step used), SR_STEPS, and the estimator runs on the
    last SR step, so the gradient reaches the SR image. `output_key` says which output to pass.

    Per example: mean over the K points of the (smoothed) Euclidean distance between the
    soft-argmax landmarks of the last step's heatmaps and the target, divided by the true
    inter-ocular distance (points eye_indices, 36/45 for iBUG-68). Soft-argmax keeps it
    differentiable; a frozen estimator's weights simply get no update.

    The target is the true landmarks rendered with `heatmap_spec` and decoded by the same
    soft-argmax, not the raw landmarks: soft-argmax is pulled towards the grid interior near
    the border, and with a matched target that bias cancels, so the loss is 0 exactly when the
    heatmaps equal the rendered targets (no conflict with HeatmapLoss). Away from the border
    the matched target equals the true landmarks to < 0.01 px.
    Mask: pass HAS_LANDMARKS as sample_weight.
    """

    def __init__(self, hr_size, heatmap_spec, alignment_fn=None, beta=None, num_landmarks=68,
                 eye_indices=(36, 45), eps=1e-2, name="landmark_consistency_loss",
                 reduction="mean_with_sample_weight"):
        super().__init__(name=name, reduction=reduction, dtype=_LOSS_DTYPE)
        if isinstance(heatmap_spec, dict):
            heatmap_spec = HeatmapSpec(**heatmap_spec)
        self.hr_size = int(hr_size)
        self.heatmap_spec = heatmap_spec
        self.alignment_fn = alignment_fn
        # Default beta: softmax weights one grid cell wide (see soft_argmax_beta).
        self.beta = float(beta) if beta is not None else soft_argmax_beta(heatmap_spec.sigma)
        self.num_landmarks = int(num_landmarks)
        self.eye_indices = tuple(int(i) for i in eye_indices)
        self.eps = float(eps)  # HR px; smooths the distance so its gradient exists at 0
        # Targets are rendered without the background channel: only landmark maps are decoded.
        self._target_spec = dataclasses.replace(heatmap_spec, background=False)

    @property
    def output_key(self):
        return HEATMAP_STEPS if self.alignment_fn is None else SR_STEPS

    def _last_step_heatmaps(self, y_pred):
        if self.alignment_fn is None:
            return y_pred[:, -1]
        heatmaps = self.alignment_fn(y_pred[:, -1])
        heatmaps = tf.cast(heatmaps, tf.float32)
        return heatmaps[:, -1] if heatmaps.shape.rank == 5 else heatmaps

    def _decode(self, heatmaps):
        return decode_landmarks(heatmaps, self.hr_size, self.num_landmarks, SOFT_ARGMAX, self.beta)

    def call(self, y_true, y_pred):
        heatmaps = self._last_step_heatmaps(y_pred)
        if heatmaps.shape[1] is not None and heatmaps.shape[1] != self.heatmap_spec.size:
            raise ValueError(f"heatmaps are {heatmaps.shape[1]} cells, the spec says {self.heatmap_spec.size}")
        predicted = self._decode(heatmaps)
        target = tf.stop_gradient(self._decode(render_heatmaps(y_true, self.hr_size, self._target_spec)))
        distance = tf.sqrt(tf.reduce_sum(tf.square(predicted - target), axis=-1) + self.eps ** 2)
        left, right = self.eye_indices
        inter_ocular = tf.norm(y_true[:, left] - y_true[:, right], axis=-1)
        # A 1 px floor keeps degenerate (placeholder) landmarks from dividing by ~0.
        inter_ocular = tf.stop_gradient(tf.maximum(inter_ocular, 1.0))
        return tf.reduce_mean(distance, axis=-1) / inter_ocular

    def get_config(self):
        return {**super().get_config(), "hr_size": self.hr_size,
                "heatmap_spec": dataclasses.asdict(self.heatmap_spec),
                "alignment_fn": (keras.saving.serialize_keras_object(self.alignment_fn)
                                 if self.alignment_fn is not None else None),
                "beta": self.beta, "num_landmarks": self.num_landmarks,
                "eye_indices": self.eye_indices, "eps": self.eps}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("alignment_fn") is not None:
            config["alignment_fn"] = keras.saving.deserialize_keras_object(config["alignment_fn"])
        return cls(**config)


# Our choice (the references do not fix one): post-ReLU features from the second block to the
# last, so both textures and face structure are matched; 128 px faces still give 8x8 at block5.
DEFAULT_PERCEPTUAL_LAYERS = ("block2_conv2", "block3_conv4", "block4_conv4", "block5_conv4")
# Caffe-style ImageNet preprocessing that Keras' VGG19 weights expect: BGR, 0..255, mean-centred.
_IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PerceptualLoss(keras.losses.Loss):
    """VGG19 feature loss between the HR image and SR_STEPS, from a LOCAL weights file.

    VGG19 (include_top=False) is built with weights=None and loads `weights_path` (Keras'
    vgg19 "notop" .h5 or a .weights.h5 saved from the same architecture); nothing is ever
    downloaded. A missing or empty path is an error: turning the loss off is the config's
    decision (perceptual_loss_or_none). Inputs are [0, 1] RGB; ImageNet preprocessing happens
    here. Per layer: mean |feature difference| ("l1") or squared ("l2"); weighted sum over
    layers. step_weights="last" (default; DICGAN's feature loss is on the last step and VGG is
    the costliest term) uses the last step only; None weights every step 1; or one weight per
    step. The VGG is frozen; it follows the global dtype policy and the loss is float32.
    """

    KINDS = ("l1", "l2")

    def __init__(self, weights_path, layers=DEFAULT_PERCEPTUAL_LAYERS, layer_weights=None,
                 kind="l1", step_weights="last", name="perceptual_loss",
                 reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction, dtype=_LOSS_DTYPE)
        if not weights_path:
            raise ValueError("PerceptualLoss needs a local VGG19 weights file; "
                             "use perceptual_loss_or_none() to leave the loss out")
        weights_path = vgg19_weights_file(weights_path)
        if kind not in self.KINDS:
            raise ValueError(f"unknown feature distance {kind!r}; expected one of {self.KINDS}")
        layers = tuple(layers)
        if not layers:
            raise ValueError("at least one VGG19 layer is needed")
        layer_weights = tuple(float(w) for w in layer_weights) if layer_weights is not None else (1.0,) * len(layers)
        if len(layer_weights) != len(layers):
            raise ValueError(f"{len(layer_weights)} layer weights for {len(layers)} layers")
        self.weights_path = weights_path
        self.layers = layers
        self.layer_weights = layer_weights
        self.kind = kind
        self.step_weights = step_weights if step_weights == "last" else _check_step_weights(step_weights)
        vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
        vgg.load_weights(weights_path)
        vgg.trainable = False
        self._features = keras.Model(vgg.input, [vgg.get_layer(n).output for n in layers],
                                     name="vgg19_features")

    def _vgg_features(self, images):
        """(N, H, W, 3) [0, 1] RGB -> list of float32 feature maps."""
        bgr = images[..., ::-1] * 255.0 - tf.constant(_IMAGENET_BGR_MEAN, tf.float32)
        features = self._features(bgr, training=False)
        if not isinstance(features, (list, tuple)):
            features = [features]
        return [tf.cast(f, tf.float32) for f in features]

    def call(self, y_true, y_pred):
        if self.step_weights == "last":
            y_pred, step_weights = y_pred[:, -1:], (1.0,)
        else:
            step_weights = self.step_weights
        shape = tf.shape(y_pred)
        batch, steps = shape[0], shape[1]
        # All steps go through VGG in one batch; the target's features are constants.
        predicted = self._vgg_features(tf.reshape(y_pred, tf.concat([[-1], shape[2:]], 0)))
        target = [tf.stop_gradient(f) for f in self._vgg_features(y_true)]
        per_step = 0.0
        for weight, pred, true in zip(self.layer_weights, predicted, target):
            pred = tf.reshape(pred, tf.concat([[batch, steps], tf.shape(pred)[1:]], 0))
            diff = pred - true[:, None]
            error = tf.abs(diff) if self.kind == "l1" else tf.square(diff)
            per_step += weight * tf.reduce_mean(error, axis=[2, 3, 4])           # (B, S)
        return _weighted_step_sum(per_step, step_weights)

    def get_config(self):
        return {**super().get_config(), "weights_path": self.weights_path, "layers": self.layers,
                "layer_weights": self.layer_weights, "kind": self.kind,
                "step_weights": self.step_weights}


def vgg19_weights_file(weights_path):
    """The local VGG19 weights file a perceptual loss reads; FileNotFoundError if it is not
    there. Nothing is downloaded: the run has no network."""
    weights_path = os.fspath(weights_path)
    if not os.path.isfile(weights_path):
        raise FileNotFoundError(f"no such file {weights_path!r} (VGG19 weights)")
    return weights_path


def perceptual_loss_or_none(weights_path, **kwargs):
    """PerceptualLoss(weights_path, **kwargs), or None when weights_path is None/empty (off)."""
    if not weights_path:
        return None
    return PerceptualLoss(weights_path, **kwargs)


@dataclasses.dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms in the total; a 0 weight leaves the term out."""
    pixel: float = 1.0
    heatmap: float = 0.0
    landmark_consistency: float = 0.0
    perceptual: float = 0.0

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not value >= 0:
                raise ValueError(f"loss weight {field.name} must be >= 0, got {value!r}")
            object.__setattr__(self, field.name, float(value))


# REFERENCE.md: JASRNet 1 x heatmap MSE (over CPM stages) + 1 x L1; DIC L1 (1) + L2 heatmap
# (0.1) summed over steps; DICGAN adds the feature (perceptual) loss 0.1 (its adversarial
# 0.005 needs a discriminator: trainer/losses/adversarial.py, trainer/training/gan_loop.py).
# Consistency is ours, off by default.
JASRNET_LOSS_WEIGHTS = LossWeights(pixel=1.0, heatmap=1.0)
DIC_LOSS_WEIGHTS = LossWeights(pixel=1.0, heatmap=0.1)
DICGAN_LOSS_WEIGHTS = LossWeights(pixel=1.0, heatmap=0.1, perceptual=0.1)

PIXEL, HEATMAP, LANDMARK_CONSISTENCY, PERCEPTUAL = "pixel", "heatmap", "landmark_consistency", "perceptual"
TERMS = (PIXEL, HEATMAP, LANDMARK_CONSISTENCY, PERCEPTUAL)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class JointLoss:
    """The weighted total of the loss terms: JointLoss(weights, ...)(targets, outputs).

    targets: tinyface.trainer.losses.targets' dict (HR, HEATMAPS, LANDMARKS, HAS_LANDMARKS);
    outputs: the model's dict (SR_STEPS, HEATMAP_STEPS). Returns (total float32 scalar,
    {term name: unweighted float32 scalar}) with a term for every weight > 0 only, so nothing
    unused (e.g. VGG) is computed. Pixel and heatmap losses default to PixelLoss() and
    HeatmapLoss(); the consistency and perceptual losses must be given when their weight is
    > 0 (an error otherwise, rather than silently training a different objective).
    """

    def __init__(self, weights, pixel=None, heatmap=None, landmark_consistency=None, perceptual=None):
        if isinstance(weights, dict):
            weights = LossWeights(**weights)
        self.weights = weights
        self.losses = {
            PIXEL: pixel if pixel is not None else PixelLoss(),
            HEATMAP: heatmap if heatmap is not None else HeatmapLoss(),
            LANDMARK_CONSISTENCY: landmark_consistency,
            PERCEPTUAL: perceptual,
        }
        for term in TERMS:
            if getattr(weights, term) > 0 and self.losses[term] is None:
                raise ValueError(f"the {term} weight is {getattr(weights, term)} but no {term} loss was given")

    @property
    def term_names(self):
        """The keys of the terms dict __call__ returns (terms with a weight > 0), in order."""
        return tuple(t for t in TERMS if getattr(self.weights, t) > 0)

    def __call__(self, targets, outputs):
        mask = targets.get(target_keys.HAS_LANDMARKS)
        terms = {}
        for term in self.term_names:
            loss = self.losses[term]
            if term == PIXEL:
                value = loss(targets[target_keys.HR], outputs[SR_STEPS])
            elif term == HEATMAP:
                value = loss(targets[target_keys.HEATMAPS], outputs[HEATMAP_STEPS], sample_weight=mask)
            elif term == LANDMARK_CONSISTENCY:
                value = loss(targets[target_keys.LANDMARKS], outputs[loss.output_key], sample_weight=mask)
            else:
                value = loss(targets[target_keys.HR], outputs[SR_STEPS])
            terms[term] = tf.cast(value, tf.float32)
        total = tf.add_n([getattr(self.weights, t) * terms[t] for t in terms]) if terms else tf.constant(0.0)
        return total, terms

    def get_config(self):
        return {"weights": dataclasses.asdict(self.weights),
                **{t: (keras.saving.serialize_keras_object(self.losses[t])
                       if self.losses[t] is not None else None) for t in TERMS}}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for term in TERMS:
            if config.get(term) is not None:
                config[term] = keras.saving.deserialize_keras_object(config[term])
        return cls(**config)


# The GAN models' content terms (their feature and adversarial terms are added by
# trainer/training/gan_loop.py): DICGAN's are DIC's; Pro-UIGAN's, unpublished, are ours: DIC's.
MODEL_LOSS_WEIGHTS = {"jasrnet": JASRNET_LOSS_WEIGHTS, "dic": DIC_LOSS_WEIGHTS,
                      "dicgan": DIC_LOSS_WEIGHTS, "proguigan": DIC_LOSS_WEIGHTS}
# With a VGG19 file configured, the feature loss gets DICGAN's weight, whatever the model.
PERCEPTUAL_WEIGHT = DICGAN_LOSS_WEIGHTS.perceptual


def joint_loss_for(model, heatmap_spec, hr_size, perceptual_weights="", landmark_consistency_weight=0.0,
                   perceptual_weight=PERCEPTUAL_WEIGHT):
    """The paper loss of `model` (a key of MODEL_LOSS_WEIGHTS): its reference weights, plus the
    perceptual term (`perceptual_weight`, DICGAN's 0.1 by default) when `perceptual_weights`
    names a local VGG19 file, plus the landmark consistency term (on the model's own heatmaps)
    when its weight is > 0."""
    if model not in MODEL_LOSS_WEIGHTS:
        raise ValueError(f"no loss weights for model {model!r}; known: {', '.join(sorted(MODEL_LOSS_WEIGHTS))}")
    perceptual = perceptual_loss_or_none(perceptual_weights)
    weights = dataclasses.replace(
        MODEL_LOSS_WEIGHTS[model],
        perceptual=perceptual_weight if perceptual is not None else 0.0,
        landmark_consistency=landmark_consistency_weight)
    consistency = (LandmarkConsistencyLoss(hr_size, heatmap_spec) if landmark_consistency_weight > 0 else None)
    return JointLoss(weights, landmark_consistency=consistency, perceptual=perceptual)
