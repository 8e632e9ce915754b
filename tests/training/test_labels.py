"""Labels: an event in [as_of, as_of + horizon), NaN when the horizon runs past the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from training.labels import add_labels, data_end

DAY = pd.Timedelta(days=1)
T0 = pd.Timestamp("2024-01-01", tz="UTC")


def _history(esc_days, churn_day):
    from features.contract import History

    accounts = pd.DataFrame({"account_id": ["A", "B"]})
    esc = pd.DataFrame(
        {"escalation_id": [f"E{i}" for i in range(len(esc_days))], "account_id": "A",
         "opened_at": pd.Series([T0 + d * DAY for d in esc_days], dtype="datetime64[ns, UTC]")}
    )  # fmt: skip
    for col in ("acknowledged_at", "closed_at"):
        esc[col] = pd.Series([pd.NaT] * len(esc), dtype="datetime64[ns, UTC]")
    churn = pd.DataFrame(
        {"account_id": ["B"] if churn_day is not None else [],
         "churned_at": pd.Series([T0 + churn_day * DAY] if churn_day is not None else [], dtype="datetime64[ns, UTC]")}
    )  # fmt: skip
    tickets = pd.DataFrame(
        {"account_id": ["A"], "created_at": [T0],
         "first_response_at": pd.Series([pd.NaT], dtype="datetime64[ns, UTC]"), "resolved_at": [T0 + 200 * DAY]}
    )  # fmt: skip
    return History(accounts=accounts, tickets=tickets, escalations=esc, churn=churn)


@settings(max_examples=40, deadline=None)
@given(
    esc_days=st.lists(st.integers(0, 199), max_size=5),
    churn_day=st.none() | st.integers(1, 199),
    as_of_day=st.integers(0, 199),
)
def test_labels_match_their_definition(params, esc_days, churn_day, as_of_day):
    history = _history(esc_days, churn_day)
    end = data_end(history)
    as_of = T0 + as_of_day * DAY
    frame = pd.DataFrame({"account_id": ["A", "B"], "as_of": [as_of, as_of]})
    out = add_labels(frame, history, params.labels, end)
    h_e, h_c = params.labels.escalation_days * DAY, params.labels.churn_days * DAY
    a, b = out.iloc[0], out.iloc[1]
    if as_of + h_e > end:
        assert np.isnan(a["escalation_30d"]) and np.isnan(b["escalation_30d"])
    else:
        assert a["escalation_30d"] == float(
            any(as_of <= T0 + d * DAY < as_of + h_e for d in esc_days)
        )
        assert b["escalation_30d"] == 0.0
    if as_of + h_c > end:
        assert np.isnan(b["churn_90d"])
    else:
        assert b["churn_90d"] == float(
            churn_day is not None and as_of <= T0 + churn_day * DAY < as_of + h_c
        )
    assert list(frame.columns) == ["account_id", "as_of"]  # the input is not changed


def test_absent_tables_leave_labels_unknown(params):
    from dataclasses import replace

    history = replace(_history([5], None), escalations=None, churn=None)
    frame = pd.DataFrame({"account_id": ["A"], "as_of": [T0]})
    out = add_labels(frame, history, params.labels, data_end(history))
    assert out[["escalation_30d", "churn_90d"]].isna().all().all()


def test_data_end_is_the_latest_event(params):
    history = _history([3], 50)
    assert data_end(history) == T0 + 200 * DAY
