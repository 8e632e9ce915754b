"""Numbers as German and English exports write them: read by a documented rule, or refused with
the file, column, row and value, never misread (a German ARR of 84.000 was read as 84)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from features.importers.numbers import read_numbers
from serving.cli import main

DATA = Path(__file__).resolve().parents[2] / "data" / "importers"


@pytest.mark.parametrize(
    ("values", "notation", "whole", "expected"),
    [
        # the column tells: many groups, a decimal comma or dot, groups with decimals
        (["84.000", "1.234.567"], "auto", False, [84000, 1234567]),
        (["84.000", "12,5"], "auto", False, [84000, 12.5]),
        (["84.000", "99.5"], "auto", False, [84.0, 99.5]),
        (["84,000", "1,234,567.5"], "auto", False, [84000, 1234567.5]),
        (["84.000,50", "€ 84.000", "84.000 €", "EUR 1.234,00"], "auto", False, [84000.5, 84000, 84000, 1234]),
        # groups split by (no-break, narrow) spaces or apostrophes mean the same in both
        (["84\u00a0000", "1\u202f234,5", "CHF 84'000.50", "7"], "auto", False, [84000, 1234.5, 84000.5, 7]),
        # a German price without cents: 84.000,- (so German)
        (["84.000,-", "30000", "12.500,- €"], "auto", False, [84000, 30000, 12500]),
        # whole numbers (seats): 1.500 seats in English are 1.5, so the file is German
        (["1.500", "2"], "auto", True, [1500, 2]),
        (["1,500"], "auto", True, [1500]),
        # the setting reads every value so
        (["84.000", "12,5"], "de", False, [84000, 12.5]),
        (["84.000", "84,000"], "en", False, [84.0, 84000]),
        ([84000, 12.5], "auto", False, [84000, 12.5]),
    ],
)  # fmt: skip
def test_numbers_are_read_by_their_notation(values, notation, whole, expected):
    out, refused, _ = read_numbers(pd.Series(values, dtype=object), None, notation, whole)
    assert refused == {}
    assert out.tolist() == pytest.approx(expected)


@pytest.mark.parametrize(
    ("values", "notation", "whole", "key"),
    [
        (["84.000"], "auto", False, "number_ambiguous"),  # 84000 or 84.0: nothing tells
        (["1.000", "2"], "auto", True, "number_ambiguous"),
        (["84.000", "12,5", "99.5"], "auto", False, "number_mixed"),
        (["99.5"], "de", False, "number_not_de"),
        (["12,5"], "en", False, "number_not_en"),
        (["abc"], "auto", False, "number_unreadable"),
        (["1.234.5678"], "auto", False, "number_unreadable"),
    ],
)
def test_a_number_nothing_decides_is_refused_not_guessed(values, notation, whole, key):
    out, refused, _ = read_numbers(pd.Series(values, dtype=object), None, notation, whole)
    assert refused[0].key == key
    assert math.isnan(out.iloc[0])


def test_each_file_is_decided_apart():
    """One export German, another English: 84.000 is 84000 in the first, 84.0 in the second."""
    values = pd.Series(["84.000", "12,5", "84.000", "99.5"], dtype=object)
    out, refused, _ = read_numbers(values, pd.Series([1, 1, 2, 2]), "auto")
    assert refused == {}
    assert out.tolist() == [84000, 12.5, 84.0, 99.5]


def _organizations(tmp_path: Path, arr: list[object], field: str = "arr") -> Path:
    doc = json.loads((DATA / "zendesk" / "organizations.json").read_text())
    for org, value in zip(doc["organizations"], arr, strict=False):
        org["organization_fields"][field] = value
    path = tmp_path / "organizations.json"
    path.write_text(json.dumps(doc))
    return path


def _params(tmp_path: Path, **importers: object) -> Path:
    data = yaml.safe_load(Path("params.yaml").read_text())
    data["importers"].update(importers)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _zendesk(tmp_path: Path, orgs: Path, params: Path | None = None) -> int:
    args = ["import", "zendesk", f"tickets={DATA / 'zendesk' / 'tickets.json'}"]
    args += [f"organizations={orgs}", "--out", str(tmp_path / "out")]
    return main(args + (["--params", str(params)] if params else []))


def test_a_lone_thousands_seat_count_is_refused_naming_file_column_record_and_value(
    tmp_path, capsys
):
    """'1.000' seats (German for 1000) was read as 1 in English notation, and the import was
    valid; a whole number cannot tell 1000 from 1.0, so nothing decides it."""
    orgs = _organizations(tmp_path, ["1.000", "30"], field="seats")
    assert _zendesk(tmp_path, orgs) == 1
    err = capsys.readouterr().err
    said = "accounts / organization_fields.seats / organizations.json record 1 / type: '1.000' is"
    assert said in err
    assert "1000 in German notation" in err and "importers.number_format" in err
    assert not (tmp_path / "out" / "accounts.parquet").exists()
    assert _zendesk(tmp_path, orgs, _params(tmp_path, number_format="de")) == 0
    accounts = pd.read_parquet(tmp_path / "out" / "accounts.parquet").set_index("account_id")
    assert accounts.loc["361", "seats"] == 1000
    assert accounts.loc["362", "seats"] == 30


@pytest.mark.parametrize("written", ["84.000", "84,000", "EUR 84.000", "$84,000"])
def test_a_lone_thousands_amount_is_read_as_thousands_and_noted(written, tmp_path, capsys):
    """An ARR of 84.000 or 84,000 with nothing else in its column to tell the notation was
    refused until importers.number_format was set (a US export of round figures on its first
    import): no amount is written with three decimals, so the separator groups thousands."""
    orgs = _organizations(tmp_path, [written, "30000"])
    assert _zendesk(tmp_path, orgs) == 0, capsys.readouterr().err
    accounts = pd.read_parquet(tmp_path / "out" / "accounts.parquet").set_index("account_id")
    assert accounts.loc["361", "arr"] == 84000
    assert accounts.loc["362", "arr"] == 30000
    out = capsys.readouterr().out
    assert f"1 amount such as {written!r} read as 84000 (a thousands separator" in out
    # a column that tells its notation still decides: 84.000 beside 99.5 is English, 84.0
    orgs = _organizations(tmp_path, ["84.000", "99.5"])
    assert _zendesk(tmp_path, orgs) == 0
    accounts = pd.read_parquet(tmp_path / "out" / "accounts.parquet").set_index("account_id")
    assert accounts.loc["361", "arr"] == 84.0


def test_a_german_arr_column_is_read_in_german(tmp_path, capsys):
    orgs = _organizations(tmp_path, ["84.000", "1.250.000,50", "€ 12.000"])
    assert _zendesk(tmp_path, orgs) == 0, capsys.readouterr().err
    accounts = pd.read_parquet(tmp_path / "out" / "accounts.parquet").set_index("account_id")
    assert accounts["arr"].to_dict() == {"361": 84000, "362": 1250000.5, "363": 12000}
    # told, so that a user can check what the rule made of them
    said = "organization_fields.arr in organizations.json: 2 values such as '84.000' read as 84000"
    assert said in capsys.readouterr().out


def test_a_refused_number_is_told_in_german_and_not_replaced_by_a_default(tmp_path, capsys):
    orgs = _organizations(tmp_path, ["1.000"], field="seats")
    args = ["import", "zendesk", f"tickets={DATA / 'zendesk' / 'tickets.json'}"]
    assert main([*args, f"organizations={orgs}", "--out", str(tmp_path / "o"), "--lang", "de"]) == 1
    captured = capsys.readouterr()
    assert "ist in deutscher Schreibweise 1000 (Tausenderpunkt)" in captured.err
    assert "seats aus importers.account_defaults für 1 von 3 Kunden" in captured.out  # not 2


def test_a_german_excel_account_export_is_read(tmp_path, capsys):
    """Salesforce accounts as German Excel saves them: semicolons, cp1252, CRLF, German numbers."""
    rows = [
        "Id;Name;Tier__c;ARR__c;Seats__c;BillingCountry;Language__c",
        "0015g00000AcmeAAA;Acme Logistik GmbH;Enterprise;84.000;1.500;Österreich;Deutsch",
        '0015g00000GlobAAA;Globex Retail;Business;"1.250.000,50 €";40;Schweiz;en',
        "0015g00000InitAAA;Initech;;;;;",
    ]
    accounts = tmp_path / "Account.csv"
    accounts.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    args = ["import", "salesforce", str(DATA / "salesforce" / "Case.csv"), str(accounts)]
    params = _params(tmp_path, csv_encoding="cp1252")
    assert main([*args, "--out", str(tmp_path / "o"), "--params", str(params)]) == 0
    out = pd.read_parquet(tmp_path / "o" / "accounts.parquet").set_index("account_id")
    assert out.loc["0015g00000AcmeAAA", "arr"] == 84000
    assert out.loc["0015g00000AcmeAAA", "seats"] == 1500
    assert out.loc["0015g00000GlobAAA", "arr"] == 1250000.5
    assert out.loc["0015g00000AcmeAAA", "region"] == "Österreich"


def test_a_milestone_target_that_is_no_number_is_named(tmp_path, capsys):
    """An unreadable TargetResponseInMins silently fell back to TargetDate - StartDate."""
    src = (DATA / "salesforce" / "CaseMilestone.csv").read_text()
    milestones = tmp_path / "CaseMilestone.csv"
    milestones.write_text(src.replace('"480"', '"acht Stunden"'))
    sf = DATA / "salesforce"
    args = ["import", "salesforce", str(sf / "Case.csv"), str(sf / "Account.csv"), str(milestones)]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    said = "salesforce milestones / TargetResponseInMins / CaseMilestone.csv line 4 / type:"
    assert said in err and "'acht Stunden'" in err


def _thousand_events(tmp_path: Path) -> list[str]:
    """A Zendesk import in `tmp_path` and the arguments importing its usage from a per-day file
    whose first count is written 1.000."""
    zd = DATA / "zendesk"
    args = [f"tickets={zd / 'tickets.json'}", f"organizations={zd / 'organizations.json'}"]
    assert main(["import", "zendesk", *args, "--out", str(tmp_path)]) == 0
    daily = tmp_path / "daily.csv"
    daily.write_text("user_id,date,event_count\nu-1,2024-01-05,1.000\nu-3,2024-01-05,4\n")
    users = DATA / "usage_events" / "users.csv"
    return ["import", "usage-events", f"users={users}", f"events={daily}", "--out", str(tmp_path)]


def test_a_german_thousands_event_count_is_refused_not_read_as_one(tmp_path, capsys):
    """'1.000' events (a German thousand) were read as 1."""
    argv = _thousand_events(tmp_path)
    capsys.readouterr()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "usage events / event_count / daily.csv line 2 / type: not a whole" in err
    assert "'1.000'" in err


def test_event_counts_follow_a_set_number_format(tmp_path, capsys):
    """With importers.number_format de, a per-day count of 1.000 is a thousand events."""
    argv = _thousand_events(tmp_path)
    params = _params(tmp_path, number_format="de")
    assert main([*argv, "--params", str(params)]) == 0, capsys.readouterr().err
    usage = pd.read_parquet(tmp_path / "usage.parquet").set_index("account_id")
    assert usage.loc["361", "events"] == 1000


def test_a_numeric_custom_field_kept_from_a_crm_export_is_read_in_its_notation(tmp_path, capsys):
    """A Salesforce extra column declared a numeric custom feature (`sf_NPS__c`) was kept as the
    text '12,5' and refused by validate and train (custom_not_number) after the import said
    valid; it is read as the contract's numbers are, and one that is no number is named."""
    sf = DATA / "salesforce"
    rows = (sf / "Account.csv").read_text().splitlines()
    values = ['"1.234,5"', '"12,5"'] + ['""'] * (len(rows) - 3)
    text = [rows[0] + ',"NPS__c"', *(r + "," + v for r, v in zip(rows[1:], values, strict=True))]
    accounts = tmp_path / "Account.csv"
    accounts.write_text("\n".join(text) + "\n")
    data = yaml.safe_load(Path("params.yaml").read_text())
    data["features"]["custom_fields"] = {"sf_NPS__c": {"kind": "float"}}
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(data))
    args = ["import", "salesforce", str(sf / "Case.csv"), str(accounts), "--params", str(params)]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0, capsys.readouterr().err
    acc = pd.read_parquet(tmp_path / "o" / "accounts.parquet").set_index("account_id")
    assert acc.loc["0015g00000AcmeAAA", "sf_NPS__c"] == 1234.5
    assert acc.loc["0015g00000GlobAAA", "sf_NPS__c"] == 12.5
    accounts.write_text("\n".join(text).replace('"12,5"', '"zwölf"') + "\n")
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "o2")]) == 1
    err = capsys.readouterr().err
    assert "accounts / sf_NPS__c / Account.csv line 3" in err and "'zwölf'" in err
