"""`tinyface evaluate`: score an exported model on an annotated folder, as the Evaluator would.

    tinyface evaluate --data my_faces/                         # the pretrained model
    tinyface evaluate --model serving_model/jasrnet --data my_faces/ --json scores.json

The folder is read as `tinyface validate` reads it (any annotation format, detected unless
--format), each face cropped and degraded as the pipeline does (the papers' x8 bicubic unless
--config sets other pairs settings), and scored with the Evaluator's metrics, floors (bicubic,
mean shape) and slices (overall and one per value of each slicing feature). --model is the
Trainer's SavedModel or a TF Serving base folder (the highest numeric version); without it,
the pretrained model shipped with tinyface. Prints the table `tinyface run` prints; --json
writes {"faces": N, "overall": M, "slices": {"<slice>": M}} with M's keys psnr_y,
bicubic_psnr_y, ssim_y, bicubic_ssim_y, nme, mean_shape_nme, failure_rate_0.08 (null where a
value is NaN or infinite). Nothing is blessed or pushed: use `tinyface run` for that.
"""

import argparse

from tinyface import console
from tinyface.cli.commands.arguments import positive_int
from tinyface.data.ingestion.readers import READERS


def register(subparsers):
    parser = subparsers.add_parser(
        "evaluate", help="score an exported model on an annotated folder, as the Evaluator does",
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--model", metavar="DIR",
                        help="SavedModel folder, or TF Serving base folder (default: the pretrained model)")
    parser.add_argument("--data", required=True, metavar="FOLDER", help="annotated dataset folder")
    parser.add_argument("--format", choices=sorted(READERS), help="annotation format (default: detected)")
    parser.add_argument("--dataset", help="dataset name written into the examples (default: the format's)")
    parser.add_argument("--config", metavar="FILE",
                        help="a `tinyface run --config` file: its pairs (degradation), data.crop_margin "
                             "and evaluation.slice_features settings are used")
    parser.add_argument("--json", metavar="FILE", help="also write the scores as JSON here")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="examples per model call (default: 32)")
    parser.set_defaults(func=run)


def run(args):
    from tinyface.pipeline.run_config import RunConfig, load_run_config
    from tinyface import pretrained, prediction
    from tinyface.evaluation import folder_evaluation, summary

    config = load_run_config(args.config) if args.config else RunConfig()
    model_dir = args.model or pretrained.model_dir()
    loaded, saved_model_dir, _ = prediction.open_saved_model(model_dir)
    predict = folder_evaluation.example_predictor(loaded, saved_model_dir)
    scores = folder_evaluation.evaluate_folder(
        predict, args.data, config.eval_slice_features,
        data_format=args.format or (None if config.data_format == "auto" else config.data_format),
        dataset=args.dataset or config.dataset, hr_size=config.model_contract.hr_size, margin=config.crop_margin,
        pair_config=config.model_pair_config, batch_size=args.batch_size)
    if scores.skipped:
        console.note(f"tinyface evaluate: skipped {len(scores.skipped)} bad records; first: {scores.skipped[0]}")
    scales = ", ".join(f"x{scale}" for scale in config.pair_config.degradation.scales)
    console.say(f"{scores.faces} faces of {args.data} ({scales}) scored by {saved_model_dir} "
          f"(PSNR/SSIM on Y, scale px shaved; NME by outer eye corners):")
    console.say(summary.format_slice_table(summary.rows_by_slice(scores.by_slice)))
    if args.json:
        with open(args.json, "w") as f:
            f.write(folder_evaluation.scores_json(scores) + "\n")
    return 0
