"""Timeline look-ups against a plain per-snapshot loop over generated events (a differential test)."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features import windows
from features.windows import DAY, NAT, Snapshots, Timeline

N_ACCOUNTS = 3
T0 = 1_700_000_000  # seconds; events and snapshots lie within 30 days of it


def _snaps(as_of: list[int]) -> Snapshots:
    ids = np.array([f"A{i}" for i in range(N_ACCOUNTS)], dtype=object)
    t = np.array(sorted(set(as_of)), dtype=np.int64)
    code = np.repeat(np.arange(N_ACCOUNTS, dtype=np.int64), len(t))
    return Snapshots(
        account_id=ids[code],
        code=code,
        as_of=np.tile(t, N_ACCOUNTS),
        ids=ids,
        per_account=pd.DataFrame({"account_id": ids}),
    )


events = st.lists(
    st.tuples(
        st.integers(-1, N_ACCOUNTS - 1),  # account code, -1: no snapshot rows
        st.none() | st.integers(0, 30 * DAY).map(lambda s: s * 1_000_000_000 + 7),  # ns, None: NaT
        st.integers(-5, 5),  # a value
        st.booleans(),  # kept
    ),
    max_size=40,
)


@pytest.mark.parametrize("lookup", ["search", "cells"])
@settings(max_examples=60, deadline=None)
@given(rows=events, as_of=st.lists(st.integers(0, 31 * DAY), min_size=1, max_size=5))
def test_timeline_equals_a_plain_loop(lookup, rows, as_of):
    """Window edges binary-searched (small builds) or counted per cell (large ones) alike."""
    cells = lookup == "cells"
    with (
        mock.patch.object(windows, "GRID_ROWS", 0 if cells else 10**9),
        mock.patch.object(windows, "CELL_EVENTS_PER_ROW", 10**9),
    ):
        _check_timeline(rows, as_of)


def _check_timeline(rows, as_of):
    snaps = _snaps([T0 + a for a in as_of])
    code = np.array([r[0] for r in rows], dtype=np.int64)
    ns = np.array([NAT if r[1] is None else T0 * 1_000_000_000 + r[1] for r in rows], np.int64)
    value = np.array([r[2] for r in rows], dtype=np.int64)
    keep = np.array([r[3] for r in rows], dtype=bool)
    marked = value > 0
    tl = Timeline.build(snaps, code, ns, keep=keep)
    sums = tl.sums({"v": value, "marked": marked})
    end = snaps.as_of
    start = snaps.before(7 * DAY)
    got = {
        "count": tl.count(start, end),
        "count_all": tl.count(None, end),
        "sum": sums.sum("v", start, end),
        "sum_all": sums.sum("v", None, end),
        "marked": sums.sum("marked", start, end),
        "min": tl.min(value, start, end),
        "first": tl.first_time(end),
        "last": tl.last_time(end),
        "last_marked": tl.last_time(end, where=marked),
    }
    secs = ns // 1_000_000_000
    for i, (c, d) in enumerate(zip(snaps.code, end, strict=True)):
        mine = keep & (code == c) & (ns != NAT)
        before = mine & (secs < d)
        window = before & (secs >= d - 7 * DAY)
        times = secs[before]
        expect = {
            "count": window.sum(),
            "count_all": before.sum(),
            "sum": value[window].sum(),
            "sum_all": value[before].sum(),
            "marked": (window & marked).sum(),
            "min": value[window].min() if window.any() else np.nan,
            "first": secs[mine].min() if times.size else np.nan,
            "last": times.max() if times.size else np.nan,
            "last_marked": secs[before & marked].max() if (before & marked).any() else np.nan,
        }
        for name, want in expect.items():
            np.testing.assert_equal(got[name][i], want, err_msg=f"{name} at row {i}")


def test_sums_refuse_floats():
    snaps = _snaps([T0])
    tl = Timeline.build(snaps, np.zeros(1, np.int64), np.array([T0 * 10**9 - 1], np.int64))
    try:
        tl.sums({"x": np.array([0.5])})
    except TypeError as exc:
        assert "integer" in str(exc)
    else:
        raise AssertionError("float values were summed")


@pytest.mark.parametrize("weeks", [[0, 1, 2, 3, 4, 5], [0, 1, 3, 4, 9]])  # regular or not
def test_cell_positions_equal_binary_search(weeks):
    """On many accounts and as_of dates (a weekly grid, or one with gaps), counting events per
    (account, as_of) cell gives the binary search's index for every shifted edge."""
    rng = np.random.default_rng(5)
    n_acc, n_events = 40, 3000
    as_of = [T0 + 7 * DAY * w for w in weeks]
    t = np.array(as_of, dtype=np.int64)
    ids = np.array([f"A{i:02d}" for i in range(n_acc)], dtype=object)
    code = np.repeat(np.arange(n_acc, dtype=np.int64), len(t))
    snaps = Snapshots(ids[code], code, np.tile(t, n_acc), ids, pd.DataFrame({"account_id": ids}))
    codes = rng.integers(-1, n_acc, n_events)
    secs = T0 + rng.integers(-100 * DAY, 70 * DAY, n_events)
    secs[:50] = T0 + 7 * DAY * rng.integers(-20, 10, 50)  # events right on edges
    ns = np.where(rng.random(n_events) < 0.05, NAT, secs * 1_000_000_000)
    for shift in (0, DAY, 7 * DAY, 30 * DAY, 90 * DAY, -1):
        edge = snaps.before(shift)
        want = np.searchsorted(Timeline.build(snaps, codes, ns).key, snaps.base + edge, side="left")
        with mock.patch.object(windows, "GRID_ROWS", 0):
            tl = Timeline.build(snaps, codes, ns)
            got = tl._cell_position(shift)
            np.testing.assert_array_equal(tl.position(edge), want, err_msg=f"shift {shift}")
        assert got is not None
        np.testing.assert_array_equal(got, want, err_msg=f"shift {shift}")
