"""Drift of inputs and scores against the training data: the population stability index (PSI).

PSI = sum over bins of (a - e) * ln(a / e), with e the training share and a today's share of a
bin. The bins are the training reference's (quantile edges for numbers, levels for categories,
plus one bin for missing values), stored with the model by `training.bundle.reference_distribution`.
Pure: reference dicts and columns in, numbers out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from serving.params import DriftParams


def psi(expected: Sequence[float], actual: Sequence[float], epsilon: float) -> float:
    """PSI of two share vectors over the same bins; an empty bin counts as `epsilon`."""
    e = np.clip(np.asarray(expected, dtype=np.float64), epsilon, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), epsilon, None)
    if e.shape != a.shape:
        raise ValueError(f"bins differ: {e.shape} vs {a.shape}")
    return float(np.sum((a - e) * np.log(a / e)))


def shares(values: pd.Series, ref: Mapping[str, Any]) -> list[float]:
    """Today's shares of `values` in the reference column's bins (last bin: missing)."""
    n = len(values)
    if n == 0:
        return [0.0] * len(ref["shares"])
    if ref["kind"] == "category":
        obj = values.astype(object)
        counts = [int((obj == lv).sum()) for lv in ref["levels"]] + [int(obj.isna().sum())]
    else:
        v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
        known = v[~np.isnan(v)]
        edges = np.asarray(ref["edges"], dtype=np.float64)
        counts = list(
            np.bincount(np.searchsorted(edges, known, side="right"), minlength=len(edges) + 1)
        )
        counts.append(int(np.isnan(v).sum()))
    return [c / n for c in counts]


def band(value: float, params: DriftParams) -> str:
    """stable (< warn), moderate (< retrain) or major."""
    if value >= params.retrain_psi:
        return "major"
    if value >= params.warn_psi:
        return "moderate"
    return "stable"


@dataclass(frozen=True)
class DriftReport:
    table: pd.DataFrame  # kind (feature|score), name, psi, band
    retrain: bool
    why: tuple[str, ...]  # what triggered the retrain advice (names of drifted scores/features)


def drift_report(
    reference: Mapping[str, Any],
    features: pd.DataFrame,
    scores: Mapping[str, pd.Series],
    main_features: Sequence[str],
    params: DriftParams,
) -> DriftReport:
    """PSI of the main features and of each head's score; retrain when a score shifts majorly or
    `retrain_features` main features do."""
    rows = []
    for name in main_features:
        ref = reference["features"].get(name)
        if ref is None or name not in features:
            continue
        rows.append(
            ("feature", name, psi(ref["shares"], shares(features[name], ref), params.epsilon))
        )
    for name, values in scores.items():
        ref = reference["scores"].get(name)
        if ref is None:
            continue
        rows.append(("score", name, psi(ref["shares"], shares(values, ref), params.epsilon)))
    table = pd.DataFrame(rows, columns=["kind", "name", "psi"])
    table["band"] = [band(v, params) for v in table["psi"]]
    major = table[table["band"] == "major"]
    major_scores = major[major["kind"] == "score"]["name"].tolist()
    major_features = major[major["kind"] == "feature"]["name"].tolist()
    retrain = bool(major_scores) or len(major_features) >= params.retrain_features
    why = tuple(
        major_scores + (major_features if len(major_features) >= params.retrain_features else [])
    )
    return DriftReport(table, retrain, why)


def main_features(boosters: Sequence[Any], names: Sequence[str], n: int) -> list[str]:
    """The `n` features with the largest total gain summed over the heads' boosters."""
    total = np.zeros(len(names))
    for b in boosters:
        gain = np.asarray(b.feature_importance(importance_type="gain"), dtype=np.float64)
        if gain.sum() > 0:
            total += gain / gain.sum()
    order = np.argsort(-total, kind="stable")
    return [names[i] for i in order[:n] if total[i] > 0]
