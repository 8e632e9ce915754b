"""The ladder's state and audit store on SQLite (and PostgreSQL when ESCRISK_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing as mp
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from features.errors import UserError
from serving.kpis import ladder_kpis, store_kpis
from serving.ladder import AccountFacts, LadderState, Signals
from serving.store import OutboxMessage, Store, _Conflict

NOW = dt.datetime(2025, 6, 4, 10, 0, tzinfo=dt.UTC)
PG_URL = os.environ.get("ESCRISK_TEST_POSTGRES_URL")

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not PG_URL, reason="set ESCRISK_TEST_POSTGRES_URL to run against PostgreSQL"
            ),
        ],
    ),
]


def signals(account: str, esc: float, churn: float = 0.0, **facts: Any) -> Signals:
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
    return Signals(
        account,
        esc,
        churn,
        {},
        "usage",
        AccountFacts(**(base | facts)),
        ({"text": "Usage down 46%"},),
    )


def one_message(decision, _signals) -> list[OutboxMessage]:
    return [
        OutboxMessage(
            f"{decision.decision_id}:email",
            decision.decision_id,
            decision.account_id,
            "email",
            "smtp",
            "csm@example.com",
            "s",
            "b",
        )
    ]


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> Iterator[tuple[str, str]]:
    """(url, table prefix): a fresh SQLite file, or a unique table prefix on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'escrisk.db'}", ""
        return
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    yield str(PG_URL), prefix
    Store(str(PG_URL), prefix).drop()


@pytest.fixture
def store(store_url) -> Iterator[Store]:
    s = Store(*store_url)
    yield s
    s.close()


def test_schema_is_created_on_first_use_and_reopening_keeps_records(store_url, params):
    s = Store(*store_url)
    s.evaluate(signals("A-1", 0.6), params.ladder, NOW, "v1")
    s.close()
    again = Store(*store_url)
    assert again.state("A-1").level == "L2"
    assert len(again.rows("level_changes")) == 1


def test_level_change_record_holds_everything_for_the_audit(store, params):
    d = store.evaluate(
        signals("A-1", 0.6, open_p1_past_sla=1), params.ladder, NOW, "model-7", one_message
    )
    [row] = store.rows("level_changes", "A-1")
    assert row["decision_id"] == d.decision_id
    assert (row["old_level"], row["new_level"], row["direction"]) == (None, "L2", "up")
    assert (row["escalation_risk"], row["churn_risk"]) == (0.6, 0.0)
    assert row["reasons"] == [{"text": "Usage down 46%"}]
    assert row["rule"] == "risk" and row["model_version"] == "model-7"
    assert row["at"] == NOW and row["due_at"] == d.due_at
    assert row["owners"] == ["cs_manager", "support_lead"] and row["team"] == "product_adoption"
    [msg] = store.rows("outbox")
    assert (msg["status"], msg["attempts"], msg["decision_id"]) == ("pending", 0, d.decision_id)


def test_unchanged_evaluations_write_no_audit_record(store, params):
    store.evaluate(signals("A-1", 0.1), params.ladder, NOW, "v1", one_message)
    store.evaluate(
        signals("A-1", 0.1), params.ladder, NOW + dt.timedelta(days=1), "v1", one_message
    )
    assert store.rows("level_changes") == [] and store.rows("outbox") == []
    assert store.state("A-1").level == "L0"


def test_ack_resolve_feedback_and_actions_are_recorded(store, params):
    d = store.evaluate(signals("A-1", 0.4), params.ladder, NOW, "v1")
    store.record_action("A-1", NOW + dt.timedelta(minutes=30), "anna", "contact_customer", "called")
    state = store.acknowledge("A-1", NOW + dt.timedelta(hours=2), "anna", "on it")
    assert state.acknowledged_at == NOW + dt.timedelta(hours=2)
    with pytest.raises(UserError, match="already acknowledged"):
        store.acknowledge("A-1", NOW + dt.timedelta(hours=3), "ben")
    assert (
        store.feedback(
            "A-1", NOW + dt.timedelta(hours=3), "anna", agree=False, comment="seasonal dip"
        )
        == d.decision_id
    )
    store.resolve("A-1", NOW + dt.timedelta(hours=5), "anna", "saved", "renewed")
    with pytest.raises(UserError, match="already resolved"):
        store.resolve("A-1", NOW + dt.timedelta(hours=6), "anna", "saved")
    kinds = [e["kind"] for e in store.trail("A-1")]
    assert kinds == [
        "level_changes",
        "actions_taken",
        "acknowledgements",
        "feedback",
        "resolutions",
    ]
    assert all(e["decision_id"] == d.decision_id for e in store.trail("A-1"))
    # an acknowledged level no longer times out
    after = store.evaluate(signals("A-1", 0.4), params.ladder, NOW + dt.timedelta(days=10), "v1")
    assert after.new_level == "L1"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.acknowledge("NOPE", NOW, "x"), "unknown account 'NOPE'"),
        (lambda s: s.resolve("NOPE", NOW, "x", "saved"), "unknown account 'NOPE'"),
        (lambda s: s.feedback("NOPE", NOW, "x", True), "unknown account 'NOPE'"),
        (lambda s: s.trail("NOPE"), "unknown account 'NOPE'"),
        (lambda s: s.acknowledge("QUIET", NOW, "x"), "never been flagged"),
        (lambda s: s.feedback("QUIET", NOW, "x", True), "never been flagged"),
    ],
)
def test_unknown_or_unflagged_accounts_are_user_errors(store, params, call, message):
    store.evaluate(signals("QUIET", 0.0), params.ladder, NOW, "v1")
    with pytest.raises(UserError, match=message):
        call(store)


def test_daily_scores_are_idempotent_per_account_and_day(store):
    day = dt.date(2025, 6, 4)
    rows = [
        {
            "account_id": a,
            "day": day,
            "escalation_risk": 0.2,
            "churn_risk": 0.1,
            "level": "L0",
            "reasons": [{"text": "x"}],
            "model_version": "v1",
        }
        for a in ("A-1", "A-2")
    ]
    store.save_daily_scores(rows, NOW)
    store.save_daily_scores(
        [rows[0] | {"escalation_risk": 0.7, "model_version": "v2"}], NOW + dt.timedelta(hours=1)
    )
    got = store.daily_scores()
    assert len(got) == 2
    assert (got[0]["escalation_risk"], got[0]["model_version"], got[0]["reasons"]) == (
        0.7,
        "v2",
        [{"text": "x"}],
    )
    assert store.daily_scores(account_id="A-2", day=day)[0]["escalation_risk"] == 0.2


def test_kpis_from_the_records(store, params):
    lp = params.ladder
    store.save_daily_scores(
        [
            {"account_id": a, "day": dt.date(2025, 6, d), "escalation_risk": 0.1, "churn_risk": 0.1}
            for a in ("A-1", "A-2", "A-3", "A-4")
            for d in (4, 5)
        ],
        NOW,
    )
    store.evaluate(signals("A-1", 0.4), lp, NOW, "v1")
    store.evaluate(signals("A-2", 0.6), lp, NOW, "v1")
    store.evaluate(signals("A-1", 0.8), lp, NOW + dt.timedelta(days=1), "v1")
    store.acknowledge("A-1", NOW + dt.timedelta(days=1, hours=2), "anna")
    store.acknowledge("A-2", NOW + dt.timedelta(hours=6), "ben")
    store.resolve("A-2", NOW + dt.timedelta(hours=30), "ben", "saved")
    store.feedback("A-1", NOW + dt.timedelta(days=2), "anna", True)
    store.feedback("A-2", NOW + dt.timedelta(days=2), "ben", False)
    store.feedback("A-2", NOW + dt.timedelta(days=3), "ben", True, "changed my mind")
    k = store_kpis(store)
    assert (k.escalations, k.accounts_escalated, k.accounts_scored, k.account_days_scored) == (
        3,
        2,
        4,
        8,
    )
    assert k.escalation_rate == pytest.approx(3 / 8)
    assert k.escalations_per_account == pytest.approx(3 / 4)
    assert k.median_hours_to_acknowledge == pytest.approx(
        4.0
    )  # 2 h and 6 h; the first A-1 flag never acked
    assert k.acknowledged_share == pytest.approx(2 / 3)
    assert k.median_hours_to_resolve == pytest.approx(30.0)
    assert k.confirmed_share == 1.0  # the latest verdict per flag counts
    assert k.per_account == {"A-1": 2, "A-2": 1}
    later = store_kpis(store, since=NOW + dt.timedelta(hours=1))
    assert later.escalations == 1
    assert ladder_kpis([], [], [], [], []).escalation_rate is None


# --- several processes at once -----------------------------------------------------------------


def _worker(url: str, prefix: str, worker: int, n: int, params, out) -> None:
    store = Store(url, prefix)
    changed = 0
    for i in range(n):
        t = NOW + dt.timedelta(days=i * 9, minutes=worker)
        esc = 0.9 if i % 3 == 0 else 0.0
        changed += store.evaluate(
            signals(f"W{worker}", esc), params.ladder, t, "v1", one_message
        ).changed
        changed += store.evaluate(
            signals("SHARED", (i * 7 + worker) % 10 / 10), params.ladder, t, "v1", one_message
        ).changed
        store.record_action("SHARED", t, f"worker{worker}", "contact_customer")
        store.save_daily_scores(
            [
                {
                    "account_id": f"W{worker}",
                    "day": (t + dt.timedelta(days=worker * 1000)).date(),
                    "escalation_risk": esc,
                    "churn_risk": 0.0,
                }
            ],
            t,
        )
    store.close()
    out.put(changed)


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(store_url, params):
    url, prefix = store_url
    Store(
        url, prefix
    ).close()  # schema first, as the daily job does; the race on it is covered below
    workers, n = 4, 12
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(url, prefix, w, n, params, out)) for w in range(workers)
    ]
    for p in procs:
        p.start()
    changed = sum(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    s = Store(url, prefix)
    changes = s.rows("level_changes")
    assert changed > workers * 4  # the test really changed levels concurrently
    assert len(changes) == changed
    assert len({c["decision_id"] for c in changes}) == changed
    assert len(s.rows("outbox")) == changed
    assert len(s.rows("actions_taken", "SHARED")) == workers * n
    assert len(s.daily_scores()) == workers * n
    # the shared account's state is the result of its last recorded change
    shared = [c for c in changes if c["account_id"] == "SHARED"]
    assert s.state("SHARED").decision_id in {c["decision_id"] for c in shared}


def _create(url: str, prefix: str) -> None:
    Store(url, prefix).close()


def test_several_processes_may_create_the_schema_at_once(store_url):
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_create, args=store_url) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0


def test_bad_database_url_is_a_user_error():
    with pytest.raises(UserError, match="not a valid SQLAlchemy URL"):
        Store("not a url")


@pytest.fixture(scope="module")
def params(params, classic_ladder):
    """The ladder's mechanics, tested against a pinned policy (tests/serving/conftest.py)."""
    return classic_ladder(params)


def test_write_states_updates_like_write_state_and_rejects_stale_versions(store):
    """The daily job's batched state update stores what one `_write_state` per account stores,
    and a row someone else changed since it was read (version moved on) fails the whole batch."""
    first = [LadderState(f"A-{i}", "L0", NOW, None, None, None, None, 0, None) for i in range(7)]
    store._run(lambda c: [store._write_state(c, s, 0, NOW) for s in first])
    later = NOW + dt.timedelta(hours=1)
    moved = [
        dataclasses.replace(s, level="L2", since=later, due_at=later, timeouts=i, decision_id="d")
        for i, s in enumerate(first)
    ]
    store._run(lambda c: [store._write_state(c, s, 1, later) for s in moved[:3]])
    store._run(lambda c: store._write_states(c, [(s, 1) for s in moved[3:]], later))
    assert [store.state(s.account_id) for s in first] == moved
    versions = store._run(
        lambda c: [r.version for r in c.execute(sa.select(store.t["ladder_state"]))]
    )
    assert versions == [2] * 7
    with pytest.raises(_Conflict), store.engine.begin() as conn:
        store._write_states(conn, [(s, 2) for s in moved[:2]] + [(moved[2], 1)], later)
    assert [store.state(s.account_id) for s in first] == moved  # rolled back
