"""From feature rows to answers: calibrated risks, reasons and the ladder's verdict per account.

Pure: the model (boosters, calibrators, feature spec), the rows, the ladder's account facts, the
ladder params and the clock are passed in. The service, the skew test and the benchmark floor all
call `score_rows`, so what is measured in-process is what the service does per request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from features.build import FeatureSet
from features.params import FeatureParams, as_trained
from features.spec import FeatureSpec
from serving.ladder import AccountFacts, Signals, decide
from serving.params import HEADS, LadderParams
from serving.reasons import dominant_family, rank_reasons, split_contrib, to_probability


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
    feature_params: FeatureParams | None = None  # what it was trained with (None: not kept)
    feature_code: Mapping[str, Any] | None = None  # features.version.stamp() then (None: not kept)

    def features(self, now: FeatureParams) -> FeatureParams:
        """The settings its features are built with: its own, else params.yaml's `now`."""
        return as_trained(self.feature_params, now)


# Fewer rows than this are predicted on one thread: for one account, starting and joining
# OpenMP threads costs several times the TreeSHAP work, and each service worker owns one core.
SINGLE_THREAD_ROWS = 256


def contributions(booster: Any, X: pd.DataFrame | np.ndarray) -> np.ndarray:
    """LightGBM's exact TreeSHAP contributions (features, then the bias column) for the rows."""
    kw = {"num_threads": 1} if len(X) < SINGLE_THREAD_ROWS else {}
    return np.asarray(booster.predict(X, pred_contrib=True, **kw))


@dataclass(frozen=True)
class FeatureArrays:
    """A feature frame's spec columns as arrays, read from pandas once per call: numbers as one
    float64 matrix (NaN = missing), categories as object arrays of their values."""

    names: list[str]
    numbers: np.ndarray  # rows x features; category columns hold NaN here
    categories: dict[int, np.ndarray]  # column position -> values (str, or NaN when missing)

    @classmethod
    def of(cls, frame: pd.DataFrame, names: list[str]) -> FeatureArrays:
        dtypes = frame.dtypes
        cats = [j for j, n in enumerate(names) if isinstance(dtypes[n], pd.CategoricalDtype)]
        numeric = [n for j, n in enumerate(names) if j not in set(cats)]
        numbers = np.full((len(frame), len(names)), np.nan)
        if numeric:
            where = [j for j in range(len(names)) if j not in set(cats)]
            numbers[:, where] = frame[numeric].to_numpy(dtype=np.float64, na_value=np.nan)
        categories = {j: frame[names[j]].to_numpy(dtype=object) for j in cats}
        return cls(names, numbers, categories)

    @classmethod
    def of_set(cls, features: FeatureSet) -> FeatureArrays:
        """The same arrays straight from a feature build's columns, without a DataFrame."""
        names = list(features.spec.names)
        cats = [j for j, f in enumerate(features.spec.features) if f.dtype == "category"]
        numbers = np.empty((len(features.columns["account_id"]), len(names)))
        for j, name in enumerate(names):
            numbers[:, j] = np.nan if j in cats else features.columns[name]
        categories = {j: np.asarray(features.columns[names[j]], dtype=object) for j in cats}
        return cls(names, numbers, categories)

    def column(self, j: int) -> np.ndarray:
        return self.categories[j] if j in self.categories else self.numbers[:, j]

    def lightgbm_input(self, booster: Any) -> np.ndarray:
        """What LightGBM's `_data_from_pandas` makes of the frame: float64, each category as its
        code among the booster's training levels (`pandas_categorical`), unknown or missing NaN."""
        levels = booster.pandas_categorical or []
        if len(levels) != len(self.categories):
            raise ValueError("the frame's category columns do not match the model's")
        out = self.numbers.copy() if self.categories else self.numbers
        for j, known in zip(sorted(self.categories), levels, strict=True):
            at = {level: float(i) for i, level in enumerate(known)}
            out[:, j] = [at.get(v, np.nan) for v in self.categories[j]]
        return out

    def known_and_display(self) -> tuple[np.ndarray, list[Any]]:
        """`serving.reasons`' view of the values: which cells are known, and each column's values."""
        known = ~np.isnan(self.numbers)
        columns: list[Any] = [("f", self.numbers[:, j]) for j in range(len(self.names))]
        for j, values in self.categories.items():
            known[:, j] = pd.notna(values)
            columns[j] = ("s", values)
        return known, columns


class _Columns:
    """A frame's columns as arrays, each converted on first use (a condition on a feature
    reads one column; to_dict("records") would copy every value of every row)."""

    def __init__(self, frame: pd.DataFrame | None, arrays: FeatureArrays | None = None) -> None:
        self.frame = frame
        self.arrays: dict[str, np.ndarray] = {}
        if arrays is not None:
            self.names = arrays.names
            self.arrays = {n: arrays.column(j) for j, n in enumerate(arrays.names)}
        elif frame is not None:
            self.names = list(frame.columns)
        else:
            raise ValueError("columns need a frame or arrays")
        self.known = set(self.names)

    def get(self, name: str) -> np.ndarray | None:
        """A column by name (what `RowView.get` reads row by row); None when the frame has none."""
        return self.column(name) if name in self.known else None

    def column(self, name: str) -> np.ndarray:
        if name not in self.arrays:
            assert self.frame is not None  # with arrays given, every known name is in them
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
        if name not in self._cols.known:
            raise KeyError(name)
        return self._cols.column(name)[self._i]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._cols.names)

    def __len__(self) -> int:
        return len(self._cols.names)


def row_views(frame: pd.DataFrame) -> list[RowView]:
    return frame_rows(frame)[1]


def frame_rows(frame: pd.DataFrame) -> tuple[_Columns, list[RowView]]:
    """A frame's rows as views, with the columns they read (the ladder's batch path reads a
    condition's feature for every row at once from them)."""
    cols = _Columns(frame)
    return cols, [RowView(cols, i) for i in range(len(frame))]


def score_rows(
    model: ScoringModel,
    features: pd.DataFrame | FeatureSet,
    facts: Mapping[str, AccountFacts],
    ladder: LadderParams,
    now: pd.Timestamp,
    top_k: int,
) -> list[dict[str, Any]]:
    """One answer per feature row: of a frame (account_id, as_of, then the spec's features,
    typed), or of a feature build with the model's spec, read without a DataFrame (the API's
    path: a one-row frame of ~90 columns costs more to build than the features).

    The features are read once, into arrays that LightGBM, the reasons and the ladder share:
    LightGBM's own pandas conversion costs more than the trees for one account."""
    ids, days, values = _arrays(model, features)
    display = values.known_and_display()
    langs = [facts[a].language if a in facts else "en" for a in ids]
    risks: dict[str, np.ndarray] = {}
    reasons: dict[str, list[list[dict[str, Any]]]] = {}
    for name in HEADS:
        head = model.heads[name]
        raw, bias = split_contrib(contributions(head.booster, values.lightgbm_input(head.booster)))
        c = to_probability(raw, bias, head.calibrate)
        risks[name] = c.risk
        reasons[name] = rank_reasons(name, c.prob, display, model.spec, langs, top_k)
    cols = _Columns(None, values)
    rows = [RowView(cols, i) for i in range(len(ids))]
    return answers(model, ids, days, risks, reasons, rows, facts, ladder, now)


def _arrays(
    model: ScoringModel, features: pd.DataFrame | FeatureSet
) -> tuple[list[str], list[date], FeatureArrays]:
    """Account ids, as_of days and feature arrays of the rows to score."""
    if isinstance(features, pd.DataFrame):
        days = [ts.date() for ts in features["as_of"]]
        values = FeatureArrays.of(features, list(model.spec.names))
        return features["account_id"].tolist(), days, values
    if features.spec is not model.spec and features.spec.names != model.spec.names:
        raise ValueError("the features were built with another spec than the model's")
    epoch = date(1970, 1, 1).toordinal()  # as_of is in whole UTC seconds
    days = [date.fromordinal(epoch + s // 86_400) for s in features.columns["as_of"].tolist()]
    return features.columns["account_id"].tolist(), days, FeatureArrays.of_set(features)


def answers(
    model: ScoringModel,
    ids: Sequence[str],
    days: Sequence[Any],
    risks: Mapping[str, np.ndarray],
    reasons: Mapping[str, list[list[dict[str, Any]]]],
    rows: Sequence[Any],
    facts: Mapping[str, AccountFacts],
    ladder: LadderParams,
    now: pd.Timestamp,
) -> list[dict[str, Any]]:
    """Each row's answer from the heads' risks and reasons: the ladder decides level and owners."""
    when = now.to_pydatetime()
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
