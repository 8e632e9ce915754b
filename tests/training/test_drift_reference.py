"""The drift reference is the training data's latest weeks, not its whole history."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from training.bundle import latest_weeks


@settings(max_examples=50, deadline=None)
@given(
    days=st.lists(st.integers(min_value=0, max_value=800), min_size=1, max_size=60),
    weeks=st.integers(min_value=1, max_value=60),
)
def test_latest_weeks_keeps_exactly_the_last_weeks(days: list[int], weeks: int) -> None:
    as_of = pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")
    frame = pd.DataFrame({"as_of": as_of, "row": range(len(days))})
    got = latest_weeks(frame, weeks)
    last = max(days)
    want = [i for i, d in enumerate(days) if d > last - 7 * weeks]
    assert got["row"].tolist() == want
    assert last in {days[i] for i in want}  # never empty: the newest snapshot is always in
