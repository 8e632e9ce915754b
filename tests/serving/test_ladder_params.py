"""Ladder and notification settings: every mistake is an error that names its key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from features.errors import UserError
from features.params import StrictModel
from serving.params import LadderParams, NotificationParams

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))


def set_path(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    node: Any = data
    *path, last = dotted.split(".")
    for key in path:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


DELETE = object()


class Sections(StrictModel):
    """Only the sections this test owns, so others' sections being edited cannot break it."""

    ladder: LadderParams
    notifications: NotificationParams


def parse_params(data: dict[str, Any]) -> Sections:
    """Validate like `serving.params.parse_params`: errors as "key.path: message" lines."""
    try:
        return Sections.model_validate({k: data[k] for k in ("ladder", "notifications")})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = "required key is missing" if err["type"] == "missing" else err["msg"]
            msg = "unknown key" if err["type"] == "extra_forbidden" else msg
            lines.append(".".join(str(p) for p in err["loc"]) + ": " + msg)
        raise UserError("\n".join(lines)) from None


def test_repo_params_are_valid(raw):
    params = parse_params(raw)
    assert list(params.ladder.levels) == ["L0", "L1", "L2", "L3"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "ladder.levels.L2.entry.escalation_risk",
            0.10,
            r"levels\.L2\.entry\.escalation_risk: thresholds not monotonic: 0\.1 is not above 0\.15 of the lower level L1",
        ),
        (
            "ladder.levels.L3.entry.churn_risk",
            0.25,
            r"levels\.L3\.entry\.churn_risk: thresholds not monotonic",
        ),
        (
            "ladder.levels.L1.channels",
            ["email", "sms"],
            r"ladder\.levels\.L1\.channels: .*unknown channel 'sms'",
        ),
        ("ladder.levels.L2.owners", DELETE, r"ladder\.levels\.L2\.owners: required key is missing"),
        (
            "ladder.levels.L2.owners",
            [],
            r"ladder\.levels\.L2\.owners: .*at least one non-empty owner role",
        ),
        (
            "ladder.rules.0.min_level",
            "L7",
            r"rules\[0\]\.min_level: unknown level 'L7' in rule 'p1_past_sla'",
        ),
        (
            "ladder.rules.0.when",
            [{"fact": "open_p0", "op": ">=", "value": 1}],
            r"ladder\.rules\.0\.when\.0: .*unknown fact 'open_p0'",
        ),
        (
            "ladder.rules.0.when",
            [{"fact": "open_p1", "op": "~", "value": 1}],
            r"unknown operator '~'",
        ),
        (
            "ladder.rules.0.when",
            [{"fact": "open_p1", "feature": "x", "op": ">=", "value": 1}],
            r"name exactly one of fact, feature or score",
        ),
        (
            "ladder.rules.0.when",
            [{"fact": "tier", "op": ">=", "value": "enterprise"}],
            r"operator '>=' needs a number",
        ),
        (
            "ladder.rules.0.when",
            [{"fact": "tier", "op": "in", "value": "enterprise"}],
            r"operator 'in' needs a list",
        ),
        (
            "ladder.rules.0.when",
            [{"fact": "open_p1", "op": ">=", "value": float("nan")}],
            r"ladder\.rules\.0\.when\.0\.value: .*must be a finite number\n",
        ),
        (
            "ladder.rules.0.when",
            [{"fact": "open_p1", "op": ">=", "value": {"at_least": 1}}],
            r"ladder\.rules\.0\.when\.0\.value: .*must be a number, a text or a list of them\n",
        ),
        (
            "ladder.rules.0.when",
            [{"fact": "tier", "op": "in", "value": ["enterprise", None]}],
            r"ladder\.rules\.0\.when\.0\.value: .*\(None in the list\)\n",
        ),
        (
            "ladder.rules.1.when.1",
            {"score": "churn_risk", "op": ">=", "value": 30},
            r"ladder\.rules\.1\.when\.1: .*value: a score is a calibrated probability from 0 to 1 \(got 30",
        ),
        (
            "ladder.priority.urgency.0.any.0",
            {"score": "escalation_risk", "op": ">=", "value": -0.5},
            r"ladder\.priority\.urgency\.0\.any\.0: .*from 0 to 1 \(got -0\.5",
        ),
        ("ladder.rules.1.name", "p1_past_sla", r"duplicate rule names \['p1_past_sla'\]"),
        (
            "ladder.levels.L1.actions",
            ["call_mum"],
            r"levels\.L1\.actions: unknown action 'call_mum'",
        ),
        (
            "ladder.levels.L0.entry",
            {"escalation_risk": 0.1, "churn_risk": None},
            r"levels\.L0\.entry: the lowest level is the floor",
        ),
        (
            "ladder.levels.L1.entry.churn_risk",
            1.4,
            r"ladder\.levels\.L1\.entry\.churn_risk: .*less than or equal to 1",
        ),
        (
            "ladder.levels.L1.response_hours",
            0,
            r"ladder\.levels\.L1\.response_hours: .*greater than 0",
        ),
        ("ladder.levels.L1.title", {"de": "X"}, r"levels\.L1\.title: needs at least an English"),
        (
            "ladder.hysteresis.margin",
            0.9,
            r"hysteresis\.margin: 0\.9 is not below levels\.L1\.entry",
        ),
        (
            "ladder.rules.0.title",
            {"de": "X"},
            r"rules\[0\]\.title: rule 'p1_past_sla' needs at least an English",
        ),
        (
            "ladder.business_calendar.time_zone",
            "Mars/Olympus",
            r"ladder\.business_calendar\.time_zone: .*unknown time zone 'Mars/Olympus'",
        ),
        (
            "ladder.business_calendar.weekly.mon",
            "9-17",
            r'business_calendar\.weekly(\.|: Value error, )mon: \'9-17\' is not "HH:MM-HH:MM"',
        ),
        (
            "ladder.business_calendar.weekly.mon",
            "13:00-17:00,09:00-12:00",
            r"business_calendar\.weekly(\.|: Value error, )mon: intervals must be ordered",
        ),
        ("ladder.business_calendar.weekly.funday", "09:00-10:00", r"unknown weekday 'funday'"),
        (
            "ladder.priority.matrix.low",
            {"high": "P3", "medium": "P4"},
            r"matrix\.low: no priority for urgency \['low'\]",
        ),
        (
            "ladder.priority.impact.2.any",
            [{"fact": "arr", "op": ">=", "value": 1}],
            r"priority\.impact: the last class \(low\) is the default",
        ),
        (
            "ladder.routing.families.usage",
            "growth",
            r"unknown team in routing\.families\.usage: 'growth'",
        ),
        ("ladder.levels.L1.escalate", True, r"ladder\.levels\.L1\.escalate: unknown key"),
        (
            "notifications.channels.pager",
            {"notifier": "none"},
            r"notifications\.channels: .*unknown channel 'pager'",
        ),
        (
            "notifications.channels.slack",
            {"notifier": "webhook"},
            r"notifications\.channels\.slack: .*needs a url",
        ),
        ("notifications.channels.email", {"notifier": "pigeon"}, r"unknown notifier 'pigeon'"),
        (
            "notifications.retry.max_attempts",
            0,
            r"notifications\.retry\.max_attempts: .*greater than or equal to 1",
        ),
        (  # a claim that lapses while its send may still run: a second sender sends it again
            "notifications.retry.lease_seconds",
            5,
            r"notifications(\.|: Value error, )retry\.lease_seconds: 5 is not above .*10 s.* twice",
        ),
    ],
)
def test_invalid_ladder_settings_name_the_key(raw, path, value, message):
    with pytest.raises(UserError, match=message):
        parse_params(set_path(raw, path, value))


def test_level_names_come_from_the_mapping_and_rules_must_use_them(raw):
    levels = raw["ladder"]["levels"]
    renamed = {"watch" if k == "L0" else k: v for k, v in levels.items()}
    parse_params(set_path(raw, "ladder.levels", renamed))  # any names work, order is the ladder
    with pytest.raises(UserError, match=r"unknown level 'L2'"):
        parse_params(set_path(raw, "ladder.levels", {k: v for k, v in levels.items() if k != "L2"}))


def test_the_longest_response_targets_allowed_get_a_due_time(raw):
    """The bounds are what due_at can compute: a year of business hours (it looks three years
    ahead) and 100 years of clock hours; 1e15 hours loaded and then crashed the daily run."""
    import datetime as dt

    from serving.ladder import due_at

    ladder = parse_params(raw).ladder
    start = dt.datetime(2026, 6, 29, 10, tzinfo=dt.UTC)
    yearly = 52 * ladder.business_calendar.weekly_hours()
    assert due_at(start, yearly, True, ladder) > start + dt.timedelta(days=365)
    assert due_at(start, 876_000, False, ladder).year == 2126
    with pytest.raises(UserError, match=r"levels\.L2\.response_hours: .*more than a year"):
        parse_params(set_path(raw, "ladder.levels.L2.response_hours", yearly + 1))
    with pytest.raises(UserError, match=r"levels\.L3\.response_hours: .*less than or equal"):
        parse_params(set_path(raw, "ladder.levels.L3.response_hours", 1e15))
