"""Vectorised point-in-time look-ups: events per account and window for many snapshots at once.

Events of one kind are sorted by (account, time) into one array of keys `code * SPAN + seconds`;
"events before D" for every snapshot is then a single `searchsorted`, and sums over a window are
differences of per-account prefix sums. Prefix sums restart at every account, so a snapshot's
values depend only on its own account's events (the batch and the one-account API path agree to
the bit), and only on events before D (appending later events changes nothing).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

DAY = 86_400  # seconds
SPAN = np.int64(1) << 34  # seconds per account slot in the key space (about year 2514)
NAT = np.iinfo(np.int64).min  # how pandas stores NaT as int64


def ns_since_epoch(col: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """UTC times as int64 ns since the epoch; NaT becomes NAT (int64 min)."""
    dtype = col.dtype
    arr: Any = col.array if isinstance(col, pd.Series) else col
    if not (isinstance(dtype, pd.DatetimeTZDtype) and dtype.unit == "ns"):
        arr = pd.DatetimeIndex(pd.to_datetime(col, utc=True)).astype("datetime64[ns, UTC]")
    return np.asarray(arr.asi8, dtype=np.int64)


def seconds(ts: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Whole seconds since the epoch, floored: for a boundary on a whole second B, t < B iff
    seconds(t) < B, so flooring never moves an event across a snapshot's cut-off."""
    return np.floor_divide(ns_since_epoch(ts), 1_000_000_000)


@dataclass(frozen=True)
class Snapshots:
    """The rows being built: one (account, as_of) each, sorted by account id, then as_of."""

    account_id: np.ndarray  # object array of str
    code: np.ndarray  # int64: position of the account in `ids`
    as_of: np.ndarray  # int64 seconds (UTC midnights)
    ids: pd.Index  # the accounts, sorted
    per_account: pd.DataFrame  # the accounts table, one row per code, in code order

    def __len__(self) -> int:
        return len(self.code)

    @functools.cached_property
    def base(self) -> np.ndarray:
        """Per row: the start of its account's slot in the event key space."""
        return self.code * SPAN

    def at_rows(self, column: str) -> np.ndarray:
        """An accounts column, one value per snapshot row."""
        return self.per_account[column].to_numpy()[self.code]

    def floats_at_rows(self, column: str) -> np.ndarray:
        return self.per_account[column].to_numpy(dtype=np.float64, na_value=np.nan)[self.code]

    def codes_of(self, account_ids: pd.Series) -> np.ndarray:
        """Codes of some account ids; -1 for accounts with no snapshot row."""
        return self.ids.get_indexer(pd.Index(account_ids.astype(object)))


@dataclass
class Events:
    """Events of one kind, each with an account, a time (seconds) and optional values.

    Rows with an unknown account or a missing time are ignored: they are not known at any as_of.
    `tiebreak` orders events with equal times so that prefix sums do not depend on row order.
    """

    snaps: Snapshots
    key: np.ndarray
    time: np.ndarray
    values: dict[str, np.ndarray]
    _prefix: dict[str, np.ndarray] = field(default_factory=dict)
    _group_start: np.ndarray | None = None
    _positions: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        snaps: Snapshots,
        codes: np.ndarray,
        times_ns: np.ndarray,
        keep: np.ndarray | None = None,
        values: dict[str, np.ndarray] | None = None,
        tiebreak: np.ndarray | None = None,
    ) -> Events:
        """Events from parallel arrays: account codes (-1 = no snapshot row), times in ns since
        the epoch (NaT as int64 = unknown, dropped), an optional row mask, values and tie ranks."""
        ok = (codes >= 0) & (times_ns != NAT)
        if keep is not None:
            ok &= keep
        c = codes[ok].astype(np.int64)
        t = np.floor_divide(times_ns[ok], 1_000_000_000)
        if t.size and (t.min() < 0 or t.max() >= SPAN):  # the contract keeps times in 1990..
            t = np.clip(t, 0, SPAN - 1)
        order = np.lexsort((tiebreak[ok], t, c) if tiebreak is not None else (t, c))
        vals = {k: np.asarray(v)[ok][order] for k, v in (values or {}).items()}
        return cls(snaps, c[order] * SPAN + t[order], t[order], vals)

    def __len__(self) -> int:
        return len(self.key)

    def position(self, before_s: np.ndarray) -> np.ndarray:
        """Per snapshot row: index just past the account's events with time < before_s.

        Memoised per boundary array (the builders reuse `Context.ago(days)` arrays), since the
        same window edges are looked up for several features."""
        hit = self._positions.get(id(before_s))
        if hit is not None and hit[0] is before_s:
            return hit[1]
        # as_of and window edges lie between 1970 and 2514, inside an account's key slot
        pos = np.searchsorted(self.key, self.snaps.base + before_s, side="left")
        self._positions[id(before_s)] = (before_s, pos)
        return pos

    def group_start(self) -> np.ndarray:
        if self._group_start is None:
            self._group_start = np.searchsorted(self.key, self.snaps.base, side="left")
        return self._group_start

    def count(self, start_s: np.ndarray | None, end_s: np.ndarray) -> np.ndarray:
        """Events with start_s <= time < end_s (start None: since the beginning), as float64."""
        hi = self.position(end_s)
        lo = self.group_start() if start_s is None else self.position(start_s)
        return np.maximum(hi - lo, 0).astype(np.float64)

    def prefix(self, name: str) -> np.ndarray:
        """Inclusive running sum of a value, restarting at every account."""
        if name not in self._prefix:
            v = self.values[name]
            self._prefix[name] = grouped_cumsum(v, self.key // SPAN)
        return self._prefix[name]

    def _before(self, name: str, pos: np.ndarray) -> np.ndarray:
        """Sum of the account's values at positions < pos (0 when there are none)."""
        incl = self.prefix(name)
        gs = self.group_start()
        has = pos > gs
        idx = np.where(has, pos - 1, 0)
        got = incl[idx] if len(incl) else np.zeros(len(pos), dtype=incl.dtype)
        return np.where(has, got, np.zeros(1, dtype=incl.dtype))

    def sum(self, name: str, start_s: np.ndarray | None, end_s: np.ndarray) -> np.ndarray:
        """Sum of a value over events with start_s <= time < end_s (in the value's dtype)."""
        hi = self.position(end_s)
        total = self._before(name, hi)
        if start_s is None:
            return total
        lo = np.minimum(self.position(start_s), hi)
        return total - self._before(name, lo)

    def min(self, name: str, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
        """Minimum of a value over the window; NaN where the window holds no event."""
        hi = self.position(end_s)
        lo = self.position(start_s)
        out = np.full(len(hi), np.nan)
        ok = hi > lo
        if not ok.any():
            return out
        v = np.append(self.values[name].astype(np.float64), np.inf)
        idx = np.empty(2 * int(ok.sum()), dtype=np.int64)
        idx[0::2] = lo[ok]
        idx[1::2] = hi[ok]
        out[ok] = np.minimum.reduceat(v, idx)[0::2]
        return out

    def first_time(self, end_s: np.ndarray) -> np.ndarray:
        """Time (seconds, float) of the account's first event, if it lies before end_s; else NaN."""
        gs = self.group_start()
        has = self.position(end_s) > gs
        out = np.full(len(gs), np.nan)
        out[has] = self.time[gs[has]]
        return out

    def last_time(self, end_s: np.ndarray) -> np.ndarray:
        """Time (seconds, float) of the account's last event before end_s; NaN if none."""
        hi = self.position(end_s)
        has = hi > self.group_start()
        out = np.full(len(hi), np.nan)
        out[has] = self.time[hi[has] - 1]
        return out


def grouped_cumsum(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Running sums restarting at every group (groups sorted): integers exactly; floats summed
    left to right within the group only, so a group's sums never depend on other groups."""
    v = np.asarray(values)
    if v.dtype.kind in "iub":
        total = np.cumsum(v.astype(np.int64))
        starts = (
            np.flatnonzero(np.concatenate(([True], groups[1:] != groups[:-1])))
            if len(v)
            else np.zeros(0, np.int64)
        )
        before = np.concatenate(([0], total))[starts]
        return total - np.repeat(before, np.diff(np.append(starts, len(v))))
    return np.asarray(pd.Series(v.astype(np.float64)).groupby(groups, sort=False).cumsum())


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0 (a share or mean of nothing is undefined, not zero)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out
