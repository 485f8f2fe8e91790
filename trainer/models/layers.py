"""Keras layers more than one tinyface model uses."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tinyface")
class PixelShuffle(keras.layers.Layer):
    """Sub-pixel upsampling (B, H, W, C * f^2) -> (B, H * f, W * f, C), as nn.PixelShuffle.

    Keras 3 has no built-in; TF's depth_to_space is the same rearrangement up to the order of
    the channels within each f x f group, which a learned preceding conv absorbs (the models
    train from scratch, so they are the same models up to a permutation of those filters).
    """

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, inputs):
        return tf.nn.depth_to_space(inputs, self.factor)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        f = self.factor
        return (batch,
                None if height is None else height * f,
                None if width is None else width * f,
                channels // (f * f))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
