"""A Conv2D that can convolve each image as a batch of its two half-height halves.

Why: TensorFlow 2.16's oneDNN picks its convolution kernel by the CPU's ISA and the batch size.
Without AVX-512 it runs a batch-1 3x3 convolution as an im2col GEMM (`gemm:jit`) and the same
convolution at batch 2 with its direct kernel (`brgconv:avx2`): 2.4-3.2x faster per image for
128 channels at 32x32 to 128x128 (a Zen 4 EPYC with oneDNN capped at AVX2; README, "Batch-1
serving"). Serving answers one face per request, so every large JASRNet conv took the slow
kernel. Cut into its top and bottom halves, each with the rows of its neighbour that the kernel
reaches ('same' padding's margins), the image becomes a batch of two whose convolution is the
same sum: the same output up to float rounding (tested), at any stride.

Layers split only inside `splitting_images()`, which the serving export enters where splitting
pays, i.e. where oneDNN has no AVX-512 kernels (trainer/training/export.py); with them the
batch-1 kernel is already the direct one and the split only adds its copy. Training graphs are
keras.layers.Conv2D's. A batch of N becomes 2N half-images: from batch 2 on oneDNN runs the
direct kernel either way, so larger batches only pay the copy. Small maps and few channels are
never split: there the two kernels are within ~20 % of each other.
"""

import contextlib
import threading

import keras
import tensorflow as tf

# A batch-1 conv is split only from these sizes on (its input's rows, both channel counts):
# measured on JASRNet with oneDNN capped at AVX2, splitting from 16 rows served a face in
# 282 ms, from 32 in 331, from 64 in 339, never in 833; DIC's 48-channel convs gained nothing
# measurable.
MIN_SPLIT_ROWS = 16
MIN_SPLIT_CHANNELS = 64


def same_padding(size, kernel, stride):
    """(before, after): the zeros TensorFlow's 'SAME' padding puts around an axis of `size`."""
    outputs = -(-size // stride)
    total = max((outputs - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def stack_row_halves(images, above, below):
    """(N, H, W, C), H even -> (2N, H/2 + above + below, W, C): each image's top then bottom half
    of rows, each with the `above` rows before it and the `below` rows after it, zeros beyond
    the image's border.

    One concatenation and a reshape (no copy): each image's two halves with their margins, laid
    out one after the other, are already two batch entries.
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


_scope = threading.local()


@contextlib.contextmanager
def splitting_images():
    """Within it, this module's Conv2D layers split the images they are called on (where
    `splits` says so): for tracing a serving graph. Outside it they never do."""
    outer = getattr(_scope, "active", False)
    _scope.active = True
    try:
        yield
    finally:
        _scope.active = outer


# Named as the stock layer it replaces: Keras addresses a layer's weights in a .weights.h5 by
# its class name and rank (trainer/models/subpixel_projections.py), so weights files written
# before this layer existed, with keras.layers.Conv2D, load into it and back (tested).
@keras.saving.register_keras_serializable(package="tinyface", name="RowSplitConv2D")
class Conv2D(keras.layers.Conv2D):
    """keras.layers.Conv2D; inside `splitting_images()`, a 'same' convolution on maps of enough
    rows and channels (see the module) runs as each image's two half-height halves."""

    def splits(self, input_shape):
        """Whether a call on inputs of static `input_shape` inside splitting_images() runs as
        half-images: each half must give whole output rows, and the maps must be large."""
        _, height, width, channels = input_shape
        row_stride = self.strides[0]
        return (None not in (height, width, channels)
                and height % (2 * row_stride) == 0 and height >= MIN_SPLIT_ROWS
                and max(same_padding(height, self.kernel_size[0], row_stride)) <= height // 2
                and min(channels, self.filters) >= MIN_SPLIT_CHANNELS
                and tuple(self.kernel_size) != (1, 1)   # a 1x1 conv is a GEMM at any batch
                and self.data_format == "channels_last" and self.padding == "same"
                and tuple(self.dilation_rate) == (1, 1) and self.groups == 1)

    def call(self, inputs):
        if not (getattr(_scope, "active", False) and self.splits(tuple(inputs.shape))):
            return super().call(inputs)
        _, height, width, _ = inputs.shape
        halves = stack_row_halves(inputs, *same_padding(height, self.kernel_size[0], self.strides[0]))
        # The rows carry their 'same' padding already (margins or zeros); the columns get theirs.
        columns = same_padding(width, self.kernel_size[1], self.strides[1])
        outputs = tf.nn.conv2d(halves, self.kernel, strides=list(self.strides),
                               padding=[[0, 0], [0, 0], list(columns), [0, 0]])
        if self.use_bias:
            # Before joining, so that the bias add stays fused with the convolution.
            outputs = tf.nn.bias_add(outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return join_row_halves(outputs)
