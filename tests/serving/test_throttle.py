"""Wrong tokens counted per client address in the state database, for every worker at once.

Two `Store` objects on one database stand for two service workers (each opens its own)."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Iterator

import pytest

from serving.store import Store, StoreUnavailable
from serving.throttle import SharedThrottle

PG_URL = os.environ.get("ESCRISK_TEST_POSTGRES_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(not PG_URL, reason="set ESCRISK_TEST_POSTGRES_URL"),
    ),
]


@pytest.fixture(params=BACKENDS)
def stores(request, tmp_path) -> Iterator[tuple[Store, Store]]:
    """Two stores on one fresh database (SQLite file, or a table prefix of its own on PostgreSQL)."""
    if request.param == "sqlite":
        url, prefix = f"sqlite:///{tmp_path / 'escrisk.db'}", ""
    else:
        url, prefix = str(PG_URL), f"t{uuid.uuid4().hex[:10]}_"
    a, b = Store(url, prefix), Store(url, prefix)
    yield a, b
    a.close()
    b.close()
    if prefix:
        cleanup = Store(url, prefix)
        cleanup.drop()
        cleanup.close()


def throttles(stores, now, scope="api", **kw) -> tuple[SharedThrottle, SharedThrottle]:
    return tuple(  # type: ignore[return-value]
        SharedThrottle(scope, lambda s=s: s, free=4, max_seconds=60, clock=lambda: now[0], **kw)
        for s in stores
    )


def test_two_workers_count_one_client_s_failures_together(stores):
    """Each worker counted for itself: with two, a guesser's tries alternated between two counts
    (401, 429, 401, ...), and half of its guesses were checked during a wait."""
    now = [1_000_000.0]
    one, two = throttles(stores, now)
    for i in range(4):
        (one if i % 2 else two).failed("192.0.2.1")
    assert one.wait("192.0.2.1") == 1 and two.wait("192.0.2.1") == 1
    assert one.wait("192.0.2.2") == 0  # another address
    now[0] += 1
    two.failed("192.0.2.1")
    assert one.wait("192.0.2.1") == 2  # the wait doubles, whichever worker saw the failure
    ui = throttles(stores, now, scope="ui")[0]
    assert ui.wait("192.0.2.1") == 0  # the page's sign-in counts apart


def test_failures_at_once_are_each_counted_and_an_hour_forgets_them(stores):
    now = [1_000_000.0]
    one, two = throttles(stores, now)
    workers = [
        threading.Thread(target=lambda t=t: [t.failed("192.0.2.9") for _ in range(10)])
        for t in (one, two, one, two)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert stores[0].auth_failures("api", "192.0.2.9") == (40, now[0])
    now[0] += SharedThrottle.QUIET_SECONDS + 1
    assert one.wait("192.0.2.9") == 0
    two.failed("192.0.2.9")
    assert stores[0].auth_failures("api", "192.0.2.9") == (1, now[0])  # counting afresh


def test_the_count_keeps_bounded_room(stores):
    now = [1_000_000.0]
    one, _ = throttles(stores, now, max_clients=3)
    one.PRUNE_SECONDS = 0
    for i in range(10):
        now[0] += 1
        one.failed(f"192.0.2.{i}")
    kept = [f"192.0.2.{i}" for i in range(10) if stores[0].auth_failures("api", f"192.0.2.{i}")]
    assert kept == ["192.0.2.7", "192.0.2.8", "192.0.2.9"]  # the longest quiet went first


def test_without_the_database_a_worker_counts_for_itself_and_tries_it_again(stores, caplog):
    now = [1_000_000.0]
    down = [True]

    def store() -> Store:
        if down[0]:
            raise StoreUnavailable("no_file", "no database at /nowhere")
        return stores[0]

    throttle = SharedThrottle("api", store, free=2, max_seconds=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="escrisk.service"):
        throttle.failed("192.0.2.5")
        throttle.failed("192.0.2.5")
        assert throttle.wait("192.0.2.5") == 1  # counted all the same
    assert [r.getMessage() for r in caplog.records] == [
        "wrong tokens (api) counted by each worker for itself: the state database cannot be "
        "used (StoreUnavailable)"
    ]
    down[0] = False
    throttle.failed("192.0.2.6")
    assert stores[0].auth_failures("api", "192.0.2.6") is None  # not asked again at once
    now[0] += SharedThrottle.RETRY_SECONDS + 1
    throttle.failed("192.0.2.6")
    assert stores[0].auth_failures("api", "192.0.2.6") == (1, now[0])


def test_wrong_tokens_while_a_writer_holds_the_database_are_counted_at_once(tmp_path):
    """A wrong token's count is a write: on SQLite it queued behind the daily job storing a day
    (the store's 60 s busy timeout, then its retries), so the API's 401 hung till a 504, and the
    stuck threads starved the event loop's executor (a right token's large body waited too).
    While another writer holds the database a failure is counted in the worker's memory at once,
    and that count makes the address wait as the database's would."""
    import sqlite3

    path = tmp_path / "escrisk.db"
    store = Store(f"sqlite:///{path}")
    now = [1_000_000.0]
    (api,) = throttles([store], now)
    api.failed("192.0.2.7")  # one counted in the database before the writer came
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the daily job, storing a day
    done = threading.Event()
    guessing = threading.Thread(
        target=lambda: ([api.failed("192.0.2.7") for _ in range(3)], done.set())
    )
    try:
        guessing.start()
        assert done.wait(4), "a wrong token's count waited for the daily job's write"
        assert api.wait("192.0.2.7") == 1  # free=4: counted all the same
        assert api.wait("192.0.2.8") == 0
    finally:
        writer.execute("COMMIT")
        writer.close()
        guessing.join()
    api.failed("192.0.2.9")  # the database again once it is free
    assert store.auth_failures("api", "192.0.2.9") == (1, now[0])
    store.close()
