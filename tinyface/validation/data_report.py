"""The data report: faces read and skipped, schema anomalies, drift verdict -> pass or stop.

Built by the pipeline's DataGate and by `tinyface validate`; printed for people and written
as JSON for schedulers that gate on it.
"""

import dataclasses
import json
from typing import Dict, Optional

from tinyface.data.errors import display_path
from tinyface.data.ingestion.ingestion_summary import IngestionSummary

REPORT_JSON = "data_report.json"
REPORT_TEXT = "data_report.txt"


def anomalies_by_feature(anomalies) -> Dict[str, str]:
    """{feature: description} of a tensorflow_metadata Anomalies proto ("<dataset>" for
    dataset-level anomalies such as too few examples)."""
    out = {name: _describe(info) for name, info in anomalies.anomaly_info.items()}
    if anomalies.HasField("dataset_anomaly_info"):
        info = anomalies.dataset_anomaly_info
        out["<dataset>"] = f"{info.short_description}: {info.description}"
    return dict(sorted(out.items()))


def _describe(info):
    # DistributionValidator keeps only the reasons of its comparison anomalies and leaves the
    # top-level description empty; fall back to the reasons so the figure reaches the user.
    if info.description:
        return f"{info.short_description}: {info.description}"
    return "; ".join(f"{r.short_description}: {r.description}" for r in info.reason)


@dataclasses.dataclass
class DataReport:
    data_root: str
    data_format: str
    ingestion: IngestionSummary
    schema_anomalies: Dict[str, Dict[str, str]]  # {split: {feature: description}}
    drift: Dict[str, Dict[str, str]]             # {split or split pair: {feature: description}}
    baseline: Optional[str] = None               # what drift was measured against; None: no baseline

    @property
    def passed(self):
        has_schema_anomalies = any(self.schema_anomalies.values())
        has_drift = any(self.drift.values())
        return self.ingestion.faces_read > 0 and not has_schema_anomalies and not has_drift

    @property
    def drift_verdict(self):
        if self.baseline is None:
            return "not checked: no baseline (first span)"
        return "DRIFT" if any(self.drift.values()) else "no drift"

    def to_dict(self):
        return {
            "passed": self.passed,
            "data_root": self.data_root,
            "data_format": self.data_format,
            "faces_read": self.ingestion.faces_read,
            "faces_skipped": self.ingestion.faces_skipped,
            "skipped_by_reason": self.ingestion.skipped_by_reason,
            "skipped": self.ingestion.skipped,
            "schema_anomalies": self.schema_anomalies,
            "drift_baseline": self.baseline,
            "drift_verdict": self.drift_verdict,
            "drift": self.drift,
        }

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2)

    def to_text(self, max_skipped=20):
        lines = [
            f"data report for {display_path(self.data_root)} (format {self.data_format})",
            f"  faces read:    {self.ingestion.faces_read}",
            f"  faces skipped: {self.ingestion.faces_skipped}",
        ]
        for reason, count in self.ingestion.skipped_by_reason.items():
            lines.append(f"    {count:6d}  {reason}")
        for message in self.ingestion.skipped[:max_skipped]:
            lines.append(f"    - {message}")
        if self.ingestion.faces_skipped > max_skipped:
            lines.append(f"    ... and {self.ingestion.faces_skipped - max_skipped} more")
        lines.append("  schema anomalies: " + ("none" if not any(self.schema_anomalies.values()) else ""))
        for split, anomalies in sorted(self.schema_anomalies.items()):
            for feature, description in anomalies.items():
                lines.append(f"    [{split}] {feature}: {description}")
        lines.append(f"  drift: {self.drift_verdict}" + (f" (against {self.baseline})" if self.baseline else ""))
        for split, anomalies in sorted(self.drift.items()):
            for feature, description in anomalies.items():
                lines.append(f"    [{split}] {feature}: {description}")
        lines.append("  verdict: " + ("PASS" if self.passed else "STOP: fix the data or the schema before training"))
        return "\n".join(lines)

    def problems(self):
        """One line per reason the data does not pass (empty when it passes)."""
        out = []
        if self.ingestion.faces_read == 0:
            out.append(f"no faces could be read from {display_path(self.data_root)}")
        for split, anomalies in sorted(self.schema_anomalies.items()):
            out += [f"schema anomaly in {split} split, feature {f}: {d}" for f, d in anomalies.items()]
        for split, anomalies in sorted(self.drift.items()):
            out += [f"drift in {split}, feature {f}: {d}" for f, d in anomalies.items()]
        return out
