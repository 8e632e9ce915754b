"""The ladder's state and audit store on SQLite (and PostgreSQL when ESCRISK_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing as mp
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from features.errors import UserError
from serving.dailystore import DailyStore
from serving.kpis import flag_kpis, ladder_kpis, window_kpis
from serving.ladder import AccountFacts, LadderState, Signals
from serving.ladderbatch import evaluate_many
from serving.store import (
    OutboxMessage,
    Store,
    StoreUnavailable,
    _Conflict,
    _tables,
    bulk_insert,
    existing_tables,
    open_existing,
    open_for_writing,
)

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
    s = Store(str(PG_URL), prefix)
    DailyStore(s).metadata.drop_all(s.engine)  # the daily list's tables, where a test made them
    s.drop()


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
    # resolved without an acknowledgement first: acknowledging afterwards is refused too
    store.evaluate(signals("B-2", 0.4), params.ladder, NOW, "v1")
    store.resolve("B-2", NOW + dt.timedelta(hours=1), "anna", "false_alarm")
    with pytest.raises(UserError, match="already resolved"):
        store.acknowledge("B-2", NOW + dt.timedelta(hours=2), "anna")
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


def test_a_version_given_again_is_told_by_the_settings_it_scores_with_now(store, params):
    """The feature settings were kept once per version name: after the registry was set up anew
    (its versions from 1 again) the new escalation-risk/1, trained with a 180-day usage
    baseline, had its stored reasons told by the old one's 90 days, on the page and by audit,
    for good. The latest run's settings are kept; a rerun with the same ones changes nothing."""
    old = params.features.model_dump(mode="json")
    new = params.features.model_copy(
        update={"usage": params.features.usage.model_copy(update={"baseline_days": 180})}
    ).model_dump(mode="json")
    store.keep_model_settings("escalation-risk/1", old, NOW)
    store.keep_model_settings("escalation-risk/2", old, NOW)
    store.keep_model_settings("escalation-risk/1", new, NOW + dt.timedelta(days=1))
    kept = store.model_settings()
    assert kept["escalation-risk/1"]["usage"]["baseline_days"] == 180
    assert kept["escalation-risk/2"] == old
    store.keep_model_settings("escalation-risk/1", new, NOW + dt.timedelta(days=2))
    t = store.t["model_settings"]
    with store.engine.connect() as conn:
        q = sa.select(t.c.recorded_at).where(t.c.model_version == "escalation-risk/1")
        (at,) = conn.execute(q).scalars().all()
    assert pd.Timestamp(at) == pd.Timestamp(NOW + dt.timedelta(days=1))


def test_kpis_from_the_records(store, params):
    lp = params.ladder
    assert window_kpis(store).accounts_scored == 0  # nothing stored yet
    store.save_daily_scores(
        [
            {"account_id": a, "day": dt.date(2025, 6, d), "escalation_risk": 0.1, "churn_risk": 0.1}
            for a in ("A-1", "A-2", "A-3", "A-4")
            for d in (4, 5)
        ],
        NOW,
    )
    for a in ("A-1", "A-2"):  # the first run: at the lowest level
        store.evaluate(signals(a, 0.05), lp, NOW - dt.timedelta(days=1), "v1")
    store.evaluate(signals("A-1", 0.4), lp, NOW, "v1")
    store.evaluate(signals("A-2", 0.6), lp, NOW, "v1")
    store.evaluate(signals("A-1", 0.8), lp, NOW + dt.timedelta(days=1), "v1")
    store.acknowledge("A-1", NOW + dt.timedelta(days=1, hours=2), "anna")
    store.acknowledge("A-2", NOW + dt.timedelta(hours=6), "ben")
    store.resolve("A-2", NOW + dt.timedelta(hours=30), "ben", "saved")
    store.feedback("A-1", NOW + dt.timedelta(days=2), "anna", True)
    store.feedback("A-2", NOW + dt.timedelta(days=2), "ben", False)
    store.feedback("A-2", NOW + dt.timedelta(days=3), "ben", True, "changed my mind")
    k = window_kpis(store)
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
    assert k.first_flags == 0
    later = window_kpis(store, since=NOW + dt.timedelta(hours=1))
    assert later.escalations == 1
    assert ladder_kpis([], [], [], [], []).escalation_rate is None


def test_what_people_do_after_a_step_down_refers_to_the_flag_that_started_it(store, params):
    """An escalation acknowledged, stepped down after its cool-down and then resolved as saved
    (the usual end of a flag) had its resolution recorded against the step down: the KPIs,
    which join what people did to the escalations, never counted it resolved, so the median time
    to resolve left out the very flags that were saved. An acknowledgement or an action after a
    step down was lost to them alike. They refer to the upward change that opened the episode."""
    lp = params.ladder
    days = lp.hysteresis.cooldown_days
    store.evaluate(signals("A-1", 0.05), lp, NOW - dt.timedelta(days=1), "v1")
    flag = store.evaluate(signals("A-1", 0.6), lp, NOW, "v1")
    assert flag.direction == "up" and flag.old_level is not None
    for day in range(1, int(days) + 2):
        d = store.evaluate(signals("A-1", 0.05), lp, NOW + dt.timedelta(days=day), "v1")
    assert d.direction == "down" and store.state("A-1").decision_id == d.decision_id
    store.acknowledge("A-1", NOW + dt.timedelta(days=days + 2), "anna", actions=["review_account"])
    store.resolve("A-1", NOW + dt.timedelta(days=days + 3), "anna", "saved")
    done = [e for e in store.trail("A-1") if e["kind"] != "level_changes"]
    assert [e["decision_id"] for e in done] == [flag.decision_id] * 3
    k = window_kpis(store)
    assert k.median_hours_to_resolve == pytest.approx(24 * (days + 3))
    assert k.median_hours_to_acknowledge == pytest.approx(24 * (days + 2))


def test_a_flag_handled_after_its_level_stepped_down_counts_as_handled(store, params):
    """A step down continues the flag's episode (what was acknowledged stays so), yet an
    acknowledgement or resolution made after it was recorded under the step down's decision, which
    no KPI counts: an L2 acknowledged, whose risk then fell, resolved as saved a week later, was
    left out of the hours to resolve, and one acknowledged only after the step down counted as
    never acknowledged. Both now refer to the flag that raised the episode."""
    lp = params.ladder
    for a in ("A-1", "A-2"):
        store.evaluate(signals(a, 0.05), lp, NOW - dt.timedelta(days=1), "v1")
        store.evaluate(signals(a, 0.4), lp, NOW, "v1")  # up to L2: an escalation
    store.acknowledge("A-1", NOW + dt.timedelta(hours=2), "anna")
    day = NOW
    while store.state("A-1").level != "L0":  # the risk falls away: down after the cool-down
        day += dt.timedelta(days=1)
        assert day < NOW + dt.timedelta(days=30)
        for a in ("A-1", "A-2"):
            store.evaluate(signals(a, 0.05), lp, day, "v1")
    assert store.state("A-2").level == "L0" and store.state("A-2").acknowledged_at is None
    store.resolve("A-1", day + dt.timedelta(hours=4), "anna", "saved")
    store.acknowledge("A-2", day + dt.timedelta(hours=1), "ben")
    k = window_kpis(store, now=day + dt.timedelta(hours=5))
    assert k.escalations == 2
    assert k.median_hours_to_resolve == pytest.approx((day - NOW).total_seconds() / 3600 + 4)
    assert k.acknowledged_share == 1.0


def test_a_flag_still_inside_its_response_time_is_not_counted_unacknowledged(store, params):
    """The report is made by the run that raises the day's flags: each was counted as not
    acknowledged although its due time lay hours ahead (37% where 43% of those due were). With
    `now`, the share counts the flags acknowledged or past their due time, as the history KPIs
    leave out an escalation opened too recently to tell."""
    lp = params.ladder
    for a in ("A-1", "A-2"):
        store.evaluate(signals(a, 0.05), lp, NOW - dt.timedelta(days=2), "v1")
    store.evaluate(signals("A-1", 0.4), lp, NOW - dt.timedelta(days=1), "v1")
    store.evaluate(signals("A-2", 0.4), lp, NOW, "v1")  # today's, due hours from now
    store.acknowledge("A-1", NOW - dt.timedelta(hours=20), "anna")
    assert window_kpis(store).acknowledged_share == pytest.approx(1 / 2)  # all-time, no clock
    k = window_kpis(store, now=NOW)
    assert k.acknowledged_share == 1.0 and k.escalations == 2
    records = [
        store.rows(t) for t in ("level_changes", "acknowledgements", "resolutions", "feedback")
    ]
    assert ladder_kpis(*records, [], now=NOW) == flag_kpis(*records, 0, 0, now=NOW)
    due = max(c["due_at"] for c in store.rows("level_changes"))
    assert window_kpis(store, now=due).acknowledged_share == pytest.approx(1 / 2)  # now overdue


def test_kpis_leave_out_flags_of_pruned_days(store, params):
    """daily.keep_days prunes the stored scores (the account-days), never the audit trail (the
    flags): all-time KPIs divided every flag ever raised by the kept days alone, an escalation
    rate several times too high. They cover the kept days."""
    lp = params.ladder
    for a in ("A-1", "A-2"):
        store.evaluate(signals(a, 0.05), lp, NOW - dt.timedelta(days=2), "v1")
    store.evaluate(signals("A-1", 0.4), lp, NOW - dt.timedelta(days=1), "v1")  # a pruned day
    store.evaluate(signals("A-2", 0.4), lp, NOW, "v1")
    kept = [{"account_id": a, "day": NOW.date(), "escalation_risk": 0.1, "churn_risk": 0.1}
            for a in ("A-1", "A-2")]  # fmt: skip
    store.save_daily_scores(kept, NOW)
    k = window_kpis(store)
    assert (k.escalations, k.account_days_scored) == (1, 2)
    assert k.escalation_rate == pytest.approx(1 / 2)
    assert k.per_account == {"A-2": 1}


@pytest.mark.parametrize("batch", [True, False], ids=["evaluate_many", "evaluate"])
def test_go_live_flags_are_not_escalations_and_stay_in_the_trail(store, params, batch):
    """The ladder's first run flags every account already at risk at once (old_level None): as
    escalations they made a spike of the rate on day one that only the start caused. They are
    counted apart, as first flags, and kept in the audit trail; later flags are escalations."""
    lp = params.ladder

    def run(levels: dict[str, float], at: dt.datetime) -> None:
        sigs = [signals(a, esc) for a, esc in levels.items()]
        if batch:
            evaluate_many(store, sigs, lp, params.notifications, at, "v1")
        else:
            for s in sigs:
                store.evaluate(s, lp, at, "v1")

    accounts = ("A-1", "A-2", "A-3", "A-4", "A-5")
    store.save_daily_scores(
        [
            {"account_id": a, "day": dt.date(2025, 6, d), "escalation_risk": 0.1, "churn_risk": 0.1}
            for a in accounts
            for d in (4, 5)
        ],
        NOW,
    )
    run({"A-1": 0.6, "A-2": 0.6, "A-3": 0.4, "A-4": 0.05, "A-5": 0.05}, NOW)  # go-live
    store.acknowledge("A-1", NOW + dt.timedelta(hours=20), "anna")  # the backlog's slow ack
    day2 = NOW + dt.timedelta(days=1)
    run({"A-1": 0.8, "A-2": 0.6, "A-3": 0.4, "A-4": 0.6, "A-5": 0.05}, day2)
    store.acknowledge("A-4", day2 + dt.timedelta(hours=2), "ben")
    # verdicts on a go-live flag and on an escalation: both judge the model's flags
    store.feedback("A-3", NOW + dt.timedelta(hours=3), "cara", False)
    store.feedback("A-4", day2 + dt.timedelta(hours=3), "ben", True)

    trail = store.rows("level_changes")
    first = [r for r in trail if r["old_level"] is None]
    assert {r["account_id"] for r in first} == {"A-1", "A-2", "A-3"}  # kept, with old_level None
    assert all(r["direction"] == "up" and r["at"] == NOW for r in first)
    k = window_kpis(store)
    # day 2: A-1 up by risk, A-2 by its timeout (nobody acknowledged it), A-4 up from L0
    assert (k.escalations, k.accounts_escalated) == (3, 3)
    assert k.first_flags == 3
    assert k.per_account == {"A-1": 1, "A-2": 1, "A-4": 1}
    assert k.escalation_rate == pytest.approx(3 / 10)
    assert k.median_hours_to_acknowledge == pytest.approx(2.0)  # not the go-live flag's 20 h
    assert k.acknowledged_share == pytest.approx(1 / 3)
    # "of those they judged": A-3's go-live flag was judged too (it was left out: 100%)
    assert k.confirmed_share == pytest.approx(1 / 2)
    after = window_kpis(store, since=NOW + dt.timedelta(hours=1))
    assert (after.escalations, after.first_flags) == (3, 0)


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


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg//anna:s3cret@db.example/escrisk",  # "://" mistyped
        "postgresql+psycopg://anna:s3cret@db.example:port/escrisk",  # was an internal error
        "postgresql+psycopg//db.example/escrisk?password=s3cret&sslmode=require",
    ],
)
def test_a_url_that_cannot_be_parsed_is_told_without_its_password(url):
    with pytest.raises(UserError, match="not a valid SQLAlchemy URL") as err:
        Store(url)
    assert "s3cret" not in str(err.value) and "***" in str(err.value)


def test_a_reader_never_creates_a_database_where_none_is(tmp_path):
    missing = tmp_path / "typo" / "escrisk.db"
    with pytest.raises(StoreUnavailable, match=r"no database at .*typo/escrisk.db.*escrisk daily"):
        open_existing(f"sqlite:///{missing}")
    assert not missing.exists() and not missing.parent.exists()
    made = Store(f"sqlite:///{tmp_path / 'escrisk.db'}")
    DailyStore(made)  # as the daily run leaves it
    made.close()
    open_existing(f"sqlite:///{tmp_path / 'escrisk.db'}").close()


def test_a_reader_does_not_wait_for_the_daily_runs_lock_to_open_the_store(tmp_path):
    """Each service worker opens the store at its first /account, /ui page or wrong token:
    bringing a store of this very version "up to date" took SQLite's write lock, so that first
    request hung while `escrisk daily` stored a day (60 s of busy timeout, retried)."""
    import sqlite3
    import threading

    from serving.lookup import latest_score, store_problem
    from serving.ui import _Stores

    path = tmp_path / "escrisk.db"
    url = f"sqlite:///{path}"
    made = open_for_writing(url)
    DailyStore(made)
    made.close()
    writer = sqlite3.connect(path, isolation_level=None)  # the daily run, storing its day
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM daily_scores")
    got: dict[str, Any] = {}

    def first_requests() -> None:
        got["problem"] = store_problem(url)
        got["score"] = latest_score(url, "A-1")
        store, daily = _Stores(url).get()
        got["failures"] = store.auth_failures("ui", "192.0.2.1")

    reading = threading.Thread(target=first_requests, daemon=True)
    try:
        reading.start()
        reading.join(10)
        assert not reading.is_alive(), "the reader waited for the writer's lock"
    finally:
        writer.rollback()
        writer.close()
        reading.join(120)
    assert got == {"problem": None, "score": None, "failures": None}


def _older_version(url: str) -> None:
    """Make the store look like one an older version left: a column and a table added since."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE daily_scores DROP COLUMN team"))
        conn.execute(sa.text("DROP TABLE ui_signouts"))
    engine.dispose()


def _upgraded(url: str) -> bool:
    inspector = sa.inspect(engine := sa.create_engine(url))
    found = "ui_signouts" in inspector.get_table_names() and "team" in {
        c["name"] for c in inspector.get_columns("daily_scores")
    }
    engine.dispose()
    return found


def test_a_reader_brings_a_store_of_an_older_version_up_to_date(tmp_path):
    """/account and every signed-in page read columns and tables added in later versions: they
    failed (500) until the next daily run upgraded the store."""
    url = f"sqlite:///{tmp_path / 'escrisk.db'}"
    made = Store(url)
    DailyStore(made)
    made.close()
    _older_version(url)
    assert not _upgraded(url)
    store = open_existing(url)
    assert not store.signed_out("a" * 64) and store.daily_scores(account_id="A-1") == []
    store.close()
    assert _upgraded(url)


def _old_index(url: str, prefix: str, unique: bool = True) -> set[str]:
    """daily_scores as an older version left it, with an index of its own on account_id (and,
    unless `unique` is false, the unique (account_id, day) index); its indexes once reopened."""
    old = f"ix_{prefix}daily_scores_account_id"
    engine = sa.create_engine(url)
    table = _tables(sa.MetaData(), prefix)["daily_scores"]
    if not unique:
        table.constraints -= {c for c in table.constraints if isinstance(c, sa.UniqueConstraint)}
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(sa.text(f"CREATE INDEX {old} ON {table.name} (account_id)"))
    Store(url, prefix).close()  # the upgrade
    indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes(table.name)}
    engine.dispose()
    return indexes


def test_an_older_stores_duplicate_account_index_is_dropped(store_url):
    """Databases made before new ones stopped indexing daily_scores.account_id on its own kept
    the index, written for each of the day's rows for nothing: the upgrade drops it, only where
    the unique (account_id, day) index serves the look-ups by account instead."""
    url, prefix = store_url
    assert f"ix_{prefix}daily_scores_account_id" not in _old_index(url, prefix)
    Store(url, prefix).drop()
    assert f"ix_{prefix}daily_scores_account_id" in _old_index(url, prefix, unique=False)


def test_a_server_that_does_not_answer_is_not_asked_five_times():
    """Creating the schema is retried when another process raced it, not when the server is
    down: five connection timeouts made a one-line error take a minute."""
    from serving.store import _creation_race

    race = sa.exc.ProgrammingError("CREATE TABLE", {}, Exception('relation "x" already exists'))
    down = sa.exc.OperationalError("connect", {}, Exception("connection timeout expired"))
    assert _creation_race(race) and not _creation_race(down)


@pytest.mark.parametrize(
    "content", [b"", b"not a database, a text file\n"], ids=["empty file", "another file"]
)
def test_a_reader_never_writes_into_a_file_that_holds_no_store(tmp_path, content):
    """A wrong ESCRISK_DATABASE_URL pointing at some file (or another application's database)
    is a clear StoreUnavailable; the file is left as it was."""
    path = tmp_path / "other.db"
    path.write_bytes(content)
    with pytest.raises(StoreUnavailable, match="holds no escalation-risk store|cannot be reached"):
        open_existing(f"sqlite:///{path}")
    assert path.read_bytes() == content
    with pytest.raises(StoreUnavailable, match="no escalation-risk store"):
        open_existing("sqlite://")  # in memory: always empty


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("sqlite://", "in-memory database"),
        ("sqlite:///:memory:", "in-memory database"),
        ("sqlite:///file::memory:?cache=shared", "in-memory database"),
        ("mysql://u:secret@h/d", r"u:\*\*\*@h/d: the database driver is not installed \(MySQLdb\)"),
        ("nosuchdb://x/y", "unknown database dialect"),
        ("postgresql+psycopg://u:secret@127.0.0.1:1/x", r"cannot be opened or used \(Operational"),
    ],
)
def test_a_writer_refuses_a_database_it_cannot_keep_or_open(url, said):
    """`escrisk daily` and the ladder commands: one line naming the setting, no password, never
    an internal error; an in-memory database would forget what was sent (and send it again)."""
    with pytest.raises(UserError, match=said) as err:
        open_for_writing(url)
    assert "secret" not in str(err.value)


def test_a_writer_says_a_file_is_not_a_database_and_leaves_it(tmp_path):
    path = tmp_path / "README.md"
    path.write_bytes(b"# not a database\n" * 200)
    with pytest.raises(
        UserError, match=r"cannot be opened or used \(DatabaseError: file is not a database\)"
    ):
        open_for_writing(f"sqlite:///{path}")
    assert path.read_bytes() == b"# not a database\n" * 200


def test_reading_what_a_writer_would_find_creates_nothing_and_says_what_is_wrong(tmp_path):
    """`escrisk daily` reads the latest run before its checks, which may refuse the run: no
    file is made where none is, and a database it cannot use is told as `open_for_writing` does."""
    missing = tmp_path / "escrisk.db"
    assert existing_tables(open_for_writing(f"sqlite:///{missing}", create=False)) == set()
    assert not missing.exists()
    text = tmp_path / "README.md"
    text.write_bytes(b"# not a database\n" * 200)
    for url, said in (
        (
            f"sqlite:///{text}",
            r"cannot be opened or used \(DatabaseError: file is not a database\)",
        ),
        ("postgresql+psycopg://u:secret@127.0.0.1:1/x", r"cannot be opened or used \(Operational"),
    ):
        with pytest.raises(UserError, match=said) as err:
            existing_tables(open_for_writing(url, create=False))
        assert "secret" not in str(err.value)
    assert text.read_bytes() == b"# not a database\n" * 200


def test_a_writer_opens_a_file_named_like_memory(tmp_path):
    store = open_for_writing(f"sqlite:///{tmp_path / 'memory.db'}")
    store.close()
    assert (tmp_path / "memory.db").is_file()


def test_a_malformed_url_is_store_unavailable_for_a_reader():
    with pytest.raises(StoreUnavailable, match="not a valid SQLAlchemy URL"):
        open_existing("not a url")


def test_a_server_that_never_answers_times_out(monkeypatch):
    """A host that accepts the connection and stays silent (a firewall, a hung server) must not
    hang the reader: the connection gives up after CONNECT_TIMEOUT_S."""
    import socket
    import time

    import serving.store as store_module

    monkeypatch.setattr(store_module, "CONNECT_TIMEOUT_S", 1)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever answers
        port = silent.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(StoreUnavailable, match="cannot be reached"):
            open_existing(f"postgresql+psycopg://u:pw@127.0.0.1:{port}/x")
        assert time.monotonic() - start < 8


def test_an_unreachable_server_is_store_unavailable_without_the_password(unused_port):
    port = unused_port
    for url in (
        f"postgresql+psycopg://escrisk:s3cret@127.0.0.1:{port}/nowhere",
        f"postgresql+psycopg://escrisk@127.0.0.1:{port}/nowhere?password=s3cret",
    ):
        with pytest.raises(StoreUnavailable, match="cannot be reached") as info:
            open_existing(url)
        assert "s3cret" not in str(info.value) and str(port) in str(info.value)


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


def test_read_states_reads_what_read_state_reads(store):
    """The daily job's read of a chunk's states (each distinct stored time converted once) gives
    each stored account's state and version as `_read_state` does, and leaves out the others."""
    later = NOW + dt.timedelta(hours=1, microseconds=7)
    states = [
        LadderState("A-0", "L0", NOW, None, None, None, None, 0, None),
        LadderState("A-1", "L2", later, later, None, None, None, 1, "d1"),
        LadderState("A-2", "L1", NOW, later, NOW, later, NOW, 2, "d2"),
        LadderState("A-3", "L0", later, None, None, None, later, 0, None),
    ]
    store._run(lambda c: [store._write_state(c, s, 0, NOW) for s in states])
    store._run(lambda c: store._write_state(c, states[1], 1, later))  # version 2
    ids = ["A-3", "nobody", "A-0", "A-1", "A-2"]
    read = store._run(lambda c: store._read_states(c, ids))
    expected = store._run(lambda c: {i: store._read_state(c, i) for i in ids})
    assert read == {i: v for i, v in expected.items() if v[0] is not None}
    assert read["A-1"][1] == 2 and read["A-2"][0].acknowledged_at.tzinfo is dt.UTC


# --- reads that must not grow with the stored history --------------------------------------------
# the window's KPIs, latest rows and an account's list rows against the plain Python computation
# over every stored row, on a generated store with history

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
DAYS = 40
ACCOUNTS = [f"A-{i}" for i in range(12)]


def _at(rng: np.random.Generator) -> dt.datetime:
    """A time in the history; some exactly at midnight, where the windows start and end."""
    day = START + dt.timedelta(days=int(rng.integers(DAYS)))
    return day if rng.random() < 0.2 else day + dt.timedelta(seconds=int(rng.integers(86_400)))


def _history(store: Store, daily: DailyStore, seed: int) -> None:
    """Random level changes, what people did about them (repeated, unflagged, tied in time),
    and scored (account, day) rows with gaps, in both the scores and the list tables."""
    rng = np.random.default_rng(seed)
    changes = []
    for i in range(150):
        changes.append(
            {
                "decision_id": f"d{i}", "account_id": str(rng.choice(ACCOUNTS)), "at": _at(rng),
                "old_level": None if rng.random() < 0.2 else "L0", "new_level": "L1",
                "direction": str(rng.choice(["up", "down"])),
                "rule": "r", "reason_key": "k", "reason_params": {}, "escalation_risk": 0.5,
                "churn_risk": 0.1, "reasons": [{"text": "x"}], "owners": ["csm"], "team": "cs",
                "priority": "P2", "due_at": None, "channels": [], "actions": [], "model_version": "m",
            }
        )  # fmt: skip
    people: dict[str, list[dict]] = {"acknowledgements": [], "resolutions": [], "feedback": []}
    for name, rows in people.items():
        for _ in range(120):
            c = changes[int(rng.integers(len(changes)))]
            tie = rows and rng.random() < 0.2  # same flag and time as the previous record
            row = {
                "account_id": c["account_id"],
                "decision_id": None if rng.random() < 0.1 else c["decision_id"],
                "at": rows[-1]["at"] if tie else c["at"] + dt.timedelta(hours=float(rng.random() * 200)),
                "by": "csm",
            }  # fmt: skip
            if tie:
                row["decision_id"] = rows[-1]["decision_id"]
            extra = {
                "acknowledgements": {"note": None},
                "resolutions": {"outcome": "saved", "note": None},
                "feedback": {"agree": bool(rng.random() < 0.6), "comment": None},
            }
            rows.append(row | extra[name])
    # accounts come and go: each is active over a span of days of its own, with gaps
    spans = {a: sorted(rng.integers(0, DAYS, 2).tolist()) for a in ACCOUNTS}
    scored = [
        (a, (START + dt.timedelta(days=d)).date())
        for d in range(DAYS)
        for a in ACCOUNTS
        if spans[a][0] <= d <= spans[a][1] and rng.random() < 0.7
    ]
    with store.engine.begin() as conn:
        bulk_insert(conn, store.t["level_changes"], changes)
        for name, rows in people.items():
            bulk_insert(conn, store.t[name], rows)
        bulk_insert(
            conn,
            store.t["daily_scores"],
            [
                {"account_id": a, "day": d, "escalation_risk": 0.1, "churn_risk": 0.2,
                 "level": "L0", "reasons": [], "model_version": "m", "scored_at": START}
                for a, d in scored
            ],
        )  # fmt: skip
        bulk_insert(
            conn,
            daily.t["daily_list"],
            [
                {"account_id": a, "day": d, "rank": r, "priority": 1.0, "escalation_risk": 0.1,
                 "churn_risk": 0.2, "why_changed": "", "level": "L0", "level_index": 0,
                 "level_changed": "", "reasons": "", "next_action": ""}
                for r, (a, d) in enumerate(scored)
            ],
        )  # fmt: skip


WINDOWS = [
    (None, None),
    (START + dt.timedelta(days=10), START + dt.timedelta(days=25)),  # midnights
    (START + dt.timedelta(days=10, hours=5), START + dt.timedelta(days=30, minutes=1)),
    (None, START + dt.timedelta(days=20, hours=23)),
    (START + dt.timedelta(days=35), None),
    (START + dt.timedelta(days=90), START + dt.timedelta(days=99)),  # nothing in it
    (  # the same instants in another time zone
        (START + dt.timedelta(days=5)).astimezone(dt.timezone(dt.timedelta(hours=-5))),
        (START + dt.timedelta(days=15)).astimezone(dt.timezone(dt.timedelta(hours=2))),
    ),
]


@pytest.mark.parametrize("seed", [1, 2])
def test_window_kpis_equal_the_kpis_over_every_record(store_url, seed):
    store = Store(*store_url)
    daily = DailyStore(store)
    _history(store, daily, seed)
    records = [
        store.rows(k) for k in ("level_changes", "acknowledgements", "resolutions", "feedback")
    ]
    scores = store.daily_scores()
    seen, some = set(), set()
    for since, until in WINDOWS:
        got = window_kpis(store, since, until)
        assert got == ladder_kpis(*records, scores, since, until)
        seen.add((got.escalations > 0, got.median_hours_to_acknowledge is not None))
        some.add(0 < got.accounts_scored < len({s["account_id"] for s in scores}))
    assert seen >= {(True, True), (False, False)}  # windows with and without flags
    assert True in some  # windows that some of the stored accounts are not in
    store.close()


def test_latest_rows_and_an_accounts_list_rows_equal_the_full_reads(store_url):
    store = Store(*store_url)
    daily = DailyStore(store)
    _history(store, daily, 3)
    # a back-dated day stored last: its ids are the newest, its day is not
    late = (START - dt.timedelta(days=3)).date()
    store.save_daily_scores(
        [{"account_id": "A-1", "day": late, "escalation_risk": 0.9, "churn_risk": 0.1}], START
    )
    days = sorted({r["day"] for r in store.daily_scores()})
    with store.engine.begin() as conn:  # the run records that save_day writes with each list
        conn.execute(
            sa.insert(daily.t["daily_runs"]),
            [{"day": d, "ran_at": START, "evaluated_at": START, "model_version": "m",
              "feature_names": [], "accounts": 1} for d in days if d != late],
        )  # fmt: skip
    tl = daily.t["daily_list"]
    for account in [*ACCOUNTS, "NOBODY"]:
        for table in ("level_changes", "acknowledgements", "feedback"):
            assert store.rows(table, account, last=1) == store.rows(table, account)[-1:]
            assert store.rows(table, account, last=3) == store.rows(table, account)[-3:]
        assert store.daily_scores(account, last=1) == store.daily_scores(account)[-1:]
        full = daily.store._run(
            lambda c, a=account: [dict(r) for r in c.execute(
                sa.select(*(x for x in tl.c if x.name != "contributions"))
                .where(tl.c.account_id == a).order_by(tl.c.day)
            ).mappings()]
        )  # fmt: skip
        if not full:
            continue
        assert daily.account_history(account) == full
        assert daily.account_history(account, days=5) == full[-5:]
    assert store.daily_scores("A-1", last=1)[0]["day"] > late
    store.close()


def test_pruning_deletes_the_days_before_and_nothing_else(store_url):
    store = Store(*store_url)
    daily = DailyStore(store)
    _history(store, daily, 4)
    days = sorted({r["day"] for r in store.daily_scores()})
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(daily.t["daily_runs"]),
            [{"day": d, "ran_at": START, "evaluated_at": START, "model_version": "m",
              "feature_names": [], "accounts": 1} for d in days],
        )  # fmt: skip
    tl = daily.t["daily_list"]

    def listed() -> list[tuple]:
        q = sa.select(tl.c.day, tl.c.account_id).order_by(tl.c.day, tl.c.account_id)
        return store._run(lambda c: [tuple(r) for r in c.execute(q)])

    trail = {k: store.rows(k) for k in ("level_changes", "acknowledgements", "feedback")}
    scores, rows, runs = store.daily_scores(), listed(), daily.runs()
    cut = days[len(days) // 2]
    assert daily.prune(cut) == len([d for d in days if d < cut])
    assert store.daily_scores() == [r for r in scores if r["day"] >= cut]
    assert listed() == [r for r in rows if r[0] >= cut]
    assert daily.runs() == [r for r in runs if r["day"] >= cut]
    assert {k: store.rows(k) for k in trail} == trail
    assert daily.prune(cut) == 0  # nothing left to delete
    store.close()


def test_the_owner_filter_folds_case_beyond_ascii(store_url):
    """SQLite's lower() folds ASCII only: the page's filter must still find Özlem as özlem."""
    store = Store(*store_url)
    daily = DailyStore(store)
    day = START.date()
    owners = ["Özlem Çelik", "ÖZLEM ÇELIK", "Jürgen Groß", None]
    rows = pd.DataFrame(
        [{"account_id": f"A-{i}", "rank": i + 1, "priority": 1.0, "account_name": "n",
          "csm_owner": o, "tier": "starter", "arr": 1.0, "escalation_risk": 0.1,
          "churn_risk": 0.1, "delta_prev": None, "delta_7d": None, "why_changed": "",
          "level": "L0", "level_index": 0, "level_changed": "", "reasons": "",
          "next_action": "", "due_at": None, "model_version": "m"} for i, o in enumerate(owners)]
    )  # fmt: skip
    run = {"ran_at": START, "evaluated_at": START, "model_version": "m", "accounts": 4}
    daily.save_day(day, rows, np.zeros((4, 1)), ["f"], run)
    for asked in ("özlem çelik", "Özlem Çelik", "ÖZLEM ÇELIK"):
        got = {r["account_id"] for r in daily.daily_list(day=day, owner=asked)}
        assert got == {"A-0", "A-1"}
        assert daily.list_count(day=day, owner=asked) == 2
    assert [r["account_id"] for r in daily.daily_list(day=day, owner="jürgen groß")] == ["A-2"]
    assert daily.daily_list(day=day, owner="nobody") == []
    store.close()


def test_the_tier_filter_ignores_case(store_url):
    """`tier=enterprise` (typed, or a link) finds the accounts the data calls Enterprise."""
    from serving.risklist import filtered

    store = Store(*store_url)
    daily = DailyStore(store)
    day = START.date()
    tiers = ["Enterprise", "ENTERPRISE", "starter", None]
    rows = pd.DataFrame(
        [{"account_id": f"A-{i}", "rank": i + 1, "priority": 1.0, "account_name": "n",
          "csm_owner": "o", "tier": t, "arr": 1.0, "escalation_risk": 0.1,
          "churn_risk": 0.1, "delta_prev": None, "delta_7d": None, "why_changed": "",
          "level": "L0", "level_index": 0, "level_changed": "", "reasons": "",
          "next_action": "", "due_at": None, "model_version": "m"} for i, t in enumerate(tiers)]
    )  # fmt: skip
    run = {"ran_at": START, "evaluated_at": START, "model_version": "m", "accounts": 4}
    daily.save_day(day, rows, np.zeros((4, 1)), ["f"], run)
    for asked in ("enterprise", "Enterprise", "ENTERPRISE"):
        got = {r["account_id"] for r in daily.daily_list(day=day, tier=asked)}
        assert got == {"A-0", "A-1"}, asked
        assert daily.list_count(day=day, tier=asked) == 2
        assert list(filtered(rows, ["L0"], tier=asked)["account_id"]) == ["A-0", "A-1"]
    assert [r["account_id"] for r in daily.daily_list(day=day, tier="Starter")] == ["A-2"]
    assert daily.daily_list(day=day, tier="business") == []
    store.close()


def test_sorting_puts_empty_values_last_both_ways_on_every_backend(store_url):
    """A list sorted by due time starts with the flags that are due, not with the accounts that
    have none; SQLite and PostgreSQL order NULL differently unless told."""
    store = Store(*store_url)
    daily = DailyStore(store)
    day = START.date()
    dues = [None, START + dt.timedelta(hours=5), None, START + dt.timedelta(hours=1)]
    deltas = [0.1, None, -0.2, None]
    rows = pd.DataFrame(
        [{"account_id": f"A-{i}", "rank": i + 1, "priority": 1.0, "account_name": "n",
          "csm_owner": "o", "tier": "starter", "arr": 1.0, "escalation_risk": 0.1,
          "churn_risk": 0.1, "delta_prev": d, "delta_7d": None, "why_changed": "",
          "level": "L0", "level_index": 0, "level_changed": "", "reasons": "",
          "next_action": "", "due_at": due, "model_version": "m"}
         for i, (due, d) in enumerate(zip(dues, deltas, strict=True))]
    )  # fmt: skip
    run = {"ran_at": START, "evaluated_at": START, "model_version": "m", "accounts": 4}
    daily.save_day(day, rows, np.zeros((4, 1)), ["f"], run)

    def order(sort: str, descending: bool) -> list[str]:
        got = daily.daily_list(day=day, sort=sort, descending=descending)
        return [r["account_id"] for r in got]

    assert order("due_at", False) == ["A-3", "A-1", "A-0", "A-2"]
    assert order("due_at", True) == ["A-1", "A-3", "A-0", "A-2"]
    assert order("delta_prev", False) == ["A-2", "A-0", "A-1", "A-3"]
    assert order("delta_prev", True) == ["A-0", "A-2", "A-1", "A-3"]
    store.close()


def test_an_existing_database_gets_the_indexes_added_later(store_url):
    store = Store(*store_url)
    DailyStore(store)
    wanted = {ix.name for t in store.metadata.sorted_tables for ix in t.indexes}
    added = {"level_changes": "at", "acknowledgements": "decision_id", "resolutions": "decision_id",
             "feedback": "decision_id", "daily_scores": "day"}  # fmt: skip
    dropped = {f"ix_{store.t[t].name}_{c}" for t, c in added.items()}
    assert dropped <= wanted
    with store.engine.begin() as conn:
        for name in dropped:
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
    store.close()
    again = Store(*store_url)
    DailyStore(again)
    inspector = sa.inspect(again.engine)
    have = {
        ix["name"] for t in again.metadata.sorted_tables for ix in inspector.get_indexes(t.name)
    }
    assert wanted <= have
    again.close()


def test_an_existing_database_gets_the_columns_added_later(store_url):
    """A database whose daily_scores predates the stored decision (owners, team, priority) gets
    the columns when opened; its old rows read as NULL there and /account falls back to the
    level change that set the level."""
    from serving import lookup

    store = Store(*store_url)
    t = store.t["daily_scores"].name
    store.save_daily_scores(
        [{"account_id": "A-1", "day": NOW.date(), "escalation_risk": 0.4, "churn_risk": 0.1,
          "level": "L0", "reasons": []}], NOW,
    )  # fmt: skip
    with store.engine.begin() as conn:
        for column in ("owners", "team", "priority"):
            conn.execute(sa.text(f'ALTER TABLE "{t}" DROP COLUMN "{column}"'))
    store.close()
    again = Store(*store_url)
    DailyStore(again)  # the daily job's tables, which the lookup reads too
    columns = {c["name"] for c in sa.inspect(again.engine).get_columns(t)}
    assert {"owners", "team", "priority"} <= columns
    [old] = again.daily_scores("A-1")
    assert (old["owners"], old["team"], old["priority"]) == (None, None, None)
    again.save_daily_scores(
        [{"account_id": "A-2", "day": NOW.date(), "escalation_risk": 0.4, "churn_risk": 0.1,
          "level": "L0", "reasons": [], "owners": ["csm"], "team": "support", "priority": "P3"}],
        NOW,
    )  # fmt: skip
    again.close()
    if not store_url[1]:  # the lookup reads the default table names
        lookup._store.cache_clear()
        lookup._daily.cache_clear()
        got = lookup.latest_score(store_url[0], "A-2")
        assert got is not None and (got["owners"], got["team"], got["priority"]) == (
            ["csm"],
            "support",
            "P3",
        )
        old_answer = lookup.latest_score(store_url[0], "A-1")
        assert old_answer is not None and old_answer["owners"] == []  # no level change stored
        lookup._store.cache_clear()
        lookup._daily.cache_clear()


def test_score_columns_with_json_text_store_the_reasons(store):
    """The daily job's scores (reasons pre-rendered as JsonText) read back as the reasons, on
    SQLite (stored as given) and PostgreSQL (parsed back and bound by the dialect)."""
    import json

    from serving.store import JsonText

    reasons = [[{"text": "Ä 1", "contribution": 0.5}], [], [{"v": None, "x": [1, "b"]}]]
    day = NOW.date()
    store.save_score_columns(
        {
            "account_id": ["A", "B", "C"],
            "day": [day] * 3,
            "escalation_risk": [0.1, 0.2, 0.3],
            "churn_risk": [0.0, 0.5, 1.0],
            "level": ["L0", None, "L2"],
            "reasons": [JsonText(json.dumps(r)) for r in reasons],
            "model_version": ["m/1"] * 3,
        },
        NOW,
    )
    got = store.daily_scores(day=day)
    assert [r["reasons"] for r in got] == reasons
    assert json.dumps(got[0]["reasons"]) == json.dumps(reasons[0])


def test_signed_out_sessions_are_kept_until_they_expire(store):
    later = NOW + dt.timedelta(hours=12)
    assert not store.signed_out("a" * 64)
    store.sign_out("a" * 64, later, NOW)
    store.sign_out("a" * 64, later, NOW)  # twice: no error, one row
    table = store.t["ui_signouts"]
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 1
    assert store.signed_out("a" * 64)
    store.sign_out("b" * 64, later + dt.timedelta(hours=1), later)  # "a" has expired: forgotten
    assert not store.signed_out("a" * 64) and store.signed_out("b" * 64)


@pytest.mark.skipif(not PG_URL, reason="set ESCRISK_TEST_POSTGRES_URL to run against PostgreSQL")
def test_a_reader_on_postgresql_wants_the_daily_runs_tables():
    """In a schema of its own (search_path in the URL): no tables is a StoreUnavailable that
    creates none; once the daily run made them, the reader opens the store."""
    schema = f"r{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(str(PG_URL))
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = sa.engine.make_url(str(PG_URL)).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        with pytest.raises(StoreUnavailable, match="no escalation-risk store"):
            open_existing(url.render_as_string(hide_password=False))
        with admin.connect() as conn:
            tables = conn.execute(
                sa.text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema},
            ).scalar()
        assert tables == 0
        made = Store(url.render_as_string(hide_password=False))
        DailyStore(made)
        made.close()
        open_existing(url.render_as_string(hide_password=False)).close()
        _older_version(url.render_as_string(hide_password=False))
        open_existing(url.render_as_string(hide_password=False)).close()
        assert _upgraded(url.render_as_string(hide_password=False))
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.mark.skipif(not PG_URL, reason="set ESCRISK_TEST_POSTGRES_URL to run against PostgreSQL")
def test_the_daily_lock_is_let_go_of_before_its_connection_goes():
    """The run let go of its advisory lock by closing the connection: the server's process
    drops a session's locks only as it exits, after the client has moved on, and a run started
    right after (CI's next test) was now and then refused as busy. The lock is let go of on the
    connection, so it is free by the time the connection is handed back."""
    from serving.runlock import daily_lock

    held_at_checkin: list[int] = []
    watcher = sa.create_engine(str(PG_URL))
    held = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")

    watching = [False]

    def on_checkin(_dbapi_conn: Any, _record: Any) -> None:
        if not watching[0]:  # the run's connection, not the watcher's own
            watching[0] = True
            with watcher.connect() as conn:
                held_at_checkin.append(int(conn.execute(held).scalar() or 0))
            watching[0] = False

    sa.event.listen(sa.pool.Pool, "checkin", on_checkin)
    try:
        with daily_lock(str(PG_URL)):
            pass
    finally:
        sa.event.remove(sa.pool.Pool, "checkin", on_checkin)
        watcher.dispose()
    assert held_at_checkin and held_at_checkin[0] == 0, held_at_checkin


@pytest.mark.skipif(not PG_URL, reason="set ESCRISK_TEST_POSTGRES_URL to run against PostgreSQL")
def test_the_daily_lock_is_the_stores_not_the_whole_postgresql_databases():
    """The daily run's advisory lock had one key for the whole database: with two stores in one
    database (a schema each, search_path in the URL, as two teams' installations), one team's
    run refused the other's, its cron run then doing nothing that day. A store's lock now keeps
    out the runs on that store only."""
    from serving.runlock import RunBusy, daily_lock

    schemas = [f"l{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = sa.create_engine(str(PG_URL))
    with admin.begin() as conn:
        for schema in schemas:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    a, b = (
        sa.engine.make_url(str(PG_URL))
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
        for schema in schemas
    )
    try:
        with daily_lock(a):
            # the other store's run goes ahead; a second run on the same store does not
            with daily_lock(b), pytest.raises(RunBusy), daily_lock(b):
                pass
            with pytest.raises(RunBusy), daily_lock(a):
                pass
        with daily_lock(a):  # let go of at the end
            pass
    finally:
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_feedback_is_on_the_flag_not_on_a_timeout_step(store, params):
    """Nobody acknowledged, so the ladder stepped up by timeout: a CSM's verdict is still on the
    risk (or rule) that flagged the account, which is what "flags confirmed" measures."""
    lp = params.ladder
    flag = store.evaluate(signals("A-1", 0.4), lp, NOW, "v1")
    due = store.state("A-1").due_at
    assert due is not None
    step = store.evaluate(signals("A-1", 0.4), lp, due + dt.timedelta(minutes=1), "v1")
    assert step.rule == "timeout" and step.direction == "up"
    assert (
        store.feedback("A-1", due + dt.timedelta(hours=1), "anna", agree=True) == flag.decision_id
    )


def test_a_reader_of_a_store_it_could_not_bring_up_to_date_finds_the_latest_run(store_url):
    """A reader whose role may not add columns (open_existing's `create=False` fallback) reads
    a store of an older version as it is: daily_runs without the trend summaries added since
    must not stop the CSM page (its latest day, its run's feature names)."""
    url, prefix = store_url
    writer = Store(url, prefix)
    daily = DailyStore(writer)
    day = START.date()
    tr = daily.t["daily_runs"]
    with writer.engine.begin() as conn:
        conn.execute(
            sa.insert(tr),
            [{"day": day, "ran_at": START, "evaluated_at": START, "model_version": "m",
              "feature_names": ["a", "b"], "accounts": 1}],
        )  # fmt: skip
        for column in ("escalation_median", "escalation_p90", "flagged"):  # as an older version
            conn.execute(sa.text(f"ALTER TABLE {tr.name} DROP COLUMN {column}"))
    writer.close()
    reader = DailyStore(Store(url, prefix, create=False))
    assert reader.latest_day() == day
    run = reader.run_on_or_before(day + dt.timedelta(days=3))
    assert run is not None and list(run["feature_names"]) == ["a", "b"]
    reader.store.close()


def test_a_new_sqlite_file_is_readable_by_its_owner_only(tmp_path):
    """The state database holds customer data, the audit trail and webhook addresses: under the
    usual umask SQLite made it (and its WAL) readable by every user of the host."""
    old = os.umask(0o022)
    try:
        path = tmp_path / "escrisk.db"
        store = open_for_writing(f"sqlite:///{path}")
        store.sign_out("k" * 64, NOW + dt.timedelta(hours=1), NOW)  # a write: the WAL exists
        files = [path, *tmp_path.glob("escrisk.db-*")]
        modes = {f.name: oct(f.stat().st_mode & 0o777) for f in files}
        store.close()
    finally:
        os.umask(old)
    assert len(files) > 1 and set(modes.values()) == {"0o600"}, modes


def test_an_existing_sqlite_file_keeps_the_permissions_its_owner_set(tmp_path):
    path = tmp_path / "escrisk.db"
    open_for_writing(f"sqlite:///{path}").close()
    path.chmod(0o640)  # shared with the service's group on purpose
    open_for_writing(f"sqlite:///{path}").close()
    assert path.stat().st_mode & 0o777 == 0o640


# every table and column added since the first release (indexes aside: a store works without)
ADDED_SINCE = [
    "DROP TABLE ui_signouts",
    "DROP TABLE model_settings",
    "DROP TABLE auth_failures",
    "ALTER TABLE daily_scores DROP COLUMN owners",
    "ALTER TABLE daily_scores DROP COLUMN team",
    "ALTER TABLE daily_scores DROP COLUMN priority",
    "ALTER TABLE daily_list DROP COLUMN why_parts",
    "ALTER TABLE daily_runs DROP COLUMN escalation_median",
    "ALTER TABLE daily_runs DROP COLUMN escalation_p90",
    "ALTER TABLE daily_runs DROP COLUMN flagged",
]


@pytest.fixture
def no_ddl_role(pg_schema_and_role) -> Iterator[tuple[str, str, str, Callable[[], None]]]:
    """(owner's URL, URL of a role that may read and write but not CREATE or ALTER, schema,
    grant): the first release's store in a schema of its own, as a service role sees it after
    an upgrade of the code; `grant()` gives the role its rights on every table, as its DBA
    does after adding tables."""
    admin, schema, role, owner, reader = pg_schema_and_role
    made = Store(owner)
    daily = DailyStore(made)
    made.save_daily_scores(
        [{"account_id": "A-1", "day": START.date(), "escalation_risk": 0.5, "churn_risk": 0.1,
          "level": "L0", "reasons": [], "model_version": "m/1"}],
        START,
    )  # fmt: skip
    run = {"ran_at": START, "evaluated_at": START, "model_version": "m/1", "accounts": 1}
    rows = pd.DataFrame(
        [{"account_id": "A-1", "rank": 1, "priority": 0.5, "account_name": "Acme",
          "csm_owner": "Ann", "tier": "starter", "arr": 1.0, "escalation_risk": 0.5,
          "churn_risk": 0.1, "delta_prev": None, "delta_7d": None, "why_changed": "",
          "level": "L0", "level_index": 0, "level_changed": "same", "reasons": "",
          "next_action": "", "due_at": None, "model_version": "m/1"}]
    )  # fmt: skip
    daily.save_day(START.date(), rows, np.zeros((1, 1)), ["f"], run)
    made.close()
    with admin.begin() as conn:
        conn.execute(sa.text(f"SET LOCAL search_path = {schema}"))
        for statement in ADDED_SINCE:
            conn.execute(sa.text(statement))
        conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))

    def grant() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"
            ))  # fmt: skip
            conn.execute(sa.text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"))

    grant()
    yield owner, reader, schema, grant


@pytest.mark.skipif(not PG_URL, reason="set ESCRISK_TEST_POSTGRES_URL to run against PostgreSQL")
def test_a_role_without_ddl_rights_reads_an_older_store_and_a_writer_says_what_it_lacks(
    no_ddl_role, monkeypatch, capsys, tmp_path, params
):
    """Only model_settings was tolerated: a service role without DDL rights on the store of an
    older release failed (500) on every signed-in page (ui_signouts), on /account
    (daily_scores.owners) and on the account page (daily_list.why_parts); a writer said only
    "permission denied for schema" (`escrisk daily` after minutes of loading and scoring). A
    reader now reads the store as it is; a writer refuses, naming every table and column it
    lacks and the command that adds them, run with DDL rights (the daily run before its work)."""
    from serving.cli import main
    from serving.store import StoreOutdated

    owner, role, _, grant = no_ddl_role
    reader = open_existing(role)
    daily = DailyStore(reader)
    assert not reader.signed_out("a" * 64) and reader.model_settings() == {}
    assert reader.daily_scores(account_id="A-1")[0]["escalation_risk"] == 0.5
    assert daily.account_history("A-1")[0]["account_name"] == "Acme"
    assert [r["account_id"] for r in daily.daily_list()] == ["A-1"]
    with pytest.raises(StoreUnavailable, match="lacks the table ui_signouts"):
        reader.sign_out("a" * 64, START + dt.timedelta(hours=1), START)
    # wrong tokens: counted in the worker's memory, not a failed request (auth_failures lacking)
    from serving.throttle import SharedThrottle

    counted = SharedThrottle("api", lambda: reader, 1, 60.0, clock=lambda: 1_000.0)
    counted.failed("192.0.2.1")
    assert counted.wait("192.0.2.1") == 1.0
    reader.close()

    with pytest.raises(StoreOutdated) as refused:
        open_for_writing(role)
    said = str(refused.value)
    gaps = ("auth_failures, daily_list.why_parts, daily_runs.escalation_median, daily_runs.escalation_p90, "
            "daily_runs.flagged, daily_scores.owners, daily_scores.team, daily_scores.priority, "
            "model_settings, ui_signouts")  # fmt: skip
    assert f"({gaps})" in said and "InsufficientPrivilege" in said
    assert "`escrisk audit --last 1`" in said and "DDL rights" in said
    assert "escrisk audit --last 1" in refused.value.told("de") and "fehlt" in refused.value.told(
        "de"
    )

    from serving.daily import run_daily

    with pytest.raises(StoreOutdated):  # before it reads the source (there is none)
        run_daily(
            str(tmp_path / "no-source"),
            params,
            database_url=role,
            tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
            now=pd.Timestamp(START + dt.timedelta(days=1)),
            out=tmp_path / "reports",
        )
    monkeypatch.setenv("ESCRISK_DATABASE_URL", role)
    assert main(["ack", "A-1", "--by", "ann"]) == 1
    assert "lacks what this version adds" in capsys.readouterr().err  # one line, no traceback
    monkeypatch.setenv("ESCRISK_DATABASE_URL", owner)
    assert main(["audit", "--last", "1"]) == 0  # the command the message names
    grant()
    writer = open_for_writing(role)
    daily = DailyStore(writer)
    writer.sign_out("a" * 64, START + dt.timedelta(hours=1), START)
    assert writer.signed_out("a" * 64) and daily.runs(summary=True)[0]["flagged"] is None
    writer.close()


@pytest.mark.skipif(not PG_URL, reason="set ESCRISK_TEST_POSTGRES_URL to run against PostgreSQL")
def test_a_role_without_ddl_rights_writes_a_store_that_lacks_only_indexes(no_ddl_role):
    """An index added since is no reason to refuse a writer: the store works without it."""
    owner, role, schema, grant = no_ddl_role
    open_for_writing(owner).close()  # every table and column of this version
    grant()
    engine = sa.create_engine(owner)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP INDEX {schema}.ix_level_changes_at"))
    engine.dispose()
    writer = open_for_writing(role)
    writer.sign_out("b" * 64, START + dt.timedelta(hours=1), START)
    assert writer.signed_out("b" * 64)
    writer.close()


def test_requeue_puts_failed_messages_back_noting_who_and_what_failed(store, params):
    """`escrisk notify --requeue`: failed messages (not those too old) go back to pending with
    their attempts counted afresh; the row keeps who did it and the error it had; once."""
    store.evaluate(signals("A-1", 0.6), params.ladder, NOW, "v1", one_message)
    store.evaluate(
        signals("B-1", 0.6), params.ladder, NOW - dt.timedelta(days=3), "v1", one_message
    )
    for row in store.rows("outbox"):
        store.mark_failed(row["id"], NOW, "email: ConnectionRefusedError: down", None)
    at = NOW + dt.timedelta(hours=1)
    assert store.requeue_failed(at, "ops", max_age=dt.timedelta(hours=48)) == (1, 1)
    rows = {r["account_id"]: r for r in store.rows("outbox")}
    a = rows["A-1"]
    assert (a["status"], a["attempts"], a["next_attempt_at"]) == ("pending", 0, at)
    assert a["claimed_at"] is None and a["last_error"] == (
        "requeued 2025-06-04T11:00+00:00 by ops after 1 attempts; last error: "
        "email: ConnectionRefusedError: down"
    )
    assert rows["B-1"]["status"] == "failed"
    assert store.requeue_failed(at, "ops", max_age=dt.timedelta(hours=48)) == (0, 1)
    assert store.requeue_failed(at, "ops", since=NOW) == (0, 0)  # B-1 was queued before
    assert store.requeue_failed(at, "ops") == (1, 0)  # no age limit
