"""Adversarial training of the GAN models (DICGAN, Pro-UIGAN) inside Keras' fit().

GanTrainingModel wraps the generator (the network that is served) and the discriminator
(trainer/models/discriminator.py); its train_step, per batch:
  1. runs the generator once, recording it for the generator's gradients;
  2. discriminator step: logits of the HR faces (real) and of the last SR step, detached (fake);
     D loss = adversarial(real, 1) + adversarial(fake, 0) [+ gp_weight x gradient penalty];
     the discriminator's own optimiser updates it;
  3. generator step, against the discriminator just updated: the content loss (the model's
     tinyface.trainer.losses.joint.JointLoss: pixel, heatmap, VGG19 perceptual if configured)
     + adversarial_weight x adversarial(D(fake), 1)
     + feature_weight x feature matching of D's features of fake vs real faces (when no VGG19
       file is configured, DICGAN's feature loss uses these: nothing is downloaded);
     the generator's optimiser updates the generator.
Discriminator first, the classic alternation: the generator's adversarial gradient then comes
from a discriminator that has already seen this batch's faces. (The DICGAN reference steps the
generator first; with one step each per batch the orders differ by one step of staleness.)
The GAN terms use the last SR step only, as the reference.

GAN losses (TrainingConfig.gan_loss): "vanilla" (the reference's), "lsgan" (least squares,
stable: the default) or "wgan_gp" (Wasserstein critic + gradient penalty). Every loss is float32
(the discriminator's logits are float32 under mixed precision; adversarial_losses casts its
inputs). Under mixed_float16 both optimisers scale their losses (Keras' LossScaleOptimizer);
bfloat16 needs no scaling.

Checkpointing is trainer/loop.py's: BackupAndRestore saves this model's weights, which
include the generator, the discriminator and both optimisers' states, so a resumed run goes
on with both networks exactly where they were.
"""

import dataclasses

import keras
import tensorflow as tf

from tinyface.trainer.losses import adversarial as adversarial_losses
from tinyface.trainer.training import input_pipeline, loop
from tinyface.trainer.models.discriminator import FEATURES, LOGITS
from tinyface.trainer.models.outputs import SR_STEPS

LOSS = "loss"                        # the generator's total objective (what fit() reports)
ADVERSARIAL = "adversarial"
FEATURE_MATCHING = "feature_matching"
D_LOSS = "d_loss"
GRADIENT_PENALTY = "gradient_penalty"
D_REAL, D_FAKE = "d_real", "d_fake"  # mean logits of real and generated faces


@dataclasses.dataclass(frozen=True)
class AdversarialSettings:
    gan_loss: str = "lsgan"                # one of training_config.GAN_LOSSES
    adversarial_weight: float = 0.005
    feature_matching_weight: float = 0.1   # discriminator-feature matching; 0 leaves it out
    gp_weight: float = 10.0                # used by "wgan_gp" only

    @classmethod
    def from_training_config(cls, config):
        # With a VGG19 file the feature loss is the content loss' PerceptualLoss instead.
        feature_matching = 0.0 if config.perceptual_weights else config.feature_weight
        return cls(config.gan_loss, config.adversarial_weight, feature_matching, config.gp_weight)

    @property
    def adversarial_kind(self):
        return adversarial_losses.WGAN if self.gan_loss == "wgan_gp" else self.gan_loss

    @property
    def uses_gradient_penalty(self):
        return self.gan_loss == "wgan_gp"


class GanTrainingModel(keras.Model):
    """Trains a generator against a discriminator with fit(); see the module docstring.

    compile(optimizer=generator's, d_optimizer=discriminator's). Calling the model runs the
    generator only (what is served).
    """

    def __init__(self, network, discriminator, content_loss, settings: AdversarialSettings, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.discriminator = discriminator
        self.content_loss = content_loss
        self.settings = settings
        self.adversarial_loss = adversarial_losses.AdversarialLoss(settings.adversarial_kind)
        self.feature_matching_loss = adversarial_losses.FeatureMatchingLoss()
        self.d_optimizer = None
        generator_terms = [LOSS, *content_loss.term_names, ADVERSARIAL]
        if settings.feature_matching_weight > 0:
            generator_terms.append(FEATURE_MATCHING)
        discriminator_terms = [D_LOSS, D_REAL, D_FAKE]
        if settings.uses_gradient_penalty:
            discriminator_terms.append(GRADIENT_PENALTY)
        self.generator_trackers = {name: keras.metrics.Mean(name=name) for name in generator_terms}
        self.discriminator_trackers = {name: keras.metrics.Mean(name=name) for name in discriminator_terms}

    def compile(self, optimizer, d_optimizer, **kwargs):
        super().compile(optimizer=optimizer, **kwargs)
        if self.dtype_policy.name == "mixed_float16" and not isinstance(
                d_optimizer, keras.optimizers.LossScaleOptimizer):
            # What compile() does for the generator's optimiser, for the discriminator's.
            d_optimizer = keras.optimizers.LossScaleOptimizer(d_optimizer)
        self.d_optimizer = d_optimizer

    def build_training_state(self):
        """Creates every variable fit() and BackupAndRestore need before the first step: both
        networks' weights and both optimisers' slots, each optimiser over its own network only."""
        self(tf.zeros([1, *self.network.input_shape[1:]]), training=False)
        self.discriminator(tf.zeros([1, *self.discriminator.input_shape[1:]]), training=False)
        self.optimizer.build(self.network.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    @property
    def metrics(self):
        return [*self.generator_trackers.values(), *self.discriminator_trackers.values()]

    def _discriminator_loss(self, real, fake):
        """(D loss, {term: value}) for real and (detached) generated faces."""
        logits = self.discriminator(tf.concat([real, fake], axis=0), training=True)[LOGITS]
        real_logits, fake_logits = tf.split(logits, 2, axis=0)
        loss = (self.adversarial_loss(adversarial_losses.real_labels(real_logits), real_logits)
                + self.adversarial_loss(adversarial_losses.fake_labels(fake_logits), fake_logits))
        terms = {D_REAL: tf.reduce_mean(real_logits), D_FAKE: tf.reduce_mean(fake_logits)}
        if self.settings.uses_gradient_penalty:
            penalty = tf.reduce_mean(adversarial_losses.gradient_penalty(
                lambda images: self.discriminator(images, training=True)[LOGITS], real, fake))
            terms[GRADIENT_PENALTY] = penalty
            loss += self.settings.gp_weight * penalty
        return loss, {D_LOSS: loss, **terms}

    def _generator_loss(self, targets, outputs, real, real_features=None, training=True):
        """(generator objective, {term: value}); real_features: D's features of the real faces
        (computed here when None)."""
        content, terms = self.content_loss(targets, outputs)
        fake = outputs[SR_STEPS][:, -1]
        judged = self.discriminator(fake, training=training)
        adversarial = self.adversarial_loss(adversarial_losses.real_labels(judged[LOGITS]), judged[LOGITS])
        total = content + self.settings.adversarial_weight * adversarial
        terms = {**terms, ADVERSARIAL: adversarial}
        if self.settings.feature_matching_weight > 0:
            if real_features is None:
                real_features = self.discriminator(real, training=training)[FEATURES]
            matching = self.feature_matching_loss(real_features, judged[FEATURES])
            total += self.settings.feature_matching_weight * matching
            terms[FEATURE_MATCHING] = matching
        return total, {LOSS: total, **terms}

    @staticmethod
    def _for_gradients(loss, optimizer):
        """The loss to differentiate: divided by the replica count (tf.distribute sums the
        replicas' gradients, and each replica's loss is a mean over its own share of the
        batch), then scaled for mixed float16 by the optimiser (a no-op otherwise)."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return optimizer.scale_loss(loss / replicas if replicas > 1 else loss)

    def _update(self, trackers, values):
        for name, value in values.items():
            trackers[name].update_state(value)

    def train_step(self, data):
        lr, targets = data
        real = targets[input_pipeline.HR]
        generator_variables = self.network.trainable_variables
        discriminator_variables = self.discriminator.trainable_variables
        with tf.GradientTape() as generator_tape:
            outputs = self.network(lr, training=True)
            with generator_tape.stop_recording():
                fake = tf.stop_gradient(outputs[SR_STEPS][:, -1])
                with tf.GradientTape() as discriminator_tape:
                    d_loss, d_terms = self._discriminator_loss(real, fake)
                    scaled = self._for_gradients(d_loss, self.d_optimizer)
                gradients = discriminator_tape.gradient(scaled, discriminator_variables)
                self.d_optimizer.apply(gradients, discriminator_variables)
                # Targets for feature matching, from the updated discriminator; constants for G.
                real_features = (self.discriminator(real, training=True)[FEATURES]
                                 if self.settings.feature_matching_weight > 0 else None)
            g_loss, g_terms = self._generator_loss(targets, outputs, real, real_features)
            scaled = self._for_gradients(g_loss, self.optimizer)
        gradients = generator_tape.gradient(scaled, generator_variables)
        self.optimizer.apply(gradients, generator_variables)
        self._update(self.discriminator_trackers, d_terms)
        self._update(self.generator_trackers, g_terms)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        """The generator's objective and its terms on held-out batches (nothing is updated)."""
        lr, targets = data
        outputs = self.network(lr, training=False)
        _, terms = self._generator_loss(targets, outputs, targets[input_pipeline.HR], training=False)
        self._update(self.generator_trackers, terms)
        return {name: tracker.result() for name, tracker in self.generator_trackers.items()}


def fit(network, discriminator, content_loss, settings, optimizer, d_optimizer, train_dataset,
        train_steps, config, backup_dir, log_dir, eval_dataset=None):
    """Trains `network` against `discriminator` for `train_steps`, with trainer/loop.py's
    checkpoints, resume and logs. Returns the keras History of this process's part of the run."""
    model = GanTrainingModel(network, discriminator, content_loss, settings)
    model.compile(optimizer=optimizer, d_optimizer=d_optimizer)
    model.build_training_state()
    return loop.fit_training_model(model, train_dataset, train_steps, config, backup_dir, log_dir,
                                       eval_dataset)
