"""The ladder for a whole portfolio: `Store.evaluate`'s semantics, a chunk of accounts per transaction.

One transaction per account (Store.evaluate) costs a database round trip per account, too slow for
100,000 accounts a day. Here what the signals alone decide (risk level, rule floor, priority) is
assessed once for the whole portfolio, column by column (the daily job passes the conditions'
subjects as columns: `subject_columns`); then a chunk's states are read with one query, the chunk
is decided by `decide_many`'s loop (the pure `serving.ladder.decide`, with a shortcut for the
accounts that stay at the lowest level with nothing pending, most of a portfolio), and new states,
changed states, level changes and outbox messages are written in the chunk's transaction, so a
crash loses nothing and a rerun of the day records no second change (the state has moved).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa

from serving.ladder import (
    FIRST,
    HOLD,
    AccountFacts,
    Assessment,
    Decision,
    LadderState,
    Signals,
    as_utc,
    decide,
    kept_reasons,
    name_uuid,
    team,
)
from serving.notify import check_config, plan_messages
from serving.params import Condition, LadderParams, NotificationParams
from serving.reasons import RowReasons
from serving.store import Store, bulk_insert

# --- the signal-only part of decide, for many accounts at once ---------------------------------


SubjectKey = tuple[str | None, str | None, str | None]  # (score, fact, feature) of a condition
Column = Sequence[Any] | np.ndarray  # one value per account


def subject_key(cond: Condition) -> SubjectKey:
    return (cond.score, cond.fact, cond.feature)


def conditions(params: LadderParams) -> list[Condition]:
    """Every condition the ladder reads: the rules' and the priority classes'."""
    out = [c for rule in params.rules for c in rule.when]
    for classes in (params.priority.impact, params.priority.urgency):
        out += [c for cls in classes for c in cls.any]
    return out


def subject_columns(
    params: LadderParams,
    scores: Mapping[str, Column],
    facts: Sequence[AccountFacts],
    feature: Callable[[str], Column | None],
) -> dict[SubjectKey, Column]:
    """What each condition reads of every account (`_subject`), read from columns: the scores by
    name, the facts per account, a feature's column by name (None: not a feature, missing)."""
    n = len(facts)
    out: dict[SubjectKey, Column] = {}
    for cond in conditions(params):
        key = subject_key(cond)
        if key in out:
            continue
        if cond.score is not None:
            out[key] = scores[cond.score]
        elif cond.fact is not None:
            name = cond.fact
            out[key] = [getattr(f, name) for f in facts]
        else:
            col = feature(cond.feature or "")
            out[key] = [None] * n if col is None else col
    return out


def _subject(cond: Condition, signals: Sequence[Signals]) -> list[Any]:
    if cond.score is not None:
        return [getattr(s, cond.score) for s in signals]
    if cond.fact is not None:
        return [getattr(s.facts, cond.fact) for s in signals]
    name = cond.feature or ""
    return [s.features.get(name) for s in signals]


_NUMBERS = {int, float, bool, type(None)}  # None converts to NaN, as below


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def holds_many(cond: Condition, signals: Sequence[Signals], xs: Column | None = None) -> np.ndarray:
    """`serving.ladder.holds(cond, s)` for every signal, as a boolean array (`xs`: the
    condition's subject per signal, when already read)."""
    xs = _subject(cond, signals) if xs is None else xs
    v = cond.value
    n = len(xs)
    if cond.op in ("in", "not_in", "==", "!="):
        test = {
            "in": lambda x: x in v,  # type: ignore[operator]
            "not_in": lambda x: x not in v,  # type: ignore[operator]
            "==": lambda x: bool(x == v),
            "!=": lambda x: bool(x != v),
        }[cond.op]
        return np.fromiter((not _missing(x) and test(x) for x in xs), dtype=bool, count=n)
    # a missing value or a string never holds an order comparison: NaN compares False
    if isinstance(xs, np.ndarray) and xs.dtype == np.float64:
        arr = xs
    elif set(map(type, xs)) <= _NUMBERS:  # numbers and None (the facts): converted in C
        arr = np.array(xs, dtype=np.float64)
    else:
        arr = np.fromiter(
            (math.nan if x is None or isinstance(x, str) else float(x) for x in xs),
            dtype=np.float64,
            count=n,
        )
    vf = float(v)  # type: ignore[arg-type]
    with np.errstate(invalid="ignore"):
        return {">=": arr >= vf, ">": arr > vf, "<=": arr <= vf, "<": arr < vf}[cond.op]


@dataclass(frozen=True)
class _Assessed:
    """`assess` for many accounts, as columns: risk level, rule floor, fired rule, priority."""

    by_risk: np.ndarray
    floor: np.ndarray
    fired: np.ndarray
    priority: list[str]

    def part(self, lo: int, hi: int) -> _Assessed:
        return _Assessed(
            self.by_risk[lo:hi], self.floor[lo:hi], self.fired[lo:hi], self.priority[lo:hi]
        )

    def one(self, k: int, signals: Signals, params: LadderParams) -> Assessment:
        return Assessment(
            by_risk=int(self.by_risk[k]),
            floor=int(self.floor[k]),
            fired=self.fired[k],
            priority=self.priority[k],
            team=team(signals.reason_family, params),
        )


def _assess_columns(
    signals: Sequence[Signals],
    params: LadderParams,
    subjects: Mapping[SubjectKey, Column] | None = None,
) -> _Assessed:
    """`subjects`: each condition's subject per signal (`subject_columns`), when already read."""
    n = len(signals)
    esc = np.fromiter((float(s.escalation_risk) for s in signals), dtype=np.float64, count=n)
    churn = np.fromiter((float(s.churn_risk) for s in signals), dtype=np.float64, count=n)
    by_risk = np.zeros(n, dtype=np.int64)
    for i, level in enumerate(params.levels.values()):
        e = level.entry
        if not i or e is None:
            continue
        hit = np.zeros(n, dtype=bool)
        if e.escalation_risk is not None:
            hit |= esc >= e.escalation_risk
        if e.churn_risk is not None:
            hit |= churn >= e.churn_risk
        by_risk[hit] = i
    read: dict[SubjectKey, Column] = dict(subjects or {})
    cache: dict[int, np.ndarray] = {}

    def mask(cond: Condition) -> np.ndarray:
        if id(cond) not in cache:
            key = subject_key(cond)
            if key not in read:  # several conditions read the same fact: read it once
                read[key] = _subject(cond, signals)
            cache[id(cond)] = holds_many(cond, signals, read[key])
        return cache[id(cond)]

    names = list(params.levels)
    floor = np.zeros(n, dtype=np.int64)
    fired = np.full(n, None, dtype=object)
    for rule in params.rules:
        ok = np.ones(n, dtype=bool)
        for c in rule.when:
            ok &= mask(c)
        i = names.index(rule.min_level)
        up = ok & (i > floor)
        floor[up] = i
        fired[up] = rule.name

    pp = params.priority

    def pick(classes: Sequence[Any]) -> np.ndarray:
        out = np.full(n, str(classes[-1].name), dtype=object)
        for c in reversed(classes):  # the first class that holds wins
            hit = np.zeros(n, dtype=bool)
            for cond in c.any:
                hit |= mask(cond)
            out[hit] = str(c.name)
        return out

    matrix = pp.matrix
    impact, urgency = pick(pp.impact).tolist(), pick(pp.urgency).tolist()
    prio = [matrix[i][u] for i, u in zip(impact, urgency, strict=True)]
    return _Assessed(by_risk, floor, fired, prio)


def assess_many(signals: Sequence[Signals], params: LadderParams) -> list[Assessment]:
    """`serving.ladder.assess` for every signal (same results; conditions evaluated per column)."""
    if not signals:
        return []
    a = _assess_columns(signals, params)
    return [a.one(k, s, params) for k, s in enumerate(signals)]


def decide_many(
    signals: Sequence[Signals],
    previous: Sequence[LadderState | None],
    params: LadderParams,
    now: dt.datetime,
    settled: dt.datetime | None = None,
) -> list[tuple[LadderState, Decision]]:
    """`decide(signals[k], previous[k], params, now, settled=settled)` for every k: the same
    states and decisions.

    An account whose risks and rules ask for the lowest level and whose state (none yet, or the
    lowest level with no timer and no cool-down) leaves nothing to do is built from constants
    of the batch; `decide` itself handles every other account.
    """
    if len(signals) != len(previous):
        raise ValueError("one previous state (or None) per signal")
    if not signals:
        return []
    a = _assess_columns(signals, params)
    return _decide_assessed(signals, previous, params, now, a, settled)


def _decide_assessed(
    signals: Sequence[Signals],
    previous: Sequence[LadderState | None],
    params: LadderParams,
    now: dt.datetime,
    a: _Assessed,
    settled: dt.datetime | None = None,
) -> list[tuple[LadderState, Decision]]:
    """`decide_many` with the signals' assessment already made (`a`, one entry per signal)."""
    now = as_utc(now)
    iso = now.isoformat()
    bottom = next(iter(params.levels))
    level = params.levels[bottom]
    owners, channels, actions = level.owners, level.channels, level.actions
    quiet = ((a.by_risk == 0) & (a.floor == 0)).tolist()
    team_of = functools.cache(lambda family: team(family, params))  # few reason families

    out: list[tuple[LadderState, Decision]] = []
    for k, (s, prev) in enumerate(zip(signals, previous, strict=True)):
        aid = s.account_id
        if quiet[k] and prev is None:
            state = LadderState(aid, bottom, now, None, None, None, None, 0, None)
            old, rule = None, FIRST
        elif (
            quiet[k]
            and prev is not None
            and prev.level == bottom
            and prev.due_at is None
            and prev.below_since is None
        ):
            state, old, rule = prev, bottom, HOLD
        else:
            out.append(decide(s, prev, params, now, a.one(k, s, params), settled))
            continue
        decision = Decision(
            decision_id=name_uuid(f"{aid}|{iso}|{old}|{bottom}|{rule}"),
            account_id=aid,
            at=now,
            old_level=old,
            new_level=bottom,
            changed=False,
            direction="same",
            rule=rule,
            reason_key="unchanged",
            reason_params={},
            owners=owners,
            team=team_of(s.reason_family),
            priority=a.priority[k],
            due_at=None,
            channels=channels,
            actions=actions,
            escalation_risk=float(s.escalation_risk),
            churn_risk=float(s.churn_risk),
            reasons=kept_reasons(s.reasons),
        )
        out.append((state, decision))
    return out


@dataclass(frozen=True)
class LadderOutcome:
    decisions: list[Decision]  # one per signal, same order
    states: dict[str, LadderState]  # account id -> state after the evaluation
    changes: int
    queued: int


def evaluate_many(
    store: Store,
    signals: Sequence[Signals],
    ladder: LadderParams,
    notifications: NotificationParams,
    now: dt.datetime,
    model_version: str | None,
    chunk: int = 2000,
    advance: Callable[[int], None] = lambda n: None,
    subjects: Mapping[SubjectKey, Column] | None = None,
    settled: dt.datetime | None = None,
) -> LadderOutcome:
    """Decide and record every account, a chunk per transaction. `subjects`: what the ladder's
    conditions read of every signal (`subject_columns`), when the caller holds them as columns;
    `settled`: the latest run's evaluation time (`decide`)."""
    check_config(ladder, notifications)
    decisions: list[Decision] = []
    states: dict[str, LadderState] = {}
    changes = queued = 0
    # the signals alone decide risk level, rule floor and priority: assessed once, as columns
    assessed = _assess_columns(signals, ladder, subjects) if signals else None
    for start in range(0, len(signals), chunk):
        part = signals[start : start + chunk]
        assert assessed is not None
        a = assessed.part(start, start + len(part))

        def unit(
            conn: sa.Connection, part: Sequence[Signals] = part, a: _Assessed = a
        ) -> tuple[list, dict, int, int]:
            ids = [s.account_id for s in part]
            stored = store._read_states(conn, ids)
            out, st, n_changes, n_msgs = [], {}, 0, 0
            inserts: list[LadderState] = []
            updates: list[tuple[LadderState, int]] = []
            change_rows: list[dict] = []
            messages: list = []
            previous = [stored[aid][0] if aid in stored else None for aid in ids]
            decided = _decide_assessed(part, previous, ladder, now, a, settled)
            # the reasons of the decisions recorded (and told in messages), made in one go
            RowReasons.made(d.reasons for _, d in decided if d.changed)
            for s, prev, (new_state, decision) in zip(part, previous, decided, strict=True):
                if prev is None:
                    inserts.append(new_state)
                elif new_state is not prev and new_state != prev:  # most states stay as read
                    updates.append((new_state, stored[s.account_id][1]))
                if decision.changed:
                    change_rows.append(_change(decision, model_version))
                    msgs = plan_messages(decision, s, ladder, notifications)
                    messages.extend(msgs)
                    n_changes += 1
                    n_msgs += len(msgs)
                out.append(decision)
                st[s.account_id] = new_state
            store._insert_states(conn, inserts, now)
            store._write_states(conn, updates, now)
            # one executemany per chunk: the same rows Store._insert_change writes
            bulk_insert(conn, store.t["level_changes"], change_rows)
            store._insert_outbox(conn, messages, now)
            return out, st, n_changes, n_msgs

        d, s, c, q = store._run(unit)
        decisions += d
        states.update(s)
        changes += c
        queued += q
        advance(len(part))
    return LadderOutcome(decisions, states, changes, queued)


def _change(d: Decision, model_version: str | None) -> dict:
    return {
        "decision_id": d.decision_id,
        "account_id": d.account_id,
        "at": d.at,
        "old_level": d.old_level,
        "new_level": d.new_level,
        "direction": d.direction,
        "rule": d.rule,
        "reason_key": d.reason_key,
        "reason_params": dict(d.reason_params),
        "escalation_risk": d.escalation_risk,
        "churn_risk": d.churn_risk,
        "reasons": [dict(r) for r in d.reasons],
        "owners": list(d.owners),
        "team": d.team,
        "priority": d.priority,
        "due_at": d.due_at,
        "channels": list(d.channels),
        "actions": list(d.actions),
        "model_version": model_version,
    }
