"""How fast do our models train and serve on this machine, in float32 and mixed bfloat16?

For each model x size x precision:
  * training throughput (images/s): tinyface.trainer.training.loop.JointTrainingModel with the model's paper
    loss (tinyface.trainer.losses.joint.joint_loss_for) and paper optimiser (build_optimizer(paper_config)) --
    for the GAN models tinyface.trainer.training.gan_loop.GanTrainingModel, which also steps the
    discriminator with its own optimiser (paper GAN settings, discriminator feature matching),
    compiled and trained with Keras fit on a synthetic in-memory tf.data of (LR, targets)
    batches: random values, but every tensor shaped and keyed as tinyface.trainer.training.input_pipeline makes
    them (HR, HEATMAPS on the model's HeatmapSpec grid, LANDMARKS, HAS_LANDMARKS). Fit runs one
    warm-up epoch (tracing, oneDNN primitive creation, optimiser slot creation) that is NOT
    timed, then timed epochs of the same length; throughput is their images / seconds. We call
    keras' Model.fit directly rather than tinyface.trainer.training.loop.fit, whose BackupAndRestore and
    TensorBoard callbacks would add checkpoint writes to every timed epoch.
  * serving latency: the network exported by tinyface.trainer.training.export.export_serving_model (as the
    Trainer exports it), loaded back with tf.saved_model.load, its serving_default signature
    called on one uint8 face (input checks, SR, landmark decoding): median ms over repetitions
    after untimed warm-up calls (for the reference presets the PyTorch reference's own protocol:
    2 warm-up calls, then 3 to 20 calls within 4 s; see Budget). Measured in a child process that runs the kernels a serving
    process runs here (TensorFlow's default for the CPU), while this process trains as the
    Trainer trains: on AVX2-only CPUs tinyface turns TensorFlow's oneDNN kernels on for training
    only (trainer/training/cpu_isa.py), and the switch is one per process. Throughput at batch 32 (skip with --no-batch32): a
    tf.function over network(x, training=False) with a fixed input signature
    (float32 [None, lr, lr, 3]), median after an untimed warm-up call.
  * matmul peak: GFLOP/s of one 2048 x 2048 matmul in the precision's compute dtype, measured
    at the start of the same run (best of 10); "of peak" is training GFLOP/s over it.
  * FLOPs: forward FLOPs per image from tinyface.trainer.models.stats.forward_flops (TF profiler, 2 FLOPs
    per multiply-add, the papers' convention), counted once on the float32 graph. Convention
    for training: one step costs ~3x the forward FLOPs per image (forward, plus a backward
    pass of ~2x forward: gradients w.r.t. activations and w.r.t. weights). Achieved GFLOP/s =
    FLOPs per image x images/s; it is a count of useful model FLOPs, not of what the kernels
    executed. A GAN step also costs ~9x the discriminator's forward FLOPs (D step: forward and
    backward on real and generated faces, 6x; G step: forward on generated and real faces and
    the backward through D to the image, 3x); the gradient penalty (wgan_gp, not the paper
    settings measured here) would add more.

The dtype policy is set globally BEFORE the model is built (Keras layers fix their compute
dtype at construction) and reset to float32 afterwards, whatever happens.

Budget (2 CPU cores): the "reference" presets are 50-92 GFLOP per face, so they train with
a smaller batch (REFERENCE_TRAIN_BATCH, override with --reference-batch) and fewer timed
steps and repetitions. --quick caps repetitions further: reference training in one-step
epochs, and at batch 32 a single timed call with no separate warm-up call (see
Budget.throughput_warmup); the figures then carry more noise. DIC reference dominates any
run: its first training epoch alone traces for ~3.5 min, and one batch-32 float32 call takes
~110 s on 2 cores. Measured (2-core Xeon with AMX): --sizes small ~4 min; --sizes reference
--quick 19 min measured with the batch-32 warm-up call, ~15 min without it (DIC ~11 of
those); use --models / --sizes to measure one model at a time.

Run: .venv/bin/python benchmarks/model_speed.py [--models jasrnet dic dicgan proguigan]
         [--sizes small reference] [--precisions float32 mixed_bfloat16] [--quick]
         [--reference-batch 2] [--no-batch32] [--jit-training] [--jit-serving] [--json FILE]
--json FILE writes a list of rows: model, size, precision, train_images_per_s,
train_fraction_of_peak, infer_ms_batch1, matmul_peak_gflops (plus train_batch,
forward_gflop_per_image, train_gflops).
"""

import argparse
import dataclasses
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from tinyface.trainer.training import cpu_isa

# Before TensorFlow is imported: this process trains as the Trainer does on this CPU (a serving
# child gets the variable set explicitly, so this leaves it as it is).
cpu_isa.use_onednn_for_training()

import keras  # noqa: E402  (after the oneDNN switch)
import numpy as np
import tensorflow as tf

from tinyface import signatures
from tinyface.trainer.training import export, input_pipeline
from tinyface.trainer.models import registry
from tinyface.trainer.training.gan_loop import AdversarialSettings, GanTrainingModel
from tinyface.trainer.losses.joint import joint_loss_for
from tinyface.trainer.models.stats import forward_flops
from tinyface.trainer.training.loop import JointTrainingModel, build_optimizer, conv_kernels_for_this_cpu
from tinyface.trainer.training.training_config import paper_config

PRECISIONS = ("float32", "mixed_bfloat16")
TRAIN_FLOPS_PER_FORWARD = 3   # forward + backward (~2x forward), see the module docstring
DISCRIMINATOR_FLOPS_PER_STEP = 9   # discriminator forwards' worth per GAN step and image, ditto
SMALL_TRAIN_BATCH = 8         # the papers' batch size
REFERENCE_TRAIN_BATCH = 2     # reference presets: 8 would take minutes per config on 2 cores
THROUGHPUT_BATCH = 32
SERVING_CHILD_FLAG = "--serving-latency-child"   # argv[1] of the serving-latency child process
DISTINCT_BATCHES = 4          # synthetic batches held in memory and cycled


@dataclasses.dataclass(frozen=True)
class Budget:
    """How much work one (model, size, precision) measurement does."""
    train_batch: int
    steps_per_epoch: int       # warm-up epoch and every timed epoch
    timed_epochs: int
    latency_repeats: int       # batch-1 calls timed (at most, if latency_budget_s is set)
    throughput_repeats: int    # batch-32 calls timed
    # An untimed batch-32 call first. The serving function is already traced at batch 1 (its
    # signature has a None batch), so skipping it only leaves oneDNN's per-shape setup in the
    # timed call: negligible against a reference call of 20-200 s, which --quick saves.
    throughput_warmup: bool = True
    # Batch-1 latency by the PyTorch reference's protocol (ref_models.py's run_inference):
    # latency_warmups untimed calls, then timed calls until latency_repeats, or, once
    # latency_min_repeats are done, until the next call would overrun latency_budget_s.
    latency_warmups: int = 1
    latency_min_repeats: int = 0
    latency_budget_s: float = 0.0


def budget_for(size, quick, reference_batch):
    if size == "small":
        # Small presets are sub-GFLOP: enough repetitions for stable medians costs seconds.
        return Budget(SMALL_TRAIN_BATCH, steps_per_epoch=5 if quick else 10,
                      timed_epochs=2 if quick else 3, latency_repeats=20 if quick else 50,
                      throughput_repeats=3 if quick else 10)
    if quick:
        return Budget(reference_batch, steps_per_epoch=1, timed_epochs=2, latency_repeats=3,
                      throughput_repeats=1, throughput_warmup=False)
    # Batch-1 latency as the reference times it by default (2 warm-up calls, then 3 to 20 within
    # 4 s): 20 calls for JASRNet, ~10 for DIC; 5 fixed calls moved with the machine's stalls.
    return Budget(reference_batch, steps_per_epoch=2, timed_epochs=3, latency_repeats=20,
                  throughput_repeats=2, latency_warmups=2, latency_min_repeats=3, latency_budget_s=4.0)


def synthetic_dataset(built, batch_size, seed=0):
    """(LR, targets) batches with tinyface.trainer.training.input_pipeline's keys, shapes and dtypes, random values."""
    contract = built.contract
    spec = contract.heatmaps
    rng = np.random.default_rng(seed)
    n = DISTINCT_BATCHES * batch_size
    num_landmarks = contract.num_landmarks
    channels = spec.num_channels(num_landmarks)
    lr = rng.uniform(0, 1, (n, contract.lr_size, contract.lr_size, 3)).astype(np.float32)
    targets = {
        input_pipeline.HR: rng.uniform(0, 1, (n, contract.hr_size, contract.hr_size, 3)).astype(np.float32),
        input_pipeline.HEATMAPS: rng.uniform(0, 1, (n, spec.size, spec.size, channels)).astype(np.float32),
        # Inside the face area so losses that decode landmarks see plausible coordinates.
        input_pipeline.LANDMARKS: rng.uniform(0.2 * contract.hr_size, 0.8 * contract.hr_size,
                                              (n, num_landmarks, 2)).astype(np.float32),
        input_pipeline.HAS_LANDMARKS: np.ones((n,), np.float32),
    }
    # cache() keeps the batches materialised, so the timed epochs measure the model, not tf.data.
    return (tf.data.Dataset.from_tensor_slices((lr, targets)).batch(batch_size, drop_remainder=True)
            .cache().repeat().prefetch(tf.data.AUTOTUNE))


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def training_model(built, steps, batch, jit_compile=False):
    """The compiled wrapper fit() trains `built` with: the GAN loop for adversarial models."""
    config = paper_config(built.name, batch_size=batch)
    loss = joint_loss_for(built.name, built.contract.heatmaps, built.contract.hr_size)
    if built.discriminator is None:
        model = JointTrainingModel(built.network, loss)
        model.compile(optimizer=build_optimizer(config, steps), jit_compile=jit_compile)
        return model
    model = GanTrainingModel(built.network, built.discriminator, loss,
                             AdversarialSettings.from_training_config(config))
    model.compile(optimizer=build_optimizer(config, steps),
                  d_optimizer=build_optimizer(config, steps, config.d_learning_rate))
    model.build_training_state()
    return model


def measure_training(built, budget, jit_compile=False):
    """(images/s over the timed epochs, seconds of the untimed warm-up epoch)."""
    steps = budget.steps_per_epoch * (1 + budget.timed_epochs)
    model = training_model(built, steps, budget.train_batch, jit_compile)
    timer = EpochTimer()
    with conv_kernels_for_this_cpu():   # as the Trainer trains on this CPU
        model.fit(synthetic_dataset(built, budget.train_batch), epochs=1 + budget.timed_epochs,
                  steps_per_epoch=budget.steps_per_epoch, callbacks=[timer], verbose=0)
    warmup, timed = timer.seconds[0], timer.seconds[1:]
    images = budget.train_batch * budget.steps_per_epoch * len(timed)
    return images / sum(timed), warmup


def serving_function(network):
    """What the SavedModel's serving signature runs: one concrete function, any batch size."""
    lr_size = network.input_shape[1]
    return tf.function(lambda lr: network(lr, training=False),
                       input_signature=[tf.TensorSpec([None, lr_size, lr_size, 3], tf.float32)])


def median_call_seconds(function, batch, repeats, warmups=1, min_repeats=0, budget_s=0.0):
    """Median wall time of `function(batch)` over `repeats` calls after `warmups` untimed ones; with
    a budget_s, stops early once min_repeats are timed and the next call would overrun it."""
    def call():
        outputs = function(batch)
        # Materialise one output on the host: the call is over only when its results exist.
        next(iter(outputs.values())).numpy()
    for _ in range(warmups):
        call()
    times, start = [], time.perf_counter()
    while len(times) < repeats:
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
        if (budget_s and len(times) >= min_repeats
                and time.perf_counter() - start + times[-1] > budget_s):
            break
    return statistics.median(times)


def latency_seconds(function, batch, budget):
    """Median wall time of `function(batch)` by the budget's latency protocol (see Budget)."""
    return median_call_seconds(function, batch, budget.latency_repeats, budget.latency_warmups,
                               budget.latency_min_repeats, budget.latency_budget_s)


def measure_serving_latency(built, budget, jit_compile=False):
    """ms per face at batch 1 through the exported SavedModel's serving signature (uint8 LR
    in; SR, landmarks and heatmaps out), loaded back as TF Serving would."""
    contract = built.contract
    with tempfile.TemporaryDirectory() as folder:
        export.export_serving_model(built.network, folder, contract, jit_compile=jit_compile)
        serve = tf.saved_model.load(folder).signatures[signatures.SERVING_DEFAULT]
        rng = np.random.default_rng(1)
        face = tf.constant(rng.integers(0, 256, (1, contract.lr_size, contract.lr_size, 3)), tf.uint8)
        return 1e3 * latency_seconds(lambda lr: serve(**{signatures.LR_IMAGES_INPUT: lr}), face, budget)


def serving_process_environment(environ=os.environ):
    """The environment of a serving process on this machine: TensorFlow's oneDNN switch as it is
    there (cpu_isa.serving_runs_onednn), stated explicitly, without tinyface's training switch."""
    env = {key: value for key, value in environ.items() if key != cpu_isa.ONEDNN_FOR_TRAINING_VARIABLE}
    env[cpu_isa.TF_ONEDNN_VARIABLE] = "1" if cpu_isa.serving_runs_onednn(environ) else "0"
    return env


def serving_latency_in_serving_process(name, size, precision, budget, jit_compile=False):
    """measure_serving_latency of a freshly built `name` at `size` in `precision`, run in a child
    process with serving_process_environment(); its last output line is the figure."""
    command = [sys.executable, os.path.abspath(__file__), SERVING_CHILD_FLAG, name, size, precision,
               json.dumps(dataclasses.asdict(budget))] + (["--jit-serving"] if jit_compile else [])
    done = subprocess.run(command, env=serving_process_environment(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"serving latency of {name} {size} {precision} failed:\n{done.stderr[-3000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def serving_child(argv):
    """The child of serving_latency_in_serving_process: prints ms per face at batch 1."""
    name, size, precision, budget_json = argv[:4]
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(0)
    built = registry.build_model(name, size)
    budget = Budget(**json.loads(budget_json))
    print(measure_serving_latency(built, budget, "--jit-serving" in argv), flush=True)


def measure_throughput(built, budget):
    """images/s at batch THROUGHPUT_BATCH through serving_function (float32 input)."""
    serve = serving_function(built.network)
    lr_size = built.config.lr_size
    rng = np.random.default_rng(1)
    many = tf.constant(rng.uniform(0, 1, (THROUGHPUT_BATCH, lr_size, lr_size, 3)), tf.float32)
    return THROUGHPUT_BATCH / median_call_seconds(serve, many, budget.throughput_repeats,
                                                  int(budget.throughput_warmup))


def matmul_peak_gflops(precision, size=2048, repeats=10):
    """This machine's GFLOP/s on one square matmul in `precision`'s compute dtype (float32, or
    bfloat16 for mixed_bfloat16), measured now: the yardstick for the models' figures."""
    dtype = tf.bfloat16 if precision == "mixed_bfloat16" else tf.float32
    rng = np.random.default_rng(2)
    a, b = (tf.cast(rng.standard_normal((size, size)), dtype) for _ in range(2))
    product = tf.function(lambda a, b: tf.reduce_sum(tf.cast(tf.matmul(a, b), tf.float32)))
    product(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        product(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


def count_flops(name, size):
    """(network, discriminator or 0) forward FLOPs per image, counted on the float32 graph
    (once per model and size)."""
    keras.mixed_precision.set_global_policy("float32")
    try:
        built = registry.build_model(name, size)
        critic = forward_flops(built.discriminator, batch=1) if built.discriminator is not None else 0
        return forward_flops(built.network, batch=1), critic
    finally:
        keras.backend.clear_session()
        gc.collect()


def training_flops_per_image(flops, critic_flops):
    return TRAIN_FLOPS_PER_FORWARD * flops + DISCRIMINATOR_FLOPS_PER_STEP * critic_flops


def measure(name, size, precision, budget, flops, critic_flops, peak, options):
    keras.mixed_precision.set_global_policy(precision)   # before building: layers fix dtypes then
    try:
        keras.utils.set_random_seed(0)
        built = registry.build_model(name, size)
        # Inference first, on the freshly initialised weights; training then changes only
        # the weights' values, not the cost.
        latency_ms = serving_latency_in_serving_process(name, size, precision, budget, options.jit_serving)
        infer_rate = measure_throughput(built, budget) if options.batch32 else float("nan")
        train_rate, warmup = measure_training(built, budget, options.jit_training)
    finally:
        keras.mixed_precision.set_global_policy("float32")
        keras.backend.clear_session()
        gc.collect()
    train_gflops = training_flops_per_image(flops, critic_flops) * train_rate / 1e9
    return dict(model=name, size=size, precision=precision, batch=budget.train_batch,
                train_rate=train_rate, train_gflops=train_gflops, warmup=warmup,
                latency_ms=latency_ms, infer_rate=infer_rate,
                infer_gflops=flops * infer_rate / 1e9, gflop=flops / 1e9,
                peak=peak, fraction=train_gflops / peak)


def json_row(r):
    """One --json row: the keys issue 10 asks for, plus the measurement's batch and FLOPs."""
    return dict(model=r["model"], size=r["size"], precision=r["precision"],
                train_images_per_s=r["train_rate"], train_fraction_of_peak=r["fraction"],
                infer_ms_batch1=r["latency_ms"], matmul_peak_gflops=r["peak"],
                train_batch=r["batch"], forward_gflop_per_image=r["gflop"],
                train_gflops=r["train_gflops"])


HEADER = (f"{'model':9} {'size':9} {'precision':14} {'GFLOP/img':>9} | {'batch':>5} {'train img/s':>11} "
          f"{'GFLOP/s':>8} {'of peak':>7} {'warm-up s':>9} | {'b1 ms/img':>9} {'b32 img/s':>9} {'GFLOP/s':>8} "
          f"| {'peak GFLOP/s':>12}")


def format_row(r):
    return (f"{r['model']:9} {r['size']:9} {r['precision']:14} {r['gflop']:9.3f} | {r['batch']:5d} "
            f"{r['train_rate']:11.3f} {r['train_gflops']:8.1f} {r['fraction']:7.1%} {r['warmup']:9.1f} | "
            f"{r['latency_ms']:9.1f} {r['infer_rate']:9.2f} {r['infer_gflops']:8.1f} | {r['peak']:12.0f}")


def speedups(results):
    """bf16 / float32 ratios of every rate, for each model and size measured both ways."""
    by_key = {(r["model"], r["size"], r["precision"]): r for r in results}
    lines = []
    for (model, size, precision), bf16 in by_key.items():
        f32 = by_key.get((model, size, "float32"))
        if precision != "mixed_bfloat16" or f32 is None:
            continue
        lines.append(f"  {model:9} {size:9} training x{bf16['train_rate'] / f32['train_rate']:.2f}, "
                     f"batch-1 latency x{f32['latency_ms'] / bf16['latency_ms']:.2f}, "
                     f"batch-32 throughput x{bf16['infer_rate'] / f32['infer_rate']:.2f}")
    return lines


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(registry.MODELS),
                        choices=sorted(registry.MODELS))
    parser.add_argument("--sizes", nargs="+", default=list(registry.SIZES),
                        choices=registry.SIZES)
    parser.add_argument("--precisions", nargs="+", default=list(PRECISIONS), choices=PRECISIONS)
    parser.add_argument("--quick", action="store_true",
                        help="fewer timed steps and repetitions (noisier; for the reference sizes)")
    parser.add_argument("--reference-batch", type=int, default=REFERENCE_TRAIN_BATCH,
                        help=f"training batch of the reference presets (default {REFERENCE_TRAIN_BATCH})")
    parser.add_argument("--jit-training", action="store_true",
                        help="compile the train step with XLA (keras compile(jit_compile=True))")
    parser.add_argument("--jit-serving", action="store_true",
                        help="export the serving signature with the network XLA-compiled")
    parser.add_argument("--no-batch32", dest="batch32", action="store_false",
                        help=f"skip the batch-{THROUGHPUT_BATCH} throughput (minutes per DIC reference run)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as a JSON list to FILE")
    args = parser.parse_args()

    print(f"{cpu_name()}, {os.cpu_count()} CPUs, TF {tf.__version__}, Keras {keras.__version__}"
          f"{', --quick' if args.quick else ''}{', XLA training' if args.jit_training else ''}"
          f"{', XLA serving' if args.jit_serving else ''}", flush=True)
    peaks = {precision: matmul_peak_gflops(precision) for precision in args.precisions}
    print("matmul peak (2048 x 2048, measured now): "
          + ", ".join(f"{p} {g:.0f} GFLOP/s" for p, g in peaks.items()), flush=True)
    print(HEADER, flush=True)
    print("-" * len(HEADER), flush=True)
    results = []
    start = time.perf_counter()
    for name in args.models:
        for size in args.sizes:
            flops, critic_flops = count_flops(name, size)
            budget = budget_for(size, args.quick, args.reference_batch)
            for precision in args.precisions:
                results.append(measure(name, size, precision, budget, flops, critic_flops,
                                       peaks[precision], args))
                print(format_row(results[-1]), flush=True)

    print(f"\nTotal {time.perf_counter() - start:.0f} s. Training GFLOP/s counts "
          f"{TRAIN_FLOPS_PER_FORWARD} x forward FLOPs per image (GAN models: + "
          f"{DISCRIMINATOR_FLOPS_PER_STEP} x the discriminator's); GFLOP/img is the served "
          f"network's forward; batch is the training batch "
          f"(small {SMALL_TRAIN_BATCH}, reference {args.reference_batch}); b1 ms/img: the exported "
          f"SavedModel's serving signature, uint8 in; b{THROUGHPUT_BATCH}: a tf.function over the network; "
          f"warm-up s is the untimed first training epoch (tracing included).")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([json_row(r) for r in results], f, indent=1)
    lines = speedups(results)
    if lines:
        print("mixed_bfloat16 speed-up over float32:")
        print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == SERVING_CHILD_FLAG:
        serving_child(sys.argv[2:])
    else:
        main()
