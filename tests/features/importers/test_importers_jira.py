"""Jira Service Management exports as users save them: overlapping pages, SLA fields."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import yaml

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


def _sla(name: str, cycle: dict, done: bool = True) -> dict:
    """A JSM SLA field as the search API returns it."""
    if done:
        return {"id": "2", "name": name, "completedCycles": [cycle], "_links": {}}
    return {"id": "2", "name": name, "completedCycles": [], "ongoingCycle": cycle}


def _at(iso: str) -> dict:
    return {"iso8601": iso, "jira": iso, "friendly": "x", "epochMillis": 0}


def test_jsm_sla_fields_give_first_response_times_and_targets(tmp_path, capsys):
    """JSM keeps the first response in its SLA fields ("Time to first response", German
    "Zeit bis zur ersten Antwort"): they were kept as a column holding the SLA's name, every
    issue had no first response and the first-response SLA features were left out without a
    word. Now the first completed cycle's stop time is the first response, and the breach time
    less the start (clock hours over JSM's calendar) or the goal of a running cycle the target."""
    page = json.loads((DATA / "issues.json").read_text())
    one, two = page["issues"][0], page["issues"][1]
    one["fields"]["customfield_10030"] = _sla(
        "Zeit bis zur ersten Antwort",
        {
            "startTime": _at("2024-01-03T09:15:00.000+0100"),
            "stopTime": _at("2024-01-03T11:30:00.000+0100"),
            "breachTime": _at("2024-01-03T13:15:00.000+0100"),
            "breached": False,
            "goalDuration": {"millis": 4 * 3_600_000, "friendly": "4h"},
            "remainingTime": {"millis": 6_300_000, "friendly": "1h 45m"},
        },
    )
    one["fields"]["customfield_10031"] = _sla(  # 16 business hours: due the next day
        "Time to resolution",
        {
            "startTime": _at("2024-01-03T09:15:00.000+0100"),
            "stopTime": _at("2024-01-05T12:00:00.000+0100"),
            "breachTime": _at("2024-01-04T17:15:00.000+0100"),
            "breached": True,
            "goalDuration": {"millis": 16 * 3_600_000, "friendly": "16h"},
            "remainingTime": {"millis": -67_500_000, "friendly": "-18h 45m"},
        },
    )
    two["fields"]["customfield_10030"] = _sla(  # not answered yet, paused: no breach time
        "Time to first response",
        {"startTime": _at("2024-01-08T09:00:00.000+0100"), "paused": True,
         "goalDuration": {"millis": 2 * 3_600_000}},
        done=False,
    )  # fmt: skip
    assert _import(tmp_path, page) == 0
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert t.loc["HELP-1", "first_response_at"] == pd.Timestamp("2024-01-03 10:30", tz="UTC")
    assert t.loc["HELP-1", "sla_first_response_hours"] == 4
    assert t.loc["HELP-1", "sla_resolution_hours"] == 32
    assert pd.isna(t.loc["HELP-2", "first_response_at"])
    # a paused cycle's goal is business time, not clock hours to a deadline: the policy's target
    assert pd.isna(t.loc["HELP-2", "sla_first_response_hours"])
    assert pd.isna(t.loc["HELP-4", "sla_first_response_hours"])  # no SLA: the contract's policy
    assert not any(c.startswith("jira_customfield_1003") for c in t.columns)
    out = capsys.readouterr().out
    assert "no first response time" not in out
    assert (
        "1 ticket takes its SLA target from the contract's SLA policy: the export gives it only "
        "as a length in the helpdesk's business time (Time to first response goalDuration), "
        "without the deadline (breachTime) (HELP-2)"
    ) in " ".join(out.split())


def test_a_paused_cycles_business_goal_is_no_clock_target(tmp_path, params, capsys):
    """A JSM goal of 16h on a Mon-Fri 9-17 calendar is two working days. A paused cycle gives
    no breachTime, and its goal was written as 16 clock hours: the issue, opened Friday 09:00,
    was breached on Saturday 01:00 in every feature and the ladder. The target is now blank, so
    that the contract's policy (in business hours when set) gives it, and the report says so."""
    from features.sources import load_history

    page = json.loads((DATA / "issues.json").read_text())
    page["issues"][1]["fields"]["customfield_10031"] = _sla(
        "Time to resolution",
        {"startTime": _at("2024-01-05T09:00:00.000+0100"), "paused": True,
         "goalDuration": {"millis": 16 * 3_600_000}},
        done=False,
    )  # fmt: skip
    assert _import(tmp_path, page) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "(Time to resolution goalDuration), without the deadline (breachTime) (HELP-2)" in out
    t = load_history(str(tmp_path / "o"), params.contract, pd.Timestamp("2024-06-01", tz="UTC"))
    help2 = t.tickets.set_index("ticket_id").loc["HELP-2"]
    assert bool(help2["sla_resolution_from_policy"])


def test_issues_without_sla_fields_say_the_first_response_features_are_left_out(tmp_path, capsys):
    assert _import(tmp_path, json.loads((DATA / "issues.json").read_text())) == 0
    out = capsys.readouterr().out
    assert "no first response time for any issue: no JSM SLA field named" in out


JIRA_CSV = (
    "Summary,Issue key,Issue id,Issue Type,Status,Priority,Resolution,Assignee,Created,Updated,"
    "Resolved,Labels,Labels,Description,Custom field (Organizations),"
    "Custom field (Organizations),Custom field (Time to first response),Comment,Comment\n"
    "Sync jobs failing,HELP-1,10001,Service request,Resolved,High,Done,Beth,03/Jan/24 8:15 AM,"
    '04/Jan/24 5:00 PM,04/Jan/24 5:00 PM,sync,vip,"All jobs\nfail",Acme GmbH,Globex AG,-2h 15m,'
    "03/Jan/24 11:30 AM;557058:abc;On it,04/Jan/24 5:00 PM;557058:abc;Fixed\n"
    "Checkout slow,HELP-2,10002,Incident,Waiting for support,Medium,,,08/Jan/24 9:00 AM,"
    "08/Jan/24 9:00 AM,,,,,Globex AG,,4h 0m,,\n"
    "No customer,HELP-3,10003,Incident,Open,Low,,,09/Jan/24 9:00 AM,09/Jan/24 9:00 AM,,,,,,,,,\n"
)


def test_jiras_csv_export_is_read_as_its_issues(tmp_path, capsys):
    """Jira's own CSV export (Filters > Export CSV), the one most admins know, was refused as
    "not JSON". Its columns are read as the search API's fields: a repeated column (Labels, an
    organization per column) as its values, the first organization the account; without a
    changelog there are no escalations to tell (no table, rather than one saying there were
    none) and reopens are not known (counted as missing)."""
    path = tmp_path / "Jira.csv"
    path.write_text(JIRA_CSV)
    args = ["import", "jira", f"issues={path}", "--out", str(tmp_path / "o")]
    assert main([*args, "--params", "params.yaml"]) == 0
    out = capsys.readouterr().out
    assert "skipped 1: no account reference" in out and "Jira.csv line 4 (key=HELP-3)" in out
    assert "escalations table not written" in out
    assert "reopen count not in the export for 2 tickets" in out
    assert "Jira's CSV export holds none" in out
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert list(t["account_id"]) == ["Acme GmbH", "Globex AG"]
    assert list(t["priority"]) == ["P2", "P3"] and list(t["status"]) == ["solved", "open"]
    assert t.loc["HELP-1", "created_at"] == pd.Timestamp("2024-01-03 08:15", tz="UTC")
    assert t.loc["HELP-1", "resolved_at"] == pd.Timestamp("2024-01-04 17:00", tz="UTC")
    assert t.loc["HELP-1", "body"] == "All jobs\nfail"
    assert t.loc["HELP-1", "jira_Labels"] == "sync; vip"
    assert not (tmp_path / "o" / "escalations.parquet").exists()


def test_a_german_jira_csv_export_is_read_through_csv_columns(tmp_path, capsys):
    """A German Jira heads its CSV export in German (Schlüssel, Erstellt, Benutzerdefiniertes
    Feld (Organizations)): jira.csv_columns names them; a missing key column is told by the
    names the file has."""
    data = yaml.safe_load(Path("params.yaml").read_text())
    jira = data["importers"]["jira"]
    jira["csv_columns"] = {"key": "Schlüssel", "created": "Erstellt", "status": "Status",
                           "priority": "Priorität", "resolutiondate": "Erledigt"}  # fmt: skip
    jira["status_map"]["erledigt"] = "solved"
    jira["priority_map"]["hoch"] = "P2"
    data["importers"]["date_formats"].append("%d.%m.%y %H:%M")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(data, allow_unicode=True))
    path = tmp_path / "Jira.csv"
    path.write_text(
        "Zusammenfassung;Schlüssel;Status;Priorität;Erstellt;Erledigt;"
        "Benutzerdefiniertes Feld (Organizations)\n"
        "Sync;HELP-1;Erledigt;Hoch;03.01.24 08:15;04.01.24 17:00;Acme GmbH\n"
    )
    args = ["import", "jira", f"issues={path}", "--out", str(tmp_path / "o")]
    assert main([*args, "--params", str(params)]) == 0
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").iloc[0]
    assert (t["ticket_id"], t["account_id"], t["priority"], t["status"]) == (
        "HELP-1", "Acme GmbH", "P2", "solved"
    )  # fmt: skip
    assert t["resolved_at"] == pd.Timestamp("2024-01-04 17:00", tz="UTC")
    path.write_text("Zusammenfassung;Erstellt;Status\nSync;03.01.24 08:15;Erledigt\n")
    assert main([*args, "--params", str(params)]) == 1
    err = capsys.readouterr().err
    assert "required field 'Schlüssel' not found (also looked for 'Issue key')" in err
    assert "its columns are: Zusammenfassung, Erstellt, Status" in err


def test_priority_changes_that_raise_nothing_are_counted_not_lost(tmp_path, capsys):
    """The report read 2 changelog priority changes and wrote 1 escalation, skipping 0: the
    lowered priority went unaccounted."""
    page = json.loads((DATA / "issues.json").read_text())
    lowered = {"field": "priority", "fromString": "High", "toString": "Low"}
    hist = {"id": "20009", "created": "2024-01-04T12:00:00.000+0000", "items": [lowered]}
    page["issues"][0]["changelog"]["histories"].append(hist)
    assert _import(tmp_path, page) == 0
    out = capsys.readouterr().out
    assert "escalations   read         2  written         1  skipped       1" in out
    assert "not used: priority changes that raise no priority" in out


def test_a_bad_value_of_jiras_csv_export_is_named_by_its_column(tmp_path, capsys):
    """Errors about a CSV export's values named the API's path (fields.created), a column the
    file does not have."""
    path = tmp_path / "Jira.csv"
    path.write_text(
        "Summary,Issue key,Created,Status,Custom field (Organizations)\n"
        "X,H-1,garbage,Open,Acme\nY,H-2,03/Jan/24 8:15 AM,Weird,Acme\n"
    )
    args = ["import", "jira", f"issues={path}", "--out", str(tmp_path / "o")]
    assert main([*args, "--params", "params.yaml"]) == 1
    err = capsys.readouterr().err
    assert "jira issues / Created / Jira.csv line 2 (key=H-1) / date_format" in err
    assert "jira issues / Status / Jira.csv line 3 (key=H-2) / unknown_value: 'Weird'" in err


def test_an_issue_raised_since_opened_keeps_no_target_of_the_raised_priority(tmp_path):
    """HELP-1 was opened Medium and raised to High at 11:00, after its first response: written
    as P3 (the priority it was opened with), it kept the resolution target JSM had set anew for
    High, so a snapshot before the raise saw a P3 issue past a P2 deadline. A cycle still
    running at the change now leaves the target to the contract's SLA policy for P3; the first
    response, done before the change, keeps its own."""
    page = json.loads((DATA / "issues.json").read_text())
    one = page["issues"][0]
    one["fields"]["priority"] = {"name": "High", "id": "2"}
    start = _at("2024-01-03T09:15:00.000+0100")
    one["fields"]["customfield_10030"] = _sla(
        "Time to first response",
        {"startTime": start, "stopTime": _at("2024-01-03T11:30:00.000+0100"),
         "breachTime": _at("2024-01-03T17:15:00.000+0100")},
    )  # fmt: skip
    one["fields"]["customfield_10031"] = _sla(
        "Time to resolution",
        {"startTime": start, "stopTime": _at("2024-01-05T12:00:00.000+0100"),
         "breachTime": _at("2024-01-03T17:15:00.000+0100")},
    )  # fmt: skip
    assert _import(tmp_path, page) == 0
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert t.loc["HELP-1", "priority"] == "P3"
    assert t.loc["HELP-1", "sla_first_response_hours"] == 8
    assert pd.isna(t.loc["HELP-1", "sla_resolution_hours"])


def test_a_german_jiras_month_names_are_read(tmp_path, capsys):
    """A German Jira writes its CSV export's dates with German month names (07/Dez/26 9:15 AM;
    Java's older Mrz and vorm./nachm., its newer Dez. and März): each was refused as unreadable,
    asking for a numeric format. Now read as the English ones are; a month name of another
    language is refused with its column, line and what to export instead."""
    path = tmp_path / "Jira.csv"
    path.write_text(
        "Summary,Issue key,Created,Resolved,Status,Custom field (Organizations)\n"
        "A,H-1,07/Dez/26 9:15 AM,08/Dez./26 2:30 PM,Done,Acme\n"
        "B,H-2,07/Mär/26 9:15 AM,,Open,Acme\n"
        "C,H-3,07/Mrz/26 9:15 vorm.,09/Okt/26 1:05 nachm.,Done,Acme\n"
        "D,H-4,07/Mai/26 14:15,,Open,Acme\n"
        "E,H-5,7. März 2026 08:00,,Open,Acme\n"
    )
    args = ["import", "jira", f"issues={path}", "--out", str(tmp_path / "o")]
    assert main([*args, "--params", "params.yaml"]) == 0
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    at = {k: str(v) for k, v in t["created_at"].items()}
    assert at == {
        "H-1": "2026-12-07 09:15:00+00:00",
        "H-2": "2026-03-07 09:15:00+00:00",
        "H-3": "2026-03-07 09:15:00+00:00",
        "H-4": "2026-05-07 14:15:00+00:00",
        "H-5": "2026-03-07 08:00:00+00:00",
    }
    assert t.loc["H-1", "resolved_at"] == pd.Timestamp("2026-12-08 14:30", tz="UTC")
    assert t.loc["H-3", "resolved_at"] == pd.Timestamp("2026-10-09 13:05", tz="UTC")
    path.write_text(
        "Summary,Issue key,Created,Status,Custom field (Organizations)\n"
        "A,H-1,07/déc./26 9:15 AM,Open,Acme\n"
    )
    assert main([*args, "--params", "params.yaml"]) == 1
    err = capsys.readouterr().err
    assert "jira issues / Created / Jira.csv line 2 (key=H-1) / date_format" in err
    assert "month names are read in English and German only" in err
    assert "add it to importers.date_formats (e.g. %d.%m.%y %H:%M)" in err
