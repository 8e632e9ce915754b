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
    as of any earlier day both face the same next renewal."""
    cycle = params.features.account.renewal_cycle_days
    start = pd.Timestamp("2023-03-01", tz="UTC")
    left_at = start + pd.Timedelta(days=2 * cycle)
    renewed = start + pd.Timedelta(days=4 * cycle)
    history = _history(params, [f"{left_at:%Y-%m-%d}", f"{renewed:%Y-%m-%d}"])
    as_of = pd.date_range(pd.Timestamp("2023-04-03", tz="UTC"), left_at, freq="7D")
    frame = build_features(history, as_of, params.features).frame
    days = frame.pivot(index="as_of", columns="account_id", values="days_to_renewal")
    assert (days["A0"] == days["A1"]).all()
    expected = (left_at - days.index).days.to_numpy() % cycle
    assert np.array_equal(days["A0"].to_numpy(), expected.astype(float))


def test_a_renewal_date_already_passed_stays_negative(params):
    history = _history(params, ["2024-03-01"])
    frame = build_features(history, [pd.Timestamp("2024-03-11", tz="UTC")], params.features).frame
    assert frame["days_to_renewal"].tolist() == [-10.0]


@settings(max_examples=200, deadline=None)
@given(
    as_of_day=st.integers(0, 5000),
    ahead=st.integers(0, 5000),
    cycle=st.integers(1, 1200),
    tenure=st.integers(0, 3000),
)
def test_next_renewal_is_within_one_cycle_and_on_the_schedule(as_of_day, ahead, cycle, tenure):
    as_of = np.array([as_of_day * DAY], dtype=np.int64)
    renewal = as_of + ahead * DAY
    start = as_of - tenure * DAY
    days = next_renewal_days(renewal, as_of, cycle, start)[0]
    assert 0 <= days <= ahead and (ahead - days) % cycle == 0
    # the first on or after as_of, unless that is the contract's start: then the one after
    assert days < cycle or (tenure == 0 and days == cycle)
    assert tenure > 0 or days > 0 or ahead == 0


def test_on_the_contracts_first_day_the_renewal_is_a_term_away(params):
    """Stepping back landed on the start: "Renewal in 0 days" raised churn risk 16-fold for a day."""
    history = _history(params, ["2025-01-01"])
    start = history.accounts["contract_start"].iloc[0]
    history = type(history)(
        history.accounts.assign(renewal_date=start + pd.Timedelta(days=730)),
        history.tickets, history.usage, history.escalations, history.churn,
    )  # fmt: skip
    frame = build_features(history, [start], params.features).frame
    assert frame["days_to_renewal"].tolist() == [365.0]


def test_the_contract_term_sets_the_renewal_schedule(params):
    """A 24-month contract renews every 24 months; a missing term is the 12-month default."""
    year = params.features.account.renewal_cycle_days
    left_at = pd.Timestamp("2026-03-01", tz="UTC")
    history = _history(params, [f"{left_at:%Y-%m-%d}"] * 3, [24, None, 12])
    as_of = left_at - pd.Timedelta(days=year + 10)
    frame = build_features(history, [as_of], params.features).frame.set_index("account_id")
    assert frame["days_to_renewal"].tolist() == [year + 10.0, 10.0, 10.0]
