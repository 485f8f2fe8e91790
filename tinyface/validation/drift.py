"""Drift between two spans' statistics, with the same TFDV comparators DistributionValidator uses.

Thresholds are {feature: (comparator, threshold)}: "jensen_shannon_divergence" suits numeric
features (brightness, yaw, face size), "infinity_norm" categorical ones (pose bucket). The
pipeline turns them into a DistributionValidatorConfig; `tinyface validate` calls
check_drift() directly, so both give the same verdict on the same data.
"""

import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2, path_pb2, schema_pb2
from tfx.proto import distribution_validator_pb2

COMPARATORS = ("jensen_shannon_divergence", "infinity_norm", "normalized_abs_difference")


def _comparator(kind, threshold):
    if kind not in COMPARATORS:
        raise ValueError(f"unknown drift comparator {kind!r}; expected one of {COMPARATORS}")
    comparator = schema_pb2.FeatureComparator()
    getattr(comparator, kind).threshold = threshold
    return comparator


def distribution_validator_config(thresholds):
    """The DistributionValidatorConfig for {feature: (comparator, threshold)}."""
    config = distribution_validator_pb2.DistributionValidatorConfig()
    for feature, (kind, threshold) in sorted(thresholds.items()):
        entry = config.default_slice_config.feature.add()
        entry.path.CopyFrom(path_pb2.Path(step=[feature]))
        entry.distribution_comparator.CopyFrom(_comparator(kind, threshold))
    return config


def check_drift(statistics, baseline_statistics, thresholds):
    """Anomalies (only the drift ones) of `statistics` against `baseline_statistics`.

    Both are DatasetFeatureStatisticsList protos of one split each.
    """
    schema = tfdv.infer_schema(baseline_statistics)
    for feature, (kind, threshold) in thresholds.items():
        tfdv.get_feature(schema, feature).drift_comparator.CopyFrom(_comparator(kind, threshold))
    anomalies = tfdv.validate_statistics(statistics, schema, previous_statistics=baseline_statistics)
    drift_only = anomalies_pb2.Anomalies()
    drift_only.CopyFrom(anomalies)
    for feature in list(drift_only.anomaly_info):
        info = drift_only.anomaly_info[feature]
        reasons = [r for r in info.reason if r.type in _DRIFT_REASONS]
        if not reasons:
            del drift_only.anomaly_info[feature]
            continue
        del info.reason[:]
        info.reason.extend(reasons)
        info.description = " ".join(r.description for r in reasons)
    drift_only.ClearField("dataset_anomaly_info")
    return drift_only


_DRIFT_REASONS = {
    anomalies_pb2.AnomalyInfo.COMPARATOR_L_INFTY_HIGH,
    anomalies_pb2.AnomalyInfo.COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH,
    anomalies_pb2.AnomalyInfo.COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH,
}
