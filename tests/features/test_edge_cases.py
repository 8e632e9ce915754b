"""Edge cases with defined results: no tickets, no usage, one day of history, same-second
resolution, DST offsets in the source, as_of before the account's start."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from features.build import build_features, full_spec
from features.contract import validated

NOW = pd.Timestamp("2024-12-01", tz="UTC")


def _raw(tickets: list[dict], usage: list[dict] | None = None, start: str = "2024-01-01") -> dict:
    accounts = pd.DataFrame(
        {"account_id": ["A"], "name": ["a"], "tier": ["business"], "arr": [1000.0], "seats": [10],
         "contract_start": [start], "renewal_date": ["2025-06-01"], "csm_owner": ["c"],
         "region": ["eu"], "language": ["de"]}
    )  # fmt: skip
    base = {"channel": "email", "subject": "Frage", "body": "", "first_response_at": None,
            "resolved_at": None, "status": "open", "reopen_count": 0, "csat": None,
            "sla_first_response_hours": None, "sla_resolution_hours": None, "priority": "P2"}  # fmt: skip
    rows = [{**base, "ticket_id": f"T{i}", "account_id": "A", **t} for i, t in enumerate(tickets)]
    cols = list(base) + ["ticket_id", "account_id", "created_at"]
    return {
        "accounts": accounts,
        "tickets": pd.DataFrame(rows, columns=cols),
        "usage": None
        if usage is None
        else pd.DataFrame(usage, columns=["account_id", "date", "active_users", "events"]),
        "escalations": None,
        "churn": None,
    }


def _row(params, raw, as_of: str) -> pd.Series:
    history = validated(raw, params.contract, NOW)
    fs = build_features(
        history, [pd.Timestamp(as_of, tz="UTC")], params.features, spec=full_spec(params.features)
    )
    assert len(fs.frame) == 1
    return fs.frame.iloc[0]


def test_no_tickets_gives_zero_counts_and_undefined_means(params):
    row = _row(params, _raw([]), "2024-03-01")
    assert (
        row["tickets_30d"] == 0
        and row["tickets_open"] == 0
        and row["sla_resolution_breaches_30d"] == 0
    )
    assert np.isnan(row["sentiment_mean_30d"]) and np.isnan(row["csat_mean_365d"])
    assert row["tickets_trend"] == 0.0  # log((0 + 1) / (0 + 1))


def test_no_tickets_table_rows_leaves_the_ticket_families_out(params):
    history = validated(_raw([]), params.contract, NOW)
    fs = build_features(history, [pd.Timestamp("2024-03-01", tz="UTC")], params.features)
    assert str(fs.unavailable["tickets"]) == "tickets table empty"
    assert {"tickets", "sentiment", "sla", "csat", "usage"} <= set(fs.unavailable)
    assert list(fs.frame.columns[:7]) == [
        "account_id",
        "as_of",
        "tenure_days",
        "days_to_renewal",
        "arr",
        "seats",
        "tier",
    ]


def test_no_usage_rows_for_an_account_gives_nan_usage(params):
    raw = _raw([{"created_at": "2024-02-01T10:00:00Z"}], usage=[])
    row = _row(params, raw, "2024-03-01")
    assert np.isnan(row["usage_active_users_mean_7d"]) and np.isnan(row["usage_days_since_active"])


def test_single_day_of_history(params):
    raw = _raw(
        [
            {
                "created_at": "2024-01-01T08:00:00Z",
                "resolved_at": "2024-01-01T09:00:00Z",
                "status": "solved",
                "csat": 5,
            }
        ],
        usage=[{"account_id": "A", "date": "2024-01-01", "active_users": 4, "events": 10}],
    )
    row = _row(params, raw, "2024-01-02")
    assert row["tenure_days"] == 1 and row["tickets_7d"] == 1 and row["tickets_open"] == 0
    assert row["usage_active_users_mean_7d"] == 4 and row["usage_days_since_active"] == 0
    assert np.isnan(row["usage_active_users_baseline"]) and np.isnan(
        row["usage_active_users_slope_28d"]
    )
    assert row["csat_mean_365d"] == 5 and row["tickets_resolution_hours_mean_90d"] == 1.0


@pytest.mark.parametrize(
    "as_of",
    [
        pd.Timestamp("2024-01-02 12:00", tz="UTC"),  # a time of day: usage of the 2nd read whole
        pd.Timestamp("2024-01-03", tz="Europe/Berlin"),  # 2 January 23:00 UTC
        "2024-01-02T00:00:01Z",
    ],
)
def test_an_as_of_that_is_no_utc_midnight_is_refused(params, as_of):
    """A feature as of D is known at midnight D UTC (docs/features.md): a usage row is a whole
    day's. Built at noon (or a Berlin midnight, 23:00 UTC) the day's row, not over yet, was read
    as a whole day's in the means, and days since the last active day came out -0.5."""
    from features.errors import UserError

    raw = _raw(
        [{"created_at": "2024-01-01T08:00:00Z"}],
        usage=[
            {"account_id": "A", "date": d, "active_users": 4, "events": 10}
            for d in ("2024-01-01", "2024-01-02")
        ],
    )
    history = validated(raw, params.contract, NOW)
    with pytest.raises(UserError, match="as_of must be a midnight UTC"):
        build_features(history, [as_of], params.features, spec=full_spec(params.features))


def test_created_and_resolved_in_the_same_second(params):
    t = "2024-02-10T12:00:00Z"
    raw = _raw([{"created_at": t, "first_response_at": t, "resolved_at": t, "status": "solved"}])
    row = _row(params, raw, "2024-02-11")
    assert row["tickets_open"] == 0 and row["tickets_resolution_hours_mean_90d"] == 0.0
    assert row["sla_first_response_breaches_7d"] == 0 and row["sla_resolution_near_misses_7d"] == 0
    # as of the very second of creation nothing is known yet: created_at < as_of fails
    m = "2024-02-11T00:00:00Z"
    at_midnight = _raw(
        [{"created_at": m, "first_response_at": m, "resolved_at": m, "status": "solved"}]
    )
    row = _row(params, at_midnight, "2024-02-11")
    assert row["tickets_7d"] == 0 and np.isnan(row["tickets_resolution_hours_mean_90d"])


def test_offsets_across_a_dst_change_are_compared_in_utc(params):
    # Europe/Berlin leaves CET (+01:00) for CEST (+02:00) at 2024-03-31 02:00 local = 01:00 UTC
    raw = _raw([
        {"created_at": "2024-03-31T01:30:00+01:00", "resolved_at": "2024-03-31T03:30:00+02:00", "status": "solved"},
        {"created_at": "2024-03-31T23:30:00+02:00"},  # 21:30 UTC on the 31st
        {"created_at": "2024-04-01T00:30:00+02:00"},  # 22:30 UTC on the 31st, still before April 1 UTC
    ])  # fmt: skip
    row = _row(params, raw, "2024-04-01")
    assert row["tickets_7d"] == 3
    assert row["tickets_resolution_hours_mean_90d"] == 1.0  # 00:30 UTC -> 01:30 UTC, not 2 hours


def test_as_of_before_the_account_start_has_no_row(params):
    history = validated(_raw([], start="2024-05-01"), params.contract, NOW)
    fs = build_features(history, [pd.Timestamp("2024-04-01", tz="UTC")], params.features)
    assert fs.frame.empty and list(fs.frame.columns[:2]) == ["account_id", "as_of"]


def test_open_ticket_counts_as_breached_from_its_age(params):
    # business P2: 8 h to first response, 48 h to resolution
    raw = _raw([{"created_at": "2024-02-01T00:00:00Z", "first_response_at": "2024-02-01T07:00:00Z",
                 "resolved_at": "2024-02-20T00:00:00Z", "status": "solved"}])  # fmt: skip
    at = _row(params, raw, "2024-02-03")  # 48 h passed at midnight: not yet past the deadline
    assert at["sla_resolution_breaches_7d"] == 0 and at["sla_resolution_at_risk"] == 1
    assert at["sla_first_response_near_misses_7d"] == 1  # answered with 1 of 8 hours left (< 20 %)
    later = _row(params, raw, "2024-02-04")
    assert later["sla_resolution_breaches_7d"] == 1 and later["sla_resolution_open_breached"] == 1
    assert later["sla_resolution_at_risk"] == 0


def test_a_ticket_whose_html_body_is_empty_has_no_tone(params):
    # a rich-text editor's empty body is no text: left out, not counted as a neutral ticket
    raw = _raw([{"created_at": "2024-02-01T00:00:00Z", "subject": None,
                 "body": "<p>&nbsp;</p><p><br></p>"},
                {"created_at": "2024-02-02T00:00:00Z", "subject": "Ausfall",
                 "body": "Das System ist komplett ausgefallen, inakzeptabel."}])  # fmt: skip
    both = _row(params, raw, "2024-02-05")
    alone = _row(params, {**raw, "tickets": raw["tickets"].iloc[1:]}, "2024-02-05")
    assert both["sentiment_negative_share_7d"] == 1.0
    assert both["sentiment_mean_7d"] == alone["sentiment_mean_7d"] < 0


def test_a_resolved_ticket_without_first_response_is_not_open_past_that_sla(params):
    # business P2: 8 h to first response; resolved without a recorded response (a Salesforce
    # export without milestones has none at all): breached, but open no more once resolved
    raw = _raw([{"created_at": "2024-02-01T00:00:00Z", "resolved_at": "2024-02-02T00:00:00Z",
                 "status": "solved"},
                {"created_at": "2024-02-04T17:00:00Z", "resolved_at": "2024-02-04T23:50:00Z",
                 "status": "solved"}])  # fmt: skip
    open_then = _row(params, raw, "2024-02-02")  # deadline passed, not yet resolved
    assert open_then["sla_first_response_open_breached"] == 1
    later = _row(params, raw, "2024-03-01")
    assert later["sla_first_response_breaches_30d"] == 2
    assert later["sla_first_response_open_breached"] == 0
    # resolved at 6:50 of 8 h: not at risk between 6:24 and 8:00 (7:00 at midnight), as no
    # longer open
    at = _row(params, raw, "2024-02-05")
    assert at["sla_first_response_at_risk"] == 0 and at["sla_first_response_open_breached"] == 0


@pytest.mark.parametrize(
    ("created", "at_risk"), [("09:35:59.5", 1), ("09:36:00", 0), ("09:36:00.5", 0)]
)
def test_at_risk_means_more_than_the_share_used_before_as_of(params, created, at_risk):
    """48 h to resolution, at risk past 80% (38.4 h): from 2024-02-03T00:00Z for a ticket created
    at 09:36 on the 1st; half a second later is not known at midnight (it was, floored to D's
    second, and the truncated history then disagreed with the full one)."""
    raw = _raw([{"created_at": f"2024-02-01T{created}Z", "resolved_at": "2024-02-05T00:00:00Z",
                 "status": "solved"}])  # fmt: skip
    assert _row(params, raw, "2024-02-03")["sla_resolution_at_risk"] == at_risk


@pytest.mark.parametrize("code", ["2", 2, 2.0, np.float64(2.0), np.int64(2)])
def test_a_category_coded_as_a_number_is_its_level_from_any_source(params, code):
    """Parquet or a database gives a code column with NULLs as floats (2.0): still level "2"."""
    from features.params import FeatureParams

    fp = FeatureParams.model_validate(
        {**params.features.model_dump(),
         "custom_fields": {"plan_code": {"kind": "category", "levels": ["1", "2", "3"]}}}
    )  # fmt: skip
    history = validated(_raw([{"created_at": "2024-02-01T00:00:00Z"}]), params.contract, NOW)
    codes = pd.Series([code], dtype=object if isinstance(code, str) else None)
    history = replace(history, accounts=history.accounts.assign(plan_code=codes.to_numpy()))
    fs = build_features(history, [pd.Timestamp("2024-03-01", tz="UTC")], fp)
    assert fs.frame["plan_code"].iloc[0] == "2"


def test_tickets_without_text_have_no_tone(params):
    """A ticket with no subject and no body counted as neutral (0.0): a helpdesk export without
    text looked calm, and a reason said "0% of tickets were negative"."""
    angry = {"created_at": "2024-02-20T10:00:00Z", "subject": "Inakzeptabel",
             "body": "Der Export ist schon wieder kaputt, total frustrierend."}  # fmt: skip
    silent = {"created_at": "2024-02-21T10:00:00Z", "subject": None, "body": "  "}
    both = _row(params, _raw([angry, silent]), "2024-03-01")
    alone = _row(params, _raw([angry]), "2024-03-01")
    assert both["tickets_30d"] == 2 and alone["sentiment_mean_30d"] < 0
    for name in ("sentiment_mean_30d", "sentiment_min_30d", "sentiment_negative_share_30d"):
        assert both[name] == alone[name], name
    none = _row(params, _raw([silent]), "2024-03-01")
    assert none["tickets_30d"] == 1
    assert np.isnan(none["sentiment_mean_30d"]) and np.isnan(none["sentiment_min_30d"])
    assert np.isnan(none["sentiment_negative_share_30d"])


def test_custom_fields_become_features(params):
    from features.params import FeatureParams

    fp = FeatureParams.model_validate(
        {**params.features.model_dump(), "custom_fields": {
            "plan": {"kind": "category", "levels": ["basic", "pro"]},
            "nps": {"kind": "float", "unit": "score"},
            "industry": {"kind": "category", "levels": ["retail"]},
        }}
    )  # fmt: skip
    raw = _raw([{"created_at": "2024-02-01T00:00:00Z"}])
    history = validated(raw, params.contract, NOW)
    history = replace(history, accounts=history.accounts.assign(plan="gold", nps="7"))
    fs = build_features(history, [pd.Timestamp("2024-03-01", tz="UTC")], fp)
    assert fs.frame["plan"].iloc[0] == "__unknown__" and fs.frame["nps"].iloc[0] == 7.0
    assert "industry" not in fs.frame.columns
    assert str(fs.unavailable["custom.industry"]) == "accounts table has no column 'industry'"
    bad = replace(history, accounts=history.accounts.assign(nps="lots"))
    with pytest.raises(Exception, match="nps"):
        build_features(bad, [pd.Timestamp("2024-03-01", tz="UTC")], fp)
    # what `escrisk validate` says of the same rows: the input row, the account, the rule
    from features.custom import custom_violations

    [v] = custom_violations(bad.accounts, fp)
    assert (v.table, v.column, v.row, v.rule) == ("accounts", "nps", 1, "type")
    assert "'lots'" in v.detail and v.key == f"account_id={bad.accounts['account_id'].iloc[0]}"
    # a number column's "no value" words, as the contract reads them; text keeps "NA"
    words = replace(history, accounts=history.accounts.assign(nps="n/a", plan="NA"))
    assert custom_violations(words.accounts, fp) == []
    fs = build_features(words, [pd.Timestamp("2024-03-01", tz="UTC")], fp)
    assert pd.isna(fs.frame["nps"].iloc[0]) and fs.frame["plan"].iloc[0] == "__unknown__"
