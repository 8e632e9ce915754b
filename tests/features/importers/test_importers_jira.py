"""Jira Service Management exports as users save them: overlapping pages, SLA fields."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd

from serving.cli import main

DATA = Path(__file__).resolve().parents[2] / "data" / "importers" / "jira"


def _import(tmp_path: Path, *pages: dict) -> int:
    args = ["import", "jira"]
    for i, page in enumerate(pages, 1):
        path = tmp_path / f"page{i}.json"
        path.write_text(json.dumps(page))
        args.append(f"issues={path}")
    return main([*args, "--out", str(tmp_path / "o"), "--params", "params.yaml"])


def test_an_issue_in_two_pages_is_its_latest_record(tmp_path, capsys):
    """Paging the search API while issues change (or importing two exports) returns an issue
    twice: the import was refused ("ticket_id ... unique: id appears more than once"), where
    Zendesk's keeps the latest. Now the record updated last is kept, counted as merged, and the
    earlier record's changelog raises no escalation of its own."""
    first = json.loads((DATA / "issues.json").read_text())
    issue = copy.deepcopy(first["issues"][1])  # HELP-2, waiting for support, later resolved
    issue["fields"]["updated"] = "2024-01-12T10:00:00.000+0100"
    issue["fields"]["status"] = {"name": "Resolved", "statusCategory": {"key": "done"}}
    issue["fields"]["resolutiondate"] = "2024-01-12T10:00:00.000+0100"
    first["issues"][1]["fields"]["updated"] = "2024-01-09T09:00:00.000+0100"
    first["issues"][0]["fields"]["updated"] = "2024-01-04T18:00:00.000+0000"
    dup = copy.deepcopy(first["issues"][0])  # HELP-1 again, as an older record
    dup["fields"]["updated"] = "2024-01-01T00:00:00.000+0000"
    dup["fields"]["status"] = {"name": "Open", "statusCategory": {"key": "new"}}
    second = {"startAt": 50, "maxResults": 50, "total": 5, "issues": [issue, dup]}
    assert _import(tmp_path, first, second) == 0
    out = capsys.readouterr().out
    assert "merged 2: duplicate records of the same id" in out
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert t.index.is_unique
    assert t.loc["HELP-2", "status"] == "solved"
    assert t.loc["HELP-1", "status"] == "solved"  # the older record in page 2 does not win
    esc = pd.read_parquet(tmp_path / "o" / "escalations.parquet")
    assert list(esc["ticket_id"]) == ["HELP-1"]  # its one priority raise, once
