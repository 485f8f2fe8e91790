"""Keras' Adam, each variable updated by TensorFlow's fused Adam kernel instead of a dozen ops.

Keras 3's Adam.update_step runs ~12 separate element-wise ops per variable (two power ops, the
moment updates, square, sqrt, divide, the assignments), each a full pass over the variable. On
JASRNet (19.9 M parameters, 256 variables) a profile of a bf16 training step on a 2-core AMD EPYC
Zen 5 put ~150 of ~1,050 ms of op time per step in them. TensorFlow's ResourceApplyAdam kernel
does the same update in one pass per variable, on the CPU's vector units over all cores.

Keras' decoupled weight decay computes `variable * wd * lr` as two passes over the variable
before subtracting it (JASRNet's paper setting has wd 5e-4: ~56 ms of op time per step there);
here lr * wd is one scalar first, so the decay is one product and one subtraction.

Same hyper-parameters, slot variables and checkpoints as keras.optimizers.Adam, and the same
update up to float32 rounding (the kernel computes 1 - beta in float32, Keras in float64 first;
the decay's factors are multiplied in another order; tested against Keras' optimizer). Gradient
clipping, EMA and the learning rate schedule stay Keras' own. AMSGrad has no fused kernel: it
keeps Keras' update. TensorFlow backend only, as every model here.
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tinyface")
class FusedAdam(keras.optimizers.Adam):

    def _apply_weight_decay(self, variables):
        if self.weight_decay is None:
            return
        decay = self.learning_rate * self.weight_decay   # a scalar, before touching the weights
        for variable in variables:
            if self._use_weight_decay(variable):
                variable.assign_sub(variable * tf.cast(decay, variable.dtype))

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        local_step = tf.cast(self.iterations + 1, dtype)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=self._momentums[index].handle,
            v=self._velocities[index].handle,
            beta1_power=tf.pow(tf.cast(self.beta_1, dtype), local_step),
            beta2_power=tf.pow(tf.cast(self.beta_2, dtype), local_step),
            lr=tf.cast(learning_rate, dtype),
            beta1=tf.cast(self.beta_1, dtype),
            beta2=tf.cast(self.beta_2, dtype),
            epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype))
