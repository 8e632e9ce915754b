"""A ticket open again whose export still gives its old resolution time (Zendesk metrics'
solved_at, a ServiceNow incident's resolved_at, a Jira resolutiondate a reopen transition did
not clear) is unresolved, as HubSpot's reopened tickets are, and the report names it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from features.sources import load_history
from serving.cli import main

DATA = Path(__file__).resolve().parents[2] / "data" / "importers"
NOW = pd.Timestamp("2024-06-01", tz="UTC")


def _import(kind: str, files: list[str], out: Path) -> int:
    return main(["import", kind, *files, "--out", str(out), "--params", "params.yaml"])


def _tickets(out: Path, params) -> pd.DataFrame:
    return load_history(str(out), params.contract, NOW).tickets.set_index("ticket_id")


def test_zendesk_metrics_solved_at_of_a_reopened_ticket_is_dropped(tmp_path, params, capsys):
    data = json.loads((DATA / "zendesk" / "ticket_metrics.json").read_text())
    for m in data["ticket_metrics"]:
        if m["ticket_id"] == 1003:  # open: solved on the 9th, reopened since
            m["solved_at"], m["reopens"] = "2024-01-09T12:00:00Z", 1
    metrics = tmp_path / "ticket_metrics.json"
    metrics.write_text(json.dumps(data))
    files = [str(DATA / "zendesk" / f) for f in ("tickets.json", "organizations.json")]
    assert _import("zendesk", [*files, f"ticket_metrics={metrics}"], tmp_path / "o") == 0
    out = capsys.readouterr().out
    assert "1 ticket is open again, reopened since it was closed: its old close date" in out
    assert "(ticket_metrics solved_at) is dropped, read as unresolved (1003)" in out
    t = _tickets(tmp_path / "o", params)
    assert t.loc["1003", "status"] == "open" and pd.isna(t.loc["1003", "resolved_at"])
    assert pd.notna(t.loc["1001", "resolved_at"])


def test_servicenow_resolved_at_of_an_incident_in_progress_again_is_dropped(
    tmp_path, params, capsys
):
    rows = (DATA / "servicenow" / "incident_audit.csv").read_text().splitlines()
    # INC0010002's last audit row: on hold (state 3) again, its resolved_at of the day before kept
    last = max(i for i, r in enumerate(rows) if r.startswith("INC0010002,"))
    cells = rows[last].split(",")
    cells[5] = "01/09/2024 10:00:00 AM"
    rows[last] = ",".join(cells)
    audit = tmp_path / "incident_audit.csv"
    audit.write_text("\n".join(rows) + "\n")
    assert _import("servicenow", [str(audit)], tmp_path / "o") == 0
    out = capsys.readouterr().out
    assert "its old close date (resolved_at) is dropped, read as unresolved (INC0010002)" in out
    t = _tickets(tmp_path / "o", params)
    assert t.loc["INC0010002", "status"] == "on_hold"
    assert pd.isna(t.loc["INC0010002", "resolved_at"])
    assert pd.notna(t.loc["INC0010001", "resolved_at"])


def test_jira_resolutiondate_a_reopen_did_not_clear_is_dropped(tmp_path, params, capsys):
    data = json.loads((DATA / "jira" / "issues.json").read_text())
    for issue in data["issues"]:
        if issue["key"] == "HELP-2":  # waiting for support, reopened: resolution left set
            issue["fields"]["resolutiondate"] = "2024-01-09T10:00:00.000+0000"
    issues = tmp_path / "issues.json"
    issues.write_text(json.dumps(data))
    assert _import("jira", [str(issues)], tmp_path / "o") == 0
    out = capsys.readouterr().out
    assert "its old close date (fields.resolutiondate) is dropped, read as unresolved (HELP-2)" in (
        out
    )
    t = _tickets(tmp_path / "o", params)
    assert t.loc["HELP-2", "status"] in ("open", "pending", "new", "on_hold")
    assert pd.isna(t.loc["HELP-2", "resolved_at"])
    assert pd.notna(t.loc["HELP-1", "resolved_at"])
