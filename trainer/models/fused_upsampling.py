"""Sub-pixel upsampling into a thin output conv, as one conv at the low resolution.

JASRNet ends (trainer/models/jasrnet.py) in conv(128 -> 512) at 64x64, a pixel shuffle to
128x128x128, and conv(128 -> 3): 4.94 GFLOP of its 51 per face, 10 %. Nothing non-linear lies
between the two convs, so together they are one linear map from the 64x64 features to the
128x128 image, translation-equivariant on the low-resolution grid: a single conv at 64x64 whose
f^2 * 3 = 12 output channels are the image's f x f sub-pixel phases, then the same pixel shuffle.
With 3x3 kernels and f = 2 that conv is 5x5 (the outer conv's 3 high-resolution taps reach 2
low-resolution positions, each of which the inner conv's 3 taps widen): 0.31 GFLOP.

Only at the image's border do the two differ. The outer conv's 'same' padding puts zeros where
its window leaves the image; the single conv would put there what the inner conv computes just
outside the image (its bias, and its taps that still reach the image). So the output's border
(the outer conv's radius in high-resolution pixels, 1 for 3x3) is computed the original way on
thin strips of the input: the strips' own 'same' padding is the image's for the rows they keep.
The result is the two convs' up to float rounding (tested); costs at JASRNet's size: 0.31 GFLOP
plus 0.31 for the four strips, against 4.94.

Training keeps the two convs (their weights are what the optimiser updates and what weights
files hold); a serving export may trace this layer in their place
(trainer/training/fused_upsampling_copy.py).
"""

import keras
import numpy as np
import tensorflow as tf


def composite_offsets(factor, inner_radius, outer_radius):
    """(lowest, highest) low-resolution offset the composite conv reads, relative to the pixel
    whose f x f sub-pixels it computes."""
    lowest = (-outer_radius) // factor - inner_radius
    highest = (factor - 1 + outer_radius) // factor + inner_radius
    return lowest, highest


def composite_kernel_and_bias(up_kernel, up_bias, out_kernel, out_bias, factor):
    """The single conv equal, away from the border, to conv(out) o depth_to_space(f) o conv(up).

    up_kernel (k1, k1, C_in, f^2 * C_mid), out_kernel (k2, k2, C_mid, C_out), both odd, 'same',
    stride 1, with their biases (zeros for a conv without one). Returns (kernel
    (n, n, C_in, f^2 * C_out), bias (f^2 * C_out,), (lowest, highest) offsets), computed in
    float64; output channel (a_y * f + a_x) * C_out + o is sub-pixel (a_y, a_x) of output
    channel o, depth_to_space's order.
    """
    up_kernel = np.asarray(up_kernel, np.float64)
    out_kernel = np.asarray(out_kernel, np.float64)
    k1, k2 = up_kernel.shape[0], out_kernel.shape[0]
    if k1 % 2 == 0 or k2 % 2 == 0 or up_kernel.shape[1] != k1 or out_kernel.shape[1] != k2:
        raise ValueError(f"square odd kernels only, got {up_kernel.shape[:2]} and {out_kernel.shape[:2]}")
    r1, r2 = k1 // 2, k2 // 2
    channels_in, mid_channels, channels_out = up_kernel.shape[2], out_kernel.shape[2], out_kernel.shape[3]
    if up_kernel.shape[3] != factor * factor * mid_channels:
        raise ValueError(f"the up conv has {up_kernel.shape[3]} filters; a shuffle by {factor} into "
                         f"the out conv's {mid_channels} input channels needs {factor * factor * mid_channels}")
    up_bias, out_bias = np.asarray(up_bias, np.float64), np.asarray(out_bias, np.float64)
    lowest, highest = composite_offsets(factor, r1, r2)
    size = highest - lowest + 1
    kernel = np.zeros((size, size, channels_in, factor * factor * channels_out))
    bias = np.zeros(factor * factor * channels_out)
    for a_y in range(factor):
        for a_x in range(factor):
            phase = slice((a_y * factor + a_x) * channels_out, (a_y * factor + a_x + 1) * channels_out)
            bias[phase] = out_bias
            for d2_y in range(-r2, r2 + 1):
                for d2_x in range(-r2, r2 + 1):
                    # The outer tap reads the shuffled map at high-res offset (a + d2): low-res
                    # offset q, sub-pixel s, which depth_to_space keeps in channel block s.
                    q_y, s_y = divmod(a_y + d2_y, factor)
                    q_x, s_x = divmod(a_x + d2_x, factor)
                    block = slice((s_y * factor + s_x) * mid_channels, (s_y * factor + s_x + 1) * mid_channels)
                    outer = out_kernel[d2_y + r2, d2_x + r2]                 # (C_mid, C_out)
                    bias[phase] += up_bias[block] @ outer
                    inner = up_kernel[:, :, :, block] @ outer               # (k1, k1, C_in, C_out)
                    rows = slice(q_y - r1 - lowest, q_y + r1 - lowest + 1)
                    cols = slice(q_x - r1 - lowest, q_x + r1 - lowest + 1)
                    kernel[rows, cols, :, phase] += inner
    return kernel, bias, (lowest, highest)


def border_rows(factor, inner_radius, outer_radius):
    """Low-resolution rows a strip needs so that its first `outer_radius` output rows are exact:
    those read the shuffled map's first 2 * outer_radius rows, made from the inner conv's first
    (2 * outer_radius - 1) // factor + 1 rows, which read inner_radius rows more of the input."""
    return (2 * outer_radius - 1) // factor + 1 + inner_radius


@keras.saving.register_keras_serializable(package="tinyface")
class FusedUpsamplingOutput(keras.layers.Layer):
    """conv(out) o depth_to_space(factor) o conv(up), both 'same' with bias and no activation,
    computed as one low-resolution conv plus the exact border (module docstring).

    Holds the composite conv's weights and the two convs' own (for the border strips), none
    trainable: build it with `from_convs` from trained layers.
    """

    def __init__(self, factor, up_kernel_shape, out_kernel_shape, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)
        self.up_kernel_shape = tuple(int(n) for n in up_kernel_shape)
        self.out_kernel_shape = tuple(int(n) for n in out_kernel_shape)
        self.inner_radius = self.up_kernel_shape[0] // 2
        self.outer_radius = self.out_kernel_shape[0] // 2
        self.offsets = composite_offsets(self.factor, self.inner_radius, self.outer_radius)

    @classmethod
    def from_convs(cls, up, out, factor, name=None):
        """The layer computing out(depth_to_space(up(x), factor)) for built Conv2D layers `up`
        and `out`, in `out`'s dtype policy."""
        layer = cls(factor, up.kernel.shape, out.kernel.shape, dtype=out.dtype_policy,
                    name=name or f"{out.name}_fused")
        # A conv without bias adds zeros: the strips then add them too.
        up_bias = np.asarray(up.bias) if up.use_bias else np.zeros(up.kernel.shape[3])
        out_bias = np.asarray(out.bias) if out.use_bias else np.zeros(out.kernel.shape[3])
        kernel, bias, _ = composite_kernel_and_bias(np.asarray(up.kernel), up_bias,
                                                    np.asarray(out.kernel), out_bias, factor)
        layer.build((None, None, None, up.kernel.shape[2]))
        layer.set_weights([kernel, bias, np.asarray(up.kernel), up_bias, np.asarray(out.kernel), out_bias])
        return layer

    def build(self, input_shape):
        lowest, highest = self.offsets
        size = highest - lowest + 1
        channels_in = self.up_kernel_shape[2]
        phases = self.factor * self.factor * self.out_kernel_shape[3]

        def weight(name, shape):
            return self.add_weight(name=name, shape=shape, initializer="zeros", trainable=False)

        self.fused_kernel = weight("fused_kernel", (size, size, channels_in, phases))
        self.fused_bias = weight("fused_bias", (phases,))
        self.up_kernel = weight("up_kernel", self.up_kernel_shape)
        self.up_bias = weight("up_bias", (self.up_kernel_shape[3],))
        self.out_kernel = weight("out_kernel", self.out_kernel_shape)
        self.out_bias = weight("out_bias", (self.out_kernel_shape[3],))

    def _two_convs(self, inputs, rows=None, cols=None):
        """The original computation, exact everywhere: the up conv padded by (before, after)
        `rows` and `cols` ('same' where None), the out conv 'same'. Used on the border strips."""
        same = (self.inner_radius, self.inner_radius)
        padding = [[0, 0], list(rows or same), list(cols or same), [0, 0]]
        y = tf.nn.bias_add(tf.nn.conv2d(inputs, tf.convert_to_tensor(self.up_kernel), 1, padding),
                           tf.convert_to_tensor(self.up_bias))
        y = tf.nn.depth_to_space(y, self.factor)
        return tf.nn.bias_add(tf.nn.conv2d(y, tf.convert_to_tensor(self.out_kernel), 1, "SAME"),
                              tf.convert_to_tensor(self.out_bias))

    def call(self, inputs):
        lowest, highest = self.offsets
        r, r_up = self.outer_radius, self.inner_radius
        n = border_rows(self.factor, r_up, r)
        _, height, width, _ = inputs.shape
        if height is None or width is None or min(height, width) < n:
            return self._two_convs(inputs)   # smaller than a strip (or of unknown size)
        padding = [[0, 0], [-lowest, highest], [-lowest, highest], [0, 0]]
        inner = tf.nn.bias_add(
            tf.nn.conv2d(inputs, tf.convert_to_tensor(self.fused_kernel), 1, padding),
            tf.convert_to_tensor(self.fused_bias))
        inner = tf.nn.depth_to_space(inner, self.factor)
        if r == 0:
            return inner
        # The border, r high-resolution pixels wide, from strips of n input rows (columns). The
        # up conv pads a strip only on the image's side, so it computes just the n - r_up rows
        # the border reads; their padding there, and the out conv's, is the image's own.
        top = self._two_convs(inputs[:, :n], rows=(r_up, 0))[:, :r]
        bottom = self._two_convs(inputs[:, -n:], rows=(0, r_up))[:, -r:]
        left = self._two_convs(inputs[:, :, :n], cols=(r_up, 0))[:, r:-r, :r]
        right = self._two_convs(inputs[:, :, -n:], cols=(0, r_up))[:, r:-r, -r:]
        middle = tf.concat([left, inner[:, r:-r, r:-r], right], axis=2)
        return tf.concat([top, middle, bottom], axis=1)

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        f = self.factor
        return (batch, None if height is None else height * f, None if width is None else width * f,
                self.out_kernel_shape[3])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "up_kernel_shape": list(self.up_kernel_shape),
                "out_kernel_shape": list(self.out_kernel_shape)}
