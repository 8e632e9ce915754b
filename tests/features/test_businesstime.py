"""SLA targets in business hours (`features.sla.business_hours`): the calendar arithmetic the SLA
features and the ladder's due times share, worked by hand across a weekend, a holiday and both
DST changes, the SLA features of a ticket answered after a weekend and of one open at as_of,
and properties against clock time."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.build import build_features, full_spec
from features.businesstime import FAR, add_business, business_elapsed, deadlines
from features.contract import validated
from features.params import CalendarParams, FeatureParams, changed_settings

WORKDAYS = ("mon", "tue", "wed", "thu", "fri")
BERLIN = CalendarParams(
    time_zone="Europe/Berlin",
    weekly={d: "08:00-18:00" for d in WORKDAYS},
    holidays=["12-24", "12-25", "12-26", "easter+1", "11-thu-4"],
)
SUNDAYS = CalendarParams(time_zone="Europe/Berlin", weekly={"sun": "00:00-24:00"}, holidays=[])
ALWAYS = {d: "00:00-24:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
NOW = pd.Timestamp("2026-12-01", tz="UTC")
H = 3_600 * 10**9


def _ns(*times: str) -> np.ndarray:
    return np.array([pd.Timestamp(t).value for t in times], dtype=np.int64)


def _due(start: str, hours: float, cal: CalendarParams | None = BERLIN) -> pd.Timestamp:
    (got,) = deadlines(_ns(start), np.array([hours]), cal, until=NOW.value)
    return pd.Timestamp(got, tz="UTC")


def test_a_weekend_is_no_business_time():
    # Friday 17:00 CET: one hour on Friday, seven from Monday 08:00 -> Monday 15:00 CET
    assert _due("2026-03-06T16:00Z", 8) == pd.Timestamp("2026-03-09T14:00Z")
    assert _due("2026-03-06T16:00Z", 8, None) == pd.Timestamp("2026-03-07T00:00Z")  # clock
    # answered Monday 09:00 CET: two business hours used, 64 on the clock
    got = business_elapsed(_ns("2026-03-06T16:00Z"), _ns("2026-03-09T08:00Z"), BERLIN)
    assert got.tolist() == [2 * H]


def test_holidays_are_skipped_every_year():
    # Wednesday 23 December 16:00 CET: 2 h, then 24-26 (Thu-Sat) holidays, Sunday, Monday from 08:00
    assert _due("2026-12-23T15:00Z", 8) == pd.Timestamp("2026-12-28T13:00Z")
    # Thanksgiving ("11-thu-4": 26 November 2026) and Easter Monday (6 April 2026)
    assert _due("2026-11-25T16:00Z", 3) == pd.Timestamp("2026-11-27T09:00Z")
    assert _due("2026-04-03T16:00Z", 3) == pd.Timestamp("2026-04-07T09:00Z")  # Good Friday open


def test_target_used_up_at_closing_time_is_due_then():
    """As the ladder's due times and help desks count: due at 18:00, not at the next opening."""
    assert _due("2026-03-09T07:00Z", 10) == pd.Timestamp("2026-03-09T17:00Z")


def test_dst_changes_come_from_the_zone_database():
    # the autumn Sunday (25 October 2026) has 25 hours, the spring one (29 March) 23
    assert _due("2026-10-24T22:00Z", 24, SUNDAYS) == pd.Timestamp("2026-10-25T22:00Z")
    assert _due("2026-10-24T22:00Z", 25, SUNDAYS) == pd.Timestamp("2026-10-25T23:00Z")
    assert _due("2026-03-28T23:00Z", 24, SUNDAYS) == pd.Timestamp("2026-04-04T23:00Z")
    # Friday 23 October 16:00 CEST (14:00 UTC): 2 h, then Monday 08:00 CET (07:00 UTC) + 6 h
    assert _due("2026-10-23T14:00Z", 8) == pd.Timestamp("2026-10-26T13:00Z")


def test_unknown_starts_and_targets_stay_unknown_and_far_targets_far():
    nat = np.iinfo(np.int64).min
    got = deadlines(
        np.array([nat, pd.Timestamp("2026-03-09T07:00Z").value, 0]),
        np.array([8.0, np.nan, 1e6]),
        BERLIN,
        until=NOW.value,
    )
    assert got.tolist() == [nat, nat, FAR]  # a million business hours: beyond every time held


def _raw(tickets: list[dict]) -> dict:
    accounts = pd.DataFrame(
        {"account_id": ["A"], "name": ["a"], "tier": ["business"], "arr": [1000.0], "seats": [10],
         "contract_start": ["2025-01-01"], "renewal_date": ["2027-06-01"], "csm_owner": ["c"],
         "region": ["eu"], "language": ["de"]}
    )  # fmt: skip
    base = {"channel": "email", "subject": "Frage", "body": "", "first_response_at": None,
            "resolved_at": None, "status": "open", "reopen_count": 0, "csat": None,
            "sla_first_response_hours": None, "sla_resolution_hours": None, "priority": "P2"}  # fmt: skip
    rows = [{**base, "ticket_id": f"T{i}", "account_id": "A", **t} for i, t in enumerate(tickets)]
    return {"accounts": accounts, "tickets": pd.DataFrame(rows), "usage": None,
            "escalations": None, "churn": None}  # fmt: skip


@pytest.fixture
def features_at(params):
    """`features_at(business, tickets, as_of)`: the account's SLA features (business tier, P2:
    8 hours to first response, 48 to resolution), in clock or Berlin business hours."""

    def build(business: bool, tickets: list[dict], as_of: str) -> pd.Series:
        history = validated(_raw(tickets), params.contract, NOW)
        sla = params.features.sla.model_copy(
            update={"business_hours": BERLIN if business else None}
        )
        fp = params.features.model_copy(update={"sla": sla})
        at = [pd.Timestamp(as_of, tz="UTC")]
        frame = build_features(history, at, fp, spec=full_spec(fp)).frame
        return frame.iloc[0]

    return build


def test_answered_after_the_weekend_meets_business_hour_targets(features_at):
    # Friday 17:00 CET, answered Monday 09:00 and solved 13:00 CET: 2 and 6 business hours
    ticket = {"created_at": "2026-03-06T16:00:00Z", "first_response_at": "2026-03-09T08:00:00Z",
              "resolved_at": "2026-03-09T12:00:00Z", "status": "solved"}  # fmt: skip
    clock, business = (
        features_at(False, [ticket], "2026-03-10"),
        features_at(True, [ticket], "2026-03-10"),
    )
    assert clock["sla_first_response_breaches_7d"] == 1 == clock["sla_resolution_breaches_7d"]
    assert business["sla_first_response_breaches_7d"] == 0 == business["sla_resolution_breaches_7d"]
    assert business["sla_first_response_near_misses_7d"] == 0


def test_answered_in_the_last_fifth_of_business_time_is_a_near_miss(features_at):
    # Friday 17:00 CET, answered Monday 14:30 CET: 7.5 of 8 business hours
    ticket = {"created_at": "2026-03-06T16:00:00Z", "first_response_at": "2026-03-09T13:30:00Z"}
    business = features_at(True, [ticket], "2026-03-10")
    assert business["sla_first_response_breaches_7d"] == 0
    assert business["sla_first_response_near_misses_7d"] == 1


def test_a_ticket_open_at_as_of_counts_business_time_up_to_as_of_only(features_at):
    opened_friday = {"created_at": "2026-03-06T16:00:00Z"}  # 17:00 CET, never answered
    sunday_night = features_at(True, [opened_friday], "2026-03-09")  # 1 business hour used
    assert sunday_night["sla_first_response_open_breached"] == 0
    assert sunday_night["sla_first_response_breaches_7d"] == 0
    assert sunday_night["sla_first_response_at_risk"] == 0
    assert (
        features_at(False, [opened_friday], "2026-03-09")["sla_first_response_open_breached"] == 1
    )
    monday_night = features_at(True, [opened_friday], "2026-03-10")  # 11 used: past at 15:00 CET
    assert monday_night["sla_first_response_open_breached"] == 1
    assert monday_night["sla_first_response_breaches_7d"] == 1
    # Monday 11:00 CET: 7 of 8 hours used by midnight UTC, more than 80 %: at risk, not breached
    opened_monday = {"created_at": "2026-03-09T10:00:00Z"}
    at_risk = features_at(True, [opened_monday], "2026-03-10")
    assert at_risk["sla_first_response_at_risk"] == 1
    assert at_risk["sla_first_response_open_breached"] == 0
    # the answer that came later (Tuesday) is not known at as_of and changes nothing there
    answered = features_at(
        True, [{**opened_monday, "first_response_at": "2026-03-10T09:00:00Z"}], "2026-03-10"
    )
    assert answered.equals(at_risk)


# A ticket's own target (importers write the clock hours to the deadline its helpdesk worked out):
# 70 hours from Friday 17:00 CET end on Monday 15:00 CET (14:00 UTC), whatever the calendar says.
OWN = {"created_at": "2026-03-06T16:00:00Z", "sla_first_response_hours": 8.0,
       "sla_resolution_hours": 70.0}  # fmt: skip


def test_a_tickets_own_target_is_clock_hours_to_its_deadline(features_at):
    """Laid on the calendar again, 70 clock hours became 7 business days: the open ticket was
    not breached until the week after."""
    for business in (False, True):
        monday = features_at(business, [OWN], "2026-03-09")
        tuesday = features_at(business, [OWN], "2026-03-10")
        assert monday["sla_resolution_open_breached"] == 0
        assert tuesday["sla_resolution_open_breached"] == 1
        assert tuesday["sla_resolution_breaches_7d"] == 1
        # answered Monday 09:00 CET: 64 clock hours for an 8-hour target
        assert tuesday["sla_first_response_open_breached"] == 1
    for resolved, breached in (("2026-03-09T13:59:59Z", 0), ("2026-03-09T14:00:01Z", 1)):
        done = {**OWN, "resolved_at": resolved, "first_response_at": "2026-03-06T17:00:00Z",
                "status": "solved"}  # fmt: skip
        got = features_at(True, [done], "2026-03-10")
        assert got["sla_resolution_breaches_7d"] == breached
        # the last fifth of its 70 clock hours began Monday 00:00 UTC: a near-miss, not a breach
        assert got["sla_resolution_near_misses_7d"] == 1 - breached


def test_policy_and_own_targets_in_one_history(features_at):
    """The policy's targets are business hours, the ticket's own clock hours, side by side:
    both tickets opened Friday 17:00 CET, answered Monday 09:00 and solved 16:00 CET."""
    times = {"created_at": "2026-03-06T16:00:00Z", "first_response_at": "2026-03-09T08:00:00Z",
             "resolved_at": "2026-03-09T15:00:00Z", "status": "solved"}  # fmt: skip
    own = {**times, "sla_first_response_hours": 8.0, "sla_resolution_hours": 70.0}
    policy = dict(times)  # business tier, P2: 8 and 48 business hours
    got = features_at(True, [own, policy], "2026-03-10")
    assert got["sla_first_response_breaches_7d"] == 1  # the own 8 hours: 64 on the clock
    assert got["sla_resolution_breaches_7d"] == 1  # the own 70 hours: 71 on the clock
    assert features_at(True, [policy], "2026-03-10")["sla_first_response_breaches_7d"] == 0
    assert features_at(False, [policy], "2026-03-10")["sla_first_response_breaches_7d"] == 1
    # a ticket with its own first-response target only takes the policy's resolution target
    half = {**times, "sla_first_response_hours": 8.0, "resolved_at": "2026-03-10T15:00:00Z"}
    got = features_at(True, [half], "2026-03-11")  # 16 of 48 business hours, 95 on the clock
    assert got["sla_first_response_breaches_7d"] == 1 and got["sla_resolution_breaches_7d"] == 0


def test_the_ladder_facts_count_own_targets_to_their_clock_deadline(params):
    """`open_p1_past_sla` follows the features' rule: a P1 ticket's own 70 hours are past at
    Monday 14:00 UTC to the second; the policy's 16 (business tier) on Tuesday 13:00 CET."""
    from serving.facts import account_facts

    p1 = {"created_at": "2026-03-06T16:00:00Z", "priority": "P1"}
    history = validated(_raw([{**p1, "sla_resolution_hours": 70.0}, p1]), params.contract, NOW)
    sla = params.features.sla.model_copy(update={"business_hours": BERLIN})
    business = params.features.model_copy(update={"sla": sla})

    def past(at: str) -> int:
        return account_facts(history, pd.Timestamp(at), business)["A"].open_p1_past_sla

    assert past("2026-03-09T14:00:00Z") == 0
    assert past("2026-03-09T14:00:01Z") == 1
    assert past("2026-03-10T12:00:00Z") == 1
    assert past("2026-03-10T12:00:01Z") == 2


def _on_calendar(params, history, seed: int):
    """`history` (own targets, as the generated ones are) with some targets marked the
    policy's, and feature settings counting those in Berlin business hours."""
    rng = np.random.default_rng(seed)
    t = history.tickets
    marks = {
        "sla_first_response_from_policy": rng.random(len(t)) < 0.5,
        "sla_resolution_from_policy": rng.random(len(t)) < 0.5,
    }
    sla = params.features.sla.model_copy(update={"business_hours": BERLIN})
    return replace(history, tickets=t.assign(**marks)), params.features.model_copy(
        update={"sla": sla}
    )


SLA_SETTINGS = settings(max_examples=10, deadline=None, derandomize=True)


@SLA_SETTINGS
@given(data=st.data())
def test_own_targets_count_alike_with_and_without_business_hours(data, params, history_strategy):
    """Every target its ticket's own: the calendar changes no feature."""
    history = data.draw(history_strategy)
    sla = params.features.sla.model_copy(update={"business_hours": BERLIN})
    business = params.features.model_copy(update={"sla": sla})
    grid = pd.date_range("2024-03-04", periods=8, freq="7D", tz="UTC")
    spec = full_spec(params.features)
    clock = build_features(history, grid, params.features, spec=spec).frame
    pd.testing.assert_frame_equal(
        build_features(history, grid, business, spec=spec).frame, clock, check_exact=True
    )


@SLA_SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_mixed_targets_alone_equal_the_batch_and_the_history_as_it_stood(
    data, seed, params, history_strategy
):
    """With the calendar on and targets of both kinds: an account built alone (the API path)
    equals its batch rows, and a snapshot built on the history as it stood equals the full
    history's (the marks travel with for_accounts and history_at)."""
    from features.pointintime import history_at

    history, fp = _on_calendar(params, data.draw(history_strategy), seed)
    grid = pd.date_range("2024-03-04", periods=8, freq="7D", tz="UTC")
    spec = full_spec(fp)
    batch = build_features(history, grid, fp, spec=spec).frame
    for aid in history.accounts["account_id"]:
        alone = build_features(history.for_accounts([aid]), grid, fp, spec=spec).frame
        mine = batch[batch["account_id"] == aid].reset_index(drop=True)
        pd.testing.assert_frame_equal(alone, mine, check_exact=True)
    at = grid[3]
    then = build_features(history_at(history, at), [at], fp, spec=spec).frame
    pd.testing.assert_frame_equal(
        then, batch[batch["as_of"] == at].reset_index(drop=True), check_exact=True
    )


def test_the_setting_travels_with_the_model(params):
    """A bundle keeps its feature settings as JSON: the calendar loads back the same, and a
    model trained in clock hours tells the change as features.sla.business_hours."""
    sla = params.features.sla.model_copy(update={"business_hours": BERLIN})
    fp = params.features.model_copy(update={"sla": sla})
    back = FeatureParams.model_validate(fp.model_dump(mode="json"))
    assert back == fp
    assert changed_settings(params.features, back) == ["features.sla.business_hours"]


@st.composite
def calendars(draw) -> CalendarParams:
    zone = draw(st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"]))
    weekly = {}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        cuts = sorted(set(draw(st.lists(st.integers(0, 48), max_size=4))))
        parts = [
            f"{a // 2:02d}:{a % 2 * 30:02d}-"
            + ("24:00" if b == 48 else f"{b // 2:02d}:{b % 2 * 30:02d}")
            for a, b in zip(cuts[::2], cuts[1::2], strict=False)
        ]
        weekly[day] = ",".join(parts) or None
    if not any(weekly.values()):
        weekly["mon"] = "09:00-17:00"
    holidays = draw(st.lists(st.sampled_from(["01-01", "12-25", "easter+1", "11-thu-4", "03-29"])))
    return CalendarParams(time_zone=zone, weekly=weekly, holidays=holidays)


T0 = pd.Timestamp("2025-01-01", tz="UTC").value
SPAN = 2 * 365 * 24 * H  # two years: both DST changes of each year


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    calendars(),
    st.lists(st.tuples(st.integers(0, SPAN), st.integers(0, 400 * H)), min_size=1, max_size=20),
)
def test_business_time_never_exceeds_clock_time(cal, pairs):
    start = T0 + np.array([p[0] for p in pairs], dtype=np.int64)
    end = start + np.array([p[1] for p in pairs], dtype=np.int64)
    got = business_elapsed(start, end, cal)
    assert ((got >= 0) & (got <= end - start)).all()
    # spending the elapsed business time from the start reaches no later than the end
    span = np.maximum(got, 1)
    due = add_business(start, span, cal, until=int(end.max()))
    assert (due >= start + span).all()  # a business deadline is never before the clock one
    assert ((due <= end) | (got == 0)).all()
    assert (business_elapsed(start, due, cal) == span)[due <= end].all()


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney"]),
    st.lists(st.tuples(st.integers(0, SPAN), st.integers(0, 400 * H)), min_size=1, max_size=20),
)
def test_a_24x7_calendar_is_clock_time_across_dst(zone, pairs):
    cal = CalendarParams(time_zone=zone, weekly=ALWAYS, holidays=[])
    start = T0 + np.array([p[0] for p in pairs], dtype=np.int64)
    span = np.array([p[1] for p in pairs], dtype=np.int64)
    assert (business_elapsed(start, start + span, cal) == span).all()
    assert (add_business(start, span, cal) == start + span).all()


def test_the_ladder_due_times_are_the_features_deadlines(params):
    """One implementation: the ladder's business due time equals the SLA features' deadline."""
    from serving.ladder import due_at

    ladder = params.ladder.model_copy(update={"business_calendar": BERLIN})
    start = dt.datetime(2026, 12, 23, 15, tzinfo=dt.UTC)
    assert pd.Timestamp(due_at(start, 8, True, ladder)) == _due("2026-12-23T15:00Z", 8)


def test_the_ladder_facts_count_past_sla_in_business_hours(params):
    """`open_p1_past_sla` counts as the SLA features do: a P1 ticket (business tier: 16 hours to
    resolution) opened Friday 17:00 CET is past its clock target on Saturday, not its business one."""
    from serving.facts import account_facts

    history = validated(
        _raw([{"created_at": "2026-03-06T16:00:00Z", "priority": "P1"}]), params.contract, NOW
    )
    sunday = pd.Timestamp("2026-03-08", tz="UTC")
    sla = params.features.sla.model_copy(update={"business_hours": BERLIN})
    business = params.features.model_copy(update={"sla": sla})
    assert account_facts(history, sunday, params.features)["A"].open_p1_past_sla == 1
    assert account_facts(history, sunday, business)["A"].open_p1_past_sla == 0
    tuesday = pd.Timestamp("2026-03-10", tz="UTC")  # 1 + 10 hours used by Monday night: not yet
    assert account_facts(history, tuesday, business)["A"].open_p1_past_sla == 0
    wednesday = pd.Timestamp("2026-03-11", tz="UTC")  # past at Tuesday 13:00 CET
    assert account_facts(history, wednesday, business)["A"].open_p1_past_sla == 1


def _walk(start: dt.datetime, hours: float, cal: CalendarParams) -> dt.datetime:
    """Business time added day by day through the local opening intervals (the ladder's former
    loop): the reference the laid-out arithmetic must equal."""
    from zoneinfo import ZoneInfo

    from features.businesstime import closing

    tz, remaining = ZoneInfo(cal.time_zone), dt.timedelta(hours=hours)
    day = start.astimezone(tz).date()
    while True:
        if not cal.is_holiday(day):
            for open_t, close_t in cal.intervals(day.weekday()):
                lo = max(dt.datetime.combine(day, open_t, tzinfo=tz).astimezone(dt.UTC), start)
                hi = closing(day, close_t, tz).astimezone(dt.UTC)
                if lo < hi and remaining <= hi - lo:
                    return lo + remaining
                remaining -= max(hi - lo, dt.timedelta(0))
        day += dt.timedelta(days=1)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(calendars(), st.integers(0, SPAN), st.integers(1, 300 * 3600))
def test_deadlines_equal_walking_the_calendar_day_by_day(cal, offset, seconds):
    start = pd.Timestamp(T0 + offset, tz="UTC").floor("s").to_pydatetime()
    want = _walk(start, seconds / 3600, cal)
    got = add_business(_ns(start.isoformat()), np.array([seconds * 10**9]), cal, until=NOW.value)
    assert pd.Timestamp(int(got[0]), tz="UTC") == pd.Timestamp(want)


def test_the_sla_policy_travels_with_the_model(params, make_world):
    """contract.sla_policy fills the targets of tickets without their own as the data is read: a
    champion trained under one policy was fed SLA features under the policy params.yaml states
    now (a policy restated in business hours for features.sla.business_hours was read in the
    champion's clock hours), without a word. Its features are built with the policy it was
    trained with, and the change is told as contract.sla_policy."""
    from pathlib import Path

    from serving.params import ParamsError, parse_params, read_yaml

    data = read_yaml(Path(__file__).parents[2] / "params.yaml")
    for by_priority in data["contract"]["sla_policy"].values():
        for target in by_priority.values():
            target.update({k: v / 4 for k, v in target.items()})
    now = parse_params(data)
    trained = params.features
    tables = make_world(20, 2, 6).tables
    end = pd.Timestamp(params.simulation.end_date, tz="UTC")
    then_read = validated(tables, params.contract, end)
    now_read = validated(tables, now.contract, end)
    grid = pd.date_range(end - pd.Timedelta(days=56), end, freq="7D", tz="UTC")
    spec = full_spec(trained)
    from features.params import as_trained

    when_trained = build_features(then_read, grid, trained, spec=spec).frame
    served = build_features(now_read, grid, as_trained(trained, now.features), spec=spec).frame
    pd.testing.assert_frame_equal(served, when_trained, check_exact=True)
    assert changed_settings(trained, now.features) == ["contract.sla_policy"]
    # scored with the settings of today (no model kept any), the policy of today counts
    today = build_features(now_read, grid, now.features, spec=spec).frame
    assert not today["sla_resolution_breaches_30d"].equals(
        when_trained["sla_resolution_breaches_30d"]
    )
    # a model that did not keep the policy (trained before it was kept) is told nothing of it
    older = trained.model_copy(update={"sla": trained.sla.model_copy(update={"policy": None})})
    assert changed_settings(older, now.features) == []
    # the copy is the contract's: params.yaml does not write it
    data["features"]["sla"]["policy"] = read_yaml(Path(__file__).parents[2] / "params.yaml")[
        "contract"
    ]["sla_policy"]
    with pytest.raises(ParamsError, match=r"features\.sla\.policy: set from contract\.sla_policy"):
        parse_params(data)


@pytest.mark.parametrize("holiday", ["easter+400", "easter-90", "12-mon-last+10", "01-mon-1-8"])
def test_a_holiday_moved_out_of_its_year_is_refused(holiday):
    """easter+400 was accepted and never fell on a day: a holiday's days are looked for in the
    year of its Easter or weekday, so an offset leaving that year is refused."""
    from features.businesstime import read_holiday

    with pytest.raises(ValueError, match="year"):
        read_holiday(holiday)


@pytest.mark.parametrize(
    "holiday", ["easter-48", "easter+60", "easter+250", "easter-80", "11-thu-4+1", "12-mon-1+20"]
)
def test_holidays_within_their_year_fall_on_a_day_every_year(holiday):
    from features.businesstime import holidays_in, read_holiday

    kept = read_holiday(holiday)
    assert all(len(holidays_in((kept,), year)) == 1 for year in range(1990, 2100))
    assert all(next(iter(holidays_in((kept,), y))).year == y for y in range(1990, 2100))
