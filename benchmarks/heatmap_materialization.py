"""Should PairGen materialize heatmaps, and how should HR images reach TFMA as labels?

Measures on N face-like examples (smooth random 128x128 images, a jittered 68-point mean
shape; made here so the figures do not depend on the synthetic face generator):
  (a) bytes per example in a GZIP TFRecord: heatmaps materialized vs landmark coordinates only,
      for the DIC (32x32x68) and JASRNet (16x16x69) specs;
  (b) tf.data input throughput (parse + decode PNGs + heatmaps, batch 16): reading materialized
      heatmaps vs rendering them from coordinates (per example in the map, or per batch);
  (c) the HR label: PNG bytes decoded in graph vs raw pixels as int64 (HR_PIXELS) vs float.

Run: .venv/bin/python benchmarks/heatmap_materialization.py [--examples 512] [--repeats 3]
"""

import argparse
import os
import tempfile
import time

import numpy as np
import tensorflow as tf
from scipy import ndimage

from tinyface import features
from tinyface.data import example_codec, heatmaps, landmarks
from tinyface.data.degradation.degrade import bicubic_resize
from tinyface.data.degradation.pairs import encode_png

HR_SIZE = 128
SCALE = 8
BATCH = 16
NUM_LANDMARKS = 68
SPECS = {"DIC 32x32x68": heatmaps.DIC_HEATMAPS, "JASRNet 16x16x69": heatmaps.JASRNET_HEATMAPS}


def face_like_image(rng):
    """Smooth colour field + a lighter face ellipse + mild grain: compresses like a real crop."""
    fields = [ndimage.gaussian_filter(rng.standard_normal((HR_SIZE, HR_SIZE)), rng.uniform(4, 12))
              for _ in range(3)]
    image = np.stack([f / (np.abs(f).max() + 1e-9) for f in fields], -1) * 60 + rng.uniform(70, 170, size=3)
    ys, xs = np.mgrid[0:HR_SIZE, 0:HR_SIZE]
    face = ((xs - 64) / 46.0) ** 2 + ((ys - 70) / 58.0) ** 2 < 1
    image[face] = image[face] * 0.5 + np.array([200, 160, 135]) * 0.5
    image += rng.normal(0, 2.0, size=image.shape)
    return np.clip(np.round(ndimage.gaussian_filter(image, (0.8, 0.8, 0))), 0, 255).astype(np.uint8)


def make_faces(count, seed):
    rng = np.random.default_rng(seed)
    shape = landmarks.template_68(HR_SIZE)
    faces = []
    for _ in range(count):
        hr = face_like_image(rng)
        similarity = rng.uniform(0.9, 1.1)
        points = (shape - 64) * similarity + 64 + rng.uniform(-4, 4, size=2) + rng.normal(0, 1.0, size=shape.shape)
        lr = bicubic_resize(hr, (HR_SIZE // SCALE, HR_SIZE // SCALE))
        faces.append({"hr": hr, "lr": lr, "landmarks": points.astype(np.float32),
                      "hr_png": encode_png(hr), "lr_png": encode_png(lr)})
    return faces


def write_records(path, examples):
    with tf.io.TFRecordWriter(path, options=tf.io.TFRecordOptions(compression_type="GZIP")) as writer:
        for example in examples:
            writer.write(example_codec.to_example(example).SerializeToString())
    return os.path.getsize(path)


def build_dataset(path, parse, batch_parse=None):
    dataset = tf.data.TFRecordDataset(path, compression_type="GZIP")
    dataset = dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE).batch(BATCH)
    if batch_parse is not None:
        dataset = dataset.map(batch_parse, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def one_pass(dataset):
    """(examples/s wall clock, CPU ms per example) for one full pass over `dataset`."""
    count = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for batch in dataset:
        count += int(tf.shape(batch[0])[0])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return count / wall, 1000.0 * cpu / count


def measure_interleaved(datasets, repeats):
    """Times every dataset once per round, rounds interleaved, so load from other processes on
    a shared machine hits all variants alike. Returns {name: (best examples/s, median CPU ms)}.
    The first round warms up tracing and the page cache and is dropped."""
    rates = {name: [] for name in datasets}
    cpu_ms = {name: [] for name in datasets}
    for round_index in range(repeats + 1):
        for name, dataset in datasets.items():
            rate, cost = one_pass(dataset)
            if round_index:
                rates[name].append(rate)
                cpu_ms[name].append(cost)
    return {name: (max(rates[name]), float(np.median(cpu_ms[name]))) for name in datasets}


def pair_parser(spec=None, materialized=False, render_in_map=True):
    description = {
        features.LR_IMAGE: tf.io.FixedLenFeature([], tf.string),
        features.HR_IMAGE: tf.io.FixedLenFeature([], tf.string),
        features.LANDMARKS_68: tf.io.FixedLenFeature([2 * NUM_LANDMARKS], tf.float32),
    }
    if materialized:
        description[features.HEATMAPS] = tf.io.FixedLenFeature([spec.flat_length(NUM_LANDMARKS)], tf.float32)
    channels = spec.num_channels(NUM_LANDMARKS) if spec else 0

    def parse(serialized):
        parsed = tf.io.parse_single_example(serialized, description)
        lr = tf.io.decode_png(parsed[features.LR_IMAGE], channels=3)
        hr = tf.io.decode_png(parsed[features.HR_IMAGE], channels=3)
        landmarks = tf.reshape(parsed[features.LANDMARKS_68], [NUM_LANDMARKS, 2])
        if materialized:
            maps = tf.reshape(parsed[features.HEATMAPS], [spec.size, spec.size, channels])
            return lr, hr, maps
        if spec is not None and render_in_map:
            return lr, hr, heatmaps.render_heatmaps(landmarks, HR_SIZE, spec)
        return lr, hr, landmarks

    def render_batch(lr, hr, landmarks):
        return lr, hr, heatmaps.render_heatmaps(landmarks, HR_SIZE, spec)

    return parse, (render_batch if spec is not None and not materialized and not render_in_map else None)


def label_parser(kind):
    if kind == "png":
        description = {features.HR_IMAGE: tf.io.FixedLenFeature([], tf.string)}
    elif kind == "int64":
        description = {features.HR_PIXELS: tf.io.FixedLenFeature([HR_SIZE * HR_SIZE * 3], tf.int64)}
    else:
        description = {"hr_pixels_float": tf.io.FixedLenFeature([HR_SIZE * HR_SIZE * 3], tf.float32)}

    def parse(serialized):
        parsed = tf.io.parse_single_example(serialized, description)
        if kind == "png":
            hr = tf.io.decode_png(parsed[features.HR_IMAGE], channels=3)
        else:
            hr = tf.reshape(next(iter(parsed.values())), [HR_SIZE, HR_SIZE, 3])
        return (tf.cast(hr, tf.float32),)

    return parse


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    faces = make_faces(args.examples, seed=0)
    n = len(faces)
    with tempfile.TemporaryDirectory(prefix="heatmap_bench_") as workdir:
        rows, label_rows = measure(faces, workdir, args.repeats)
    report(rows, label_rows, n, args.repeats)


def measure(faces, workdir, repeats):
    """Writes each variant's records under `workdir`; returns the (a)+(b) and (c) table rows."""
    n = len(faces)

    def base(face):
        return {features.FACE_ID: "bench", features.HR_IMAGE: face["hr_png"], features.LR_IMAGE: face["lr_png"],
                features.LANDMARKS_68: face["landmarks"].ravel(), features.SCALE: SCALE}

    coords_path = os.path.join(workdir, "coords.tfrecord.gz")
    coords_bytes = write_records(coords_path, (base(f) for f in faces)) / n
    sizes, datasets = {}, {}
    for name, spec in SPECS.items():
        path = os.path.join(workdir, f"{spec.size}.tfrecord.gz")
        rendered = heatmaps.render_heatmaps(np.stack([f["landmarks"] for f in faces]), HR_SIZE, spec).numpy()
        key = (name, "materialized (read HEATMAPS)")
        sizes[key] = write_records(path, (dict(base(f), **{features.HEATMAPS: maps.ravel()})
                                          for f, maps in zip(faces, rendered))) / n
        datasets[key] = build_dataset(path, *pair_parser(spec, materialized=True))
        key = (name, "coordinates, render per example")
        sizes[key] = coords_bytes
        datasets[key] = build_dataset(coords_path, *pair_parser(spec, render_in_map=True))
        key = (name, "coordinates, render per batch")
        sizes[key] = coords_bytes
        datasets[key] = build_dataset(coords_path, *pair_parser(spec, render_in_map=False))
    key = ("(no heatmaps)", "coordinates only, no rendering")
    sizes[key] = coords_bytes
    datasets[key] = build_dataset(coords_path, *pair_parser(None))
    timings = measure_interleaved(datasets, repeats)
    rows = [key + (sizes[key],) + timings[key] for key in datasets]

    label_features = {
        "png": lambda f: {features.HR_IMAGE: f["hr_png"]},
        "int64": lambda f: {features.HR_PIXELS: f["hr"].ravel()},
        "float": lambda f: {"hr_pixels_float": f["hr"].ravel().astype(np.float32)},
    }
    descriptions = {"png": "HR_IMAGE PNG bytes, decode_png in graph",
                    "int64": "HR_PIXELS int64 list (raw pixels)",
                    "float": "float list (raw pixels as float32)"}
    label_sizes, label_datasets = {}, {}
    for kind, make in label_features.items():
        path = os.path.join(workdir, f"label_{kind}.tfrecord.gz")
        gzip_size = write_records(path, (make(f) for f in faces)) / n
        raw_path = os.path.join(workdir, f"label_{kind}.tfrecord")
        with tf.io.TFRecordWriter(raw_path) as writer:
            for f in faces:
                writer.write(example_codec.to_example(make(f)).SerializeToString())
        label_sizes[kind] = (gzip_size, os.path.getsize(raw_path) / n)
        label_datasets[kind] = build_dataset(path, label_parser(kind))
    label_timings = measure_interleaved(label_datasets, repeats)
    label_rows = [(descriptions[kind],) + label_sizes[kind] + label_timings[kind] for kind in label_datasets]
    return rows, label_rows


def report(rows, label_rows, n, repeats):
    print(f"\n{n} examples, HR {HR_SIZE}x{HR_SIZE}, LR x{SCALE}, batch {BATCH}, {os.cpu_count()} CPUs, "
          f"TF {tf.__version__}; examples/s = best of {repeats} interleaved passes (wall clock), "
          f"CPU ms/example = median process CPU time per example\n")
    print("(a)+(b) Heatmaps: materialize in PairGen or render in the input pipeline")
    print(f"{'spec':<18} {'variant':<34} {'KB/ex gzip':>10} {'examples/s':>11} {'CPU ms/ex':>10}")
    for spec_name, variant, size, rate, cpu in rows:
        print(f"{spec_name:<18} {variant:<34} {size / 1024:>10.1f} {rate:>11.0f} {cpu:>10.2f}")
    print("\n(c) HR image as a TFMA label (parse + decode to float32 (128,128,3), batch 16)")
    print(f"{'encoding':<42} {'KB/ex gzip':>10} {'KB/ex raw':>10} {'examples/s':>11} {'CPU ms/ex':>10}")
    for description, gzip_size, raw_size, rate, cpu in label_rows:
        print(f"{description:<42} {gzip_size / 1024:>10.1f} {raw_size / 1024:>10.1f} {rate:>11.0f} {cpu:>10.2f}")


if __name__ == "__main__":
    main()
