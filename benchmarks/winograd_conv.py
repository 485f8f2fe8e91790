"""Would Winograd convolutions make JASRNet train faster on a CPU? One layer, measured.

JASRNet at the paper configuration spends most of its FLOPs in a few 3x3, 128 -> 128 channel
convolutions at 128x128 and 64x64 (trainer/models/jasrnet.py). Both our model and the PyTorch
reference run them at 83-96 % of the CPU's matmul peak (README, "Benchmarks"), so only doing
fewer multiplications could make training 1.2x faster. Winograd F(2x2, 3x3) (Lavin and Gray,
2016) computes each 2x2 output tile with 16 instead of 36 multiplications per channel pair
(2.25x fewer), at the cost of transforming input tiles and output tiles. TensorFlow's CPU
kernels (oneDNN's direct convolution) and Keras offer no Winograd convolution for training,
so this script writes one from TensorFlow ops and times it against tf.nn.conv2d on one layer:
forward, and forward plus the gradients a training step needs (input and kernel), float32,
in a tf.function without XLA (XLA made our training slower on this CPU; README, "XLA").

It also times the 16 tile matmuls alone: the forward time a Winograd kernel whose transforms
cost nothing would have, the upper bound of what the algorithm can give on this CPU.
The Winograd form is exact in exact arithmetic; the script prints its largest difference from
tf.nn.conv2d so the timing compares equal results.

Run: .venv/bin/python benchmarks/winograd_conv.py [--batch 2] [--size 128] [--channels 128]
         [--repeats 10]
"""

import argparse
import os
import statistics
import time

import numpy as np
import tensorflow as tf

# F(2x2, 3x3) transforms (Lavin and Gray): input tile d (4x4) -> B^T d B, kernel g (3x3) ->
# G g G^T, product m (4x4) -> output tile A^T m A (2x2). They compute cross-correlation, which
# is what tf.nn.conv2d computes.
_B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float32)
_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], np.float32)
_A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float32)


def _combine(parts, matrix):
    """Rows of `matrix` applied to the list `parts`: [sum_j matrix[i, j] * parts[j] for i]."""
    out = []
    for row in matrix:
        total = None
        for weight, part in zip(row, parts):
            if weight == 0:
                continue
            term = part if weight == 1 else (-part if weight == -1 else weight * part)
            total = term if total is None else total + term
        out.append(total)
    return out


def winograd_kernel(kernel):
    """(3, 3, C, K) kernel -> (16, C, K) transformed kernel U = G g G^T, tile-major."""
    g = tf.constant(_G)
    u = tf.einsum("ai,ijck,bj->abck", g, kernel, g)
    return tf.reshape(u, (16, kernel.shape[2], kernel.shape[3]))


def winograd_conv2d(x, kernel):
    """3x3, stride 1, 'same' convolution of NHWC `x` (even H and W) by F(2x2, 3x3)."""
    batch, height, width, channels = x.shape
    filters = kernel.shape[3]
    h, w = height // 2, width // 2
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    # Row k of every 4-row input tile, for all tiles at once (tiles overlap by 2 rows).
    rows = [padded[:, k:k + 2 * h:2] for k in range(4)]
    row_mixed = _combine(rows, _B_T)
    tiles = []
    for r in row_mixed:
        cols = [r[:, :, k:k + 2 * w:2] for k in range(4)]
        tiles.extend(_combine(cols, _B_T))
    v = tf.reshape(tf.stack(tiles), (16, batch * h * w, channels))
    m = tf.matmul(v, winograd_kernel(kernel))            # (16, N, K): the multiplications
    m = tf.reshape(m, (4, 4, batch, h, w, filters))
    out_rows = _combine([m[a] for a in range(4)], _A_T)  # (4, B, h, w, K) each
    quads = []
    for r in out_rows:
        quads.append(_combine([r[b] for b in range(4)], _A_T))
    # quads[p][q] is output pixel (2i + p, 2j + q): interleave into (B, H, W, K).
    y = tf.stack([tf.stack(q, axis=-2) for q in quads], axis=2)  # (B, h, 2, w, 2, K)
    return tf.reshape(y, (batch, height, width, filters))


def direct_conv2d(x, kernel):
    return tf.nn.conv2d(x, kernel, strides=1, padding="SAME")


def _median_seconds(fn, repeats):
    fn()  # untimed: tracing and oneDNN primitive creation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _step(conv, x, kernel, upstream):
    """Forward plus the gradients w.r.t. input and kernel, as a training step needs."""
    with tf.GradientTape() as tape:
        tape.watch([x, kernel])
        y = conv(x, kernel)
        loss = tf.reduce_sum(y * upstream)
    return tape.gradient(loss, [x, kernel])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--channels", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    shape = (args.batch, args.size, args.size, args.channels)
    x = tf.constant(rng.standard_normal(shape, np.float32))
    kernel = tf.constant(rng.normal(0, 0.05, (3, 3, args.channels, args.channels)).astype(np.float32))
    upstream = tf.constant(rng.standard_normal(shape, np.float32))

    flops = 2 * args.batch * args.size ** 2 * args.channels ** 2 * 9
    print(f"one 3x3 conv, batch {args.batch}, {args.size}x{args.size}, {args.channels} -> "
          f"{args.channels} channels, float32: {flops / 1e9:.2f} GFLOP forward (direct count); "
          f"threads: {os.cpu_count()} CPUs")
    results = {}
    for name, conv in (("direct (tf.nn.conv2d)", direct_conv2d),
                       ("Winograd F(2x2,3x3)", winograd_conv2d)):
        forward = tf.function(lambda c=conv: c(x, kernel))
        step = tf.function(lambda c=conv: _step(c, x, kernel, upstream))
        results[name] = (_median_seconds(forward, args.repeats),
                         _median_seconds(step, args.repeats))
    # The best a Winograd kernel could do: its 16 tile matmuls alone, transforms for free.
    tiles = tf.constant(rng.standard_normal(
        (16, args.batch * (args.size // 2) ** 2, args.channels), np.float32))
    transformed = winograd_kernel(kernel)
    matmul_s = _median_seconds(tf.function(lambda: tf.matmul(tiles, transformed)), args.repeats)
    direct = direct_conv2d(x, kernel)
    difference = float(tf.reduce_max(tf.abs(winograd_conv2d(x, kernel) - direct)))
    scale = float(tf.reduce_max(tf.abs(direct)))
    print(f"largest |Winograd - direct|: {difference:.2e} (outputs up to {scale:.2f})")
    print(f"{'algorithm':<24}{'forward ms':>12}{'fwd GFLOP/s':>13}{'train step ms':>15}"
          f"{'step GFLOP/s':>14}")
    for name, (forward_s, step_s) in results.items():
        print(f"{name:<24}{forward_s * 1e3:>12.1f}{flops / forward_s / 1e9:>13.0f}"
              f"{step_s * 1e3:>15.1f}{3 * flops / step_s / 1e9:>14.0f}")
    (direct_f, direct_s), (wino_f, wino_s) = results.values()
    print(f"{'its 16 tile matmuls only':<24}{matmul_s * 1e3:>12.1f}{flops / matmul_s / 1e9:>13.0f}"
          f"   (the bound: transforms for free)")
    print(f"Winograd vs direct: forward {direct_f / wino_f:.2f}x, training step "
          f"{direct_s / wino_s:.2f}x (GFLOP/s counted as the direct convolution's FLOPs)")


if __name__ == "__main__":
    main()
