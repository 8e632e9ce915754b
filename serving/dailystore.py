"""The daily list in the audit database, and the reads the CSM web page needs.

`escrisk daily` writes the ranked list of a day (every active account, unfiltered) with the
escalation head's per-feature contributions (float32, for "why it changed" tomorrow) next to the
store's `daily_scores`. The page (`/ui`) reads through the plain functions here: the day's list
with filters and sorting, an account's score history and its audit trail. Same database and table
prefix as `serving.store.Store`; tables are created on first use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from serving.daily_text import DailyRefusal
from serving.risklist import alphabetical, owner_key
from serving.store import Store, UtcDateTime, insert_columns

SORTABLE = (
    "priority",
    "escalation_risk",
    "churn_risk",
    "delta_prev",
    "delta_7d",
    "level",
    "account_name",
    "csm_owner",
    "tier",
    "arr",
    "due_at",
)

TEXT_SORTS = frozenset({"account_name", "csm_owner", "tier"})  # sorted as people file names


def daily_tables(md: sa.MetaData, prefix: str) -> dict[str, sa.Table]:
    return {
        "daily_list": sa.Table(
            prefix + "daily_list",
            md,
            sa.Column("day", sa.Date, primary_key=True),
            sa.Column("account_id", sa.String(128), primary_key=True),
            sa.Column("rank", sa.Integer, nullable=False),
            sa.Column("priority", sa.Float, nullable=False),
            sa.Column("account_name", sa.String(512)),
            sa.Column("csm_owner", sa.String(256), index=True),
            sa.Column("tier", sa.String(64)),
            sa.Column("arr", sa.Float),
            sa.Column("escalation_risk", sa.Float, nullable=False),
            sa.Column("churn_risk", sa.Float, nullable=False),
            sa.Column("delta_prev", sa.Float),
            sa.Column("delta_7d", sa.Float),
            sa.Column("why_changed", sa.Text, nullable=False),
            # why_changed's makings as JSON ({"delta", "since", "parts": [{"feature", "change",
            # "value"}]} or {"delta", "since", "old", "new"}), for the page's language; older
            # versions' rows have none
            sa.Column("why_parts", sa.Text),
            sa.Column("level", sa.String(64), nullable=False),
            sa.Column("level_index", sa.Integer, nullable=False),
            sa.Column("level_changed", sa.String(16), nullable=False),
            sa.Column("reasons", sa.Text, nullable=False),
            sa.Column("next_action", sa.Text, nullable=False),
            sa.Column("due_at", UtcDateTime),
            sa.Column("model_version", sa.String(128)),
            sa.Column("contributions", sa.LargeBinary),
        ),
        "daily_runs": sa.Table(
            prefix + "daily_runs",
            md,
            sa.Column("day", sa.Date, primary_key=True),
            sa.Column("ran_at", UtcDateTime, nullable=False),
            # the ladder's moment of the day: its first run's (a rerun later that day keeps it)
            sa.Column("evaluated_at", UtcDateTime, nullable=False),
            sa.Column("model_version", sa.String(128), nullable=False),
            sa.Column("feature_names", sa.JSON, nullable=False),
            sa.Column("accounts", sa.Integer, nullable=False),
            sa.Column("report", sa.Text),
            # what the report's trend draws of the run (null for runs of older versions: read
            # from their list): reading 8 runs' 800,000 rows took seconds at 100,000 accounts
            sa.Column("escalation_median", sa.Float),
            sa.Column("escalation_p90", sa.Float),
            sa.Column("flagged", sa.Integer),
        ),
    }


TREND_COLUMNS = ["day", "escalation_median", "escalation_p90", "flagged"]


def run_summary(escalation_risk: np.ndarray, level_index: np.ndarray) -> dict[str, Any]:
    """What the report's trend draws of one run: the median and 90th percentile of the
    escalation risk, and the accounts at a flagged level (any above the first)."""
    risk = np.asarray(escalation_risk, dtype=float)
    return {
        "escalation_median": float(np.median(risk)) if len(risk) else None,
        "escalation_p90": float(np.quantile(risk, 0.9)) if len(risk) else None,
        "flagged": int((np.asarray(level_index) >= 1).sum()),
    }


LIST_COLUMNS = [
    "account_id", "rank", "priority", "account_name", "csm_owner", "tier", "arr", "escalation_risk",
    "churn_risk", "delta_prev", "delta_7d", "why_changed", "level", "level_index", "level_changed",
    "reasons", "next_action", "due_at", "model_version",
]  # fmt: skip


def _values(column: pd.Series) -> list[Any]:
    """A column as plain Python values for the driver, None where missing."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else "O"  # numpy dtypes only
    if kind in "iub":  # no missing values; numpy's tolist gives Python ints and bools
        return column.to_numpy().tolist()
    if kind == "f":
        floats = column.to_numpy()
        out: list[Any] = floats.tolist()
        if np.isnan(floats).any():
            out = [None if v != v else v for v in out]
        return out
    values = column.tolist()
    for i in np.flatnonzero(column.isna().to_numpy()).tolist():
        values[i] = None
    # numpy scalars held in an object column go as Python values (text columns hold none)
    if any(issubclass(k, np.generic) for k in set(map(type, values))):
        values = [v.item() if isinstance(v, np.generic) else v for v in values]
    return values


class DailyStore:
    """The daily list's tables beside a `Store` (same engine, same prefix)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.metadata = sa.MetaData()
        self.t = daily_tables(self.metadata, store.prefix)
        store.create_schema(self.metadata)  # a reader's store creates nothing

    # --- writing (escrisk daily) --------------------------------------------------------------

    def save_day(
        self,
        day: dt.date,
        rows: pd.DataFrame,
        contributions: np.ndarray,
        feature_names: Sequence[str],
        run: dict[str, Any],
        scores: Future[Mapping[str, Sequence[Any]]] | None = None,
        scored_at: dt.datetime | None = None,
    ) -> None:
        """Replace the day's list (one row per account, LIST_COLUMNS) and its run record atomically,
        and drop the day's stored scores of accounts no longer on it: a rerun on a corrected export
        that lost an account would otherwise keep its first-run score for `/account` and the KPIs.
        With `scores` (`Store.save_score_columns`' columns, still being made by the caller while
        the list is written), the day's scores go in the same transaction: a failure leaves
        neither, never a list whose accounts `/account` would answer with the day before."""
        if len(rows) != len(contributions):
            raise ValueError("one contribution row per list row")
        contrib = np.ascontiguousarray(contributions, dtype=np.float32)
        columns: dict[str, list[Any]] = {c: _values(rows[c]) for c in LIST_COLUMNS if c != "due_at"}
        # a day's due times are a handful of distinct values: convert each once
        codes, uniques = pd.factorize(pd.to_datetime(rows["due_at"], utc=True))
        times = [u.to_pydatetime() for u in uniques]
        columns["due_at"] = [None if c < 0 else times[c] for c in codes.tolist()]
        columns["why_parts"] = (
            _values(rows["why_parts"]) if "why_parts" in rows else [None] * len(rows)
        )
        columns["day"] = [day] * len(rows)
        columns["contributions"] = [c.tobytes() for c in contrib]
        summary = run_summary(rows["escalation_risk"].to_numpy(), rows["level_index"].to_numpy())
        tl, tr, ts = self.t["daily_list"], self.t["daily_runs"], self.store.t["daily_scores"]
        # NOT EXISTS, not NOT IN: PostgreSQL plans it as an anti-join at any list size
        listed = sa.exists().where(tl.c.day == day, tl.c.account_id == ts.c.account_id)

        def unit(conn: sa.Connection) -> None:
            conn.execute(sa.delete(tl).where(tl.c.day == day))
            conn.execute(sa.delete(tr).where(tr.c.day == day))
            insert_columns(conn, tl, columns)
            conn.execute(sa.delete(ts).where(ts.c.day == day, ~listed))
            if scores is not None:
                assert scored_at is not None  # the scores' time comes with them
                self.store.insert_score_columns(conn, scores.result(), scored_at)
            conn.execute(
                sa.insert(tr).values(day=day, feature_names=list(feature_names), **summary, **run)
            )

        self.store._run(unit)

    def prune(self, before: dt.date) -> int:
        """Delete the lists, stored scores and run records of the days before `before`, in one
        transaction; the audit trail (level changes, acknowledgements, messages) stays. Returns
        how many run days went."""
        tl, tr, ts = self.t["daily_list"], self.t["daily_runs"], self.store.t["daily_scores"]

        def unit(conn: sa.Connection) -> int:
            q = sa.select(sa.func.count()).select_from(tr).where(tr.c.day < before)
            days = int(conn.execute(q).scalar_one())
            for table in (tl, ts, tr):
                conn.execute(sa.delete(table).where(table.c.day < before))
            return days

        return self.store._run(unit)

    # --- runs --------------------------------------------------------------------------------

    def runs(
        self, before: dt.date | None = None, limit: int | None = None, summary: bool = False
    ) -> list[dict[str, Any]]:
        """Run records, newest first (optionally only runs before a day); their trend summaries
        only if asked (the daily job's report): a reader that could not add those columns to a
        store of an older version (`open_existing`'s fallback) still finds its runs."""
        tr = self.t["daily_runs"]
        kept = [c for c in tr.c if summary or c.name not in TREND_COLUMNS[1:]]  # day stays
        q = sa.select(*kept).order_by(tr.c.day.desc())
        if before is not None:
            q = q.where(tr.c.day < before)
        if limit is not None:
            q = q.limit(limit)
        return self.store._read(lambda c: [dict(r) for r in c.execute(q).mappings()])

    def run_on_or_before(self, day: dt.date) -> dict[str, Any] | None:
        found = self.runs(before=day + dt.timedelta(days=1), limit=1)
        return found[0] if found else None

    def scores(self, day: dt.date) -> pd.DataFrame:
        """account_id -> escalation_risk, churn_risk, level of a run day (indexed by account id)."""
        return self.scores_and_contributions(day, None)[0]

    def scores_and_contributions(
        self, day: dt.date, n_features: int | None
    ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """`scores` of a run day and, given `n_features`, account_id -> the escalation head's
        probability-scale contributions stored that day (rows of another width left out), read
        in one pass: the daily job wants both of the previous run, and the day's rows are found
        one by one through the (day, account_id) key (a second pass was 0.4 s at 100,000)."""
        tl = self.t["daily_list"]
        cols = [tl.c.account_id, tl.c.escalation_risk, tl.c.churn_risk, tl.c.level]
        if n_features is not None:
            cols.append(tl.c.contributions)
        q = sa.select(*cols).where(tl.c.day == day)
        rows = self.store._read(lambda c: c.execute(q).all())
        scores = pd.DataFrame(rows, columns=[c.name for c in cols]).set_index("account_id")
        if n_features is None:
            return scores, {}
        blobs = scores.pop("contributions")
        size = 4 * n_features  # float32
        kept = [
            (aid, blob)
            for aid, blob in zip(blobs.index, blobs, strict=True)
            if blob is not None and len(blob) == size
        ]
        if not kept:
            return scores, {}
        # one conversion for the day: rows of one float64 matrix
        matrix = np.frombuffer(b"".join([b for _, b in kept]), dtype=np.float32)
        matrix = matrix.reshape(len(kept), n_features).astype(np.float64)
        return scores, {aid: matrix[i] for i, (aid, _) in enumerate(kept)}

    def trend(self, until: dt.date, n: int) -> pd.DataFrame:
        """The last n runs up to `until`, oldest first: TREND_COLUMNS (run_summary) per run day.
        A run stored by an older version without its summary has it worked out from its list."""
        runs = self.runs(before=until + dt.timedelta(days=1), limit=n, summary=True)[::-1]
        missing = [r["day"] for r in runs if r.get("flagged") is None]
        if missing:
            tl = self.t["daily_list"]
            q = sa.select(tl.c.day, tl.c.escalation_risk, tl.c.level_index).where(
                tl.c.day.in_(missing)
            )
            rows = pd.DataFrame(self.store._read(lambda c: c.execute(q).all()),
                                columns=["day", "escalation_risk", "level_index"])  # fmt: skip
            for r in runs:
                if r.get("flagged") is None:
                    of_day = rows[rows["day"] == r["day"]]
                    r.update(run_summary(of_day["escalation_risk"].to_numpy(),
                                         of_day["level_index"].to_numpy()))  # fmt: skip
        return pd.DataFrame([{c: r[c] for c in TREND_COLUMNS} for r in runs], columns=TREND_COLUMNS)

    # --- reading (the CSM page) ----------------------------------------------------------------

    def latest_day(self) -> dt.date | None:
        found = self.runs(limit=1)
        return found[0]["day"] if found else None

    def daily_list(
        self,
        day: dt.date | None = None,
        owner: str | None = None,
        level: str | None = None,
        min_level_index: int | None = None,
        tier: str | None = None,
        sort: str = "priority",
        descending: bool = True,
        limit: int | None = None,
        offset: int = 0,
        tier_order: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """The day's list (the latest day by default), filtered and sorted; rank keeps the
        priority order whatever the sort. Owner matches case-insensitively. With `tier_order`
        (the contract's tiers, highest first), tiers sort in that order, not alphabetically."""
        if sort not in SORTABLE:
            raise DailyRefusal("bad_sort", sort=sort, sortable=list(SORTABLE))
        day = day or self.latest_day()
        if day is None:
            return []
        tl = self.t["daily_list"]
        cols = [c for c in self.store.columns(tl) if c.name != "contributions"]
        q = sa.select(*cols).where(*self._list_filter(day, owner, level, min_level_index, tier))
        key = tl.c.level_index if sort == "level" else tl.c[sort]
        if sort == "tier" and tier_order:
            key = self._tier_rank(day, tier_order)
        elif sort in TEXT_SORTS:
            key = self._alphabetical(day, key)
        # empty values (no due time, no delta yet) last either way, and on every backend (SQLite
        # puts NULL first when ascending, PostgreSQL when descending)
        q = q.order_by((key.desc() if descending else key.asc()).nulls_last(), tl.c.rank.asc())
        if limit is not None:
            q = q.limit(limit)
        if offset:
            q = q.offset(offset)
        return self.store._read(lambda c: [dict(r) for r in c.execute(q).mappings()])

    def _tier_rank(self, day: dt.date, tier_order: Sequence[str]) -> Any:
        """The tier column as its rank for ORDER BY, the first of `tier_order` highest (case
        aside, as the filter compares); a tier it does not name is empty, so last. Alphabetical,
        "business, enterprise, starter" was no order anybody ranks customers by."""
        tl = self.t["daily_list"]
        q = sa.select(tl.c.tier).where(tl.c.day == day).distinct()
        found = self.store._read(lambda c: [r[0] for r in c.execute(q).all() if r[0] is not None])
        rank = {owner_key(t): len(tier_order) - i for i, t in enumerate(tier_order)}
        known = {v: rank[owner_key(v)] for v in found if owner_key(v) in rank}
        if not known:
            return sa.null()
        return sa.case(*((tl.c.tier == v, r) for v, r in sorted(known.items())), else_=sa.null())

    def _alphabetical(self, day: dt.date, column: Any) -> Any:
        """`column` as `alphabetical` files it, for ORDER BY: each non-ASCII letter of the day's
        values replaced by its base letter folded (Ä by a, ß by ss), then lowercased (SQLite's
        lower() folds ASCII only); the databases' own order put "Ärne" and "Özlem" after "Zoe"."""
        q = sa.select(column).where(self.t["daily_list"].c.day == day).distinct()
        found = self.store._read(lambda c: [r[0] for r in c.execute(q).all() if r[0] is not None])
        key = column
        for ch in sorted({ch for v in found if not v.isascii() for ch in v if not ch.isascii()}):
            key = sa.func.replace(key, ch, alphabetical(ch)[0])
        return sa.func.lower(key)

    def list_count(
        self,
        day: dt.date | None = None,
        owner: str | None = None,
        level: str | None = None,
        min_level_index: int | None = None,
        tier: str | None = None,
    ) -> int:
        """How many rows `daily_list` gives with these filters, counted by the database (the CSM
        page's pager: a day's list may hold 100,000 accounts)."""
        day = day or self.latest_day()
        if day is None:
            return 0
        where = self._list_filter(day, owner, level, min_level_index, tier)
        q = sa.select(sa.func.count()).select_from(self.t["daily_list"]).where(*where)
        return int(self.store._read(lambda c: c.execute(q).scalar_one()))

    def _list_filter(
        self,
        day: dt.date,
        owner: str | None,
        level: str | None,
        min_level_index: int | None,
        tier: str | None,
    ) -> list[Any]:
        """The WHERE conditions of a day's list with the page's filters (owner and tier
        case-insensitive: `tier=enterprise` finds the accounts the data calls Enterprise)."""
        tl = self.t["daily_list"]
        where = [tl.c.day == day]
        if owner is not None:
            where.append(tl.c.csm_owner.in_(self._same_text(day, "csm_owner", owner)))
        if level is not None:
            where.append(tl.c.level == level)
        if min_level_index is not None:
            where.append(tl.c.level_index >= min_level_index)
        if tier is not None:
            where.append(tl.c.tier.in_(self._same_text(day, "tier", tier)))
        return where

    def _same_text(self, day: dt.date, column: str, value: str) -> list[str]:
        """A day's values of `column` equal to `value` but for case, compared in Python:
        SQLite's lower() folds ASCII only, so "Özlem" would never match "özlem" (a day has a few
        hundred owners and a few tiers at most)."""
        tl = self.t["daily_list"]
        q = sa.select(tl.c[column]).where(tl.c.day == day).distinct()
        wanted = owner_key(value)
        found = self.store._read(lambda c: [r[0] for r in c.execute(q).all()])
        return [v for v in found if v is not None and owner_key(v) == wanted]

    def owners(self, day: dt.date | None = None) -> list[str]:
        """The CSM owners on a day's list (for the page's filter), in alphabetical order: the
        database's order is by code point, which put "Ärne" and "Özlem" after every other name."""
        day = day or self.latest_day()
        tl = self.t["daily_list"]
        q = sa.select(tl.c.csm_owner).where(tl.c.day == day).distinct()
        found = self.store._read(lambda c: [r[0] for r in c.execute(q).all() if r[0] is not None])
        return sorted(found, key=alphabetical)

    def account_history(self, account_id: str, days: int | None = None) -> list[dict[str, Any]]:
        """The account's rows of every run, oldest first: risks, level, deltas, reasons, why it changed."""
        tl, tr = self.t["daily_list"], self.t["daily_runs"]
        cols = [c for c in self.store.columns(tl) if c.name != "contributions"]
        # every listed day has its run record (save_day writes both): probing the (day,
        # account_id) key once per run day keeps this off a scan of every stored list
        q = (
            sa.select(*cols)
            .where(tl.c.day.in_(sa.select(tr.c.day)), tl.c.account_id == account_id)
            .order_by(tl.c.day.desc())
        )
        if days is not None:
            q = q.limit(days)
        rows = self.store._read(lambda c: [dict(r) for r in c.execute(q).mappings()])
        if not rows:
            raise DailyRefusal("never_scored", account=account_id)
        return rows[::-1]

    def audit_trail(self, account_id: str) -> list[dict[str, Any]]:
        """Every recorded ladder event of the account (level changes, acks, resolutions, feedback,
        actions), oldest first."""
        return self.store.trail(account_id)
