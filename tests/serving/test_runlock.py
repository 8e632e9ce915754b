"""The daily run's lock on a SQLite database, held by a real process and tried by another: one
database is one lock however the URL reaches it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from serving.runlock import RunBusy, daily_lock
from serving.store import Store, existing_tables

ROOT = Path(__file__).parents[2]
HOLD = "import sys; from serving.runlock import daily_lock\n" \
    "with daily_lock(sys.argv[1]):\n    print('held', flush=True); sys.stdin.read()"  # fmt: skip


@contextmanager
def held_by_another_process(url: str, cwd: Path) -> Iterator[None]:
    """`escrisk daily`'s lock of `url`, held by a process of its own until the block ends."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, url], cwd=cwd, env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n", proc.communicate()
        yield
    finally:
        proc.communicate("", timeout=30)  # end of input: it lets go and ends
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("held_as", "tried_as"),
    [
        ("sqlite:///state.db", "sqlite:///{d}/state.db"),  # relative and absolute
        ("sqlite:///{d}/state.db", "sqlite:///{d}/link.db"),  # a symlink to it
        ("sqlite:///file:state.db?uri=true", "sqlite:///{d}/state.db"),  # a SQLite URI
        ("sqlite:///file:{d}/state.db?mode=rwc&uri=true", "sqlite:///file:state.db?uri=true"),
    ],
)
def test_one_database_reached_by_two_urls_is_one_lock(tmp_path, monkeypatch, held_as, tried_as):
    """The lock file was named after the URL's path: a symlink to the database made a second
    lock file, and two runs at once; a `file:` URI took no lock at all. The lock file now lies
    beside the file itself (a relative path was already the same file), and goes with the run."""
    d = tmp_path / "data"
    d.mkdir()
    Store(f"sqlite:///{d / 'state.db'}").close()
    (d / "link.db").symlink_to(d / "state.db")
    monkeypatch.chdir(d)
    with held_by_another_process(held_as.format(d=d), d):
        assert (d / "state.db.daily-lock").exists()
        busy = pytest.raises(RunBusy, match="another `escrisk daily` run is working")
        with busy, daily_lock(tried_as.format(d=d)):
            pass
    with daily_lock(tried_as.format(d=d)):  # let go of with the process
        pass
    assert sorted(p.name for p in d.iterdir()) == ["link.db", "state.db"]


def test_a_sqlite_uri_database_is_read_as_the_file_it_names(tmp_path, monkeypatch):
    """The run read `file:` URIs as a path of that name, which is not there: the store's tables
    (its latest run, which a back-dated day must not precede) looked absent."""
    monkeypatch.chdir(tmp_path)
    Store(f"sqlite:///{tmp_path / 'state.db'}").close()
    for url in ("sqlite:///file:state.db?uri=true", f"sqlite:///file:{tmp_path}/state.db?uri=true"):
        store = Store(url, create=False)
        try:
            assert "ladder_state" in existing_tables(store)
        finally:
            store.close()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("file:")]


def test_a_database_in_memory_takes_no_lock_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite://", "sqlite:///file::memory:?uri=true", "sqlite:///m.db?mode=memory"):
        with daily_lock(url):
            assert list(tmp_path.iterdir()) == []
