"""`tinyface run`: the pipeline locally (LocalDagRunner, ML Metadata in SQLite).

With no arguments it makes the embedded synthetic dataset (once; then cached) and runs on it.
"""

import dataclasses
import os
import traceback

from tinyface import console
from tinyface.data.ingestion.readers import READERS


def register(subparsers):
    parser = subparsers.add_parser("run", help="run the pipeline locally", description=__doc__)
    parser.add_argument("--config", metavar="FILE",
                        help="YAML/JSON file overriding any setting of pipeline/configs.py (model, "
                             "sizes, steps, thresholds, ...; see the README); flags below win over it")
    parser.add_argument("--data", metavar="DIR", help="dataset folder (default: the synthetic dataset)")
    parser.add_argument("--format", choices=sorted(READERS), help="annotation format (default: detected)")
    parser.add_argument("--dataset", help="dataset name written into the examples")
    parser.add_argument("--spans", action="store_true", help="DIR holds span-N folders; read the newest")
    parser.add_argument("--strict", action="store_true", help="fail the run on the first bad record")
    parser.add_argument("--home", metavar="DIR",
                        help="where pipeline outputs and ML Metadata live (default: $TINYFACE_HOME "
                             "or ./tinyface_home)")
    parser.set_defaults(func=run)


def run(args):
    from tinyface.trainer.training import cpu_isa
    # Before TensorFlow is imported (below): the Trainer runs in this process.
    onednn_turned_on = cpu_isa.use_onednn_for_training()
    from tinyface.pipeline import configs, local_runner, metadata_queries
    from tinyface.pipeline.run_config import RunConfig, load_run_config, resolved_data_root
    from tinyface.data.synthesis import synth_cache
    from tinyface.pipeline import run_lineage
    from tinyface.validation import data_report
    from tinyface.trainer.training.training_progress import PROGRESS_EVERY_SECONDS

    home = args.home or configs.HOME
    config = load_run_config(args.config) if args.config else RunConfig()
    flags = dict(data_root=args.data, data_format=args.format, dataset=args.dataset,
                 use_spans=args.spans or None, strict=args.strict or None)
    config = dataclasses.replace(config, **{k: v for k, v in flags.items() if v is not None})
    if config.data_root is None:
        synth_cache.default_dataset(resolved_data_root(config, home), count=config.synth_count,
                                    seed=config.synth_seed)
        config = dataclasses.replace(config, dataset=config.dataset or "synthetic")
    # The first node line takes a minute (TensorFlow, Beam and ingestion start): say what comes.
    console.say(f"running pipeline {configs.PIPELINE_NAME} on {resolved_data_root(config, home)}: "
                f"a line per node as it finishes, training progress every {PROGRESS_EVERY_SECONDS} s")
    if onednn_turned_on:
        console.say("TensorFlow's oneDNN kernels turned on for training (TensorFlow leaves them off on "
                    f"CPUs without AVX512-VNNI, AVX512-BF16 or AMX; {cpu_isa.TF_ONEDNN_VARIABLE}=0 keeps them off)")
    stopped = None
    try:
        local_runner.run(config, home=home, show_progress=True)
    except Exception as error:  # pylint: disable=broad-except
        # A failed node stops the run (the data gate on bad data): say where and why, and still
        # write the report. The traceback goes to the log with the libraries' output.
        traceback.print_exc()
        stopped = error
    store = metadata_queries.open_store(local_runner.metadata_path(home))
    lineage = run_lineage.latest_run(store)
    reason = (str(stopped).strip() or type(stopped).__name__) if stopped is not None else None
    if stopped is not None:
        if lineage is None or lineage.stopped_at is None:
            raise stopped    # no node of a new run failed: not a stopped run but a broken one
        console.say(f"run stopped at {lineage.stopped_at}: {reason}")
    if lineage is not None and lineage.data_report is not None:
        with open(os.path.join(lineage.data_report.uri, data_report.REPORT_TEXT)) as f:
            console.say(f.read())
    _print_evaluation(lineage)
    _write_report(store, home, reason)
    return 1 if stopped is not None else 0


def _print_evaluation(lineage):
    """This run's model, its table by slice against the floors, the verdict and the push,
    all read by lineage (never the newest artifact of each type, which may be another run's)."""
    import tensorflow_model_analysis as tfma

    from tinyface.evaluation.summary import slice_table

    if lineage is None or lineage.model is None:
        return
    console.say(f"trained model (SavedModel): {lineage.serving_model_dir()}")
    if lineage.evaluation is None or lineage.blessed is None:
        return
    console.say("evaluation on the eval split (PSNR/SSIM on Y, 8 px shaved; NME by outer eye corners):")
    console.say(slice_table(tfma.load_eval_result(lineage.evaluation.uri)))
    console.say("verdict: " + ("BLESSED" if lineage.blessed else "NOT BLESSED (must beat bicubic by the configured "
                                                          "margin and the mean shape on every slice)"))
    if lineage.blessed and lineage.pushed_destination:
        console.say(f"pushed: {lineage.pushed_destination}")
    elif lineage.blessed and lineage.already_served:
        version, folder = lineage.already_served
        console.say(f"not pushed: model already served as version {version} ({folder})")


def _write_report(store, home, stop_reason=None):
    """The latest run's HTML report (verdict, charts, tables, eval faces; where and why a stopped
    run stopped) under <home>/reports."""
    from tinyface.pipeline import run_report

    path = run_report.write_report(store, os.path.join(home, run_report.REPORTS_DIR), stop_reason=stop_reason)
    console.say(f"report: {path}")
