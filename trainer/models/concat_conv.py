"""A 1x1 convolution over the channel concatenation of its inputs, without the concatenation.

DIC's feedback block (SRFBN's dense links) squeezes the concatenation of all earlier groups'
outputs with a 1x1 conv. After the up-projections those outputs are 256x256x48 each (12.6 MB
per face), up to five of them, and TensorFlow's channel-axis concatenation of NHWC tensors
copies them 48 floats (192 bytes) at a time: in a batch-1 DIC forward on an AVX2-only AMD EPYC
(Zen 3), the concatenations took ~600 ms of ~2.7 s of op time.

A 1x1 conv is a matrix product over channels, so over [x_1, ..., x_k] it equals
sum_i conv(x_i, W_i), W_i the kernel's rows of x_i's channels: the same multiply-adds, no
concatenation, and a gradient without the split back into pieces. Measured on that Zen 3
(float32, five 256x256x48 inputs -> 48 channels, bias and PReLU): 25 ms instead of 74 at batch 1
on TensorFlow's default (Eigen) kernels; at batch 2 on oneDNN (training) 49 ms instead of 62
forward, 134 instead of 159 with gradients. The result differs from the concatenated conv's only
by float32 summation order (~1e-6 relative).

The layer keeps keras.layers.Conv2D's weights (kernel (1, 1, sum of input channels, filters),
bias) and its class name, so weights written by a model built with Concatenate + Conv2D load
into one built with this layer, and back (see subpixel_projections.py for why the class name
matters). It is registered for .keras configs under its own name.
"""

import keras
import tensorflow as tf
from keras import ops


def _shapes(input_shape):
    """The input shapes as a list, whether the layer got one tensor or several."""
    if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
        return [tuple(shape) for shape in input_shape]
    return [tuple(input_shape)]


@keras.saving.register_keras_serializable(package="tinyface", name="ConcatConv2D")
class Conv2D(keras.layers.Conv2D):
    """keras.layers.Conv2D(filters, 1) applied to ops.concatenate(inputs, axis=-1), computed as
    the sum of each input's 1x1 conv with its slice of the kernel (module docstring).
    [(B, H, W, C_1), ..., (B, H, W, C_k)] -> (B, H, W, filters); one tensor works as well."""

    def __init__(self, filters, **kwargs):
        kernel_size = kwargs.pop("kernel_size", 1)
        if kernel_size not in (1, (1, 1), [1, 1]):
            raise ValueError(f"ConcatConv2D is a 1x1 convolution, got kernel_size {kernel_size}")
        for fixed in ("strides", "padding", "dilation_rate", "groups"):
            kwargs.pop(fixed, None)   # from get_config: always 1 / "valid" / 1 / 1 here
        if kwargs.get("data_format") not in (None, "channels_last"):
            raise ValueError("ConcatConv2D supports channels_last only")
        super().__init__(filters, 1, **kwargs)
        # Conv2D's spec expects one tensor; the pieces' channels are checked in call.
        self.input_spec = None
        self.input_channels = None

    def build(self, input_shape):
        shapes = _shapes(input_shape)
        self.input_channels = [int(shape[-1]) for shape in shapes]
        super().build((*shapes[0][:-1], sum(self.input_channels)))
        self.input_spec = None   # set again by Conv2D.build

    def call(self, inputs):
        pieces = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        # A traced piece's channels may be unknown (None); the known ones must match the build.
        called = [p.shape[-1] for p in pieces]
        if len(called) != len(self.input_channels) or any(
                c is not None and int(c) != built for c, built in zip(called, self.input_channels)):
            raise ValueError(f"{self.name}: built for input channels {self.input_channels}, "
                             f"called with {called}")
        kernel = ops.cast(self.kernel, pieces[0].dtype)
        parts, start = [], 0
        for piece, channels in zip(pieces, self.input_channels):
            parts.append(ops.conv(piece, kernel[:, :, start:start + channels], padding="valid"))
            start += channels
        if self.use_bias:
            # On the first piece's conv, which oneDNN fuses, not in a pass of its own over the
            # sum: in DIC's batch-1 bf16 forward on a Zen 5 those adds took 26 of ~375 ms.
            parts[0] = tf.nn.bias_add(parts[0], ops.cast(self.bias, parts[0].dtype))
        outputs = tf.add_n(parts)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return (*_shapes(input_shape)[0][:-1], self.filters)
