"""A shared-slope PReLU that runs as one LeakyRelu op, its slope a constant, in a serving graph.

Keras' PReLU computes relu(x) - alpha * relu(-x): four elementwise passes over the tensor. DIC
applies one after each of its 256x256x48 up-projections and dense links, 44 times a forward;
on an AVX2-only AMD EPYC (Zen 3) each took ~6.5 ms of a batch-1 forward, where PyTorch's
single-pass PReLU takes ~0.9. TensorFlow's LeakyRelu (x if x > 0 else alpha * x) is one pass,
but it takes its slope as a constant of the graph, not a variable.

A serving graph never trains: inside `constant_slopes()`, which trainer/training/export.py enters
while it traces its endpoints, a PReLU with one shared slope reads the slope's current value and
runs LeakyRelu with it. The results are the same bit for bit (x > 0: x, else alpha * x in both,
for any alpha; tested). Measured on that Zen 3 (float32, Eigen kernels, DIC reference size,
calls of both forms alternated in one process): a batch-1 forward 1.15x faster (1250 against
1436 ms, medians of 12). Training keeps Keras' form, whose slope is learned.

The SavedModel still holds the slope variables, which the traced graph does not read: an export
is traced from the trained weights once and never re-traced.

Named as the stock layer (class name PReLU), so weights files of models built with
keras.layers.PReLU load into it and back (see subpixel_projections.py); registered for .keras
configs under its own name.
"""

import keras
import numpy as np
import tensorflow as tf

from tinyface.trainer.models.trace_setting import TraceSetting

# Whether the PReLU layers traced now take their slopes as constants.
constant = TraceSetting(False)


def constant_slopes():
    """Within it, this module's PReLU layers with one shared slope trace as LeakyRelu with the
    slope's current value: for tracing a serving graph. Outside it they are Keras' PReLU."""
    return constant.set_to(True)


@keras.saving.register_keras_serializable(package="tinyface", name="ConstantSlopePReLU")
class PReLU(keras.layers.PReLU):
    """keras.layers.PReLU; inside `constant_slopes()`, with one shared slope, one LeakyRelu op."""

    def call(self, inputs):
        if not constant.value or int(np.prod(self.alpha.shape)) != 1:
            return super().call(inputs)
        with tf.init_scope():   # the variable's value now, outside the graph being traced
            slope = float(np.asarray(self.alpha.numpy()).reshape(()))
        return tf.raw_ops.LeakyRelu(features=inputs, alpha=slope)
