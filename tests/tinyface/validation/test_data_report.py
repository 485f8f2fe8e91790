from tensorflow_metadata.proto.v0 import anomalies_pb2

from tinyface.validation.data_report import DataReport, anomalies_by_feature
from tinyface.data.ingestion.ingestion_summary import IngestionSummary


def test_anomalies_use_reason_text_when_the_description_is_empty():
    anomalies = anomalies_pb2.Anomalies()
    info = anomalies.anomaly_info["brightness"]
    reason = info.reason.add()
    reason.short_description = "High approximate Jensen-Shannon divergence"
    reason.description = "is 0.81, above the threshold 0.2."
    assert anomalies_by_feature(anomalies) == {
        "brightness": "High approximate Jensen-Shannon divergence: is 0.81, above the threshold 0.2."}


def _report(**changes):
    values = dict(data_root="/d", data_format="300w", ingestion=IngestionSummary(10, []),
                  schema_anomalies={"train": {}}, drift={}, baseline=None)
    values.update(changes)
    return DataReport(**values)


def test_verdicts():
    assert _report().passed
    assert _report().drift_verdict.startswith("not checked")
    assert not _report(ingestion=IngestionSummary(0, ["/d/a.pts: image file not found"])).passed
    schema_bad = _report(schema_anomalies={"eval": {"yaw_deg": "Out-of-range values"}})
    assert not schema_bad.passed
    assert schema_bad.problems() == ["schema anomaly in eval split, feature yaw_deg: Out-of-range values"]
    drifted = _report(baseline="span 1", drift={"split pair train_train": {"brightness": "JSD 0.8"}})
    assert not drifted.passed and drifted.drift_verdict == "DRIFT"
    assert drifted.problems() == ["drift in split pair train_train, feature brightness: JSD 0.8"]
    assert _report(baseline="span 1").drift_verdict == "no drift"
