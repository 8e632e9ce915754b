"""The escalation ladder: from calibrated risks, features and account facts to a level, an owner,
a team, a priority and a due time.

Pure and deterministic: no clock, no I/O. `decide(signals, previous, params, now)` returns the
account's new `LadderState` and the `Decision` that explains it; the store persists both and the
notifier turns a changed decision into messages. Configuration lives in `params.yaml` (`ladder:`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from features.businesstime import FAR, add_business
from features.errors import CatalogRefusal, UserError
from features.params import closest
from serving.params import Condition, LadderParams, LevelParams, did_you_mean
from serving.reasons import RowReasons

# Decision.rule values besides "rule:<name>".
RISK, TIMEOUT, COOLDOWN, HOLD, FIRST = "risk", "timeout", "cooldown", "hold", "first"
_NAMESPACE = uuid.UUID("5d0a6f3e-2c1b-4f7e-9a51-3b1d7c0e8a42")
_NAMESPACE_BYTES = _NAMESPACE.bytes
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the ladder knows about an account besides the model: size, contract and open tickets."""

    arr: float
    tier: str
    seats: int
    days_to_renewal: int | None
    open_p1: int
    open_p2: int
    open_p1_past_sla: int
    open_p2_past_sla: int
    language: str = "en"
    csm_owner: str | None = None
    name: str | None = None  # the account's name, for people (messages); never a rule's subject


@dataclass(frozen=True, slots=True)
class Signals:
    """One account's inputs on one evaluation. `reasons` are the rendered top reasons (JSON-able
    dicts with at least a `text` key) passed through to the audit trail and the messages."""

    account_id: str
    escalation_risk: float
    churn_risk: float
    features: Mapping[str, Any]
    reason_family: str | None
    facts: AccountFacts
    reasons: Sequence[Mapping[str, Any]] = ()  # a tuple, or the daily job's RowReasons


@dataclass(frozen=True, slots=True)
class LadderState:
    """What the ladder remembers per account between evaluations."""

    account_id: str
    level: str
    since: dt.datetime  # when the current level was entered
    due_at: dt.datetime | None  # acknowledge by; None when the level has no response target
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    below_since: dt.datetime | None  # risk below entry - margin since; None when not cooling down
    timeouts: int  # automatic one-level steps in this unacknowledged episode
    decision_id: str | None  # the decision that set the current level


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one evaluation: what changed, why, who acts, by when, and how they hear."""

    decision_id: str
    account_id: str
    at: dt.datetime
    old_level: str | None
    new_level: str
    changed: bool
    direction: str  # "up", "down" or "same"
    rule: str  # "risk", "rule:<name>", "timeout", "cooldown", "hold", "first"
    reason_key: str  # message-catalog key explaining the decision
    reason_params: Mapping[str, Any]
    owners: tuple[str, ...]
    team: str
    priority: str
    due_at: dt.datetime | None
    channels: tuple[str, ...]
    actions: tuple[str, ...]
    escalation_risk: float
    churn_risk: float
    reasons: Sequence[Mapping[str, Any]] = field(default=())


# --- conditions ------------------------------------------------------------------------------


def _value(cond: Condition, signals: Signals) -> Any:
    if cond.score is not None:
        return getattr(signals, cond.score)
    if cond.fact is not None:
        return getattr(signals.facts, cond.fact)
    return signals.features.get(cond.feature or "")


def holds(cond: Condition, signals: Signals) -> bool:
    """A condition on a missing value (None, NaN, absent feature) does not hold."""
    x = _value(cond, signals)
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return False
    v = cond.value
    match cond.op:
        case "in":
            return x in v  # type: ignore[operator]
        case "not_in":
            return x not in v  # type: ignore[operator]
        case "==":
            return bool(x == v)
        case "!=":
            return bool(x != v)
    if isinstance(x, str):
        return False
    xf, vf = float(x), float(v)  # type: ignore[arg-type]
    return {">=": xf >= vf, ">": xf > vf, "<=": xf <= vf, "<": xf < vf}[cond.op]


# --- levels ----------------------------------------------------------------------------------


def _entered(level: LevelParams, esc: float, churn: float, margin: float) -> bool:
    e = level.entry
    if e is None:
        return False
    return (e.escalation_risk is not None and esc >= e.escalation_risk - margin) or (
        e.churn_risk is not None and churn >= e.churn_risk - margin
    )


def risk_level(esc: float, churn: float, params: LadderParams, margin: float = 0.0) -> int:
    """Index of the highest level whose entry criteria the risks meet (with `margin` slack)."""
    best = 0
    for i, level in enumerate(params.levels.values()):
        if i and _entered(level, esc, churn, margin):
            best = i
    return best


def rule_floor(signals: Signals, params: LadderParams) -> tuple[int, str | None]:
    """The highest level a hard rule demands, and the first rule demanding it."""
    names = list(params.levels)
    best, fired = 0, None
    for rule in params.rules:
        if all(holds(c, signals) for c in rule.when):
            i = names.index(rule.min_level)
            if i > best:
                best, fired = i, rule.name
    return best, fired


def priority(signals: Signals, params: LadderParams) -> str:
    """Impact (size) x urgency (risk, tickets, renewal) -> priority, from the configured matrix."""
    pp = params.priority

    def pick(classes: Sequence[Any]) -> str:
        for c in classes:
            if any(holds(cond, signals) for cond in c.any):
                return str(c.name)
        return str(classes[-1].name)

    return pp.matrix[pick(pp.impact)][pick(pp.urgency)]


def team(reason_family: str | None, params: LadderParams) -> str:
    if reason_family is None:
        return params.routing.default_team
    return params.routing.families.get(reason_family, params.routing.default_team)


# --- due times -------------------------------------------------------------------------------


def as_utc(t: dt.datetime) -> dt.datetime:
    """`t` in UTC; a naive time is refused, as the ladder cannot tell its zone."""
    if t.tzinfo is None:
        raise ValueError("times passed to the ladder must be timezone-aware")
    return dt.datetime.fromtimestamp(t.timestamp(), tz=dt.UTC)


class LadderRefusal(CatalogRefusal):
    """What the ladder cannot decide with these settings or this stored state: English as
    raised, told in the command's language (both stayed English for a German team)."""

    @staticmethod
    def say(key: str, language: str, **values: Any) -> str:
        from serving.ladder_cli_text import say

        return say(key, language, **values)


def due_at(start: dt.datetime, hours: float, business: bool, params: LadderParams) -> dt.datetime:
    """`start` plus `hours` of clock time, or of business time in the calendar's time zone.

    Business time is counted in real elapsed time inside local opening intervals, so nights,
    weekends, holidays and DST changes are handled by the zone database, not by fixed offsets
    (`features.businesstime`, which the SLA features count business-hour targets with too).
    """
    start = as_utc(start)
    remaining = dt.timedelta(hours=hours)
    if not business:
        return start + remaining
    at = (start - _EPOCH) // _US * 1000  # ns since the epoch, as the arithmetic takes times
    span = remaining // _US * 1000
    cal = params.business_calendar
    key = (at, span, cal.time_zone, tuple(sorted(cal.weekly.items())), tuple(cal.holidays))
    due = _BUSINESS_DUE.get(key)
    if due is None:
        horizon = at + 3 * 366 * 86_400 * 10**9  # the calendar's next three years
        due = int(add_business(np.array([at]), np.array([span]), cal, horizon)[0])
        if due == FAR or due > horizon:
            raise LadderRefusal("no_business_hours")
        if len(_BUSINESS_DUE) >= 4096:
            _BUSINESS_DUE.clear()
        _BUSINESS_DUE[key] = due
    return _EPOCH + due // 1000 * _US


# (start ns, span ns, calendar's settings) -> due ns: a run decides every account at one moment,
# so the accounts entering a level share its due time (a numpy call each cost 0.1 ms)
_BUSINESS_DUE: dict[tuple, int] = {}


def _level_due(level: LevelParams, start: dt.datetime, params: LadderParams) -> dt.datetime | None:
    if level.response_hours is None:
        return None
    return due_at(start, level.response_hours, level.business_hours, params)


def cooled_down(since: dt.datetime, now: dt.datetime, days: float) -> bool:
    """Whether a cool-down started at `since` is over at `now`: counted in UTC days, as the daily
    run and replay evaluate, so the run `days` days after the one that started it steps down
    whatever the time of day each ran. Counted to the second, a start a second later in the day
    (a slow start of the job) or a local cron an hour earlier in UTC after the spring clock
    change held the level one run longer than replay showed. A fraction of a day rounds up."""
    elapsed = (as_utc(now).date() - as_utc(since).date()).days
    return elapsed >= days


# --- the decision ----------------------------------------------------------------------------


def decision_id(account_id: str, now: dt.datetime, old: str | None, new: str, rule: str) -> str:
    """Deterministic, so re-running the same evaluation is recognised as the same decision."""
    return name_uuid(f"{account_id}|{as_utc(now).isoformat()}|{old}|{new}|{rule}")


def name_uuid(name: str, namespace: bytes = _NAMESPACE_BYTES) -> str:
    """`str(uuid.uuid5(UUID(bytes=namespace), name))` from hashlib directly: a third of the cost,
    which counts when the daily job decides (and queues messages) for 100,000 accounts."""
    h = hashlib.sha1(namespace + name.encode()).hexdigest()
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


@dataclass(frozen=True, slots=True)
class Assessment:
    """What an evaluation reads from the signals alone (not from the state or the clock): the
    level the risks reach, the hard rules' floor, the priority and the team. Batch paths compute
    it for many accounts at once (`serving.ladderbatch.assess_many`) and pass it to `decide`."""

    by_risk: int
    floor: int
    fired: str | None
    priority: str
    team: str


def assess(signals: Signals, params: LadderParams) -> Assessment:
    esc, churn = float(signals.escalation_risk), float(signals.churn_risk)
    floor, fired = rule_floor(signals, params)
    return Assessment(
        by_risk=risk_level(esc, churn, params),
        floor=floor,
        fired=fired,
        priority=priority(signals, params),
        team=team(signals.reason_family, params),
    )


def kept_reasons(reasons: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """A signal's reasons as a decision keeps them: immutable, and a daily job's RowReasons as
    they are (still to be made)."""
    return reasons if isinstance(reasons, tuple | RowReasons) else tuple(reasons)


def decide(
    signals: Signals,
    previous: LadderState | None,
    params: LadderParams,
    now: dt.datetime,
    assessment: Assessment | None = None,
    settled: dt.datetime | None = None,
) -> tuple[LadderState, Decision]:
    """One evaluation of one account. See docs/ladder.md for the order of the steps.
    `assessment`, when given, must be `assess(signals, params)` (computed in bulk elsewhere).
    `settled`: the moment up to which the ladder has already decided (the latest daily run's
    evaluation time); an evaluation at or before it decides nothing new for a known account,
    and one later the same UTC day times out only what was due by then."""
    now = as_utc(now)
    names = list(params.levels)
    esc, churn = float(signals.escalation_risk), float(signals.churn_risk)
    a = assessment if assessment is not None else assess(signals, params)
    by_risk, floor, fired = a.by_risk, a.floor, a.fired
    target = max(by_risk, floor)
    target_rule = f"rule:{fired}" if floor > by_risk else RISK
    reason_params: dict[str, Any] = {"rule": fired} if floor > by_risk else {}

    if previous is None:
        prev_i = 0
        state = LadderState(signals.account_id, names[0], now, None, None, None, None, 0, None)
    else:
        if previous.level not in params.levels:
            raise LadderRefusal(
                "stored_level_unknown",
                account=previous.account_id,
                level=previous.level,
                levels=names,
            )
        prev_i = names.index(previous.level)
        state = previous

    new_i, rule, reason_key = prev_i, HOLD, "unchanged"
    below_since = state.below_since
    timeouts = state.timeouts
    # evaluated again at the moment that set the level, or at a moment a run already decided
    # (a back-dated day run again, on corrected data or params too): nothing new to decide,
    # no cool-down clock started or cleared and no timeout by the rerun alone
    rerun = previous is not None and (
        now <= previous.since or (settled is not None and now <= as_utc(settled))
    )
    if rerun:
        target = prev_i
    # a due time that ran out after a run of the same day decided is the next day's run to act
    # on: a rerun later that day (on corrected data) timed out, and notified anew, every flag
    # whose response time had passed meanwhile, a second change the day's first run never made
    clock = now
    if settled is not None and as_utc(settled).date() == now.date():
        clock = min(now, as_utc(settled))
    if target > prev_i:
        new_i, rule = target, target_rule
        reason_key = "escalated_by_rule" if rule != RISK else "escalated_by_risk"
        below_since = None
    elif target == prev_i:
        below_since = below_since if rerun else None
    else:
        held = max(risk_level(esc, churn, params, params.hysteresis.margin), floor)
        if held >= prev_i:
            below_since = None
            reason_key = "held_by_hysteresis"
        elif cooled_down(below_since or now, now, params.hysteresis.cooldown_days):
            # below since an earlier evaluation for the cool-down, or at once without one
            new_i, rule, reason_key = held, COOLDOWN, "deescalated_after_cooldown"
            reason_params = {
                "days": params.hysteresis.cooldown_days,
                "margin": params.hysteresis.margin,
            }
            below_since = None
        else:
            below_since = below_since or now
            reason_key = "cooling_down"

    if (
        new_i == prev_i
        and not rerun
        and previous is not None
        and state.due_at is not None
        # a due time stored before the level's response target was removed (response_hours:
        # null) asks nothing of anyone now
        and params.levels[names[prev_i]].response_hours is not None
        and state.acknowledged_at is None
        and state.resolved_at is None
        and clock >= state.due_at
        and timeouts < params.timeout.max_repeats
        # a risk that fell away (and no rule holds the level) is no emergency for the next
        # level's owners: PagerDuty stops escalating a cleared alert too
        and (reason_key != "cooling_down" or params.timeout.while_cooling_down)
        and prev_i + 1 < len(names)
    ):
        new_i, rule, reason_key = prev_i + 1, TIMEOUT, "escalated_by_timeout"
        reason_params = {"previous_due_at": state.due_at.isoformat()}
        timeouts += 1
        below_since = None

    old_level = None if previous is None else previous.level
    new_level = names[new_i]
    level = params.levels[new_level]
    changed = new_i != prev_i
    if previous is None and not changed:
        rule = FIRST
    did = name_uuid(f"{signals.account_id}|{now.isoformat()}|{old_level}|{new_level}|{rule}")
    if changed:
        # up: a new flag, to be acknowledged anew. A step down continues the episode: what was
        # acknowledged or resolved stays so (no new due time, no timeout climbing straight
        # back), and its timeouts stay spent
        down = new_i < prev_i
        acked = state.acknowledged_at if down else None
        resolved = state.resolved_at if down else None
        handled = acked is not None or resolved is not None
        new_state = LadderState(
            account_id=signals.account_id,
            level=new_level,
            since=now,
            due_at=None if handled else _level_due(level, now, params),
            acknowledged_at=acked,
            resolved_at=resolved,
            below_since=below_since,
            timeouts=timeouts if down or rule == TIMEOUT else 0,
            decision_id=did,
        )
    elif level.response_hours is None and state.due_at is not None:
        # the level's response target was removed since its due time was stored: nothing is due
        new_state = dataclasses.replace(state, below_since=below_since, due_at=None)
    else:
        new_state = dataclasses.replace(state, below_since=below_since)
    decision = Decision(
        decision_id=did,
        account_id=signals.account_id,
        at=now,
        old_level=old_level,
        new_level=new_level,
        changed=changed,
        direction="up" if new_i > prev_i else "down" if new_i < prev_i else "same",
        rule=rule,
        reason_key=reason_key,
        reason_params=reason_params,
        owners=level.owners,
        team=a.team,
        priority=a.priority,
        due_at=new_state.due_at,
        channels=level.channels,
        actions=level.actions,
        escalation_risk=esc,
        churn_risk=churn,
        reasons=kept_reasons(signals.reasons),
    )
    return new_state, decision


# --- validation against a model's feature spec ------------------------------------------------


def validate_against(params: LadderParams, feature_names: Sequence[str]) -> None:
    """Check the ladder's references to features against a model's spec.

    The feature spec is known only once a model is loaded, so this runs at the entry point, not
    in the params model (which checks them against the features params.yaml defines, and the
    routing's reason families). Raises a UserError naming every offending key.
    """
    misses = _unknown_features(params, feature_names)
    if misses:
        raise LadderMismatch(misses, list(dict.fromkeys(feature_names)))


class LadderMismatch(UserError):
    """The ladder's rules name features the loaded model lacks (`validate_against`): told in
    the command's language (`escrisk daily --language de` told it in English)."""

    def __init__(self, misses: list[tuple[str, str, str, str]], known: list[str]) -> None:
        self.misses, self.known = misses, known
        super().__init__(self.told("en"))

    def told(self, language: str) -> str:
        from serving.ladder_text import text

        lines = [text("mismatch", language)]
        for where, feature, kind, name in self.misses:
            whose = text(f"mismatch_{'rule' if kind == 'rule' else 'class'}", language,
                         axis=kind, name=name)  # fmt: skip
            close = closest(feature, self.known)
            hint = "" if close is None else text("mismatch_close", language, close=close)
            said = text("mismatch_line", language, where=where, feature=feature, whose=whose)
            lines.append(said + hint)
        return "\n  ".join(lines)


def _unknown_features(
    params: LadderParams, feature_names: Sequence[str]
) -> list[tuple[str, str, str, str]]:
    """(`ladder.KEY`, feature, "rule" or the priority axis, the rule's or class's name) of each
    rule or priority condition naming a feature not in `feature_names`."""
    known = set(feature_names)
    misses: list[tuple[str, str, str, str]] = []

    def check(conds: Sequence[Condition], where: str, kind: str, name: str) -> None:
        for j, c in enumerate(conds):
            if c.feature is not None and c.feature not in known:
                misses.append((f"ladder.{where}[{j}].feature", c.feature, kind, name))

    for i, rule in enumerate(params.rules):
        check(rule.when, f"rules[{i}].when", "rule", rule.name)
    for axis in ("impact", "urgency"):
        for i, cls in enumerate(getattr(params.priority, axis)):
            check(cls.any, f"priority.{axis}[{i}].any", axis, cls.name)
    return misses


def unknown_features(params: LadderParams, feature_names: Sequence[str], spec: str) -> list[str]:
    """`ladder.KEY: ...` for each rule or priority condition naming a feature not in
    `feature_names` (`spec` says whose they are), with the likely one it misspells."""
    known = list(dict.fromkeys(feature_names))
    return [
        f"{where}: unknown feature {feature!r} in "
        f"{f'rule {name!r}' if kind == 'rule' else f'{kind} class {name!r}'} (not in {spec})"
        f"{did_you_mean(feature, known)}"
        for where, feature, kind, name in _unknown_features(params, feature_names)
    ]


def level_index(params: LadderParams, name: str) -> int:
    return list(params.levels).index(name)
