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


def test_json_columns_hold_json_dumps_text(tmp_path):
    """SQLite's JSON columns are written by a reused encoder: the stored text is json.dumps'."""
    import json

    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    data = rows(6)
    data[3]["reasons"] = [{"v": None, "x": [1, 2.5e-12, 'é\n"q"'], "n": float("nan")}, {}]
    store._run(lambda c: bulk_insert(c, store.t["daily_scores"], data))
    raw = store._run(
        lambda c: c.exec_driver_sql("SELECT reasons FROM daily_scores ORDER BY id").all()
    )
    assert [r[0] for r in raw] == [json.dumps(r["reasons"]) for r in data]
    store.close()


def test_save_score_columns_stores_what_save_daily_scores_stores(tmp_path):
    a, b = Store(f"sqlite:///{tmp_path / 'a.db'}"), Store(f"sqlite:///{tmp_path / 'b.db'}")
    data = [{k: v for k, v in r.items() if k != "scored_at"} for r in rows(5)]
    a.save_daily_scores(data, T0)
    b.save_score_columns({k: [r[k] for r in data] for k in data[0]}, T0)
    b.save_score_columns({k: [r[k] for r in data] for k in data[0]}, T0)  # a rerun replaces
    assert read(a) == read(b)
    assert b.save_score_columns({}, T0) == 0
    a.close()
    b.close()


def test_json_text_is_stored_as_given(tmp_path):
    """A value already serialized (JsonText) is stored as the object it encodes would be."""
    import json

    from serving.store import JsonText

    a, b = Store(f"sqlite:///{tmp_path / 'a.db'}"), Store(f"sqlite:///{tmp_path / 'b.db'}")
    data = rows(4)
    a._run(lambda c: bulk_insert(c, a.t["daily_scores"], data))
    encoded = [r | {"reasons": JsonText(json.dumps(r["reasons"]))} for r in data]
    b._run(lambda c: bulk_insert(c, b.t["daily_scores"], encoded))
    assert read(a) == read(b)
    a.close()
    b.close()


def test_chunk_binds_equal_sqlalchemy_on_mixed_values(tmp_path):
    """A JSON column mixing JsonText, lists and None, times given as pandas Timestamps in other
    zones, and blobs as bytes, memoryview or numpy rows: stored as SQLAlchemy's insert stores."""
    import json

    import numpy as np
    import pandas as pd

    from serving.dailystore import DailyStore
    from serving.store import JsonText

    a, b = Store(f"sqlite:///{tmp_path / 'a.db'}"), Store(f"sqlite:///{tmp_path / 'b.db'}")
    data = rows(6)
    data[0]["reasons"] = JsonText(json.dumps([{"text": "Grün", "v": 1.5}]))
    data[4]["scored_at"] = pd.Timestamp(data[4]["scored_at"]).tz_convert("Europe/Berlin")
    for r, owners in zip(
        data, [None, ["a@x"], JsonText('["b@x"]'), None, [], ["a@x"]], strict=True
    ):
        r["owners"] = owners
    # what the JsonText values encode, for SQLAlchemy's own insert
    plain = [{k: json.loads(v) if type(v) is JsonText else v for k, v in r.items()} for r in data]
    a._run(lambda c: c.execute(sa.insert(a.t["daily_scores"]), plain))
    b._run(
        lambda c: insert_columns(
            c, b.t["daily_scores"], {k: [r[k] for r in data] for k in data[0]}, chunk=4
        )
    )
    assert read(a) == read(b)
    raw = b._run(lambda c: c.exec_driver_sql("SELECT owners FROM daily_scores ORDER BY id").all())
    assert [r[0] for r in raw] == ["null", '["a@x"]', '["b@x"]', "null", "[]", '["a@x"]']

    blobs = [b"\x00\x01", memoryview(b"\x02"), np.arange(2, dtype=np.float32).tobytes(), None]
    tables = [DailyStore(s).t["daily_list"] for s in (a, b)]
    cols = {
        "day": [dt.date(2026, 3, 1)] * 4,
        "account_id": [f"A{i}" for i in range(4)],
        "rank": [1, 2, 3, 4],
        "priority": [1.0, 0.5, 2.5, 0.0],
        "escalation_risk": [0.1] * 4,
        "churn_risk": [0.2] * 4,
        "why_changed": ["", "über", "", ""],
        "level": ["L0"] * 4,
        "level_index": [0] * 4,
        "level_changed": ["same"] * 4,
        "reasons": ["r"] * 4,
        "next_action": [""] * 4,
        "due_at": [None, T0, pd.Timestamp(T0), None],
        "contributions": blobs,
    }
    listed = [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]
    a._run(lambda c: c.execute(sa.insert(tables[0]), listed))
    b._run(lambda c: insert_columns(c, tables[1], cols, chunk=3))
    got = [
        s._run(lambda c, t=t: c.execute(sa.select(t).order_by(t.c.account_id)).all())
        for s, t in zip((a, b), tables, strict=True)
    ]
    assert got[0] == got[1]
    assert [r.contributions for r in got[1]] == [b"\x00\x01", b"\x02", blobs[2], None]
    a.close()
    b.close()


def test_new_sqlite_store_has_16k_pages_and_an_old_one_keeps_its_own(tmp_path):
    import sqlite3

    def page_size(path) -> int:
        con = sqlite3.connect(path)
        try:
            return con.execute("PRAGMA page_size").fetchone()[0]
        finally:
            con.close()

    Store(f"sqlite:///{tmp_path / 'new.db'}").close()
    assert page_size(tmp_path / "new.db") == 16384
    old = sqlite3.connect(tmp_path / "old.db")
    old.execute("PRAGMA page_size=4096")
    old.execute("CREATE TABLE other (x)")
    old.close()
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    store.save_score_columns(
        {k: [r[k] for r in rows(3)] for k in rows(3)[0] if k != "scored_at"}, T0
    )
    assert len(read(store)) == 3
    store.close()
    assert page_size(tmp_path / "old.db") == 4096
