"""One `escrisk daily` at a time per database.

The job refuses a day before the latest stored run when it starts; two runs started close together
(a back-dated day run by hand while the morning's cron run is still working) both passed that
check, and the earlier day could then be stored after the later one: its ladder decisions and
audit trail recorded after the later day's, the later day's deltas taken against the day before
both. The run holds a lock from its first read of the database to its end, which the operating
system or the database server lets go of when the process ends however it ends (a crash, a
kill, a lost connection): no stale lock for anybody to remove.

- SQLite: `flock` on a file beside the database (`<database>.daily-lock`), removed at the end;
  beside the file itself (symlinks followed, a `file:` URI read as SQLite reads it), so that
  one database reached by two names has one lock;
- PostgreSQL: a session advisory lock on a connection of its own, keyed by the store's schema;
- another database, or a system without `flock`: no lock (the start's check only).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from features.errors import UserError
from serving.daily_text import t
from serving.store import parsed_url, shown_url, sqlite_file

# the advisory lock's key: one 64-bit number for the job, the same in every version
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"escrisk daily").digest()[:8], "big", signed=True)


def advisory_key(schema: str) -> int:
    """The lock's key for the store in `schema`: an advisory lock is the whole database's, and
    two stores in one database (a schema each, search_path in the URL) are two installations,
    whose runs must not refuse each other's. `ADVISORY_KEY` for the default schema."""
    if schema == "public":
        return ADVISORY_KEY
    digest = hashlib.sha256(b"escrisk daily\0" + schema.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class RunBusy(UserError):
    """Another `escrisk daily` holds the database's lock."""


@contextlib.contextmanager
def daily_lock(url: str, language: str = "en") -> Iterator[None]:
    """Hold the daily job's lock of the database at `url` while the block runs; a RunBusy (in
    `language`) at once when another run holds it. Nothing is left behind."""
    parsed = parsed_url(url)
    where = shown_url(parsed)
    path = sqlite_file(parsed)
    if path is not None:
        # the file itself, however the URL reaches it (a relative path, a symlink, a `file:`
        # URI): one lock file per database, else two runs reaching it by two names both ran
        with _file_lock(lock_path(path), where, language):
            yield
    elif parsed.get_backend_name() == "postgresql":
        with _advisory_lock(url, where, language):
            yield
    else:
        yield


def lock_path(database: Path) -> Path:
    """The lock file of a SQLite database: beside the file the path leads to (symlinks
    followed), named after it."""
    real = database.resolve()
    return real.with_name(f"{real.name}.daily-lock")


@contextlib.contextmanager
def _file_lock(path: Path, where: str, language: str) -> Iterator[None]:
    fd = _locked_file(path, where, language)
    try:
        yield
    finally:
        if fd is not None:
            with contextlib.suppress(OSError):
                path.unlink()  # while still holding it (see `_locked_file`)
            os.close(fd)


def _locked_file(path: Path, where: str, language: str) -> int | None:
    """The lock file's descriptor, locked; None where no lock can be taken (a system without
    `flock`, a folder that does not exist: the database cannot be opened there either, and
    the store's opening says so)."""
    try:
        import fcntl
    except ImportError:
        return None
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            return None
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise UserError(t("daily_lock_file", language, path=path, why=why)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunBusy(t("daily_busy", language, where=where)) from None
        # the run before this one may have removed the file between our open and our lock: a
        # lock on a file no longer there would keep out nobody
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


@contextlib.contextmanager
def _advisory_lock(url: str, where: str, language: str) -> Iterator[None]:
    from serving.store import _engine

    engine = _engine(url)
    conn = None
    key: dict[str, int] = {}
    held = False
    try:
        # a server that is down: the run's opening of the store says so, as without the lock
        with contextlib.suppress(sa.exc.DBAPIError):
            conn = engine.connect()
        if conn is not None:
            schema = str(conn.execute(sa.text("SELECT current_schema()")).scalar() or "public")
            key = {"k": advisory_key(schema)}
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), key)
            held = bool(got.scalar())
            conn.commit()  # the lock is the session's: no transaction stays open for the run
            if not held:
                raise RunBusy(t("daily_busy", language, where=where))
        yield
    finally:
        # let go before closing: a closed connection's server process drops its locks only as
        # it exits, after the client has moved on, so a run started right after this one
        # could still find the lock held (a lost connection already has let go)
        if conn is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                if held:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), key)
                    conn.commit()
            with contextlib.suppress(sa.exc.DBAPIError):
                conn.close()
        engine.dispose()
