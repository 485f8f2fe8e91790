"""`tinyface validate`: the data half alone on a folder -> a data report (and exit status).

Exit status 0 when the data passes, 1 when it does not (so a scheduler can gate on it).
"""

from tinyface import console
from tinyface.data.ingestion.readers import READERS


def register(subparsers):
    parser = subparsers.add_parser(
        "validate", help="read, check and compare a face dataset folder; print a data report",
        description=__doc__)
    parser.add_argument("--data", required=True, metavar="DIR", help="dataset folder")
    parser.add_argument("--format", choices=sorted(READERS), help="annotation format (default: detected)")
    parser.add_argument("--baseline-data", metavar="DIR", help="an earlier folder to check drift against")
    parser.add_argument("--baseline-format", choices=sorted(READERS), help="its format (default: detected)")
    parser.add_argument("--dataset", help="dataset name written into the examples (default: the format's)")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON here")
    parser.add_argument("--strict", action="store_true", help="fail on the first bad record")
    parser.set_defaults(func=run)


def run(args):
    from tinyface.pipeline import configs
    from tinyface.validation.validate_folder import validate_folder

    report = validate_folder(
        args.data, configs.SCHEMA_FILE, configs.DRIFT_THRESHOLDS, data_format=args.format,
        baseline_root=args.baseline_data, baseline_format=args.baseline_format, dataset=args.dataset,
        hr_size=configs.MODEL_CONTRACT.hr_size, margin=configs.CROP_MARGIN, strict=args.strict)
    if args.strict and report.ingestion.strict_failure():
        console.note(f"tinyface validate: {report.ingestion.strict_failure()}")
        return 1
    console.say(report.to_text())
    if args.json:
        with open(args.json, "w") as f:
            f.write(report.to_json() + "\n")
    return 0 if report.passed else 1
