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


def test_the_reference_leaves_the_test_window_out(synthetic, horizons, model_params, small_eval):
    """The reference is what the model saw (train and validation windows): a test window whose
    inputs moved far away must not widen its bins, and no row from the test window counts."""
    from training.experiment import run_experiment
    from training.job import TrainOutcome, drift_reference
    from training.pipeline import Labelled
    from training.split import Split

    frame, spec = synthetic
    split = Split(
        train_end=pd.Timestamp("2023-09-01", tz="UTC"),
        validation_end=pd.Timestamp("2024-01-01", tz="UTC"),
        test_end=None,
        chosen_automatically=False,
    )
    test = frame["as_of"] >= split.validation_end
    moved = frame.assign(tickets_30d=frame["tickets_30d"].where(~test, frame["tickets_30d"] + 1e3))
    ex = run_experiment(moved, spec, horizons, split, model_params, small_eval)
    outcome = TrainOutcome(Labelled(moved, spec, {}, moved["as_of"].max()), ex, dict(horizons))

    ref = drift_reference(outcome, bins=10, weeks=13)

    assert max(ref["features"]["tickets_30d"]["edges"]) < 100
    # the latest 13 weeks before the validation window of the shortest horizon ends, every account
    seen = frame["as_of"] + pd.Timedelta(days=min(horizons.values())) <= split.validation_end
    last = frame.loc[seen, "as_of"].max()
    want = seen & (frame["as_of"] > last - pd.Timedelta(weeks=13))
    assert ref["rows"] == int(want.sum())
