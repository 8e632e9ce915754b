"""The ladder's state and audit trail in a real database (SQLAlchemy 2 Core).

SQLite file by default, PostgreSQL by changing the URL (`ESCRISK_DATABASE_URL`, read by
`serving.settings`). Every table except `ladder_state` (the current level per account, with a
version for optimistic locking) and the notification outbox's delivery columns is append-only.

A level change, its outbox messages and the new state are written in ONE transaction, so a crash
between deciding and notifying loses nothing; senders deliver from the outbox, each message once,
identified by an idempotency key. Concurrent writers retry on lock and version conflicts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from features.errors import CatalogRefusal, UserError
from features.sources import without_password
from serving.ladder import TIMEOUT, Decision, LadderState, Signals, decide
from serving.params import LadderParams

T = TypeVar("T")
_RETRIES = 40  # lock/version conflicts are retried this often before giving up
BUSY_MS = 60_000  # SQLite: how long a transaction waits for another writer's lock
# ... and a write that must not queue behind one (a wrong token's count, `Store.auth_failed`)
BRIEF_BUSY_MS = 200
CONNECT_TIMEOUT_S = 10  # PostgreSQL (psycopg) connections, unless the URL sets connect_timeout
logger = logging.getLogger("escrisk.store")
_LOCK_WORDS = ("locked", "busy", "deadlock", "could not serialize", "serialization")


class UtcDateTime(sa.types.TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, stored as naive UTC on every backend."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store: naive datetime; pass timezone-aware times")
        return dt.datetime.fromtimestamp(value.timestamp(), tz=dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message to one recipient through one channel, planned when the decision is recorded."""

    idempotency_key: str
    decision_id: str
    account_id: str
    channel: str
    notifier: str
    recipient: str
    subject: str
    body: str
    payload: Mapping[str, Any] = field(default_factory=dict)


def _tables(md: sa.MetaData, prefix: str) -> dict[str, sa.Table]:
    def table(name: str, *cols: Any) -> sa.Table:
        return sa.Table(prefix + name, md, *cols)

    def ident() -> sa.Column:
        return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)

    def account(index: bool = True) -> sa.Column:
        return sa.Column("account_id", sa.String(128), nullable=False, index=index)

    def flag() -> sa.Column:  # indexed: the KPIs join what people did to a window's flags
        return sa.Column("decision_id", sa.String(64), index=True)

    return {
        "ladder_state": table(
            "ladder_state",
            sa.Column("account_id", sa.String(128), primary_key=True),
            sa.Column("level", sa.String(64), nullable=False),
            sa.Column("since", UtcDateTime, nullable=False),
            sa.Column("due_at", UtcDateTime),
            sa.Column("acknowledged_at", UtcDateTime),
            sa.Column("resolved_at", UtcDateTime),
            sa.Column("below_since", UtcDateTime),
            sa.Column("timeouts", sa.Integer, nullable=False),
            sa.Column("decision_id", sa.String(64)),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("updated_at", UtcDateTime, nullable=False),
        ),
        "level_changes": table(
            "level_changes",
            ident(),
            sa.Column("decision_id", sa.String(64), nullable=False, unique=True),
            account(),
            sa.Column("at", UtcDateTime, nullable=False, index=True),  # the KPIs' window
            sa.Column("old_level", sa.String(64)),
            sa.Column("new_level", sa.String(64), nullable=False),
            sa.Column("direction", sa.String(8), nullable=False),
            sa.Column("rule", sa.String(128), nullable=False),
            sa.Column("reason_key", sa.String(64), nullable=False),
            sa.Column("reason_params", sa.JSON, nullable=False),
            sa.Column("escalation_risk", sa.Float, nullable=False),
            sa.Column("churn_risk", sa.Float, nullable=False),
            sa.Column("reasons", sa.JSON, nullable=False),
            sa.Column("owners", sa.JSON, nullable=False),
            sa.Column("team", sa.String(64), nullable=False),
            sa.Column("priority", sa.String(16), nullable=False),
            sa.Column("due_at", UtcDateTime),
            sa.Column("channels", sa.JSON, nullable=False),
            sa.Column("actions", sa.JSON, nullable=False),
            sa.Column("model_version", sa.String(128)),
        ),
        "acknowledgements": table(
            "acknowledgements",
            ident(),
            account(),
            flag(),
            sa.Column("at", UtcDateTime, nullable=False),
            sa.Column("by", sa.String(128), nullable=False),
            sa.Column("note", sa.Text),
        ),
        "resolutions": table(
            "resolutions",
            ident(),
            account(),
            flag(),
            sa.Column("at", UtcDateTime, nullable=False),
            sa.Column("by", sa.String(128), nullable=False),
            sa.Column("outcome", sa.String(64), nullable=False),
            sa.Column("note", sa.Text),
        ),
        "feedback": table(
            "feedback",
            ident(),
            account(),
            flag(),
            sa.Column("at", UtcDateTime, nullable=False),
            sa.Column("by", sa.String(128), nullable=False),
            sa.Column("agree", sa.Boolean, nullable=False),
            sa.Column("comment", sa.Text),
        ),
        "actions_taken": table(
            "actions_taken",
            ident(),
            account(),
            sa.Column("decision_id", sa.String(64)),
            sa.Column("at", UtcDateTime, nullable=False),
            sa.Column("by", sa.String(128), nullable=False),
            sa.Column("action", sa.String(128), nullable=False),
            sa.Column("note", sa.Text),
        ),
        "outbox": table(
            "outbox",
            ident(),
            sa.Column("idempotency_key", sa.String(128), nullable=False, unique=True),
            sa.Column("decision_id", sa.String(64), nullable=False, index=True),
            account(),
            sa.Column("channel", sa.String(32), nullable=False),
            sa.Column("notifier", sa.String(32), nullable=False),
            sa.Column("recipient", sa.String(512), nullable=False),
            sa.Column("subject", sa.Text, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("payload", sa.JSON, nullable=False),
            sa.Column("status", sa.String(16), nullable=False, index=True),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("last_error", sa.Text),
            sa.Column("created_at", UtcDateTime, nullable=False),
            sa.Column("next_attempt_at", UtcDateTime, nullable=False),
            sa.Column("claimed_at", UtcDateTime),
            sa.Column("sent_at", UtcDateTime),
        ),
        # CSM page sessions signed out before they expire (cookies are stateless otherwise)
        "ui_signouts": table(
            "ui_signouts",
            sa.Column("session", sa.String(64), primary_key=True),  # sha256 of the cookie
            sa.Column("expires", UtcDateTime, nullable=False, index=True),
        ),
        # wrong tokens per client address, counted for every worker of the service at once
        # (serving.throttle): the API's bearer check ("api") and the page's sign-in ("ui")
        "auth_failures": table(
            "auth_failures",
            sa.Column("scope", sa.String(8), primary_key=True),
            sa.Column("client", sa.String(64), primary_key=True),  # an address, an IPv6 /64
            sa.Column("failures", sa.Integer, nullable=False),
            sa.Column("last_at", sa.Float, nullable=False, index=True),  # unix seconds
        ),
        # the feature settings each model version scored with (its `features:` as trained), so
        # the audit trail tells a level change's stored reasons as the model that gave them did
        # ("against the 90-day baseline"), not by params.yaml's settings of today; never pruned
        "model_settings": table(
            "model_settings",
            sa.Column("model_version", sa.String(128), primary_key=True),
            sa.Column("feature_params", sa.JSON, nullable=False),
            sa.Column("recorded_at", UtcDateTime, nullable=False),
        ),
        "daily_scores": table(
            "daily_scores",
            ident(),
            # looked up through the unique (account_id, day) index below: an index of its own
            # was written for nothing (`_drop_superseded` drops it from databases made before)
            account(index=False),
            sa.Column("day", sa.Date, nullable=False, index=True),  # pruning by day
            sa.Column("escalation_risk", sa.Float, nullable=False),
            sa.Column("churn_risk", sa.Float, nullable=False),
            sa.Column("level", sa.String(64)),
            sa.Column("reasons", sa.JSON, nullable=False),
            sa.Column("model_version", sa.String(128)),
            sa.Column("scored_at", UtcDateTime, nullable=False),
            # the day's ladder decision: who acts, which team, what priority (NULL in rows
            # stored before these columns existed)
            sa.Column("owners", sa.JSON),
            sa.Column("team", sa.String(64)),
            sa.Column("priority", sa.String(16)),
            sa.UniqueConstraint("account_id", "day", name=f"{prefix}uq_daily_scores_account_day"),
        ),
    }


def typed_note(text: str | None) -> str | None:
    """A note or comment as the audit trail keeps one, from the CSM page or the command line:
    control characters made spaces (a terminal escape was printed raw by `escrisk audit`;
    PostgreSQL refuses a NUL), at most 2000 characters, None when blank."""
    from features.contract import without_controls

    note = without_controls(text or "").strip()
    return note[:2000] or None


class JsonText(str):
    """A JSON column's value already serialized as json.dumps would serialize it (the daily
    job renders a day's reasons itself, `serving.reasons.Reasons.json_texts`): stored as it is where
    the column's processor is json.dumps (SQLite), parsed back and bound as usual elsewhere."""


class _Conflict(Exception):
    """Someone else changed the row between our read and our write; re-read and retry."""


def bulk_insert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    upsert: Sequence[str] | None = None,
    chunk: int = 5000,
) -> int:
    """Insert many rows (all with the same keys) through one prepared statement of the driver.

    SQLAlchemy's executemany processes every row's parameters on its own (about 50 us a row on
    this project's tables); here each column's bind processor (JSON, UTC datetimes, dates) is
    applied once per value and the rows go to the DBAPI's executemany in chunks. `upsert`: the
    conflict columns; a conflicting row then replaces the stored one's other columns.
    """
    if not rows:
        return 0
    return insert_columns(conn, table, {k: [r[k] for r in rows] for k in rows[0]}, upsert, chunk)


def insert_columns(
    conn: Connection,
    table: sa.Table,
    columns: Mapping[str, Sequence[Any]],
    upsert: Sequence[str] | None = None,
    chunk: int = 5000,
) -> int:
    """`bulk_insert` for rows given as columns (name -> one value per row, equal lengths): what
    a job holding a frame has, without building a dict per row."""
    keys = list(columns)
    n = _count(columns, f"insert_columns: columns of different lengths for {table.name}")
    if not n:
        return 0
    dialect = conn.dialect
    stmt: Any
    if upsert is None:
        stmt = sa.insert(table)
    else:
        from sqlalchemy.dialects import postgresql, sqlite

        ins = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        stmt = ins(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(upsert),
            set_={k: stmt.excluded[k] for k in keys if k not in upsert},
        )
    _execute_many(conn, stmt, columns, {k: table.c[k].type for k in keys}, n, chunk)
    return n


def _count(columns: Mapping[str, Sequence[Any]], mismatch: str) -> int:
    """How many rows the columns hold (by the first; 0 without columns): all must hold as many."""
    n = len(next(iter(columns.values()))) if columns else 0
    if n and any(len(v) != n for v in columns.values()):
        raise ValueError(mismatch)
    return n


def update_columns(
    conn: Connection,
    table: sa.Table,
    columns: Mapping[str, Sequence[Any]],
    where: Mapping[str, str],
    chunk: int = 5000,
) -> int:
    """UPDATE many rows through one prepared statement, as `insert_columns` inserts them: row k
    gets the values of `columns` (except the `where` keys) where each column named in `where`
    equals that row's value of its key. Returns how many rows matched (summed over the rows)."""
    keys = list(columns)
    n = _count(columns, f"update_columns: columns of different lengths for {table.name}")
    if not n:
        return 0
    stmt = (
        sa.update(table)
        .where(*(table.c[c] == sa.bindparam(k) for c, k in where.items()))
        .values({k: sa.bindparam(k) for k in keys if k not in where.values()})
    )
    kinds = {k: table.c[k].type for k in keys if k not in where.values()}
    kinds |= {k: table.c[c].type for c, k in where.items()}
    return _execute_many(conn, stmt, columns, kinds, n, chunk)


def _execute_many(
    conn: Connection,
    stmt: Any,
    columns: Mapping[str, Sequence[Any]],
    kinds: Mapping[str, sa.types.TypeEngine],
    n: int,
    chunk: int,
) -> int:
    """Send the rows (as columns) to the driver's executemany, each column's bind processor
    applied to a chunk of its values at once (`_binder`); returns the rows inserted or matched."""
    dialect = conn.dialect
    keys = list(columns)
    compiled = stmt.compile(dialect=dialect, column_keys=keys)
    binders = {k: _binder(kind, dialect) for k, kind in kinds.items()}
    names = list(compiled.positiontup or keys) if dialect.positional else keys
    for k in names:
        if k not in binders:
            raise ValueError(f"bulk_insert: unexpected bind {k!r} in {stmt.table.name}")
    done = 0
    for lo in range(0, n, chunk):
        part = []
        for k in names:
            values = list(columns[k][lo : lo + chunk])
            bind = binders[k]
            part.append(values if bind is None else bind(values))
        if dialect.positional:
            params: list[Any] = list(zip(*part, strict=True))
        else:
            params = [dict(zip(names, vals, strict=True)) for vals in zip(*part, strict=True)]
        done += conn.exec_driver_sql(compiled.string, params).rowcount
    return done


Binder = Callable[[list[Any]], list[Any]]


def _binder(kind: sa.types.TypeEngine, dialect: Any) -> Binder | None:
    """What a column's bind processor makes of a chunk of its values, as one call per chunk
    (None: they go to the driver as they are). A day's 100,000 rows go through several of these
    per table: a Python call per value cost a second of the daily job."""
    proc = kind._cached_bind_processor(dialect)  # noqa: SLF001 (the column's own binds)
    if proc is None or (dialect.name == "sqlite" and isinstance(kind, sa.LargeBinary)):
        return None  # sqlite3 binds any bytes-like value as a BLOB: its Binary is memoryview
    if isinstance(kind, sa.JSON):
        return _json_binder(proc, dialect)
    if isinstance(kind, UtcDateTime | sa.Date | sa.DateTime):
        # a day's rows share a handful of times (the run's clock, due times)
        return lambda values: list(map(_once_each(proc), values))
    return lambda values: list(map(proc, values))


def _once_each(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert` run once per distinct value (a time's conversion costs microseconds, and the
    daily job's rows hold few distinct times, read or written)."""
    seen: dict[Any, Any] = {}

    def once(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            seen[value] = out = convert(value)
            return out

    return once


# json.dumps' own C encoder with json.dumps' defaults, made once: json.dumps builds one per call,
# which is a fifth of the cost of a day's reasons (100,000 lists of dicts)
_C_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_ENCODE = (
    None
    if _C_ENCODER is None
    else _C_ENCODER(
        None,  # no circular check: the job's values are trees of lists and dicts
        json.JSONEncoder().default,
        json.encoder.encode_basestring_ascii,
        None,
        ": ",
        ", ",
        False,
        False,
        True,
    )
)


def _json_binder(proc: Callable[[Any], Any], dialect: Any) -> Binder:
    """A JSON column's binds that, where the processor is plain json.dumps (SQLite's default),
    serialize lists and dicts with `_ENCODE` (the same text) and store `JsonText` as it is (a
    chunk of nothing else as one C-level copy); elsewhere `JsonText` is parsed back for the
    dialect's own processor."""
    plain = (
        _ENCODE is not None
        and dialect.name == "sqlite"
        and dialect._json_serializer is None  # noqa: SLF001
        and sa.String().bind_processor(dialect) is None
    )
    if not plain:

        def parsed(value: Any) -> Any:
            return proc(json.loads(value)) if type(value) is JsonText else proc(value)

        return lambda values: list(map(parsed, values))
    encode, join = _ENCODE, "".join
    assert encode is not None

    def process(value: Any) -> Any:
        if type(value) is JsonText:
            return str(value)
        if type(value) is list or type(value) is dict:
            return join(encode(value, 0))
        return proc(value)

    def bind(values: list[Any]) -> list[Any]:
        if set(map(type, values)) == {JsonText}:  # the daily job's columns, rendered already
            return list(map(str, values))
        return list(map(process, values))

    return bind


_RACE_WORDS = ("already exists", "duplicate")  # another process created it first


def _creation_race(exc: BaseException) -> bool:
    """Whether creating the schema failed because another process did it (or held a lock)."""
    return _retryable(exc) or any(w in str(exc).lower() for w in _RACE_WORDS)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, _Conflict | IntegrityError) or locked(exc)


# a ladder state's stored fields beside its account id, version and update time
_STATE_FIELDS = (
    "level",
    "since",
    "due_at",
    "acknowledged_at",
    "resolved_at",
    "below_since",
    "timeouts",
    "decision_id",
)


def state_of(row: sa.RowMapping) -> LadderState:
    """A ladder_state row as the ladder's state."""
    return LadderState(
        account_id=row["account_id"],
        level=row["level"],
        since=row["since"],
        due_at=row["due_at"],
        acknowledged_at=row["acknowledged_at"],
        resolved_at=row["resolved_at"],
        below_since=row["below_since"],
        timeouts=row["timeouts"],
        decision_id=row["decision_id"],
    )


def _state_values(state: LadderState, version: int, now: dt.datetime) -> dict[str, Any]:
    """A ladder state's stored columns (all but its account id), written over `version`."""
    return {f: getattr(state, f) for f in _STATE_FIELDS} | {
        "version": version + 1,
        "updated_at": now,
    }


def _state_columns(
    states: Sequence[LadderState], versions: Sequence[int], now: dt.datetime
) -> dict[str, list[Any]]:
    """`_state_values` of many states, as columns (for one prepared statement)."""
    columns = {f: [getattr(s, f) for s in states] for f in _STATE_FIELDS}
    return columns | {"version": [v + 1 for v in versions], "updated_at": [now] * len(states)}


class Store:
    """The ladder's database. Open with `Store(url)`; the schema is created on first use."""

    def __init__(self, url: str, prefix: str = "", create: bool = True) -> None:
        self.url = url
        self.prefix = prefix
        self.creates = create  # False: a reader's store (open_existing) leaves the schema alone
        self._found: set[str] = set()  # tables a reader's store found (`_has`)
        self._columns: dict[str, list[sa.Column]] = {}  # a reader's columns (`columns`)
        if create:
            _private_sqlite_file(url)
        self.engine = _engine(url)
        # reads take no write lock on SQLite (`_on_begin`): see `_read`
        self._reader = self.engine.execution_options(escrisk_read=True)
        self._brief = self.engine.execution_options(escrisk_busy_ms=BRIEF_BUSY_MS)
        self.metadata = sa.MetaData()
        self.t = _tables(self.metadata, prefix)
        try:
            self.create_schema(self.metadata)
        except BaseException:  # StoreOutdated, a server gone: no connection left open
            self.engine.dispose()
            raise

    def create_schema(self, metadata: sa.MetaData) -> None:
        """Create the missing tables, and the missing indexes of existing tables (an index added
        in a later version reaches a database created before it); nothing for a reader."""
        if not self.creates:
            return
        # several processes may create the schema at once; the loser of the race sees "exists"
        # (or a lock); any other error, such as a server that does not answer, is told at once
        for attempt in range(5):
            try:
                self._run(lambda conn: _create_all(conn, metadata))
                return
            except DBAPIError as exc:
                if _denied(exc):
                    self._without_ddl(type(exc.orig).__name__)
                    return
                if attempt == 4 or not _creation_race(exc):
                    raise
                time.sleep(0.1 * (attempt + 1))

    def _without_ddl(self, cause: str) -> None:
        """A role without DDL rights (a service role that may read and write, not CREATE or
        ALTER) cannot bring a store of an older version up to date: StoreOutdated naming every
        table and column it lacks, of this store and the daily list's; lacking only indexes
        added since, it works as it is (slower), and says so in the log."""
        gaps = self._read(lambda conn: schema_gaps(conn, whole_schema(self.prefix)))
        where = shown_url(self.engine.url)
        if gaps:
            raise StoreOutdated(where, gaps, cause)
        logger.warning("the store at %s keeps an older version's indexes (%s)", where, cause)

    def _has(self, conn: Connection, table: sa.Table) -> bool:
        """Whether the database holds `table`: always when this store creates its schema; a
        reader's store of an older version (a role without DDL rights) may lack a table added
        since, asked until found (the daily run with DDL rights adds it; none is ever dropped)."""
        if self.creates or table.name in self._found:
            return True
        if not sa.inspect(conn).has_table(table.name):
            return False
        self._found.add(table.name)
        return True

    def columns(self, table: sa.Table) -> list[sa.Column]:
        """The columns of `table` the database has: all when this store creates its schema; a
        reader's store of an older version lacks those added since, which its reads leave out
        (read as missing, as in the rows stored before them)."""
        if self.creates:
            return list(table.columns)
        if table.name not in self._columns:
            have = self._read(lambda c: {x["name"] for x in sa.inspect(c).get_columns(table.name)})
            self._columns[table.name] = [c for c in table.columns if c.name in have]
        return self._columns[table.name]

    @staticmethod
    def check_url(url: str) -> None:
        """A UserError naming the setting when `url` is not a database URL at all."""
        parsed_url(url)

    def close(self) -> None:
        self.engine.dispose()

    def drop(self) -> None:
        """Drop this store's tables (tests clean up with it)."""
        self.metadata.drop_all(self.engine, checkfirst=True)

    # --- transactions ------------------------------------------------------------------------

    def _run(self, fn: Callable[[Connection], T], read: bool = False) -> T:
        engine = self._reader if read else self.engine
        for attempt in range(_RETRIES):
            try:
                with engine.begin() as conn:
                    return fn(conn)
            except Exception as exc:
                if attempt == _RETRIES - 1 or not _retryable(exc):
                    raise
                time.sleep(min(0.01 * 2 ** min(attempt, 6), 0.5) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def _read(self, fn: Callable[[Connection], T]) -> T:
        """`_run` for a transaction that only reads. On SQLite it takes no write lock: it reads
        the last committed state at once (WAL), where BEGIN IMMEDIATE made /account and the CSM
        page wait for the daily job storing a day, or for any other writer, up to the timeout."""
        return self._run(fn, read=True)

    # --- ladder state ------------------------------------------------------------------------

    def _read_state(self, conn: Connection, account_id: str) -> tuple[LadderState | None, int]:
        t = self.t["ladder_state"]
        row = conn.execute(sa.select(t).where(t.c.account_id == account_id)).mappings().first()
        if row is None:
            return None, 0
        return state_of(row), row["version"]

    def _read_states(
        self, conn: Connection, account_ids: Sequence[str]
    ) -> dict[str, tuple[LadderState, int]]:
        """`_read_state` for many accounts in one query (a chunk of the daily job): the stored
        ones by account id. A portfolio's states hold few distinct times (the runs that set
        levels; most are None), so each is converted by its column type once, not once a row."""
        c = self.t["ladder_state"].c
        kind = c.since.type
        proc = kind._cached_result_processor(conn.dialect, None)  # noqa: SLF001
        assert proc is not None  # UtcDateTime converts what every driver returns
        convert = _once_each(proc)

        def raw(column: sa.Column) -> Any:  # a time as the driver returns it
            return sa.type_coerce(column, sa.types.NullType())

        query = sa.select(
            c.account_id, c.level, raw(c.since), raw(c.due_at), raw(c.acknowledged_at),
            raw(c.resolved_at), raw(c.below_since), c.timeouts, c.decision_id, c.version,
        ).where(c.account_id.in_(account_ids))  # fmt: skip
        found: dict[str, tuple[LadderState, int]] = {}
        for row in conn.execute(query).all():
            aid, level, since, due, acked, resolved, below, timeouts, decision, version = row
            times = (
                convert(since),
                convert(due),
                convert(acked),
                convert(resolved),
                convert(below),
            )
            found[aid] = (LadderState(aid, level, *times, timeouts, decision), version)
        return found

    def states_of(self, account_ids: Sequence[str]) -> dict[str, LadderState]:
        """The current ladder states of some accounts (a page of the list), in one query."""
        t = self.t["ladder_state"]
        ids = list(dict.fromkeys(account_ids))
        if not ids:
            return {}
        q = sa.select(t).where(t.c.account_id.in_(ids))
        rows = self._read(lambda conn: conn.execute(q).mappings().all())
        return {r["account_id"]: state_of(r) for r in rows}

    def _write_state(
        self, conn: Connection, state: LadderState, version: int, now: dt.datetime
    ) -> None:
        t = self.t["ladder_state"]
        values = _state_values(state, version, now)
        if version == 0:
            conn.execute(sa.insert(t).values(account_id=state.account_id, **values))
            return
        done = conn.execute(
            sa.update(t)
            .where(t.c.account_id == state.account_id, t.c.version == version)
            .values(**values)
        )
        if done.rowcount != 1:
            raise _Conflict(state.account_id)

    def _write_states(
        self, conn: Connection, states: Sequence[tuple[LadderState, int]], now: dt.datetime
    ) -> None:
        """`_write_state` for many stored states (each with the version read): one prepared
        UPDATE; any row changed by someone else since it was read fails the transaction."""
        if not states:
            return
        columns = _state_columns([s for s, _ in states], [v for _, v in states], now)
        columns |= {
            "_account_id": [s.account_id for s, _ in states],
            "_version": [v for _, v in states],
        }
        where = {"account_id": "_account_id", "version": "_version"}
        if update_columns(conn, self.t["ladder_state"], columns, where) != len(states):
            raise _Conflict("ladder_state")

    def _insert_states(
        self, conn: Connection, states: Sequence[LadderState], now: dt.datetime
    ) -> None:
        """`_write_state` for accounts with no state yet: one prepared INSERT, version 1."""
        columns = {"account_id": [s.account_id for s in states]}
        insert_columns(
            conn, self.t["ladder_state"], columns | _state_columns(states, [0] * len(states), now)
        )

    def state(self, account_id: str) -> LadderState | None:
        return self._read(lambda conn: self._read_state(conn, account_id)[0])

    def states(self) -> list[LadderState]:
        t = self.t["ladder_state"]
        ids = self._read(
            lambda c: [r[0] for r in c.execute(sa.select(t.c.account_id).order_by(t.c.account_id))]
        )
        return [s for s in (self.state(i) for i in ids) if s is not None]

    # --- evaluating and recording ------------------------------------------------------------

    def evaluate(
        self,
        signals: Signals,
        params: LadderParams,
        now: dt.datetime,
        model_version: str | None,
        plan: Callable[[Decision, Signals], Sequence[OutboxMessage]] = lambda d, s: (),
    ) -> Decision:
        """Decide for one account against its stored state and record the outcome atomically:
        new state, the level change (if any) and its planned messages commit together or not at all.
        """

        def unit(conn: Connection) -> Decision:
            previous, version = self._read_state(conn, signals.account_id)
            new_state, decision = decide(signals, previous, params, now)
            if new_state != previous:
                self._write_state(conn, new_state, version, now)
            if decision.changed:
                self._insert_change(conn, decision, model_version)
                self._insert_outbox(conn, plan(decision, signals), now)
            return decision

        return self._run(unit)

    def _insert_change(self, conn: Connection, d: Decision, model_version: str | None) -> None:
        conn.execute(
            sa.insert(self.t["level_changes"]).values(
                decision_id=d.decision_id,
                account_id=d.account_id,
                at=d.at,
                old_level=d.old_level,
                new_level=d.new_level,
                direction=d.direction,
                rule=d.rule,
                reason_key=d.reason_key,
                reason_params=dict(d.reason_params),
                escalation_risk=d.escalation_risk,
                churn_risk=d.churn_risk,
                reasons=[dict(r) for r in d.reasons],
                owners=list(d.owners),
                team=d.team,
                priority=d.priority,
                due_at=d.due_at,
                channels=list(d.channels),
                actions=list(d.actions),
                model_version=model_version,
            )
        )

    def _insert_outbox(
        self, conn: Connection, messages: Iterable[OutboxMessage], now: dt.datetime
    ) -> None:
        rows = [
            {
                "idempotency_key": m.idempotency_key,
                "decision_id": m.decision_id,
                "account_id": m.account_id,
                "channel": m.channel,
                "notifier": m.notifier,
                "recipient": m.recipient,
                "subject": m.subject,
                "body": m.body,
                "payload": dict(m.payload),
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
            for m in messages
        ]
        bulk_insert(conn, self.t["outbox"], rows)

    # --- what people do: acknowledge, resolve, feedback, actions -------------------------------

    def _known_state(self, conn: Connection, account_id: str) -> tuple[LadderState, int]:
        state, version = self._read_state(conn, account_id)
        if state is None:
            raise LadderConflict(
                "unknown_account",
                f"unknown account {account_id!r}: it has no ladder state in {self._where()} "
                "(never scored, or a different ESCRISK_DATABASE_URL)",
                account=account_id,
            )
        return state, version

    def _where(self) -> str:
        return shown_url(sa.engine.make_url(self.url))

    def _flag_of(self, conn: Connection, state: LadderState) -> str | None:
        """The decision an acknowledgement, resolution or action refers to: the account's latest
        upward change (a timeout's, after one). A step down continues the episode, so after one the
        state's decision is the step down, which the KPIs (joining what people did to the
        escalations) never count: a flag saved and resolved after its cool-down never read as
        resolved."""
        t = self.t["level_changes"]
        latest_up = conn.execute(
            sa.select(t.c.decision_id)
            .where(t.c.account_id == state.account_id, t.c.direction == "up")
            .order_by(t.c.at.desc(), t.c.id.desc())
            .limit(1)
        ).scalar()
        return latest_up if latest_up is not None else state.decision_id

    def acknowledge(
        self,
        account_id: str,
        now: dt.datetime,
        by: str,
        note: str | None = None,
        actions: Sequence[str] = (),
    ) -> LadderState:
        """Acknowledge the account's current level: stops its response timer. The playbook
        `actions` taken are recorded with it, in the same transaction (all or none)."""

        def unit(conn: Connection) -> LadderState:
            state, version = self._known_state(conn, account_id)
            _refuse_if_never_flagged(state, "nothing to acknowledge")
            _refuse_if_resolved(state)  # closed already: nothing left to acknowledge
            if state.acknowledged_at is not None:
                raise LadderConflict(
                    "already_acknowledged",
                    f"account {account_id!r}: level {state.level} was already acknowledged at "
                    f"{state.acknowledged_at:%Y-%m-%d %H:%M} UTC",
                    account=account_id,
                    level=state.level,
                    at=state.acknowledged_at,
                )
            new = _replace(state, acknowledged_at=now)
            self._write_state(conn, new, version, now)
            flag = self._flag_of(conn, state)
            conn.execute(
                sa.insert(self.t["acknowledgements"]).values(
                    account_id=account_id, decision_id=flag, at=now, by=by, note=note
                )
            )
            self._insert_actions(conn, account_id, flag, now, by, actions, note)
            return new

        return self._run(unit)

    def resolve(
        self, account_id: str, now: dt.datetime, by: str, outcome: str, note: str | None = None
    ) -> LadderState:
        """Close the current flag with an outcome; a resolved level no longer times out."""

        def unit(conn: Connection) -> LadderState:
            state, version = self._known_state(conn, account_id)
            if state.decision_id is None:
                raise LadderConflict(
                    "never_flagged",
                    f"account {account_id!r} has never been flagged; nothing to resolve",
                    account=account_id,
                )
            _refuse_if_resolved(state)
            new = _replace(state, resolved_at=now)
            self._write_state(conn, new, version, now)
            conn.execute(
                sa.insert(self.t["resolutions"]).values(
                    account_id=account_id,
                    decision_id=self._flag_of(conn, state),
                    at=now,
                    by=by,
                    outcome=outcome,
                    note=note,
                )
            )
            return new

        return self._run(unit)

    def feedback(
        self, account_id: str, now: dt.datetime, by: str, agree: bool, comment: str | None = None
    ) -> str:
        """A CSM's verdict on the account's latest flag; returns the decision id it refers to."""

        def unit(conn: Connection) -> str:
            self._known_state(conn, account_id)
            t = self.t["level_changes"]
            # the verdict is on what flagged the account (risk or a rule), not on a step the
            # ladder took because nobody acknowledged in time
            last = conn.execute(
                sa.select(t.c.decision_id)
                .where(t.c.account_id == account_id, t.c.direction == "up", t.c.rule != TIMEOUT)
                .order_by(t.c.at.desc(), t.c.id.desc())
                .limit(1)
            ).scalar()
            if last is None:
                raise LadderConflict(
                    "never_flagged",
                    f"account {account_id!r} has never been flagged; no flag to give feedback on",
                    account=account_id,
                )
            conn.execute(
                sa.insert(self.t["feedback"]).values(
                    account_id=account_id,
                    decision_id=last,
                    at=now,
                    by=by,
                    agree=agree,
                    comment=comment,
                )
            )
            return str(last)

        return self._run(unit)

    def record_action(
        self, account_id: str, now: dt.datetime, by: str, action: str, note: str | None = None
    ) -> None:
        """A playbook action someone took for the account's current flag."""

        def unit(conn: Connection) -> None:
            state, _ = self._known_state(conn, account_id)
            flag = self._flag_of(conn, state)
            self._insert_actions(conn, account_id, flag, now, by, [action], note)

        self._run(unit)

    def record_actions(
        self,
        account_id: str,
        now: dt.datetime,
        by: str,
        actions: Sequence[str],
        note: str | None = None,
    ) -> LadderState:
        """Playbook actions taken later for the current flag (a call scheduled days after the
        acknowledgement); a flag never raised or already resolved is refused, as for an ack."""

        def unit(conn: Connection) -> LadderState:
            state, _ = self._known_state(conn, account_id)
            _refuse_if_never_flagged(state, "no flag to record actions for")
            _refuse_if_resolved(state)
            flag = self._flag_of(conn, state)
            self._insert_actions(conn, account_id, flag, now, by, actions, note)
            return state

        return self._run(unit)

    def _insert_actions(
        self,
        conn: Connection,
        account_id: str,
        decision_id: str | None,
        now: dt.datetime,
        by: str,
        actions: Sequence[str],
        note: str | None,
    ) -> None:
        rows = [
            {"account_id": account_id, "decision_id": decision_id, "at": now, "by": by,
             "action": a, "note": note}
            for a in actions
        ]  # fmt: skip
        if rows:
            conn.execute(sa.insert(self.t["actions_taken"]), rows)

    # --- the outbox --------------------------------------------------------------------------

    def due_messages(
        self, now: dt.datetime, lease: dt.timedelta, limit: int = 100, after: int = 0
    ) -> list[dict[str, Any]]:
        """Pending messages whose next attempt is due, plus claims older than `lease` (a sender
        that crashed mid-send), in id order from after `after` (the next page)."""
        t = self.t["outbox"]
        q = (
            sa.select(t)
            .where(
                t.c.id > after,
                sa.or_(
                    sa.and_(t.c.status == "pending", t.c.next_attempt_at <= now),
                    sa.and_(t.c.status == "sending", t.c.claimed_at <= now - lease),
                ),
            )
            .order_by(t.c.id)
            .limit(limit)
        )
        return self._run(lambda c: [dict(r) for r in c.execute(q).mappings()])

    def waiting_messages(self, now: dt.datetime) -> tuple[int, dt.datetime | None]:
        """Pending messages not yet due (failed before, waiting out their back-off) and the
        earliest next attempt: a run that sends none of them should still say they wait."""
        t = self.t["outbox"]
        q = sa.select(sa.func.count(), sa.func.min(t.c.next_attempt_at)).where(
            t.c.status == "pending", t.c.next_attempt_at > now
        )
        n, first = self._read(lambda c: c.execute(q).one())
        if isinstance(first, str):  # SQLite's MIN() of a timestamp column gives back its text
            first = dt.datetime.fromisoformat(first)
        if first is not None and first.tzinfo is None:
            first = first.replace(tzinfo=dt.UTC)
        return int(n), first

    def claim(self, message_id: int, now: dt.datetime, lease: dt.timedelta) -> bool:
        """Take a message for sending; False if another sender holds it or it is done."""
        t = self.t["outbox"]
        q = (
            sa.update(t)
            .where(
                t.c.id == message_id,
                sa.or_(
                    t.c.status == "pending",
                    sa.and_(t.c.status == "sending", t.c.claimed_at <= now - lease),
                ),
            )
            .values(status="sending", claimed_at=now)
        )
        return self._run(lambda c: c.execute(q).rowcount == 1)

    def mark_sent(self, message_id: int, now: dt.datetime) -> None:
        t = self.t["outbox"]
        q = (
            sa.update(t)
            .where(t.c.id == message_id)
            .values(status="sent", sent_at=now, attempts=t.c.attempts + 1, last_error=None)
        )
        self._run(lambda c: c.execute(q))

    def mark_failed(
        self, message_id: int, now: dt.datetime, error: str, retry_at: dt.datetime | None
    ) -> None:
        """Record a failed attempt; `retry_at=None` gives up (status `failed`)."""
        t = self.t["outbox"]
        values: dict[str, Any] = {
            "attempts": t.c.attempts + 1,
            "last_error": error[:2000],
            "claimed_at": None,
        }
        if retry_at is None:
            values["status"] = "failed"
        else:
            values.update(status="pending", next_attempt_at=retry_at)
        self._run(lambda c: c.execute(sa.update(t).where(t.c.id == message_id).values(**values)))

    def requeue_failed(
        self,
        now: dt.datetime,
        by: str,
        since: dt.datetime | None = None,
        max_age: dt.timedelta | None = None,
    ) -> tuple[int, int]:
        """Put the failed messages queued since `since` back to be sent at once, with their
        attempts counted afresh: after an outage an operator had no way to send them again but
        to edit the database. One queued more than `max_age` ago is left failed (it would only
        expire again). Each row's `last_error` keeps who put it back, when, after how many
        attempts and the error it had. A second call finds nothing left: (put back, too old)."""
        t = self.t["outbox"]
        chosen = [t.c.status == "failed"]
        if since is not None:
            chosen.append(t.c.created_at >= since)
        young = [] if max_age is None else [t.c.created_at >= now - max_age]
        stamp = now.astimezone(dt.UTC).isoformat(timespec="minutes")
        note = (
            sa.literal(f"requeued {stamp} by {by} after ")
            + sa.cast(t.c.attempts, sa.String)
            + sa.literal(" attempts; last error: ")
            + sa.func.coalesce(t.c.last_error, "")
        )
        put_back = (
            sa.update(t)
            .where(*chosen, *young)
            .values(
                status="pending",
                attempts=0,
                next_attempt_at=now,
                claimed_at=None,
                last_error=sa.func.substr(note, 1, 2000),
            )
        )
        old = sa.select(sa.func.count()).where(*chosen, sa.not_(sa.and_(*young)))

        def unit(conn: Connection) -> tuple[int, int]:
            n = conn.execute(put_back).rowcount
            return n, int(conn.execute(old).scalar_one()) if young else 0

        return self._run(unit)

    # --- CSM page sessions --------------------------------------------------------------------

    def sign_out(self, session: str, expires: dt.datetime, now: dt.datetime) -> None:
        """Remember that a session (a hash of its cookie) ended before `expires`; forget the
        sessions that have expired anyway."""
        t = self.t["ui_signouts"]

        def write(conn: Connection) -> None:
            if not self._has(conn, t):  # the page says the sign-out was not recorded
                where = shown_url(self.engine.url)
                raise StoreUnavailable(
                    "outdated",
                    f"the database {where} lacks the table {t.name} of this version: "
                    f"{UPGRADE_HINT}",
                    where=where,
                    tables=t.name,
                )
            conn.execute(sa.delete(t).where(t.c.expires <= now))
            if conn.execute(sa.select(t.c.session).where(t.c.session == session)).first() is None:
                conn.execute(sa.insert(t).values(session=session, expires=expires))

        self._run(write)

    def signed_out(self, session: str) -> bool:
        t = self.t["ui_signouts"]
        q = sa.select(t.c.session).where(t.c.session == session)
        # a store without the table (`_has`) has recorded no sign-out
        return self._read(lambda c: self._has(c, t) and c.execute(q).first() is not None)

    # --- wrong tokens per client (serving.throttle) --------------------------------------------

    def auth_failures(self, scope: str, client: str) -> tuple[int, float] | None:
        """(failures in a row, unix time of the last) of a client, None for none."""
        t = self.t["auth_failures"]
        q = sa.select(t.c.failures, t.c.last_at).where(t.c.scope == scope, t.c.client == client)
        row = self._read(lambda c: c.execute(q).first())
        return None if row is None else (int(row[0]), float(row[1]))

    def auth_failed(self, scope: str, client: str, now: float, quiet: float) -> None:
        """One failure more for a client, in one statement (two workers at once count two);
        the first again after `quiet` seconds without one."""
        t = self.t["auth_failures"]

        def write(conn: Connection) -> None:
            from sqlalchemy.dialects import postgresql, sqlite

            ins = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            stmt = ins(t).values(scope=scope, client=client, failures=1, last_at=now)
            again = sa.case((t.c.last_at < now - quiet, 1), else_=t.c.failures + 1)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["scope", "client"], set_={"failures": again, "last_at": now}
                )
            )

        self._without_waiting(write)

    def auth_prune(self, before: float, keep: int) -> None:
        """Forget clients without a failure since `before`, and all but the `keep` latest: a
        flood of addresses costs bounded room."""
        t = self.t["auth_failures"]

        def prune(conn: Connection) -> None:
            conn.execute(sa.delete(t).where(t.c.last_at < before))
            q = sa.select(t.c.last_at).order_by(t.c.last_at.desc()).offset(keep).limit(1)
            cut = conn.execute(q).scalar()
            if cut is not None:
                conn.execute(sa.delete(t).where(t.c.last_at <= cut))

        self._without_waiting(prune)

    def _without_waiting(self, fn: Callable[[Connection], None]) -> None:
        """`fn` in a write transaction that does not queue behind another writer: on SQLite it
        gives up within BRIEF_BUSY_MS with an error `locked` tells (not after the 60 s busy
        timeout and `_run`'s retries), so that an unauthenticated request's count never holds a
        thread while the daily job stores a day."""
        with self._brief.begin() as conn:
            fn(conn)

    # --- daily scores ------------------------------------------------------------------------

    def save_daily_scores(self, rows: Sequence[Mapping[str, Any]], now: dt.datetime) -> int:
        """Upsert one row per (account_id, day): re-running a day replaces, never duplicates."""
        if not rows:
            return 0
        t = self.t["daily_scores"]
        columns = {
            "account_id": [r["account_id"] for r in rows],
            "day": [r["day"] for r in rows],
            "escalation_risk": [float(r["escalation_risk"]) for r in rows],
            "churn_risk": [float(r["churn_risk"]) for r in rows],
            "level": [r.get("level") for r in rows],
            "reasons": [list(r.get("reasons") or []) for r in rows],
            "model_version": [r.get("model_version") for r in rows],
            "scored_at": [now] * len(rows),
            "owners": [None if r.get("owners") is None else list(r["owners"]) for r in rows],
            "team": [r.get("team") for r in rows],
            "priority": [r.get("priority") for r in rows],
        }
        return self._run(lambda c: insert_columns(c, t, columns, upsert=("account_id", "day")))

    def save_score_columns(self, columns: Mapping[str, Sequence[Any]], now: dt.datetime) -> int:
        """`save_daily_scores` for rows given as columns (account_id, day, escalation_risk,
        churn_risk, level, reasons, model_version, and optionally the decision's owners, team and
        priority; risks as floats, reasons and owners as lists): the daily
        job's arrays without a dict per account."""
        return self._run(lambda c: self.insert_score_columns(c, columns, now))

    def insert_score_columns(
        self, conn: Connection, columns: Mapping[str, Sequence[Any]], now: dt.datetime
    ) -> int:
        """`save_score_columns` within the caller's transaction: the daily job stores the day's
        list and its scores as one, so that no list is left without its scores."""
        t = self.t["daily_scores"]
        n = _count(columns, "save_score_columns: columns of different lengths")
        if not n:
            return 0
        cols = {**columns, "scored_at": [now] * n}
        return insert_columns(conn, t, cols, upsert=("account_id", "day"))

    def daily_scores(
        self, account_id: str | None = None, day: dt.date | None = None, last: int | None = None
    ) -> list[dict[str, Any]]:
        """Stored scores by day and account (optionally only the last `last` of them)."""
        t = self.t["daily_scores"]
        q = sa.select(*self.columns(t))
        if account_id is not None:
            q = q.where(t.c.account_id == account_id)
        if day is not None:
            q = q.where(t.c.day == day)
        return self._ordered(q, [t.c.day, t.c.account_id], last)

    def day_reasons(self, day: dt.date, account_ids: Sequence[str]) -> dict[str, list[Any]]:
        """The reasons stored for some accounts on one day (a page of the CSM list)."""
        t = self.t["daily_scores"]
        q = sa.select(t.c.account_id, t.c.reasons).where(
            t.c.day == day, t.c.account_id.in_(list(account_ids))
        )
        return self._read(lambda c: {r[0]: list(r[1] or []) for r in c.execute(q).all()})

    def _ordered(self, q: sa.Select, keys: Sequence[Any], last: int | None) -> list[dict[str, Any]]:
        """The rows of `q` in `keys` order; with `last`, only the last rows, read newest first
        with a LIMIT so that the cost does not grow with the stored history."""
        if last is None:
            return self._read(lambda c: [dict(r) for r in c.execute(q.order_by(*keys)).mappings()])
        q = q.order_by(*(k.desc() for k in keys)).limit(last)
        return self._read(lambda c: [dict(r) for r in c.execute(q).mappings()][::-1])

    # --- reading the trail -------------------------------------------------------------------

    def rows(
        self, table: str, account_id: str | None = None, last: int | None = None
    ) -> list[dict[str, Any]]:
        """All rows of one audit table (optionally one account, optionally only the last `last`),
        oldest first."""
        t = self.t[table]
        q = sa.select(t)
        if account_id is not None:
            q = q.where(t.c.account_id == account_id)
        order = t.c.at if "at" in t.c else t.c.id
        return self._ordered(q, [order, t.c.id] if "id" in t.c else [order], last)

    def keep_model_settings(
        self, model_version: str, feature_params: Mapping[str, Any], now: dt.datetime
    ) -> None:
        """Record the feature settings `model_version` scores with. A version's settings are
        those it was trained with, but its name may be given again: a registry set up anew
        counts its versions from 1 again, and the latest run's model is told by the settings it
        scores with (kept first, the old version 1's settings told every later row wrong)."""
        t = self.t["model_settings"]
        wanted = dict(feature_params)

        def unit(conn: Connection) -> None:
            known = sa.select(t.c.feature_params).where(t.c.model_version == model_version)
            kept = conn.execute(known).first()
            if kept is None:
                conn.execute(
                    sa.insert(t).values(
                        model_version=model_version, feature_params=wanted, recorded_at=now
                    )
                )
            elif dict(kept[0]) != wanted:
                conn.execute(
                    sa.update(t)
                    .where(t.c.model_version == model_version)
                    .values(feature_params=wanted, recorded_at=now)
                )

        with contextlib.suppress(IntegrityError):  # another run recorded it just now
            self._run(unit)

    def model_settings(self) -> dict[str, dict[str, Any]]:
        """model version -> the feature settings it scored with (`keep_model_settings`); none
        in a store of an older version not brought up to date (opened by a role without DDL
        rights, `open_existing`): the CSM page failed (500) until the next daily run added the
        table, where its reasons are told with the served model's settings."""
        t = self.t["model_settings"]
        q = sa.select(t.c.model_version, t.c.feature_params)

        def read(conn: Connection) -> dict[str, dict[str, Any]]:
            if not self._has(conn, t):
                return {}
            return {r[0]: dict(r[1]) for r in conn.execute(q)}

        return self._read(read)

    def has_account(self, account_id: str) -> bool:
        return self.state(account_id) is not None

    def trail(self, account_id: str | None = None) -> list[dict[str, Any]]:
        """Every recorded event, merged and sorted by time: level changes, acknowledgements,
        resolutions, feedback and actions."""
        if account_id is not None and not self.has_account(account_id):
            raise StoreRefusal("store_unknown_account", account=account_id, where=self._where())
        events: list[dict[str, Any]] = []
        for kind in (
            "level_changes",
            "acknowledgements",
            "resolutions",
            "feedback",
            "actions_taken",
        ):
            for row in self.rows(kind, account_id):
                events.append({"kind": kind, **row})
        order = {
            "level_changes": 0,
            "actions_taken": 1,
            "acknowledgements": 2,
            "feedback": 3,
            "resolutions": 4,
        }
        events.sort(key=lambda e: (e["at"], order[e["kind"]], e["id"]))
        return events


class LadderConflict(UserError):
    """An action the account's ladder state does not allow (never flagged, already acknowledged
    or resolved, unknown). Its text is English; `key` and `values` let the CSM page and the
    ladder's commands tell it in their language (a moment as a datetime, for them to write)."""

    def __init__(self, key: str, message: str, **values: str | dt.datetime) -> None:
        super().__init__(message)
        self.key = key
        self.values = values

    def told(self, language: str) -> str:
        """In English the command line's text (it names the database); in another language the
        CSM page's, as the command's team reads it (`escrisk ack` under daily.language: de)."""
        if language == "en":
            return str(self)
        from serving.daily_text import time_text
        from serving.ui_text import text

        values = {
            k: f"{time_text(v, language)} UTC" if isinstance(v, dt.datetime) else v
            for k, v in self.values.items()
        }  # the page tells them in the ladder's zone; the command line's times are UTC
        return text(f"conflict_{self.key}", language, **values)


class StoreUnavailable(Exception):
    """The database cannot be reached, or (for a reader) holds no store yet: the service answers
    503 with this message instead of a 500, and a reader never creates an empty database. Not a
    UserError: handlers that turn those into 4xx answers must not catch it. Its text is English
    for the API and the log; `key` and `values` let the CSM page tell it in the page's language."""

    def __init__(self, key: str, message: str, **values: str) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


# what adds the tables and columns a store of an older version lacks, for a role without DDL rights
UPGRADE_HINT = (
    "run `escrisk audit --last 1` once with ESCRISK_DATABASE_URL naming a role with DDL rights "
    "(CREATE on the schema, owner of the tables): it adds them and changes no stored row; "
    "then grant this role its rights on the tables added"
)


class StoreRefusal(CatalogRefusal):
    """A state database refused (`serving.ladder_cli_text`'s `key`): English as raised, told in
    the command's language (`escrisk daily --language de` told a mistyped URL in English)."""

    @staticmethod
    def say(key: str, language: str, **values: Any) -> str:
        from serving.ladder_cli_text import say

        return say(key, language, **values)


class StoreOutdated(UserError):
    """A store of an older version that this role may not bring up to date (no DDL rights):
    a writer refuses it, naming what it lacks, before it would write rows without them; a
    reader (`open_existing`) reads it as it is. `told` in the command's language."""

    def __init__(self, where: str, gaps: Sequence[str], cause: str) -> None:
        self.where, self.gaps, self.cause = where, list(gaps), cause
        super().__init__(
            f"the state database {where} lacks what this version adds ({', '.join(gaps)}) and "
            f"this role may not add it ({cause}): {UPGRADE_HINT}, and run this command again"
        )

    def told(self, language: str) -> str:
        if language == "en":
            return str(self)
        from serving.ladder_cli_text import say

        gaps = ", ".join(self.gaps)
        return say("store_outdated", language, where=self.where, gaps=gaps, cause=self.cause)


def _refuse_if_never_flagged(state: LadderState, nothing: str) -> None:
    """An account the ladder never raised has no flag to acknowledge or act on."""
    if state.decision_id is None:
        raise LadderConflict(
            "never_flagged",
            f"account {state.account_id!r} is at {state.level} and has never been flagged; {nothing}",
            account=state.account_id,
        )


def _refuse_if_resolved(state: LadderState) -> None:
    """A flag closed with an outcome takes no acknowledgement or second resolution."""
    if state.resolved_at is not None:
        raise LadderConflict(
            "already_resolved",
            f"account {state.account_id!r}: the flag at {state.level} was already resolved at "
            f"{state.resolved_at:%Y-%m-%d %H:%M} UTC",
            account=state.account_id,
            level=state.level,
            at=state.resolved_at,
        )


def locked(exc: BaseException) -> bool:
    """Whether a database error means another transaction holds what was asked for (SQLite's
    write lock, a PostgreSQL lock or serialization conflict): busy, not down."""
    return isinstance(exc, OperationalError | DBAPIError) and any(
        w in str(exc).lower() for w in _LOCK_WORDS
    )


def unreachable(exc: BaseException) -> bool:
    """Whether a database error means the database is down or unreachable, not a bad query."""
    return isinstance(exc, OperationalError | InterfaceError) and not _retryable(exc)


# what a reader needs (the CSM page's list and states, /account's scores): the daily run made them
READ_TABLES = ("daily_list", "daily_runs", "daily_scores", "ladder_state")


def open_existing(url: str) -> Store:
    """The store the daily run writes, opened by a reader (the service, the CSM page), which
    never creates one, nor waits for a writer's lock to open one of this version; one of an
    older version is brought up to date. A StoreUnavailable, naming the database without its
    password, when there is none to read: no file at a SQLite path (a new empty database would
    answer "never scored" for every account), a file or database without the store's tables
    (another application's, or no daily run yet), a server that is down, a URL that is wrong."""
    try:
        parsed = parsed_url(url)
    except UserError:  # its text quotes the URL, password and all: not for an API answer
        raise StoreUnavailable(
            "bad_url",
            "ESCRISK_DATABASE_URL is not a valid SQLAlchemy URL (e.g. sqlite:///escrisk.db)",
        ) from None
    where = shown_url(parsed)
    file = sqlite_file(parsed)
    if file is not None and not file.is_file():
        path = str(file.resolve())
        raise StoreUnavailable(
            "no_file",
            f"no database at {path} (ESCRISK_DATABASE_URL={where}): "
            "`escrisk daily` creates it with its first run; check the URL if it has run",
            path=path,
            where=where,
        )
    reader: Store | None = None
    gaps: list[str] = []
    try:
        if file is not None:  # read-only: opening it for writing would change a file not ours (WAL)
            present = _sqlite_tables(file)
        else:
            reader = Store(url, create=False)
            present = set(sa.inspect(reader.engine).get_table_names())
        missing = sorted(set(READ_TABLES) - present)
        if not missing:
            # ours: what it lacks of this version, read without a write lock (on SQLite a read
            # does not wait for a writer): bringing a store up to date that lacked nothing took
            # the lock all the same, and a worker's first request waited while `escrisk daily`
            # stored a day
            reader = reader or Store(url, create=False)
            gaps = reader._read(lambda conn: schema_gaps(conn, whole_schema(reader.prefix)))
    except (DBAPIError, sqlite3.Error) as exc:
        if reader is not None:
            reader.close()
        cause = type(getattr(exc, "orig", None) or exc).__name__
        raise StoreUnavailable(
            "unreachable",
            f"the database {where} cannot be reached or used ({cause})",
            where=where,
            cause=cause,
        ) from None
    if missing:
        if reader is not None:
            reader.close()
        raise StoreUnavailable(
            "no_store",
            f"the database {where} holds no escalation-risk store (no table {missing[0]}): "
            "`escrisk daily` creates it with its first run; check ESCRISK_DATABASE_URL",
            where=where,
            table=missing[0],
        )
    assert reader is not None
    if not gaps:
        return reader
    reader.close()
    # one of an older version gets the columns and tables added since (the readers' queries
    # name them: /account and every signed-in page failed until the next daily run)
    try:
        return _up_to_date(url)
    except StoreOutdated as exc:  # a role without DDL rights: read the schema as it is
        logger.warning(
            "the store at %s lacks what this version adds (%s): read as it is, without them; %s, "
            "then restart the service",
            where,
            ", ".join(exc.gaps),
            UPGRADE_HINT,
        )
        return Store(url, create=False)
    except DBAPIError as exc:
        if unreachable(exc):
            cause = type(exc.orig).__name__
            raise StoreUnavailable(
                "unreachable",
                f"the database {where} cannot be reached or used ({cause})",
                where=where,
                cause=cause,
            ) from None
        logger.warning(  # e.g. a role without DDL rights: read the schema as it is
            "the store at %s was not brought up to date (%s)", where, type(exc.orig).__name__
        )
        return Store(url, create=False)


def open_for_writing(url: str, create: bool = True) -> Store:
    """The store of a command that records decisions (`escrisk daily`, ack, resolve, ...),
    created on first use; a UserError naming the database, without its password, when it cannot
    be: an in-memory SQLite database (it would forget the ladder's state and what was sent, so
    a second run of the same day would send every notification again), a missing driver, a file
    that is not a database, a server that is down. `create=False` checks the URL and connects
    to nothing yet: the daily job reads what is there (`existing_tables`) before its checks,
    which may refuse the run, and creates the schema after them."""
    parsed = parsed_url(url)
    where = shown_url(parsed)
    name = parsed.database or ""
    memory = name in ("", ":memory:") or name.startswith("file::memory:")
    if parsed.get_backend_name() == "sqlite" and (memory or parsed.query.get("mode") == "memory"):
        raise StoreRefusal("store_in_memory", url=url)
    try:
        return _up_to_date(url) if create else Store(url, create=False)
    except sa.exc.NoSuchModuleError:
        raise StoreRefusal("store_unknown_dialect", where=where) from None
    except ImportError as exc:
        raise StoreRefusal("store_no_driver", where=where, driver=exc.name) from None
    except DBAPIError as exc:
        raise _unusable(where, exc) from None


def _up_to_date(url: str) -> Store:
    """The store at `url` with every table, column and index of this version, the daily
    list's too (`escrisk ack` or `audit` on a store of an older version brings all of it up to
    date); StoreOutdated when this role may not add what is missing."""
    store = Store(url)
    try:
        store.create_schema(whole_schema(store.prefix))
    except BaseException:
        store.close()
        raise
    return store


def existing_tables(store: Store) -> set[str]:
    """The tables the store's database holds, read without creating anything: none for a SQLite
    file that does not exist yet (a connection would create it); a UserError as
    `open_for_writing`'s when the database cannot be opened or used."""
    url = store.engine.url
    try:
        if url.get_backend_name() == "sqlite":
            path = sqlite_file(url)
            return _sqlite_tables(path) if path is not None and path.is_file() else set()
        return set(sa.inspect(store.engine).get_table_names())
    except (DBAPIError, sqlite3.Error) as exc:
        raise _unusable(shown_url(url), exc) from None


def whole_schema(prefix: str) -> sa.MetaData:
    """Every table of the store, the daily list's (`serving.dailystore`) too: what a command
    brings up to date and what a role without DDL rights finds missing, all at once."""
    from serving.dailystore import daily_tables  # built on this module: imported when needed

    md = sa.MetaData()
    _tables(md, prefix)
    daily_tables(md, prefix)
    return md


def schema_gaps(conn: Connection, metadata: sa.MetaData) -> list[str]:
    """The tables ("ui_signouts") and columns ("daily_scores.team") of `metadata` the database
    lacks; indexes are left out (without them the store works, slower)."""
    inspector = sa.inspect(conn)
    present = set(inspector.get_table_names())
    gaps = []
    for table in metadata.sorted_tables:
        if table.name not in present:
            gaps.append(table.name)
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        gaps += [f"{table.name}.{c.name}" for c in table.columns if c.name not in have]
    return gaps


def _denied(exc: DBAPIError) -> bool:
    """Whether the role may not change the schema (PostgreSQL's insufficient_privilege: no
    CREATE on the schema, not the owner of a table to ALTER)."""
    orig = exc.orig
    return "42501" in (getattr(orig, "sqlstate", None), getattr(orig, "pgcode", None))


def _unusable(where: str, exc: DBAPIError | sqlite3.Error) -> UserError:
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [""])[0]
    return StoreRefusal("store_unusable", where=where, cause=f"{type(cause).__name__}: {first}")


def _sqlite_tables(path: Path) -> set[str]:
    """The tables of a SQLite file, read without writing to it (sqlite3.Error if it is none)."""
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        con.close()


def shown_url(url: sa.engine.URL) -> str:
    """A database URL fit for messages and logs: no password, and no query (a driver may take
    the password there: ?password=...)."""
    return url.set(query={}).render_as_string(hide_password=True)


def _create_all(conn: Connection, metadata: sa.MetaData) -> None:
    """Create what is missing: tables, and in tables of an older version their nullable columns
    and indexes added since (so an existing database keeps working after an upgrade); drop the
    indexes they no longer have (`_drop_superseded`)."""
    existing = set(sa.inspect(conn).get_table_names())
    metadata.create_all(conn, checkfirst=True)
    inspector = sa.inspect(conn)
    quote = conn.dialect.identifier_preparer
    for table in metadata.sorted_tables:
        if table.name not in existing:
            continue  # created just now, with its columns and indexes
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in columns:
                assert column.nullable, f"{table.name}.{column.name}: new columns must be nullable"
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(
                    sa.text(
                        f"ALTER TABLE {quote.format_table(table)} "
                        f"ADD COLUMN {quote.format_column(column)} {kind}"
                    )
                )
        have = {ix["name"] for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in have:
                conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))
        _drop_superseded(conn, inspector, table, have)


def _drop_superseded(
    conn: Connection, inspector: sa.Inspector, table: sa.Table, have: set[str | None]
) -> None:
    """Drop the index an older version made on a column now declared `index=False` (such as
    daily_scores.account_id), when a unique index of the table leads with that column: it
    serves the look-ups, and the old index was written for every stored row for nothing."""
    old = {f"ix_{table.name}_{c.name}": c.name for c in table.columns if c.index is False}
    old = {name: column for name, column in old.items() if name in have}
    if not old:
        return
    unique: list[Sequence[str | None]]
    unique = [u["column_names"] for u in inspector.get_unique_constraints(table.name)]
    unique += [ix["column_names"] for ix in inspector.get_indexes(table.name) if ix["unique"]]
    quote = conn.dialect.identifier_preparer
    for name, column in old.items():
        if any(cols and cols[0] == column for cols in unique):
            conn.execute(sa.text(f"DROP INDEX IF EXISTS {quote.quote(name)}"))


def _replace(state: LadderState, **changes: Any) -> LadderState:
    return dataclasses.replace(state, **changes)


def parsed_url(url: str) -> sa.engine.URL:
    """The URL parsed, or a UserError that shows it without its password (a port that is no
    number, 'host:port', was an internal error)."""
    try:
        return sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise StoreRefusal("store_bad_url", url=without_password(url)) from None


def sqlite_file(url: sa.engine.URL) -> Path | None:
    """The file a SQLite URL's database is, or None (another database, or one in memory). With
    `?uri=true` SQLite reads `file:` names as URIs (`sqlite:///file:/srv/escrisk.db?uri=true`);
    without it `file:x.db` is a file of that name. Code that looked at the name itself took such
    a database for a file that is not there: no run seen, no lock taken."""
    name = url.database or ""
    if url.get_backend_name() != "sqlite" or name in ("", ":memory:"):
        return None
    if url.query.get("mode") == "memory":
        return None
    if name.startswith("file:") and str(url.query.get("uri", "")).lower() in ("true", "1"):
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(name)
        if parts.netloc not in ("", "localhost") or parts.path in ("", ":memory:"):
            return None  # SQLite refuses another host's file; file::memory: is in memory
        name = unquote(parts.path)
    return Path(name)


def _private_sqlite_file(url: str) -> None:
    """A SQLite file the store is about to create is created readable by its owner only: it
    holds customer data, the audit trail and the outbox's webhook addresses (an incoming-webhook
    URL is its own credential), which SQLite's default (0644 under the usual umask) let every user
    of the host read. Its -wal and -shm files take the file's permissions. An existing file is
    left as its owner set it; a path that cannot be created is SQLite's to report."""
    path = sqlite_file(parsed_url(url))
    if path is None:
        return
    with contextlib.suppress(OSError):  # there already, or a folder that does not exist
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _engine(url: str) -> Engine:
    parsed = parsed_url(url)
    if parsed.get_backend_name() != "sqlite":
        # a server that accepts connections but never answers must not hang a caller for good
        timeout = {"connect_timeout": CONNECT_TIMEOUT_S}
        psycopg = parsed.get_driver_name() in ("psycopg", "psycopg2")
        wanted = psycopg and "connect_timeout" not in parsed.query
        return sa.create_engine(url, pool_pre_ping=True, connect_args=timeout if wanted else {})
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # autocommit at the driver level so that we, not pysqlite, decide when a transaction begins
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # a new file only (an existing one keeps its size): a day writes 100,000-row tables of
        # 1 KB rows, which 16 KiB pages hold with less slack and fewer page splits than 4 KiB
        # (a quarter less SQLite time for the daily job's inserts, a tenth smaller file)
        cur.execute("PRAGMA page_size=16384")
        if parsed.database and parsed.database != ":memory:":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        # with WAL, NORMAL syncs at checkpoints, not at every commit: a power cut may lose the
        # last transactions but never corrupts the file, and the daily job commits a chunk at a time
        cur.execute("PRAGMA synchronous=NORMAL")
        # the daily job writes 100,000-row tables in random key order: with SQLite's default
        # 2 MiB page cache most index updates go back to the file
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # take the write lock up front: a deferred transaction that later upgrades can fail with
        # SQLITE_BUSY immediately, without waiting for the busy timeout
        options = conn.get_execution_options()
        busy, info = options.get("escrisk_busy_ms", BUSY_MS), conn.connection.info
        if (
            info.get("escrisk_busy_ms", BUSY_MS) != busy
        ):  # set on this connection only as it changes
            conn.exec_driver_sql(f"PRAGMA busy_timeout={int(busy)}")
            info["escrisk_busy_ms"] = busy
        conn.exec_driver_sql("BEGIN" if options.get("escrisk_read", False) else "BEGIN IMMEDIATE")

    return engine
