"""The batch ladder decides exactly as `serving.ladder.decide` does, account by account."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from serving.ladder import AccountFacts, LadderState, Signals, assess, decide
from serving.ladderbatch import assess_many, decide_many, evaluate_many
from serving.params import RuleParams
from serving.store import Store

NOW = dt.datetime(2026, 3, 4, 10, 30, tzinfo=dt.UTC)

facts_st = st.builds(
    AccountFacts,
    arr=st.sampled_from([0.0, 1000.0, 49_999.0, 50_000.0, 250_000.0, 1e6]),
    tier=st.sampled_from(["enterprise", "business", "starter", "other"]),
    seats=st.sampled_from([1, 199, 200, 1000, 5000]),
    days_to_renewal=st.one_of(st.none(), st.integers(-10, 400)),
    open_p1=st.integers(0, 4),
    open_p2=st.integers(0, 4),
    open_p1_past_sla=st.integers(0, 2),
    open_p2_past_sla=st.integers(0, 2),
    language=st.sampled_from(["en", "de"]),
    csm_owner=st.sampled_from([None, "Dana"]),
)
risk_st = st.one_of(st.sampled_from([0.0, 0.35, 0.5, 0.55, 0.7, 0.75, 0.8]), st.floats(0, 1))
feature_st = st.one_of(
    st.none(), st.just(math.nan), st.floats(-5, 5), st.sampled_from(["business", "starter"])
)


@st.composite
def signals_st(draw, i: int = 0) -> Signals:
    return Signals(
        account_id=f"A{draw(st.integers(0, 10**6))}",
        escalation_risk=draw(risk_st),
        churn_risk=draw(risk_st),
        features={"usage_drop": draw(feature_st), "tier": draw(feature_st)},
        reason_family=draw(st.sampled_from([None, "tickets", "usage", "billing", "unknown"])),
        facts=draw(facts_st),
    )


def with_feature_rules(ladder):
    """The repo's ladder plus rules on features with every operator, to cover them all."""
    extra = [
        {"name": "drop", "when": [{"feature": "usage_drop", "op": ">", "value": 0.5}], "min_level": "L1"},
        {"name": "drop2", "when": [{"feature": "usage_drop", "op": "<=", "value": -1}], "min_level": "L2"},
        {"name": "tier_in", "when": [{"feature": "tier", "op": "in", "value": ["starter"]}], "min_level": "L1"},
        {"name": "tier_not", "when": [{"feature": "tier", "op": "not_in", "value": ["starter", 1.0]}, {"fact": "open_p2", "op": ">=", "value": 2}], "min_level": "L3"},
        {"name": "tier_eq", "when": [{"feature": "tier", "op": "==", "value": "business"}], "min_level": "L1"},
        {"name": "tier_ne", "when": [{"feature": "tier", "op": "!=", "value": "business"}, {"score": "churn_risk", "op": "<", "value": 0.1}], "min_level": "L2"},
    ]  # fmt: skip
    rules = (*ladder.rules, *(RuleParams.model_validate(r) for r in extra))
    return ladder.model_copy(update={"rules": rules})


@settings(max_examples=60, deadline=None)
@given(st.lists(signals_st(), min_size=1, max_size=25))
def test_assess_many_equals_assess_per_account(params, signals):
    for ladder in (params.ladder, with_feature_rules(params.ladder)):
        assert assess_many(signals, ladder) == [assess(s, ladder) for s in signals]


def test_evaluate_many_records_what_decide_decides(params, tmp_path):
    import random

    rng = random.Random(4)
    signals = [
        Signals(
            account_id=f"A{i:03d}",
            escalation_risk=rng.random(),
            churn_risk=rng.random(),
            features={},
            reason_family=rng.choice([None, "usage", "tickets"]),
            facts=AccountFacts(
                5e4, "business", 20, rng.randint(0, 300), rng.randint(0, 3), 0, 0, 0
            ),
            reasons=({"text": "t", "feature": "f", "family": "usage", "contribution": 0.1},),
        )
        for i in range(60)
    ]
    store = Store(f"sqlite:///{tmp_path / 'l.db'}")
    out = evaluate_many(store, signals, params.ladder, params.notifications, NOW, "m/1", chunk=7)
    expected = [decide(s, None, params.ladder, NOW)[1] for s in signals]
    assert out.decisions == expected
    assert [store.state(s.account_id) for s in signals] == [
        out.states[s.account_id] for s in signals
    ]
    changes = store.rows("level_changes")
    assert len(changes) == out.changes == sum(d.changed for d in expected)
    assert {c["decision_id"] for c in changes} == {d.decision_id for d in expected if d.changed}
    again = evaluate_many(store, signals, params.ladder, params.notifications, NOW, "m/1")
    assert again.changes == 0 and again.queued == 0  # the same day twice: nothing new
    store.close()


def times() -> st.SearchStrategy:
    return st.one_of(
        st.none(),
        st.sampled_from([NOW - dt.timedelta(days=9), NOW - dt.timedelta(hours=1), NOW]),
        st.just(NOW + dt.timedelta(hours=3)),
    )


@st.composite
def previous_st(draw, account_id: str, levels: list[str]) -> LadderState | None:
    if draw(st.booleans()):
        return None

    # the lowest level with nothing pending is the common case: draw it and its neighbours often
    def pending() -> dt.datetime | None:
        return None if draw(st.booleans()) else draw(times())

    return LadderState(
        account_id=account_id,
        level=levels[0] if draw(st.booleans()) else draw(st.sampled_from(levels)),
        since=NOW - dt.timedelta(days=draw(st.integers(0, 30))),
        due_at=pending(),
        acknowledged_at=pending(),
        resolved_at=pending(),
        below_since=pending(),
        timeouts=draw(st.integers(0, 3)),
        decision_id=draw(st.sampled_from([None, "d-1"])),
    )


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_decide_many_equals_decide_per_account(params, data):
    """The shortcut for quiet accounts and `decide` agree on every state, decision and id."""
    levels = list(params.ladder.levels)
    low = st.floats(0, 0.1)  # most accounts ask for the lowest level: the shortcut's case
    signals = [
        dataclasses.replace(
            s,
            escalation_risk=data.draw(low),
            churn_risk=data.draw(low),
            facts=dataclasses.replace(s.facts, open_p1=0, open_p1_past_sla=0),
        )
        if data.draw(st.booleans())
        else s
        for s in data.draw(st.lists(signals_st(), min_size=1, max_size=20))
    ]
    previous = [data.draw(previous_st(s.account_id, levels)) for s in signals]
    now = data.draw(st.sampled_from([NOW, NOW.astimezone(dt.timezone(dt.timedelta(hours=2)))]))
    for ladder in (params.ladder, with_feature_rules(params.ladder)):
        expected = [decide(s, p, ladder, now) for s, p in zip(signals, previous, strict=True)]
        assert decide_many(signals, previous, ladder, now) == expected


def test_decision_ids_are_uuid5_of_the_evaluation():
    import uuid

    from serving.ladder import _NAMESPACE, decision_id

    for aid in ("A1", "Ä-ß/ü", "x" * 200):
        for old in (None, "L0", "L2"):
            name = f"{aid}|{NOW.isoformat()}|{old}|L1|risk"
            assert decision_id(aid, NOW, old, "L1", "risk") == str(uuid.uuid5(_NAMESPACE, name))


@settings(max_examples=40, deadline=None)
@given(st.lists(signals_st(), min_size=1, max_size=25))
def test_subject_columns_assess_as_the_signals_do(params, signals):
    """The daily job's path: conditions read from columns (scores as float arrays, facts per
    account, features by name) give the assessment that reading each signal gives."""
    import numpy as np

    from serving.ladderbatch import _assess_columns, subject_columns

    def feature(name: str):
        if name not in ("usage_drop", "tier"):
            return None
        return np.array([s.features.get(name) for s in signals], dtype=object)

    scores = {
        k: np.array([getattr(s, k) for s in signals], dtype=np.float64)
        for k in ("escalation_risk", "churn_risk")
    }
    for ladder in (params.ladder, with_feature_rules(params.ladder)):
        subjects = subject_columns(ladder, scores, [s.facts for s in signals], feature)
        got = _assess_columns(signals, ladder, subjects)
        want = _assess_columns(signals, ladder)
        assert [got.one(k, s, ladder) for k, s in enumerate(signals)] == [
            assess(s, ladder) for s in signals
        ]
        assert got.priority == want.priority and got.fired.tolist() == want.fired.tolist()


def test_evaluate_many_with_subject_columns_records_the_same(params, tmp_path):
    """Passing the conditions' subjects as columns changes nothing that is stored or returned."""
    import numpy as np

    from serving.ladderbatch import subject_columns

    rng = np.random.default_rng(5)
    signals = [
        Signals(
            account_id=f"A{i:03d}",
            escalation_risk=float(rng.random()),
            churn_risk=float(rng.random()),
            features={},
            reason_family=None,
            facts=AccountFacts(
                float(rng.choice([1e3, 6e4, 3e5])),
                "business",
                20,
                None if i % 5 == 0 else int(rng.integers(0, 300)),
                int(rng.integers(0, 4)),
                0,
                0,
                0,
            ),  # fmt: skip
        )
        for i in range(50)
    ]
    scores = {
        k: np.array([getattr(s, k) for s in signals]) for k in ("escalation_risk", "churn_risk")
    }
    subjects = subject_columns(params.ladder, scores, [s.facts for s in signals], lambda n: None)
    a, b = Store(f"sqlite:///{tmp_path / 'a.db'}"), Store(f"sqlite:///{tmp_path / 'b.db'}")
    args = (params.ladder, params.notifications, NOW, "m/1")
    out_a = evaluate_many(a, signals, *args, chunk=7)
    out_b = evaluate_many(b, signals, *args, chunk=7, subjects=subjects)
    assert out_a == out_b
    assert a.states() == b.states()
    for table in ("level_changes", "outbox"):
        assert a.rows(table) == b.rows(table)
    a.close()
    b.close()
