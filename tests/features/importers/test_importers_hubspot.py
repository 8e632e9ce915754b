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
