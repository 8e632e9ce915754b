"""ServiceNow exports as users save them: values instead of display values, companies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from serving.cli import main


def _import(tmp_path: Path, incidents: str, companies: str) -> int:
    (tmp_path / "incident.csv").write_text(incidents)
    (tmp_path / "core_company.csv").write_text(companies)
    files = [f"incidents={tmp_path / 'incident.csv'}", f"companies={tmp_path / 'core_company.csv'}"]
    return main(["import", "servicenow", *files, "--out", str(tmp_path / "o"), "--params", "params.yaml"])  # fmt: skip


COMPANIES = (
    "sys_id,name,sys_created_on,u_tier,u_arr\n"
    "a1b2c3d4e5f60718293a4b5c6d7e8f90,Acme Logistics GmbH,2023-03-01 09:00:00,enterprise,120000\n"
    "b1b2c3d4e5f60718293a4b5c6d7e8f91,Globex Retail,2023-06-15 12:30:00,business,30000\n"
)


def test_incidents_naming_their_company_by_sys_id_join_the_companies_export(tmp_path):
    """A list exported with values (or the Table API without display values) names the
    company by its sys_id: each became an account of its own (tier and ARR from the defaults)
    beside the named company of core_company.csv, which then had no incidents at all."""
    incidents = (
        "number,opened_at,company,caller_id,priority,state,sys_updated_on\n"
        "INC0010001,2026-11-03 08:15:00,a1b2c3d4e5f60718293a4b5c6d7e8f90,681ccaf9c0a8,2,2,2026-11-04 17:00:00\n"
        "INC0010002,2026-11-08 09:00:00,Globex Retail,681ccaf9c0a9,4,3,2026-11-09 14:30:00\n"
    )  # fmt: skip
    assert _import(tmp_path, incidents, COMPANIES) == 0
    accounts = pd.read_parquet(tmp_path / "o" / "accounts.parquet").set_index("account_id")
    assert sorted(accounts.index) == ["Acme Logistics GmbH", "Globex Retail"]
    assert accounts.loc["Acme Logistics GmbH", "arr"] == 120000
    tickets = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert tickets.loc["INC0010001", "account_id"] == "Acme Logistics GmbH"


def test_an_excel_export_with_labels_is_read_in_english_and_through_incident_fields(
    tmp_path, capsys
):
    """ServiceNow's Excel export heads its columns with labels (Opened, State, Assignment group;
    a German user's: Eröffnet, Status), and so does it saved as CSV: refused ("required field
    'opened_at' not found") with no setting to name them, as Salesforce's and HubSpot's have."""
    (tmp_path / "en.csv").write_text(
        "Number,Opened,Short description,Caller,Priority,State,Company,Updated,Resolved,"
        "Assignment group\n"
        "INC0010001,2026-11-03 08:15:00,Sync,Ops,1 - Critical,Resolved,Acme,"
        "2026-11-04 17:00:00,2026-11-04 16:00:00,Service Desk\n"
    )
    main(["import", "servicenow", f"incidents={tmp_path / 'en.csv'}", "--out", str(tmp_path / "en"), "--params", "params.yaml"])  # fmt: skip
    t = pd.read_parquet(tmp_path / "en" / "tickets.parquet").iloc[0]
    assert (t["priority"], t["status"], t["sn_group"]) == ("P1", "solved", "Service Desk")
    assert t["resolved_at"] == pd.Timestamp("2026-11-04 16:00", tz="UTC")

    data = yaml.safe_load(Path("params.yaml").read_text())
    sn = data["importers"]["servicenow"]
    sn["incident_fields"] = {"ticket_id": "Nummer", "created_at": "Eröffnet", "state": "Status",
                             "priority": "Priorität", "company": "Unternehmen",
                             "resolved_at": "Gelöst", "updated_at": "Aktualisiert"}  # fmt: skip
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    (tmp_path / "de.csv").write_text(
        "sep=;\nNummer;Eröffnet;Priorität;Status;Unternehmen;Aktualisiert;Gelöst\n"
        "INC0010001;03.11.2026 08:15:00;1 - Kritisch;Gelöscht;Acme;04.11.2026 17:00:00;\n"
    )
    args = ["import", "servicenow", f"incidents={tmp_path / 'de.csv'}", "--out"]
    assert main([*args, str(tmp_path / "de"), "--params", str(tmp_path / "params.yaml")]) == 1
    said = capsys.readouterr()
    out = said.out + said.err  # told by the file's column name
    assert "servicenow incidents / Status / de.csv line 2 / unknown_value: 'Gelöscht'" in out


def test_an_incident_without_a_company_whose_caller_becomes_an_account_is_reported(
    tmp_path, capsys
):
    """An incident with an empty company is counted to its caller (a person) as an account of
    its own, with default tier and ARR, beside the real customers: that happened unreported."""
    incidents = (
        "number,opened_at,company,caller_id,priority,state,sys_updated_on\n"
        "INC0010001,2026-11-03 08:15:00,Globex Retail,Buyer Globex,2,2,2026-11-04 17:00:00\n"
        "INC0010002,2026-11-08 09:00:00,,Lone Caller,4,3,2026-11-09 14:30:00\n"
    )
    assert _import(tmp_path, incidents, COMPANIES) == 0
    out = capsys.readouterr().out
    assert "1 incident has no company: its caller_id is taken as the account" in out
    assert "(INC0010002)" in out


def test_a_task_sla_export_gives_first_response_times_and_targets(tmp_path, capsys):
    """ServiceNow keeps response and resolution SLAs in task_sla; the import had no place for
    them, so no incident had a first response and the first-response SLA features were left
    out. The first response SLA not cancelled (a priority change cancels one and attaches
    another) ends at the first response; its planned end less its start is the target."""
    incidents = (
        "number,opened_at,company,priority,state,sys_updated_on\n"
        "INC0010001,2026-11-03 08:15:00,Globex Retail,2,2,2026-11-04 17:00:00\n"
        "INC0010002,2026-11-08 09:00:00,Globex Retail,4,2,2026-11-09 14:30:00\n"
    )
    (tmp_path / "task_sla.csv").write_text(
        "task,sla,stage,start_time,end_time,planned_end_time\n"
        "INC0010001,Priority 3 response (8 hours),Cancelled,2026-11-03 08:15:00,2026-11-03 09:00:00,2026-11-03 16:15:00\n"
        "INC0010001,Priority 2 response (4 hours),Completed,2026-11-03 08:15:00,2026-11-03 10:00:00,2026-11-03 12:15:00\n"
        "INC0010001,Priority 2 resolution (2 business days),Completed,2026-11-03 08:15:00,,2026-11-05 08:15:00\n"
        "INC0010002,Priority 4 response (1 day),In progress,2026-11-08 09:00:00,,2026-11-09 09:00:00\n"
        "INC0099999,Priority 1 response (15 minutes),Completed,2026-11-01 09:00:00,2026-11-01 09:05:00,2026-11-01 09:15:00\n"
    )  # fmt: skip
    (tmp_path / "incident.csv").write_text(incidents)
    (tmp_path / "core_company.csv").write_text(COMPANIES)
    files = [str(tmp_path / f) for f in ("incident.csv", "core_company.csv", "task_sla.csv")]
    assert main(["import", "servicenow", *files, "--out", str(tmp_path / "o"), "--params", "params.yaml"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "slas          read         5  written         3  skipped       2" in out
    assert "e.g. task_sla.csv line 6 (task=INC0099999)" in out
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert t.loc["INC0010001", "first_response_at"] == pd.Timestamp("2026-11-03 10:00", tz="UTC")
    assert t.loc["INC0010001", "sla_first_response_hours"] == 4
    assert t.loc["INC0010001", "sla_resolution_hours"] == 48
    assert pd.isna(t.loc["INC0010002", "first_response_at"])
    assert t.loc["INC0010002", "sla_first_response_hours"] == 24


def test_incidents_without_a_task_sla_export_say_the_first_response_features_are_left_out(
    tmp_path, capsys
):
    incidents = (
        "number,opened_at,company,priority,state\nINC1,2026-11-03 08:15:00,Globex Retail,2,2\n"
    )
    assert _import(tmp_path, incidents, COMPANIES) == 0
    assert "no first response time for any incident: export task_sla" in capsys.readouterr().out


def test_a_file_whose_name_merely_holds_sla_is_not_taken_for_task_sla(tmp_path):
    from features.importers.readers import assign_inputs
    from features.importers.servicenow import DESCRIBE, REQUIRED, ROLES

    files = [str(tmp_path / "incidents_translated.csv"), str(tmp_path / "task_sla.csv")]
    parts = assign_inputs(files, ROLES, REQUIRED, "servicenow", DESCRIBE)
    assert [p.name for p in parts["incidents"]] == ["incidents_translated.csv"]
    assert [p.name for p in parts["slas"]] == ["task_sla.csv"]


def test_task_sla_rows_naming_their_incident_by_sys_id_are_matched(tmp_path, capsys):
    """task_sla exported with values names its task by the incident's sys_id: every row was
    skipped as of an incident not imported."""
    (tmp_path / "incident.csv").write_text(
        "number,sys_id,opened_at,company,priority,state\n"
        "INC0010001,9d385017c611228701d22104cc95c371,2026-11-03 08:15:00,Globex Retail,2,2\n"
    )
    (tmp_path / "core_company.csv").write_text(COMPANIES)
    (tmp_path / "task_sla.csv").write_text(
        "task,sla,stage,start_time,end_time,planned_end_time\n"
        "9d385017c611228701d22104cc95c371,P2 response,completed,2026-11-03 08:15:00,"
        "2026-11-03 10:00:00,2026-11-03 12:15:00\n"
    )
    files = [str(tmp_path / f) for f in ("incident.csv", "core_company.csv", "task_sla.csv")]
    assert main(["import", "servicenow", *files, "--out", str(tmp_path / "o"), "--params", "params.yaml"]) == 0  # fmt: skip
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert t.loc["INC0010001", "first_response_at"] == pd.Timestamp("2026-11-03 10:00", tz="UTC")


def test_assignment_groups_of_no_level_are_reported(tmp_path, capsys):
    """Groups exported as sys_ids (or named otherwise than in servicenow.group_levels) have no
    level: no reassignment was an escalation, and nothing said so."""
    incidents = (
        "number,opened_at,company,priority,state,sys_updated_on,assignment_group\n"
        "INC1,2026-11-03 08:15:00,Globex Retail,3,2,2026-11-03 08:15:00,8a5055c9c61122780043563ef53438e3\n"
        "INC1,2026-11-03 08:15:00,Globex Retail,3,2,2026-11-03 09:15:00,287ebd7da9fe198100f92cc8d1d2154e\n"
    )  # fmt: skip
    assert _import(tmp_path, incidents, COMPANIES) == 0
    out = capsys.readouterr().out
    assert "no assignment group of the export has a level in servicenow.group_levels" in out
    assert "'8a5055c9c61122780043563ef53438e3'" in out


def test_an_incident_raised_since_opened_keeps_the_targets_of_its_opening_priority(tmp_path):
    """An incident opened P3 and raised to P1 is written as P3 (the priority it was opened
    with), but took the targets of the P1 SLAs attached at the raise: a snapshot before the
    raise saw a P3 ticket four hours old past its resolution target, the raise leaking back."""
    incidents = (
        "number,opened_at,company,priority,state,sys_updated_on\n"
        "INC0010001,2026-11-03 08:15:00,Globex Retail,3,2,2026-11-03 08:15:00\n"
        "INC0010001,2026-11-03 08:15:00,Globex Retail,1,2,2026-11-04 17:00:00\n"
        "INC0010002,2026-11-08 09:00:00,Globex Retail,1,2,2026-11-09 14:30:00\n"
    )
    (tmp_path / "task_sla.csv").write_text(
        "task,sla,stage,start_time,end_time,planned_end_time\n"
        "INC0010001,Priority 1 response (1 hour),Completed,2026-11-03 08:15:00,2026-11-04 17:30:00,2026-11-03 09:15:00\n"
        "INC0010001,Priority 3 response (8 hours),Cancelled,2026-11-03 08:15:00,2026-11-04 17:00:00,2026-11-03 16:15:00\n"
        "INC0010001,Priority 3 resolution (3 days),Cancelled,2026-11-03 08:15:00,2026-11-04 17:00:00,2026-11-06 08:15:00\n"
        "INC0010001,Priority 1 resolution (4 hours),In progress,2026-11-03 08:15:00,,2026-11-03 12:15:00\n"
        "INC0010002,Priority 1 response (1 hour),Completed,2026-11-08 09:00:00,2026-11-08 09:30:00,2026-11-08 10:00:00\n"
        "INC0010002,Priority 1 resolution (4 hours),In progress,2026-11-08 09:00:00,,2026-11-08 13:00:00\n"
    )  # fmt: skip
    (tmp_path / "incident.csv").write_text(incidents)
    (tmp_path / "core_company.csv").write_text(COMPANIES)
    files = [str(tmp_path / f) for f in ("incident.csv", "core_company.csv", "task_sla.csv")]
    assert main(["import", "servicenow", *files, "--out", str(tmp_path / "o"), "--params", "params.yaml"]) == 0  # fmt: skip
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    raised, kept = t.loc["INC0010001"], t.loc["INC0010002"]
    assert raised["priority"] == "P3"
    assert (raised["sla_first_response_hours"], raised["sla_resolution_hours"]) == (8, 72)
    assert raised["first_response_at"] == pd.Timestamp("2026-11-04 17:30", tz="UTC")
    assert (kept["sla_first_response_hours"], kept["sla_resolution_hours"]) == (1, 4)


def test_an_export_headed_in_another_language_names_the_setting_for_its_columns(tmp_path, capsys):
    """A German user's export (`Nummer`, `Schlüssel`) was refused with "required field 'number'
    not found" and nothing said that servicenow.incident_fields (jira.csv_columns) is where
    its columns are named, nor under which field."""
    (tmp_path / "incident.csv").write_text(
        "Nummer,Eröffnet,Priorität,Status,Unternehmen\nINC1,03.11.2026 08:15:00,1,Neu,Acme\n"
    )
    (tmp_path / "jira.csv").write_text("Schlüssel,Erstellt,Status\nHELP-1,03.11.26 08:15,Offen\n")
    for kind, part, said in (
        ("servicenow", "incidents=", "importers.servicenow.incident_fields (ticket_id: <column>)"),
        ("jira", "", "importers.jira.csv_columns (key: <column>)"),
    ):
        path = tmp_path / ("incident.csv" if kind == "servicenow" else "jira.csv")
        args = ["import", kind, f"{part}{path}", "--out", str(tmp_path / kind)]
        assert main([*args, "--params", "params.yaml"]) == 1
        err = capsys.readouterr().err
        assert said in err, err


def test_table_api_times_with_display_values_are_read_as_their_utc_value(tmp_path):
    """The Table API with sysparm_display_value=all gives a time as {"display_value": the
    caller's wall time, "value": UTC}: the display value was read in naive_time_zone (set for
    the list exports of a Berlin team), so an API user in another zone moved every time by the
    zones' difference. Now the value is read, as UTC, whatever naive_time_zone says; a date
    (glide_date) is its day."""
    data = yaml.safe_load(Path("params.yaml").read_text())
    data["importers"]["naive_time_zone"] = "Europe/Berlin"
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(data, allow_unicode=True))

    def at(shown: str, utc: str) -> dict:  # the caller's zone is New York
        return {"display_value": shown, "value": utc}

    incidents = pd.DataFrame(
        {
            "number": ["INC1", "INC1"],
            "company": [{"display_value": "Acme", "value": "a1", "link": "x"}] * 2,
            "opened_at": [at("2026-11-03 03:15:00", "2026-11-03 08:15:00")] * 2,
            "sys_updated_on": [
                at("2026-11-03 03:15:00", "2026-11-03 08:15:00"),
                at("2026-11-04 12:00:00", "2026-11-04 17:00:00"),
            ],
            "resolved_at": [at("", ""), at("2026-11-04 12:00:00", "2026-11-04 17:00:00")],
            "priority": [at("3 - Moderate", "3")] * 2,
            "incident_state": [at("In Progress", "2"), at("Resolved", "6")],
        }
    )
    incidents.to_parquet(tmp_path / "incident.parquet")
    companies = pd.DataFrame(
        {
            "name": ["Acme"],
            "sys_created_on": [at("2023-02-28 19:30:00", "2023-03-01 00:30:00")],
            "u_contract_start": [at("Mar 1, 2023", "2023-03-01")],
        }
    )
    companies.to_parquet(tmp_path / "core_company.parquet")
    files = [f"incidents={tmp_path / 'incident.parquet'}",
             f"companies={tmp_path / 'core_company.parquet'}"]  # fmt: skip
    assert main(["import", "servicenow", *files, "--out", str(tmp_path / "o"),
                 "--params", str(params)]) == 0  # fmt: skip
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").iloc[0]
    assert t["created_at"] == pd.Timestamp("2026-11-03 08:15", tz="UTC")
    assert t["resolved_at"] == pd.Timestamp("2026-11-04 17:00", tz="UTC")
    a = pd.read_parquet(tmp_path / "o" / "accounts.parquet").iloc[0]
    assert a["contract_start"] == pd.Timestamp("2023-03-01", tz="UTC")
