"""Ours against the papers' PyTorch code, in alternating rounds: per-row ratios and their median.

One pair (our benchmark, then the reference's) is at the mercy of the VM's slow phases: on the
2-core EPYCs we measure on, the same code reads 1.5-2.5x slower for minutes at a time, and a
single pair has put the same row at 0.72x and at 1.54x within an hour. So this script runs
`rounds` pairs, one model at a time, and alternates their order (round 1 ours first, round 2 the
reference first, ...), so that a drift over the run does not favour one side. For each row
(model x precision x training or batch-1 serving) it prints every round's ratio, their median
and their minimum, and the median of each side's own figures.

Ours: benchmarks/model_speed.py --models M --sizes reference --precisions ... --no-batch32
(its default protocol: one untimed warm-up epoch, 3 timed epochs of 2 steps at batch 2; batch-1
serving through the exported SavedModel by the reference's protocol). Theirs:
../shared/bench/ref_models.py --model M --train-batch 2 --threads 2 --infer-batch 1 (its default
protocol; `--infer-batch 1` because its batch-32 figures are not compared and DIC's take
~2.5 minutes; `--no-bf16` where bf16 is not measured). Each runs in its own process; their
logs and JSON go to --out-dir.

Ratio convention: training images/s ours / theirs; serving ms theirs / ours; > 1 means ours is
faster. bf16 is measured by default only where the CPU runs it natively (the precision `auto`
picks: trainer/training/precision.py).

Run: .venv/bin/python benchmarks/versus_reference.py [--models jasrnet dic] [--rounds 3]
         [--precisions float32 mixed_bfloat16] [--reference-python /tmp/torchref/bin/python]
         [--reference-script ../shared/bench/ref_models.py] [--out-dir DIR] [--json FILE]
~12.5 minutes a round for both models on a 2-core AMD EPYC Zen 5 (native bf16: yes; DIC ~10 of
them).
"""

import argparse
import datetime
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
MODELS = ("jasrnet", "dic")
PRECISIONS = ("float32", "mixed_bfloat16")
# The reference's JSON names precisions by these tags.
REFERENCE_TAGS = {"float32": "fp32", "mixed_bfloat16": "bf16"}
# The rows compared: (key, label, whether larger is better for that figure).
ROWS = (("train_images_per_s", "training, images/s", True),
        ("infer_ms_batch1", "batch-1 serving, ms/face", False))
TRAIN_BATCH = 2
THREADS = 2


def our_figures(rows):
    """{(model, precision): {row key: value}} from model_speed.py's --json list."""
    return {(row["model"], row["precision"]): {key: row[key] for key, _, _ in ROWS}
            for row in rows if row.get("size") == "reference"}


def reference_figures(report, precisions):
    """The same mapping from ref_models.py's --json-out object, for `precisions`."""
    figures = {}
    for result in report["results"]:
        model = result["model"].lower()
        for precision in precisions:
            tag = REFERENCE_TAGS[precision]
            if f"train_{tag}" in result and f"infer_b1_{tag}" in result:
                figures[(model, precision)] = {
                    "train_images_per_s": result[f"train_{tag}"]["img_per_s"],
                    "infer_ms_batch1": result[f"infer_b1_{tag}"]["ms_per_img"]}
    return figures


def ratio(key, ours, theirs):
    """> 1 when ours is faster: a throughput ours / theirs, a latency theirs / ours."""
    larger_is_better = next(better for k, _, better in ROWS if k == key)
    return ours / theirs if larger_is_better else theirs / ours


def summarise(rounds):
    """[{row, each round's ratio (None where the round lacks the row), median and min ratio,
    each side's median}] from a list of rounds, each {(model, precision): (our figures,
    their figures)}."""
    keys = sorted({pair for r in rounds for pair in r},
                  key=lambda p: (MODELS.index(p[0]) if p[0] in MODELS else len(MODELS), p[1]))
    summary = []
    for model, precision in keys:
        pairs = [r.get((model, precision)) for r in rounds]
        present = [pair for pair in pairs if pair is not None]
        for key, label, _ in ROWS:
            ratios = [None if pair is None else ratio(key, pair[0][key], pair[1][key]) for pair in pairs]
            measured = [x for x in ratios if x is not None]
            summary.append(dict(
                model=model, precision=precision, row=key, label=label, ratios=ratios,
                median_ratio=statistics.median(measured), min_ratio=min(measured),
                ours_median=statistics.median(ours[key] for ours, _ in present),
                theirs_median=statistics.median(theirs[key] for _, theirs in present)))
    return summary


def format_summary(summary):
    """The summary as a Markdown table, a column per round."""
    rounds = max((len(s["ratios"]) for s in summary), default=0)
    header = ("| row | " + " | ".join(f"round {i + 1}" for i in range(rounds))
              + " | median ratio | min ratio | ours (median) | reference (median) |")
    lines = [header, "|" + " --- |" * (header.count("|") - 1)]
    for s in summary:
        cells = ["-" if r is None else f"{r:.2f}x" for r in s["ratios"]]
        name = {"jasrnet": "JASRNet", "dic": "DIC"}.get(s["model"], s["model"])
        precision = "float32" if s["precision"] == "float32" else "bf16"
        what, unit = s["label"].split(", ")
        value = "{:.3f}" if s["row"] == "train_images_per_s" else "{:.1f}"
        lines.append(f"| {name} {what}, {precision}, {unit} | " + " | ".join(cells)
                     + f" | {s['median_ratio']:.2f}x | {s['min_ratio']:.2f}x | "
                     + value.format(s["ours_median"]) + " | " + value.format(s["theirs_median"]) + " |")
    return "\n".join(lines)


def default_precisions():
    """float32, and bf16 where the CPU runs it natively (what `auto` decides)."""
    from tinyface.trainer.training.precision import this_machine_native_bf16
    return ["float32", "mixed_bfloat16"] if this_machine_native_bf16() else ["float32"]


def run_logged(command, log_path):
    """Run `command`, its output to `log_path`; fail with the log's tail if it fails."""
    started = time.perf_counter()
    with open(log_path, "w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    if done.returncode:
        tail = pathlib.Path(log_path).read_text().splitlines()[-5:]
        raise SystemExit(f"{command[1]} failed ({done.returncode}), see {log_path}: "
                         + " / ".join(tail))
    return time.perf_counter() - started


def measure_ours(model, precisions, out):
    path = out.with_name(out.name + "_model_speed.json")
    seconds = run_logged([sys.executable, str(REPO / "benchmarks" / "model_speed.py"),
                          "--models", model, "--sizes", "reference", "--precisions", *precisions,
                          "--no-batch32", "--json", str(path)], out.with_name(out.name + "_model_speed.log"))
    return our_figures(json.loads(path.read_text())), seconds


def measure_reference(model, precisions, out, python, script):
    path = out.with_name(out.name + "_pytorch_reference.json")
    command = [python, str(script), "--model", model, "--train-batch", str(TRAIN_BATCH),
               "--threads", str(THREADS), "--infer-batch", "1", "--json-out", str(path)]
    if "mixed_bfloat16" not in precisions:
        command.append("--no-bf16")
    seconds = run_logged(command, out.with_name(out.name + "_pytorch_reference.log"))
    return reference_figures(json.loads(path.read_text()), precisions), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS,
                        help="default: float32, and mixed_bfloat16 where the CPU runs bf16 natively")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reference-python", default="/tmp/torchref/bin/python")
    parser.add_argument("--reference-script", default=str(REPO.parent / "shared" / "bench" / "ref_models.py"))
    parser.add_argument("--out-dir", default=None, help="logs and raw JSON (default: a new /tmp dir)")
    parser.add_argument("--json", metavar="FILE", help="also write the summary and every round here")
    args = parser.parse_args()
    for path, what in ((args.reference_python, "--reference-python"), (args.reference_script, "--reference-script")):
        if not os.path.exists(path):
            raise SystemExit(f"{what} {path}: no such file (see ../shared/bench/README.md)")
    precisions = args.precisions or default_precisions()
    out_dir = pathlib.Path(args.out_dir or f"/tmp/versus_reference_{datetime.datetime.now():%Y%m%d_%H%M%S}")
    out_dir.mkdir(parents=True, exist_ok=True)
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    print(f"{cpu}, {os.cpu_count()} CPUs; models {args.models}; precisions {precisions}; "
          f"{args.rounds} rounds; logs in {out_dir}", flush=True)

    rounds = []
    for i in range(args.rounds):
        pairs = {}
        for model in args.models:
            out = out_dir / f"round{i + 1}_{model}"
            sides = ["ours", "reference"] if i % 2 == 0 else ["reference", "ours"]
            figures = {}
            for side in sides:
                stamp = datetime.datetime.now().strftime("%H:%M:%S")
                if side == "ours":
                    figures[side], seconds = measure_ours(model, precisions, out)
                else:
                    figures[side], seconds = measure_reference(model, precisions, out,
                                                               args.reference_python, args.reference_script)
                print(f"round {i + 1} {model} {side}: started {stamp}, {seconds:.0f} s", flush=True)
            for precision in precisions:
                pairs[(model, precision)] = (figures["ours"][(model, precision)],
                                             figures["reference"][(model, precision)])
        rounds.append(pairs)
        print(format_summary(summarise(rounds)), flush=True)

    summary = summarise(rounds)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": cpu, "precisions": precisions, "summary": summary,
                       "rounds": [[dict(model=m, precision=p, ours=o, reference=t)
                                   for (m, p), (o, t) in r.items()] for r in rounds]}, f, indent=1)


if __name__ == "__main__":
    main()
