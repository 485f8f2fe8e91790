"""A Conv2D with two exact rewrites of oneDNN's slow cases: CPUs without AVX-512, and float32
kernel gradients.

TensorFlow 2.16's oneDNN picks its convolution kernels by the CPU's ISA and the batch size.
Without AVX-512 (measured on a Zen 4 EPYC with oneDNN capped at AVX2; README, "Benchmarks"):

* Serving: it runs a batch-1 3x3 convolution as an im2col GEMM (`gemm:jit`), and the same
  convolution at batch 2 with its direct kernel (`brgconv:avx2`), 2.4-3.2x faster per image
  for 128 channels at 32x32 to 128x128. Cut into its top and bottom halves, each with the rows
  of its neighbour that the kernel reaches ('same' padding's margins), an image becomes a batch
  of two whose convolution is the same sum. Inside `splitting_images()`, which the serving
  export enters on such CPUs (trainer/training/export.py), large convs run that way: JASRNet
  then serves a face in 285 ms instead of 849.
* Training: its kernel gradient runs on the older `jit:avx2` kernel, with a layout reorder on
  each side, at ~2.5x the forward's time. The kernel gradient of a stride-1 convolution is a
  sum of matrix products, one per tap, of the (shifted) input with the output's gradient
  (kernel_gradient_by_row_shifts). Inside `gemm_kernel_gradients()`, which training enters on
  such CPUs (trainer/training/loop.py), large convs compute it so: a JASRNet training step
  1.23x faster (then in an im2col form, which the row-shift form equals in speed there).

With AVX-512, oneDNN's float32 kernel gradient is still slow (on a 2-core AMD EPYC Zen 5: 37 ms
for JASRNet's 128 -> 128 conv at 128x128, batch 2, against 28 ms by row shifts), so float32
training takes the GEMM kernel gradient too: a JASRNet float32 step 1.085-1.13x faster there.
In bf16 oneDNN's own is as fast (26 against 27 ms), and the split never pays with AVX-512
(4-18 % slower serving on a Zen 4). Outside the scopes the layer is keras.layers.Conv2D, graph for
graph. Small maps and few channels are never rewritten: there the kernels are within ~20 % of
each other. Both rewrites give the stock results up to float rounding (tested).
"""

import keras
import tensorflow as tf

from tinyface.trainer.models.trace_setting import TraceSetting

# Convs are rewritten only from these sizes on (their input's rows, both channel counts):
# measured on JASRNet with oneDNN capped at AVX2, splitting from 16 rows served a face in
# 282 ms, from 32 in 331, from 64 in 339, never in 833; the GEMM kernel gradient from 16 rows
# trained a step in 1750 ms, from 32 in 1761, never in 2147; DIC's 48-channel convs gained
# nothing measurable from the split.
MIN_ROWS = 16
MIN_CHANNELS = 64
# The GEMM kernel gradient from 32 rows on: JASRNet float32 training steps on a 2-core AMD EPYC
# Zen 5 (AVX-512; one process, steps alternated with the stock ones) were 1.02-1.04x faster
# with it from 16 rows, 1.12-1.13x from 32, 1.07-1.11x from 64; with oneDNN capped at AVX2 the
# 16-row and 32-row thresholds were equal (above).
MIN_GEMM_GRADIENT_ROWS = 32


def same_padding(size, kernel, stride):
    """(before, after): the zeros TensorFlow's 'SAME' padding puts around an axis of `size`."""
    outputs = -(-size // stride)
    total = max((outputs - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def stack_row_halves(images, above, below):
    """(N, H, W, C), H even -> (2N, H/2 + above + below, W, C): each image's top then bottom half
    of rows, each with the `above` rows before it and the `below` rows after it, zeros beyond
    the image's border.

    One concatenation, then a free reshape: each image's two halves with their margins, laid out
    one after the other, are already two batch entries.
    """
    half = images.shape[1] // 2
    parts = [images[:, :half + below], images[:, half - above:]]
    if above:
        parts.insert(0, tf.zeros_like(images[:, :above]))
    if below:
        parts.append(tf.zeros_like(images[:, :below]))
    _, _, width, channels = _dims(images)
    return tf.reshape(tf.concat(parts, axis=1), [-1, half + above + below, width, channels])


def join_row_halves(halves):
    """(2N, R, W, C) -> (N, 2R, W, C): each image's halves one above the other (a reshape)."""
    _, rows, width, channels = _dims(halves)
    return tf.reshape(halves, [-1, 2 * rows, width, channels])


def _dims(tensor):
    """The static sizes of `tensor`'s axes, dynamic ones where unknown: a reshape to them keeps
    every static size, which the next layer's `splits` needs."""
    return [size if size is not None else tf.shape(tensor)[axis]
            for axis, size in enumerate(tensor.shape)]


def kernel_gradient_by_row_shifts(images, output_gradient, kernel_shape):
    """The kernel gradient of tf.nn.conv2d(images, kernel, 1, 'SAME'), kernel of `kernel_shape`
    (rows, cols, C_in, C_out), as one matrix product per tap over contiguous rows.

    The input, padded as 'same' pads it to (N, Hp, Wp, C_in), is read as a matrix of
    N * Hp * Wp rows; the output gradient is put at the top left of a grid of the same size
    (zeros in its last rows - 1 rows and cols - 1 columns) and read the same way. Output pixel
    (n, h, w) is then row r of the gradient matrix, and its tap (i, j) reads row
    r + i * Wp + j of the input matrix: still inside image n's padded rows, as h + i < Hp and
    w + j < Wp. So tap (i, j)'s kernel gradient is input rows [i * Wp + j, + R) transposed
    times gradient rows [0, R), R = N * Hp * Wp - the largest such offset: a slice, no copy of
    the input per tap as im2col makes (9 for a 3x3 kernel).
    """
    rows, cols, channels_in, channels_out = kernel_shape
    _, height, width, _ = images.shape
    (top, bottom), (left, right) = same_padding(height, rows, 1), same_padding(width, cols, 1)
    padded_width = width + cols - 1
    inputs = tf.reshape(tf.pad(images, [[0, 0], [top, bottom], [left, right], [0, 0]]),
                        [-1, channels_in])
    count = tf.shape(inputs)[0] - ((rows - 1) * padded_width + cols - 1)
    gradient = tf.reshape(tf.pad(output_gradient, [[0, 0], [0, rows - 1], [0, cols - 1], [0, 0]]),
                          [-1, channels_out])[:count]
    taps = [tf.matmul(inputs[i * padded_width + j:i * padded_width + j + count], gradient,
                      transpose_a=True)
            for i in range(rows) for j in range(cols)]
    return tf.reshape(tf.stack(taps), kernel_shape)


def conv2d_with_gemm_kernel_gradient(images, kernel):
    """tf.nn.conv2d(images, kernel, 1, 'SAME'), whose kernel gradient is matrix products
    (kernel_gradient_by_row_shifts; the input's gradient is TF's own)."""
    @tf.custom_gradient
    def conv(images, kernel):
        outputs = tf.nn.conv2d(images, kernel, 1, "SAME")

        def gradients(output_gradient):
            image_gradient = tf.raw_ops.Conv2DBackpropInput(
                input_sizes=tf.shape(images), filter=kernel, out_backprop=output_gradient,
                strides=[1, 1, 1, 1], padding="SAME")
            return image_gradient, kernel_gradient_by_row_shifts(images, output_gradient, kernel.shape)

        return outputs, gradients

    return conv(images, kernel)


# Which rewrite the Conv2D layers traced now take: None, "split" or "gemm".
rewrite = TraceSetting()


def splitting_images():
    """Within it, this module's Conv2D layers run large convolutions as half-images (where
    `splits` says so): for tracing a serving graph. Outside it they never do."""
    return rewrite.set_to("split")


def gemm_kernel_gradients():
    """Within it, this module's Conv2D layers compute large stride-1 convolutions' kernel
    gradients as one GEMM (where `gemm_gradient` says so): for tracing a training step."""
    return rewrite.set_to("gemm")


# Named as the stock layer it replaces: Keras addresses a layer's weights in a .weights.h5 by
# its class name and rank (trainer/models/subpixel_projections.py), so weights files written
# before this layer existed, with keras.layers.Conv2D, load into it and back (tested).
@keras.saving.register_keras_serializable(package="tinyface", name="Avx2Conv2D")
class Conv2D(keras.layers.Conv2D):
    """keras.layers.Conv2D; inside `splitting_images()` or `gemm_kernel_gradients()`, a 'same'
    convolution on maps of enough rows and channels runs in the form they name (see the module)."""

    def _large_same_conv(self, input_shape):
        _, height, width, channels = input_shape
        return (None not in (height, width, channels) and height >= MIN_ROWS
                and min(channels, self.filters) >= MIN_CHANNELS
                and tuple(self.kernel_size) != (1, 1)   # a 1x1 conv is a GEMM already
                and self.data_format == "channels_last" and self.padding == "same"
                and tuple(self.dilation_rate) == (1, 1) and self.groups == 1)

    def splits(self, input_shape):
        """Whether a call on inputs of static `input_shape` inside splitting_images() runs as
        half-images: each half must give whole output rows, and the maps must be large."""
        height, row_stride = input_shape[1], self.strides[0]
        return (self._large_same_conv(input_shape) and height % (2 * row_stride) == 0
                and max(same_padding(height, self.kernel_size[0], row_stride)) <= height // 2)

    def gemm_gradient(self, input_shape):
        """Whether a call on inputs of static `input_shape` inside gemm_kernel_gradients() takes
        the GEMM kernel gradient: large maps (from MIN_GEMM_GRADIENT_ROWS rows), stride 1."""
        return (self._large_same_conv(input_shape) and tuple(self.strides) == (1, 1)
                and input_shape[1] >= MIN_GEMM_GRADIENT_ROWS)

    def call(self, inputs):
        shape = tuple(inputs.shape)
        if rewrite.value == "split" and self.splits(shape):
            return self._call_on_halves(inputs)
        if rewrite.value == "gemm" and self.gemm_gradient(shape):
            outputs = conv2d_with_gemm_kernel_gradient(inputs, tf.convert_to_tensor(self.kernel))
            return self._bias_and_activation(outputs)
        return super().call(inputs)

    def _bias_and_activation(self, outputs):
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def _call_on_halves(self, inputs):
        _, height, width, _ = inputs.shape
        halves = stack_row_halves(inputs, *same_padding(height, self.kernel_size[0], self.strides[0]))
        # The rows carry their 'same' padding already (margins or zeros); the columns get theirs.
        columns = same_padding(width, self.kernel_size[1], self.strides[1])
        outputs = tf.nn.conv2d(halves, self.kernel, strides=list(self.strides),
                               padding=[[0, 0], [0, 0], list(columns), [0, 0]])
        # Bias before joining, so that the bias add stays fused with the convolution.
        return join_row_halves(self._bias_and_activation(outputs))
