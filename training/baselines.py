"""The two baselines every model must beat, trained on the same split and stored as JSON.

- A logistic regression on the same features: median imputation with missing indicators,
  standard scaling, one-hot categories over the spec's levels.
- A rules-only health score of the kind CS tools show: red/yellow bands on a few features,
  red = 1 point, yellow = 0.5, weighted mean over the rules whose feature is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from features.spec import FeatureSpec
from training.params import HealthRule, LogisticParams
from training.text import Refusal


@dataclass(frozen=True)
class LogisticBaseline:
    columns: tuple[
        str, ...
    ]  # expanded design columns: numeric, "<name>__missing", "<name>=<level>"
    center: tuple[float, ...]
    scale: tuple[float, ...]
    medians: dict[str, float]
    coef: tuple[float, ...]
    intercept: float

    def design(self, X: pd.DataFrame) -> np.ndarray:
        return _design(X, self.columns, self.medians)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        z = (self.design(X) - np.asarray(self.center)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.coef) + self.intercept)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "center": list(self.center),
            "scale": list(self.scale),
            "medians": self.medians,
            "coef": list(self.coef),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LogisticBaseline:
        return cls(
            tuple(d["columns"]),
            tuple(d["center"]),
            tuple(d["scale"]),
            dict(d["medians"]),
            tuple(d["coef"]),
            float(d["intercept"]),
        )


def _design(X: pd.DataFrame, columns: Sequence[str], medians: dict[str, float]) -> np.ndarray:
    out = np.empty((len(X), len(columns)))
    for j, c in enumerate(columns):
        if c.endswith("__missing"):
            out[:, j] = X[c[: -len("__missing")]].isna().to_numpy(dtype=float)
        elif "=" in c and c.split("=", 1)[0] in X.columns and c not in X.columns:
            name, level = c.split("=", 1)
            out[:, j] = (X[name].astype(object) == level).to_numpy(dtype=float)
        else:
            out[:, j] = X[c].fillna(medians[c]).to_numpy(dtype=float)
    return out


def fit_logistic(
    X: pd.DataFrame, y: np.ndarray, spec: FeatureSpec, params: LogisticParams, seed: int
) -> LogisticBaseline:
    columns: list[str] = []
    medians: dict[str, float] = {}
    for info in spec.features:
        if info.dtype == "category":
            columns += [f"{info.name}={lv}" for lv in info.levels or ()]
        else:
            s = X[info.name]
            med = float(s.median()) if s.notna().any() else 0.0
            medians[info.name] = med
            columns.append(info.name)
            if s.isna().any():
                columns.append(f"{info.name}__missing")
    D = _design(X, columns, medians)
    center = D.mean(axis=0)
    scale = D.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=params.C, max_iter=params.max_iter, random_state=seed)
    lr.fit((D - center) / scale, y)
    return LogisticBaseline(
        tuple(columns),
        tuple(float(v) for v in center),
        tuple(float(v) for v in scale),
        medians,
        tuple(float(v) for v in lr.coef_[0]),
        float(lr.intercept_[0]),
    )


def usable_rules(rules: Sequence[HealthRule], spec: FeatureSpec) -> tuple[HealthRule, ...]:
    """The rules whose feature the data has; none at all is an error naming the features."""
    known = set(spec.names)
    ok = tuple(r for r in rules if r.feature in known)
    if not ok:
        raise Refusal(
            "no_rules", rules=", ".join(r.feature for r in rules), available=", ".join(spec.names)
        )
    return ok


def health_risk(X: pd.DataFrame, rules: Sequence[HealthRule]) -> np.ndarray:
    """Weighted share of red/yellow points in [0, 1]; rules on unknown values are skipped."""
    points = np.zeros(len(X))
    weights = np.zeros(len(X))
    for r in rules:
        v = X[r.feature].to_numpy(dtype=float)
        known = ~np.isnan(v)
        if r.risk_when == "high":
            pts = np.where(v >= r.red, 1.0, np.where(v >= r.yellow, 0.5, 0.0))
        else:
            pts = np.where(v <= r.red, 1.0, np.where(v <= r.yellow, 0.5, 0.0))
        points += np.where(known, pts * r.weight, 0.0)
        weights += np.where(known, r.weight, 0.0)
    return np.divide(points, weights, out=np.zeros(len(X)), where=weights > 0)
