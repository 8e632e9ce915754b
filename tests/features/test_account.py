"""Account family: the export's renewal date must not tell a past snapshot about later renewals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from features.account import next_renewal_days
from features.build import build_features
from features.contract import validated

NOW = pd.Timestamp("2026-06-01", tz="UTC")
DAY = 86_400


def _history(params, renewals: list[str], terms: list[int | None] | None = None):
    n = len(renewals)
    accounts = pd.DataFrame(
        {"account_id": [f"A{i}" for i in range(n)], "name": ["a"] * n, "tier": ["business"] * n,
         "arr": [1000.0] * n, "seats": [10] * n, "contract_start": ["2023-03-01"] * n,
         "renewal_date": renewals, "csm_owner": ["c"] * n, "region": ["eu"] * n,
         "language": ["en"] * n}
    )  # fmt: skip
    if terms is not None:
        accounts["term_months"] = terms
    cols = ["ticket_id", "account_id", "created_at", "priority", "channel", "subject", "body",
            "first_response_at", "resolved_at", "status", "reopen_count", "csat",
            "sla_first_response_hours", "sla_resolution_hours"]  # fmt: skip
    tickets = pd.DataFrame(columns=cols)
    raw = {
        "accounts": accounts,
        "tickets": tickets,
        "usage": None,
        "escalations": None,
        "churn": None,
    }
    return validated(raw, params.contract, NOW)


def test_a_churner_and_a_renewer_look_the_same_before_the_churn(params):
    """A churner's export keeps the renewal it left at, a renewer's the one after the export;
    as of any earlier day both face the same next renewal, the contract's anniversary."""
    start = pd.Timestamp("2023-03-01", tz="UTC")
    left_at = start + pd.DateOffset(years=2)
    renewed = start + pd.DateOffset(years=4)
    history = _history(params, [f"{left_at:%Y-%m-%d}", f"{renewed:%Y-%m-%d}"])
    as_of = pd.date_range(pd.Timestamp("2023-04-03", tz="UTC"), left_at, freq="7D")
    frame = build_features(history, as_of, params.features).frame
    days = frame.pivot(index="as_of", columns="account_id", values="days_to_renewal")
    assert (days["A0"] == days["A1"]).all()
    next_one = [
        min(d for d in (start + pd.DateOffset(years=k) for k in (1, 2)) if d >= a)
        for a in days.index
    ]
    expected = [(d - a).days for d, a in zip(next_one, days.index, strict=True)]
    assert days["A0"].tolist() == expected


def test_an_account_that_just_renewed_renews_a_year_later_across_29_february(params):
    """Steps of 365 days drifted a day per 29 February: a contract renewed on 1 January 2024 read
    "Renewal in 1 day" that day and "Renewal today" the next, its renewal a year away."""
    history = _history(params, ["2025-01-01"])
    days = pd.to_datetime(["2023-12-31", "2024-01-01", "2024-01-02", "2024-03-01"], utc=True)
    frame = build_features(history, days, params.features).frame
    assert frame["days_to_renewal"].tolist() == [1.0, 0.0, 365.0, 306.0]


def test_a_renewal_on_a_months_last_day_steps_to_each_months_last_day(params):
    history = _history(params, ["2024-03-31"], [1])
    days = pd.to_datetime(["2024-02-01", "2024-02-29", "2024-03-01"], utc=True)
    frame = build_features(history, days, params.features).frame
    assert frame["days_to_renewal"].tolist() == [28.0, 0.0, 30.0]


def test_a_renewal_date_already_passed_stays_negative(params):
    history = _history(params, ["2024-03-01"])
    frame = build_features(history, [pd.Timestamp("2024-03-11", tz="UTC")], params.features).frame
    assert frame["days_to_renewal"].tolist() == [-10.0]


@settings(max_examples=200, deadline=None)
@given(
    as_of_day=st.integers(7000, 12000),
    ahead=st.integers(0, 5000),
    months=st.integers(1, 40),
    tenure=st.integers(0, 3000),
)
def test_next_renewal_is_the_first_anniversary_on_or_after_as_of(as_of_day, ahead, months, tenure):
    as_of = np.array([as_of_day * DAY], dtype=np.int64)
    renewal = as_of + ahead * DAY
    start = as_of - tenure * DAY
    days = next_renewal_days(renewal, as_of, months, start)[0]
    # the oracle: pandas' calendar, a term earlier at a time, while on or after as_of
    at = pd.Timestamp(int(as_of[0]), unit="s", tz="UTC")
    first = pd.Timestamp(int(renewal[0]), unit="s", tz="UTC")
    k = 0
    while first - pd.DateOffset(months=(k + 1) * months) >= at:
        k += 1
    found = first - pd.DateOffset(months=k * months)
    if k > 0 and found <= pd.Timestamp(int(start[0]), unit="s", tz="UTC"):
        found = first - pd.DateOffset(months=(k - 1) * months)  # the start is no renewal
    assert days == (found - at).days


def test_on_the_contracts_first_day_the_renewal_is_a_term_away(params):
    """Stepping back landed on the start: "Renewal in 0 days" raised churn risk 16-fold for a day."""
    history = _history(params, ["2025-01-01"])
    start = history.accounts["contract_start"].iloc[0]
    history = type(history)(
        history.accounts.assign(renewal_date=start + pd.DateOffset(years=2)),
        history.tickets, history.usage, history.escalations, history.churn,
    )  # fmt: skip
    frame = build_features(history, [start], params.features).frame
    assert frame["days_to_renewal"].tolist() == [366.0]  # 2023-03-01 to 2024-03-01


def test_the_contract_term_sets_the_renewal_schedule(params):
    """A 24-month contract renews every 24 months; a missing term is the 12-month default."""
    year = 365
    left_at = pd.Timestamp("2026-03-01", tz="UTC")
    history = _history(params, [f"{left_at:%Y-%m-%d}"] * 3, [24, None, 12])
    as_of = left_at - pd.Timedelta(days=year + 10)
    frame = build_features(history, [as_of], params.features).frame.set_index("account_id")
    assert frame["days_to_renewal"].tolist() == [year + 10.0, 10.0, 10.0]
