"""`serving.store.bulk_insert` stores exactly what SQLAlchemy's own insert stores."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from serving.store import Store, bulk_insert, insert_columns

T0 = dt.datetime(2026, 3, 1, 9, 15, 30, 123456, tzinfo=dt.UTC)


def rows(n: int, level: str = "L1") -> list[dict]:
    return [
        {
            "account_id": f"A{i}",
            "day": dt.date(2026, 3, 1) + dt.timedelta(days=i % 3),
            "escalation_risk": i / 10,
            "churn_risk": 0.5,
            "level": None if i == 2 else level,
            "reasons": [] if i == 1 else [{"text": f"über {i}", "contribution": 0.1 * i}],
            "model_version": "m/1",
            "scored_at": T0 + dt.timedelta(hours=i),
        }
        for i in range(n)
    ]


def read(store: Store) -> list[dict]:
    t = store.t["daily_scores"]
    q = sa.select(t).order_by(t.c.account_id, t.c.day)
    return store._run(lambda c: [dict(r) for r in c.execute(q).mappings()])


def test_bulk_insert_stores_what_sqlalchemy_stores(tmp_path):
    a, b = Store(f"sqlite:///{tmp_path / 'a.db'}"), Store(f"sqlite:///{tmp_path / 'b.db'}")
    data = rows(7)
    a._run(lambda c: c.execute(sa.insert(a.t["daily_scores"]), data))
    b._run(lambda c: bulk_insert(c, b.t["daily_scores"], data, chunk=3))
    assert read(a) == read(b)
    assert read(b)[0]["scored_at"] == T0  # aware UTC datetimes come back
    a.close()
    b.close()


def test_bulk_upsert_replaces_and_never_duplicates(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    t = store.t["daily_scores"]
    store._run(lambda c: bulk_insert(c, t, rows(5), upsert=("account_id", "day")))
    store._run(lambda c: bulk_insert(c, t, rows(5, "L3"), upsert=("account_id", "day")))
    got = read(store)
    assert len(got) == 5
    assert [r["level"] for r in got] == ["L3", "L3", None, "L3", "L3"]
    assert bulk_insert(None, t, []) == 0  # type: ignore[arg-type]  (nothing to do, no connection)
    store.close()


def test_insert_columns_stores_what_bulk_insert_stores(tmp_path):
    """Columns in, the same rows out; repeated times are converted once but stored alike."""
    a, b = Store(f"sqlite:///{tmp_path / 'a.db'}"), Store(f"sqlite:///{tmp_path / 'b.db'}")
    data = [r | {"scored_at": T0 + dt.timedelta(hours=i % 2)} for i, r in enumerate(rows(7))]
    a._run(lambda c: bulk_insert(c, a.t["daily_scores"], data))
    columns = {k: [r[k] for r in data] for k in data[0]}
    b._run(lambda c: insert_columns(c, b.t["daily_scores"], columns, chunk=3))
    assert read(a) == read(b)
    bad = columns | {"scored_at": [T0.replace(tzinfo=None)] * 7}
    with pytest.raises(ValueError, match="naive"):
        b._run(lambda c: insert_columns(c, b.t["daily_scores"], bad, upsert=("account_id", "day")))
    with pytest.raises(ValueError, match="different lengths"):
        b._run(lambda c: insert_columns(c, b.t["daily_scores"], columns | {"level": ["L1"]}))
    a.close()
    b.close()
