"""Adversarial loss terms of the GAN models, in trainer/losses/joint.py's contract.

Each term is a keras.losses.Loss whose call(y_true, y_pred) returns one value per example,
(B,); Loss.__call__ casts its inputs to float32 (bfloat16 discriminator activations give
float32 losses) and reduces over the batch.

  AdversarialLoss(kind): y_true (B,) labels, 1 for "real" and 0 for "fake"; y_pred the
    discriminator's logits (B, ...) (one per image, or a patch map). The value is averaged over
    the logit positions of each example.
      "vanilla": sigmoid cross-entropy with logits (the DICGAN reference's GAN loss; for the
                 generator, label 1 gives the non-saturating -log D(G(x))).
      "lsgan":   (logit - label)^2 (Mao et al. 2017): gradients do not vanish for generated
                 faces the discriminator already rejects, so it trains more stably than vanilla.
      "wgan":    the critic score, -logit for label 1 and +logit for label 0 (Arjovsky et al.
                 2017); use it with gradient_penalty (WGAN-GP, Gulrajani et al. 2017).
  FeatureMatchingLoss: y_true and y_pred are lists of discriminator feature maps (of real and
    generated faces, same layers); per layer the mean absolute difference, averaged over layers.
  gradient_penalty(critic, real, fake): (B,) (||d critic(x) / dx||_2 - 1)^2 at random points x
    between each real and generated face (a function, not a Loss: it needs the critic).
"""

import keras
import tensorflow as tf

_PACKAGE = "tinyface"
_LOSS_DTYPE = "float32"
VANILLA, LSGAN, WGAN = "vanilla", "lsgan", "wgan"
KINDS = (VANILLA, LSGAN, WGAN)
# Keeps the gradient norm's own gradient finite where the critic's input gradient is 0.
_NORM_EPSILON = 1e-12


def _per_example_mean(values):
    """(B, ...) -> (B,): mean over everything but the batch axis ((B,) passes through)."""
    if values.shape.rank == 1:
        return values
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class AdversarialLoss(keras.losses.Loss):
    """GAN loss of discriminator logits against real (1) / fake (0) labels; see the module docstring."""

    def __init__(self, kind=LSGAN, name="adversarial_loss", reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction, dtype=_LOSS_DTYPE)
        if kind not in KINDS:
            raise ValueError(f"unknown GAN loss {kind!r}; expected one of {KINDS}")
        self.kind = kind

    def call(self, y_true, y_pred):
        rank = y_pred.shape.rank
        labels = tf.reshape(y_true, [-1] + [1] * (rank - 1)) * tf.ones_like(y_pred)
        if self.kind == VANILLA:
            values = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=y_pred)
        elif self.kind == LSGAN:
            values = tf.square(y_pred - labels)
        else:
            values = (1.0 - 2.0 * labels) * y_pred
        return _per_example_mean(values)

    def get_config(self):
        return {**super().get_config(), "kind": self.kind}


def real_labels(logits):
    """(B,) ones: the label of real faces, and the generator's target for its own."""
    return tf.ones([tf.shape(logits)[0]], tf.float32)


def fake_labels(logits):
    return tf.zeros([tf.shape(logits)[0]], tf.float32)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class FeatureMatchingLoss(keras.losses.Loss):
    """Mean |real - generated| of each discriminator feature map, averaged over the maps.

    y_true: the real faces' feature maps (treated as constants: the generator matches them, it
    does not move them); y_pred: the generated faces' maps of the same layers.
    """

    def __init__(self, name="feature_matching_loss", reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction, dtype=_LOSS_DTYPE)

    def call(self, y_true, y_pred):
        y_true, y_pred = list(y_true), list(y_pred)
        if not y_pred or len(y_true) != len(y_pred):
            raise ValueError(f"feature matching needs the same non-empty list of layers, got "
                             f"{len(y_true)} real and {len(y_pred)} generated feature maps")
        per_layer = [_per_example_mean(tf.abs(fake - tf.stop_gradient(real)))
                     for real, fake in zip(y_true, y_pred)]
        return tf.add_n(per_layer) / float(len(per_layer))


def gradient_penalty(critic, real, fake, seed=None):
    """(B,) WGAN-GP penalty (||grad_x critic(x)||_2 - 1)^2 at x = e * real + (1 - e) * fake,
    e ~ U(0, 1) per example. `critic` maps images to logits (B, ...); a patch critic's score
    per image is the mean of its map. Differentiable w.r.t. the critic's weights (the caller's
    tape sees the inner gradient), float32.
    """
    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    mix = tf.random.uniform([tf.shape(real)[0], 1, 1, 1], seed=seed)
    points = mix * real + (1.0 - mix) * tf.stop_gradient(fake)
    with tf.GradientTape() as tape:
        tape.watch(points)
        # Summing the per-image scores gives each image's own gradient (images are independent).
        scores = tf.reduce_sum(_per_example_mean(tf.cast(critic(points), tf.float32)))
    gradients = tape.gradient(scores, points)
    norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=[1, 2, 3]) + _NORM_EPSILON)
    return tf.square(norms - 1.0)
