"""The one feature code path: training, the daily batch and the scoring API all call `build_features`.

A row per (account, as_of) for every account active at as_of (contract started on or before it,
not churned before it), built from data known before as_of only. Each family lives in its own
module; a family whose table is absent or empty is left out and reported, never zero-filled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from features import (
    account,
    csat,
    custom,
    escalations,
    notice,
    sentiment,
    sla,
    tickets,
    usage,
)
from features.context import Absence, Context, positions
from features.contract import SECOND_NS, History
from features.errors import UserError
from features.params import FeatureParams
from features.pointintime import data_end, data_start
from features.scorers import SentimentScorer, default_scorer
from features.spec import UNKNOWN, FeatureInfo, FeatureSpec
from features.windows import DAY, NAT, Snapshots, ns_since_epoch, seconds

__all__ = [
    "FAMILIES",
    "TABLE_FAMILIES",
    "FeatureInfo",
    "FeatureSet",
    "FeatureSpec",
    "as_of_grid",
    "build_features",
    "full_spec",
]

FAMILIES: tuple[ModuleType, ...] = (
    account,
    tickets,
    sentiment,
    sla,
    usage,
    csat,
    escalations,
    notice,
    custom,
)
# the families each event table feeds (the accounts table feeds every family); what a source
# without the table, or with an empty or stale one, cannot tell
TABLE_FAMILIES: dict[str, tuple[str, ...]] = {
    "tickets": (tickets.FAMILY, sentiment.FAMILY, sla.FAMILY, csat.FAMILY, notice.FAMILY),
    "usage": (usage.FAMILY,),
    "escalations": (escalations.FAMILY,),
}


@dataclass(frozen=True)
class FeatureSet:
    """Features and what they mean; `unavailable` says which families were left out and why.

    The columns are assembled into a DataFrame on first use of `frame`: the scoring API reads
    `columns` directly, since building a one-row frame of ~90 columns costs more than the features.
    """

    columns: Mapping[str, Any]  # account_id, as_of (int64 seconds), then each feature, row-aligned
    spec: FeatureSpec
    unavailable: dict[str, Absence]
    # the numeric features in spec order, one row each; their `columns` are views of its rows
    block: np.ndarray | None = None

    @cached_property
    def frame(self) -> pd.DataFrame:
        """account_id, as_of, then the features in spec order."""
        n = len(self.columns["account_id"])
        return _frame(self.columns, self.spec, n, block=self.block)


def full_spec(params: FeatureParams) -> FeatureSpec:
    """Every feature the params define, whether or not some data has the tables for it."""
    feats = [f for fam in FAMILIES for f in fam.spec(params)]
    _check_unique(feats)
    return FeatureSpec(tuple(feats))


def build_features(
    history: History,
    as_of_dates: Iterable | pd.DatetimeIndex | pd.Timestamp,
    params: FeatureParams,
    sentiment: SentimentScorer | None = None,
    *,
    spec: FeatureSpec | None = None,
) -> FeatureSet:
    """Features of every active account at every as_of, computed as they could be known then.

    Without `spec`, families are chosen from the data: one whose table is absent or empty is left
    out and reported in `unavailable`. With `spec` (a model's features, e.g. on the API path)
    exactly those columns are returned: a table that is empty just means no events (counts are 0),
    an absent table gives NaN columns (and is reported), so one account built alone equals its row
    in the batch.
    """
    snaps = snapshots(history, as_of_seconds(as_of_dates))
    ctx = Context(history, snaps, params, sentiment if sentiment is not None else default_scorer())
    unavailable = unavailable_families(history, params)
    wanted = full_spec(params) if spec is None else spec
    if spec is None:
        wanted = FeatureSpec(tuple(f for f in wanted.features if not left_out(f, unavailable)))
    else:
        # with a fixed spec only an absent table leaves a family out; empty tables are built
        unavailable = {
            k: v
            for k, v in unavailable.items()
            if v.key == "table_absent" or k.startswith("custom.")
        }
    columns: dict[str, Any] = {
        "account_id": snaps.account_id,
        "as_of": snaps.as_of,
    }
    wanted_names = set(wanted.names)
    by_family: dict[str, list[FeatureInfo]] = {}
    for f in wanted.features:
        by_family.setdefault(f.family, []).append(f)
    # each family's numbers go into the frame's float block as soon as they are built, and the
    # family's own arrays are dropped: the next family reuses their memory instead of the build
    # holding every column twice (as columns and as the frame) and faulting in fresh pages
    row_of = {f.name: j for j, f in enumerate(f for f in wanted.features if f.dtype == "float")}
    block = np.empty((len(row_of), len(snaps)), dtype=np.float64)
    with ThreadPoolExecutor(1) as beside:
        early = {
            fam.FAMILY: beside.submit(fam.compute, ctx)
            for fam in (BESIDE if len(snaps) >= BESIDE_ROWS else ())
            if any(not left_out(f, unavailable) for f in by_family.get(fam.FAMILY, ()))
        }
        for fam in FAMILIES:
            infos = by_family.get(fam.FAMILY)
            if not infos:
                continue
            built_names = [f.name for f in infos if not left_out(f, unavailable)]
            if fam.FAMILY in early:
                built = early.pop(fam.FAMILY).result()
            else:
                built = fam.compute(ctx) if built_names else {}
            for info in infos:
                ok = info.name in built and info.name in built_names
                values = built.pop(info.name) if ok else _missing(info, len(snaps))
                if info.dtype == "category":
                    values = _as_levels(values, info)
                if info.name in row_of:
                    block[row_of[info.name]] = values
                    values = block[row_of[info.name]]
                columns[info.name] = values
            del built
    missing = wanted_names - set(columns)
    if missing:  # a spec naming features no family builds (e.g. from a newer version)
        raise UserError(f"feature spec names unknown features: {sorted(missing)}")
    return FeatureSet(columns, wanted, unavailable, block)


def snapshots(history: History, t: np.ndarray) -> Snapshots:
    """One row per active (account, as_of seconds `t`, sorted), sorted by account id then as_of."""
    acc = history.accounts
    raw_ids = acc["account_id"].to_numpy(dtype=object)
    order = np.argsort(raw_ids, kind="stable")
    if len(order) > 1:  # one row per account (the contract guarantees it; keep the first anyway)
        keep = np.r_[True, raw_ids[order][1:] != raw_ids[order][:-1]]
        order = order[keep]
    identity = len(order) == len(acc) and bool((order == np.arange(len(order))).all())
    if not (identity and acc.index.equals(pd.RangeIndex(len(acc)))):
        acc = acc.iloc[order].reset_index(drop=True)  # read only below: no copy when in order
    ids = raw_ids[order]
    n_acc, n_t = len(acc), len(t)
    code = np.repeat(np.arange(n_acc, dtype=np.int64), n_t)
    when = np.tile(t, n_acc)
    start = np.repeat(seconds(acc["contract_start"]), n_t)
    churn_s = np.full(n_acc, np.iinfo(np.int64).max)
    if history.churn is not None and len(history.churn):
        ch = history.churn  # an account's first churn counts; rows without a time are ignored
        pos = positions(ch["account_id"].to_numpy(dtype=object), ids)
        when_ns = ns_since_epoch(ch["churned_at"])
        ok = (pos >= 0) & (when_ns != NAT)
        np.minimum.at(churn_s, pos[ok], np.floor_divide(when_ns[ok], 1_000_000_000))
    active = (start <= when) & (np.repeat(churn_s, n_t) >= when)
    code, when = code[active], when[active]
    distinct = bool((t[1:] > t[:-1]).all())  # as_of_seconds gives them so: rows know their as_of
    return Snapshots(
        account_id=ids[code],
        code=code,
        as_of=when,
        ids=ids,
        per_account=acc,
        times=t if distinct else None,
        at=np.tile(np.arange(n_t, dtype=np.int64), n_acc)[active] if distinct else None,
    )


def as_of_grid(history: History, params: FeatureParams) -> pd.DatetimeIndex:
    """The training grid: UTC midnights every `grid.every_days`, aligned to `grid.weekday`,
    after the first event and up to the end of the data."""
    start, end = data_start(history), data_end(history)
    if start is None or end is None:
        return pd.DatetimeIndex([], tz="UTC")
    step = pd.Timedelta(days=params.grid.every_days)
    anchor = pd.Timestamp("1970-01-05", tz="UTC") + pd.Timedelta(
        days=params.grid.weekday
    )  # a Monday
    first = anchor + step * int(np.floor((start - anchor) / step) + 1)
    if first > end:
        return pd.DatetimeIndex([], tz="UTC")
    return pd.date_range(first, end, freq=step, tz="UTC")


def as_of_seconds(as_of_dates) -> np.ndarray:
    """The distinct as_of dates, sorted, as int64 seconds since the epoch: UTC midnights.

    Dates without a zone are taken as UTC. A feature as of D is known at midnight D UTC, when
    the usage rows before D are whole days: at another time of day (noon, a Berlin midnight at
    23:00 UTC) the day's row, not over yet, would be read as a whole day's. Refused."""
    if isinstance(as_of_dates, pd.DatetimeIndex) and str(as_of_dates.tz) == "UTC":
        return _midnights(np.unique(ns_since_epoch(as_of_dates)))
    if isinstance(as_of_dates, pd.Timestamp | str):
        as_of_dates = [as_of_dates]
    values = list(as_of_dates)
    if values and all(isinstance(v, pd.Timestamp) and str(v.tz) == "UTC" for v in values):
        ns = np.array([v.value for v in values], dtype=np.int64)  # the API's one day: no parser
        return _midnights(np.unique(ns))
    idx = pd.DatetimeIndex(pd.to_datetime(values, utc=True))
    if idx.hasnans:
        raise UserError("as_of dates must not be empty")
    return _midnights(np.unique(ns_since_epoch(idx)))


def _midnights(ns: np.ndarray) -> np.ndarray:
    """UTC midnights in ns as seconds; a UserError naming the first that is no midnight."""
    off = ns % (DAY * SECOND_NS) != 0
    if off.any():
        bad = pd.Timestamp(int(ns[off][0]), tz="UTC")
        raise UserError(
            f"as_of must be a midnight UTC (a day, as the features are known at its start), "
            f"got {bad.isoformat()}"
        )
    return ns // SECOND_NS


def unavailable_families(history: History, params: FeatureParams) -> dict[str, Absence]:
    """What each family cannot be built from in `history` (an absent or empty table, a column
    without a single value), by family or part of one ("sla.first_response"), and why."""
    out: dict[str, Absence] = {}
    for fam in FAMILIES:
        out.update(fam.unavailable(history, params))
    return out


def left_out(info: FeatureInfo, unavailable: dict[str, Absence]) -> bool:
    """Left out by its family ("sla"), itself ("custom.<name>") or its part of the family
    ("sla.first_response": the features named sla_first_response_*)."""
    if info.family in unavailable or f"{info.family}.{info.name}" in unavailable:
        return True
    parts = (k.partition(".")[2] for k in unavailable if k.startswith(f"{info.family}."))
    return any(info.name.startswith(f"{info.family}_{part}_") for part in parts)


def _missing(info: FeatureInfo, n: int):
    if info.dtype == "category":
        return pd.Categorical([None] * n, categories=list(info.levels or ()))
    return np.full(n, np.nan)


# Families that read no table the others read are built on a second thread beside them in a
# large build: their sorts and sums run in numpy, which lets go of the GIL, so a batch build uses
# both cores (a quarter less wall time at 10k accounts x 104 weeks; docs/benchmarks.md). The
# results are the same either way: each family is a pure function of the history and the rows.
BESIDE: tuple[ModuleType, ...] = (usage,)
BESIDE_ROWS = 50_000  # snapshot rows from which a second thread pays for itself

SMALL_FRAME = 100_000  # cells up to which the frame is built in place (the API's one row)


def _as_levels(values: Any, info: FeatureInfo) -> Any:
    """A family's categories re-coded to the spec's levels: a model's spec keeps the levels it
    was trained with when params.yaml lists others now (a new tier), so a value outside them is
    the explicit unknown level, as in the model matrix, not an error or a silent missing."""
    levels = list(info.levels or ())
    cat = values if isinstance(values, pd.Categorical) else pd.Categorical(values)
    if list(cat.categories) == levels:
        return cat
    raw = np.asarray(cat.astype(object), dtype=object)
    missing = pd.isna(raw)
    codes = positions(raw, tuple(levels))
    if UNKNOWN in levels:
        codes = np.where((codes < 0) & ~missing, levels.index(UNKNOWN), codes)
    return pd.Categorical.from_codes(np.where(missing, -1, codes), categories=pd.Index(levels))


def _frame(
    columns: Mapping[str, Any],
    spec: FeatureSpec,
    n: int,
    small: bool | None = None,
    block: np.ndarray | None = None,
) -> pd.DataFrame:
    """The output frame, numeric features assembled as one float block (`block` if the build
    made it: numeric features in spec order, one row each).

    A small frame is built with every column in place, then the others set by position (splitting
    the block copies it: cheap for a few rows, and cheaper than inserting columns); a large one
    gets its other columns inserted, which leaves the float block as it is (not copied).
    """
    names = ["account_id", "as_of", *spec.names]
    as_of = pd.DatetimeIndex((columns["as_of"] * SECOND_NS).astype("datetime64[ns]"), tz="UTC")
    others = [(0, columns["account_id"]), (1, as_of)] + [
        (i + 2, _categorical(columns[f.name], f))
        for i, f in enumerate(spec.features)
        if f.dtype == "category"
    ]
    if small is None:
        small = n * len(names) <= SMALL_FRAME
    if small:
        block = np.empty((len(names), n), dtype=np.float64)  # pandas keeps it column by column
        for j, f in enumerate(spec.features, start=2):
            if f.dtype == "float":
                block[j] = columns[f.name]
        frame = pd.DataFrame(block.T, columns=names, copy=False)
        for pos, values in others:
            frame.isetitem(pos, values)
        return frame
    nums = [f.name for f in spec.features if f.dtype == "float"]
    if block is None:
        block = np.empty((len(nums), n), dtype=np.float64)
        for j, name in enumerate(nums):
            block[j] = columns[name]
    frame = pd.DataFrame(block.T, columns=nums, copy=False)
    for pos, values in others:
        frame.insert(pos, names[pos], values)
    return frame


def _categorical(values, info: FeatureInfo) -> pd.Series:
    cat = values if isinstance(values, pd.Categorical) else pd.Categorical(values)
    if list(cat.categories) != list(info.levels or ()):
        raise AssertionError(f"{info.name}: levels {list(cat.categories)} differ from the spec")
    return pd.Series(cat, copy=False)


def _check_unique(feats: list[FeatureInfo]) -> None:
    seen: set[str] = set()
    for f in feats:
        if f.name in seen or f.name in ("account_id", "as_of"):
            raise UserError(
                f"feature name {f.name!r} is used twice (a custom field in params.yaml "
                "features.custom_fields may not reuse a built-in feature's name)"
            )
        seen.add(f.name)
