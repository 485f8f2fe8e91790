"""The data half of the pipeline on one folder, without TFX: what `tinyface validate` runs.

Same readers, same curated schema, same drift comparators as the pipeline's FaceExampleGen,
ExampleValidator and DistributionValidator, so the verdicts agree; no ML Metadata, so it
is quick to run on a folder before pointing the pipeline at it.
"""

import tempfile

import tensorflow_data_validation as tfdv

from tinyface.beam.ingest import run_ingestion
from tinyface.data.ingestion.readers.detect import detect_format
from tinyface.validation.data_report import DataReport, anomalies_by_feature
from tinyface.validation.drift import check_drift

SPLIT = "all"  # validate looks at the whole folder as one split


def _statistics(root, data_format, work_dir, dataset, hr_size, margin, stop_on_bad=False):
    pattern, summary = run_ingestion(root, data_format, work_dir, dataset, hr_size, margin)
    if not summary.faces_read or (stop_on_bad and summary.skipped):
        return None, summary
    statistics = tfdv.generate_statistics_from_tfrecord(
        data_location=pattern,
        pipeline_options=None,
        stats_options=tfdv.StatsOptions())
    return statistics, summary


def validate_folder(data_root, schema_file, drift_thresholds, hr_size, data_format=None, baseline_root=None,
                    baseline_format=None, dataset=None, margin=0.25, strict=False):
    """Returns the DataReport of `data_root` (drift against `baseline_root` when given), its
    faces cropped to `hr_size`, the trained model's HR size (its ModelContract).

    With `strict`, a bad record ends the check after ingestion: the report then holds only
    what was read and skipped (its ingestion.strict_failure() says why), since statistics
    and drift cannot change the verdict.
    """
    data_format = data_format or detect_format(data_root)
    with tempfile.TemporaryDirectory(prefix="tinyface-validate-") as work_dir:
        statistics, summary = _statistics(data_root, data_format, work_dir + "/data", dataset, hr_size, margin,
                                          stop_on_bad=strict)
        if strict and summary.strict_failure():
            return DataReport(data_root=data_root, data_format=data_format, ingestion=summary,
                              schema_anomalies={}, drift={}, baseline=baseline_root)
        schema_anomalies, drift = {}, {}
        if statistics is not None:
            schema = tfdv.load_schema_text(schema_file)
            schema_anomalies[SPLIT] = anomalies_by_feature(tfdv.validate_statistics(statistics, schema))
        if baseline_root:
            baseline_format = baseline_format or detect_format(baseline_root)
            baseline, _ = _statistics(baseline_root, baseline_format, work_dir + "/baseline", dataset, hr_size, margin)
            if statistics is not None and baseline is not None:
                drift[f"split {SPLIT}"] = anomalies_by_feature(check_drift(statistics, baseline, drift_thresholds))
    return DataReport(
        data_root=data_root, data_format=data_format, ingestion=summary,
        schema_anomalies=schema_anomalies, drift=drift, baseline=baseline_root)
