"""Labels: an event in [as_of, as_of + horizon), NaN when the horizon runs past its table's end."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from training.labels import add_labels, data_end, label_ends, label_notes

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
    as_of = T0 + as_of_day * DAY
    frame = pd.DataFrame({"account_id": ["A", "B"], "as_of": [as_of, as_of]})
    out = add_labels(frame, history, _table_rule(params.labels))
    h_e, h_c = params.labels.escalation_days * DAY, params.labels.churn_days * DAY
    a, b = out.iloc[0], out.iloc[1]
    # each table ends at its own latest event (labels.*_until: table); without one, it is unknown
    esc_end = T0 + max(esc_days) * DAY if esc_days else None
    churn_end = T0 + churn_day * DAY if churn_day is not None else None
    if esc_end is None or as_of + h_e > esc_end:
        assert np.isnan(a["escalation_30d"]) and np.isnan(b["escalation_30d"])
    else:
        assert a["escalation_30d"] == float(
            any(as_of <= T0 + d * DAY < as_of + h_e for d in esc_days)
        )
        assert b["escalation_30d"] == 0.0
    if churn_end is None or as_of + h_c > churn_end:
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
    out = add_labels(frame, history, params.labels)
    assert out[["escalation_30d", "churn_90d"]].isna().all().all()


def test_data_end_is_the_latest_event(params):
    history = _history([3], 50)
    assert data_end(history) == T0 + 200 * DAY


def _table_rule(labels):
    """Both tables ended at their own latest event (labels.*_until: table)."""
    return labels.model_copy(update={"escalations_until": "table", "churn_until": "table"})


def test_auto_ends_a_table_at_its_latest_event_only_when_its_pace_says_it_was_cut(params):
    """`auto` (the default): escalations every 2 days until day 100, then none to day 200 (the
    tickets run on): 50 expected, cut; churn on days 20, 100 and 170 of 200: about one
    expected in the 30 quiet days, not cut, so the newest churn labels stay."""
    history = _history(list(range(0, 101, 2)), None)
    churn = pd.DataFrame({"account_id": ["A", "B", "A"], "churned_at": pd.Series(
        [T0 + d * DAY for d in (20, 100, 170)], dtype="datetime64[ns, UTC]")})  # fmt: skip
    from dataclasses import replace

    history = replace(history, churn=churn)
    assert params.labels.escalations_until == "auto" == params.labels.churn_until
    ends = label_ends(history, params.labels)
    assert ends["escalation_30d"].end == T0 + 100 * DAY
    assert ends["churn_90d"].end == T0 + 200 * DAY
    frame = _weekly(200)
    out = add_labels(frame, history, params.labels)
    assert out["churn_90d"].notna().sum() == ((frame["as_of"] + 90 * DAY) <= T0 + 200 * DAY).sum()
    notes = label_notes(out, ends, {"escalation_30d": 30, "churn_90d": 90}, "params.yaml")
    early = [n for n in notes if n.key == "ends_early"]
    assert [n.values["target"] for n in early] == ["escalation_30d"]
    # one event tells no pace: its own latest event, as `table`
    lone = replace(history, escalations=history.escalations.iloc[:1])
    assert label_ends(lone, params.labels)["escalation_30d"].end == T0


def _weekly(days: int) -> pd.DataFrame:
    as_of = [T0 + d * DAY for d in range(0, days, 7)]
    return pd.DataFrame({"account_id": "A", "as_of": pd.Series(as_of, dtype="datetime64[ns, UTC]")})


def test_a_table_ending_early_leaves_its_later_snapshots_unlabeled(params):
    """The escalations export ends on day 60, the tickets run to day 200: the snapshots whose 30
    days reach past day 60 are unknown, not "no escalation"; the churn table is not cut by it."""
    history = _history([10, 60], 190)
    frame = _weekly(200)
    out = add_labels(frame, history, _table_rule(params.labels))
    horizon_end = frame["as_of"] + params.labels.escalation_days * DAY
    esc = out["escalation_30d"]
    assert esc[horizon_end > T0 + 60 * DAY].isna().all()
    assert esc[horizon_end <= T0 + 60 * DAY].notna().all()
    assert out["churn_90d"].notna().sum() == ((frame["as_of"] + 90 * DAY) <= T0 + 190 * DAY).sum()

    ends = label_ends(history, _table_rule(params.labels))
    assert ends["escalation_30d"].end == T0 + 60 * DAY
    notes = label_notes(out, ends, {"escalation_30d": 30}, "params.yaml")
    unlabeled = int(esc.isna().sum())
    assert any(n.key == "unlabeled" and n.values["n"] == unlabeled for n in notes)
    early = [n for n in notes if n.key == "ends_early"]
    # the snapshots the data's end (day 200) would have labelled 0 though the table is silent
    assert early and early[0].values["n"] == int(
        ((horizon_end > T0 + 60 * DAY) & (horizon_end <= T0 + 200 * DAY)).sum()
    )


def test_a_table_end_can_be_declared(params):
    """`source`: the table is exported with the rest (the data's end); a date: the day it was
    extracted, never before its own latest event nor after the data's end."""
    history = _history([10, 60], 190)
    frame = _weekly(200)
    h = params.labels.escalation_days * DAY
    horizon_end = frame["as_of"] + h
    cases = {"source": T0 + 200 * DAY, dt.date(2024, 4, 30): pd.Timestamp("2024-04-30", tz="UTC"),
             dt.date(2024, 1, 20): T0 + 60 * DAY, dt.date(2030, 1, 1): T0 + 200 * DAY}  # fmt: skip
    for rule, end in cases.items():
        labels = params.labels.model_copy(update={"escalations_until": rule})
        assert label_ends(history, labels)["escalation_30d"].end == end, rule
        esc = add_labels(frame, history, labels)["escalation_30d"]
        assert esc[horizon_end <= end].notna().all() and esc[horizon_end > end].isna().all(), rule


def test_a_table_without_events_gives_no_labels_and_says_why(params):
    history = _history([], 190)
    frame = _weekly(200)
    out = add_labels(frame, history, params.labels)
    assert out["escalation_30d"].isna().all()
    notes = label_notes(out, label_ends(history, params.labels), {"escalation_30d": 30}, "p.yaml")
    assert [n.key for n in notes] == ["no_table_events"]


def test_a_raise_of_an_escalation_open_at_as_of_is_no_new_escalation(params):
    """An importer writes each priority raise (or reassignment up a level) of a ticket as a row
    of its own: T-1 escalated on day 5, raised again on day 20 while still open, both closed on
    day 50 (the ticket resolved), escalated anew on day 70. A snapshot on day 10 saw the
    escalation open: the raise on day 20 is no coming escalation; the one on day 70, after the
    close, is. A raise on another ticket and one without a ticket are each new."""
    from dataclasses import replace

    history = _history([5, 20, 70, 200], None)
    closed = [T0 + 50 * DAY, T0 + 50 * DAY, T0 + 80 * DAY, pd.NaT]
    esc = history.escalations.assign(
        ticket_id=["T-1", "T-1", "T-1", "T-2"], closed_at=pd.Series(closed, dtype="datetime64[ns, UTC]")
    )  # fmt: skip
    days = [0, 10, 45, 60, 100]
    frame = pd.DataFrame({"account_id": "A", "as_of": [T0 + d * DAY for d in days]})

    def labels(e: pd.DataFrame) -> list[float]:
        return add_labels(frame, replace(history, escalations=e), params.labels)[
            "escalation_30d"
        ].tolist()

    assert labels(esc) == [1.0, 0.0, 1.0, 1.0, 0.0]
    assert labels(esc.assign(ticket_id=["T-1", "T-2", None, "T-2"])) == [1.0, 1.0, 1.0, 1.0, 0.0]
    # the raise on day 20 never closed: day 70 raises an escalation still open, no new one
    never = esc.assign(closed_at=esc["closed_at"].where(esc.index != 1))
    assert labels(never) == [1.0, 0.0, 0.0, 0.0, 0.0]
