"""Each kind's hand-written fixtures (in the system's documented export shape) go through
`escrisk import` -> validation -> `build_features`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import yaml

from features.build import build_features
from features.sources import load_history
from serving.cli import main

DATA = Path(__file__).resolve().parents[2] / "data" / "importers"
NOW = pd.Timestamp("2024-06-01", tz="UTC")
AS_OF = pd.Timestamp("2024-01-15", tz="UTC")

INPUTS = {
    "zendesk": ["tickets.json", "organizations.json", "ticket_metrics.json", "ticket_audits.json"],
    "salesforce": ["Account.csv", "Case.csv", "CaseMilestone.csv", "CaseHistory.csv"],
    "jira": ["issues.json"],
    "servicenow": ["incident_audit.csv"],
    "hubspot": ["companies.csv", "tickets.csv"],
}


def run_import(kind: str, files: list[str], out: Path, folder: str | None = None) -> int:
    base = DATA / (folder or kind)
    return main(
        [
            "import",
            kind,
            *[f if "=" in f else str(base / f) for f in files],
            "--out",
            str(out),
            "--params",
            "params.yaml",
        ]
    )


@pytest.mark.parametrize("kind", list(INPUTS))
def test_fixture_imports_validates_and_builds_features(kind, tmp_path, params, capsys):
    assert run_import(kind, INPUTS[kind], tmp_path) == 0
    report = capsys.readouterr().out
    assert "tickets" in report and "read" in report
    history = load_history(str(tmp_path), params.contract, NOW)
    assert len(history.tickets) > 0 and len(history.accounts) > 0
    assert str(history.tickets["created_at"].dtype) == "datetime64[ns, UTC]"
    fs = build_features(history, [AS_OF], params.features)
    assert set(fs.frame["account_id"]) <= set(history.accounts["account_id"])
    assert len(fs.frame) > 0


def test_the_report_is_in_the_language_asked_for(tmp_path, capsys):
    files = [str(DATA / "zendesk" / f) for f in INPUTS["zendesk"]]
    assert main(["import", "zendesk", *files, "--out", str(tmp_path), "--lang", "de"]) == 0
    assert "gelesen" in capsys.readouterr().out


def test_zendesk_mapping(tmp_path, params, capsys):
    assert run_import("zendesk", INPUTS["zendesk"], tmp_path) == 0
    report = capsys.readouterr().out
    h = load_history(str(tmp_path), params.contract, NOW)
    t = h.tickets.set_index("ticket_id")
    # 1004 is deleted, 1006 has no organization: both skipped and reported; 1003 appears twice.
    assert sorted(t.index) == ["1001", "1002", "1003", "1005"]
    assert (
        "status 'deleted'" in report
        and "organization_id is empty" in report
        and "duplicate records" in report
    )
    assert t.loc["1002", "created_at"] == pd.Timestamp(
        "2024-01-05 09:00", tz="UTC"
    )  # +01:00 normalised
    # the later record of 1003 wins, but its priority is the one it was opened with: its raise
    # to urgent on 10 January is an escalation, which a snapshot before it must not see
    assert t.loc["1003", "priority"] == "P3"
    assert "2 tickets keep the priority they were opened with" in report
    day = pd.Timestamp("2024-01-10", tz="UTC")  # the escalation is opened that day, at 12:00
    frame = build_features(h, [day], params.features).frame.set_index("account_id")
    assert frame.loc["362", "tickets_open_p1"] == 0
    assert frame.loc["362", "sla_first_response_breaches_p1_30d"] == 0
    assert t.loc["1005", "priority"] == "P3"  # no priority: importers.default_priority
    assert t.loc["1001", "first_response_at"] == pd.Timestamp("2024-01-03 09:00", tz="UTC")
    assert (
        t.loc["1001", "reopen_count"] == 1
        and t.loc["1001", "csat"] == 1
        and t.loc["1002", "csat"] == 5
    )
    assert t.loc["1001", "zendesk_custom_360001"] == "integration"  # unknown fields kept
    e = h.escalations
    assert e is not None
    # The tag and the priority raise of 1001 happened in one audit: one escalation, dated by the audit.
    assert sorted(e["ticket_id"]) == ["1001", "1003"]
    assert e.set_index("ticket_id").loc["1001", "opened_at"] == pd.Timestamp(
        "2024-01-03 11:00", tz="UTC"
    )
    a = h.accounts.set_index("account_id")
    assert a.loc["361", "tier"] == "enterprise" and a.loc["363", "tier"] == "business"  # default
    assert "tier taken from importers.account_defaults for 1 of 3" in report


def test_salesforce_mapping(tmp_path, params):
    assert run_import("salesforce", INPUTS["salesforce"], tmp_path) == 0
    h = load_history(str(tmp_path), params.contract, NOW)
    t = h.tickets.set_index("ticket_id")
    assert t.loc["00001003", "created_at"] == pd.Timestamp(
        "2024-01-08 09:00", tz="UTC"
    )  # report format
    # opened Medium, raised to High two hours later (CaseHistory): the raise is its escalation
    assert t.loc["00001001", "priority"] == "P3"
    assert (
        t.loc["00001001", "sla_first_response_hours"] == 1.0
    )  # from the milestone, not the policy
    assert t.loc["00001001", "first_response_at"] == pd.Timestamp("2024-01-03 09:00", tz="UTC")
    assert t.loc["00001005", "priority"] == "P1"
    e = h.escalations.set_index("ticket_id")
    assert sorted(e.index) == ["00001001", "00001005"]
    assert e.loc["00001001", "opened_at"] == pd.Timestamp(
        "2024-01-03 10:00", tz="UTC"
    )  # CaseHistory


def test_salesforce_business_hours_milestone_is_met_at_salesforces_deadline(tmp_path, params):
    """An entitlement with business hours (Mon-Fri 9-17) counts TargetResponseInMins in business
    minutes: 960 for two working days. A case opened Friday 09:00 is due Monday 17:00, as
    TargetDate says; read as 16 clock hours it was breached on Saturday 01:00, though answered
    Monday 10:00 within the SLA (IsViolated false)."""
    sf = tmp_path / "in"
    sf.mkdir()
    for name in ("Account.csv", "Case.csv"):
        (sf / name).write_bytes((DATA / "salesforce" / name).read_bytes())
    (sf / "CaseMilestone.csv").write_text(
        '"Id","CaseId","MilestoneType.Name","StartDate","TargetDate","CompletionDate",'
        '"TargetResponseInMins","IsCompleted","IsViolated"\n'
        '"5705g0000009","5005g00000Aa002","First Response","2024-01-05T09:00:00.000+0000",'
        '"2024-01-08T17:00:00.000+0000","2024-01-08T10:00:00.000+0000","960","true","false"\n',
        encoding="utf-8",
    )
    files = [str(sf / n) for n in ("Case.csv", "Account.csv", "CaseMilestone.csv")]
    assert run_import("salesforce", files, tmp_path / "out") == 0
    h = load_history(str(tmp_path / "out"), params.contract, NOW)
    t = h.tickets[h.tickets["ticket_id"] == "00001002"]
    assert t["sla_first_response_hours"].tolist() == [80.0]
    fs = build_features(
        replace(h, tickets=t), [pd.Timestamp("2024-01-09", tz="UTC")], params.features
    )
    row = fs.frame.set_index("account_id").loc[t["account_id"].iloc[0]]
    assert row["sla_first_response_breaches_7d"] == 0


def test_salesforce_a_milestone_started_again_keeps_the_cases_first_instance(
    tmp_path, params, capsys
):
    """A recurring milestone (or one the entitlement process started again on a reopened case)
    has one CaseMilestone per instance, in no order an export promises. The first row in the
    file was kept: a later instance listed first gave the case its re-triggered target and
    completion as its first response (2 hours, answered 10 January instead of 80 hours, answered
    8 January). The earliest StartDate is kept, and the report counts the later instances."""
    sf = tmp_path / "in"
    sf.mkdir()
    for name in ("Account.csv", "Case.csv"):
        (sf / name).write_bytes((DATA / "salesforce" / name).read_bytes())
    (sf / "CaseMilestone.csv").write_text(
        '"Id","CaseId","MilestoneType.Name","StartDate","TargetDate","CompletionDate"\n'
        '"5705g0000010","5005g00000Aa002","First Response","2024-01-10T09:00:00.000+0000",'
        '"2024-01-10T11:00:00.000+0000","2024-01-10T12:00:00.000+0000"\n'
        '"5705g0000009","5005g00000Aa002","First Response","2024-01-05T09:00:00.000+0000",'
        '"2024-01-08T17:00:00.000+0000","2024-01-08T10:00:00.000+0000"\n',
        encoding="utf-8",
    )
    files = [str(sf / n) for n in ("Case.csv", "Account.csv", "CaseMilestone.csv")]
    assert run_import("salesforce", files, tmp_path / "out") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "not used: later instances of a case's milestone" in out
    h = load_history(str(tmp_path / "out"), params.contract, NOW)
    t = h.tickets.set_index("ticket_id").loc["00001002"]
    assert t["sla_first_response_hours"] == 80.0
    assert t["first_response_at"] == pd.Timestamp("2024-01-08 10:00", tz="UTC")


def test_salesforce_minutes_without_target_date_are_no_clock_target(tmp_path, params, capsys):
    """A milestone export without StartDate/TargetDate (a report leaving them out) gives only
    TargetResponseInMins, in the entitlement's business minutes (960: two working days). It was
    written as 16 clock hours, so the case opened Friday 09:00 was breached on Saturday 01:00;
    the target is now left to the contract's policy, and the report names the case."""
    sf = tmp_path / "in"
    sf.mkdir()
    for name in ("Account.csv", "Case.csv"):
        (sf / name).write_bytes((DATA / "salesforce" / name).read_bytes())
    (sf / "CaseMilestone.csv").write_text(
        '"Id","CaseId","MilestoneType.Name","CompletionDate","TargetResponseInMins"\n'
        '"5705g0000009","5005g00000Aa002","First Response","2024-01-08T10:00:00.000+0000","960"\n',
        encoding="utf-8",
    )
    files = [str(sf / n) for n in ("Case.csv", "Account.csv", "CaseMilestone.csv")]
    assert run_import("salesforce", files, tmp_path / "out") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "1 ticket takes its SLA target from the contract's SLA policy: the export gives it only "
        "as a length in the helpdesk's business time (TargetResponseInMins), without the "
        "deadline (StartDate/TargetDate) (5005g00000Aa002)"
    ) in out
    h = load_history(str(tmp_path / "out"), params.contract, NOW)
    t = h.tickets.set_index("ticket_id").loc["00001002"]
    assert bool(t["sla_first_response_from_policy"])
    assert t["first_response_at"] == pd.Timestamp("2024-01-08 10:00", tz="UTC")


@pytest.mark.parametrize("history", [False, True])
def test_salesforce_without_escalation_times_dates_them_at_creation(tmp_path, params, history):
    """CaseHistory is optional, or may hold no IsEscalated change: escalated cases are then
    dated at their creation (and the report says so), never an error."""
    files = ["Account.csv", "Case.csv"] + (["CaseHistory.csv"] if history else [])
    if history:  # a CaseHistory with priority changes only
        src = tmp_path / "in"
        src.mkdir()
        for name in files:
            text = (DATA / "salesforce" / name).read_text(encoding="utf-8")
            if name == "CaseHistory.csv":
                text = "\n".join(x for x in text.splitlines() if "IsEscalated" not in x) + "\n"
            (src / name).write_text(text, encoding="utf-8")
        out = tmp_path / "out"
        assert (
            main(["import", "salesforce", *(str(src / f) for f in files), "--out", str(out)]) == 0
        )
    else:
        out = tmp_path
        assert run_import("salesforce", files, out) == 0
    h = load_history(str(out), params.contract, NOW)
    e = h.escalations.set_index("ticket_id")
    t = h.tickets.set_index("ticket_id")
    assert set(e.index) == {"00001001", "00001005"}  # (a priority raise may add a second)
    at_creation = e[e["opened_at"] == t.loc[e.index, "created_at"].to_numpy()]
    assert sorted(set(at_creation.index)) == ["00001001", "00001005"]  # the IsEscalated flags


def test_zendesk_tickets_the_metrics_export_left_out_fall_back_to_updated_at(
    tmp_path, params, capsys
):
    """Metrics exports omit archived tickets: their resolution time is not silently lost."""
    import json

    data = json.loads((DATA / "zendesk" / "ticket_metrics.json").read_text())
    data["ticket_metrics"] = [m for m in data["ticket_metrics"] if m["ticket_id"] != 1002]
    metrics = tmp_path / "ticket_metrics.json"
    metrics.write_text(json.dumps(data))
    files = ["tickets.json", "organizations.json", f"ticket_metrics={metrics}"]
    assert run_import("zendesk", files, tmp_path / "out") == 0
    assert "resolved_at of 1 solved/closed ticket taken from updated_at" in capsys.readouterr().out
    t = load_history(str(tmp_path / "out"), params.contract, NOW).tickets.set_index("ticket_id")
    assert pd.notna(t.loc["1002", "resolved_at"]) and pd.notna(t.loc["1001", "resolved_at"])


def test_the_text_na_in_an_export_is_text_not_missing(tmp_path, params):
    """Country/Region "NA" (North America) stays a region; only an empty cell is missing."""
    src = tmp_path / "in"
    src.mkdir()
    for name in INPUTS["hubspot"]:
        (src / name).write_bytes((DATA / "hubspot" / name).read_bytes())
    companies = (src / "companies.csv").read_text(encoding="utf-8").replace(",Germany,", ",NA,", 1)
    (src / "companies.csv").write_text(companies, encoding="utf-8")
    out = tmp_path / "out"
    files = [str(src / f) for f in INPUTS["hubspot"]]
    assert main(["import", "hubspot", *files, "--out", str(out)]) == 0
    h = load_history(str(out), params.contract, NOW)
    assert h.accounts.set_index("account_id").loc["5101", "region"] == "NA"


def test_zendesk_audits_as_json_lines_equal_the_page_document(tmp_path, params):
    """One audit record per line (each with its "events" list) reads as the same audits as the
    API's page document {"audits": [...]}."""
    import json

    src = tmp_path / "in"
    src.mkdir()
    for name in INPUTS["zendesk"]:
        (src / name).write_bytes((DATA / "zendesk" / name).read_bytes())
    audits = json.loads((src / "ticket_audits.json").read_text(encoding="utf-8"))["audits"]
    (src / "ticket_audits.json").unlink()
    lines = src / "ticket_audits.jsonl"
    lines.write_text("".join(json.dumps(a) + "\n" for a in audits), encoding="utf-8")
    files = [str(src / n) for n in INPUTS["zendesk"] if n != "ticket_audits.json"] + [str(lines)]
    assert main(["import", "zendesk", *files, "--out", str(tmp_path / "lines")]) == 0
    assert run_import("zendesk", INPUTS["zendesk"], tmp_path / "page") == 0
    a = load_history(str(tmp_path / "lines"), params.contract, NOW)
    b = load_history(str(tmp_path / "page"), params.contract, NOW)
    pd.testing.assert_frame_equal(a.escalations, b.escalations)
    pd.testing.assert_frame_equal(a.tickets, b.tickets)


def test_jira_mapping(tmp_path, params):
    assert run_import("jira", INPUTS["jira"], tmp_path) == 0
    h = load_history(str(tmp_path), params.contract, NOW)
    t = h.tickets.set_index("ticket_id")
    assert sorted(t.index) == ["HELP-1", "HELP-2", "HELP-4"]  # HELP-3 has no organization
    assert t.loc["HELP-1", "body"] == "All nightly sync jobs fail with a timeout."  # ADF to text
    assert t.loc["HELP-1", "status"] == "solved" and t.loc["HELP-2", "reopen_count"] == 1
    assert t.loc["HELP-2", "created_at"] == pd.Timestamp("2024-01-08 08:00", tz="UTC")
    assert list(h.escalations["ticket_id"]) == ["HELP-1"]
    assert set(h.accounts["name"]) == {"Acme Logistics GmbH", "Globex Retail"}
    assert t.loc["HELP-1", "jira_labels"] == "sync"  # a list field, kept as its values
    assert t.loc["HELP-1", "priority"] == "P3"  # opened Medium, raised to High (its escalation)


def test_servicenow_one_ticket_per_incident_and_escalations(tmp_path, params, capsys):
    assert run_import("servicenow", INPUTS["servicenow"], tmp_path) == 0
    assert "later audit rows of the same incident" in capsys.readouterr().out
    h = load_history(str(tmp_path), params.contract, NOW)
    t = h.tickets.set_index("ticket_id")
    assert sorted(t.index) == ["INC0010001", "INC0010002", "INC0010003", "INC0010004"]
    # opened at P3 and raised to P2 later (its escalation): the priority known from its opening
    assert t.loc["INC0010001", "status"] == "solved" and t.loc["INC0010001", "priority"] == "P3"
    assert t.loc["INC0010002", "status"] == "on_hold"
    assert t.loc["INC0010003", "account_id"] == "Lone Caller"  # no company: the caller
    assert (
        t.loc["INC0010004", "reopen_count"] == 1
        and t.loc["INC0010004", "sn_reassignment_count"] == "2"
    )
    e = h.escalations.set_index("ticket_id")
    # INC0010001: priority raise and reassignment to a higher group in one update -> one escalation.
    assert sorted(e.index) == ["INC0010001", "INC0010004"]
    assert e.loc["INC0010004", "kind"] == "functional" and e.loc["INC0010004", "level"] == "L3"
    assert h.usage is None and h.churn is None


def test_hubspot_mapping(tmp_path, params, capsys):
    assert run_import("hubspot", INPUTS["hubspot"], tmp_path) == 0
    out = capsys.readouterr().out
    assert "not available: escalations" in out
    h = load_history(str(tmp_path), params.contract, NOW)
    t = h.tickets.set_index("ticket_id")
    assert t.loc["7002", "account_id"] == "5101"  # first of several associated companies
    assert t.loc["7003", "status"] == "open" and t.loc["7001", "priority"] == "P2"
    assert h.escalations is None


def test_usage_events_aggregate_into_an_existing_import(tmp_path, params, capsys):
    assert run_import("zendesk", INPUTS["zendesk"], tmp_path) == 0
    files = (
        ["users=" + str(DATA / "usage_events" / "users.csv")]
        + [
            str(DATA / "usage_events" / f)
            for f in ("segment_events.jsonl", "mixpanel_events.jsonl")
        ]
        + ["events=" + str(DATA / "usage_events" / "amplitude_daily.csv")]
    )
    assert run_import("usage-events", files, tmp_path) == 0
    report = capsys.readouterr().out
    assert "user not in the user -> account mapping" in report and "'identify'" in report
    h = load_history(str(tmp_path), params.contract, NOW)
    u = h.usage.set_index(["account_id", "date"])
    # u-2's event at 23:30 -02:00 on Jan 3 is Jan 4 in UTC.
    assert u.loc[("361", pd.Timestamp("2024-01-04", tz="UTC")), "events"] == 1
    assert u.loc[("361", pd.Timestamp("2024-01-05", tz="UTC"))].tolist() == [2, 14]
    fs = build_features(h, [AS_OF], params.features)
    assert "usage" not in fs.unavailable


def test_a_user_mapped_to_two_accounts_is_refused(tmp_path, capsys):
    """Their events cannot be attributed; the last mapping row used to win in silence."""
    users = tmp_path / "users.csv"
    users.write_text(
        (DATA / "usage_events" / "users.csv").read_text() + "u-1,362\nu-2,361\n"  # u-2 again: same
    )
    files = [f"users={users}", "events=" + str(DATA / "usage_events" / "amplitude_daily.csv")]
    assert run_import("usage-events", files, tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert "1 user maps to more than one account" in err and "u-1 -> 361, 362" in err


def test_salesforce_maps_the_optional_crm_term_and_notice_fields(tmp_path, params):
    """A field map may bring accounts.term_months and accounts.notice_at; the notice date is read
    in the export's own date format like the other account dates."""
    src = tmp_path / "src"
    src.mkdir()
    for name in INPUTS["salesforce"]:
        (src / name).write_bytes((DATA / "salesforce" / name).read_bytes())
    accounts = pd.read_csv(src / "Account.csv", dtype=str, keep_default_na=False)
    accounts["Term__c"] = ["24", "", "36"]
    accounts["Notice_Date__c"] = ["03.01.2024", "", ""]
    accounts.to_csv(src / "Account.csv", index=False)
    raw = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
    raw["importers"]["salesforce"]["account_fields"].update(
        {"term_months": "Term__c", "notice_at": "Notice_Date__c"}
    )
    custom = tmp_path / "params.yaml"
    custom.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    files = [str(src / f) for f in INPUTS["salesforce"]]
    assert main(["import", "salesforce", *files, "--out", str(out), "--params", str(custom)]) == 0
    acc = load_history(str(out), params.contract, NOW).accounts.set_index("account_id")
    assert acc["term_months"].tolist()[::2] == [24, 36] and pd.isna(acc["term_months"].iloc[1])
    assert acc["notice_at"].iloc[0] == pd.Timestamp("2024-01-03", tz="UTC")
    assert acc["notice_at"].iloc[1:].isna().all()


def test_accounts_without_tickets_start_at_their_creation(tmp_path, params, capsys):
    """A CRM export lists accounts that never opened a case; without a contract start they take
    the account's creation date (not a not_null violation), in a data export and a report."""
    sf = tmp_path / "sf"
    sf.mkdir()
    (sf / "Case.csv").write_bytes((DATA / "salesforce" / "Case.csv").read_bytes())
    accounts = (DATA / "salesforce" / "Account.csv").read_text().splitlines()
    header = accounts[0] + ',"CreatedDate"'
    rows = [r + ',"2019-05-01T08:00:00.000+0000"' for r in accounts[1:]]
    idle = '"0015g00000IdleAAA","Idle Corp","Customer","Retail","Austria","0055g00000JWeber","Business","9000","5","","","de","2020-01-02T00:00:00.000Z"'
    (sf / "Account.csv").write_text("\n".join([header, *rows, idle]) + "\n")
    assert (
        run_import(
            "salesforce", [f"accounts={sf / 'Account.csv'}", f"cases={sf / 'Case.csv'}"], sf / "out"
        )
        == 0
    )
    a = load_history(str(sf / "out"), params.contract, NOW).accounts.set_index("account_id")
    assert a.loc["0015g00000IdleAAA", "contract_start"] == pd.Timestamp("2020-01-02", tz="UTC")
    assert a.loc["0015g00000IdleAAA", "renewal_date"] > a.loc["0015g00000IdleAAA", "contract_start"]

    # a report export: labels instead of API names, semicolons, a byte-order mark
    report = tmp_path / "report.csv"
    report.write_text(
        "\ufeffAccount ID;Account Name;Billing Country;Account Owner;Created Date;Tier;ARR\n"
        "0015g00000AcmeAAA;Acme Logistics GmbH;Germany;Jana Weber;2019-05-01;Enterprise;120000\n"
        "0015g00000GlobAAA;Globex Retail;United States;Sam Lee;2019-05-01;Business;30000\n"
        "0015g00000InitAAA;Initech AG;Germany;Jana Weber;2019-05-01;Starter;8000\n"
        "0015g00000IdleAAA;Idle Corp;Austria;Jana Weber;2020-01-02;Business;9000\n",
        encoding="utf-8",
    )
    out = tmp_path / "report-out"
    assert run_import("salesforce", [f"accounts={report}", f"cases={sf / 'Case.csv'}"], out) == 0
    a = load_history(str(out), params.contract, NOW).accounts.set_index("account_id")
    assert a.loc["0015g00000IdleAAA", "name"] == "Idle Corp"
    assert a.loc["0015g00000IdleAAA", "csm_owner"] == "Jana Weber"
    assert (
        a.loc["0015g00000AcmeAAA", "arr"] == 120000
        and a.loc["0015g00000AcmeAAA", "tier"] == "enterprise"
    )

    hs = tmp_path / "hs"
    hs.mkdir()
    companies = (DATA / "hubspot" / "companies.csv").read_text().rstrip("\n")
    (hs / "companies.csv").write_text(
        companies
        + "\n5199,Idle Corp,Jana Weber,2020-01-02 10:00,Austria,Retail,Business,9000,5,,,de\n"
    )
    (hs / "tickets.csv").write_bytes((DATA / "hubspot" / "tickets.csv").read_bytes())
    assert (
        run_import("hubspot", [str(hs / "companies.csv"), str(hs / "tickets.csv")], hs / "out") == 0
    )
    a = load_history(str(hs / "out"), params.contract, NOW).accounts.set_index("account_id")
    assert a.loc["5199", "contract_start"] == pd.Timestamp("2020-01-02", tz="UTC")


def test_jira_rich_text_keeps_line_breaks_between_words():
    """An ADF hardBreak is a line break: "Login geht nicht" and "zweite Zeile" stay two lines."""
    from features.importers.jira import _text

    adf = {"type": "doc", "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "Login geht nicht"}, {"type": "hardBreak"},
        {"type": "text", "text": "zweite Zeile"}]}]}  # fmt: skip
    assert _text(adf) == "Login geht nicht\nzweite Zeile"


def test_tier_and_language_names_of_an_export_map_to_the_contracts(tmp_path, params):
    """A CRM writes "Gold" and "German": importers.tier_map maps tiers, language names are known."""
    src = tmp_path / "src"
    src.mkdir()
    accounts = pd.read_csv(DATA / "salesforce" / "Account.csv", dtype=str, keep_default_na=False)
    accounts["Tier__c"] = ["Gold", "Silber", "Bronze"][: len(accounts)]
    accounts["Language__c"] = ["German", "English", "Deutsch"][: len(accounts)]
    accounts.to_csv(src / "Account.csv", index=False)
    (src / "Case.csv").write_bytes((DATA / "salesforce" / "Case.csv").read_bytes())
    data = yaml.safe_load(Path("params.yaml").read_text())
    data["importers"]["tier_map"] = {
        "gold": "enterprise",
        "Silber": "business",
        "bronze": "starter",
    }
    own = tmp_path / "params.yaml"
    own.write_text(yaml.safe_dump(data))
    args = ["import", "salesforce", f"accounts={src / 'Account.csv'}", f"cases={src / 'Case.csv'}"]
    assert main([*args, "--out", str(tmp_path / "out"), "--params", str(own)]) == 0
    a = load_history(str(tmp_path / "out"), params.contract, NOW).accounts
    assert a["tier"].tolist() == ["enterprise", "business", "starter"][: len(a)]
    assert a["language"].tolist() == ["de", "en", "de"][: len(a)]
    data["importers"]["tier_map"] = {"gold": "platinum"}  # not a contract tier: said at once
    own.write_text(yaml.safe_dump(data))
    assert main([*args, "--out", str(tmp_path / "out2"), "--params", str(own)]) == 1


def test_servicenow_companies_without_incidents_are_accounts(tmp_path, params):
    """A company that never opened an incident is a calm customer, not dropped in silence."""
    companies = tmp_path / "core_company.csv"
    companies.write_text(
        "name,u_tier,u_arr,sys_created_on\n"
        "Acme Logistics GmbH,enterprise,120000,2021-01-05 10:00:00\n"
        "Idle Corp,business,9000,2020-01-02 09:00:00\n"
    )
    files = [f"companies={companies}", str(DATA / "servicenow" / "incident_audit.csv")]
    assert run_import("servicenow", files, tmp_path / "out") == 0
    a = load_history(str(tmp_path / "out"), params.contract, NOW).accounts.set_index("account_id")
    assert "Idle Corp" in a.index and a.loc["Idle Corp", "tier"] == "business"
    assert a.loc["Idle Corp", "contract_start"] == pd.Timestamp("2020-01-02", tz="UTC")
    assert a.loc["Acme Logistics GmbH", "contract_start"] == pd.Timestamp("2021-01-05", tz="UTC")


def test_zendesk_keeps_tags_and_multi_select_fields_as_text(tmp_path, params):
    """Lists of values were dropped: they are kept joined by "; " (a nested value still is not)."""
    import json

    data = json.loads((DATA / "zendesk" / "tickets.json").read_text())
    first = data["tickets"][0]
    first["tags"] = ["vip", "billing"]
    first["custom_fields"] = [{"id": 777, "value": ["a", "b"]}, {"id": 778, "value": {"x": 1}}]
    tickets = tmp_path / "tickets.json"
    tickets.write_text(json.dumps(data))
    assert (
        run_import("zendesk", [f"tickets={tickets}", "organizations.json"], tmp_path / "out") == 0
    )
    t = load_history(str(tmp_path / "out"), params.contract, NOW).tickets.set_index("ticket_id")
    key = str(first["id"])
    assert t.loc[key, "zendesk_tags"] == "vip; billing"
    assert t.loc[key, "zendesk_custom_777"] == "a; b" and "zendesk_custom_778" not in t.columns


def test_locale_tags_with_either_separator_are_their_language(tmp_path, params):
    """CRMs store locales as de-AT or de_CH: 'de_CH' was refused as not a contract language
    while 'de-CH' and 'en_US' were read; an unknown language (fr-FR) is still named."""
    src = tmp_path / "src"
    src.mkdir()
    accounts = pd.read_csv(DATA / "salesforce" / "Account.csv", dtype=str, keep_default_na=False)
    accounts["Language__c"] = ["de_CH", "DE-at", "en_AU"][: len(accounts)]
    accounts.to_csv(src / "Account.csv", index=False)
    (src / "Case.csv").write_bytes((DATA / "salesforce" / "Case.csv").read_bytes())
    args = ["import", "salesforce", f"accounts={src / 'Account.csv'}", f"cases={src / 'Case.csv'}"]
    assert main([*args, "--out", str(tmp_path / "out")]) == 0
    a = load_history(str(tmp_path / "out"), params.contract, NOW).accounts
    assert a["language"].tolist() == ["de", "de", "en"][: len(a)]
    accounts["Language__c"] = "fr_FR"
    accounts.to_csv(src / "Account.csv", index=False)
    assert main([*args, "--out", str(tmp_path / "out2")]) == 1


def test_zendesk_contract_starts_from_creation_are_counted_and_take_the_earlier_ticket(
    tmp_path, params, capsys
):
    """An organization without a contract start started at its created_at without a word in
    the report, and after its first ticket when that came earlier (docs: whichever is earlier)."""
    import json

    orgs = json.loads((DATA / "zendesk" / "organizations.json").read_text())
    orgs["organizations"][2]["created_at"] = (
        "2024-02-01T08:00:00Z"  # after its ticket of 2024-01-11
    )
    path = tmp_path / "organizations.json"
    path.write_text(json.dumps(orgs))
    assert run_import("zendesk", ["tickets.json", f"organizations={path}"], tmp_path / "o") == 0
    assert "contract_start taken from the account's creation or first ticket for 3 accounts" in (
        capsys.readouterr().out
    )
    a = load_history(str(tmp_path / "o"), params.contract, NOW).accounts.set_index("account_id")
    assert a.loc["363", "contract_start"] == pd.Timestamp("2024-01-11", tz="UTC")
    assert a.loc["361", "contract_start"] == pd.Timestamp("2022-03-01", tz="UTC")


def test_zendesk_a_ticket_deleted_after_an_earlier_update_is_skipped(tmp_path, params, capsys):
    """The incremental export repeats a ticket at each update: solved, then deleted. The deleted
    record was skipped on its own and the older one imported, so a deleted ticket was scored."""
    import json

    tickets = json.loads((DATA / "zendesk" / "tickets.json").read_text())["tickets"]
    first = dict(tickets[0], status="solved", updated_at="2024-01-04T08:00:00Z")
    gone = dict(tickets[0], status="deleted", updated_at="2024-01-06T08:00:00Z")
    path = tmp_path / "tickets.jsonl"
    path.write_text("\n".join(json.dumps(t) for t in [first, *tickets[1:], gone]))
    assert run_import("zendesk", [f"tickets={path}", "organizations.json"], tmp_path / "o") == 0
    out = capsys.readouterr().out
    t = load_history(str(tmp_path / "o"), params.contract, NOW).tickets
    assert str(first["id"]) not in set(t["ticket_id"])
    # the fixture's own deleted ticket and this one; its older record and the fixture's repeat
    assert "skipped 2: status 'deleted'" in out and "merged 2: duplicate records" in out


def test_zendesk_a_ticket_merged_into_another_is_not_a_ticket_of_its_own(tmp_path, params, capsys):
    """Zendesk closes a ticket merged into another with the tag closed_by_merge: it was imported as
    an ordinary closed ticket, so every merged request counted twice in the ticket volume."""
    import json

    tickets = json.loads((DATA / "zendesk" / "tickets.json").read_text())["tickets"]
    merged = dict(
        tickets[0], status="closed", tags=["Closed_By_Merge"], updated_at="2024-01-06T08:00:00Z"
    )
    path = tmp_path / "tickets.jsonl"
    path.write_text("\n".join(json.dumps(t) for t in [tickets[0], *tickets[1:], merged]))
    assert run_import("zendesk", [f"tickets={path}", "organizations.json"], tmp_path / "o") == 0
    out = capsys.readouterr().out
    t = load_history(str(tmp_path / "o"), params.contract, NOW).tickets
    assert str(tickets[0]["id"]) not in set(t["ticket_id"])  # its earlier record too
    assert str(tickets[1]["id"]) in set(t["ticket_id"])
    assert "skipped 1: tagged 'closed_by_merge', listed in importers.zendesk.skip_tags" in out


def test_a_mapping_row_without_an_account_leaves_its_user_unmapped(tmp_path, capsys):
    """An empty account_id became the account 'nan', and the import was refused with
    "account 'nan' is not in accounts"; the user's events are now skipped as unmapped, counted."""
    assert run_import("zendesk", INPUTS["zendesk"], tmp_path) == 0
    users = tmp_path / "users.csv"
    users.write_text("user_id,account_id\nu-1,361\nu-3,\n,362\n")
    files = [f"users={users}", "events=" + str(DATA / "usage_events" / "amplitude_daily.csv")]
    assert run_import("usage-events", files, tmp_path) == 0, capsys.readouterr().err
    assert "skipped 2: user not in the user -> account mapping" in capsys.readouterr().out


def test_usage_counts_that_are_not_whole_numbers_are_named_and_rows_without_a_day_counted(
    tmp_path, capsys
):
    """Per-day rows from German Excel: '12,5' and 'abc' became 1 event, '1.234' 1 event, and a
    row without a date vanished (reported as 'summed into one row')."""
    assert run_import("zendesk", INPUTS["zendesk"], tmp_path) == 0
    capsys.readouterr()
    users = str(DATA / "usage_events" / "users.csv")
    daily = tmp_path / "daily.csv"
    daily.write_text(
        "user_id,date,event_count\nu-1,2024-01-05,12\nu-1,,7\nu-3,2024-01-05,0\nu-3,2024-01-06,3\n"
    )
    assert run_import("usage-events", [f"users={users}", f"events={daily}"], tmp_path) == 0
    out = capsys.readouterr().out
    assert "skipped 1: no event time (date is empty)" in out and "merged" not in out
    daily.write_text(
        'user_id,date,event_count\nu-1,2024-01-05,"12,5"\nu-3,2024-01-05,1.234\nu-3,2024-01-06,abc\n'
    )
    assert run_import("usage-events", [f"users={users}", f"events={daily}"], tmp_path) == 1
    err = capsys.readouterr().err
    for line, value in ((2, "'12,5'"), (3, "'1.234'"), (4, "'abc'")):  # the header is line 1
        assert f"usage events / event_count / daily.csv line {line} / type: not a whole" in err
        assert value in err


def test_an_empty_count_in_per_day_rows_is_named_not_read_as_one_event(tmp_path, capsys):
    """A per-day row with an empty event_count became 1 event: a day whose count the export
    lost looked like a day of almost no use. Event records (no count column) stay 1 each."""
    assert run_import("zendesk", INPUTS["zendesk"], tmp_path) == 0
    capsys.readouterr()
    users = str(DATA / "usage_events" / "users.csv")
    daily = tmp_path / "daily.csv"
    daily.write_text("user_id,date,event_count\nu-1,2024-01-05,12\nu-3,2024-01-05,\n")
    assert run_import("usage-events", [f"users={users}", f"events={daily}"], tmp_path) == 1
    err = capsys.readouterr().err
    assert "usage events / event_count / daily.csv line 3 / not_null: the count is empty" in err
    assert not (tmp_path / "usage.parquet").exists()
    daily.write_text("user_id,date\nu-1,2024-01-05\nu-1,2024-01-05\nu-3,2024-01-05\n")
    assert run_import("usage-events", [f"users={users}", f"events={daily}"], tmp_path) == 0
    usage = pd.read_parquet(tmp_path / "usage.parquet").set_index("account_id")
    assert usage.loc["361", "events"] == 2 and usage.loc["362", "events"] == 1


def test_a_salesforce_report_footer_is_skipped_and_counted(tmp_path, params, capsys):
    """A report exported as CSV ends with a blank line, 'Confidential Information - Do Not
    Distribute' and a copyright line: they became accounts and the import was refused with
    not_null errors on rows that were never accounts."""
    footer = (
        '""\n"Confidential Information - Do Not Distribute"\n'
        '"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."\n'
    )
    src = tmp_path / "src"
    src.mkdir()
    for name in ("Account.csv", "Case.csv"):
        (src / name).write_text((DATA / "salesforce" / name).read_text() + footer)
    args = ["import", "salesforce", str(src / "Account.csv"), str(src / "Case.csv")]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert (
        out.count("skipped 2: the report's footer") == 2 and out.count("skipped 1: blank row") == 2
    )
    a = load_history(str(tmp_path / "o"), params.contract, NOW).accounts
    assert not a["account_id"].str.contains("Confidential|Copyright").any()


def test_jira_reopens_out_of_a_done_status_the_params_do_not_name_are_counted(tmp_path, params):
    """A German Jira calls its done status 'Erledigt': the issue was read as solved by its
    category, but moving it back to 'In Arbeit' was not counted as a reopen."""
    import json

    data = json.loads((DATA / "jira" / "issues.json").read_text())
    issue = data["issues"][0]
    issue["fields"]["status"] = {"name": "Erledigt", "statusCategory": {"key": "done"}}
    moves = [("In Arbeit", "Erledigt"), ("Erledigt", "In Arbeit"), ("In Arbeit", "Erledigt")]
    issue["changelog"]["histories"] = [
        {
            "id": str(i),
            "created": f"2024-01-0{4 + i}T10:00:00.000+0000",
            "items": [{"field": "status", "fromString": a, "toString": b}],
        }
        for i, (a, b) in enumerate(moves)
    ]
    path = tmp_path / "issues.json"
    path.write_text(json.dumps(data))
    assert run_import("jira", [f"issues={path}"], tmp_path / "o") == 0
    t = load_history(str(tmp_path / "o"), params.contract, NOW).tickets.set_index("ticket_id")
    assert t.loc[issue["key"], "status"] == "solved"
    assert t.loc[issue["key"], "reopen_count"] == 1


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Tokyo"])
def test_a_date_only_contract_date_is_its_calendar_day_in_a_zone_east_of_utc(
    zone, tmp_path, capsys
):
    """With importers.naive_time_zone east of UTC, contract_start "2022-03-01" was read as
    midnight there, 2022-02-28 23:00 (or 15:00) UTC, and became 2022-02-28. A naive time of
    day is still a wall time in that zone."""
    data = yaml.safe_load(Path("params.yaml").read_text())
    data["importers"]["naive_time_zone"] = zone
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(data))
    sf = DATA / "salesforce"
    cases = tmp_path / "Case.csv"
    rows = (sf / "Case.csv").read_text().splitlines()
    rows[1] = rows[1].replace('"2024-01-03T08:15:00.000+0000"', '"2024-01-03 08:15"', 1)
    cases.write_text("\n".join(rows) + "\n")
    args = ["import", "salesforce", f"accounts={sf / 'Account.csv'}", f"cases={cases}"]
    assert main([*args, "--out", str(tmp_path / "o"), "--params", str(params)]) == 0
    accounts = pd.read_parquet(tmp_path / "o" / "accounts.parquet").set_index("account_id")
    acme = accounts.loc["0015g00000AcmeAAA"]
    assert str(pd.Timestamp(acme["contract_start"]).date()) == "2022-03-01"
    assert str(pd.Timestamp(acme["renewal_date"]).date()) == "2025-03-01"
    tickets = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    local = pd.Timestamp("2024-01-03 08:15", tz=zone).tz_convert("UTC")
    assert pd.Timestamp(tickets.loc["00001001", "created_at"]) == local


def test_a_jira_issue_without_a_priority_field_gets_the_default_priority(tmp_path, params, capsys):
    """A JSM project whose field configuration hides Priority returns issues without a
    `priority` key: the import stopped at the first one ("required field 'fields.priority' not
    found") instead of giving it importers.default_priority, as it does a null priority."""
    import json

    data = json.loads((DATA / "jira" / "issues.json").read_text())
    for issue in data["issues"]:
        del issue["fields"]["priority"]
        issue["changelog"]["histories"] = []
    path = tmp_path / "issues.json"
    path.write_text(json.dumps(data))
    assert run_import("jira", [f"issues={path}"], tmp_path / "o") == 0
    assert "priority missing on 3 tickets" in capsys.readouterr().out
    t = load_history(str(tmp_path / "o"), params.contract, NOW).tickets
    assert set(t["priority"]) == {params.importers.default_priority}


def test_jira_organizations_of_no_issue_are_accounts_without_tickets(tmp_path, params, capsys):
    """Rows of the optional organizations CSV that match no organization of the issues (an
    organization that never opened one) were skipped: a real, low-risk account was never
    scored. Now each is an account of no tickets, told in the report by id; a second row of one
    organization is still merged, and a row naming neither id nor name skipped and named."""
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(
        "account_id,name,tier,arr,contract_start,created\n"
        ",Acme Logistics GmbH,enterprise,120000,,\n"
        "77,Initech,starter,5000,2023-05-01,\n"
        ",Acme Logistics GmbH,business,3,,\n"
        ",Umbrella,business,9000,,2021-02-03 10:00\n"
        ",,business,1,,\n"
    )
    files = [str(DATA / "jira" / "issues.json"), f"accounts={orgs}"]
    assert run_import("jira", files, tmp_path / "o") == 0
    out = capsys.readouterr().out
    assert "organizations read         5  written         3  skipped       1" in out
    assert "e.g. orgs.csv line 6" in out
    assert "merged 1: rows of the same organization" in out
    assert "2 organizations of the organizations CSV have no issue in the issues export " in out
    assert "(77, Umbrella)" in out
    h = load_history(str(tmp_path / "o"), params.contract, NOW)
    a = h.accounts.set_index("account_id")
    assert sorted(a.index) == ["1", "2", "77", "Umbrella"]
    assert a.loc["1", "tier"] == "enterprise"
    assert (a.loc["77", "name"], a.loc["77", "tier"], a.loc["77", "arr"]) == (
        "Initech",
        "starter",
        5000,
    )
    assert a.loc["77", "contract_start"] == pd.Timestamp("2023-05-01", tz="UTC")
    assert a.loc["Umbrella", "contract_start"] == pd.Timestamp("2021-02-03", tz="UTC")
    assert not h.tickets["account_id"].isin(["77", "Umbrella"]).any()


def test_jira_an_organization_name_misspelled_in_the_csv_is_refused_at_its_line(
    tmp_path, params, capsys
):
    """A name of the accounts CSV all but an issue organization's ("Acme Logistic GmbH" for
    "Acme Logistics GmbH") became an extra account of no tickets, and the customer it meant kept
    the defaults' tier and ARR; the accounts line said "from organizations of the issues" all
    the same. The row is refused, naming the closest organization; a name in other case and
    spacing is that organization's; the accounts line names the CSV when it adds accounts."""
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(
        "account_id,name,tier,arr,contract_start\n"
        ",Acme Logistic GmbH,enterprise,120000,2023-01-01\n"
        ",  globex  RETAIL,business,9000,2022-01-01\n"
        "77,Initech,starter,5000,2023-05-01\n"
    )
    files = [str(DATA / "jira" / "issues.json"), f"accounts={orgs}"]
    assert run_import("jira", files, tmp_path / "o") == 1
    said = capsys.readouterr()
    out, err = " ".join(said.out.split()), " ".join(said.err.split())
    assert "(from organizations of the issues and of the organizations CSV)" in out
    assert (
        "jira organizations / name / orgs.csv line 2 / foreign_key: 'Acme Logistic GmbH' names "
        "no organization of the issues, yet is all but the name of 'Acme Logistics GmbH'"
    ) in err
    assert "globex" not in err
    orgs.write_text(orgs.read_text().replace("Acme Logistic GmbH", "Acme Logistics GmbH"))
    assert run_import("jira", files, tmp_path / "o") == 0
    a = load_history(str(tmp_path / "o"), params.contract, NOW).accounts.set_index("account_id")
    assert sorted(a.index) == ["1", "2", "77"]
    assert (a.loc["1", "tier"], a.loc["2", "tier"], a.loc["2", "arr"]) == (
        "enterprise",
        "business",
        9000,
    )


@pytest.mark.parametrize("display", [True, False])
def test_servicenow_references_as_table_api_objects(display, tmp_path, params):
    """A Parquet file made from the Table API's JSON holds reference and choice fields as
    objects: {"link", "value"} (the sys_id) or, with sysparm_display_value=all, {"display_value",
    "value"}. The first read every incident as of no account, the second stopped with an
    internal error (unhashable dict); now a display value is used where given, else the value."""
    src = pd.read_csv(DATA / "servicenow" / "incident_audit.csv", dtype=str, keep_default_na=False)
    refs = ["company", "caller_id", "assignment_group", "priority", "incident_state"]
    for col in refs:
        src[col] = [
            {"display_value": v, "value": f"id-{v}", "link": "https://x/api"}
            if display
            else {"link": "https://x/api", "value": v}
            for v in src[col]
        ]
    path = tmp_path / "incident.parquet"
    src.to_parquet(path)
    assert run_import("servicenow", [f"incidents={path}"], tmp_path / "o") == 0
    t = load_history(str(tmp_path / "o"), params.contract, NOW).tickets.set_index("ticket_id")
    assert t.loc["INC0010001", "account_id"] == "Acme Logistics GmbH"
    assert t.loc["INC0010001", "priority"] == "P3" and t.loc["INC0010001", "status"] == "solved"


def test_skipped_usage_events_are_named_by_line_and_user(tmp_path, capsys):
    """Events of users the mapping lacks, and events without a user or a time, were counted
    but not named: which user ids to add to the mapping was left to guess."""
    users = tmp_path / "users.csv"
    users.write_text("user_id,account_id\nu-1,361\n")
    events = tmp_path / "events.jsonl"
    records = [
        {"userId": "u-1", "event": "a", "timestamp": "2024-01-03T08:00:00Z"},
        {"userId": "u-7", "event": "a", "timestamp": "2024-01-03T08:00:00Z"},
        {"userId": "u-7", "event": "b", "timestamp": "2024-01-03T09:00:00Z"},
        {"anonymousId": "x", "event": "a", "timestamp": "2024-01-03T08:00:00Z"},
        {"userId": "u-8", "event": "a", "timestamp": "2024-01-03T08:00:00Z"},
        {"userId": "u-1", "event": "a"},
    ]
    events.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["import", "usage-events", f"users={users}", f"events={events}",
                 "--out", str(tmp_path / "o"), "--lang", "de"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "z. B. events.jsonl Zeile 2 (user_id=u-7); events.jsonl Zeile 5 (user_id=u-8)" in out
    assert "z. B. events.jsonl Zeile 4\n" in out  # no user id to show
    assert "z. B. events.jsonl Zeile 6 (user_id=u-1)" in out


def test_audits_of_tickets_not_imported_are_one_line_naming_a_few(tmp_path, capsys):
    """Zendesk audits (and Salesforce milestones) of tickets not imported printed one report
    line per ticket, thousands for a full ticket_events export beside a filtered tickets one."""
    zd = DATA / "zendesk"
    audits = tmp_path / "ticket_audits.json"
    change = {"field_name": "priority", "value": "urgent", "previous_value": "low"}
    records = [
        {"id": 100 + i, "ticket_id": 5000 + i, "created_at": "2024-01-03T11:00:00Z",
         "events": [change]}
        for i in range(5)
    ]  # fmt: skip
    audits.write_text(json.dumps({"audits": records}))
    files = [str(zd / "tickets.json"), str(zd / "organizations.json"), str(audits)]
    assert run_import("zendesk", files, tmp_path / "o") == 0
    out = capsys.readouterr().out
    assert (
        "skipped 5: of a ticket not imported (not in the tickets export, or skipped there)" in out
    )
    assert "e.g. ticket_audits.json record 1 (ticket_id=5000); ticket_audits.json record 2" in out
    assert "5003" not in out


def test_case_history_of_cases_not_imported_is_not_called_other_fields(tmp_path, capsys):
    """A priority raise of a case the import skipped (no account) or that the Case export
    lacks was counted as 'not used: changes of other fields'."""
    sf = DATA / "salesforce"
    history = tmp_path / "CaseHistory.csv"
    history.write_text(
        (sf / "CaseHistory.csv").read_text()
        + '"0175g0000004","5005g00000Aa004","Priority","Low","Critical","2024-01-09T12:00:00.000+0000"\n'
    )
    files = [str(sf / "Case.csv"), str(sf / "Account.csv"), f"case_history={history}"]
    assert run_import("salesforce", files, tmp_path / "o") == 0
    out = capsys.readouterr().out
    assert "skipped 1: of a ticket not imported" in out
    assert "e.g. CaseHistory.csv line 5 (case=5005g00000Aa004)" in out
    assert "skipped 1: not used: changes of other fields" in out  # the Status change


def test_a_jira_changelog_the_search_api_cut_short_is_reported(tmp_path, capsys):
    """The search API returns an issue's first 100 histories only (changelog.total says how many
    there are): reopens and priority raises after them went uncounted without a word."""
    data = json.loads((DATA / "jira" / "issues.json").read_text())
    data["issues"][0]["changelog"]["total"] = 140
    path = tmp_path / "issues.json"
    path.write_text(json.dumps(data))
    assert run_import("jira", [f"issues={path}"], tmp_path / "o") == 0
    out = capsys.readouterr().out
    assert (
        "note: 1 issue has only the first histories of its changelog in the export (HELP-1;" in out
    )
    assert "GET /rest/api/3/issue/KEY/changelog" in out


@pytest.mark.parametrize(
    ("opened", "closed"),
    [("1/3/2024, 8:15 AM", "1/4/2024, 5:00 PM"), ("03.01.2024, 08:15", "04.01.2024, 17:00")],
)
def test_a_salesforce_lightning_report_writes_dates_with_a_comma(opened, closed, tmp_path, params):
    """A Lightning report exported as CSV writes a date/time as its user's locale shows it,
    with a comma before the time (en_US and de_DE): every case was refused (date_format)."""
    sf = DATA / "salesforce"
    cases = tmp_path / "Case.csv"
    rows = (sf / "Case.csv").read_text().splitlines()
    rows[1] = rows[1].replace("2024-01-03T08:15:00.000+0000", opened, 1)
    rows[1] = rows[1].replace("2024-01-04T17:00:00.000+0000", closed, 1)
    cases.write_text("\n".join(rows) + "\n")
    assert (
        run_import(
            "salesforce", [f"cases={cases}", f"accounts={sf / 'Account.csv'}"], tmp_path / "o"
        )
        == 0
    )
    t = load_history(str(tmp_path / "o"), params.contract, NOW).tickets.set_index("ticket_id")
    assert t.loc["00001001", "created_at"] == pd.Timestamp("2024-01-03 08:15", tz="UTC")
    assert t.loc["00001001", "resolved_at"] == pd.Timestamp("2024-01-04 17:00", tz="UTC")


def test_the_german_report_says_its_reasons_and_sources_in_german(tmp_path, capsys):
    """What a note asks to export, what a skip did not use and where derived rows came from
    were English inside the German report ("nicht verwendet: other milestone types", "(aus
    tickets tags + audits)")."""
    told = []
    for kind in ("salesforce", "zendesk", "jira"):
        files = [str(DATA / kind / f) for f in INPUTS[kind]]
        args = ["import", kind, *files, "--out", str(tmp_path / kind), "--lang", "de"]
        assert main(args) == 0
        told.append(capsys.readouterr().out)
    sf, zd, jira = told
    assert "nicht verwendet: andere Meilensteintypen" in sf
    assert "nicht verwendet: Änderungen anderer Felder" in sf
    assert "CaseHistory (Feld IsEscalated)" in sf or "IsEscalated" not in sf
    assert "(aus Ticket-Tags + Audits)" in zd
    assert "(aus Änderungsverlauf)" in jira and "(aus Organisationen der Vorgänge)" in jira
    for english in ("other", "changes of", "tickets tags", "organizations of", "field Is"):
        assert not [out for out in told if english in out], english


def test_a_servicenow_company_listed_twice_is_counted(tmp_path, params, capsys):
    """A second core_company row of one name (a company record duplicated in the CMDB) was
    dropped without a word; the first is kept and the second counted."""
    companies = tmp_path / "core_company.csv"
    companies.write_text(
        "name,u_tier,sys_created_on\n"
        "Acme Logistics GmbH,enterprise,2021-01-05 10:00:00\n"
        "Acme Logistics GmbH,starter,2021-01-05 10:00:00\n"
    )
    files = [f"companies={companies}", str(DATA / "servicenow" / "incident_audit.csv")]
    assert run_import("servicenow", files, tmp_path / "out") == 0
    assert "merged 1: rows of the same organization (the first is kept)" in capsys.readouterr().out
    a = load_history(str(tmp_path / "out"), params.contract, NOW).accounts.set_index("account_id")
    assert a.loc["Acme Logistics GmbH", "tier"] == "enterprise"


def test_salesforce_report_ids_of_15_characters_join_data_loader_ids_of_18(tmp_path, params):
    """A Cases report writes 15-character ids, Data Loader's Account export 18-character ones:
    no case found its account (foreign_key on every case). Both are read in the 18-character
    form (the 15 plus the checksum of their capitals)."""
    from features.importers.salesforce import id18

    assert id18("a0D30000001n7Pi") == "a0D30000001n7PiEAI"
    assert id18("0019000000B98de") == "0019000000B98deAAB"
    assert id18("00001001") == "00001001"
    sf = DATA / "salesforce"
    accounts = tmp_path / "Account.csv"
    accounts.write_text(
        (sf / "Account.csv").read_text().replace("0015g00000AcmeAAA", "0015g00000AcmeZAAR")
    )
    cases = tmp_path / "Case.csv"
    cases.write_text((sf / "Case.csv").read_text().replace("0015g00000AcmeAAA", "0015g00000AcmeZ"))
    history = tmp_path / "CaseHistory.csv"
    history.write_text(
        (sf / "CaseHistory.csv").read_text().replace("5005g00000Aa001", "5005g00000Aa01X")
    )
    cases.write_text(cases.read_text().replace("5005g00000Aa001", "5005g00000Aa01XAAR"))
    files = [f"cases={cases}", f"accounts={accounts}", f"case_history={history}"]
    assert run_import("salesforce", files, tmp_path / "o") == 0
    h = load_history(str(tmp_path / "o"), params.contract, NOW)
    t = h.tickets.set_index("ticket_id")
    assert t.loc["00001001", "account_id"] == "0015g00000AcmeZAAR" == id18("0015g00000AcmeZ")
    assert "priority raised" in h.escalations.set_index("ticket_id").loc["00001001", "reason"]


def _params_with(tmp_path: Path, kind: str, **settings: dict) -> Path:
    raw = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
    for key, value in settings.items():
        raw["importers"][kind][key] = {**raw["importers"][kind].get(key, {}), **value}
    custom = tmp_path / "params.yaml"
    custom.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return custom


def test_a_salesforce_report_with_german_labels_is_read_through_case_fields(tmp_path, params):
    """A Cases report of a German user labels its columns in German ("Fallnummer"): with only
    account_fields to map, such exports were refused for a missing CaseNumber."""
    german = {
        "Id": "Fall-ID",
        "CaseNumber": "Fallnummer",
        "AccountId": "Account-ID",
        "CreatedDate": "Datum/Uhrzeit geöffnet",
        "ClosedDate": "Datum/Uhrzeit geschlossen",
        "Priority": "Priorität",
        "Status": "Status",
        "IsEscalated": "Eskaliert",
    }
    cases = pd.read_csv(DATA / "salesforce" / "Case.csv", dtype=str, keep_default_na=False)
    cases = cases.rename(columns=german)
    cases["Eskaliert"] = cases["Eskaliert"].map({"true": "Wahr", "false": "Falsch"})
    cases.to_csv(tmp_path / "Case.csv", index=False)
    accounts = pd.read_csv(DATA / "salesforce" / "Account.csv", dtype=str, keep_default_na=False)
    accounts.rename(columns={"Id": "Account-ID"}).to_csv(tmp_path / "Account.csv", index=False)
    mapped = {
        "case_id": "Fall-ID",
        "ticket_id": "Fallnummer",
        "account_id": "Account-ID",
        "created_at": "Datum/Uhrzeit geöffnet",
        "resolved_at": "Datum/Uhrzeit geschlossen",
        "priority": "Priorität",
        "escalated": "Eskaliert",
    }
    custom = _params_with(
        tmp_path, "salesforce", case_fields=mapped, account_fields={"account_id": "Account-ID"}
    )
    files = [f"cases={tmp_path / 'Case.csv'}", f"accounts={tmp_path / 'Account.csv'}"]
    out = tmp_path / "out"
    assert main(["import", "salesforce", *files, "--out", str(out), "--params", str(custom)]) == 0
    expected = tmp_path / "expected"
    assert run_import("salesforce", ["Case.csv", "Account.csv"], expected) == 0
    got = load_history(str(out), params.contract, NOW)
    want = load_history(str(expected), params.contract, NOW)
    cols = ["ticket_id", "account_id", "created_at", "resolved_at", "priority", "status"]
    pd.testing.assert_frame_equal(got.tickets[cols], want.tickets[cols])
    assert len(got.escalations) == len(want.escalations) > 0
    assert list(got.accounts["account_id"]) == list(want.accounts["account_id"])


def test_a_hubspot_tickets_export_in_german_is_read_through_ticket_fields(tmp_path, params):
    german = {
        "Ticket ID": "Ticket-ID",
        "Ticket status": "Ticketstatus",
        "Priority": "Priorität",
        "Create date": "Erstellungsdatum",
        "Close date": "Abschlussdatum",
        "Associated Company IDs": "Zugeordnete Unternehmens-IDs",
    }
    tickets = pd.read_csv(DATA / "hubspot" / "tickets.csv", dtype=str, keep_default_na=False)
    tickets.rename(columns=german).to_csv(tmp_path / "tickets.csv", index=False)
    companies = pd.read_csv(DATA / "hubspot" / "companies.csv", dtype=str, keep_default_na=False)
    companies.rename(columns={"Record ID": "Datensatz-ID"}).to_csv(
        tmp_path / "companies.csv", index=False
    )
    mapped = {
        "ticket_id": "Ticket-ID",
        "status": "Ticketstatus",
        "priority": "Priorität",
        "created_at": "Erstellungsdatum",
        "resolved_at": "Abschlussdatum",
        "account_id": "Zugeordnete Unternehmens-IDs",
    }
    custom = _params_with(
        tmp_path, "hubspot", ticket_fields=mapped, company_fields={"account_id": "Datensatz-ID"}
    )
    files = [f"tickets={tmp_path / 'tickets.csv'}", f"companies={tmp_path / 'companies.csv'}"]
    out = tmp_path / "out"
    assert main(["import", "hubspot", *files, "--out", str(out), "--params", str(custom)]) == 0
    expected = tmp_path / "expected"
    assert run_import("hubspot", INPUTS["hubspot"], expected) == 0
    got = load_history(str(out), params.contract, NOW)
    want = load_history(str(expected), params.contract, NOW)
    cols = ["ticket_id", "account_id", "created_at", "resolved_at", "priority", "status"]
    pd.testing.assert_frame_equal(got.tickets[cols], want.tickets[cols])


def test_an_error_in_a_mapped_column_names_the_column_as_the_file_does(tmp_path, capsys):
    tickets = pd.read_csv(DATA / "hubspot" / "tickets.csv", dtype=str, keep_default_na=False)
    tickets = tickets.rename(columns={"Priority": "Priorität"})
    tickets.loc[0, "Priorität"] = "HOCH"
    tickets.to_csv(tmp_path / "tickets.csv", index=False)
    custom = _params_with(tmp_path, "hubspot", ticket_fields={"priority": "Priorität"})
    companies = DATA / "hubspot" / "companies.csv"
    files = [f"tickets={tmp_path / 'tickets.csv'}", f"companies={companies}"]
    args = ["import", "hubspot", *files, "--out", str(tmp_path / "o"), "--params", str(custom)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "hubspot tickets / Priorität / tickets.csv line 2 / unknown_value: 'HOCH'" in err


def _usage_days(tmp_path: Path, events: Path, custom: Path) -> list[tuple[str, str, int]]:
    users = DATA / "usage_events" / "users.csv"
    out = tmp_path / events.stem
    args = ["import", "usage-events", f"events={events}", f"users={users}", "--out", str(out)]
    assert main([*args, "--params", str(custom)]) == 0
    usage = pd.read_parquet(out / "usage.parquet")
    return [
        (str(a), d.strftime("%Y-%m-%d"), int(n))
        for a, d, n in usage[["account_id", "date", "events"]].itertuples(index=False)
    ]


def test_usage_times_are_not_read_in_the_helpdesks_time_zone(tmp_path):
    """importers.naive_time_zone (set for a helpdesk's reports) applied to the events too: a
    per-day row dated 2024-01-05 became 2024-01-04 in Europe/Berlin, and Amplitude's event_time
    (UTC without an offset) 00:30 fell on the day before."""
    raw = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
    raw["importers"]["naive_time_zone"] = "Europe/Berlin"
    custom = tmp_path / "berlin.yaml"
    custom.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    daily = DATA / "usage_events" / "amplitude_daily.csv"
    assert _usage_days(tmp_path, daily, custom) == [
        ("361", "2024-01-05", 12),
        ("362", "2024-01-05", 4),
        ("362", "2024-01-06", 7),
    ]
    amplitude = tmp_path / "amplitude.jsonl"
    amplitude.write_text(
        json.dumps({"user_id": "u-1", "event_type": "open", "event_time": "2024-01-05 00:30:00.1"})
        + "\n"
    )
    assert _usage_days(tmp_path, amplitude, custom) == [("361", "2024-01-05", 1)]
    # events in a zone of their own are read in usage_events.naive_time_zone; days stay days
    raw["importers"]["usage_events"]["naive_time_zone"] = "Europe/Berlin"
    custom.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    (tmp_path / "amplitude").rename(tmp_path / "amplitude-utc")
    assert _usage_days(tmp_path, amplitude, custom) == [("361", "2024-01-04", 1)]
    (tmp_path / "amplitude_daily").rename(tmp_path / "amplitude_daily-utc")
    assert _usage_days(tmp_path, daily, custom)[0] == ("361", "2024-01-05", 12)


@pytest.mark.parametrize("lang", ["en", "de"])
def test_salesforce_without_milestones_says_what_to_export(tmp_path, params, capsys, lang):
    """Cases alone have no first response times: the report names the export that gives them,
    and the first-response SLA features are left out rather than read as breaches."""
    files = [str(DATA / "salesforce" / f) for f in ("Account.csv", "Case.csv")]
    assert main(["import", "salesforce", *files, "--out", str(tmp_path), "--lang", lang]) == 0
    report = capsys.readouterr().out
    assert "CaseMilestone" in report and "'First Response'" in report
    assert ("Erstantwort" if lang == "de" else "first response SLA") in report
    h = load_history(str(tmp_path), params.contract, NOW)
    assert "sla.first_response" in build_features(h, [AS_OF], params.features).unavailable
    # with the milestones the report says nothing of it
    assert run_import("salesforce", INPUTS["salesforce"], tmp_path / "full") == 0
    assert "CaseMilestone with" not in capsys.readouterr().out
