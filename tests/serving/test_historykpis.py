"""The report's escalation KPIs on a hand-made history: definitions, point in time, open cases."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.contract import History
from serving.historykpis import _after_escalation, history_kpis
from serving.params import BenchmarkHoursParams

AS_OF = pd.Timestamp("2025-06-30", tz="UTC")
H = pd.Timedelta(hours=1)


def _t(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def history() -> History:
    nat = pd.NaT
    escalations = pd.DataFrame(
        {
            "escalation_id": ["E1", "E2", "E3", "E4"],
            "account_id": ["A", "A", "B", "C"],
            "opened_at": [
                _t("2025-06-01"),
                _t("2025-06-10"),
                _t("2025-06-20"),
                _t("2025-06-29 20:00"),
            ],
            # E1 fast, E2 slow, E3 never acknowledged and open for 10 days, E4 open for 4 hours
            "acknowledged_at": [_t("2025-06-01 02:00"), _t("2025-06-12"), nat, nat],
            "closed_at": [_t("2025-06-02"), _t("2025-06-20"), nat, nat],
        }
    )
    tickets = pd.DataFrame(
        {
            "ticket_id": ["T1", "T2", "T3"],
            "account_id": ["A", "B", "C"],
            "created_at": [_t("2025-06-03"), _t("2025-06-05"), _t("2025-06-25")],
            # T3 is rated, but resolved only after the day: its rating is not known yet
            "resolved_at": [_t("2025-06-04"), _t("2025-06-06"), _t("2025-07-02")],
            "csat": [2.0, 4.0, 1.0],
        }
    )
    accounts = pd.DataFrame({"account_id": list("ABCDE"), "contract_start": _t("2024-01-01")})
    return History(accounts=accounts, tickets=tickets, escalations=escalations)


@pytest.fixture
def kpis():
    bench = BenchmarkHoursParams(first_response=24, resolution=72)
    return history_kpis(history(), AS_OF, 90, 14, bench)


def test_the_rate_is_the_share_of_accounts_that_escalated(kpis):
    assert kpis.escalations == 4 and kpis.accounts_escalated == 3
    assert kpis.escalation_rate == pytest.approx(3 / 5)  # not 4 / 5 escalations per account
    assert kpis.escalations_per_account == pytest.approx(4 / 3)


def test_the_rate_counts_the_accounts_of_the_window_not_of_the_day():
    """An account that escalated and then churned in the window is in the numerator: it must be
    in the denominator too (the accounts active on the day left it out). One that churned before
    the window, or starts after the day, is in neither."""
    h = history()
    accounts = pd.concat(
        [
            h.accounts,
            pd.DataFrame(
                {
                    "account_id": ["F", "G", "H"],
                    "contract_start": [_t("2024-01-01"), _t("2024-01-01"), _t("2025-07-05")],
                }
            ),
        ],
        ignore_index=True,
    )
    f = pd.DataFrame(
        {
            "escalation_id": ["E5"],
            "account_id": ["F"],
            "opened_at": [_t("2025-05-01")],
            "acknowledged_at": [_t("2025-05-01 01:00")],
            "closed_at": [_t("2025-05-02")],
        }
    )
    churn = pd.DataFrame(
        {"account_id": ["F", "G"], "churned_at": [_t("2025-05-20"), _t("2025-01-01")]}
    )
    h = History(
        accounts=accounts,
        tickets=h.tickets,
        escalations=pd.concat([h.escalations, f], ignore_index=True),
        churn=churn,
    )
    bench = BenchmarkHoursParams(first_response=24, resolution=72)
    k = history_kpis(h, AS_OF, 90, 14, bench)
    assert k.active_accounts == 6  # A-E and F (churned in the window); not G, not H
    assert k.accounts_escalated == 4 and k.escalation_rate == pytest.approx(4 / 6)


def test_open_escalations_past_a_benchmark_count_as_misses(kpis):
    # first response: E1 2 h (hit), E2 48 h (miss), E3 unacknowledged for 10 days (miss);
    # E4 is 4 hours old: not yet known either way
    assert kpis.first_response_within == pytest.approx(1 / 3)
    # resolution: E1 24 h (hit), E2 10 days (miss), E3 open for 10 days (miss); E4 unknown
    assert kpis.resolution_within == pytest.approx(1 / 3)
    assert sorted(kpis.resolution_hours) == [24.0, 240.0]  # medians from closed cases only


def test_ratings_count_once_they_are_known(kpis):
    assert kpis.csat_all == pytest.approx(3.0)  # T1 and T2; T3 resolved after the day
    assert kpis.csat_after == pytest.approx(2.0)  # T1, two days after A's escalation E1


def test_a_rating_of_a_ticket_never_resolved_is_not_known():
    """The features count a rating from its ticket's resolution (a ticket open at D has no CSAT
    yet, `history_at` blanks it): the KPIs counted the rating of a ticket not resolved at all
    (reopened since it was rated, say), given at some time the export does not tell, also in a
    report of a past day."""
    h = history()
    open_rated = pd.DataFrame(
        {
            "ticket_id": ["T6"],
            "account_id": ["A"],
            "created_at": [_t("2025-06-04")],
            "resolved_at": pd.Series([pd.NaT], dtype="datetime64[ns, UTC]"),
            "csat": [5.0],
        }
    )
    h = History(
        accounts=h.accounts,
        tickets=pd.concat([h.tickets, open_rated], ignore_index=True),
        escalations=h.escalations,
    )
    k = history_kpis(h, AS_OF, 90, 14, BenchmarkHoursParams(first_response=24, resolution=72))
    assert k.csat_all == pytest.approx(3.0)  # T1 and T2, as before
    assert k.csat_after == pytest.approx(2.0)


def test_an_escalation_before_the_window_still_reaches_the_tickets_after_it():
    # window 30 days: since = 2025-05-31; E0 opened 10 days before it reaches a ticket of the
    # window's first days (within 14 days), E-1 opened 15 days before it does not
    h = history()
    early = pd.DataFrame(
        {
            "escalation_id": ["E0", "E-1"],
            "account_id": ["D", "E"],
            "opened_at": [_t("2025-05-21"), _t("2025-05-16")],
            "acknowledged_at": [_t("2025-05-21 01:00"), _t("2025-05-16 01:00")],
            "closed_at": [_t("2025-05-22"), _t("2025-05-17")],
        }
    )
    rated = pd.DataFrame(
        {
            "ticket_id": ["T4", "T5"],
            "account_id": ["D", "E"],
            "created_at": [_t("2025-06-01"), _t("2025-05-31 00:00")],
            "resolved_at": [_t("2025-06-02"), _t("2025-06-02")],
            "csat": [5.0, 1.0],
        }
    )
    h = History(
        accounts=h.accounts,
        tickets=pd.concat([h.tickets, rated], ignore_index=True),
        escalations=pd.concat([h.escalations, early], ignore_index=True),
    )
    bench = BenchmarkHoursParams(first_response=24, resolution=72)
    k = history_kpis(h, AS_OF, 30, 14, bench)
    # T1 (2.0, after E1) and T4 (5.0, 11 days after E0); T5 is 15 days after E-1: not after
    assert k.csat_after == pytest.approx(3.5)


@settings(max_examples=60, deadline=None)
@given(
    tickets=st.lists(st.tuples(st.sampled_from("ABC"), st.integers(0, 40)), max_size=12),
    opened=st.lists(st.tuples(st.sampled_from("ABCD"), st.integers(0, 40)), max_size=8),
    days=st.integers(1, 10),
)
def test_tickets_after_an_escalation_are_those_within_days_of_any_of_their_accounts(
    tickets, opened, days
):
    """The as-of join picks what pairing every ticket with every escalation of its account
    picks, each ticket once (ties included: a ticket opened with the escalation is after it)."""
    day0 = _t("2025-06-01")
    t = pd.DataFrame(
        {
            "ticket_id": [f"T{i}" for i in range(len(tickets))],
            "account_id": [a for a, _ in tickets],
            "created_at": pd.to_datetime(
                [day0 + d * pd.Timedelta(days=1) for _, d in tickets], utc=True
            ),
            "csat": [float(i % 5 + 1) for i in range(len(tickets))],
        }
    )
    e = pd.DataFrame(
        {
            "account_id": [a for a, _ in opened],
            "opened_at": pd.to_datetime(
                [day0 + d * pd.Timedelta(days=1) for _, d in opened], utc=True
            ),
        }
    )
    span = pd.Timedelta(days=days)
    expected = {
        tid
        for tid, a, c in zip(t["ticket_id"], t["account_id"], t["created_at"], strict=True)
        if any(
            a == b and o <= c < o + span
            for b, o in zip(e["account_id"], e["opened_at"], strict=True)
        )
    }
    got = _after_escalation(t, e, days)
    assert sorted(got["ticket_id"]) == sorted(expected)
    assert got["ticket_id"].is_unique


def test_each_weekly_bar_counts_a_whole_week_ending_on_the_day():
    # the weeks were counted from the window's start: with 90 days the newest bar held 6 days
    # and drew a fall in the week that matters most
    bench = BenchmarkHoursParams(first_response=24, resolution=72)
    k = history_kpis(history(), AS_OF, 90, 14, bench)
    starts = list(k.weekly.index)
    assert len(starts) == 12
    assert starts[-1] == AS_OF - pd.Timedelta(days=7)
    assert all(b - a == pd.Timedelta(days=7) for a, b in zip(starts, starts[1:], strict=False))
    # E3 (06-20) and E4 (06-29 20:00) fall in the last two weeks, E1 and E2 before them
    assert k.weekly.iloc[-1] == 1 and k.weekly.iloc[-2] == 1 and k.weekly.sum() == 4
