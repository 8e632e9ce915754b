"""Usage events mapped to accounts the import folder lacks: a few (test or prospect accounts)
are skipped with the mapping's lines named; a mapping that mostly names no account of the
folder (ids in another format) is refused at its own lines, not at the usage table's rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.sources import load_history
from serving.cli import main

DATA = Path(__file__).resolve().parents[2] / "data" / "importers"
NOW = pd.Timestamp("2024-06-01", tz="UTC")
ZENDESK = ["tickets.json", "organizations.json", "ticket_metrics.json"]


def _run(kind: str, files: list[str], out: Path) -> int:
    return main(["import", kind, *files, "--out", str(out), "--params", "params.yaml"])


def _usage(tmp_path: Path, mapping: str) -> int:
    assert _run("zendesk", [str(DATA / "zendesk" / f) for f in ZENDESK], tmp_path / "o") == 0
    users = tmp_path / "users.csv"
    users.write_text(mapping)
    events = "events=" + str(DATA / "usage_events" / "segment_events.jsonl")
    return _run("usage-events", [f"users={users}", events], tmp_path / "o")


def test_users_of_a_test_account_are_skipped_and_the_mappings_lines_named(tmp_path, params, capsys):
    """u-3 belongs to a test account the CRM export left out: the whole usage import was
    refused, naming rows of the built usage table no user can find in any file."""
    assert _usage(tmp_path, "user_id,account_id\nu-1,361\nu-2,361\nu-3,TEST-1\n") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "skipped 1: the mapping gives its user an account the folder's accounts table" in out
    assert "e.g. users.csv line 4 (user_id=u-3, account_id=TEST-1)" in out
    usage = load_history(str(tmp_path / "o"), params.contract, NOW).usage
    assert set(usage["account_id"]) == {"361"} and usage["events"].sum() > 0


def test_a_mapping_of_mostly_unknown_accounts_is_refused_at_its_lines(tmp_path, capsys):
    """Ids in another format (ORG-361 for 361) would skip every event: refused, each line named,
    after the import report of what was read and skipped (it told only the lines)."""
    mapping = "user_id,account_id\nu-1,ORG-361\nu-2,ORG-361\nu-3,ORG-362\n"
    assert _usage(tmp_path, mapping) == 1
    said = capsys.readouterr()
    err = " ".join(said.err.split())
    assert "users.csv line 2" in err and "users.csv line 4" in err
    assert "'ORG-362' is no account_id of the folder's accounts: 3 of the 3 event records" in err
    assert "usage / account_id / row" not in err  # not the built table's rows
    out = " ".join(said.out.split())
    assert "usage read 6 would write 0 skipped 6" in out
    assert "skipped 1: user not in the user -> account mapping" in out
    assert not (tmp_path / "o" / "usage.parquet").exists()


def _events(tmp_path: Path, users: dict[str, int]) -> str:
    """A Segment export with `users[u]` events of each user."""
    lines = [
        f'{{"type": "track", "event": "Report Viewed", "userId": "{u}", '
        f'"timestamp": "2024-01-0{1 + i % 5}T08:00:00.000Z", "messageId": "{u}-{i}"}}'
        for u, n in users.items()
        for i in range(n)
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_unknown_accounts_are_judged_by_the_usage_they_hold(tmp_path, params, capsys):
    """The rule counted the mapping's accounts: two small test accounts beside one customer
    refused the import (2 of 3 accounts unknown, 2 of 7 events), and one unknown account with
    most of the events was skipped (1 of 3 accounts, 5 of 7 events). It counts event records."""
    assert _run("zendesk", [str(DATA / "zendesk" / f) for f in ZENDESK], tmp_path / "o") == 0
    users = tmp_path / "users.csv"
    users.write_text("user_id,account_id\nu-1,361\nu-2,TEST-1\nu-3,TEST-2\n")
    events = _events(tmp_path, {"u-1": 5, "u-2": 1, "u-3": 1})
    assert _run("usage-events", [f"users={users}", f"events={events}"], tmp_path / "o") == 0
    assert "skipped 2: the mapping gives its user an account" in capsys.readouterr().out
    usage = load_history(str(tmp_path / "o"), params.contract, NOW).usage
    assert usage["events"].sum() == 5
    (tmp_path / "o" / "usage.parquet").unlink()
    users.write_text("user_id,account_id\nu-1,361\nu-2,362\nu-3,ORG-363\n")
    events = _events(tmp_path, {"u-1": 1, "u-2": 1, "u-3": 5})
    assert _run("usage-events", [f"users={users}", f"events={events}"], tmp_path / "o") == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "'ORG-363' is no account_id of the folder's accounts: 5 of the 7 event records" in err
    assert not (tmp_path / "o" / "usage.parquet").exists()
