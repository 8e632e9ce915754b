"""The report's escalation KPIs on a hand-made history: definitions, point in time, open cases."""

from __future__ import annotations

import pandas as pd
import pytest

from features.contract import History
from serving.historykpis import history_kpis
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
    return History(accounts=pd.DataFrame({"account_id": list("ABCDE")}), tickets=tickets,
                   escalations=escalations)  # fmt: skip


@pytest.fixture
def kpis():
    bench = BenchmarkHoursParams(first_response=24, resolution=72)
    return history_kpis(history(), AS_OF, 5, 90, 14, bench)


def test_the_rate_is_the_share_of_accounts_that_escalated(kpis):
    assert kpis.escalations == 4 and kpis.accounts_escalated == 3
    assert kpis.escalation_rate == pytest.approx(3 / 5)  # not 4 / 5 escalations per account
    assert kpis.escalations_per_account == pytest.approx(4 / 3)


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
