"""Plain training code (no TFX): optimiser, schedule, precision, fit with resume and logs.

run_fn (trainer/run_fn.py) is a thin adapter over `train_and_export`; tests call it directly.
"""

import contextlib
import math

import keras
import tensorflow as tf
from absl import logging

from tinyface.trainer.models import avx2_conv
from tinyface.trainer.training import cpu_isa, fused_adam, precision, training_curves, training_progress
from tinyface.trainer.training.training_config import TrainingConfig


def precision_policy(setting):
    """The Keras dtype policy for a TrainingConfig.mixed_precision setting on this machine
    (trainer/training/precision.py: bf16 only where the CPU runs it natively); the decision is logged."""
    return precision.decide_for_this_machine(setting).policy


def conv_kernels_for_this_cpu():
    """The context training steps are traced in: where TensorFlow runs oneDNN's kernels and
    either oneDNN has no AVX-512 ones or the step computes in float32, large convolutions compute
    their kernel gradient as matrix products (trainer/models/avx2_conv.py: oneDNN's own is
    ~2.5x its forward's time without AVX-512, 1.3x slower than the products in float32 with
    it); elsewhere (bf16 with AVX-512, or Eigen's kernels) TF's own."""
    if not cpu_isa.this_process_runs_onednn():
        return contextlib.nullcontext()
    float32 = keras.mixed_precision.global_policy().compute_dtype == "float32"
    if cpu_isa.this_machine_onednn_runs_avx512() and not float32:
        return contextlib.nullcontext()
    logging.info("training: large convolutions compute their kernel gradient as matrix products "
                 "(%s)", "float32" if float32 else "no AVX-512 in oneDNN here")
    return avx2_conv.gemm_kernel_gradients()


def distribution_strategy():
    """MirroredStrategy over several GPUs, else the default (one device)."""
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def build_optimizer(config: TrainingConfig, train_steps, base_learning_rate=None):
    """Adam with config's milestones and weight decay, from config.learning_rate or, for another
    network of the run (a GAN's discriminator), from `base_learning_rate`."""
    base = config.learning_rate if base_learning_rate is None else base_learning_rate
    boundaries = [max(1, int(round(m * train_steps))) for m in config.lr_milestones]
    if boundaries:
        values = [base * config.lr_gamma ** i for i in range(len(boundaries) + 1)]
        learning_rate = keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)
    else:
        learning_rate = base
    # Keras applies weight decay decoupled (AdamW-style); the PyTorch references add it to the
    # gradient. At 5e-4 and these learning rates the two differ little; we keep Keras' form.
    # FusedAdam is Keras' Adam with one fused kernel per variable (fused_adam.py).
    return fused_adam.FusedAdam(learning_rate=learning_rate, weight_decay=config.weight_decay or None)


class JointTrainingModel(keras.Model):
    """Wraps a network so Keras' fit() trains it with the joint loss and logs every loss term."""

    def __init__(self, network, joint_loss, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.joint_loss = joint_loss
        self.term_trackers = {name: keras.metrics.Mean(name=name) for name in joint_loss.term_names}

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        total, terms = self.joint_loss(y, y_pred)
        for name, value in terms.items():
            self.term_trackers[name].update_state(value)
        return total

    @property
    def metrics(self):
        return super().metrics + list(self.term_trackers.values())


def fit(network, joint_loss, optimizer, train_dataset, train_steps, config: TrainingConfig,
        backup_dir, log_dir, eval_dataset=None):
    """Trains `network` for `train_steps`, checkpointing every config.checkpoint_every steps.

    A run killed mid-way and started again with the same `backup_dir` continues from its last
    checkpoint (weights, optimiser state and step count), not from scratch. Returns the
    keras History of this process's part of the run.
    """
    model = JointTrainingModel(network, joint_loss)
    model.compile(optimizer=optimizer)
    # BackupAndRestore restores into a built model.
    model(tf.zeros([1, *network.input_shape[1:]]), training=False)
    return fit_training_model(model, train_dataset, train_steps, config, backup_dir, log_dir, eval_dataset)


def fit_training_model(model, train_dataset, train_steps, config: TrainingConfig, backup_dir, log_dir,
                       eval_dataset=None):
    """Keras fit of a compiled training model whose variables (weights and optimiser slots)
    all exist, in checkpoint intervals, with resume and TensorBoard logs (see fit)."""
    interval = min(config.checkpoint_every, train_steps)
    epochs = math.ceil(train_steps / interval)
    if epochs * interval != train_steps:
        logging.warning("training %d steps: rounded up to %d checkpoint intervals of %d steps",
                        train_steps, epochs, interval)
    # One "epoch" is one checkpoint interval, so a restart resumes exactly at the last checkpoint.
    # Keras' own per-epoch lines (verbose=2) go to the log file; the user sees TrainingProgress'
    # lines, written every few seconds whether or not the output is a terminal.
    callbacks = [
        keras.callbacks.BackupAndRestore(backup_dir, save_freq="epoch"),
        keras.callbacks.TensorBoard(log_dir, update_freq="epoch"),
        training_curves.CurveWriter(log_dir, epochs * interval),
        training_progress.TrainingProgress(epochs * interval, config.batch_size),
    ]
    # fit() traces the training step: inside this context, so that it holds this CPU's kernels.
    with conv_kernels_for_this_cpu():
        return model.fit(
            train_dataset,
            epochs=epochs,
            steps_per_epoch=interval,
            validation_data=eval_dataset,
            validation_steps=config.eval_steps if eval_dataset is not None else None,
            callbacks=callbacks,
            verbose=2,
        )
