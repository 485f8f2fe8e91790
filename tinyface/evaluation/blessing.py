"""The four thresholds a model must meet to be blessed, as one value.

pipeline/configs.py sets them, a run config's `evaluation` section overrides them by field name,
build_eval_config (eval_config.py) turns them into TFMA thresholds, and on Kubeflow each one is a
runtime parameter of the same name (kubeflow/parameters.py), described by the text below.
"""

import dataclasses
from typing import Dict


def _threshold(description):
    return dataclasses.field(metadata={"description": description})


@dataclasses.dataclass(frozen=True)
class BlessingThresholds:
    """The floors apply to every slice; the margins compare with the baseline (the last blessed
    model) when there is one. On Kubeflow the values may be RuntimeParameters of them."""

    min_psnr_gain_db: float = _threshold(
        "blessing: PSNR-Y must beat bicubic by at least this on every slice (dB)")
    max_nme_ratio_to_mean_shape: float = _threshold(
        "blessing: NME must stay below this multiple of the mean shape's")
    psnr_regression_margin_db: float = _threshold(
        "blessing: PSNR-Y may drop at most this below the served model's (dB)")
    nme_regression_margin: float = _threshold(
        "blessing: NME may rise at most this above the served model's")

    def by_name(self) -> Dict[str, object]:
        """{field name: value}, values as they are (asdict would deep-copy RuntimeParameters)."""
        return {name: getattr(self, name) for name in THRESHOLD_NAMES}


THRESHOLD_NAMES = tuple(field.name for field in dataclasses.fields(BlessingThresholds))
DESCRIPTIONS = {field.name: field.metadata["description"] for field in dataclasses.fields(BlessingThresholds)}
