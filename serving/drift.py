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
        counts = list(np.bincount(bin_of(edges, known), minlength=len(edges) + 1))
        counts.append(int(np.isnan(v).sum()))
    return [c / n for c in counts]


EDGE_RTOL = 1e-9


def bin_of(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The reference bin of each value: right of an edge it equals, as the reference counted it,
    also when it lies a rounding error below. A quantile edge is often a value many rows share
    (a tree model's lowest score); the daily job computes the scores from SHAP sums, the reference
    from `predict`, one ulp apart: those rows fell into the empty bin below the edge and its
    epsilon made the churn score's PSI 0.54 ("retrain advised") on the day after training."""
    idx = np.searchsorted(edges, values, side="right")
    inner = idx < len(edges)
    near = np.zeros(len(idx), dtype=bool)
    near[inner] = np.isclose(values[inner], edges[idx[inner]], rtol=EDGE_RTOL, atol=0.0)
    return idx + near


def noise_level(expected: Sequence[float], n: int, epsilon: float, draws: int = 400) -> float:
    """The PSI that sampling alone exceeds once in a hundred portfolios of n accounts drawn from
    the reference itself, found by drawing them (seeded, so the report is reproducible): the
    chi-squared rule of thumb misses what an empty bin adds through `epsilon`. About 0.0002 at
    100,000 accounts but 0.1 at 200 and 0.5 at 50 with ten even bins: on a small portfolio the
    bands alone would advise retraining on noise."""
    e = np.asarray(expected, dtype=np.float64)
    if n == 0:
        return float("inf")
    if e.sum() <= 0:
        return 0.0
    rng = np.random.default_rng(20_251_206)
    counts = rng.multinomial(n, e / e.sum(), size=draws) / n
    a = np.clip(counts, epsilon, None)
    ref = np.clip(e, epsilon, None)
    values = np.sum((a - ref) * np.log(a / ref), axis=1)
    return float(np.quantile(values, 0.99))


def band(value: float, params: DriftParams, noise: float = 0.0) -> str:
    """stable (< warn), moderate (< retrain) or major; "noise" when sampling alone explains it."""
    if value >= params.warn_psi and value <= noise:
        return "noise"
    if value >= params.retrain_psi:
        return "major"
    if value >= params.warn_psi:
        return "moderate"
    return "stable"


@dataclass(frozen=True)
class DriftReport:
    table: pd.DataFrame  # kind (feature|score), name, psi, noise (see noise_level), band
    retrain: bool
    why: tuple[str, ...]  # what triggered the retrain advice (names of drifted scores/features)
    accounts: int = 0  # the accounts each PSI is over
    judged: bool = True  # False: fewer than min_accounts; every band "unjudged", no advice


def drift_report(
    reference: Mapping[str, Any],
    features: pd.DataFrame,
    scores: Mapping[str, pd.Series],
    main_features: Sequence[str],
    params: DriftParams,
) -> DriftReport:
    """PSI of the main features and of each head's score; retrain when a score shifts majorly or
    `retrain_features` main features do. Below `min_accounts` nothing is judged: a PSI over a few
    dozen values swings with the sample, whatever the noise level says of one column."""
    rows = []
    columns = [("feature", n, reference["features"].get(n), features.get(n)) for n in main_features]
    columns += [("score", n, reference["scores"].get(n), v) for n, v in scores.items()]
    accounts = max((len(v) for *_, v in columns if v is not None), default=0)
    for kind, name, ref, values in columns:
        if ref is None or values is None:
            continue
        value = psi(ref["shares"], shares(values, ref), params.epsilon)
        rows.append((kind, name, value, noise_level(ref["shares"], len(values), params.epsilon)))
    table = pd.DataFrame(rows, columns=["kind", "name", "psi", "noise"])
    if accounts < params.min_accounts:
        table["band"] = "unjudged"
        return DriftReport(table, False, (), accounts, judged=False)
    table["band"] = [band(v, params, e) for v, e in zip(table["psi"], table["noise"], strict=True)]
    major = table[table["band"] == "major"]
    major_scores = major[major["kind"] == "score"]["name"].tolist()
    major_features = major[major["kind"] == "feature"]["name"].tolist()
    retrain = bool(major_scores) or len(major_features) >= params.retrain_features
    why = tuple(
        major_scores + (major_features if len(major_features) >= params.retrain_features else [])
    )
    return DriftReport(table, retrain, why, accounts)


def main_features(boosters: Sequence[Any], names: Sequence[str], n: int) -> list[str]:
    """The `n` features with the largest total gain summed over the heads' boosters."""
    total = np.zeros(len(names))
    for b in boosters:
        gain = np.asarray(b.feature_importance(importance_type="gain"), dtype=np.float64)
        if gain.sum() > 0:
            total += gain / gain.sum()
    order = np.argsort(-total, kind="stable")
    return [names[i] for i in order[:n] if total[i] > 0]
