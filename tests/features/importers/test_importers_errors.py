"""One test per error class: each is a message naming what to fix, exit status 1, no traceback."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from features.errors import UserError
from serving.cli import main
from serving.params import parse_params

DATA = Path(__file__).resolve().parents[2] / "data" / "importers"
ZD = DATA / "zendesk"


def zendesk(tmp_path: Path, tickets: Path, orgs: Path = ZD / "organizations.json") -> int:
    return main(
        [
            "import",
            "zendesk",
            f"tickets={tickets}",
            f"organizations={orgs}",
            "--out",
            str(tmp_path / "out"),
        ]
    )


def tickets_file(tmp_path: Path, records: list[dict], name: str = "t.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def ticket(**kw) -> dict:
    base = {
        "id": 1,
        "organization_id": 361,
        "created_at": "2024-01-03T08:15:00Z",
        "updated_at": "2024-01-03T09:00:00Z",
        "priority": "high",
        "status": "open",
        "via": {"channel": "email"},
        "subject": "s",
        "description": "d",
        "tags": [],
    }
    return {**base, **kw}


def test_missing_required_field_names_field_and_export(tmp_path, capsys):
    rec = ticket()
    del rec["created_at"]
    assert zendesk(tmp_path, tickets_file(tmp_path, [ticket(id=1), rec])) == 1
    err = capsys.readouterr().err
    assert "t.jsonl, line 2: required field 'created_at'" in err  # JSON lines count lines
    assert "Zendesk tickets export" in err
    assert "Traceback" not in err


def test_a_missing_field_in_a_json_document_names_its_record(tmp_path, capsys):
    """A JSON document counts records, JSON lines count lines: both said "record"."""
    rec = ticket(id=2)
    del rec["created_at"]
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"tickets": [ticket(id=1), rec]}, indent=1))
    assert zendesk(tmp_path, path) == 1
    assert "t.json, record 2: required field 'created_at'" in capsys.readouterr().err


def test_missing_required_column_in_csv(tmp_path, capsys):
    src = (DATA / "servicenow" / "incident_audit.csv").read_text().splitlines()
    bad = tmp_path / "incident.csv"
    bad.write_text("\n".join(line.replace("opened_at", "opened_on", 1) for line in src))
    assert main(["import", "servicenow", str(bad), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "'opened_at'" in err and "ServiceNow incident export" in err


def test_unparseable_date_names_row_and_column(tmp_path, capsys):
    path = tickets_file(tmp_path, [ticket(id=1), ticket(id=2, created_at="next Tuesday-ish")])
    assert zendesk(tmp_path, path) == 1
    err = capsys.readouterr().err
    assert "zendesk tickets / created_at / t.jsonl line 2 / date_format" in err
    assert "next Tuesday-ish" in err


def test_a_contract_violation_refuses_the_import_before_anything_is_written(tmp_path, capsys):
    path = tickets_file(tmp_path, [ticket(id=1), ticket(id=2, created_at="1989-01-03")])
    assert zendesk(tmp_path, path) == 1
    err = capsys.readouterr().err
    assert "tickets / created_at / t.jsonl line 2 (ticket_id=2) / date_range" in err
    # checked before anything is written: the folder is as it was (here: not there)
    assert "nothing written" in err and not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".import-*"))


def test_tickets_of_no_known_organization_are_kept_out_and_named(tmp_path, capsys):
    """A ticket of an organization the organizations export lacks (deleted since, or created
    after that export) refused the whole import as a foreign_key violation: it belongs to no
    account the import knows. Now kept out like a ticket of no organization, and both reasons
    are counted with the first tickets named by file and line, to look them up."""
    records = [
        ticket(id=1),
        ticket(id=2, organization_id=999),
        ticket(id=3, organization_id=None),
        ticket(id=4, organization_id=999),
    ]
    assert zendesk(tmp_path, tickets_file(tmp_path, records)) == 0
    out = capsys.readouterr().out
    assert "read         4  written         1  skipped       3" in out
    assert "skipped 2: organization not in the organizations export" in out
    assert "e.g. t.jsonl line 2 (ticket_id=2, organization_id=999); t.jsonl line 4" in out
    assert "skipped 1: no account reference (organization_id is empty)" in out
    assert "e.g. t.jsonl line 3 (ticket_id=3)" in out
    import pandas as pd

    tickets = pd.read_parquet(tmp_path / "out" / "tickets.parquet")
    assert tickets["ticket_id"].tolist() == ["1"]


def test_tickets_of_no_known_organization_are_named_in_german_too(tmp_path, capsys):
    path = tickets_file(tmp_path, [ticket(id=1), ticket(id=2, organization_id=999)])
    args = ["import", "zendesk", f"tickets={path}", f"organizations={ZD / 'organizations.json'}"]
    assert main([*args, "--out", str(tmp_path / "o"), "--lang", "de"]) == 0
    out = capsys.readouterr().out
    assert "übersprungen 1: Organisation fehlt im Organisations-Export" in out
    assert "z. B. t.jsonl Zeile 2 (ticket_id=2, organization_id=999)" in out


def test_a_valid_import_says_so_and_a_refused_one_keeps_the_folder(tmp_path, capsys):
    assert zendesk(tmp_path, tickets_file(tmp_path, [ticket(id=1)])) == 0
    assert "out: valid (" in capsys.readouterr().out
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    bad = tickets_file(tmp_path, [ticket(id=1), ticket(id=2, created_at="1989-01-03")], "bad.jsonl")
    assert zendesk(tmp_path, bad) == 1
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before


def test_unknown_priority_value_names_the_params_key(tmp_path, capsys):
    path = tickets_file(tmp_path, [ticket(id=1, priority="critical-ish")])
    assert zendesk(tmp_path, path) == 1
    err = capsys.readouterr().err
    assert "unknown_value" in err and "importers.zendesk.priority_map" in err


def test_an_unknown_priority_is_not_also_reported_as_missing(tmp_path, capsys):
    """An unmapped value is told as its `unknown_value` error: the report's note about
    priorities missing from the export (given importers.default_priority) counts only those."""
    records = [ticket(id=1, priority="critical-ish"), ticket(id=2, priority=None), ticket(id=3)]
    assert zendesk(tmp_path, tickets_file(tmp_path, records)) == 1
    captured = capsys.readouterr()
    assert "unknown_value" in captured.err
    assert "priority missing on 1 ticket;" in captured.out
    assert "priority missing on 2 tickets" not in captured.out


def test_a_refused_import_does_not_report_its_rows_as_written(tmp_path, capsys):
    """The report of a refused import said "written 1" above "nothing written": its rows are
    those it would write (in German too)."""
    path = tickets_file(tmp_path, [ticket(id=1, created_at="1989-01-03T08:15:00Z")])
    assert zendesk(tmp_path, path) == 1
    out = capsys.readouterr().out
    assert "read         1  would write         1  skipped       0" in out
    assert " written " not in out
    args = ["import", "zendesk", f"tickets={path}", f"organizations={ZD / 'organizations.json'}"]
    assert main([*args, "--out", str(tmp_path / "o"), "--lang", "de"]) == 1
    out = capsys.readouterr().out
    assert "gelesen         1  zu schreiben         1  übersprungen       0" in out
    assert " geschrieben " not in out


def test_an_import_of_no_tickets_does_not_report_its_accounts_as_written(tmp_path, capsys):
    """A helpdesk export that leaves no ticket is refused, organizations and all: the report
    said "accounts ... written 1" above the refusal."""
    path = tickets_file(tmp_path, [ticket(id=1, organization_id=None)])
    assert zendesk(tmp_path, path) == 1
    captured = capsys.readouterr()
    assert "no tickets to import" in captured.err
    assert "would write         0" in captured.out and " written " not in captured.out
    assert not (tmp_path / "out").exists()


def test_empty_file(tmp_path, capsys):
    empty = tmp_path / "tickets.json"
    empty.write_text("")
    assert zendesk(tmp_path, empty) == 1
    assert "empty file" in capsys.readouterr().err
    csv = tmp_path / "incident.csv"
    csv.write_text("")
    assert main(["import", "servicenow", str(csv), "--out", str(tmp_path / "o")]) == 1
    assert "empty file" in capsys.readouterr().err


def test_bad_json_line_names_its_line_number(tmp_path, capsys):
    path = tmp_path / "tickets.jsonl"
    path.write_text(
        json.dumps(ticket(id=1)) + "\n" + json.dumps(ticket(id=2)) + "\n" + '{"id": 3, "status": \n'
    )
    assert zendesk(tmp_path, path) == 1
    err = capsys.readouterr().err
    assert "line 3 is not valid JSON" in err


def test_missing_part_of_the_export(tmp_path, capsys):
    shutil.copy(ZD / "tickets.json", tmp_path / "tickets.json")
    assert (
        main(["import", "zendesk", str(tmp_path / "tickets.json"), "--out", str(tmp_path / "o")])
        == 1
    )
    assert "zendesk import needs organizations" in capsys.readouterr().err


def test_file_whose_part_cannot_be_told(tmp_path, capsys):
    other = tmp_path / "export.json"
    other.write_text("{}")
    assert main(["import", "zendesk", str(other), "--out", str(tmp_path / "o")]) == 1
    assert "PART=PATH" in capsys.readouterr().err


def test_params_map_pointing_outside_the_contract(tmp_path, params, capsys):
    import yaml

    data = yaml.safe_load(Path("params.yaml").read_text())
    data["importers"]["zendesk"]["priority_map"]["urgent"] = "P0"
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump(data))
    code = main(
        [
            "import",
            "zendesk",
            f"tickets={ZD / 'tickets.json'}",
            f"organizations={ZD / 'organizations.json'}",
            "--out",
            str(tmp_path / "o"),
            "--params",
            str(p),
        ]
    )
    assert code == 1
    assert "importers.zendesk.priority_map: maps to ['P0'], not in contract.priorities" in (
        capsys.readouterr().err
    )


def test_an_import_with_settings_built_in_code_checks_them_too(params, tmp_path):
    """Settings not loaded from a file (a notebook's model_copy) meet the same check, before
    any file is read."""
    from features.importers.kinds import run_import

    bad = params.importers.model_copy(update={"escalation_level": "tier1"})
    with pytest.raises(UserError, match=r"importers\.escalation_level: 'tier1' is not in contract"):
        run_import("zendesk", [str(tmp_path / "absent.json")], bad, params.contract)


def test_unknown_time_zone_in_params_names_the_key():
    import yaml

    data = yaml.safe_load(Path("params.yaml").read_text())
    data["importers"]["naive_time_zone"] = "Mars/Olympus"
    with pytest.raises(UserError, match="importers.naive_time_zone"):
        parse_params(data)


def test_signals_of_one_update_merge_at_their_highest_level():
    """A priority raise (L1) and a reassignment to engineering (L3) in the same update are one
    escalation, at L3, with both reasons."""
    import pandas as pd

    from features.importers.common import dedupe_escalations

    at = pd.Timestamp("2024-01-03 10:00", tz="UTC")
    esc = pd.DataFrame(
        [
            {"ticket_id": "T-1", "account_id": "A", "opened_at": at, "kind": "hierarchical",
             "level": "L1", "reason": "priority raised"},
            {"ticket_id": "T-1", "account_id": "A", "opened_at": at, "kind": "functional",
             "level": "L3", "reason": "reassigned to Engineering"},
        ]
    )  # fmt: skip
    one = dedupe_escalations(esc, levels=("L1", "L2", "L3"))
    assert len(one) == 1 and one.loc[0, "level"] == "L3" and one.loc[0, "kind"] == "functional"
    assert one.loc[0, "reason"] == "priority raised; reassigned to Engineering"


@pytest.mark.parametrize("content", ["[]", '{"tickets": [], "end_of_stream": true}'])
def test_an_export_without_tickets_says_so(tmp_path, capsys, content):
    empty = tmp_path / "tickets.json"
    empty.write_text(content)
    assert zendesk(tmp_path, empty) == 1
    err = capsys.readouterr().err
    assert "tickets.json: no tickets to import" in err and "internal error" not in err


def test_an_export_whose_tickets_are_all_skipped_says_so(tmp_path, capsys):
    path = tickets_file(
        tmp_path, [ticket(id=1, organization_id=None), ticket(id=2, status="deleted")]
    )
    assert zendesk(tmp_path, path) == 1
    assert "no tickets to import; all 2 records read were skipped" in capsys.readouterr().err


def test_an_export_without_organizations_says_so(tmp_path, capsys):
    orgs = tmp_path / "organizations.json"
    orgs.write_text('{"organizations": []}')
    assert zendesk(tmp_path, tickets_file(tmp_path, [ticket(id=1)]), orgs) == 1
    assert "organizations.json: no organizations to import" in capsys.readouterr().err


def test_a_time_zone_abbreviation_is_refused_not_dropped(tmp_path, capsys):
    """pandas would drop "EST" and read the wall time in importers.naive_time_zone: 5 hours off."""
    path = tickets_file(
        tmp_path, [ticket(id=1), ticket(id=2, created_at="2024-01-03 14:03:00 EST")]
    )
    assert zendesk(tmp_path, path) == 1
    err = capsys.readouterr().err
    assert "zendesk tickets / created_at / t.jsonl line 2 / date_format" in err
    assert "time zone abbreviation is ambiguous" in err and "FutureWarning" not in err


def test_a_jira_error_names_the_issue_key(tmp_path, capsys):
    """Pages of a Jira export number their issues from 1 each: the key says which issue (a page
    saved on one line, as json.dumps writes it, is a document: its issues are counted)."""
    data = json.loads((DATA / "jira" / "issues.json").read_text())
    data["issues"][0]["fields"]["priority"] = {"name": "Hoch"}
    page = tmp_path / "page2.json"
    page.write_text(json.dumps(data))
    assert main(["import", "jira", f"issues={page}", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    key = data["issues"][0]["key"]
    said = (
        f"jira issues / fields.priority / page2.json record 1 (key={key}) / unknown_value: 'Hoch'"
    )
    assert said in err
    assert "escrisk validate" not in err  # the rows are the export's, not a source's


def test_a_csv_in_another_code_page_is_named_and_read_with_the_setting(tmp_path, capsys):
    """Excel and Salesforce write Western code pages: said with the way out, then read."""
    import yaml

    text = (DATA / "servicenow" / "incident_audit.csv").read_text(encoding="utf-8")
    src = tmp_path / "incident.csv"
    src.write_bytes(text.replace("Sync jobs failing", "Sync – Störung").encode("cp1252"))
    assert main(["import", "servicenow", str(src), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "not utf-8 text (byte 0x96" in err and "importers.csv_encoding" in err
    data = yaml.safe_load(Path("params.yaml").read_text())
    data["importers"]["csv_encoding"] = "cp1252"
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(data))
    args = [
        "import",
        "servicenow",
        str(src),
        "--out",
        str(tmp_path / "o2"),
        "--params",
        str(params),
    ]
    assert main(args) == 0
    import pandas as pd

    tickets = pd.read_parquet(tmp_path / "o2" / "tickets.parquet")
    assert "Sync – Störung" in set(tickets["subject"])


def test_an_unreadable_account_date_is_named_not_filled_in(tmp_path, capsys):
    """Salesforce read its accounts last and never reported their date violations: 'not a date'
    became an empty contract start, then silently the first ticket's day."""
    sf = DATA.parent / "importers" / "salesforce"
    rows = (sf / "Account.csv").read_text().splitlines()
    rows[1] = rows[1].replace('"2022-03-01"', '"not a date"', 1)
    accounts = tmp_path / "Account.csv"
    accounts.write_text("\n".join(rows) + "\n")
    args = ["import", "salesforce", f"accounts={accounts}", f"cases={sf / 'Case.csv'}"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    # the header is line 1, as a spreadsheet shows it
    assert (
        "accounts / contract_start / Account.csv line 2 / date_format: cannot read 'not a date'"
        in err
    )
    assert not (tmp_path / "o").exists()


def test_a_closed_ticket_without_a_resolution_date_takes_its_last_update(tmp_path, capsys):
    """Jira workflows without a resolution screen leave resolutiondate empty on done issues, and
    HubSpot may leave Close date empty: one such ticket refused the whole export."""
    import pandas as pd

    data = json.loads((DATA / "jira" / "issues.json").read_text())
    done = data["issues"][0]["fields"]
    done["resolutiondate"], done["updated"] = None, "2024-01-05T10:00:00.000+0000"
    page = tmp_path / "issues.json"
    page.write_text(json.dumps(data))
    assert main(["import", "jira", f"issues={page}", "--out", str(tmp_path / "j")]) == 0
    from features.sources import read_tables

    tickets = read_tables(str(tmp_path / "j"))["tickets"]
    first = tickets.set_index("ticket_id").loc[data["issues"][0]["key"], "resolved_at"]
    assert pd.Timestamp(first) == pd.Timestamp("2024-01-05T10:00:00Z")
    assert "taken from updated_at" in capsys.readouterr().out

    hub = tmp_path / "hub"
    shutil.copytree(DATA / "hubspot", hub)
    t = pd.read_csv(hub / "tickets.csv", dtype=str, keep_default_na=False)
    t["Last modified date"] = "2024-01-06 09:00"
    t.loc[0, "Close date"] = ""  # a Closed ticket
    t.to_csv(hub / "tickets.csv", index=False)
    args = [f"tickets={hub / 'tickets.csv'}", f"companies={hub / 'companies.csv'}"]
    assert main(["import", "hubspot", *args, "--out", str(tmp_path / "h")]) == 0, (
        capsys.readouterr()
    )


def test_a_semicolon_csv_in_another_code_page_is_split_on_its_semicolons(tmp_path, capsys):
    """German Excel saves CSV with semicolons in cp1252: an umlaut anywhere near the top made
    the delimiter sniffer fail to decode and fall back to commas, so 'CaseNumber' was 'not found'."""
    import pandas as pd
    import yaml

    text = (DATA / "servicenow" / "incident_audit.csv").read_text(encoding="utf-8")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame["short_description"] = "Störung beim Login"
    src = tmp_path / "incident.csv"
    src.write_bytes(frame.to_csv(index=False, sep=";").encode("cp1252"))
    data = yaml.safe_load(Path("params.yaml").read_text())
    data["importers"]["csv_encoding"] = "cp1252"
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(data))
    args = ["import", "servicenow", str(src), "--out", str(tmp_path / "o"), "--params", str(params)]
    assert main(args) == 0, capsys.readouterr().err
    tickets = pd.read_parquet(tmp_path / "o" / "tickets.parquet")
    assert set(tickets["subject"]) == {"Störung beim Login"}


def test_a_csv_with_a_utf8_byte_order_mark_is_utf8_whatever_csv_encoding_says(tmp_path, capsys):
    """With importers.csv_encoding cp1252 (for the CRM's files), a HubSpot export saved as UTF-8
    with a byte-order mark was decoded as cp1252: 'required field Ticket ID not found', the
    header showing 'ï»¿Ticket ID', and every umlaut garbled."""
    import pandas as pd
    import yaml

    src = tmp_path / "hs"
    src.mkdir()
    for name in ("tickets.csv", "companies.csv"):
        text = (DATA / "hubspot" / name).read_text(encoding="utf-8")
        (src / name).write_bytes(b"\xef\xbb\xbf" + text.replace("Sync jobs", "Störung").encode())
    data = yaml.safe_load(Path("params.yaml").read_text())
    data["importers"]["csv_encoding"] = "cp1252"
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(data))
    args = ["import", "hubspot", str(src / "tickets.csv"), str(src / "companies.csv")]
    assert main([*args, "--out", str(tmp_path / "o"), "--params", str(params)]) == 0, (
        capsys.readouterr().err
    )
    tickets = pd.read_parquet(tmp_path / "o" / "tickets.parquet")
    assert "Störung failing" in set(tickets["subject"])


def _edited(src: Path, out: Path, old: str, new: str, insert: str | None = None) -> Path:
    """A copy of a fixture export with one value changed (and a line inserted after the header)."""
    text = src.read_text(encoding="utf-8")
    assert old in text
    lines = text.replace(old, new, 1).splitlines()
    if insert is not None:
        lines.insert(1, insert)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def test_contract_errors_of_a_csv_import_name_the_file_and_its_line(tmp_path, capsys):
    """A contract violation named the row of the built table ("tickets / row 1"), which the
    user never sees (a refused import writes nothing) and which differs from the file's once a
    row is skipped: now the file and its line, the header being line 1."""
    sf = DATA / "salesforce"
    cases = _edited(
        sf / "Case.csv",
        tmp_path / "Case.csv",
        '"2024-01-03T08:15:00.000+0000"',
        '"1989-01-03T08:15:00.000+0000"',
        insert='"5005g00000Aa000","00001000","","","2024-01-02T08:00:00.000+0000","","Low",'
        '"New","Email","no account","","false","false","",""',  # skipped: no AccountId
    )
    accounts = _edited(sf / "Account.csv", tmp_path / "Account.csv", '"40"', '"0"')
    args = ["import", "salesforce", f"accounts={accounts}", f"cases={cases}"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert (
        "tickets / created_at / Case.csv line 3 (ticket_id=00001001) / date_range: "
        "1989-01-03 08:15:00+00:00 is before contract.min_date" in err
    )
    assert "accounts / seats / Account.csv line 3 (account_id=0015g00000GlobAAA) / range" in err


@pytest.mark.parametrize(
    ("kind", "part", "fixture", "old", "new", "insert", "expected"),
    [
        (
            "hubspot",
            "tickets",
            "hubspot/tickets.csv",
            "2024-01-03 08:15,2024-01-04 17:00",
            "2024-01-03 08:15,2024-01-02 17:00",
            "7000,no company,,Support Pipeline,New,LOW,EMAIL,2024-01-02 08:00,,,,",
            "tickets / resolved_at / tickets.csv line 3 (ticket_id=7001) / order",
        ),
        (
            "servicenow",
            "incidents",
            "servicenow/incident_audit.csv",
            "2024-01-04 17:00:00,2024-01-04 17:00:00,,",
            "2024-01-04 17:00:00,2024-01-02 17:00:00,,",
            None,
            "tickets / resolved_at / incident_audit.csv line 4 (ticket_id=INC0010001) / order",
        ),
        (
            "jira",
            "issues",
            "jira/issues.json",
            '"created": "2024-01-03T08:15:00.000+0000", "resolutiondate"',
            '"created": "1989-01-03T08:15:00.000+0000", "resolutiondate"',
            None,
            "tickets / created_at / issues.json record 1 (ticket_id=HELP-1) / date_range",
        ),
    ],
)
def test_contract_errors_of_each_import_name_the_file_and_its_place(
    kind, part, fixture, old, new, insert, expected, tmp_path, capsys
):
    src = DATA / fixture
    edited = _edited(src, tmp_path / src.name, old, new, insert)
    others = {"hubspot": [f"companies={DATA / 'hubspot' / 'companies.csv'}"]}.get(kind, [])
    args = ["import", kind, f"{part}={edited}", *others, "--out", str(tmp_path / "o")]
    assert main(args) == 1
    assert expected in capsys.readouterr().err


def test_contract_errors_of_a_json_lines_import_name_the_file_and_its_line(tmp_path, capsys):
    records = [
        ticket(id=1),
        ticket(id=9, organization_id=None),  # skipped: no organization
        ticket(id=2, created_at="1989-01-03T08:15:00Z"),
    ]
    assert zendesk(tmp_path, tickets_file(tmp_path, records)) == 1
    err = capsys.readouterr().err
    assert "tickets / created_at / t.jsonl line 3 (ticket_id=2) / date_range" in err


def test_an_importer_error_names_the_file_of_an_export_in_several_files(tmp_path, capsys):
    """An importer's own errors said "row 1" of no file: with the tickets in two files, which?
    Now the file and its line, as contract violations of the built tables say."""
    first = tickets_file(tmp_path, [ticket(id=1), ticket(id=2)], "t1.jsonl")
    second = tickets_file(tmp_path, [ticket(id=3, priority="urgent-ish")], "t2.jsonl")
    args = ["import", "zendesk", f"tickets={first}", f"tickets={second}"]
    args += [f"organizations={ZD / 'organizations.json'}", "--out", str(tmp_path / "o")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "zendesk tickets / priority / t2.jsonl line 1 / unknown_value: 'urgent-ish'" in err


def test_an_audit_date_error_names_the_audits_file_and_record(tmp_path, capsys):
    """Ticket audits carried no origin: their date errors named a row of no file."""
    data = json.loads((ZD / "ticket_audits.json").read_text())
    data["audits"][1]["created_at"] = "soon"
    audits = tmp_path / "ticket_audits.json"
    audits.write_text(json.dumps(data, indent=1))  # a JSON document: its records are counted
    args = ["import", "zendesk", str(ZD / "tickets.json"), str(ZD / "organizations.json")]
    assert main([*args, f"ticket_audits={audits}", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "zendesk ticket_audits / created_at / ticket_audits.json record 2 / date_format" in err


def test_a_usage_count_error_in_parquet_names_the_file_and_row(tmp_path, capsys):
    """A Parquet file has no header line: its rows are counted from 1."""
    import pandas as pd

    events = tmp_path / "events.parquet"
    daily = {"user_id": ["u-1", "u-3"], "date": ["2024-01-05"] * 2, "event_count": ["4", "x"]}
    pd.DataFrame(daily).to_parquet(events)
    users = DATA / "usage_events" / "users.csv"
    args = ["import", "usage-events", f"users={users}", f"events={events}"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "usage events / event_count / events.parquet row 2 / type: not a whole number" in err


def test_an_import_warns_of_tickets_outside_the_contract_as_validate_does(tmp_path, capsys):
    """`escrisk validate` warns of a ticket before its account's contract_start (a pilot, or a
    wrong start date); the import that wrote it said nothing. Now the same warning, in the
    import's language, its example named by the file and line."""
    orgs = tmp_path / "organizations.json"
    org = {"id": 361, "name": "Acme", "organization_fields": {"contract_start": "2024-01-05"}}
    orgs.write_text(json.dumps({"organizations": [org]}))
    path = tickets_file(tmp_path, [ticket(id=1, created_at="2024-01-06T08:00:00Z"), ticket(id=2)])
    for lang, said in (
        ("en", "warning: tickets.created_at: 1 row(s) dated before their account's"),
        ("de", "Warnung: tickets.created_at: 1 Zeile(n) vor dem contract_start"),
    ):
        out = tmp_path / lang
        args = ["import", "zendesk", f"tickets={path}", f"organizations={orgs}"]
        assert main([*args, "--out", str(out), "--lang", lang]) == 0
        printed = capsys.readouterr().out
        assert said in printed
        line = {"en": "line", "de": "Zeile"}[lang]
        assert (
            f"  tickets / t.jsonl {line} 2 (account_id=361) / created_at 2024-01-03 08:15"
            in printed
        )


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (  # an importer's own violation, at a line of JSON lines
            ["zendesk", "tickets={t}", f"organizations={ZD / 'organizations.json'}"],
            "zendesk tickets / priority / t.jsonl Zeile 1 / unknown_value",
        ),
        (  # a contract violation, at a record of a JSON document
            ["jira", "issues={j}"],
            "tickets / created_at / issues.json Datensatz 1 (ticket_id=HELP-1) / date_range",
        ),
        (  # at a row of a Parquet file
            ["usage-events", f"users={DATA / 'usage_events' / 'users.csv'}", "events={p}"],
            "usage events / event_count / events.parquet Zeile 2 / type: ",
        ),
    ],
)
def test_the_place_of_a_violation_is_told_in_the_imports_language(argv, said, tmp_path, capsys):
    """`import --lang de` said "t.jsonl line 1", "issues.json record 1", "events.parquet row 2"
    in German reports, and the whole violation report in English."""
    import pandas as pd

    t = tickets_file(tmp_path, [ticket(id=1, priority="urgent-ish")])
    j = _edited(DATA / "jira" / "issues.json", tmp_path / "issues.json", '"created": "2024-01-03T08:15:00.000+0000", "resolutiondate"', '"created": "1989-01-03T08:15:00.000+0000", "resolutiondate"', None)  # fmt: skip
    p = tmp_path / "events.parquet"
    daily = {"user_id": ["u-1", "u-3"], "date": ["2024-01-05"] * 2, "event_count": ["4", "x"]}
    pd.DataFrame(daily).to_parquet(p)
    args = ["import", *(a.format(t=t, j=j, p=p) for a in argv), "--out", str(tmp_path / "o")]
    assert main([*args, "--lang", "de"]) == 1
    assert said in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kind", "inputs", "fixture", "insert", "example"),
    [
        (
            "salesforce",
            [f"accounts={DATA / 'salesforce' / 'Account.csv'}"],
            "salesforce/Case.csv",
            '"5005g00000Aa000","00001000","","","2024-01-02T08:00:00.000+0000","","Low",'
            '"New","Email","no account","","false","false","",""',
            "Case.csv {line} 2 (ticket_id=00001000)",
        ),
        (
            "hubspot",
            [f"companies={DATA / 'hubspot' / 'companies.csv'}"],
            "hubspot/tickets.csv",
            "7000,no company,,Support Pipeline,New,LOW,EMAIL,2024-01-02 08:00,,,,",
            "tickets.csv {line} 2 (ticket_id=7000)",
        ),
        (
            "servicenow",
            [],
            "servicenow/incident_audit.csv",
            "INC0000001,,,2024-01-02 08:00:00,2024-01-02 08:00:00,,,3 - Moderate,2 - Medium,"
            "2 - Medium,1,0,0,true,Service Desk,email,no account,none",
            "incident_audit.csv {line} 2 (ticket_id=INC0000001)",
        ),
    ],
)
def test_rows_skipped_for_no_account_are_named_in_both_languages(
    kind, inputs, fixture, insert, example, tmp_path, capsys
):
    """Only the Zendesk import named a few of the records it skipped for having no account: a
    user of the other exports could not look them up."""
    src = DATA / fixture
    edited = _edited(src, tmp_path / src.name, "\n", "\n", insert)
    part = {"salesforce": "cases", "hubspot": "tickets", "servicenow": "incidents"}[kind]
    for lang, said, line in (("en", "e.g.", "line"), ("de", "z. B.", "Zeile")):
        args = ["import", kind, f"{part}={edited}", *inputs, "--out", str(tmp_path / lang)]
        assert main([*args, "--lang", lang]) == 0
        assert f"{said} {example.format(line=line)}" in capsys.readouterr().out


def test_jira_issues_skipped_for_no_account_are_named(tmp_path, capsys):
    data = json.loads((DATA / "jira" / "issues.json").read_text())
    lost = json.loads(json.dumps(data["issues"][0]))
    lost["key"] = "HELP-0"
    lost["fields"].pop("customfield_10002")
    data["issues"].insert(1, lost)
    issues = tmp_path / "issues.json"
    issues.write_text(json.dumps(data, indent=1))
    for lang, said in (("en", "e.g. issues.json record 2 (key=HELP-0)"), ("de", "z. B. issues.json Datensatz 2 (key=HELP-0)")):  # fmt: skip
        args = ["import", "jira", f"issues={issues}", "--out", str(tmp_path / lang)]
        assert main([*args, "--lang", lang]) == 0
        assert said in capsys.readouterr().out


def test_the_imports_own_lines_follow_its_language(tmp_path, capsys):
    """ "nothing written; ..." and "no accounts/tickets yet" were English in a German import."""
    bad = tickets_file(tmp_path, [ticket(id=1, created_at="1989-01-03T08:15:00Z")])
    args = ["import", "zendesk", f"tickets={bad}", f"organizations={ZD / 'organizations.json'}"]
    assert main([*args, "--out", str(tmp_path / "o"), "--lang", "de"]) == 1
    assert "o: nichts geschrieben; der Import verstößt gegen den Datenvertrag:" in (
        capsys.readouterr().err
    )
    users = DATA / "usage_events" / "users.csv"
    events = DATA / "usage_events" / "amplitude_daily.csv"
    args = ["import", "usage-events", f"users={users}", f"events={events}", "--lang", "de"]
    assert main([*args, "--out", str(tmp_path / "u")]) == 0
    assert (
        "u: noch keine Kunden/Tickets; einen Helpdesk- oder CRM-Export" in capsys.readouterr().out
    )


def test_an_error_in_a_minified_page_names_the_record_not_line_one(tmp_path, capsys):
    """An API page saved minified is one line: each of its records was "line 1" (JSON lines
    count lines). A file of one line is a JSON document, whose records are counted."""
    records = [ticket(id=1), ticket(id=2), ticket(id=3, priority="urgent-ish")]
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"tickets": records, "next_page": None}))  # one line
    assert zendesk(tmp_path, path) == 1
    err = capsys.readouterr().err
    assert "zendesk tickets / priority / t.json record 3 / unknown_value: 'urgent-ish'" in err


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("Case.csv.gz", None, "a gzip-compressed file; unpack it first"),
        ("Case.xlsx", b"PK\x03\x04\x14\x00\x06\x00", "an Excel workbook or a ZIP archive"),
        ("Case.json", b'[{"CaseNumber": "1"}]', "JSON, not CSV"),
    ],
)
def test_a_compressed_excel_or_json_file_for_a_csv_export_says_what_it_is(
    name, content, said, tmp_path, capsys
):
    """A gzipped CSV stopped with an internal error (csv.Error), an .xlsx was 'a CSV whose
    columns are: PK', JSON 'a CSV whose columns are: [{"CaseNumber": ...'."""
    import gzip

    sf = DATA / "salesforce"
    path = tmp_path / name
    path.write_bytes(content if content else gzip.compress((sf / "Case.csv").read_bytes()))
    args = ["import", "salesforce", f"cases={path}", f"accounts={sf / 'Account.csv'}"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert f"{path}: {said}" in err and "a Salesforce Case export (CSV)" in err
    assert "internal error" not in err


def test_an_unknown_tier_of_an_import_names_the_setting_that_maps_it(tmp_path, capsys):
    """A CRM's own tier name ("Gold") was refused with the contract's levels only; the setting
    that maps it (importers.tier_map) was left to find, in English and German."""
    sf = DATA / "salesforce"
    accounts = tmp_path / "Account.csv"
    accounts.write_text((sf / "Account.csv").read_text().replace('"Enterprise"', '"Gold"', 1))
    args = ["import", "salesforce", f"accounts={accounts}", f"cases={sf / 'Case.csv'}"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "accounts / tier / Account.csv line 2 (account_id=0015g00000AcmeAAA)" in err
    assert "'Gold' is not one of contract.tiers" in err
    assert "map the export's name to one in importers.tier_map" in err
    assert main([*args, "--out", str(tmp_path / "o"), "--lang", "de"]) == 1
    assert "den Namen des Exports in importers.tier_map einem davon zuordnen" in (
        capsys.readouterr().err
    )


def test_an_account_with_nothing_to_date_its_contract_says_what_to_export(tmp_path, capsys):
    """An account exported without a contract start or a creation date that never opened a
    case (most accounts of a CRM) was refused as two bare not_null violations of contract_start
    and renewal_date, the creation date that would stand in for it unnamed."""
    sf = DATA / "salesforce"
    cases = tmp_path / "Case.csv"
    lines = (sf / "Case.csv").read_text().splitlines()
    cases.write_text("\n".join(line for line in lines if "InitAAA" not in line) + "\n")
    args = ["import", "salesforce", f"accounts={sf / 'Account.csv'}", f"cases={cases}"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert (
        "accounts / contract_start / Account.csv line 4 (account_id=0015g00000InitAAA) / "
        "not_null: no contract start, and no creation date (CreatedDate) or ticket"
    ) in err
    assert "renewal_date" not in err


def test_an_importers_own_violations_are_told_in_the_report_language(tmp_path, capsys):
    """Unreadable times, unmapped values, bad usage counts and an undatable account were English
    inside a German refusal ('cannot read ...', 'is not a key of importers...; add it there')."""
    sf = DATA / "salesforce"
    cases = tmp_path / "Case.csv"
    text = (sf / "Case.csv").read_text().replace('"High"', '"Hoch"', 1)
    cases.write_text(text.replace("2024-01-05T09:00:00.000+0000", "gestern", 1))
    args = ["import", "salesforce", f"accounts={sf / 'Account.csv'}", f"cases={cases}"]
    assert main([*args, "--out", str(tmp_path / "o"), "--lang", "de"]) == 1
    err = capsys.readouterr().err
    assert "'Hoch' ist kein Schlüssel von importers.salesforce.priority_map; dort ergänzen" in err
    assert "'gestern' ist als Datum/Uhrzeit nicht lesbar (versucht: ISO 8601" in err
    assert "cannot read" not in err and "add it there" not in err
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "'Hoch' is not a key of importers.salesforce.priority_map; add it there" in err
    users = tmp_path / "users.csv"
    users.write_text("user_id,account_id\nu-1,361\n")
    daily = tmp_path / "daily.csv"
    daily.write_text('user_id,date,events\nu-1,2024-01-05,"12,5"\nu-1,2024-01-06,\n')
    args = ["import", "usage-events", f"users={users}", f"events={daily}", "--lang", "de"]
    assert main([*args, "--out", str(tmp_path / "u")]) == 1
    err = capsys.readouterr().err
    assert "keine ganze Zahl von Ereignissen: '12,5'" in err and "die Anzahl ist leer" in err


@pytest.mark.parametrize("shape", ["page", "array"])
def test_a_json_document_with_a_byte_order_mark_is_read(shape, tmp_path, capsys):
    """Saved by a Windows tool (PowerShell's Out-File -Encoding utf8), a tickets page began
    with a UTF-8 byte-order mark: the page was taken for one ticket without an 'id', an array
    was 'not valid JSON after record 0'."""
    data = json.loads((ZD / "tickets.json").read_text())
    doc = data if shape == "page" else data["tickets"]
    path = tmp_path / "tickets.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc, indent=1).encode())
    assert zendesk(tmp_path, path) == 0, capsys.readouterr().err


def test_a_utf16_json_export_is_refused_as_such(tmp_path, capsys):
    """Windows PowerShell 5 writes UTF-16 by default: 'not JSON (starts with b'\\xff')' left
    the cause to guess."""
    path = tmp_path / "tickets.json"
    path.write_bytes((ZD / "tickets.json").read_text().encode("utf-16"))
    assert zendesk(tmp_path, path) == 1
    assert f"{path}: UTF-16 text; save it as UTF-8" in capsys.readouterr().err


def _german_refusal(tmp_path: Path, capsys, *args: str) -> str:
    assert main(["import", *args, "--out", str(tmp_path / "o"), "--lang", "de"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_an_importers_refusals_of_a_file_are_told_in_german(tmp_path, capsys):
    """--lang de told the report in German but the refusals of a file (not found, empty, not
    JSON, a missing column) in English."""
    accounts = DATA / "salesforce" / "Account.csv"
    err = _german_refusal(
        tmp_path, capsys, "salesforce", f"cases={tmp_path / 'nope.csv'}", f"accounts={accounts}"
    )
    assert "nope.csv: Datei nicht gefunden; erwartet: ein Salesforce-Export von Case (CSV)" in err
    case = tmp_path / "Case.csv"
    case.write_text((DATA / "salesforce" / "Case.csv").read_text().replace("CaseNumber", "Fall"))
    err = _german_refusal(tmp_path, capsys, "salesforce", str(case), str(accounts))
    assert "Case.csv: Pflichtfeld 'CaseNumber' nicht gefunden (auch gesucht: 'Case Number')" in err
    assert "; ihre Spalten: Id, Fall, AccountId" in err
    empty = tmp_path / "tickets.json"
    empty.write_text("")
    err = _german_refusal(tmp_path, capsys, "zendesk", str(empty), str(ZD / "organizations.json"))
    assert "tickets.json: leere Datei; erwartet: ein Zendesk-Export der Tickets" in err
    err = _german_refusal(tmp_path, capsys, "zendesk", str(ZD / "tickets.json"))
    assert "der zendesk-Import braucht organizations: das Organisations-JSON" in err
    lines = tickets_file(tmp_path, [ticket(id=1)], "tickets.jsonl")
    lines.write_text(lines.read_text() + "[1]\n")
    err = _german_refusal(tmp_path, capsys, "zendesk", str(lines), str(ZD / "organizations.json"))
    assert "tickets.jsonl: Zeile 2 ist ein JSON-list, kein Objekt" in err
    rec = ticket(id=2)
    del rec["created_at"]
    lines = tickets_file(tmp_path, [ticket(id=1), rec], "tickets.jsonl")
    err = _german_refusal(tmp_path, capsys, "zendesk", str(lines), str(ZD / "organizations.json"))
    assert "tickets.jsonl, Zeile 2: Pflichtfeld 'created_at' nicht gefunden" in err


def test_a_mistyped_or_folder_input_is_named_not_an_internal_error(tmp_path, capsys):
    """A Zendesk tickets path with a typo, an optional part that does not exist, a folder of
    the export given whole or as a part: each was "internal error (FileNotFoundError ...)" or
    "cannot tell which part" of a folder."""
    orgs = str(ZD / "organizations.json")
    told = {
        (str(tmp_path / "nope" / "tickets.json"), orgs): "tickets.json: file not found; "
        "expected a Zendesk tickets export",
        (str(ZD / "tickets.json"), f"ticket_audits={tmp_path / 'a.json'}", orgs): "a.json: file "
        "not found; expected a Zendesk ticket audits export",
        (str(ZD),): f"{ZD}: a folder; give the zendesk export's files themselves",
        (f"tickets={ZD}", orgs): f"{ZD}: a folder; give the zendesk export's files themselves",
    }
    for inputs, message in told.items():
        assert main(["import", "zendesk", *inputs, "--out", str(tmp_path / "o")]) == 1
        err = capsys.readouterr().err
        assert message in err and "internal error" not in err, err
    assert "ein Ordner" in _german_refusal(tmp_path, capsys, "zendesk", str(ZD))


def test_an_out_folder_under_a_file_is_refused_not_an_internal_error(tmp_path, capsys):
    """--out export.json/data (a file on the way) was "internal error (FileExistsError)"."""
    inputs = [str(ZD / "tickets.json"), str(ZD / "organizations.json")]
    out = tmp_path / "export.json" / "data" / "o"
    out.parent.parent.write_text("{}")
    assert main(["import", "zendesk", *inputs, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{out}: cannot create the output folder" in err and "internal error" not in err
    # and in German with --lang de
    assert main(["import", "zendesk", *inputs, "--out", str(out), "--lang", "de"]) == 1
    assert f"{out}: Der Ausgabeordner kann nicht angelegt werden" in capsys.readouterr().err


def test_an_import_into_a_read_only_place_is_refused_not_an_internal_error(
    tmp_path, capsys, monkeypatch
):
    """A read-only mount: the staging copy beside --out was "internal error (OSError)"."""
    import errno

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("tempfile.TemporaryDirectory", read_only)
    inputs = [str(ZD / "tickets.json"), str(ZD / "organizations.json")]
    assert main(["import", "zendesk", *inputs, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "o: cannot write the tables there (Read-only file system)" in err
    german = _german_refusal(tmp_path, capsys, "zendesk", *inputs)
    assert "o: Die Tabellen können dort nicht geschrieben werden (Read-only file system)" in german


def test_an_importers_refusals_stay_english_by_default(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    accounts = DATA / "salesforce" / "Account.csv"
    assert (
        main(["import", "salesforce", f"cases={missing}", f"accounts={accounts}", "--out", "o"])
        == 1
    )
    err = capsys.readouterr().err
    assert f"{missing}: file not found; expected a Salesforce Case export (CSV)" in err


def test_an_importers_own_errors_and_the_contracts_are_told_in_one_run(tmp_path, capsys):
    """An unknown priority stopped the import before the contract check: a case opened in 2099
    was told only once the priority was fixed. Both now; a date the importer could not read is
    not told again as a missing value."""
    case = (DATA / "salesforce" / "Case.csv").read_text()
    case = case.replace('"Low","New"', '"Hoch","New"').replace(
        "1/8/2024 9:00 AM", "1/8/2099 9:00 AM"
    )
    case = case.replace("2024-01-11T16:20:00.000+0000", "gestern", 1)
    case = case.replace("2024-01-03T08:15:00.000+0000", "morgen", 1)  # an escalated case
    path = tmp_path / "Case.csv"
    path.write_text(case)
    accounts = DATA / "salesforce" / "Account.csv"
    out = tmp_path / "o"
    assert main(["import", "salesforce", str(path), str(accounts), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "salesforce cases / Priority / Case.csv line 3 / unknown_value: 'Hoch'" in err
    assert "tickets / created_at / Case.csv line 4 (ticket_id=00001003) / date_range" in err
    assert (
        "salesforce cases / CreatedDate / Case.csv line 6 / date_format: cannot read 'gestern'"
        in err
    )
    assert "CreatedDate / Case.csv line 2 / date_format: cannot read 'morgen'" in err
    assert "not_null" not in err and "4 data contract violations" in err.replace("(s)", "s")
    assert not out.exists()


@pytest.mark.parametrize("shape", ["page", "lines"])
def test_json_in_a_windows_code_page_is_named_as_such(shape, tmp_path, capsys):
    """An ö written as cp1252's 0xf6 stopped the import with the parser's bytes ("not valid JSON
    after record 0 (b'lexical error: invalid bytes in UTF8 string.\\n ...')")."""
    records = [ticket(id=1), ticket(id=2, subject="Störung")]
    text = (
        json.dumps({"tickets": records}, ensure_ascii=False, indent=1)
        if shape == "page"
        else "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    )
    path = tmp_path / "tickets.json"
    path.write_bytes(text.encode("cp1252"))
    offset = path.read_bytes().index(b"\xf6")
    assert zendesk(tmp_path, path) == 1
    err = capsys.readouterr().err
    assert f"tickets.json: not UTF-8 text (byte 0xf6 at offset {offset}); JSON is read" in err
    assert "b'" not in err and "Traceback" not in err


def test_a_jira_status_of_no_map_and_no_category_names_the_map(tmp_path, capsys):
    """Without statusCategory (a hand-made or trimmed export) an unmapped status left the ticket
    without one, told as "tickets / status / not_null: value is missing"."""
    data = json.loads((DATA / "jira" / "issues.json").read_text())
    data["issues"][1]["fields"]["status"] = {"name": "Komisch"}
    page = tmp_path / "issues.json"
    page.write_text(json.dumps(data, indent=1))
    assert main(["import", "jira", f"issues={page}", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    key = data["issues"][1]["key"]
    assert (
        f"jira issues / fields.status / issues.json record 2 (key={key}) / unknown_value: "
        "'Komisch' is not a key of importers.jira.status_map" in err
    )
    assert "not_null" not in err


def test_a_refused_close_time_is_not_told_again_as_a_closed_ticket_without_one(tmp_path, capsys):
    tickets = (DATA / "hubspot" / "tickets.csv").read_text()
    path = tmp_path / "tickets.csv"
    path.write_text(tickets.replace("2024-01-04 17:00", "2024-02-30 17:00", 1))
    companies = DATA / "hubspot" / "companies.csv"
    assert main(["import", "hubspot", str(path), str(companies), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "Close date / tickets.csv line 2 / date_format: cannot read '2024-02-30 17:00'" in err
    assert "closed_unresolved" not in err


def test_an_events_export_without_events_is_refused_not_written_as_no_usage(tmp_path, capsys):
    """A per-day CSV with only its header stopped the import with an internal error (KeyError:
    'user'); events none of which map to an account wrote an empty usage table, "valid"."""
    users = DATA / "usage_events" / "users.csv"
    header = tmp_path / "events.csv"
    header.write_text("user_id,date,events\n")
    out = tmp_path / "o"
    args = ["import", "usage-events", f"events={header}", f"users={users}", "--out", str(out)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "events.csv: no events to import" in err and "internal error" not in err
    nobody = tmp_path / "users.csv"
    nobody.write_text("user_id,account_id\n")
    events = DATA / "usage_events" / "segment_events.jsonl"
    args = ["import", "usage-events", f"events={events}", f"users={nobody}", "--out", str(out)]
    assert main([*args, "--lang", "de"]) == 1
    err = capsys.readouterr().err
    assert "segment_events.jsonl: keine Ereignisse zu importieren" in err
    assert "; alle 6 gelesenen Datensätze wurden übersprungen" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("kind", "part", "others"),
    [
        ("salesforce", "cases", ["accounts=salesforce/Account.csv"]),
        ("hubspot", "tickets", ["companies=hubspot/companies.csv"]),
        ("servicenow", "incidents", []),
    ],
)
def test_an_export_with_only_its_header_is_refused_not_written_as_no_tickets(
    kind, part, others, tmp_path, capsys
):
    """A Case or tickets export with only its header was written, replacing the folder's
    tickets with none, and called valid; ServiceNow's said its company column was missing."""
    source = {
        "salesforce": "salesforce/Case.csv",
        "hubspot": "hubspot/tickets.csv",
        "servicenow": "servicenow/incident_audit.csv",
    }[kind]
    header = tmp_path / Path(source).name
    header.write_text((DATA / source).read_text().splitlines()[0] + "\n")
    rest = [f"{o.split('=')[0]}={DATA / o.split('=')[1]}" for o in others]
    out = tmp_path / "o"
    assert main(["import", kind, f"{part}={header}", *rest, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{header.name}: no tickets to import" in err and "not found" not in err
    assert not out.exists()


def test_jira_issues_all_of_no_organization_are_refused_with_the_count(tmp_path, capsys):
    data = json.loads((DATA / "jira" / "issues.json").read_text())
    for issue in data["issues"]:
        issue["fields"] = {
            k: v for k, v in issue["fields"].items() if k not in ("customfield_10002", "customer")
        }
    page = tmp_path / "issues.json"
    page.write_text(json.dumps(data, indent=1))
    assert main(["import", "jira", f"issues={page}", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    n = len(data["issues"])
    assert f"issues.json: no tickets to import; all {n} records read were skipped" in err
    assert "empty_table" not in err


def test_a_utf16_csv_export_is_refused_as_such(tmp_path, capsys):
    """Excel's "Unicode text" (UTF-16) was told "not utf-8 text (byte 0xff at offset 0) ... set
    importers.csv_encoding (e.g. cp1252 ...)": a code page would not read it either."""
    text = (DATA / "hubspot" / "tickets.csv").read_text().replace(",", "\t")
    path = tmp_path / "tickets.csv"
    path.write_bytes(text.encode("utf-16"))
    companies = DATA / "hubspot" / "companies.csv"
    assert main(["import", "hubspot", str(path), str(companies), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "tickets.csv: UTF-16 text" in err and "save it as CSV UTF-8" in err
    assert "cp1252" not in err


def test_an_import_that_leaves_nothing_shows_why_its_records_were_skipped(tmp_path, capsys):
    """ "no tickets to import; all 2 records read were skipped" left the user to guess why: the
    report with each reason is shown before the refusal."""
    path = tickets_file(
        tmp_path, [ticket(id=1, organization_id=None), ticket(id=2, status="deleted")]
    )
    assert main(["import", "zendesk", f"tickets={path}", str(ZD / "organizations.json"), "--out",
                 str(tmp_path / "o"), "--lang", "de"]) == 1  # fmt: skip
    said = capsys.readouterr()
    assert "übersprungen 1: kein Kundenbezug (organization_id ist leer)" in said.out
    assert "übersprungen 1: Status 'deleted' steht in importers.zendesk.skip_statuses" in said.out
    assert (
        "keine Tickets zu importieren; alle 2 gelesenen Datensätze wurden übersprungen" in said.err
    )


def test_of_repeated_organizations_the_most_recently_updated_is_kept(tmp_path, capsys, params):
    """The report said "the most recently updated is kept" but the last in the file was."""
    from features.sources import load_history

    data = json.loads((ZD / "organizations.json").read_text())
    first = data["organizations"][0]
    newer = dict(first, name="Renamed later", updated_at="2030-01-01T00:00:00Z")
    older = dict(first, name="Old name", updated_at="2001-01-01T00:00:00Z")
    data["organizations"] = [newer, *data["organizations"][1:], older]
    orgs = tmp_path / "organizations.json"
    orgs.write_text(json.dumps(data, indent=1))
    assert zendesk(tmp_path, ZD / "tickets.json", orgs) == 0
    assert "merged 1: duplicate records of the same id" in capsys.readouterr().out
    import pandas as pd

    now = pd.Timestamp("2024-06-01", tz="UTC")
    accounts = load_history(str(tmp_path / "out"), params.contract, now).accounts
    assert set(accounts.loc[accounts["account_id"] == str(first["id"]), "name"]) == {
        "Renamed later"
    }
