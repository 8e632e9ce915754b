"""`escrisk validate SOURCE`: one deliberately broken file per rule, the summary, and no tracebacks."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from serving.cli import main

ROOT = Path(__file__).resolve().parents[2]
WORLD = ROOT / "tests" / "data" / "contract" / "world"


@pytest.fixture
def world(tmp_path: Path) -> Path:
    folder = tmp_path / "world"
    shutil.copytree(WORLD, folder)
    return folder


def validate(capsys, source) -> tuple[int, str]:
    code = main(["validate", str(source), "--params", str(ROOT / "params.yaml")])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def break_cell(folder: Path, table: str, row: int, column: str, value: str) -> None:
    """Set one cell (row is 1-based among data rows) of a table's CSV file."""
    path = folder / f"{table}.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[row - 1, column] = value
    df.to_csv(path, index=False)


def test_valid_world_prints_a_summary(capsys, world):
    code, out = validate(capsys, world)
    assert code == 0, out
    assert f"{world}: valid" in out
    assert re.search(r"^  tickets +5 rows$", out, re.MULTILINE)
    assert "accounts: 3" in out and "escalations: 2" in out and "churned accounts: 1" in out
    assert "time span: 2024-01-02 to 2024-03-01 (60 days)" in out
    # this export has no term_months or notice_at: said, as they change days_to_renewal and notice
    assert "accounts.term_months: column absent, every contract is taken as a 12-month term" in out
    assert "accounts.notice_at: column absent, notices given to the CSM are unknown" in out


def test_events_outside_the_contract_are_kept_and_warned_about(capsys, world):
    """A ticket before contract_start (a pilot, or a wrong start date) and one after the account
    churned passed without a word and fed the features."""
    break_cell(world, "tickets", 4, "created_at", "2022-06-01T12:00:00Z")  # A-2 starts 2022-06-15
    break_cell(world, "tickets", 5, "created_at", "2024-03-02T08:00:00Z")  # A-3 churned 03-01
    break_cell(world, "tickets", 5, "resolved_at", "2024-03-02T09:00:00Z")
    break_cell(world, "tickets", 5, "first_response_at", "")
    break_cell(world, "usage", 2, "date", "2021-12-31")  # A-1 starts 2022-01-01
    code, out = validate(capsys, world)
    assert code == 0, out
    assert (
        "warning: tickets.created_at: 1 row(s) dated before their account's contract_start" in out
    )
    assert "  tickets / row 4 (account_id=A-2) / created_at 2022-06-01 12:00 UTC" in out
    assert "warning: usage.date: 1 row(s) dated before their account's contract_start" in out
    assert "  usage / row 2 (account_id=A-1) / date 2021-12-31" in out
    assert "warning: tickets.created_at: 1 row(s) dated after their account churned" in out
    assert "  tickets / row 5 (account_id=A-3) / created_at 2024-03-02 08:00 UTC" in out
    code, out = validate_de(capsys, world)
    assert code == 0 and "Warnung: usage.date: 1 Zeile(n) vor dem contract_start" in out
    assert "  usage / Zeile 2 (account_id=A-1) / date 2021-12-31" in out


def validate_de(capsys, source) -> tuple[int, str]:
    code = main(["validate", str(source), "--lang", "de", "--params", str(ROOT / "params.yaml")])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_dotted_thousands_are_warned_about_in_english_and_german(capsys, world):
    """An arr of 120.000 (German Excel's 120,000) was read as 120.0 without a word."""
    break_cell(world, "accounts", 1, "arr", "120000")  # was 120000.5: a decimal point
    break_cell(world, "accounts", 2, "arr", "45.000")
    code, out = validate(capsys, world)
    assert code == 0, out
    assert "warning: accounts.arr: 1 value(s)" in out and "'45.000'" in out
    assert "German: 45.000 = 45000" in out and "accounts / row 2 / arr '45.000'" in out
    main(["validate", str(world), "--params", str(ROOT / "params.yaml"), "--lang", "de"])
    out = capsys.readouterr().out
    assert "Warnung: accounts.arr: 1 Wert(e)" in out and "accounts / Zeile 2 / arr '45.000'" in out


def test_dates_at_a_local_midnight_east_of_utc_are_warned_about(capsys, world):
    """A renewal of 2025-01-01T00:00+01:00 (a Berlin export, or a Parquet or timestamptz column
    of Berlin midnights) is read as 2024-12-31, its UTC day, without a word; a New York midnight
    (05:00 UTC) is its own day and a plain date is one, so neither is named."""
    break_cell(world, "accounts", 1, "renewal_date", "2025-01-01T00:00:00+01:00")
    break_cell(world, "accounts", 2, "renewal_date", "2025-06-15T00:00:00-05:00")
    usage = pd.read_csv(world / "usage.csv", dtype=str)
    usage["date"] = pd.to_datetime(usage["date"]).dt.tz_localize("Europe/Berlin")
    (world / "usage.csv").unlink()
    usage.to_parquet(world / "usage.parquet")
    code, out = validate(capsys, world)
    assert code == 0, out
    assert "warning: accounts.renewal_date: 1 date(s) at a local midnight east of UTC" in out
    assert "accounts / row 1 / renewal_date '2025-01-01T00:00:00+01:00': 2024-12-31" in out
    assert f"warning: usage.date: {len(usage)} date(s)" in out
    assert "usage / row 1 / date '2024-01-01 23:00 UTC': 2024-01-01" in out
    main(["validate", str(world), "--params", str(ROOT / "params.yaml"), "--lang", "de"])
    out = capsys.readouterr().out
    assert "Warnung: accounts.renewal_date: 1 Datum/Daten um Mitternacht" in out
    assert "accounts / Zeile 1 / renewal_date '2025-01-01T00:00:00+01:00': 31.12.2024" in out


def test_warnings_count_blank_lines_as_rows_too(capsys, world):
    """A blank line above a ticket before its contract shifted the warning's row by one."""
    break_cell(world, "tickets", 4, "created_at", "2022-06-01T12:00:00Z")  # A-2 starts 2022-06-15
    path = world / "tickets.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0], lines[1], "", *lines[2:]]) + "\n", encoding="utf-8")
    code, out = validate(capsys, world)
    assert code == 0, out
    assert "  tickets / row 5 (account_id=A-2) / created_at 2022-06-01 12:00 UTC" in out


def test_a_valid_source_inside_its_contracts_has_no_warning(capsys, world):
    code, out = validate(capsys, world)
    assert code == 0 and "warning" not in out


def test_absent_tables_say_what_they_disable(capsys, world):
    (world / "usage.csv").unlink()
    (world / "churn.csv").unlink()
    code, out = validate(capsys, world)
    assert code == 0, out
    assert re.search(r"^  usage +absent, usage features unavailable$", out, re.MULTILINE)
    assert re.search(r"^  churn +absent, churn labels unavailable$", out, re.MULTILINE)
    assert "churned accounts: unknown (table absent)" in out


def test_summary_in_german(capsys, world):
    code = main(["validate", str(world), "--lang", "de", "--params", str(ROOT / "params.yaml")])
    assert code == 0
    assert "Zeitraum: 2024-01-02 bis 2024-03-01" in capsys.readouterr().out


def test_german_counts_write_thousands_as_german_does(capsys, tmp_path, make_history):
    from features.sources import write_tables

    write_tables(make_history(20, 3), tmp_path, fmt="parquet")
    assert (
        main(["validate", str(tmp_path), "--lang", "de", "--params", str(ROOT / "params.yaml")])
        == 0
    )
    out = capsys.readouterr().out
    usage = re.search(r"^  usage +([\d.,]+) Zeilen$", out, re.MULTILINE)
    assert usage and "." in usage.group(1) and "," not in usage.group(1), out


# (table, 1-based row, column, bad value, rule, key shown): one broken cell per rule.
CASES = [
    ("accounts", 2, "name", "", "not_null", "account_id=A-2"),
    ("tickets", 3, "reopen_count", "two", "type", "ticket_id=T-3"),
    ("tickets", 1, "created_at", "02.01.2024 09:00", "type", "ticket_id=T-1"),
    ("usage", 4, "active_users", "-1", "range", "account_id=A-2, date=2024-01-03"),
    ("tickets", 5, "reopen_count", "-2", "range", "ticket_id=T-5"),
    ("tickets", 2, "priority", "urgent", "allowed_values", "ticket_id=T-2"),
    ("escalations", 1, "level", "L7", "allowed_values", "escalation_id=E-1"),
    ("tickets", 4, "created_at", "1899-12-31T00:00:00Z", "date_range", "ticket_id=T-4"),
    ("escalations", 2, "opened_at", "2999-01-01T00:00:00Z", "date_range", "escalation_id=E-2"),
    ("tickets", 2, "ticket_id", "T-1", "unique", "ticket_id=T-1"),
    ("tickets", 1, "resolved_at", "2024-01-02T08:59:59Z", "order", "ticket_id=T-1"),
    ("tickets", 3, "first_response_at", "2024-01-04T06:59:00Z", "order", "ticket_id=T-3"),
    ("usage", 5, "account_id", "A-9", "foreign_key", "account_id=A-9, date=2024-01-02"),
    ("churn", 1, "account_id", "A-9", "foreign_key", "account_id=A-9"),
]


@pytest.mark.parametrize(("table", "row", "column", "value", "rule", "key"), CASES)
def test_one_broken_cell_names_table_column_row_rule(
    capsys, world, table, row, column, value, rule, key
):
    break_cell(world, table, row, column, value)
    code, out = validate(capsys, world)
    assert code == 1
    assert f"{table} / {column} / row {row} ({key}) / {rule}:" in out, out
    total = 2 if rule == "unique" else 1  # a duplicated id flags both of its rows
    assert f"{table}.{column} {rule}: {total}" in out  # the total per rule
    assert "Traceback" not in out


@pytest.mark.parametrize(("table", "row", "column", "value", "rule", "key"), CASES)
def test_every_violation_is_told_in_german_too(capsys, world, table, row, column, value, rule, key):
    """`validate --lang de` translated only its summary: each violation's detail, its row and the
    report's own words stayed English."""
    break_cell(world, table, row, column, value)
    _, english = validate(capsys, world)
    said = english.split(f"{table} / {column} / row {row} ({key}) / {rule}: ", 1)[1]
    said = said.splitlines()[0]
    args = ["validate", str(world), "--lang", "de", "--params", str(ROOT / "params.yaml")]
    assert main(args) == 1
    out = capsys.readouterr().out
    gesagt = out.split(f"{table} / {column} / Zeile {row} ({key}) / {rule}: ", 1)[1]
    gesagt = gesagt.splitlines()[0]
    assert gesagt != said, (said, gesagt)
    assert "gegen den Datenvertrag" in out and "Summen je Regel:" in out
    assert "data contract violation" not in out and "Totals per rule" not in out


def test_german_details_quote_the_values_as_found(capsys, world):
    break_cell(world, "tickets", 2, "priority", "urgent")
    break_cell(world, "tickets", 3, "reopen_count", "2,5")
    args = ["validate", str(world), "--lang", "de", "--params", str(ROOT / "params.yaml")]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "allowed_values: 'urgent' ist keiner der Werte von contract.priorities ['P1'," in out
    assert "type: keine Zahl: '2,5' (ein Dezimalkomma?" in out
    assert "2 Verstöße gegen den Datenvertrag" in out


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_simulated_world_validates_and_one_broken_row_is_named(capsys, tmp_path, make_history, fmt):
    from features.sources import write_tables

    history = make_history(20, 3)
    write_tables(history, tmp_path, fmt=fmt)
    code, out = validate(capsys, tmp_path)
    assert code == 0, out
    assert "column absent" not in out  # the simulator writes every optional column
    tickets = history.tickets.copy()
    tickets.loc[6, "resolved_at"] = tickets.loc[6, "created_at"] - pd.Timedelta(hours=1)
    write_tables({"tickets": tickets}, tmp_path, fmt=fmt)
    code, out = validate(capsys, tmp_path)
    assert code == 1
    assert f"tickets / resolved_at / row 7 (ticket_id={tickets.loc[6, 'ticket_id']}) / order" in out


def test_missing_required_table(capsys, world):
    (world / "tickets.csv").unlink()
    code, out = validate(capsys, world)
    assert code == 1
    assert "tickets / - / - / missing_table" in out


def test_missing_column(capsys, world):
    df = pd.read_csv(world / "accounts.csv", dtype=str, keep_default_na=False)
    df.drop(columns=["seats"]).to_csv(world / "accounts.csv", index=False)
    code, out = validate(capsys, world)
    assert code == 1
    assert "accounts / seats / - / missing_column" in out


def test_duplicate_column(capsys, world):
    path = world / "churn.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",reason", lines[1] + ",again"]) + "\n")
    code, out = validate(capsys, world)
    assert code == 1
    assert "churn / reason / - / duplicate_column" in out


def test_every_violation_is_listed_with_totals(capsys, world):
    df = pd.read_csv(world / "tickets.csv", dtype=str, keep_default_na=False)
    df["priority"] = "P0"
    df.to_csv(world / "tickets.csv", index=False)
    code, out = validate(capsys, world)
    assert code == 1
    for row in range(1, 6):
        assert f"tickets / priority / row {row} (ticket_id=T-{row}) / allowed_values" in out
    assert "tickets.priority allowed_values: 5" in out


def test_sqlite_url(capsys, tmp_path):
    from features.sources import read_tables, write_database

    url = f"sqlite:///{tmp_path / 'h.db'}"
    write_database(read_tables(str(WORLD)), url)
    code, out = validate(capsys, url)
    assert code == 0, out
    assert re.search(r"^  tickets +5 rows$", out, re.MULTILINE)


def test_missing_folder_is_a_clear_error(capsys, tmp_path):
    code, out = validate(capsys, tmp_path / "nope")
    assert code == 1
    assert "no such folder" in out and "Traceback" not in out


def test_corrupt_file_is_a_clear_error(capsys, world):
    (world / "usage.csv").unlink()
    (world / "usage.parquet").write_bytes(b"not parquet at all")
    code, out = validate(capsys, world)
    assert code == 1
    assert "usage.parquet: not a readable parquet file" in out and "Traceback" not in out


def test_console_script_prints_no_traceback_for_bad_input(world):
    """The real entry point, in a child process: a broken row is a report, not a traceback."""
    break_cell(world, "tickets", 2, "created_at", "soon")
    cmd = [
        sys.executable,
        "-m",
        "serving.cli",
        "validate",
        str(world),
        "--params",
        str(ROOT / "params.yaml"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 1
    assert "tickets / created_at / row 2 (ticket_id=T-2) / type" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_custom_field_the_build_would_refuse_fails_validation(capsys, world, tmp_path):
    """validate said "valid" and `escrisk features` then refused the same data."""
    import yaml

    data = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    data["features"]["custom_fields"] = {"nps": {"kind": "float", "unit": "score"}}
    params = tmp_path / "custom.yaml"
    params.write_text(yaml.safe_dump(data), encoding="utf-8")
    accounts = pd.read_csv(world / "accounts.csv", dtype=str, keep_default_na=False)
    accounts["nps"] = ["7", "lots", "n/a"]
    accounts.to_csv(world / "accounts.csv", index=False)
    code = main(["validate", str(world), "--params", str(params)])
    out = capsys.readouterr()
    assert code == 1
    assert (
        "accounts / nps / row 2 (account_id=A-2) / type: custom field declared numeric, got 'lots'"
        in out.out + out.err
    )
    assert main(["validate", str(world), "--lang", "de", "--params", str(params)]) == 1
    assert (
        "accounts / nps / Zeile 2 (account_id=A-2) / type: benutzerdefiniertes Feld ist als Zahl "
        "deklariert, gefunden: 'lots'" in capsys.readouterr().out
    )


def test_absent_tables_and_columns_are_told_in_german(capsys, world):
    """`--lang de` said what an absent table or column disables in English."""
    (world / "usage.csv").unlink()  # the world's accounts have no term_months either
    code, out = validate_de(capsys, world)
    assert code == 0, out
    assert re.search(r"^  usage +fehlt, Nutzungsmerkmale nicht verfügbar$", out, re.MULTILINE)
    assert "accounts.term_months: Spalte fehlt, jeder Vertrag gilt" in out
    assert "unavailable" not in out and "every contract" not in out


def test_a_source_that_cannot_be_read_is_told_in_german(capsys, world, tmp_path):
    """`--lang de` told a CSV saved as Windows-1252 (what German Excel saves) in English."""
    (world / "churn.csv").write_bytes(
        "account_id,churned_at,reason\nA-3,2024-03-01,zu teuer ä\n".encode("cp1252")
    )
    code, out = validate_de(capsys, world)
    assert code == 1
    assert (
        "churn.csv: kein UTF-8-Text (Zeile 2, Byte 53: b'\\xe4'); die CSV als UTF-8 speichern"
        in out
    )
    code, out = validate_de(capsys, tmp_path / "nope")
    assert code == 1 and "nope: kein solcher Ordner" in out


def test_a_german_teams_daily_tells_a_broken_source_wholly_in_german(capsys, world, tmp_path):
    """Under daily.language: de the violations were told in German, then "Run `escrisk
    validate SOURCE` for the full list." in English."""
    text = (ROOT / "params.yaml").read_text(encoding="utf-8")
    german = text.replace("terminal_rows: 20\n  language: en", "terminal_rows: 20\n  language: de")
    (tmp_path / "de.yaml").write_text(german, encoding="utf-8")
    break_cell(world, "tickets", 4, "created_at", "yesterday")
    argv = ["daily", str(world), "--as-of", "2024-03-01", "--params", str(tmp_path / "de.yaml")]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "Die ganze Liste zeigt `escrisk validate QUELLE --lang de`." in err
    assert "Run `escrisk validate" not in err


def test_a_churn_list_without_reasons_is_valid(capsys, world):
    """docs/importers.md asks for a churn.csv of account_id and churned_at, 'optionally reason':
    a CRM list without a reason column was refused with missing_column."""
    churn = pd.read_csv(world / "churn.csv", dtype=str, keep_default_na=False)
    churn.drop(columns=["reason"]).to_csv(world / "churn.csv", index=False)
    code, out = validate(capsys, world)
    assert code == 0, out
    assert "churned accounts: 1" in out
    assert "churn.reason: column absent, churn reasons are unknown" in out
    code = main(["validate", str(world), "--lang", "de", "--params", str(ROOT / "params.yaml")])
    assert code == 0
    assert (
        "churn.reason: Spalte fehlt, Abwanderungsgründe sind unbekannt" in capsys.readouterr().out
    )
