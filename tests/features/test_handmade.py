"""A small hand-made source whose every non-sentiment feature was worked out by hand from
docs/features.md: tickets and usage placed on window edges, around midnight UTC in other zones,
open at as_of but resolved after it, SLA breaches and near misses, CSAT given after as_of, a
usage drop with idle days, a notice ticket and a CRM notice date, churn just before and at as_of,
an escalation and a rating on the long window's edge and just beyond it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.build import build_features, full_spec
from features.sources import load_history

SOURCE = Path(__file__).parent.parent / "data" / "handmade"
AS_OF = pd.Timestamp("2026-03-30", tz="UTC")
NOW = pd.Timestamp("2026-12-07", tz="UTC")
NAN = np.nan

# fmt: off
EXPECTED = {
    "A1": {"tenure_days": 439, "days_to_renewal": 291, "tickets_7d": 4, "tickets_30d": 5,
           "tickets_90d": 7, "tickets_p1_7d": 1, "tickets_p2_30d": 2, "tickets_p3_90d": 2,
           "tickets_p4_90d": 2, "tickets_open": 3, "tickets_open_p1": 1,
           "tickets_trend": np.log(3), "tickets_reopen_rate_90d": 0.4,
           "tickets_per_seat_30d": 0.5, "tickets_first_response_hours_mean_90d": 9.8333333 / 5,
           "tickets_resolution_hours_mean_90d": 104.8,
           "sla_first_response_breaches_7d": 1, "sla_first_response_breaches_30d": 2,
           "sla_first_response_near_misses_7d": 1, "sla_first_response_near_misses_90d": 1,
           "sla_first_response_breaches_p2_30d": 1, "sla_first_response_breaches_p3_30d": 1,
           "sla_first_response_at_risk": 1, "sla_first_response_open_breached": 1,
           "sla_resolution_breaches_7d": 0, "sla_resolution_breaches_30d": 1,
           "sla_resolution_breaches_p2_30d": 1, "sla_resolution_near_misses_7d": 1,
           "sla_resolution_at_risk": 0, "sla_resolution_open_breached": 0,
           "usage_active_users_mean_7d": 4, "usage_active_users_mean_28d": 104 / 28,
           "usage_active_users_baseline": 8, "usage_active_users_pct_drop": 1 - 104 / 28 / 8,
           "usage_active_users_pct_drop_7d": 0.5, "usage_events_mean_28d": 1040 / 28,
           "usage_active_users_slope_28d": 0, "usage_active_users_zscore_7d": NAN,
           "usage_days_since_active": 0, "usage_seat_utilisation": 104 / 28 / 10,
           # T13 resolved 365 days before as_of (counted), T14 a minute earlier (not)
           "csat_mean_365d": 3.8, "csat_count_365d": 5, "csat_low_count_365d": 1,
           "csat_mean_90d": 3.5,
           # E5 opened 365 days before as_of (counted), E6 an hour earlier (not)
           "escalations_365d": 1, "escalations_90d": 0, "escalations_days_since_last": 365,
           "escalations_open": 0, "escalations_unacknowledged": 0,
           "notice_tickets_90d": 0, "notice_days_since": NAN},
    "A2": {"tenure_days": 302, "days_to_renewal": 63, "tickets_7d": 1, "tickets_30d": 2,
           "tickets_open": 1, "tickets_trend": np.log(3), "tickets_reopen_rate_90d": 0,
           "tickets_first_response_hours_mean_90d": 2, "tickets_resolution_hours_mean_90d": 50,
           "sla_first_response_breaches_7d": 1, "sla_first_response_open_breached": 1,
           "sla_resolution_at_risk": 0, "usage_active_users_mean_7d": 0.6,
           "usage_events_mean_28d": 1, "usage_active_users_baseline": NAN,
           "usage_active_users_pct_drop": NAN, "usage_active_users_slope_28d": -1,
           "usage_days_since_active": 3, "usage_seat_utilisation": 0.12, "csat_mean_365d": 1,
           "escalations_365d": 3, "escalations_90d": 2, "escalations_days_since_last": 1.5,
           "escalations_open": 1, "escalations_unacknowledged": 1, "notice_tickets_90d": 1,
           "notice_days_since": 1},
    "A3": {"tenure_days": 88, "days_to_renewal": 276, "tickets_90d": 0, "tickets_trend": 0,
           "tickets_reopen_rate_90d": NAN, "sentiment_mean_30d": NAN, "csat_count_365d": 0,
           "csat_mean_365d": NAN, "usage_active_users_mean_28d": NAN, "escalations_365d": 0},
    "A5": {"tenure_days": 453, "days_to_renewal": 277},  # churned at as_of: still a row
}
# fmt: on


@pytest.fixture(scope="module")
def frame(params) -> pd.DataFrame:
    history = load_history(str(SOURCE), params.contract, NOW)
    fs = build_features(history, [AS_OF], params.features, spec=full_spec(params.features))
    return fs.frame.set_index("account_id")


def test_rows_are_the_accounts_active_at_as_of(frame):
    # A4 churned the day before, A6 starts the day after
    assert list(frame.index) == ["A1", "A2", "A3", "A5"]


@pytest.mark.parametrize("account", sorted(EXPECTED))
def test_features_are_what_the_docs_define(frame, account):
    row = frame.loc[account]
    for name, want in EXPECTED[account].items():
        assert row[name] == pytest.approx(want, nan_ok=True, abs=1e-6), name


def without_first_responses(params):
    """The hand-made source as an import without response times gives it (Salesforce without
    CaseMilestone): no ticket has a first_response_at."""
    history = load_history(str(SOURCE), params.contract, NOW)
    tickets = history.tickets.assign(first_response_at=pd.NaT)
    return dataclasses.replace(history, tickets=tickets)


def test_no_first_response_at_all_leaves_the_first_response_sla_features_out(params):
    """Every ticket read as a first-response breach at its deadline: breaches that never
    happened, taught to the model and told to the CSM as a reason."""
    from features.context import Absence

    fs = build_features(without_first_responses(params), [AS_OF], params.features)
    why = Absence("column_empty", "tickets", "first_response_at")
    assert fs.unavailable == {"sla.first_response": why}
    assert not [n for n in fs.spec.names if n.startswith("sla_first_response_")]
    row = fs.frame.set_index("account_id").loc["A1"]
    assert row["sla_resolution_breaches_30d"] == 1  # the resolution half stays
    assert row["tickets_30d"] == 5
