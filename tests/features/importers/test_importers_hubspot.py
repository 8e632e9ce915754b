"""HubSpot exports as users save them: overlapping ticket exports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from serving.cli import main

HS = Path(__file__).resolve().parents[2] / "data" / "importers" / "hubspot"


def test_a_ticket_in_two_exports_is_its_latest_record(tmp_path, capsys):
    """Two exports that overlap (a view of last quarter's tickets and one of the open ones) hold
    a ticket twice: the import was refused ("unique: id appears more than once"). Now the
    record modified last is kept, whichever file comes first, and counted as merged."""
    head = (HS / "tickets.csv").read_text().splitlines()[0] + ",Last modified date"
    older = tmp_path / "tickets_open.csv"
    older.write_text(
        head + "\n7003,Checkout page slow,,Support Pipeline,Waiting on us,MEDIUM,CHAT,"
        "2024-01-08 09:00,,2024-01-08 10:30,Sam Lee,5102,2024-01-08 10:30\n"
    )
    rows = (HS / "tickets.csv").read_text().splitlines()[1:]
    newer = tmp_path / "tickets_q1.csv"
    closed = "7003,Checkout page slow,,Support Pipeline,Closed,HIGH,CHAT,2024-01-08 09:00,2024-01-10 12:00,2024-01-08 10:30,Sam Lee,5102"  # fmt: skip
    body = [closed if r.startswith("7003,") else r for r in rows]
    newer.write_text(head + "\n" + "\n".join(r + ",2024-01-10 12:00" for r in body) + "\n")
    args = ["import", "hubspot", f"tickets={newer}", f"tickets={older}", str(HS / "companies.csv")]
    assert main([*args, "--out", str(tmp_path / "o"), "--params", "params.yaml"]) == 0
    assert "merged 1: duplicate records of the same id" in capsys.readouterr().out
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert t.index.is_unique
    assert (t.loc["7003", "status"], t.loc["7003", "priority"]) == ("closed", "P2")


def test_a_ticket_of_several_companies_is_the_first_the_companies_export_holds(tmp_path):
    """`Associated Company IDs` lists a ticket's companies (`5199;5102`): the first was taken
    even where the companies export lacks it (a company deleted since, or out of the exported
    view), and the whole import was refused for that one ticket."""
    rows = (HS / "tickets.csv").read_text().splitlines()
    rows = [r.replace(",5102", ",5199;5102") if r.startswith("7003,") else r for r in rows]
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("\n".join(rows) + "\n")
    args = ["import", "hubspot", f"tickets={tickets}", str(HS / "companies.csv")]
    assert main([*args, "--out", str(tmp_path / "o"), "--params", "params.yaml"]) == 0
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert t.loc["7003", "account_id"] == "5102"


def test_a_ticket_of_no_exported_company_is_skipped_and_named(tmp_path, capsys):
    """A ticket whose associated companies are all missing from the companies export (deleted
    since, or outside the exported view) refused the whole import as a foreign-key violation;
    Zendesk skips such tickets. Now it is skipped, counted and named with its company ids."""
    rows = (HS / "tickets.csv").read_text().splitlines()
    rows = [r.replace(",5102", ",5199;5198") if r.startswith("7003,") else r for r in rows]
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("\n".join(rows) + "\n")
    args = ["import", "hubspot", f"tickets={tickets}", str(HS / "companies.csv")]
    assert main([*args, "--out", str(tmp_path / "o"), "--params", "params.yaml"]) == 0
    out = capsys.readouterr().out
    assert "skipped 1: none of its companies (Associated Company IDs) in the companies" in out
    assert "tickets.csv line 4 (ticket_id=7003, company_ids=5199;5198)" in out
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet")
    assert sorted(t["ticket_id"]) == ["7001", "7002"]
    assert (
        main([*args, "--out", str(tmp_path / "d"), "--params", "params.yaml", "--lang", "de"]) == 0
    )
    assert (
        "keine seiner Firmen (Associated Company IDs) im Firmen-Export" in capsys.readouterr().out
    )


def test_ids_a_spreadsheet_saved_in_scientific_notation_are_named(tmp_path, capsys):
    """HubSpot's ids are long numbers: opened and saved in Excel they become `1.84374E+10`,
    their last digits lost. Mangled alike in both files the import went through, two
    companies that share the first digits becoming one account; now each such id is refused
    at its file and line, saying a spreadsheet saved the file and what to do."""
    tickets = tmp_path / "tickets.csv"
    rows = (HS / "tickets.csv").read_text().splitlines()
    tickets.write_text("\n".join(r.replace("5102", "1.84374E+10") for r in rows) + "\n")
    companies = tmp_path / "companies.csv"
    rows = (HS / "companies.csv").read_text().splitlines()
    companies.write_text("\n".join(r.replace("5102,", "1.84374E+10,", 1) for r in rows) + "\n")
    args = ["import", "hubspot", f"tickets={tickets}", str(companies), "--params", "params.yaml"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    said = "type: '1.84374E+10' is an id in scientific notation: the file was probably opened"
    assert f"hubspot / Record ID / companies.csv line 3 / {said}" in err
    assert "hubspot / Associated Company IDs / tickets.csv line 4 / type: '1.84374E+10'" in err
    assert "hubspot / Associated Company IDs / tickets.csv line 3 / type: '5101;1.84374E+10'" in err
    assert not (tmp_path / "o").exists()
    # only the companies mangled: every ticket skipped as of no known company, and the cause
    # told rather than "no tickets to import"
    rows = (HS / "tickets.csv").read_text().splitlines()
    tickets.write_text(rows[0] + "\n" + rows[1] + "\n")  # 7001, of 5101
    rows = (HS / "companies.csv").read_text().splitlines()
    companies.write_text("\n".join(r.replace("5101,", "1.84373E+10,", 1) for r in rows) + "\n")
    assert main([*args, "--out", str(tmp_path / "o"), "--lang", "de"]) == 1
    err = capsys.readouterr().err
    assert "hubspot / Record ID / companies.csv Zeile 2 / type: '1.84373E+10' ist eine ID" in err
    assert "keine Tickets zu importieren" not in err


def test_an_id_that_only_looks_like_an_exponent_is_kept():
    """A spreadsheet writes its scientific notation with a sign (1.84374E+10); an id such as
    12E4 or 3e10 (a company code, a hex-like key) was refused as a mangled number."""
    from features.importers.common import _SCIENTIFIC

    assert _SCIENTIFIC.fullmatch("1.84374E+10") and _SCIENTIFIC.fullmatch("2E+10")
    assert not any(_SCIENTIFIC.fullmatch(v) for v in ("12E4", "3e10", "1.5E10", "AB12E+4"))


def test_a_reopened_ticket_with_an_old_close_date_is_unresolved(tmp_path, capsys):
    """HubSpot keeps a ticket's Close date when it is reopened: 7003, waiting on us again, was
    imported as resolved on its old close date, so no open-ticket count of any later day held
    it. An open ticket's close date is now dropped, and the report says which tickets."""
    rows = (HS / "tickets.csv").read_text().splitlines()
    rows = [
        r.replace("2024-01-08 09:00,,", "2024-01-08 09:00,2024-01-09 12:00,")
        if r.startswith("7003,")
        else r
        for r in rows
    ]
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("\n".join(rows) + "\n")
    args = ["import", "hubspot", f"tickets={tickets}", str(HS / "companies.csv")]
    assert main([*args, "--out", str(tmp_path / "o"), "--params", "params.yaml"]) == 0
    out = capsys.readouterr().out
    assert (
        "1 ticket is open again, reopened since it was closed: its old close date (Close date)"
        in out
    )
    assert "is dropped, read as unresolved (7003)" in out
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert t.loc["7003", "status"] == "open" and pd.isna(t.loc["7003", "resolved_at"])
    assert t.loc["7001", "resolved_at"] == pd.Timestamp("2024-01-04 17:00", tz="UTC")


def test_a_company_in_two_exports_is_one_account(tmp_path, capsys):
    """Two companies exports that overlap (two owners' views) hold a company twice: the import
    was refused ("unique: id appears more than once"), though tickets of two exports were
    merged. Now records equal in every column are one, and records that differ the one
    modified last; ones that differ with no modified date to choose by are still refused."""
    head, *rows = (HS / "companies.csv").read_text().splitlines()
    a, b = tmp_path / "companies_a.csv", tmp_path / "companies_b.csv"
    a.write_text(
        f"{head},Last Modified Date\n{rows[0]},2024-01-02 10:00\n{rows[1]},2024-01-02 10:00\n"
    )
    changed = rows[0].replace("Enterprise", "Business")
    b.write_text(
        f"{head},Last Modified Date\n{changed},2024-02-01 09:00\n{rows[1]},2024-01-02 10:00\n"
    )
    tickets = f"tickets={HS / 'tickets.csv'}"
    args = [
        "import",
        "hubspot",
        tickets,
        f"companies={b}",
        f"companies={a}",
        "--params",
        "params.yaml",
    ]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0
    assert "merged 2: duplicate records of the same id" in capsys.readouterr().out
    accounts = pd.read_parquet(tmp_path / "o" / "accounts.parquet").set_index("account_id")
    assert sorted(accounts.index) == ["5101", "5102"]
    assert accounts.loc["5101", "tier"] == "business"
    b.write_text(f"{head}\n{changed}\n")
    a.write_text(f"{head}\n{rows[0]}\n{rows[1]}\n")
    assert main([*args, "--out", str(tmp_path / "p")]) == 1
    assert "companies_b.csv line 2 (account_id=5101) / unique" in capsys.readouterr().err


def test_a_companies_export_of_only_its_header_is_refused_saying_so(tmp_path, capsys):
    """With tickets of companies the export lacks skipped, a companies export of only its
    header left every ticket skipped, refused as "no tickets to import": its own emptiness is
    the cause to tell."""
    companies = tmp_path / "companies.csv"
    companies.write_text((HS / "companies.csv").read_text().splitlines()[0] + "\n")
    args = ["import", "hubspot", f"tickets={HS / 'tickets.csv'}", f"companies={companies}"]
    assert main([*args, "--out", str(tmp_path / "o"), "--params", "params.yaml"]) == 1
    err = capsys.readouterr().err
    assert f"{companies}: no companies to import" in err and "no tickets" not in err
