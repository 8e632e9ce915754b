"""The escalation ladder: table-driven tests per rule, due times, hysteresis, timeouts, properties."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.errors import UserError
from serving.ladder import (
    AccountFacts,
    LadderState,
    Signals,
    decide,
    due_at,
    priority,
    team,
    validate_against,
)
from serving.params import FACTS, LadderParams

NOW = dt.datetime(2025, 6, 4, 10, 0, tzinfo=dt.UTC)  # a Wednesday, 12:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")


def facts(**kw: Any) -> AccountFacts:
    base: dict[str, Any] = dict(
        arr=20_000.0,
        tier="starter",
        seats=20,
        days_to_renewal=300,
        open_p1=0,
        open_p2=0,
        open_p1_past_sla=0,
        open_p2_past_sla=0,
    )
    return AccountFacts(**(base | kw))


def signals(esc: float = 0.1, churn: float = 0.1, family: str | None = None, **kw: Any) -> Signals:
    features = kw.pop("features", {})
    return Signals("A-1", esc, churn, features, family, facts(**kw))


def state(level: str, **kw: Any) -> LadderState:
    base: dict[str, Any] = dict(
        account_id="A-1",
        level=level,
        since=NOW - dt.timedelta(days=1),
        due_at=None,
        acknowledged_at=None,
        resolved_at=None,
        below_since=None,
        timeouts=0,
        decision_id="d0",
    )
    return LadderState(**(base | kw))


def ladder_with(params_ladder: LadderParams, **changes: Any) -> LadderParams:
    data = params_ladder.model_dump(mode="json")
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split("__")
        for key in path:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value
    return LadderParams.model_validate(data)


@pytest.fixture
def lp(params):
    return params.ladder


# --- entry criteria --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("esc", "churn", "level"),
    [
        (0.0, 0.0, "L0"),
        (0.34, 0.39, "L0"),
        (0.35, 0.0, "L1"),
        (0.0, 0.40, "L1"),
        (0.55, 0.0, "L2"),
        (0.0, 0.60, "L2"),
        (0.54, 0.59, "L1"),
        (0.75, 0.0, "L3"),
        (0.1, 0.80, "L3"),
        (1.0, 1.0, "L3"),
    ],
)
def test_entry_thresholds_pick_the_highest_level_met(lp, esc, churn, level):
    new, d = decide(signals(esc, churn), None, lp, NOW)
    assert (new.level, d.new_level) == (level, level)
    assert d.changed == (level != "L0")
    assert d.rule == ("risk" if level != "L0" else "first")
    assert d.owners == lp.levels[level].owners
    assert d.channels == lp.levels[level].channels
    assert d.actions == lp.levels[level].actions


# --- hard rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sig", "level", "rule"),
    [
        (dict(open_p1_past_sla=1), "L2", "rule:p1_past_sla"),
        (dict(open_p1_past_sla=0, open_p1=2), "L0", "first"),
        (dict(open_p1=3), "L1", "rule:many_open_p1"),
        (dict(days_to_renewal=60, churn=0.5), "L3", "rule:renewal_at_risk"),
        (dict(days_to_renewal=61, churn=0.5), "L1", "risk"),
        (dict(days_to_renewal=30, churn=0.49), "L1", "risk"),
        (dict(days_to_renewal=None, churn=0.5), "L1", "risk"),
        (dict(open_p1_past_sla=1, esc=0.8), "L3", "risk"),  # the model already asks for more
        (dict(open_p1_past_sla=2, open_p1=3, days_to_renewal=10, churn=0.9), "L3", "risk"),
        (
            dict(open_p1_past_sla=2, open_p1=3, days_to_renewal=10, churn=0.55),
            "L3",
            "rule:renewal_at_risk",
        ),
    ],
)
def test_hard_rules_set_a_floor_whatever_the_model_says(lp, sig, level, rule):
    sig = dict(sig)
    esc, churn = sig.pop("esc", 0.1), sig.pop("churn", 0.1)
    _, d = decide(signals(esc, churn, **sig), None, lp, NOW)
    assert (d.new_level, d.rule) == (level, rule)
    if rule.startswith("rule:"):
        assert d.reason_key == "escalated_by_rule"
        assert d.reason_params["rule"] == rule.removeprefix("rule:")


@pytest.mark.parametrize(
    ("op", "value", "x", "fires"),
    [
        (">=", 5.0, 5.0, True),
        (">", 5.0, 5.0, False),
        ("<=", 5.0, 5.0, True),
        ("<", 5.0, 4.9, True),
        ("==", 3.0, 3.0, True),
        ("!=", 3.0, 3.0, False),
        ("in", [1.0, 2.0], 2.0, True),
        ("not_in", [1.0, 2.0], 2.0, False),
        (">=", 5.0, None, False),  # a missing feature never fires a rule
        (">=", 5.0, float("nan"), False),
    ],
)
def test_rules_on_features_use_their_operator(lp, op, value, x, fires):
    rules = [
        {
            "name": "feat",
            "when": [{"feature": "usage_drop", "op": op, "value": value}],
            "min_level": "L2",
        }
    ]
    ladder = ladder_with(lp, rules=rules)
    _, d = decide(signals(features={"usage_drop": x}), None, ladder, NOW)
    assert (d.new_level == "L2") is fires


# --- priority and routing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sig", "expected"),
    [
        (dict(), "P4"),  # low impact, low urgency
        (dict(tier="enterprise"), "P3"),
        (dict(arr=300_000.0, open_p1=1), "P1"),
        (dict(seats=1000, esc=0.5), "P2"),
        (dict(arr=60_000.0, days_to_renewal=20), "P2"),
        (dict(tier="business", open_p2=2), "P3"),
        (dict(churn=0.75), "P3"),
        (dict(days_to_renewal=None), "P4"),
    ],
)
def test_priority_from_impact_and_urgency_matrix(lp, sig, expected):
    sig = dict(sig)
    esc, churn = sig.pop("esc", 0.1), sig.pop("churn", 0.1)
    assert priority(signals(esc, churn, **sig), lp) == expected


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        ("sla", "support"),
        ("usage", "product_adoption"),
        ("notice", "billing"),
        ("csat", "support"),  # a family routing does not list: the default team
        (None, "support"),
        ("unheard_of", "support"),
    ],
)
def test_dominant_reason_family_picks_the_team(lp, family, expected):
    assert team(family, lp) == expected
    _, d = decide(signals(0.5, 0.1, family=family), None, lp, NOW)
    assert d.team == expected


# --- time-based escalation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prev", "now", "level", "rule"),
    [
        (dict(level="L1", due_at=NOW - dt.timedelta(minutes=1)), NOW, "L2", "timeout"),
        (dict(level="L1", due_at=NOW), NOW, "L2", "timeout"),
        (dict(level="L1", due_at=NOW + dt.timedelta(minutes=1)), NOW, "L1", "hold"),
        (
            dict(
                level="L1",
                due_at=NOW - dt.timedelta(hours=1),
                acknowledged_at=NOW - dt.timedelta(hours=2),
            ),
            NOW,
            "L1",
            "hold",
        ),
        (
            dict(
                level="L1",
                due_at=NOW - dt.timedelta(hours=1),
                resolved_at=NOW - dt.timedelta(hours=2),
            ),
            NOW,
            "L1",
            "hold",
        ),
        (dict(level="L2", due_at=NOW - dt.timedelta(hours=1), timeouts=1), NOW, "L3", "timeout"),
        (
            dict(level="L2", due_at=NOW - dt.timedelta(hours=1), timeouts=2),
            NOW,
            "L2",
            "hold",
        ),  # repeat limit
        (dict(level="L3", due_at=NOW - dt.timedelta(hours=1)), NOW, "L3", "hold"),  # no level above
        (dict(level="L0", due_at=None), NOW, "L0", "hold"),
    ],
)
def test_unacknowledged_level_moves_up_one_after_its_response_target(lp, prev, now, level, rule):
    # risk keeps the account exactly at its level, so only the timer can move it
    risk = {"L0": 0.0, "L1": 0.4, "L2": 0.6, "L3": 0.9}[prev["level"]]
    new, d = decide(signals(risk, 0.0), state(**prev), lp, now)
    assert (d.new_level, d.rule) == (level, rule)
    if rule == "timeout":
        assert d.reason_key == "escalated_by_timeout"
        assert new.timeouts == prev.get("timeouts", 0) + 1
        assert new.acknowledged_at is None and new.due_at is not None and new.due_at > now


def test_a_level_whose_response_target_was_removed_no_longer_times_out(lp):
    """A team that set L1's response_hours to null (no target for CSM outreach) still had its
    open L1 flags climb to L2 overnight, by the due time stored under the old target; a level
    without a target has nothing to time out, whenever its flags were raised."""
    prev = state("L1", due_at=NOW - dt.timedelta(hours=1))
    _, d = decide(signals(0.4, 0.0), prev, lp, NOW)
    assert (d.new_level, d.rule) == ("L2", "timeout")
    untimed = ladder_with(lp, levels__L1__response_hours=None)
    new, d = decide(signals(0.4, 0.0), prev, untimed, NOW)
    assert (d.new_level, d.rule, d.changed) == ("L1", "hold", False)
    assert new.timeouts == 0
    # nor is the stored due time shown as one (the list's due, the page's "overdue")
    assert new.due_at is None and d.due_at is None


def test_timeout_repeats_stop_at_the_limit(lp):
    lp = ladder_with(lp, timeout__while_cooling_down=True)  # 0.4 holds L1 only
    prev = state("L1", due_at=NOW - dt.timedelta(hours=1))
    levels, now = [], NOW
    for _ in range(4):
        prev, d = decide(signals(0.4, 0.0), prev, lp, now)
        levels.append(d.new_level)
        now = (prev.due_at or now) + dt.timedelta(minutes=1)
    assert levels == ["L2", "L3", "L3", "L3"]
    assert prev.timeouts == 2


def test_no_timeout_climbs_while_the_risk_has_fallen_away(lp):
    """An unacknowledged L1 whose risk fell to 0.08 climbed by timeout to L3, the executive
    sponsor's level; a cleared risk now stops the climb (cooling down), a held one does not."""
    prev = state("L1", due_at=NOW - dt.timedelta(hours=1))
    new, d = decide(signals(0.08, 0.0), prev, lp, NOW)
    assert (d.new_level, d.changed, d.reason_key) == ("L1", False, "cooling_down")
    assert new.timeouts == 0 and new.below_since == NOW
    # within the margin (0.33 >= 0.35 - 0.05) the level is held: the timeout still applies
    _, d = decide(signals(0.33, 0.0), prev, lp, NOW)
    assert (d.new_level, d.rule) == ("L2", "timeout")
    # a rule that still holds the level keeps the timeout too
    _, d = decide(signals(0.08, 0.0, open_p1=3), prev, lp, NOW)
    assert (d.new_level, d.rule) == ("L2", "timeout")
    on = ladder_with(lp, timeout__while_cooling_down=True)
    _, d = decide(signals(0.08, 0.0), prev, on, NOW)
    assert (d.new_level, d.rule) == ("L2", "timeout")


# --- hysteresis and cool-down ----------------------------------------------------------------


def test_level_goes_down_only_after_risk_stays_below_entry_minus_margin_for_n_days(lp):
    prev = state("L2", acknowledged_at=NOW - dt.timedelta(days=2))
    # 0.52 is below L2's 0.55 but within the 0.05 margin: held, no cool-down clock
    prev, d = decide(signals(0.52, 0.0), prev, lp, NOW)
    assert (d.new_level, d.reason_key, prev.below_since) == ("L2", "held_by_hysteresis", None)
    # 0.40 is below 0.55 - 0.05: the cool-down starts
    prev, d = decide(signals(0.40, 0.0), prev, lp, NOW + dt.timedelta(days=1))
    assert (d.new_level, d.reason_key) == ("L2", "cooling_down")
    assert prev.below_since == NOW + dt.timedelta(days=1)
    prev, d = decide(signals(0.40, 0.0), prev, lp, NOW + dt.timedelta(days=7))
    assert (d.new_level, d.changed) == ("L2", False)  # the sixth day after the start
    # the seventh day after it, an hour earlier in the day: seven days in UTC days
    prev, d = decide(signals(0.40, 0.0), prev, lp, NOW + dt.timedelta(days=7, hours=23))
    assert (d.old_level, d.new_level, d.direction, d.rule) == ("L2", "L1", "down", "cooldown")
    assert d.reason_key == "deescalated_after_cooldown"
    assert d.reason_params == {"days": 7.0, "margin": 0.05}
    assert prev.below_since is None


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, 86_399_999),  # the day's millisecond each run was evaluated at
    run=st.integers(0, 86_399_999),
    days=st.integers(0, 10),
)
def test_a_cool_down_ends_on_the_same_run_whatever_the_time_of_day(params, start, run, days):
    """cooldown_days: 7 is the run seven days after the one that started it, as replay (runs
    at midnight) shows it. Counted to the second, a daily job that started a second later in
    the day held the level one run longer, and so did every cool-down over the spring clock
    change for a job run by a local cron (06:00 Berlin is 05:00 UTC, then 04:00 UTC)."""
    lp = params.ladder
    day0 = dt.datetime(2026, 3, 25, tzinfo=dt.UTC)
    began = day0 + dt.timedelta(milliseconds=start)
    prev, d = decide(signals(0.40, 0.0), state("L2"), lp, began)
    assert (d.reason_key, prev.below_since) == ("cooling_down", began)
    at = day0 + dt.timedelta(days=days, milliseconds=run)
    if at <= began:
        return
    _, d = decide(signals(0.40, 0.0), prev, lp, at)
    assert (d.new_level == "L1") is (days >= lp.hysteresis.cooldown_days)


def test_a_cool_down_over_the_clock_change_ends_after_seven_runs_of_a_local_cron(lp):
    berlin_6am = [dt.datetime(2026, 3, d, 6, 0, 1, tzinfo=BERLIN) for d in range(25, 32)]
    prev, _ = decide(signals(0.40, 0.0), state("L2"), lp, berlin_6am[0])
    for at in berlin_6am[1:]:
        prev, d = decide(signals(0.40, 0.0), prev, lp, at)
        assert d.reason_key == "cooling_down"
    _, d = decide(signals(0.40, 0.0), prev, lp, dt.datetime(2026, 4, 1, 6, 0, tzinfo=BERLIN))
    assert (d.new_level, d.rule) == ("L1", "cooldown")


def test_a_bounce_back_into_the_band_restarts_the_cool_down(lp):
    prev = state("L2")
    prev, _ = decide(signals(0.40, 0.0), prev, lp, NOW)
    prev, _ = decide(signals(0.53, 0.0), prev, lp, NOW + dt.timedelta(days=3))
    assert prev.below_since is None
    prev, d = decide(signals(0.40, 0.0), prev, lp, NOW + dt.timedelta(days=8))
    assert (d.new_level, d.reason_key) == ("L2", "cooling_down")


def test_de_escalation_stops_at_the_rule_floor(lp):
    prev = state("L3", below_since=NOW - dt.timedelta(days=30))
    _, d = decide(signals(0.0, 0.0, open_p1_past_sla=1), prev, lp, NOW)
    assert (d.new_level, d.rule) == ("L2", "cooldown")


def test_de_escalation_may_skip_levels_down_to_what_risk_still_holds(lp):
    prev = state("L3", below_since=NOW - dt.timedelta(days=30))
    _, d = decide(signals(0.0, 0.0), prev, lp, NOW)
    assert (d.old_level, d.new_level) == ("L3", "L0")
    assert d.due_at is None


def test_a_step_down_keeps_the_episode_acknowledged_and_does_not_climb_back(lp):
    """An acknowledged L2 cools down to L1: still acknowledged, nothing due, and days later no
    timeout takes it back up (an audit saw every cooled-down account flap back the next day)."""
    acked = NOW - dt.timedelta(days=9)
    prev = state("L2", acknowledged_at=acked, below_since=NOW - dt.timedelta(days=8))
    new, d = decide(signals(0.40, 0.0), prev, lp, NOW)
    assert (d.old_level, d.new_level, d.rule) == ("L2", "L1", "cooldown")
    assert new.acknowledged_at == acked and new.due_at is None and d.due_at is None
    later, d = decide(signals(0.40, 0.0), new, lp, NOW + dt.timedelta(days=10))
    assert (d.new_level, d.changed) == ("L1", False)
    resolved = state("L3", resolved_at=acked, below_since=NOW - dt.timedelta(days=8))
    new, d = decide(signals(0.40, 0.0), resolved, lp, NOW)
    assert new.resolved_at == acked and new.due_at is None


def test_an_unacknowledged_step_down_is_due_and_its_timeouts_stay_spent(lp):
    """Still nobody acknowledged: the lower level's owners have a due time, but the episode's
    timeouts (max_repeats) are used up, so it does not climb again by timeout."""
    prev = state("L3", timeouts=2, below_since=NOW - dt.timedelta(days=8))
    new, d = decide(signals(0.40, 0.0), prev, lp, NOW)
    assert (d.new_level, new.timeouts) == ("L1", 2) and new.due_at is not None
    _, d = decide(signals(0.40, 0.0), new, lp, new.due_at + dt.timedelta(hours=1))
    assert (d.new_level, d.changed) == ("L1", False)


def test_a_rerun_at_the_moment_that_set_the_level_decides_nothing_new(lp):
    """A back-dated day run twice evaluates at the same midnight: the second run must not start
    a cool-down the first did not (it ended a day early, and the runs disagreed with replay)."""
    lp = ladder_with(lp, timeout__while_cooling_down=True)
    prev = state("L1", due_at=NOW - dt.timedelta(hours=1))
    first, d = decide(signals(0.0, 0.0), prev, lp, NOW)  # timeout: up to L2, risk is low
    assert (d.new_level, d.rule, first.below_since) == ("L2", "timeout", None)
    again, d = decide(signals(0.0, 0.0), first, lp, NOW)
    assert again == first and not d.changed
    acked = dataclasses.replace(again, acknowledged_at=NOW + dt.timedelta(hours=1))
    later, d = decide(signals(0.0, 0.0), acked, lp, NOW + dt.timedelta(days=1))
    assert later.below_since == NOW + dt.timedelta(days=1)  # the next day's run starts it


def test_a_rerun_at_a_moment_a_run_already_decided_decides_nothing_new(lp):
    """A back-dated day run again (on corrected data or params) evaluates at the midnight the
    first run decided at: for an account whose level an earlier day set, it escalated, timed
    out, or started or cleared a cool-down all the same. With `settled` it keeps the state."""
    cooling = state("L2", below_since=NOW - dt.timedelta(days=2))
    in_l2 = lp.levels["L2"].entry.escalation_risk + 0.01
    for prev, risk in (
        (state("L0"), 0.99),  # the corrected data calls for L3
        (cooling, in_l2),  # back in the band: would clear the cool-down
        (state("L2"), 0.0),  # would start a cool-down
        (state("L1", due_at=NOW - dt.timedelta(hours=1)), 0.0),  # overdue: would time out
    ):
        new, d = decide(signals(risk, 0.0), prev, lp, NOW, settled=NOW)
        assert new == prev and not d.changed and d.new_level == prev.level
        moved, _ = decide(signals(risk, 0.0), prev, lp, NOW + dt.timedelta(hours=1), settled=NOW)
        assert moved != prev  # a later run decides as ever


def test_without_a_cool_down_an_account_steps_down_on_the_first_run_below(lp):
    """hysteresis.cooldown_days: 0 (allowed: "below ... for 0 days") still held the level for
    one more run: the first run below only started the cool-down clock."""
    no_cooldown = ladder_with(lp, hysteresis__cooldown_days=0)
    new, d = decide(signals(0.0, 0.0), state("L2"), no_cooldown, NOW)
    assert (d.new_level, d.rule, new.below_since) == ("L0", "cooldown", None)
    new, d = decide(signals(0.0, 0.0), state("L2"), lp, NOW)  # the shipped 7 days: it starts
    assert (d.new_level, d.reason_key, new.below_since) == ("L2", "cooling_down", NOW)


def test_escalation_clears_acknowledgement_and_sets_a_new_due_time(lp):
    prev = state(
        "L1", acknowledged_at=NOW - dt.timedelta(hours=3), due_at=NOW - dt.timedelta(hours=5)
    )
    new, d = decide(signals(0.6, 0.0), prev, lp, NOW)
    assert (d.old_level, d.new_level, d.direction) == ("L1", "L2", "up")
    assert new.acknowledged_at is None
    assert new.due_at == d.due_at == due_at(NOW, 4, True, lp)
    assert new.decision_id == d.decision_id


def test_decisions_are_deterministic_and_ids_stable(lp):
    a = decide(signals(0.6, 0.2), state("L1"), lp, NOW)
    b = decide(signals(0.6, 0.2), state("L1"), lp, NOW)
    assert a == b
    c = decide(signals(0.6, 0.2), state("L1"), lp, NOW + dt.timedelta(days=1))
    assert c[1].decision_id != a[1].decision_id


def test_a_stored_level_that_no_longer_exists_is_a_user_error(lp):
    with pytest.raises(UserError, match="'L9' is not in ladder.levels") as refused:
        decide(signals(), state("L9"), lp, NOW)
    # told in the team's language where a command shows it (it stayed English)
    assert "die gespeicherte Stufe 'L9' steht nicht in ladder.levels" in refused.value.told("de")


def test_a_calendar_without_business_hours_is_refused_in_the_teams_language(lp):
    """ "no business hours within three years" stayed English for a German team."""
    from serving.ladder import due_at

    closed = lp.business_calendar.model_copy(update={"weekly": dict.fromkeys(
        lp.business_calendar.weekly, None)})  # fmt: skip
    shut = lp.model_copy(update={"business_calendar": closed})
    with pytest.raises(UserError, match="no business hours within three years") as refused:
        due_at(NOW, 4, True, shut)
    assert "keine Geschäftszeiten innerhalb von drei Jahren" in refused.value.told("de")


def test_naive_now_is_rejected(lp):
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(signals(), None, lp, dt.datetime(2025, 1, 1))


# --- property: more risk never means a lower level ---------------------------------------------

risk = st.floats(0, 1, allow_nan=False)


@st.composite
def prev_states(draw: st.DrawFn) -> LadderState | None:
    if draw(st.booleans()):
        return None
    due = draw(st.sampled_from([None, NOW - dt.timedelta(hours=1), NOW + dt.timedelta(hours=1)]))
    below = draw(st.sampled_from([None, NOW - dt.timedelta(days=1), NOW - dt.timedelta(days=30)]))
    return state(
        draw(st.sampled_from(["L0", "L1", "L2", "L3"])),
        due_at=due,
        below_since=below,
        timeouts=draw(st.integers(0, 3)),
        acknowledged_at=draw(st.sampled_from([None, NOW - dt.timedelta(hours=2)])),
    )


@settings(max_examples=300, deadline=None)
@given(
    esc=risk,
    churn=risk,
    d_esc=risk,
    d_churn=risk,
    prev=prev_states(),
    p1_late=st.integers(0, 2),
    renewal=st.one_of(st.none(), st.integers(0, 400)),
)
def test_raising_a_risk_never_lowers_the_level(
    params, esc, churn, d_esc, d_churn, prev, p1_late, renewal
):
    lp = params.ladder
    names = list(lp.levels)
    low = signals(esc, churn, open_p1_past_sla=p1_late, days_to_renewal=renewal)
    high = dataclasses.replace(
        low, escalation_risk=min(1.0, esc + d_esc), churn_risk=min(1.0, churn + d_churn)
    )
    _, d_low = decide(low, prev, lp, NOW)
    _, d_high = decide(high, prev, lp, NOW)
    assert names.index(d_high.new_level) >= names.index(d_low.new_level)


# --- due times -------------------------------------------------------------------------------


def berlin(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("start", "hours", "business", "expected"),
    [
        (berlin(2025, 6, 18, 12, 0), 4, False, berlin(2025, 6, 18, 16, 0)),
        (berlin(2025, 6, 18, 20, 0), 4, False, berlin(2025, 6, 19, 0, 0)),
        (berlin(2025, 6, 18, 12, 0), 4, True, berlin(2025, 6, 18, 16, 0)),
        (berlin(2025, 6, 18, 15, 0), 4, True, berlin(2025, 6, 19, 11, 0)),  # across the night
        (berlin(2025, 6, 18, 7, 30), 2, True, berlin(2025, 6, 18, 11, 0)),  # before opening
        (berlin(2025, 6, 18, 17, 0), 1, True, berlin(2025, 6, 19, 10, 0)),  # at closing
        (berlin(2025, 6, 20, 16, 0), 4, True, berlin(2025, 6, 23, 12, 0)),  # across the weekend
        (berlin(2025, 6, 21, 11, 0), 16, True, berlin(2025, 6, 24, 17, 0)),  # starts on a Saturday
        (berlin(2025, 12, 23, 15, 0), 4, True, berlin(2025, 12, 29, 11, 0)),  # holidays + weekend
        (berlin(2025, 6, 18, 9, 0), 8, True, berlin(2025, 6, 18, 17, 0)),  # exactly one day
        # DST starts Sunday 2025-03-30 (CET -> CEST): Friday afternoon + 4 h lands Monday 12:00 CEST
        (berlin(2025, 3, 28, 16, 0), 4, True, berlin(2025, 3, 31, 12, 0)),
        # DST ends Sunday 2025-10-26 (CEST -> CET)
        (berlin(2025, 10, 24, 16, 0), 4, True, berlin(2025, 10, 27, 12, 0)),
        # clock hours across the spring-forward night: 24 real hours, 25 on the wall clock
        (berlin(2025, 3, 29, 12, 0), 24, False, berlin(2025, 3, 30, 13, 0)),
    ],
)
def test_due_times_in_business_hours_across_nights_weekends_holidays_and_dst(
    lp, start, hours, business, expected
):
    got = due_at(start, hours, business, lp)
    assert got == expected
    assert got.tzinfo is not None and got.utcoffset() == dt.timedelta(0)


def test_dst_due_time_in_utc_is_not_a_fixed_offset(lp):
    got = due_at(dt.datetime(2025, 3, 28, 15, 0, tzinfo=dt.UTC), 4, True, lp)
    assert got == dt.datetime(2025, 3, 31, 10, 0, tzinfo=dt.UTC)  # CEST, not CET's 11:00 UTC


def test_split_business_day_and_another_zone(lp):
    ladder = ladder_with(
        lp,
        business_calendar__time_zone="America/New_York",
        business_calendar__weekly={
            "mon": "08:00-12:00,13:00-17:00",
            "tue": "08:00-12:00,13:00-17:00",
        },
        business_calendar__holidays=[],
    )
    ny = ZoneInfo("America/New_York")
    # Monday 2025-03-10 is the day after US DST starts
    got = due_at(dt.datetime(2025, 3, 10, 11, 0, tzinfo=ny), 3, True, ladder)
    assert got == dt.datetime(2025, 3, 10, 15, 0, tzinfo=ny)
    got = due_at(dt.datetime(2025, 3, 10, 16, 0, tzinfo=ny), 10, True, ladder)
    assert got == dt.datetime(2025, 3, 17, 9, 0, tzinfo=ny)  # Tue is full (8 h), then next Monday


# --- validation against the feature spec ------------------------------------------------------


def test_validate_against_names_rules_with_unknown_features(lp):
    rules = [
        {
            "name": "ok",
            "when": [{"feature": "usage_drop", "op": ">=", "value": 0.3}],
            "min_level": "L1",
        },
        {
            "name": "typo",
            "when": [{"feature": "usgae_drop", "op": ">=", "value": 0.3}],
            "min_level": "L1",
        },
    ]
    validate_against(ladder_with(lp, rules=rules[:1]), ["usage_drop"])
    with pytest.raises(
        UserError,
        match=r"ladder\.rules\[1\]\.when\[0\]\.feature: unknown feature 'usgae_drop' in rule 'typo' "
        r"\(not in the model's feature spec\); did you mean 'usage_drop'\?",
    ):
        validate_against(ladder_with(lp, rules=rules), ["usage_drop"])


def test_rules_the_model_cannot_serve_are_refused_in_the_commands_language(lp):
    """`escrisk daily / serve / replay --language de` refused a ladder naming a feature the
    champion lacks in English."""
    rules = [{"name": "typo", "when": [{"feature": "usgae_drop", "op": ">=", "value": 0.3}],
              "min_level": "L1"}]  # fmt: skip
    with pytest.raises(UserError) as got:
        validate_against(ladder_with(lp, rules=rules), ["usage_drop"])
    assert got.value.told("de") == (
        "die Stufen-Einstellungen (ladder) passen nicht zum Modell:\n  "
        "ladder.rules[0].when[0].feature: unbekanntes Merkmal 'usgae_drop' in Regel 'typo' "
        "(nicht in der Merkmalsliste des Modells); meinten Sie 'usage_drop'?"
    )


def test_every_fact_a_rule_may_name_is_an_account_fact():
    assert set(FACTS) <= {f.name for f in dataclasses.fields(AccountFacts)}


@pytest.fixture(scope="module")
def params(params, classic_ladder):
    """The ladder's mechanics, tested against a pinned policy (tests/serving/conftest.py)."""
    return classic_ladder(params)


def test_holidays_recur_every_year_and_follow_easter(lp):
    """The shipped calendar named its holidays by date and ran out at the end of 2026: from 2027
    Christmas and Easter were working days. Recurring days and Easter offsets never run out."""
    ladder = ladder_with(
        lp, business_calendar__holidays=["12-25", "12-26", "easter-2", "easter+1", "2030-07-01"]
    )
    cal = ladder.business_calendar
    # Christmas 2031 is a Thursday/Friday: 4 h from Wednesday 15:00 land on Monday 11:00
    assert due_at(berlin(2031, 12, 24, 15, 0), 4, True, ladder) == berlin(2031, 12, 29, 11, 0)
    # Easter 2027 is March 28: Good Friday the 26th and Easter Monday the 29th are closed
    assert due_at(berlin(2027, 3, 25, 16, 0), 4, True, ladder) == berlin(2027, 3, 30, 12, 0)
    assert cal.is_holiday(dt.date(2030, 7, 1)) and not cal.is_holiday(dt.date(2031, 7, 1))
    assert not cal.is_holiday(dt.date(2031, 12, 24))


US_HOLIDAYS = ["01-01", "01-mon-3", "05-mon-last", "07-04", "09-mon-1", "11-thu-4", "11-thu-4+1"]


@pytest.mark.parametrize(
    ("day", "closed"),
    [
        ("2026-01-19", True),  # Martin Luther King Jr. Day: third Monday of January
        ("2026-01-12", False),
        ("2026-05-25", True),  # Memorial Day: last Monday of May (May has five Mondays)
        ("2026-05-18", False),
        ("2027-05-31", True),
        ("2026-09-07", True),  # Labor Day: first Monday of September
        ("2026-11-26", True),  # Thanksgiving: fourth Thursday of November
        ("2026-11-27", True),  # and the day after it
        ("2028-11-23", True),
        ("2028-11-30", False),  # the fifth Thursday of November 2028
        ("2029-11-22", True),
        ("2029-11-23", True),
    ],
)
def test_holidays_on_a_weekday_of_a_month_recur_every_year(lp, day, closed):
    """A US team's holidays fall on weekdays of a month (Thanksgiving, Memorial Day), which only
    single dates could name: the list ran out, and a flag due on Thanksgiving timed out upwards."""
    cal = ladder_with(lp, business_calendar__holidays=US_HOLIDAYS).business_calendar
    assert cal.is_holiday(dt.date.fromisoformat(day)) is closed


def test_a_due_time_skips_thanksgiving_in_new_york(lp):
    ladder = ladder_with(
        lp,
        business_calendar__time_zone="America/New_York",
        business_calendar__holidays=US_HOLIDAYS,
    )
    ny = ZoneInfo("America/New_York")
    # Wednesday 15:00 + 4 business hours: 2 on Wednesday, Thursday and Friday closed, Monday 11:00
    due = due_at(dt.datetime(2026, 11, 25, 15, 0, tzinfo=ny), 4, True, ladder)
    assert due == dt.datetime(2026, 11, 30, 11, 0, tzinfo=ny)


@pytest.mark.parametrize("given", ["11-thu-5", "13-mon-1", "11-thursday-4", "11-thu-last+x"])
def test_a_weekday_holiday_that_names_no_day_is_refused(lp, given):
    with pytest.raises(pydantic.ValidationError, match="weekday of a month"):
        ladder_with(lp, business_calendar__holidays=[given])


def test_a_leap_day_holiday_is_closed_only_in_leap_years(lp):
    cal = ladder_with(lp, business_calendar__holidays=["02-29"]).business_calendar
    assert cal.is_holiday(dt.date(2028, 2, 29))
    assert not any(cal.is_holiday(dt.date(2027, 2, d)) for d in range(1, 29))
    assert not cal.is_holiday(dt.date(2027, 3, 1))


def test_the_shipped_calendar_keeps_germanys_holidays_in_years_to_come(lp):
    cal = lp.business_calendar
    for day in ("2027-01-01", "2027-03-26", "2027-03-29", "2027-10-03", "2035-12-25"):
        assert cal.is_holiday(dt.date.fromisoformat(day)), day
    assert not cal.is_holiday(dt.date(2027, 3, 25))


def test_a_round_the_clock_calendar_counts_every_hour(lp):
    """ "24:00" was refused, so a 24/7 support team could not write its opening hours (only
    business_hours: false, which drops the holidays); "00:00-24:00" is the whole day now."""
    always = {d: "00:00-24:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    ladder = ladder_with(
        lp, business_calendar__weekly=always, business_calendar__holidays=["12-25"]
    )
    assert ladder.business_calendar.weekly_hours() == 168
    # Saturday 22:00 + 4 h: through midnight into Sunday
    assert due_at(berlin(2025, 6, 21, 22, 0), 4, True, ladder) == berlin(2025, 6, 22, 2, 0)
    # the holiday is closed the whole day
    assert due_at(berlin(2025, 12, 24, 23, 0), 2, True, ladder) == berlin(2025, 12, 26, 1, 0)
    evening = ladder_with(lp, business_calendar__weekly={"mon": "18:00-24:00"})
    assert evening.business_calendar.weekly_hours() == 6
    assert due_at(berlin(2025, 6, 23, 23, 0), 2, True, evening) == berlin(2025, 6, 30, 19, 0)
