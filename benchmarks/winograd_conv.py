"""Would Winograd convolutions make JASRNet faster on a CPU? One layer, measured.

JASRNet at the paper configuration spends most of its FLOPs in a few 3x3, 128 -> 128 channel
convolutions at 128x128 and 64x64 (trainer/models/jasrnet.py). Both our model and the PyTorch
reference run them at 83-96 % of the CPU's matmul peak (README, "Benchmarks"), so only doing
fewer multiplications could make JASRNet 1.2x faster. Winograd F(m x m, 3x3) (Lavin and Gray,
2016) computes each m x m output tile from an (m + 2) x (m + 2) input tile with (m + 2)^2
multiplications per channel pair instead of 9 m^2: F(2x2, 3x3) 2.25x fewer, F(4x4, 3x3) 4x
fewer, at the cost of transforming input tiles and output tiles. TensorFlow's CPU kernels
(oneDNN's direct convolution) and Keras offer no Winograd convolution, so this script writes
one from TensorFlow ops and times it against tf.nn.conv2d on one layer: forward, and forward
plus the gradients a training step needs (input and kernel), float32.

The tile matmuls run on TensorFlow's own (oneDNN) batched matmul. The tile transforms run as
separate TensorFlow ops, or with --xla-transforms each transform is one XLA-compiled function
(XLA fuses its slices and sums into one loop; XLA made whole-model training slower on this CPU,
README "XLA", so only the transforms are compiled here).

It also times the tile matmuls alone: the forward time a Winograd kernel whose transforms cost
nothing would have, the upper bound of what the algorithm can give on this CPU.
The Winograd form is exact in exact arithmetic; the script prints its largest difference from
tf.nn.conv2d so the timing compares equal results.

Run: .venv/bin/python benchmarks/winograd_conv.py [--tile 2|4] [--xla-transforms]
         [--batch 2] [--size 128] [--channels 128] [--repeats 10] [--forward-only]
"""

import argparse
import os
import statistics
import time

import numpy as np
import tensorflow as tf

# The transforms of F(m x m, 3x3) for output tile side m (Lavin and Gray): input tile d
# ((m+2) x (m+2)) -> B^T d B, kernel g (3x3) -> G g G^T, product M -> output tile A^T M A
# (m x m). They compute cross-correlation, which is what tf.nn.conv2d computes.
TRANSFORMS = {
    2: dict(
        B_T=np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float64),
        G=np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], np.float64),
        A_T=np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float64)),
    4: dict(
        B_T=np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                      [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], np.float64),
        G=np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
                    [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]], np.float64),
        A_T=np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
                      [0, 1, -1, 8, -8, 1]], np.float64)),
}


def _combine(parts, matrix):
    """Rows of `matrix` applied to the list `parts`: [sum_j matrix[i, j] * parts[j] for i]."""
    out = []
    for row in matrix:
        total = None
        for weight, part in zip(row, parts):
            if weight == 0:
                continue
            term = part if weight == 1 else (-part if weight == -1 else float(weight) * part)
            total = term if total is None else total + term
        out.append(total)
    return out


def winograd_kernel(kernel, tile=2):
    """(3, 3, C, K) kernel -> ((tile + 2)^2, C, K) transformed kernel U = G g G^T, tile-major
    (TensorFlow ops, so that a training step gets the kernel's gradient through it)."""
    g = tf.constant(TRANSFORMS[tile]["G"], tf.float32)
    u = tf.einsum("ai,ijck,bj->abck", g, kernel, g)
    return tf.reshape(u, (-1, kernel.shape[2], kernel.shape[3]))


def input_tiles(x, tile=2):
    """NHWC `x` (H, W multiples of `tile`) -> ((tile + 2)^2, N * H/tile * W/tile, C): B^T d B of
    every input tile d of the 'same'-padded input."""
    b_t = TRANSFORMS[tile]["B_T"]
    side = tile + 2
    batch, height, width, channels = x.shape
    h, w = height // tile, width // tile
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    # Row k of every input tile, for all tiles at once (neighbouring tiles overlap by 2 rows).
    rows = [padded[:, k:k + tile * h:tile] for k in range(side)]
    tiles = []
    for r in _combine(rows, b_t):
        cols = [r[:, :, k:k + tile * w:tile] for k in range(side)]
        tiles.extend(_combine(cols, b_t))
    return tf.reshape(tf.stack(tiles), (side * side, batch * h * w, channels))


def output_tiles(products, output_shape, tile=2):
    """((tile + 2)^2, N * h * w, K) tile products -> NHWC output: A^T M A of every tile, the
    tiles interleaved back into (N, H, W, K)."""
    a_t = TRANSFORMS[tile]["A_T"]
    side = tile + 2
    batch, height, width, filters = output_shape
    h, w = height // tile, width // tile
    m = tf.reshape(products, (side, side, batch, h, w, filters))
    out_rows = _combine([m[a] for a in range(side)], a_t)  # tile x (side, B, h, w, K)
    quads = [_combine([r[b] for b in range(side)], a_t) for r in out_rows]
    # quads[p][q] is output pixel (tile * i + p, tile * j + q): interleave into (B, H, W, K).
    y = tf.stack([tf.stack(q, axis=-2) for q in quads], axis=2)  # (B, h, tile, w, tile, K)
    return tf.reshape(y, (batch, height, width, filters))


_xla_input_tiles = tf.function(input_tiles, jit_compile=True)
_xla_output_tiles = tf.function(output_tiles, jit_compile=True)


def winograd_conv2d(x, kernel, tile=2, xla_transforms=False, transformed_kernel=None):
    """3x3, stride 1, 'same' convolution of NHWC `x` (H, W multiples of `tile`) by
    F(tile x tile, 3x3); the tile transforms XLA-compiled if `xla_transforms`."""
    if transformed_kernel is None:
        transformed_kernel = winograd_kernel(kernel, tile)
    to_tiles, from_tiles = ((_xla_input_tiles, _xla_output_tiles) if xla_transforms
                            else (input_tiles, output_tiles))
    products = tf.matmul(to_tiles(x, tile), transformed_kernel)   # the multiplications
    return from_tiles(products, (*x.shape[:3], kernel.shape[3]), tile)


def direct_conv2d(x, kernel):
    return tf.nn.conv2d(x, kernel, strides=1, padding="SAME")


def _median_seconds(fn, repeats):
    fn()  # untimed: tracing, XLA compilation and oneDNN primitive creation
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
    parser.add_argument("--tile", type=int, choices=sorted(TRANSFORMS), default=2,
                        help="output tile side m of F(m x m, 3x3)")
    parser.add_argument("--xla-transforms", action="store_true",
                        help="compile each tile transform with XLA (the matmuls stay oneDNN's)")
    parser.add_argument("--forward-only", action="store_true",
                        help="time the forward only (serving), not the training step")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--channels", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    if args.size % args.tile:
        parser.error(f"--size {args.size} is not a multiple of --tile {args.tile}")
    rng = np.random.default_rng(0)
    shape = (args.batch, args.size, args.size, args.channels)
    x = tf.constant(rng.standard_normal(shape, np.float32))
    kernel = tf.constant(rng.normal(0, 0.05, (3, 3, args.channels, args.channels)).astype(np.float32))
    upstream = tf.constant(rng.standard_normal(shape, np.float32))
    transformed = winograd_kernel(kernel, args.tile)   # a served model would store it so

    side = args.tile + 2
    flops = 2 * args.batch * args.size ** 2 * args.channels ** 2 * 9
    winograd_name = f"Winograd F({args.tile}x{args.tile},3x3)" + (" XLA" if args.xla_transforms else "")
    print(f"one 3x3 conv, batch {args.batch}, {args.size}x{args.size}, {args.channels} -> "
          f"{args.channels} channels, float32: {flops / 1e9:.2f} GFLOP forward (direct count); "
          f"threads: {os.cpu_count()} CPUs")

    def winograd(x, kernel, known=None):
        return winograd_conv2d(x, kernel, args.tile, args.xla_transforms, known)

    results = {}
    for name, conv, served in (("direct (tf.nn.conv2d)", direct_conv2d, direct_conv2d),
                               (winograd_name, winograd,
                                lambda x, kernel: winograd(x, kernel, transformed))):
        forward = tf.function(lambda c=served: c(x, kernel))
        step = tf.function(lambda c=conv: _step(c, x, kernel, upstream))
        results[name] = (_median_seconds(forward, args.repeats),
                         float("nan") if args.forward_only else _median_seconds(step, args.repeats))
    # The best a Winograd kernel could do: its tile matmuls alone, transforms for free.
    tiles = tf.constant(rng.standard_normal(
        (side * side, args.batch * (args.size // args.tile) ** 2, args.channels), np.float32))
    matmul_s = _median_seconds(tf.function(lambda: tf.matmul(tiles, transformed)), args.repeats)
    direct = direct_conv2d(x, kernel)
    difference = float(tf.reduce_max(tf.abs(winograd(x, kernel, transformed) - direct)))
    scale = float(tf.reduce_max(tf.abs(direct)))
    print(f"largest |Winograd - direct|: {difference:.2e} (outputs up to {scale:.2f})")
    print(f"{'algorithm':<32}{'forward ms':>12}{'fwd GFLOP/s':>13}{'train step ms':>15}"
          f"{'step GFLOP/s':>14}")
    for name, (forward_s, step_s) in results.items():
        print(f"{name:<32}{forward_s * 1e3:>12.1f}{flops / forward_s / 1e9:>13.0f}"
              f"{step_s * 1e3:>15.1f}{3 * flops / step_s / 1e9:>14.0f}")
    (direct_f, direct_s), (wino_f, wino_s) = results.values()
    print(f"{f'its {side * side} tile matmuls only':<32}{matmul_s * 1e3:>12.1f}"
          f"{flops / matmul_s / 1e9:>13.0f}   (the bound: transforms for free)")
    print(f"Winograd vs direct: forward {direct_f / wino_f:.2f}x, training step "
          f"{direct_s / wino_s:.2f}x (GFLOP/s counted as the direct convolution's FLOPs)")


if __name__ == "__main__":
    main()
