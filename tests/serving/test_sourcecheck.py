"""The daily run's check that the source is whole: what is flagged, on the trained world."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from features.contract import validated
from serving.daily import load_champion
from serving.sourcecheck import source_gaps, used_families


@pytest.fixture(scope="module")
def history(world, params):
    return validated(world, params.contract, pd.Timestamp.now(tz="UTC"))


@pytest.fixture(scope="module")
def used(model_store, params):
    return used_families(load_champion(model_store, params.promotion.model_name).model)


def test_the_champion_uses_tickets_and_usage(used):
    assert {"tickets", "usage"} <= used and "account" in used


def test_a_whole_source_has_no_gaps(history, used):
    day = history.tickets["created_at"].max().normalize() + pd.Timedelta(days=1)
    assert source_gaps(history, day, used, 7) == []


def test_absent_empty_and_stale_tables_are_named(history, used):
    day = history.tickets["created_at"].max().normalize() + pd.Timedelta(days=1)
    assert source_gaps(replace(history, usage=None), day, used, 7) == [
        "usage: absent, but the model's usage features are built from it"
    ]
    empty = replace(history, tickets=history.tickets.iloc[:0])
    [gap] = source_gaps(empty, day, used, 7)
    assert gap.startswith("tickets: no rows, but the model's ") and "sentiment" in gap
    cut = day - pd.Timedelta(days=30)
    stale = replace(history, usage=history.usage[history.usage["date"] < cut])
    [gap] = source_gaps(stale, day, used, 7)
    # the newest usage day is 31 days before the day: the 30 days between have no rows
    newest = str((day - pd.Timedelta(days=31)).date())
    assert gap.startswith(f"usage: the newest row is from {newest}, then none for 30 days until ")
    assert gap.endswith("(daily.max_source_lag_days: 7)")
    assert source_gaps(stale, day, used, 30) == [] and source_gaps(stale, day, used, None) == []
    # a ticket at midnight starts its day: the days after it are counted, not its own
    midnight = replace(
        history, tickets=history.tickets.assign(created_at=day - pd.Timedelta(days=9))
    )
    [gap] = source_gaps(midnight, day, used, 7)
    assert "then none for 8 days until" in gap
    assert source_gaps(midnight, day, used, 8) == []


def test_rows_after_the_day_do_not_make_it_fresh(history, used):
    """A back-dated run reads only what was known before its day."""
    day = history.tickets["created_at"].max().normalize() + pd.Timedelta(days=1)
    gap_days = replace(
        history,
        usage=history.usage[
            (history.usage["date"] < day - pd.Timedelta(days=40))
            | (history.usage["date"] >= day - pd.Timedelta(days=10))
        ],
    )
    [gap] = source_gaps(gap_days, day - pd.Timedelta(days=11), used, 7)
    assert gap.startswith("usage: the newest row is from ")


def test_families_the_model_does_not_use_need_no_table(history):
    day = history.tickets["created_at"].max().normalize() + pd.Timedelta(days=1)
    bare = replace(history, usage=None, escalations=None, tickets=history.tickets.iloc[:0])
    assert source_gaps(bare, day, {"account"}, 7) == []
    [gap] = source_gaps(bare, day, {"account", "escalations"}, 7)
    assert gap == "escalations: absent, but the model's escalation features are built from it"


def test_gaps_are_told_in_the_runs_language(history, used):
    day = history.tickets["created_at"].max().normalize() + pd.Timedelta(days=1)
    assert source_gaps(replace(history, usage=None), day, used, 7, "de") == [
        "usage: fehlt, aber die Nutzungsmerkmale des Modells beruhen darauf"
    ]


def test_days_missing_amid_the_usage_features_reach_are_named(history, used, params):
    """Usage with 11 days cut out of its middle scored without a word: only the newest row was
    looked at, and the lost days read as no usage at all."""
    from serving.sourcecheck import usage_reach

    reach = usage_reach(params.features)
    day = history.tickets["created_at"].max().normalize() + pd.Timedelta(days=1)
    assert source_gaps(history, day, used, 7, "en", reach) == []
    u = history.usage
    lost = (u["date"] >= day - pd.Timedelta(days=30)) & (u["date"] <= day - pd.Timedelta(days=20))
    holed = replace(history, usage=u[~lost])
    first, last = (str((day - pd.Timedelta(days=n)).date()) for n in (30, 20))
    [gap] = source_gaps(holed, day, used, 7, "en", reach)
    assert gap.startswith(f"usage: no rows on 11 days from {first} to {last}, amid days that")
    assert f"read the {reach} days before {day.date()}" in gap
    [gap] = source_gaps(holed, day, used, 7, "de", reach)
    assert gap.startswith("usage: keine Zeilen an 11 Tagen vom ")
    one = replace(history, usage=u[u["date"] != day - pd.Timedelta(days=5)])
    [gap] = source_gaps(one, day, used, 7, "en", reach)
    assert gap.startswith(f"usage: no rows on {(day - pd.Timedelta(days=5)).date()}, amid")
    # beyond the reach the features do not look; null max_source_lag_days checks neither
    assert source_gaps(holed, day + pd.Timedelta(days=reach), used, None, "en", reach) == []
    far = day - pd.Timedelta(days=reach + 10)
    old = replace(history, usage=u[u["date"] != far])
    assert source_gaps(old, day, used, 7, "en", reach) == []


def test_a_day_without_any_account_in_contract_is_no_lost_usage_day(history, used):
    """One account churned, the next not started: the days between have no usage to miss."""
    day = history.tickets["created_at"].max().normalize() + pd.Timedelta(days=1)
    u = history.usage
    lost = (u["date"] >= day - pd.Timedelta(days=30)) & (u["date"] <= day - pd.Timedelta(days=20))
    acc = history.accounts
    late = acc["account_id"].isin(u.loc[u["date"] > day - pd.Timedelta(days=20), "account_id"])
    starts = acc["contract_start"].where(~late, day - pd.Timedelta(days=19))
    # every account in contract on the holed days churned before them, the rest start after
    early = acc.loc[~late, ["account_id"]].assign(churned_at=day - pd.Timedelta(days=40))
    gone = replace(history, usage=u[~lost], accounts=acc.assign(contract_start=starts), churn=early)
    assert source_gaps(gone, day, used, 7, "en", 118) == []


def test_weekdays_without_any_usage_are_quiet_days_not_lost_ones(history, used, params):
    """A business product nobody uses at weekends exports no weekend rows at all: every
    Saturday and Sunday was told as a lost export day and the daily run refused the source."""
    from serving.sourcecheck import usage_reach

    reach = usage_reach(params.features)
    day = history.tickets["created_at"].max().normalize() + pd.Timedelta(days=1)
    u = history.usage
    weekdays = replace(history, usage=u[u["date"].dt.dayofweek < 5])
    assert source_gaps(weekdays, day, used, 7, "en", reach) == []
    # a lost Wednesday amid them is still a lost day
    wednesday = day - pd.Timedelta(days=14 + (day.dayofweek - 2) % 7)
    holed = replace(weekdays, usage=weekdays.usage[weekdays.usage["date"] != wednesday])
    [gap] = source_gaps(holed, day, used, 7, "en", reach)
    assert gap.startswith(f"usage: no rows on {wednesday.date()}, amid")


def test_a_column_without_any_value_that_the_model_reads_is_a_gap(history, model_store, params):
    """An export without first responses (Salesforce without CaseMilestone) or CSAT ratings
    was scored by a champion trained where they had values: every ticket a first-response
    breach, every account unrated, and the ladder acted on it. Each is named, in either language;
    a column the model does not split on is not."""
    from serving.sourcecheck import column_gaps

    model = load_champion(model_store, params.promotion.model_name).model
    assert column_gaps(history, model, params.features) == []
    lost = replace(history, tickets=history.tickets.assign(first_response_at=pd.NaT, csat=None))
    said = column_gaps(lost, model, params.features)
    splits = {
        n
        for h in model.heads.values()
        for n, k in zip(
            h.booster.feature_name(), h.booster.feature_importance("split"), strict=True
        )
        if k > 0
    }
    expected = []
    if any(n.startswith("csat_") for n in splits):
        expected.append(
            "tickets: no value in column csat, but the model's CSAT features are built from it"
        )
    if any(n.startswith("sla_first_response_") for n in splits):
        expected.append(
            "tickets: no value in column first_response_at, but the model's first response SLA "
            "features are built from it"
        )
    assert expected and said == expected
    [*_, german] = column_gaps(lost, model, params.features, "de")
    assert german.startswith("tickets: kein Wert in der Spalte ")
