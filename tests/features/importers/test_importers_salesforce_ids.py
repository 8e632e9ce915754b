"""A Case export's record id: `Id` (or `sf_Id`, as the tickets table keeps it), and what a Case
export without it can and cannot be matched with."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from serving.cli import main

SF = Path(__file__).resolve().parents[2] / "data" / "importers" / "salesforce"


def _cases(tmp_path: Path, header: str | None) -> Path:
    """Case.csv with its Id column renamed to `header`, or without it (None)."""
    rows = list(csv.reader((SF / "Case.csv").open(newline="")))
    if header is None:
        rows = [r[1:] for r in rows]
    else:
        rows[0][0] = header
    path = tmp_path / "Case.csv"
    with path.open("w", newline="") as f:
        csv.writer(f, quoting=csv.QUOTE_ALL).writerows(rows)
    return path


def _import(tmp_path: Path, cases: Path, *more: str, lang: str = "en") -> int:
    args = ["import", "salesforce", str(cases), str(SF / "Account.csv"), *more]
    return main([*args, "--out", str(tmp_path / "out"), "--lang", lang])


def test_an_sf_id_column_is_the_case_id(tmp_path, capsys):
    """A Case file with sf_Id (as the tickets table names it) had its case numbers written as
    sf_Id, the ids as sf_sf_Id, and all its CaseHistory skipped as of tickets not imported."""
    cases = _cases(tmp_path, "sf_Id")
    assert _import(tmp_path, cases, str(SF / "CaseHistory.csv")) == 0, capsys.readouterr().err
    assert "of a ticket not imported" not in capsys.readouterr().out
    tickets = pd.read_parquet(tmp_path / "out" / "tickets.parquet").set_index("ticket_id")
    assert tickets.loc["00001001", "sf_Id"] == "5005g00000Aa001AAB"  # its 18-character form
    assert "sf_sf_Id" not in tickets


def test_a_case_export_without_id_writes_no_sf_id_and_refuses_history_it_cannot_match(
    tmp_path, capsys
):
    cases = _cases(tmp_path, None)
    assert _import(tmp_path, cases) == 0, capsys.readouterr().err
    tickets = pd.read_parquet(tmp_path / "out" / "tickets.parquet")
    assert "sf_Id" not in tickets  # not the case numbers under the Id's name
    capsys.readouterr()
    for part in ("CaseHistory.csv", "CaseMilestone.csv"):
        assert _import(tmp_path, cases, str(SF / part)) == 1
        err = capsys.readouterr().err
        assert (
            f"{part}: its rows name cases by CaseId, but the Case export (Case.csv) has no Id"
            in err
        )
    assert _import(tmp_path, cases, str(SF / "CaseHistory.csv"), lang="de") == 1
    assert "hat keine Spalte Id" in capsys.readouterr().err


def test_a_case_of_an_account_the_account_export_lacks_is_skipped_and_named(tmp_path, capsys):
    """A case of an account not in the Account export (deleted since, or left out of a filtered
    report) refused the whole import as a foreign-key violation; Zendesk and HubSpot skip such
    tickets. Now it is skipped, counted and named with its account, and its CaseHistory and
    milestone rows are told as of a ticket not imported (no escalation of no known ticket)."""
    cases = tmp_path / "Case.csv"
    cases.write_text(
        (SF / "Case.csv").read_text().replace("0015g00000GlobAAA", "0015g00000GoneAAA")
    )
    files = [f"cases={cases}", f"accounts={SF / 'Account.csv'}",
             f"case_history={SF / 'CaseHistory.csv'}", f"milestones={SF / 'CaseMilestone.csv'}"]  # fmt: skip
    assert main(["import", "salesforce", *files, "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "skipped 1: account (AccountId) not in the accounts export" in out
    assert "e.g. Case.csv line 4 (ticket_id=00001003, account_id=0015g00000GoneAAA)" in out
    assert "e.g. CaseHistory.csv line 4 (case=5005g00000Aa003)" in out
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet")
    assert sorted(t["ticket_id"]) == ["00001001", "00001002", "00001005"]
    e = pd.read_parquet(tmp_path / "o" / "escalations.parquet")
    assert set(e["ticket_id"]) <= set(t["ticket_id"])


def test_an_account_in_two_reports_is_one_account(tmp_path, capsys):
    """Two account reports that overlap hold an account twice: the import was refused as a
    repeated id. Now the record modified last (LastModifiedDate) is kept, counted as merged."""
    head, *rows = (SF / "Account.csv").read_text().splitlines()
    old, new = tmp_path / "Account_old.csv", tmp_path / "Account_new.csv"
    old.write_text(f'{head},"LastModifiedDate"\n' + "\n".join(r + ',"2024-01-01T00:00:00.000+0000"' for r in rows) + "\n")  # fmt: skip
    newer = [r for r in rows if "AcmeAAA" in r][0].replace(
        "Acme Logistics GmbH", "Acme Logistics AG"
    )
    new.write_text(f'{head},"LastModifiedDate"\n{newer},"2024-03-01T00:00:00.000+0000"\n')
    files = [f"cases={SF / 'Case.csv'}", f"accounts={new}", f"accounts={old}"]
    assert main(["import", "salesforce", *files, "--out", str(tmp_path / "o")]) == 0
    assert "merged 1: duplicate records of the same id" in capsys.readouterr().out
    a = pd.read_parquet(tmp_path / "o" / "accounts.parquet").set_index("account_id")
    assert a.index.is_unique and a.loc["0015g00000AcmeAAA", "name"] == "Acme Logistics AG"
