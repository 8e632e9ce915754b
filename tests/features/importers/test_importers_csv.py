"""CSV exports as the tools write them: encodings, separators, line ends."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml

from serving.cli import main

HS = Path(__file__).resolve().parents[2] / "data" / "importers" / "hubspot"


def test_a_utf8_export_without_bom_is_utf8_whatever_csv_encoding_says(tmp_path, capsys):
    """With importers.csv_encoding cp1252 (for the CRM's files), a HubSpot export in UTF-8
    without a byte-order mark had 'Müller' written as 'MÃ¼ller', silently."""
    src = (HS / "companies.csv").read_text()
    companies = tmp_path / "companies.csv"
    companies.write_bytes(src.replace("Acme Logistics GmbH", "Müller & Söhne").encode("utf-8"))
    data = yaml.safe_load(Path("params.yaml").read_text())
    data["importers"]["csv_encoding"] = "cp1252"
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(data))
    args = ["import", "hubspot", str(HS / "tickets.csv"), str(companies), "--params", str(params)]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0, capsys.readouterr().err
    names = set(pd.read_parquet(tmp_path / "o" / "accounts.parquet")["name"])
    assert "Müller & Söhne" in names
    # a file in the code page itself is still read in it
    companies.write_bytes(src.replace("Acme Logistics GmbH", "Müller & Söhne").encode("cp1252"))
    assert main([*args, "--out", str(tmp_path / "o2")]) == 0, capsys.readouterr().err
    assert "Müller & Söhne" in set(pd.read_parquet(tmp_path / "o2" / "accounts.parquet")["name"])


def test_a_german_salesforce_report_footer_is_skipped_not_an_account(tmp_path, capsys):
    """A report in German ends with its own confidentiality line: it became an account
    'Vertraulich - Nicht weitergeben', refused for lack of a contract start."""
    sf = HS.parent / "salesforce"
    accounts = tmp_path / "Account.csv"
    accounts.write_text(
        (sf / "Account.csv").read_text()
        + '""\n"Vertraulich - Nicht weitergeben"\n'
        + '"Copyright (c) 2000-2025 salesforce.com, inc. Alle Rechte vorbehalten."\n'
    )
    args = ["import", "salesforce", str(sf / "Case.csv"), str(accounts)]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0, capsys.readouterr().err
    assert "skipped 2: the report's footer" in capsys.readouterr().out
    ids = set(pd.read_parquet(tmp_path / "o" / "accounts.parquet")["account_id"])
    assert not any("Vertraulich" in i for i in ids)


def test_a_first_record_with_an_unquoted_separator_is_refused_not_shifted(tmp_path, capsys):
    """'Sync, jobs failing' unquoted gave the first record one field too many: pandas took the
    ticket ids for row labels, so ticket 7001 was written with id 'Sync' and every value one
    column over, and 7002 was skipped as of no account."""
    lines = (HS / "tickets.csv").read_text().splitlines()
    lines[1] = lines[1].replace("Sync jobs failing", "Sync, jobs failing")
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("\n".join(lines) + "\n")
    args = ["import", "hubspot", str(tickets), str(HS / "companies.csv")]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "tickets.csv, line 2: 13 fields, but the header has 12" in err
    assert not (tmp_path / "o" / "tickets.parquet").exists()
    assert main([*args, "--out", str(tmp_path / "o"), "--lang", "de"]) == 1
    assert "Zeile 2: 13 Felder, aber die Kopfzeile hat 12" in capsys.readouterr().err


def test_an_excel_sep_line_is_read_as_the_separator_not_as_the_header(tmp_path, capsys):
    """`escrisk validate` read Excel's `sep=;` hint; the importers took it for the header and
    refused the file: "required field 'Ticket ID' not found; its columns are: sep=, Unnamed: 1"."""
    text = (HS / "tickets.csv").read_text().replace(",", ";")
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("sep=;\n" + text.replace("5101;5102", '"5101;5102"'))
    args = ["import", "hubspot", str(tickets), str(HS / "companies.csv")]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0, capsys.readouterr().err
    assert set(pd.read_parquet(tmp_path / "o" / "tickets.parquet")["ticket_id"]) == {
        "7001",
        "7002",
        "7003",
    }


def test_a_nul_byte_does_not_cut_a_value(tmp_path, capsys):
    """pandas' fast parser ended a field at a NUL: the body 'All\\x00 nightly sync jobs ...'
    was written as 'All', silently."""
    tickets = tmp_path / "tickets.csv"
    tickets.write_text((HS / "tickets.csv").read_text().replace("All nightly", "All\x00 nightly"))
    args = ["import", "hubspot", str(tickets), str(HS / "companies.csv")]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0, capsys.readouterr().err
    out = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert out.loc["7001", "body"] == "All\x00 nightly sync jobs fail with a timeout."


def test_a_row_after_a_blank_line_is_named_by_its_own_line(tmp_path, capsys):
    """pandas skips a blank line, so every error after one named the line above its row."""
    lines = (HS / "tickets.csv").read_text().splitlines()
    lines[3] = lines[3].replace("MEDIUM", "MITTEL")
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("\n".join([*lines[:3], "", *lines[3:]]) + "\n")
    args = ["import", "hubspot", str(tickets), str(HS / "companies.csv")]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "hubspot tickets / Priority / tickets.csv line 5 / unknown_value: 'MITTEL'" in err


def test_a_creation_date_column_in_another_language_can_be_named(tmp_path, capsys):
    """A German companies export calls Create Date 'Erstelldatum': a company without tickets
    was refused for lack of a contract start, and no setting could name the column."""
    lines = (HS / "companies.csv").read_text().splitlines()
    lines[0] = lines[0].replace("Create Date", "Erstelldatum")
    lines.append("5103,Initech,Sam Lee,2023-09-01 08:00,Germany,Tech,Business,1000,5,,,de")
    companies = tmp_path / "companies.csv"
    companies.write_text("\n".join(lines) + "\n")
    args = ["import", "hubspot", str(HS / "tickets.csv"), str(companies)]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    assert "importers.hubspot.company_fields.created" in capsys.readouterr().err
    data = yaml.safe_load(Path("params.yaml").read_text())
    data["importers"]["hubspot"]["company_fields"]["created"] = "Erstelldatum"
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(data))
    assert main([*args, "--out", str(tmp_path / "o"), "--params", str(params)]) == 0
    accounts = pd.read_parquet(tmp_path / "o" / "accounts.parquet").set_index("account_id")
    assert accounts.loc["5103", "contract_start"] == pd.Timestamp("2023-09-01", tz="UTC")


def test_a_byte_not_in_the_encoding_is_named_by_its_offset_in_the_file(tmp_path, capsys):
    """The parser decodes in blocks: a Latin-1 'ö' 600 kB into the file was said at an offset
    inside the block it was decoding."""
    lines = (HS / "tickets.csv").read_text().splitlines()
    rows = [lines[0], *(lines[1].replace("7001", str(100000 + i)) for i in range(4000))]
    rows.append(lines[1].replace("7001", "999999").replace("Sync", "Sönc"))
    data = ("\n".join(rows) + "\n").encode("latin-1")
    tickets = tmp_path / "tickets.csv"
    tickets.write_bytes(data)
    args = ["import", "hubspot", str(tickets), str(HS / "companies.csv")]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    at = data.index("ö".encode("latin-1"))
    assert "tickets.csv, line 4002, column 'Ticket name': not utf-8 text (byte 0xf6 " in err
    assert f"at offset {at}, in 'S\ufffdnc jobs failing')" in err


def test_a_byte_not_in_the_encoding_is_named_by_its_line_and_column(tmp_path, capsys):
    """A Salesforce export in cp1252 was said "byte 0x96 at offset 1183": which ticket, which
    field, was left to a hex editor. The line counts as the other errors' lines do (a line
    break inside a quoted description starts none), in English and German."""
    lines = (HS / "tickets.csv").read_text().splitlines()
    first = lines[1].replace("All nightly sync jobs fail", '"All nightly\nsync jobs fail')
    first = first.replace("timeout.,", 'timeout.",')
    rows = [lines[0], first, *lines[2:]]
    rows[3] = rows[3].replace(rows[3].split(",")[2], "Fehler – siehe Log", 1)
    data = ("\n".join(rows) + "\n").encode("cp1252")
    tickets = tmp_path / "tickets.csv"
    tickets.write_bytes(data)
    args = ["import", "hubspot", str(tickets), str(HS / "companies.csv")]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "tickets.csv, line 4, column 'Ticket description': not utf-8 text (byte 0x96" in err
    assert "'Fehler \ufffd siehe Log'" in err
    assert main([*args, "--out", str(tmp_path / "o"), "--lang", "de"]) == 1
    err = capsys.readouterr().err
    assert "tickets.csv, Zeile 4, Spalte 'Ticket description': kein utf-8-Text (Byte 0x96" in err


def test_a_utf8_export_is_utf8_where_a_character_straddles_the_sniffed_block(tmp_path, capsys):
    """The UTF-8 check read 4 bytes past its 64 KiB block and decoded them as the file's end: a
    character cut there (one umlaut or euro sign in a hundred bytes of a German export) made a
    UTF-8 file 'not UTF-8', and with csv_encoding cp1252 every umlaut became two characters."""
    lines = (HS / "tickets.csv").read_text().splitlines()
    head = "\n".join([lines[0], *(lines[1].replace("7001", str(100000 + i)) for i in range(300))])
    head = (head + "\n").encode()
    row = lines[1].replace("7001", "999999").replace("All nightly", "{pad}Gröab€")
    before = row[: row.index("{pad}")].encode()
    pad = (1 << 16) - 1 - len(head) - len(before) - len("Gr")  # ö's first byte ends the block
    data = head + row.replace("{pad}", "x" * pad).encode() + b"\n"
    assert data[(1 << 16) - 1 : (1 << 16) + 1] == "ö".encode()
    tickets = tmp_path / "tickets.csv"
    tickets.write_bytes(data)
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["importers"]["csv_encoding"] = "cp1252"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    args = ["import", "hubspot", str(tickets), str(HS / "companies.csv")]
    args += ["--params", str(tmp_path / "params.yaml"), "--out", str(tmp_path / "o")]
    assert main(args) == 0, capsys.readouterr().err
    out = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert out.loc["999999"].astype(str).str.contains("Gröab€ sync jobs fail").any()


@pytest.mark.parametrize("nul", [False, True])
def test_a_later_record_with_an_unquoted_separator_is_refused_with_its_line(nul, tmp_path, capsys):
    """A file holding a NUL byte is read by pandas' Python parser, which dropped a later
    record's extra value with a warning: ticket 7002 ('Wie exportiere ich, Berichte?') had every
    value one column over and was skipped as having no account. Without a NUL the parser's own
    English message counted lines from the file's start."""
    lines = (HS / "tickets.csv").read_text().splitlines()
    if nul:
        lines[1] = lines[1].replace("All nightly", "All\x00nightly")
    lines[2] = lines[2].replace("Wie exportiere ich Berichte?", "Wie exportiere ich, Berichte?")
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("\n".join(lines) + "\n")
    args = ["import", "hubspot", f"tickets={tickets}", str(HS / "companies.csv")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas' ParserWarning: "leads to a loss of data"
        assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert f"{tickets}, line 3: 13 fields, but the header has 12" in err, err
    assert not (tmp_path / "o" / "tickets.parquet").exists()


def test_a_semicolon_header_with_a_comma_in_a_column_name_is_split_on_semicolons(tmp_path, capsys):
    """`Id;"Umsatz, EUR"` (and German Excel's unquoted `Id;Umsatz, EUR`) split into two names
    under commas, so the file was read as comma-separated and its Id column not found."""
    sf = HS.parent / "salesforce"
    rows = [r.replace('","', '";"') for r in (sf / "Account.csv").read_text().splitlines()]
    for quoted in (True, False):
        name = '"Umsatz, EUR"' if quoted else "Umsatz, EUR"
        text = [rows[0] + ";" + name, *(r + ';"84.000"' for r in rows[1:])]
        accounts = tmp_path / "Account.csv"
        accounts.write_text("\n".join(text) + "\n")
        out = tmp_path / f"o{quoted}"
        args = ["import", "salesforce", str(sf / "Case.csv"), str(accounts), "--out", str(out)]
        assert main(args) == 0, capsys.readouterr().err
        acc = pd.read_parquet(out / "accounts.parquet").set_index("account_id")
        assert acc.loc["0015g00000AcmeAAA", "name"] == "Acme Logistics GmbH"
        assert set(acc["sf_Umsatz, EUR"]) == {"84.000"}


def test_a_later_bad_record_is_named_by_its_line_in_the_users_language(tmp_path, capsys):
    """A record beyond the first with a field too many, or a quote never closed, stopped the
    import with pandas' English reason inside the German message, over two lines."""
    lines = (HS / "tickets.csv").read_text().splitlines()
    extra = [*lines[:3], lines[3].replace("MEDIUM", "MEDIUM,extra", 1), *lines[4:]]
    open_quote = [*lines[:3], lines[3].replace("MEDIUM", '"MEDIUM', 1), *lines[4:]]
    tickets = tmp_path / "tickets.csv"
    args = ["import", "hubspot", str(tickets), str(HS / "companies.csv"), "--lang", "de"]
    tickets.write_text("\n".join(extra) + "\n")
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "tickets.csv, Zeile 4: 13 Felder, aber die Kopfzeile hat 12" in err
    assert "Error tokenizing" not in err and len(err.strip().splitlines()) == 1
    tickets.write_text("\n".join(open_quote) + "\n")
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "tickets.csv, Zeile 4: ein Wert öffnet ein Anführungszeichen" in err
    assert "EOF" not in err


@pytest.mark.parametrize("sep_line", [False, True])
def test_a_bad_record_after_a_line_break_in_a_value_or_a_sep_line_is_named_by_its_row(
    sep_line, tmp_path, capsys
):
    """Records are rows as a spreadsheet shows them (header row 1, a value's line breaks start
    no row, Excel's `sep=` line hidden), as every other error names them; a record with a field
    too many or an open quote was named by the file's physical line: one row further down for
    each line break in a value above it, and one more below an Excel `sep=` line."""
    lines = (HS / "tickets.csv").read_text().splitlines()
    lines[1] = (
        lines[1]
        .replace("All nightly sync", '"All nightly\nsync', 1)
        .replace("timeout.,", 'timeout.",', 1)
    )
    head = ["sep=,"] if sep_line else []
    tickets = tmp_path / "tickets.csv"
    args = ["import", "hubspot", f"tickets={tickets}", str(HS / "companies.csv")]
    for bad, said in (
        ("MEDIUM,extra", "13 fields, but the header has 12"),
        ('"MEDIUM', "a value opens a quote"),
    ):
        rows = [*head, *lines[:3], lines[3].replace("MEDIUM", bad, 1), *lines[4:]]
        tickets.write_text("\n".join(rows) + "\n")
        assert main([*args, "--out", str(tmp_path / "o")]) == 1
        err = capsys.readouterr().err
        assert f"tickets.csv, line 4: {said}" in err, err


def test_an_export_with_old_mac_line_ends_is_read(tmp_path, capsys):
    """Excel for Mac's 'CSV (Macintosh)' ends lines with a lone CR: the separator sniffing read
    the whole file as one line and the import was an internal error (exit 2)."""
    for name in ("companies.csv", "tickets.csv"):
        data = (HS / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r")
        (tmp_path / name).write_bytes(data)
    args = ["import", "hubspot", str(tmp_path / "companies.csv"), str(tmp_path / "tickets.csv")]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0, capsys.readouterr().err
    assert "tickets.csv line 5 (ticket_id=7004)" in capsys.readouterr().out
    assert len(pd.read_parquet(tmp_path / "o" / "tickets.parquet")) == 3


def test_utf16_without_a_byte_order_mark_is_named_as_utf16(tmp_path, capsys):
    """Read as UTF-8 its NULs became characters: 'required field 'Ticket ID' not found; its
    columns are: T i c k e t   I D'; read with csv_encoding utf-16, an internal error."""
    tickets = tmp_path / "tickets.csv"
    tickets.write_bytes((HS / "tickets.csv").read_text().encode("utf-16-le"))
    args = ["import", "hubspot", str(tickets), str(HS / "companies.csv")]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "tickets.csv: UTF-16 text" in err and "CSV UTF-8" in err, err
