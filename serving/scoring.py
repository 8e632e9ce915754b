"""From feature rows to answers: calibrated risks, reasons and the ladder's verdict per account.

Pure: the model (boosters, calibrators, feature spec), the rows, the ladder's account facts, the
ladder params and the clock are passed in. The service, the skew test and the benchmark floor all
call `score_rows`, so what is measured in-process is what the service does per request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.spec import FeatureSpec
from serving.ladder import AccountFacts, Signals, decide
from serving.params import LadderParams
from serving.reasons import dominant_family, split_contrib, to_probability, top_reasons

HEADS = ("escalation", "churn")


@dataclass(frozen=True)
class Head:
    """One target's booster and calibrator (raw margin -> probability)."""

    booster: Any  # lightgbm.Booster
    calibrate: Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ScoringModel:
    """What scoring needs of a model bundle."""

    spec: FeatureSpec
    heads: Mapping[str, Head]  # keyed by HEADS
    version: str


# Fewer rows than this are predicted on one thread: for one account, starting and joining
# OpenMP threads costs several times the TreeSHAP work, and each service worker owns one core.
SINGLE_THREAD_ROWS = 256


def contributions(booster: Any, X: pd.DataFrame) -> np.ndarray:
    """LightGBM's exact TreeSHAP contributions (features, then the bias column) for the rows."""
    kw = {"num_threads": 1} if len(X) < SINGLE_THREAD_ROWS else {}
    return np.asarray(booster.predict(X, pred_contrib=True, **kw))


class _Columns:
    """A frame's columns as arrays, each converted on first use (a condition on a feature
    reads one column; to_dict("records") would copy every value of every row)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.names = list(frame.columns)
        self.arrays: dict[str, np.ndarray] = {}

    def column(self, name: str) -> np.ndarray:
        if name not in self.arrays:
            col = self.frame[name]
            self.arrays[name] = (
                col.to_numpy(dtype=object)
                if isinstance(col.dtype, pd.CategoricalDtype)
                else col.to_numpy()
            )
        return self.arrays[name]


class RowView(Mapping[str, Any]):
    """One row of a feature frame as a read-only mapping (the ladder's `Signals.features`)."""

    __slots__ = ("_cols", "_i")

    def __init__(self, cols: _Columns, i: int) -> None:
        self._cols, self._i = cols, i

    def __getitem__(self, name: str) -> Any:
        if name not in self._cols.frame.columns:
            raise KeyError(name)
        return self._cols.column(name)[self._i]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._cols.names)

    def __len__(self) -> int:
        return len(self._cols.names)


def row_views(frame: pd.DataFrame) -> list[RowView]:
    cols = _Columns(frame)
    return [RowView(cols, i) for i in range(len(frame))]


def head_of(target: str) -> str:
    """escalation_30d -> escalation, churn_90d -> churn."""
    for h in HEADS:
        if target.startswith(h):
            return h
    raise ValueError(f"target {target!r} is neither an escalation nor a churn target")


def score_rows(
    model: ScoringModel,
    frame: pd.DataFrame,
    facts: Mapping[str, AccountFacts],
    ladder: LadderParams,
    now: pd.Timestamp,
    top_k: int,
) -> list[dict[str, Any]]:
    """One answer per row of `frame` (account_id, as_of, then the spec's features, typed)."""
    X = frame[model.spec.names]
    ids = frame["account_id"].tolist()
    langs = [facts[a].language if a in facts else "en" for a in ids]
    risks: dict[str, np.ndarray] = {}
    reasons: dict[str, list[list[dict[str, Any]]]] = {}
    for name in HEADS:
        head = model.heads[name]
        raw, bias = split_contrib(contributions(head.booster, X))
        c = to_probability(raw, bias, head.calibrate)
        risks[name] = c.risk
        reasons[name] = top_reasons(name, c.prob, X, model.spec, langs, top_k)
    when = now.to_pydatetime()
    rows = row_views(X)
    days = pd.DatetimeIndex(frame["as_of"]).date
    out = []
    for i, aid in enumerate(ids):
        rs = reasons["escalation"][i] + reasons["churn"][i]
        signals = Signals(
            account_id=aid,
            escalation_risk=float(risks["escalation"][i]),
            churn_risk=float(risks["churn"][i]),
            features=rows[i],
            reason_family=dominant_family(rs),
            facts=facts[aid],
            reasons=tuple(rs),
        )
        _, decision = decide(signals, None, ladder, when)
        out.append(
            {
                "account_id": aid,
                "as_of": days[i],
                "escalation_risk": signals.escalation_risk,
                "churn_risk": signals.churn_risk,
                "level": decision.new_level,
                "owner": facts[aid].csm_owner,
                "owners": list(decision.owners),
                "team": decision.team,
                "priority": decision.priority,
                "reasons": rs,
                "model_version": model.version,
            }
        )
    return out
