"""The ladder's account facts, counted for all accounts at once, equal a per-account count."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from serving.facts import account_facts


def naive_renewal(row, as_of: pd.Timestamp) -> int | None:
    """The export's renewal date as it stands; None once passed (a stale export)."""
    if pd.isna(row["renewal_date"]) or row["renewal_date"] < as_of:
        return None
    return int((row["renewal_date"] - as_of).days)


def naive(history, as_of: pd.Timestamp, aid: str, params=None) -> dict:
    t = history.tickets[history.tickets["account_id"] == aid]
    known = t[t["created_at"] < as_of]
    open_ = known[known["resolved_at"].isna() | (known["resolved_at"] >= as_of)]
    deadline = open_["created_at"] + pd.to_timedelta(open_["sla_resolution_hours"], unit="h")
    past = open_[deadline < as_of]
    row = history.accounts.set_index("account_id").loc[aid]
    return {
        "arr": float(row["arr"]),
        "tier": str(row["tier"]),
        "seats": int(row["seats"]),
        "days_to_renewal": naive_renewal(row, as_of),
        "open_p1": int((open_["priority"] == "P1").sum()),
        "open_p2": int((open_["priority"] == "P2").sum()),
        "open_p1_past_sla": int((past["priority"] == "P1").sum()),
        "open_p2_past_sla": int((past["priority"] == "P2").sum()),
        "language": str(row["language"]),
        "csm_owner": row["csm_owner"],
        "name": row["name"],
    }


@pytest.mark.parametrize("days_back", [0, 20, 75])
def test_facts_equal_a_per_account_count(make_history, params, days_back):
    # 80 accounts: open P1/P2 tickets at the world's end are rare (hours to resolve), and 40
    # accounts' worth of them depends on the draw (none with seed 5 once notice tickets exist)
    history = make_history(80, 5)
    as_of = pd.Timestamp(params.simulation.end_date, tz="UTC") - pd.Timedelta(days=days_back)
    facts = account_facts(history, as_of, params.features)
    assert list(facts) == history.accounts["account_id"].tolist()
    for aid, f in facts.items():
        assert dataclasses.asdict(f) == naive(history, as_of, aid, params), aid
    if days_back == 0:  # not vacuous: the world ends with open tickets
        assert sum(f.open_p1 + f.open_p2 for f in facts.values()) > 0


def test_facts_of_one_account_without_tickets(make_history, params):
    history = make_history(40, 5)
    one = history.accounts.iloc[:1]
    empty = history.tickets.iloc[:0]
    h = type(history)(one, empty, None, None, None)
    as_of = pd.Timestamp(params.simulation.end_date, tz="UTC")
    (f,) = account_facts(h, as_of, params.features).values()
    assert (f.open_p1, f.open_p2, f.open_p1_past_sla, f.open_p2_past_sla) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "hours",
    [[], [1.5, float("nan"), 24.0, 1e-9, 1 / 3, 1e6, 7.123456789], [0.1 * i for i in range(500)]],
)
def test_sla_hours_convert_as_to_timedelta_does(hours):
    """To the nanosecond, give or take a few (pandas splits whole and fractional hours)."""
    from features.businesstime import deadlines

    h = np.array(hours, dtype=np.float64)
    want = pd.to_timedelta(h, unit="h").to_numpy().view(np.int64)
    got = deadlines(np.zeros(len(h), dtype=np.int64), h, None)  # clock hours from the epoch
    nat = np.iinfo(np.int64).min
    assert ((got == nat) == (want == nat)).all()
    assert np.abs(got[got != nat] - want[want != nat]).max(initial=0) <= 10


def test_the_first_two_priorities_count_whatever_a_helpdesk_calls_them(make_history, params):
    """Renamed priorities (urgent, high, ...) switched the P1/P2 rules and urgency off."""
    history = make_history(40, 5)
    as_of = pd.Timestamp(params.simulation.end_date, tz="UTC")
    names = dict(zip(params.features.priorities, ["urgent", "high", "normal", "low"], strict=True))
    renamed = type(history)(
        history.accounts,
        history.tickets.assign(priority=history.tickets["priority"].map(names)),
        history.usage,
        history.escalations,
        history.churn,
    )
    fp = params.features.model_copy(update={"priorities": ("urgent", "high", "normal", "low")})
    assert account_facts(renamed, as_of, fp) == account_facts(history, as_of, params.features)


@pytest.mark.parametrize(
    ("as_of", "days"),
    [
        (
            "2026-06-20",
            731,
        ),  # a two-year deal (2028 is a leap year): today's facts, not an assumed 12-month term
        ("2027-06-21", 365),
        ("2028-06-20", 0),  # the renewal day itself
        ("2028-07-01", None),  # the export's date has passed: unknown, not imminent
    ],
)
def test_days_to_renewal_are_the_exports_and_a_passed_date_is_unknown(
    make_history, params, as_of, days
):
    history = make_history(40, 5)
    one = history.accounts.iloc[:1].assign(
        contract_start=pd.Timestamp("2026-06-20", tz="UTC"),
        renewal_date=pd.Timestamp("2028-06-20", tz="UTC"),
    )
    h = type(history)(one, history.tickets.iloc[:0], None, None, None)
    (f,) = account_facts(h, pd.Timestamp(as_of, tz="UTC"), params.features).values()
    assert f.days_to_renewal == days
