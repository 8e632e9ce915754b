"""Benchmark of the report's distinct-account count (`serving.kpis.window_kpis`): the accounts
scored in the KPI window, old (count(distinct account_id) over the window's rows of the daily
list, as the daily job counted until 2026-12-06) against new (`_accounts_in`: a walk of the
stored scores' unique (account_id, day) index, one probe per account).

A synthetic store of N accounts x D days (each day 2% of the accounts missing, in turn: accounts
come and go), the window the last 90 days. Prints each count (they must agree) and the median of
the repeats. SQLite in a temporary file by default; `--url` (and a `--prefix` of your own) for
PostgreSQL, whose tables the run drops at the end.

    uv run --frozen python benchmarks/bench_kpis.py [--accounts 20000] [--days 90] [--repeats 5]
        [--url postgresql+psycopg://...] [--prefix bench_]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from serving.dailystore import DailyStore  # noqa: E402
from serving.kpis import _accounts_in  # noqa: E402
from serving.store import Store, insert_columns  # noqa: E402

START = dt.date(2026, 1, 1)


def fill(store: Store, daily: DailyStore, accounts: int, days: int) -> None:
    """D days of list and score rows; account i is missing on the days k with (i + k) % 50 == 0."""
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for k in range(days):
        day = START + dt.timedelta(days=k)
        ids = [f"A-{i:06d}" for i in range(accounts) if (i + k) % 50]
        n = len(ids)

        def unit(conn: sa.Connection, ids: list[str] = ids, n: int = n, day: dt.date = day) -> None:
            insert_columns(conn, daily.t["daily_list"], {
                "day": [day] * n, "account_id": ids, "rank": list(range(n)), "priority": [0.0] * n,
                "escalation_risk": [0.1] * n, "churn_risk": [0.1] * n, "why_changed": [""] * n,
                "level": ["L0"] * n, "level_index": [0] * n, "level_changed": ["same"] * n,
                "reasons": [""] * n, "next_action": [""] * n,
            })  # fmt: skip
            insert_columns(conn, store.t["daily_scores"], {
                "account_id": ids, "day": [day] * n, "escalation_risk": [0.1] * n,
                "churn_risk": [0.1] * n, "reasons": [[]] * n, "scored_at": [at] * n,
            })  # fmt: skip

        store._run(unit)  # noqa: SLF001


def timed(store: Store, query: sa.Select, repeats: int) -> tuple[Any, float]:
    times, got = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        got = store._run(lambda c: c.execute(query).scalar_one())  # noqa: SLF001
        times.append(time.perf_counter() - t0)
    return got, statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=20000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--url", default=None)
    ap.add_argument("--prefix", default="")
    args = ap.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'kpis.db'}"
    store = Store(url, args.prefix)
    daily = DailyStore(store)
    try:
        t0 = time.perf_counter()
        fill(store, daily, args.accounts, args.days)
        print(
            f"{args.accounts:,} accounts x {args.days} days stored in {time.perf_counter() - t0:.0f} s"
        )
        since = START + dt.timedelta(days=max(args.days - 90, 0))
        until = START + dt.timedelta(days=args.days)
        tl, ts = daily.t["daily_list"], store.t["daily_scores"]

        def in_days(t: Any) -> list[Any]:
            return [t.c.day >= since, t.c.day < until]

        old: Callable[[sa.Table], sa.Select] = lambda t: sa.select(  # noqa: E731
            sa.func.count(sa.distinct(t.c.account_id))
        ).where(*in_days(t))
        account_days = sa.select(sa.func.count()).select_from(ts).where(*in_days(ts))
        for name, query in (
            ("old: count(distinct) over daily_list", old(tl)),
            ("old: count(distinct) over daily_scores", old(ts)),
            ("new: walk of daily_scores' (account_id, day) index", _accounts_in(ts, in_days)),
            ("account-days (count(*) over daily_scores, unchanged)", account_days),
        ):
            got, median = timed(store, query, args.repeats)
            print(f"{name}: {got:,}, median of {args.repeats} {median * 1000:.0f} ms")
    finally:
        if args.url:
            daily.metadata.drop_all(store.engine)
            store.drop()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
