"""Why it changed: a change in risk between two runs, attributed to the features that moved it.

Bridge until `serving.reasons` has its own: the contributions of both runs are on the probability
scale (`serving.reasons.to_probability`) and sum to risk minus the base risk, so with the same
model the per-feature differences sum exactly to the change in risk. Pure.
"""

from __future__ import annotations

import numpy as np

from features.spec import FeatureSpec
from serving.daily_text import t


def attribute(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Per-feature change of contributions (rows x features); sums to the change in risk."""
    return np.asarray(current, dtype=np.float64) - np.asarray(previous, dtype=np.float64)


def why_changed(
    delta: float,
    change: np.ndarray | None,
    spec: FeatureSpec,
    since: str,
    language: str,
    k: int,
    min_delta: float,
    models: tuple[str, str] | None = None,
) -> str:
    """ "+0.12 since 2026-06-20: +0.08 SLA near-misses, +0.05 usage drop", or "" when the change is
    small or unknown. `change` is None when the runs used different models (`models`=(old, new))."""
    if delta is None or np.isnan(delta) or abs(delta) < min_delta:
        return ""
    if change is None:
        old, new = models or ("?", "?")
        return t("why_model", language, delta=delta, since=since, old=old, new=new)
    sign = np.sign(delta)
    order = np.argsort(-(change * sign), kind="stable")
    parts = [
        f"{change[j]:+.2f} {spec.features[j].description}"
        for j in order[:k]
        if change[j] * sign > 0
    ]
    return t("why_changed", language, delta=delta, since=since, parts=", ".join(parts))
