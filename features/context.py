"""What every family builder receives: the history, the snapshot rows and the params."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from features.contract import History
from features.params import FeatureParams
from features.texts import ticket_keys
from features.windows import DAY, Snapshots, Timeline, ns_since_epoch

if TYPE_CHECKING:
    from features.scorers import SentimentScorer

Columns = dict[str, Any]  # feature name -> float ndarray or pandas Categorical
__all__ = ["Absence", "Columns", "Context", "absent_reason", "ns_since_epoch"]


class Context:
    """History, rows and params, plus per-table arrays computed once per build (ids as account
    codes, times as int64 ns, timelines), so family builders stay in numpy."""

    def __init__(
        self,
        history: History,
        snaps: Snapshots,
        params: FeatureParams,
        sentiment: SentimentScorer | None = None,
    ) -> None:
        self.history = history
        self.snaps = snaps
        self.params = params
        self.sentiment = sentiment
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._timelines: dict[tuple[str, str], Timeline] = {}

    def ago(self, days: int) -> np.ndarray:
        """Per row: the as_of moved back by some days, in seconds (the same array for the same
        days, so event look-ups at that edge are computed once)."""
        return self.snaps.before(days * DAY)

    def table(self, name: str) -> pd.DataFrame:
        df = self.history.table(name)
        assert df is not None, f"{name} table absent"
        return df

    def codes(self, name: str) -> np.ndarray:
        """Account code of every row of a table (-1: account without snapshot rows)."""
        key = (name, "__code__")
        if key not in self._cache:
            self._cache[key] = codes_of(self.snaps.ids, self.table(name)["account_id"])
        return self._cache[key]

    def level(self, name: str, column: str, levels: tuple[str, ...]) -> np.ndarray:
        """Position of each row's value in `levels` (-1: another value), so that families compare
        small integers instead of strings."""
        key = (name, "__level__" + column + repr(levels))
        if key not in self._cache:
            self._cache[key] = positions(self.table(name)[column].to_numpy(dtype=object), levels)
        return self._cache[key]

    def ns(self, name: str, column: str) -> np.ndarray:
        """A time column as int64 ns since the epoch (NaT as NAT)."""
        key = (name, column)
        if key not in self._cache:
            self._cache[key] = ns_since_epoch(self.table(name)[column])
        return self._cache[key]

    def timeline(self, name: str, column: str) -> Timeline:
        """A table's rows in (account, time) order by one time column, shared by the families
        that read it, so it is sorted and its window edges looked up once per build."""
        key = (name, column)
        if key not in self._timelines:
            self._timelines[key] = Timeline.build(
                self.snaps, self.codes(name), self.ns(name, column)
            )
        return self._timelines[key]

    def column(self, name: str, column: str) -> np.ndarray:
        """A table column as a numpy array (object for text), read once per build."""
        key = (name, "__col__" + column)
        if key not in self._cache:
            self._cache[key] = self.table(name)[column].to_numpy()
        return self._cache[key]

    def text_keys(self) -> np.ndarray:
        """Per ticket row: the key of its language and text (`features.texts.ticket_keys`),
        computed once per build for the families that cache results per text."""
        key = ("tickets", "__text_keys__")
        if key not in self._cache:
            self._cache[key] = ticket_keys(self.history, (self.codes("tickets"), self.snaps.ids))
        return self._cache[key]

    def ints(self, name: str, column: str, fill: int = 0) -> np.ndarray:
        key = (name, f"__int__{column}:{fill}")
        if key not in self._cache:
            col = self.table(name)[column]
            self._cache[key] = col.to_numpy(dtype=np.int64, na_value=fill)
        return self._cache[key]


SMALL = 256  # rows up to which a look-up is a Python dict (the API's one account): no pandas index


def positions(values: np.ndarray, keys: np.ndarray | tuple[str, ...]) -> np.ndarray:
    """Position of each value among distinct `keys` (-1: none, missing values included)."""
    if len(values) > SMALL:
        return pd.Index(keys).get_indexer(pd.Index(values)).astype(np.int64)
    at = {k: i for i, k in enumerate(keys)}
    return np.fromiter(
        (at.get(v, -1) if isinstance(v, str) else -1 for v in values), np.int64, len(values)
    )


def codes_of(ids: np.ndarray, account_id: pd.Series) -> np.ndarray:
    """Position of each row's account in `ids` (-1: none). Tables are often grouped by account
    (usage exports are), so each run of equal ids is looked up once."""
    values = account_id.to_numpy(dtype=object)
    try:
        changes = values[1:] != values[:-1]
    except TypeError:  # pd.NA cannot be compared; look every row up
        changes = np.ones(max(len(values) - 1, 0), dtype=bool)
    heads = np.flatnonzero(np.concatenate(([True], changes)))[: len(values)]
    if len(heads) > len(values) // 4:
        return positions(values, ids)
    runs = np.diff(np.append(heads, len(values)))
    return np.repeat(positions(values[heads], ids), runs)


def empty(table: pd.DataFrame | None) -> bool:
    return table is None or len(table) == 0


@dataclass(frozen=True)
class Absence:
    """Why a feature family is left out, as a message key and its table (and column): each
    output tells it in its own language (serving's catalog `daily_text` holds the texts);
    `str()` is the English one, for the API, the training notes and `escrisk features`."""

    key: Literal["table_absent", "table_empty", "column_absent", "column_empty"]
    table: str
    column: str = ""

    def __str__(self) -> str:
        if self.key == "column_absent":
            return f"{self.table} table has no column {self.column!r}"
        if self.key == "column_empty":
            return f"{self.table} table has no {self.column} values"
        return f"{self.table} table {self.key.removeprefix('table_')}"


def absent_reason(name: str, table: pd.DataFrame | None) -> Absence | None:
    """Why a family built on this table is left out, or None when it can be built."""
    if table is None:
        return Absence("table_absent", name)
    if len(table) == 0:
        return Absence("table_empty", name)
    return None
