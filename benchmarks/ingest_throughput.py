"""How fast do ingestion + pair generation run, in Beam and in a plain Python loop?

Does the same work two ways on one 300W-style folder and prints faces/s for each:
  (a) one Beam pipeline: ReadFaces -> Serialize -> MakePairs -> WriteToTFRecord (gzip), on the
      DirectRunner in each requested running mode (default: in_memory with 1 worker and
      multi_processing with one worker per core);
  (b) a single-process loop: parse_root -> face_example -> serialize -> from_example ->
      make_pairs -> to_example -> gzip tf.io.TFRecordWriter;
  (c) that loop split over --plain-processes processes (default: one per core), no Beam: the
      ceiling parallelism can reach on this machine (vCPUs need not scale 1:1).
All use pipeline/configs.py's MODEL_CONTRACT.hr_size, CROP_MARGIN and PAIR_CONFIG, and their outputs are
compared byte for byte (pairs are deterministic per face id).

Beam pays a fixed start-up per run (pipeline construction, runner and worker start), so each
mode is also run on a few faces: the table shows the whole run, that small run, and the
marginal rate (N - n_small) / (t_N - t_small), which is what a bigger dataset would see.

Data: N synthetic faces, generated once and cached under the temp dir, or --data DIR (its
first N annotation files if --faces is given, else all of them).

Run: .venv/bin/python benchmarks/ingest_throughput.py [--faces 400] [--seed 0]
         [--modes in_memory:1 multi_processing:2] [--runner-args "--flag=value ..."] [--data DIR]
         [--plain-processes 2] [--repeats 3] 2>/dev/null    (the table is on stdout; TF/Beam logs on stderr)
"""

import argparse
import collections
import glob
import itertools
import multiprocessing
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time

# Imported before any timing so that TensorFlow's (several-second) import is charged to no path.
import tensorflow as tf  # pylint: disable=unused-import
import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from tinyface.pipeline import configs
from tinyface import features
from tinyface.beam.ingest import ReadFaces
from tinyface.beam.pairs import MakePairs
from tinyface.data import example_codec
from tinyface.data.ingestion import face_example
from tinyface.data.degradation import pairs
from tinyface.data.synthesis import synth_cache
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers import base, get_reader

DATA_FORMAT = "300w"
SMALL_FACES = 10  # the start-up run: few enough that its per-face work is noise
OUTPUT_NAME = "pairs"


# ---------------------------------------------------------------------------------------------
# Data.

def synthetic_folder(count, seed):
    """`count` synthetic faces, cached across runs of this script (generation is not measured)."""
    folder = os.path.join(tempfile.gettempdir(), "tinyface-bench", f"synth-{count}-seed{seed}")
    return synth_cache.default_dataset(folder, count, seed)


def linked_subset(root, count, out_dir):
    """A folder of symlinks to the first `count` .pts files under `root` and their images.

    Used for the small start-up run and to cut --data down to --faces, so that both paths
    read exactly the same faces from a plain 300W folder.
    """
    units = get_reader(DATA_FORMAT).list_units(root)[:count]
    os.makedirs(out_dir)
    for index, unit in enumerate(units):
        image = base.image_beside(unit)
        # Renamed by position: files from different subfolders may share a stem.
        stem = os.path.join(out_dir, f"face_{index:06d}")
        os.symlink(unit, stem + ".pts")
        if image is not None:  # a missing image stays a bad record, as in the original folder
            os.symlink(image, stem + os.path.splitext(image)[1])
    return out_dir


# ---------------------------------------------------------------------------------------------
# The two ways of doing the work. Both write gzip TFRecords of serialized pair examples under
# out_dir (their first argument) and return {"faces": ..., "bad": ...} as they counted them.

def run_beam(out_dir, root, beam_args):
    options = PipelineOptions(beam_args)
    with beam.Pipeline(options=options) as pipeline:
        outputs = pipeline | "ReadFaces" >> ReadFaces(root, DATA_FORMAT, hr_size=configs.MODEL_CONTRACT.hr_size,
                                                      margin=configs.CROP_MARGIN)
        _ = (outputs["examples"]
             | "Serialize" >> beam.Map(lambda example: example.SerializeToString(deterministic=True))
             | "MakePairs" >> MakePairs(configs.PAIR_CONFIG)
             # The ".gz" suffix makes WriteToTFRecord (compression AUTO) gzip the shards.
             | "Write" >> beam.io.WriteToTFRecord(os.path.join(out_dir, OUTPUT_NAME),
                                                   file_name_suffix=".tfrecord.gz"))
    # Leaving the `with` block waited for the run; the counters ReadFaces keeps tell the counts.
    counters = {result.key.metric.name: result.committed
                for result in pipeline.result.metrics().query()["counters"]}
    return {"faces": counters.get("faces", 0),
            "bad": counters.get("bad_annotations", 0) + counters.get("bad_faces", 0)}


def run_plain(out_dir, root, stage_seconds, shard=0, num_shards=1):
    """The same work in one process; adds the seconds of each stage to `stage_seconds`.

    With num_shards > 1 it does only every num_shards-th face, starting at `shard`.
    """
    clock = time.perf_counter
    counts = {"faces": 0, "bad": 0}
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    path = os.path.join(out_dir, f"{OUTPUT_NAME}-{shard:03d}.tfrecord.gz")
    with tf.io.TFRecordWriter(path, options) as writer:
        items = itertools.islice(get_reader(DATA_FORMAT).parse_root(root), shard, None, num_shards)
        while True:
            start = clock()
            annotation = next(items, None)
            stage_seconds["parse annotations"] += clock() - start
            if annotation is None:
                break
            if isinstance(annotation, BadInput):
                counts["bad"] += 1
                continue

            start = clock()
            try:
                example = face_example.face_example(annotation, hr_size=configs.MODEL_CONTRACT.hr_size,
                                                    margin=configs.CROP_MARGIN)
            except BadInput:
                counts["bad"] += 1
                continue
            serialized = example.SerializeToString(deterministic=True)
            stage_seconds["load + crop + face example"] += clock() - start
            counts["faces"] += 1

            start = clock()
            face = example_codec.from_example(serialized)
            made = [example_codec.to_example(pair).SerializeToString(deterministic=True)
                    for pair in pairs.make_pairs(face, configs.PAIR_CONFIG)]
            stage_seconds["make pairs"] += clock() - start

            start = clock()
            for record in made:
                writer.write(record)
            stage_seconds["gzip write"] += clock() - start
    return counts


def read_pairs(out_dir):
    """{(face id, scale): serialized pair} of every record written under out_dir."""
    files = sorted(glob.glob(os.path.join(out_dir, OUTPUT_NAME + "*.tfrecord.gz")))
    found = {}
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator():
        pair = example_codec.from_example(record)
        key = (example_codec.text(pair, features.FACE_ID), example_codec.scalar(pair, features.SCALE))
        if key in found:
            raise AssertionError(f"pair {key} written twice in {out_dir}")
        found[key] = record
    return found


def _plain_shard(out_dir, root, small_root, shard, num_shards, barrier, results):
    with tempfile.TemporaryDirectory(prefix="tinyface-bench-warm-") as warm_dir:  # first-use costs, unmeasured
        run_plain(warm_dir, small_root, collections.Counter())
    barrier.wait()  # all shards start together, after their (unmeasured) interpreter start-up
    start = time.monotonic()  # system-wide clock: comparable across processes
    counts = run_plain(out_dir, root, collections.Counter(), shard, num_shards)
    results.put((start, time.monotonic(), counts))


def run_plain_parallel(out_dir, root, small_root, processes):
    """The plain loop split over `processes` processes: what this machine's cores can give.

    Times only the work (from a common start to the last shard's end), not process start-up.
    """
    context = multiprocessing.get_context("spawn")  # fork after TensorFlow's import is unsafe
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=_plain_shard, args=(out_dir, root, small_root, shard, processes, barrier, results))
               for shard in range(processes)]
    for worker in workers:
        worker.start()
    done = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    seconds = max(end for _, end, _ in done) - min(start for start, _, _ in done)
    counts = {key: sum(c[key] for _, _, c in done) for key in ("faces", "bad")}
    return seconds, counts, read_pairs(out_dir)


def timed(work, *args):
    """(wall-clock seconds, result, pairs written) of work(out_dir, *args) in a fresh out_dir."""
    out_dir = tempfile.mkdtemp(prefix="tinyface-bench-out-")
    try:
        start = time.perf_counter()
        result = work(out_dir, *args)
        seconds = time.perf_counter() - start
        written = read_pairs(out_dir)  # after the clock stopped: checking is not the work
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    return seconds, result, written


# ---------------------------------------------------------------------------------------------
# Reporting.

def best_of(repeats, measure):
    """The fastest of `repeats` calls of measure() -> (seconds, ...): this VM's neighbours add
    noise in one direction only (slower), so the minimum is the steadiest estimate."""
    return min((measure() for _ in range(repeats)), key=lambda result: result[0])


def machine_facts():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        cpu = cpu  # no /proc (not Linux): the platform's own CPU name is the best we have
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [("cpu", cpu), ("nproc", f"{usable} usable of {os.cpu_count()}"),
            ("python", sys.version.split()[0]), ("apache-beam", beam.__version__),
            ("tensorflow", tf.__version__), ("platform", platform.platform())]


def compare(name, written, reference):
    """One line saying whether `written` equals the plain loop's pairs, byte for byte."""
    if written == reference:
        sample = min(reference) if reference else None
        return f"{name}: {len(written)} pairs, identical bytes to the plain loop for all (e.g. {sample})"
    missing = sorted(set(reference) - set(written))
    extra = sorted(set(written) - set(reference))
    differ = sorted(key for key in set(written) & set(reference) if written[key] != reference[key])
    return (f"{name}: MISMATCH: {len(written)} pairs vs {len(reference)} in the plain loop; "
            f"missing {missing[:3]}, extra {extra[:3]}, different bytes {differ[:3]}")


def parse_mode(text, default_workers):
    """'in_memory', 'multi_processing:2', ... -> (mode, workers)."""
    mode, _, workers = text.partition(":")
    if mode not in ("in_memory", "multi_threading", "multi_processing"):
        raise argparse.ArgumentTypeError(f"unknown direct_running_mode {mode!r}")
    if mode == "in_memory":
        return mode, 1  # in_memory runs every bundle in the one process, whatever the flag says
    return mode, int(workers) if workers else default_workers


def main():
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=None,
                        help="number of faces (default 400 synthetic; with --data, all of DIR)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic faces")
    parser.add_argument("--data", help="a 300W-style folder to read instead of synthetic faces")
    parser.add_argument("--modes", nargs="+", default=["in_memory", f"multi_processing:{usable}"],
                        help="DirectRunner running modes as mode[:workers] (default: %(default)s)")
    parser.add_argument("--plain-processes", type=int, default=usable,
                        help="also time the plain loop split over this many processes, the ceiling of "
                             "what parallelism gives here without Beam (1: skip; default: usable cores)")
    parser.add_argument("--repeats", type=int, default=3, help="time each run this many times, keep the fastest")
    parser.add_argument("--runner-args", default="", help="extra Beam flags for every Beam run, one string")
    args = parser.parse_args()
    modes = [parse_mode(text, usable) for text in args.modes]
    extra_beam_args = shlex.split(args.runner_args)

    scratch = tempfile.mkdtemp(prefix="tinyface-bench-")
    try:
        if args.data:
            root = os.path.abspath(args.data)
            if args.faces is not None:
                root = linked_subset(root, args.faces, os.path.join(scratch, "faces"))
        else:
            print(f"Synthetic faces: {args.faces or 400} (seed {args.seed}), generated on first use ...")
            root = synthetic_folder(args.faces or 400, args.seed)
        small_root = linked_subset(root, SMALL_FACES, os.path.join(scratch, "small"))
        print(f"Data: {root}\n")

        # Warm-up, not measured: first-use costs (lazy imports, PNG codec set-up) of the shared
        # code would otherwise land on whichever path runs first.
        timed(run_plain, small_root, collections.Counter())
        timed(run_beam, small_root, ["--direct_running_mode=in_memory", "--direct_num_workers=1"])

        def plain_once():
            stages = collections.Counter()  # per run, so the split printed is the kept run's
            return (*timed(run_plain, root, stages), stages)
        plain_seconds, plain_counts, reference, stages = best_of(args.repeats, plain_once)
        faces = plain_counts["faces"]
        rows = [("plain loop (1 process)", faces, plain_seconds, None, None)]
        checks = []
        if args.plain_processes > 1:
            name = f"plain loop split over {args.plain_processes} processes"
            print(f"Running {name} ...", flush=True)
            out_dir = os.path.join(scratch, "parallel")
            def parallel_once():
                shutil.rmtree(out_dir, ignore_errors=True)
                os.makedirs(out_dir)
                return run_plain_parallel(out_dir, root, small_root, args.plain_processes)
            seconds, counts, written = best_of(args.repeats, parallel_once)
            checks.append(compare(name, written, reference))
            rows.append((name, counts["faces"], seconds, None, None))
        for mode, workers in modes:
            beam_args = [f"--direct_running_mode={mode}", f"--direct_num_workers={workers}"] + extra_beam_args
            name = f"beam {mode}, {workers} worker{'s' if workers > 1 else ''}"
            print(f"Running {name} ...", flush=True)
            small_seconds, _, _ = best_of(args.repeats, lambda: timed(run_beam, small_root, beam_args))
            seconds, counts, written = best_of(args.repeats, lambda: timed(run_beam, root, beam_args))
            if counts["faces"] != faces or counts["bad"] != plain_counts["bad"]:
                checks.append(f"{name}: counted {counts} but the plain loop {plain_counts}")
            checks.append(compare(name, written, reference))
            rows.append((name, faces, seconds, small_seconds, (faces - SMALL_FACES) / (seconds - small_seconds)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print("\nMachine:")
    for key, value in machine_facts():
        print(f"  {key:12} {value}")
    print(f"\nWork per face: {configs.MODEL_CONTRACT.hr_size}px crop, "
          f"scales {configs.PAIR_CONFIG.degradation.scales}, "
          f"heatmaps {'on' if configs.PAIR_CONFIG.materialize_heatmaps else 'off'}; "
          f"{len(reference)} pair examples, {plain_counts['bad']} bad records")

    plain_rate = faces / plain_seconds
    header = (f"{'mode':34} {'faces':>5} {'seconds':>8} {'faces/s':>8} {'vs plain':>8}"
              f" {'start-up s':>10} {'marginal faces/s':>16} {'vs plain':>8}")
    print("\n" + header + "\n" + "-" * len(header))
    for name, count, seconds, small_seconds, marginal in rows:
        rate = count / seconds
        line = f"{name:34} {count:5d} {seconds:8.2f} {rate:8.1f} {rate / plain_rate:7.2f}x"
        if small_seconds is not None:
            line += f" {small_seconds:10.2f} {marginal:16.1f} {marginal / plain_rate:7.2f}x"
        print(line)
    print(f"best of {args.repeats} runs each; start-up s = the same pipeline on {SMALL_FACES} faces; "
          f"marginal = ({faces} - {SMALL_FACES}) faces / (seconds - start-up s)")

    print("\nPlain loop, where the time goes:")
    for stage, seconds in stages.most_common():
        print(f"  {stage:28} {seconds:7.2f} s  {100 * seconds / plain_seconds:5.1f}%  "
              f"{1000 * seconds / max(faces, 1):6.2f} ms/face")

    print("\nSame output?")
    for line in checks:
        print("  " + line)
    if any("MISMATCH" in line or "counted" in line for line in checks):
        sys.exit(1)


if __name__ == "__main__":
    main()
