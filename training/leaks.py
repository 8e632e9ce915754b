"""A feature that alone foretells its target almost perfectly is more likely a leak than a signal.

Forecasting an escalation or churn weeks ahead is hard: on real and simulated data no single
feature ranks a test window much above 0.8 ROC-AUC. One that reaches `LEAK_AUC` is usually
written after the event: the accounts table is a snapshot of now, and a CRM that zeroes a churned
account's ARR or renames its tier tells every past snapshot who will churn (docs/features.md,
Known limits). Train says so, naming the feature, instead of reporting a model that cannot work.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from features.spec import FeatureSpec

LEAK_AUC = 0.95  # a feature ranking the test window this well alone (either way) is suspect
LEAST_POSITIVES = 10  # fewer positives: a perfect ranking can be chance


def roc_auc(x: np.ndarray, y: np.ndarray) -> float:
    """ROC-AUC of scores `x` (no NaN) for labels `y` (0/1), ties counting half."""
    pos = y == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(x)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def strength(values: pd.Series, y: np.ndarray) -> float:
    """How well one feature alone separates the classes, 0.5 (not at all) to 1 (perfectly), in
    either direction; a missing value ranks below or above every known one, whichever tells more
    (a feature known only for some accounts is judged by all rows, not by those alone). A
    category is scored by its levels' positive rates in these rows."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        rate = pd.Series(y).groupby(codes).mean()
        x = pd.Series(codes).map(rate).to_numpy(dtype=float)
    else:
        x = values.to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(x)
    if not known.any():
        return 0.5
    best = 0.5
    for fill in (-np.inf, np.inf):
        auc = roc_auc(np.where(known, x, fill), y)
        if auc == auc:
            best = max(best, auc, 1.0 - auc)
    return best


def telling_features(X: pd.DataFrame, y: np.ndarray, spec: FeatureSpec) -> list[tuple[str, float]]:
    """(feature, strength) of every feature that alone reaches LEAK_AUC on these rows, strongest
    first; none when the rows hold too few positives to tell."""
    if int((y == 1).sum()) < LEAST_POSITIVES or int((y == 0).sum()) < LEAST_POSITIVES:
        return []
    found = [(f.name, strength(X[f.name], y)) for f in spec.features]
    return sorted(((n, s) for n, s in found if s >= LEAK_AUC), key=lambda p: -p[1])
