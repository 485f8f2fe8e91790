"""Strided projections rewritten as stride-1 convolutions plus a pixel (un)shuffle, exactly.

A transposed convolution with kernel K, stride S and crop P on each side, where K - 2P = S,
maps H x W to exactly SH x SW (DIC's feedback up-projection: K12 S8 P2, 32 -> 256; its
reconstruction: K8 S4 P2, 32 -> 128). Writing an output row as y = S*p + s (block p, phase s),
it receives input row p + d through kernel row k = s + P - S*d, for every tap d with
0 <= k < K. Phases that share the same taps form a group; for each pair of (row, column)
groups one stride-1 convolution over the input computes all those phases, with the kernel
entries sliced from the transposed kernel; depth_to_space(S) then interleaves the phases.
Every multiply-add of the transposed convolution is done once and no other (no zero taps,
no cropped border), and only dense stride-1 convolutions run, forward and backward. Since each
kernel entry belongs to exactly one group kernel, all group kernels come from one gather by a
permutation fixed at build time (GroupKernels), and the bias is added by each group conv
(a BiasAdd oneDNN fuses) rather than in a pass over the S-times larger output: on a 2-core
AMD EPYC Zen 5 (native bf16: yes) the two made DIC's mixed-bf16 batch-1 serving 1.05x and its
training step 1.08x faster, with bit-identical outputs.

The strided convolution with the same geometry (DIC's down-projection: K12 S8 pad 2, 256 -> 32)
is the adjoint: space_to_depth(S) splits the input into S x S phases; input block p = o + d
reaches output o through kernel row k = s + P + S*d, and one stride-1 convolution per group
pair adds its part. Its layer keeps the stock strided conv forward (faster there) and takes
its gradients through this form.

Phase-packed maps (`packed=True`): DIC's feedback block only ever feeds an up-projection's
output to per-pixel operations (PReLU, the dense links' 1x1 convs) and then to a down-projection
of the same geometry, whose phase groups are the up-projection's (a transposed conv's phase s
uses tap d where a conv's uses -d). So the full-resolution map never needs its pixels in image
order: a packed up-projection returns its group convs' outputs as they are, one after the other
in memory (pack_phase_groups: one contiguous copy instead of two channel-axis concatenations and
a depth_to_space), shaped (B, sH, sW, F) like the image-order map but with the pixels (and the
batch) permuted; a packed down-projection takes the groups back with a split along the first
axis (unpack_phase_groups: TensorFlow shares the buffer when the pieces are aligned) and
convolves each with its group kernel, so the space_to_depth goes too. Per-pixel layers in
between give the same values in either order. On a 2-core AMD EPYC Zen 5 (native bf16: yes),
float32, batch 1, one feedback group with six dense-link inputs: 33-35 ms packed against
46 ms in image order (same weights, outputs within 6e-6). The whole DIC at the reference size,
both forms with the same weights in one process, calls alternated (medians of 12 serving calls
through the exported SavedModel, of 6 training steps at batch 2), in a slow phase of that VM:
float32 serving 813 against 1036 ms, training 7.46 against 7.97 s a step; mixed bf16 serving
396 against 411 ms, training 2.94 against 3.07 s.

The layers keep Keras' Conv2DTranspose / Conv2D weights (same shapes and order, same class
names), so the parameter count is unchanged and weights trained with the stock layers load.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops


def phase_groups(kernel, stride, pad, transposed):
    """[(first phase, end phase, taps)] for one spatial dimension, phases grouped by their taps.

    A transposed conv's phase s takes input block p + d through kernel index s + pad - stride*d;
    a conv's output block o takes input phase s of block o + d through s + pad + stride*d.
    """
    if kernel - 2 * pad != stride:
        raise ValueError(f"kernel {kernel} - 2 x pad {pad} must equal stride {stride} "
                         f"(each input block maps to exactly one output block)")
    sign = -1 if transposed else 1
    reach = kernel // stride + 1
    groups = []
    for s in range(stride):
        taps = tuple(d for d in range(-reach, reach + 1) if 0 <= s + pad + sign * stride * d < kernel)
        if groups and groups[-1][2] == taps:
            groups[-1] = (groups[-1][0], s + 1, taps)
        else:
            groups.append((s, s + 1, taps))
    return groups


def _kernel_starts(first, taps, pad, stride, transposed):
    """Kernel index of each tap for the group's first phase; consecutive phases read the next
    indices, so a tap's entries for the whole group are one contiguous slice of the kernel."""
    sign = -1 if transposed else 1
    return [first + pad + sign * stride * d for d in taps]


def _shifted(x, row_taps, col_taps):
    """x zero-padded so that a VALID conv with len(taps) rows reads x[p + taps[0] + j]."""
    return ops.pad(x, [[0, 0], [-row_taps[0], row_taps[-1]], [-col_taps[0], col_taps[-1]], [0, 0]])


def pack_phase_groups(groups, stride, features):
    """(B, H, W, phases_g * features) group-conv outputs, row-major over group pairs, as one
    (B, sH, sW, features) map in phase-packed order (module docstring): the groups' memory one
    after the other, each group seen as B * phases_g rows of H * W * features values."""
    shape = tf.shape(groups[0])
    row = shape[1] * shape[2] * features
    packed = tf.concat([tf.reshape(group, [-1, row]) for group in groups], axis=0)
    return tf.reshape(packed, [shape[0], stride * shape[1], stride * shape[2], features])


def unpack_phase_groups(packed, stride, counts):
    """The inverse of pack_phase_groups: [(B, H, W, phases_g * F)] from a phase-packed
    (B, sH, sW, F) map, counts the groups' phases_g (group_phase_counts). A split along the
    first axis, which TensorFlow does without copying when a row's bytes are a multiple of its
    alignment."""
    shape = tf.shape(packed)
    b, h, w, features = shape[0], shape[1] // stride, shape[2] // stride, packed.shape[-1]
    rows = tf.reshape(packed, [-1, h * w * features])
    pieces = tf.split(rows, [b * count for count in counts], axis=0, num=len(counts))
    return [tf.reshape(piece, [b, h, w, count * features]) for piece, count in zip(pieces, counts)]


def group_phase_counts(tap_groups):
    """phases_y * phases_x of each (row group, column group) pair, row-major."""
    return [(row[1] - row[0]) * (col[1] - col[0]) for row in tap_groups for col in tap_groups]


def _group_kernel(kernel, row, col, pad, stride, transposed):
    """Kernel of one (row group, column group) stride-1 conv, sliced from the full K x K kernel,
    a numpy array (of kernel entries or of their indices).

    Transposed (K, K, F_out, C_in) -> (taps_y, taps_x, C_in, phases_y * phases_x * F_out);
    conv (K, K, C_in, F_out) -> (taps_y, taps_x, phases_y * phases_x * C_in, F_out).
    """
    row_starts, col_starts = (_kernel_starts(first, taps, pad, stride, transposed)
                              for first, _, taps in (row, col))
    phases_y, phases_x = row[1] - row[0], col[1] - col[0]
    a, b = kernel.shape[2], kernel.shape[3]
    g = np.stack([np.stack([kernel[ky:ky + phases_y, kx:kx + phases_x] for kx in col_starts])
                  for ky in row_starts])   # (Ty, Tx, Ny, Nx, A, B)
    ty, tx = len(row_starts), len(col_starts)
    if transposed:   # A = F_out, B = C_in
        g = np.transpose(g, (0, 1, 5, 2, 3, 4))
        return np.reshape(g, (ty, tx, b, phases_y * phases_x * a))
    return np.reshape(g, (ty, tx, phases_y * phases_x * a, b))   # A = C_in, B = F_out


class GroupKernels:
    """Every (row group, column group) conv's kernel of a K x K kernel, in the order of
    tap_groups x tap_groups, as one gather and one split.

    Each kernel position (ky, kx) belongs to exactly one group kernel (each multiply-add is done
    once), so the group kernels are a permutation of the kernel's K * K positions: one gather
    of (C_in, C_out) slices, whose gradient is one scatter, instead of a slice per tap, two
    stacks, a transpose and a reshape per group, which in DIC's batch-1 forward were ~2,000
    small ops recomputed on every call. The index is over positions, not entries, so each
    traced call embeds K * K integers in the graph, not the kernel's size in them (a
    per-entry index made DIC's serving graph 143 MB instead of 14)."""

    def __init__(self, kernel_shape, tap_groups, pad, stride, transposed):
        size, _, a, b = kernel_shape
        positions = np.arange(size * size).reshape(size, size, 1, 1)
        pieces = [_group_kernel(positions, row, col, pad, stride, transposed)
                  for row in tap_groups for col in tap_groups]
        order = np.concatenate([piece.ravel() for piece in pieces])
        if not np.array_equal(np.sort(order), np.arange(order.size)):
            raise ValueError("the group kernels must use each kernel position exactly once")
        self.order = order.astype(np.int32)
        self.transposed = transposed
        # Each piece's positions run (taps_y, taps_x, phases_y, phases_x), row-major.
        self.taps = [piece.shape[:2] for piece in pieces]
        self.sizes = [piece.size for piece in pieces]
        phases = [piece.size // (ty * tx) for piece, (ty, tx) in zip(pieces, self.taps)]
        self.shapes = [(ty, tx, b, n * a) if transposed else (ty, tx, n * a, b)
                       for (ty, tx), n in zip(self.taps, phases)]

    def __call__(self, kernel):
        """[group kernel] of `kernel` (a tensor of kernel_shape), row-major over group pairs."""
        size, _, a, b = kernel.shape
        gathered = tf.gather(tf.reshape(kernel, [size * size, a, b]), self.order)
        kernels = []
        for piece, (ty, tx), shape in zip(tf.split(gathered, self.sizes), self.taps, self.shapes):
            if self.transposed:   # (taps, phases, F_out, C_in) -> (taps, C_in, phases, F_out)
                piece = tf.transpose(tf.reshape(piece, [ty * tx, -1, a, b]), [0, 3, 1, 2])
            kernels.append(tf.reshape(piece, shape))
        return kernels


def _square(value, what):
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if values[0] != values[1]:
        raise ValueError(f"{what} must be square, got {values}")
    return int(values[0])


def _layer_tap_groups(layer, pad, transposed):
    """phase_groups of a (square) stock conv layer's kernel and strides."""
    return phase_groups(_square(layer.kernel_size, "kernel_size"), _square(layer.strides, "strides"),
                        pad, transposed)


# Keras addresses a layer's weights in a .weights.h5 (and a .keras archive) by its class name
# and its rank among the model's layers of that class, not by layer name. These two layers
# therefore subclass, and are named as, the stock layers they replace: a file written by a
# DIC built with keras.layers.Conv2DTranspose / Conv2D loads into one built with these, and
# back. They are registered (for .keras configs) under their own names.

@keras.saving.register_keras_serializable(package="tinyface", name="SubpixelConv2DTranspose")
class Conv2DTranspose(keras.layers.Conv2DTranspose):
    """keras.layers.Conv2DTranspose(filters, k, strides=s, padding='valid') followed by a crop
    of `crop` on each side, computed as stride-1 convs + depth_to_space (module docstring).
    (B, H, W, C) -> (B, sH, sW, filters); with packed=True the output is in phase-packed order
    (module docstring), for a packed Conv2D of the same geometry."""

    def __init__(self, filters, kernel_size, strides, crop, packed=False, **kwargs):
        kwargs.pop("padding", None)
        super().__init__(filters, kernel_size, strides=strides, padding="valid", **kwargs)
        self.crop = int(crop)
        self.packed = bool(packed)
        self.tap_groups = _layer_tap_groups(self, self.crop, transposed=True)
        self.group_kernels = None

    def build(self, input_shape):
        super().build(input_shape)
        self.group_kernels = GroupKernels(tuple(self.kernel.shape), self.tap_groups, self.crop,
                                          self.strides[0], transposed=True)

    def call(self, x):
        s, f = self.strides[0], self.filters
        kernels = iter(self.group_kernels(ops.cast(self.kernel, x.dtype)))
        bias = ops.cast(self.bias, x.dtype) if self.use_bias else None
        pairs = [(row, col) for row in self.tap_groups for col in self.tap_groups]
        groups = []
        for (row, col), count in zip(pairs, group_phase_counts(self.tap_groups)):
            y = tf.nn.conv2d(_shifted(x, row[2], col[2]), next(kernels), 1, "VALID")
            if bias is not None:
                # Each phase's copy of the bias, added by the conv (oneDNN fuses a BiasAdd)
                # rather than in a pass of its own over the s-times larger output.
                y = tf.nn.bias_add(y, tf.tile(bias, [count]))
            groups.append(y)
        if self.packed:
            return pack_phase_groups(groups, s, f)
        shape = ops.shape(x)
        rows, pairs = [], iter(groups)
        for row in self.tap_groups:
            columns = [ops.reshape(next(pairs), (shape[0], shape[1], shape[2], row[1] - row[0],
                                                 col[1] - col[0], f)) for col in self.tap_groups]
            rows.append(ops.concatenate(columns, axis=4))
        phases = ops.reshape(ops.concatenate(rows, axis=3), (shape[0], shape[1], shape[2], s * s * f))
        return tf.nn.depth_to_space(phases, s)

    def compute_output_shape(self, shape):
        s = self.strides[0]
        return (shape[0], None if shape[1] is None else shape[1] * s,
                None if shape[2] is None else shape[2] * s, self.filters)

    def get_config(self):
        return {**super().get_config(), "crop": self.crop, "packed": self.packed}


@keras.saving.register_keras_serializable(package="tinyface", name="SpaceToDepthConv2D")
class Conv2D(keras.layers.Conv2D):
    """ZeroPadding2D(pad) then keras.layers.Conv2D(filters, k, strides=s, padding='valid'): the
    stock strided conv forward, its gradients through space_to_depth + stride-1 convs (module
    docstring). (B, sH, sW, C) -> (B, H, W, filters). With packed=True the input is in
    phase-packed order (module docstring) and both directions run the stride-1 group convs on
    its groups.

    Measured at DIC's shapes (48 channels, 256 -> 32) on a 2-core Xeon: the stock forward is
    ~3x faster than the rewrite's, the stock gradient ~2.5x slower, so each direction runs the
    faster form.
    """

    def __init__(self, filters, kernel_size, strides, pad, packed=False, **kwargs):
        kwargs.pop("padding", None)
        super().__init__(filters, kernel_size, strides=strides, padding="valid", **kwargs)
        self.pad = int(pad)
        self.packed = bool(packed)
        self.tap_groups = _layer_tap_groups(self, self.pad, transposed=False)
        self.group_kernels = None

    def build(self, input_shape):
        super().build(input_shape)
        self.group_kernels = GroupKernels(tuple(self.kernel.shape), self.tap_groups, self.pad,
                                          self.strides[0], transposed=False)

    def space_to_depth_conv(self, x, kernel):
        """The strided conv (no bias) as space_to_depth + one stride-1 conv per group pair."""
        s = self.strides[0]
        blocks = tf.nn.space_to_depth(x, s)
        shape = ops.shape(blocks)
        channels = x.shape[-1]
        phases = ops.reshape(blocks, (shape[0], shape[1], shape[2], s, s, channels))
        # Splits rather than slices: their gradient is one concatenation, where slices' would
        # be a zero-padded full-size tensor per group, all summed.
        sizes = [end - first for first, end, _ in self.tap_groups]
        parts = []
        for row, row_phases in zip(self.tap_groups, tf.split(phases, sizes, axis=3)):
            for col, part in zip(self.tap_groups, tf.split(row_phases, sizes, axis=4)):
                parts.append(ops.reshape(part, (shape[0], shape[1], shape[2],
                                                (row[1] - row[0]) * (col[1] - col[0]) * channels)))
        return self.group_conv_sum(parts, kernel)

    def group_conv_sum(self, parts, kernel):
        """The strided conv (no bias) from its input's phase groups (B, H, W, phases_g * C),
        row-major over group pairs: the sum of each group's stride-1 conv."""
        kernels = iter(self.group_kernels(kernel))
        pairs = [(row, col) for row in self.tap_groups for col in self.tap_groups]
        return tf.add_n([ops.conv(_shifted(part, row[2], col[2]), next(kernels), padding="valid")
                         for part, (row, col) in zip(parts, pairs)])

    def call(self, x):
        p, s = self.pad, self.strides[0]
        if self.packed:
            parts = unpack_phase_groups(x, s, group_phase_counts(self.tap_groups))
            return self.group_conv_sum(parts, ops.cast(self.kernel, x.dtype)) + ops.cast(self.bias, x.dtype)

        @tf.custom_gradient
        def project(x, kernel):
            padded = tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])
            y = tf.nn.conv2d(padded, kernel, s, "VALID")

            def gradient(dy):
                # The rewrite's forward ops feed nothing here, so the graph prunes them.
                with tf.GradientTape() as tape:
                    tape.watch([x, kernel])
                    rewritten = self.space_to_depth_conv(x, kernel)
                return tape.gradient(rewritten, [x, kernel], output_gradients=dy)

            return y, gradient

        return project(x, ops.cast(self.kernel, x.dtype)) + ops.cast(self.bias, x.dtype)

    def compute_output_shape(self, shape):
        s = self.strides[0]
        return (shape[0], None if shape[1] is None else shape[1] // s,
                None if shape[2] is None else shape[2] // s, self.filters)

    def get_config(self):
        return {**super().get_config(), "pad": self.pad, "packed": self.packed}
