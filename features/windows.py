"""Vectorised point-in-time look-ups: events per account and window for many snapshots at once.

Events with a time are sorted by (account, time) into one array of keys `code * SPAN + seconds`
(a `Timeline`); "events before D" for every snapshot is then a single `searchsorted` (or, for a
large build, a running count of events per (account, as_of) cell), and sums of integer values
over a window are differences of one running sum (`Sums`). Integer sums are exact,
so a snapshot's values depend only on its own account's events (the batch and the one-account API
path agree to the bit) and only on events before D (appending later events changes nothing), and
the order of events with equal times never matters.
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
GRID_ROWS = 4096  # snapshot rows from which window edges may be counted per cell, not searched
CELL_EVENTS_PER_ROW = 2  # up to which counting (reads every event) beats searching (log(events))


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
    ids: np.ndarray  # the account ids (object), sorted
    per_account: pd.DataFrame  # the accounts table, one row per code, in code order
    times: np.ndarray | None = None  # the distinct as_of, sorted (derived when not given)
    at: np.ndarray | None = None  # per row: the position of its as_of in `times`
    _edges: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.code)

    @functools.cached_property
    def base(self) -> np.ndarray:
        """Per row: the start of its account's slot in the event key space."""
        return self.code * SPAN

    @functools.cached_property
    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct as_of (sorted) and, per row, the position of its as_of among them."""
        if self.times is not None and self.at is not None:
            return self.times, self.at
        times = np.unique(self.as_of)
        return times, np.searchsorted(times, self.as_of)

    @functools.cached_property
    def cell(self) -> np.ndarray:
        """Per row: its (account, as_of position) cell in a table of n_accounts x (n_times + 1)."""
        times, at = self.grid
        return self.code * (len(times) + 1) + at

    def before(self, seconds: int) -> np.ndarray:
        """Per row: the as_of moved back by some seconds (the same array for the same seconds,
        so that timelines look its window edges up once and can tell it is a shifted as_of)."""
        got = self._edges.get(seconds)
        if got is None:  # setdefault: a family on another thread may have asked at the same time
            shifted = self.as_of if seconds == 0 else self.as_of - np.int64(seconds)
            got = self._edges.setdefault(seconds, shifted)
        return got

    def shift_of(self, edge: np.ndarray) -> int | None:
        """How far `edge` lies before as_of, if it is one of the arrays `before` gave."""
        if edge is self.as_of:
            return 0
        for seconds, got in tuple(self._edges.items()):  # another thread may add one meanwhile
            if got is edge:
                return seconds
        return None

    def at_rows(self, column: str) -> np.ndarray:
        """An accounts column, one value per snapshot row."""
        return self.per_account[column].to_numpy()[self.code]

    def floats_at_rows(self, column: str) -> np.ndarray:
        return self.per_account[column].to_numpy(dtype=np.float64, na_value=np.nan)[self.code]


@dataclass
class Timeline:
    """Events of one kind in (account, time) order: each a table row with an account and a time.

    Rows with an unknown account or a missing time are left out: they are not known at any as_of.
    Window edges are looked up once per boundary array and shared by every feature on this timeline.
    """

    snaps: Snapshots
    key: np.ndarray  # sorted: code * SPAN + seconds
    rows: np.ndarray | None  # table row of each event; None: every row, in table order
    _positions: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _group_start: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        snaps: Snapshots,
        codes: np.ndarray,
        times_ns: np.ndarray,
        keep: np.ndarray | None = None,
    ) -> Timeline:
        """Events from parallel arrays: account codes (-1 = no snapshot row), times in ns since
        the epoch (NaT as int64 = unknown, dropped) and an optional row mask."""
        ok = (codes >= 0) & (times_ns != NAT)
        if keep is not None:
            ok &= keep
        every = bool(ok.all())
        rows = None if every else np.flatnonzero(ok)
        c = codes if rows is None else codes[rows]
        t = np.floor_divide(times_ns if rows is None else times_ns[rows], 1_000_000_000)
        if t.size and (t.min() < 0 or t.max() >= SPAN):  # the contract keeps times in 1990..
            t = np.clip(t, 0, SPAN - 1)
        key = c.astype(np.int64) * SPAN + t
        if key.size > 1 and not _ascending(key):  # exports are often in order
            order = _sort_order(key, c, len(snaps.ids))
            key = key[order]
            rows = order if rows is None else rows[order]
        return cls(snaps, key, rows)

    def __len__(self) -> int:
        return len(self.key)

    @functools.cached_property
    def time(self) -> np.ndarray:
        """Each event's time in seconds since the epoch."""
        return self.key % SPAN

    @functools.cached_property
    def code(self) -> np.ndarray:
        """Each event's account code."""
        return self.key // SPAN

    def take(self, values: np.ndarray) -> np.ndarray:
        """A per-table-row array in event order."""
        v = np.asarray(values)
        return v if self.rows is None else v[self.rows]

    def position(self, before_s: np.ndarray) -> np.ndarray:
        """Per snapshot row: index just past the account's events with time < before_s.

        Memoised per boundary array (the builders reuse `Context.ago(days)` arrays), since the
        same window edges are looked up for several features. For a large build and an edge that
        is the as_of shifted by a fixed time (`Snapshots.before`) the events are counted per
        (account, as_of) cell instead of binary-searched row by row; both give the same index."""
        hit = self._positions.get(id(before_s))
        if hit is not None and hit[0] is before_s:
            return hit[1]
        n = len(self.snaps)
        cells = n >= GRID_ROWS and len(self.key) <= CELL_EVENTS_PER_ROW * n
        shift = self.snaps.shift_of(before_s) if cells else None
        pos = None if shift is None else self._cell_position(shift)
        if pos is None:
            # as_of and window edges lie between 1970 and 2514, inside an account's key slot
            pos = np.searchsorted(self.key, self.snaps.base + before_s, side="left")
        self._positions[id(before_s)] = (before_s, pos)
        return pos

    def _cell_position(self, shift: int) -> np.ndarray | None:
        """`position` of the edge as_of - shift for every row, from a running count of events
        per (account, as_of) cell: an event falls in the cell of the first as_of whose edge lies
        after it. None when an edge falls outside the key slots (then binary search it is)."""
        times, _ = self.snaps.grid
        edges = times - np.int64(shift)
        if not len(edges) or edges[0] < 0 or edges[-1] >= SPAN:
            return None
        n = len(edges)
        step = edges[1] - edges[0] if n > 1 else np.int64(1)
        if n > 1 and bool((np.diff(edges) == step).all()):  # a regular grid: no search
            after = self.time - edges[0]
            after //= step
            after += 1
            np.clip(after, 0, n, out=after)
        else:
            after = np.searchsorted(edges, self.time, side="right")
        after += self._cell_base  # the event's cell, in place: large builds allocate enough
        cells = np.bincount(after, minlength=len(self.snaps.ids) * (n + 1))
        return np.cumsum(cells, out=cells)[self.snaps.cell]

    @functools.cached_property
    def _cell_base(self) -> np.ndarray:
        """Each event's first cell: its account's row in the table of (account, as_of) cells."""
        return self.code * (len(self.snaps.grid[0]) + 1)

    def group_start(self) -> np.ndarray:
        """Per snapshot row: index of its account's first event."""
        if self._group_start is None:
            per_account = np.searchsorted(
                self.key, np.arange(len(self.snaps.ids), dtype=np.int64) * SPAN, side="left"
            )
            self._group_start = per_account[self.snaps.code]
        return self._group_start

    def _lo(self, start_s: np.ndarray | None) -> np.ndarray:
        return self.group_start() if start_s is None else self.position(start_s)

    def count(self, start_s: np.ndarray | None, end_s: np.ndarray) -> np.ndarray:
        """Events with start_s <= time < end_s (start None: since the beginning), as float64."""
        return np.maximum(self.position(end_s) - self._lo(start_s), 0).astype(np.float64)

    def sums(self, values: dict[str, np.ndarray]) -> Sums:
        """Window sums of some integer values given per table row (booleans count)."""
        prefix = {}
        for name, given in values.items():
            v = self.take(given)
            if v.dtype.kind not in "iub":
                raise TypeError(f"{name}: window sums need integer values, got {v.dtype}")
            running = np.zeros(len(v) + 1, dtype=np.int64)
            np.cumsum(v, out=running[1:])
            prefix[name] = running
        return Sums(self, prefix)

    def min(self, values: np.ndarray, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
        """Minimum of a per-table-row value over the window; NaN where it holds no event."""
        hi = self.position(end_s)
        lo = self.position(start_s)
        out = np.full(len(hi), np.nan)
        ok = hi > lo
        if not ok.any():
            return out
        v = np.append(self.take(values).astype(np.float64), np.inf)
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

    def last_time(self, end_s: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        """Time (seconds, float) of the account's last event before end_s, among the table rows
        `where` marks (all when None); NaN if none."""
        hi = self.position(end_s)
        if where is None:
            last = hi - 1
        else:  # per row: the index of the latest marked event before hi, -1 if none
            marked = np.flatnonzero(self.take(where))
            before = np.searchsorted(marked, hi, side="left") - 1
            last = np.where(before >= 0, marked[np.maximum(before, 0)] if len(marked) else -1, -1)
        has = last >= self.group_start()
        out = np.full(len(hi), np.nan)
        out[has] = self.time[last[has]]
        return out


def _ascending(values: np.ndarray) -> bool:
    return bool((values[1:] >= values[:-1]).all())


def _sort_order(key: np.ndarray, codes: np.ndarray, n_accounts: int) -> np.ndarray:
    """An order that sorts the keys (equal keys may land in any order: nothing depends on it).

    Exports usually list events in time order, or close to it (tickets by creation, so their
    resolutions nearly so), rarely by account. Hence: group by account first, a stable radix sort
    of 16-bit codes, which keeps each account's events in table order; then a stable sort of the
    keys, which finds those runs (timsort), if they are not in order already."""
    if n_accounts > 1 << 16:
        return np.argsort(key, kind="stable")
    by_account = np.argsort(codes.astype(np.uint16), kind="stable")
    grouped = key[by_account]
    if _ascending(grouped):
        return by_account
    return by_account[np.argsort(grouped, kind="stable")]


@dataclass
class Sums:
    """Running sums of some integer values along a timeline: a window's sum is a difference of two
    of them, exact and independent of the order of events with equal times."""

    timeline: Timeline
    prefix: dict[str, np.ndarray]  # per value: int64, one longer than the timeline, first 0

    def sum(self, name: str, start_s: np.ndarray | None, end_s: np.ndarray) -> np.ndarray:
        """Sum of a value over events with start_s <= time < end_s, as int64 (start None: since
        the beginning; windows never end before they start)."""
        running = self.prefix[name]
        return running[self.timeline.position(end_s)] - running[self.timeline._lo(start_s)]


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0 (a share or mean of nothing is undefined, not zero)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out
