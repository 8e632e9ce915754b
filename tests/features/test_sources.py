"""Reading and writing sources: folders of CSV/Parquet files, SQLite and PostgreSQL URLs."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from features.contract import TABLES, History
from features.errors import DataValidationError, UserError
from features.sources import (
    _as_mapping,
    describe,
    load_history,
    read_tables,
    write_database,
    write_tables,
)

WORLD = Path(__file__).resolve().parents[1] / "data" / "contract" / "world"
NOW = pd.Timestamp("2024-06-01", tz="UTC")


@pytest.fixture
def world(tmp_path: Path) -> Path:
    folder = tmp_path / "world"
    shutil.copytree(WORLD, folder)
    return folder


@pytest.fixture
def history(params) -> History:
    return load_history(str(WORLD), params.contract, NOW)


def assert_same(a: History, b: History) -> None:
    for name in TABLES:
        left, right = a.table(name), b.table(name)
        assert (left is None) == (right is None), name
        if left is not None:
            pd.testing.assert_frame_equal(left, right, obj=name)


def test_csv_is_read_as_text(world):
    raw = read_tables(str(world))
    assert all(dtype == "object" for dtype in raw["accounts"].dtypes)
    assert raw["accounts"].loc[1, "region"] == "NA"
    assert raw["tickets"].loc[1, "csat"] == ""


def test_load_history_reports_absent_tables(world, params):
    (world / "usage.csv").unlink()
    (world / "churn.csv").unlink()
    history = load_history(str(world), params.contract, NOW)
    assert history.usage is None and history.churn is None
    assert history.missing == ["usage", "churn"]


@pytest.mark.parametrize(
    ("table", "renamed", "said"),
    [
        ("accounts", "Accounts.CSV", "named in lower case; rename it to accounts.csv"),
        ("usage", "usage.csv.gz", "not read (tables are usage.parquet or usage.csv, uncompressed)"),
        ("usage", "USAGE.xlsx", "not read"),
    ],
)
def test_a_table_file_that_would_be_passed_over_is_named(world, table, renamed, said):
    """Not read as a source without that table (which validates, and scores, without it)."""
    (world / f"{table}.csv").rename(world / renamed)
    with pytest.raises(UserError, match=re.escape(said)) as err:
        read_tables(str(world))
    assert renamed in str(err.value)


def test_files_of_other_names_are_left_alone(world):
    (world / "notes.txt").write_text("x")
    (world / "usage_old.csv.gz").write_bytes(b"x")
    assert read_tables(str(world))["usage"] is not None


def test_load_history_names_the_source(world, params):
    text = (world / "tickets.csv").read_text().replace("T-2,A-1", "T-2,A-404")
    (world / "tickets.csv").write_text(text)
    with pytest.raises(DataValidationError) as err:
        load_history(str(world), params.contract, NOW)
    assert err.value.source == str(world)
    assert "tickets / account_id / row 2 (ticket_id=T-2) / foreign_key" in str(err.value)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_then_read_round_trips(tmp_path, params, history, fmt):
    written = write_tables(history, tmp_path / "out", fmt=fmt)
    assert sorted(p.name for p in written) == sorted(f"{n}.{fmt}" for n in TABLES)
    again = load_history(str(tmp_path / "out"), params.contract, NOW)
    assert_same(history, again)


def test_dates_in_another_zone_read_the_same_from_csv_and_parquet(tmp_path, params, history):
    """A date column of Berlin midnights written as CSV said each local day, and as Parquet the
    instant, which the contract reads as the UTC day before: one table, two histories."""
    days = history.usage["date"].dt.tz_localize(None)
    usage = history.usage.assign(date=days.dt.tz_localize("Europe/Berlin"))
    read = {}
    for fmt in ("csv", "parquet"):
        tables = {n: history.table(n) for n in ("accounts", "tickets", "escalations", "churn")}
        write_tables({**tables, "usage": usage}, tmp_path / fmt, fmt=fmt)
        read[fmt] = load_history(str(tmp_path / fmt), params.contract, NOW).usage["date"]
    assert read["csv"].tolist() == read["parquet"].tolist()
    assert read["csv"].iloc[0] == history.usage["date"].iloc[0] - pd.Timedelta(days=1)


def test_csv_dates_are_written_as_plain_dates(tmp_path, history):
    write_tables(history, tmp_path, fmt="csv")
    header, first = (tmp_path / "usage.csv").read_text().splitlines()[:2]
    assert first.startswith("A-1,2024-01-02,")


def test_write_replaces_the_other_format_and_leaves_other_tables(tmp_path, history):
    write_tables(history, tmp_path, fmt="csv")
    write_tables({"tickets": history.tickets, "usage": None}, tmp_path, fmt="parquet")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "tickets.parquet" in names and "tickets.csv" not in names
    assert "usage.csv" in names and "accounts.csv" in names
    assert not [n for n in names if n.endswith(".tmp")]


def test_a_write_that_fails_part_way_leaves_the_folder_as_it_was(tmp_path, history, monkeypatch):
    """A disk that filled at the third table (`escrisk simulate`, `import`) left the first two
    new beside the old others: a world of today's accounts and yesterday's tickets."""
    import errno

    write_tables(history, tmp_path, fmt="parquet")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    to_parquet = pd.DataFrame.to_parquet
    calls = []

    def disk_fills(self, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return to_parquet(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", disk_fills)
    changed = {n: df.iloc[:1] for n, df in _as_mapping(history).items() if df is not None}
    with pytest.raises(UserError, match="cannot write the table .No space left on device"):
        write_tables(changed, tmp_path, fmt="parquet")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_read_only_folder_is_told_as_a_table_not_written(tmp_path, history, monkeypatch):
    """A read-only mount refuses even the removal of a temporary file never made: the
    clean-up's OSError escaped as an internal error."""
    import errno
    import pathlib

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", read_only)
    monkeypatch.setattr(pathlib.Path, "unlink", read_only)
    with pytest.raises(UserError, match="cannot write the table .Read-only file system"):
        write_tables(history, tmp_path, fmt="parquet")


def test_write_makes_mixed_extra_columns_parquet_safe(tmp_path, params, history):
    accounts = history.accounts.assign(industry=["retail", 7, None])
    write_tables({"accounts": accounts, "tickets": history.tickets}, tmp_path)
    again = read_tables(str(tmp_path))
    assert list(again["accounts"]["industry"]) == ["retail", "7", None]


def test_write_keeps_a_missing_value_of_a_mixed_column_missing(tmp_path, params, history):
    """A Zendesk checkbox field on some tickets' forms only: True, True and NaN for the ticket
    without it; the NaN was written as the text 'nan'."""
    accounts = history.accounts.assign(zendesk_custom_7=[True, float("nan"), pd.NA])
    write_tables({"accounts": accounts, "tickets": history.tickets}, tmp_path)
    again = read_tables(str(tmp_path))
    assert list(again["accounts"]["zendesk_custom_7"]) == ["True", None, None]


def test_write_rejects_unknown_format_and_tables(tmp_path, history):
    with pytest.raises(UserError, match="unknown table format"):
        write_tables(history, tmp_path, fmt="xlsx")
    with pytest.raises(ValueError, match="not contract tables"):
        write_tables({"acounts": history.accounts}, tmp_path)


def test_both_formats_for_one_table_is_an_error(world, history):
    history.usage.to_parquet(world / "usage.parquet")
    with pytest.raises(UserError, match=r"both usage.parquet and usage.csv exist"):
        read_tables(str(world))


def test_missing_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no such folder"):
        read_tables(str(tmp_path / "nope"))


def test_a_file_is_not_a_folder(world):
    with pytest.raises(UserError, match="not a folder"):
        read_tables(str(world / "accounts.csv"))


def test_folder_without_tables_is_a_user_error(tmp_path):
    (tmp_path / "readme.txt").write_text("hello")
    with pytest.raises(UserError, match="no contract tables"):
        read_tables(str(tmp_path))


def test_broken_parquet_is_a_user_error(world):
    (world / "usage.csv").unlink()
    (world / "usage.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(UserError, match=r"usage.parquet: not a readable parquet file"):
        read_tables(str(world))


def test_empty_csv_is_a_user_error(world):
    (world / "churn.csv").write_text("")
    with pytest.raises(UserError, match=r"churn.csv: the file is empty"):
        read_tables(str(world))


def test_non_utf8_csv_is_a_user_error(world):
    (world / "churn.csv").write_bytes(
        "account_id,churned_at,reason\nA-3,2024-03-01,zu teuer \xe4\n".encode("latin-1")
    )
    with pytest.raises(UserError, match=r"churn.csv: not UTF-8"):
        read_tables(str(world))


def test_non_utf8_csv_names_the_line_of_the_bad_byte_deep_in_the_file(world):
    """pandas counts the byte from its chunk's start: a cp1252 umlaut 4 MB into the file was
    reported at a byte near the start. Umlauts in UTF-8 straddle the 1 MiB reads, too."""
    rows = "".join(f"A-1,2024-03-01,Grund {i} für Kündigung\n" for i in range(100_000))
    head = b"account_id,churned_at,reason\n"
    last = (1 << 20) - 1 - len(head)
    pad = last - rows.encode().rfind("ü".encode(), 0, last + 1)
    head = b"x" * pad + head  # an ü's two bytes in two reads
    assert (head + rows.encode())[(1 << 20) - 1 : (1 << 20) + 1] == "ü".encode()
    data = head + rows.encode() + b"A-3,2024-03-01,zu teuer \xe4\n"
    (world / "churn.csv").write_bytes(data)
    line, at = 100_002, len(data) - 2
    with pytest.raises(UserError, match=rf"not UTF-8 text \(line {line}, byte {at}: b'\\xe4'\)"):
        read_tables(str(world))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_is_a_user_error(world):
    (world / "churn.csv").chmod(0)
    with pytest.raises(UserError, match=r"churn.csv: cannot read"):
        read_tables(str(world))


def test_excel_bom_is_ignored(world, params):
    path = world / "churn.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    history = load_history(str(world), params.contract, NOW)
    assert list(history.churn.columns)[:1] == ["account_id"]


def test_sqlite_round_trip(tmp_path, params, history):
    url = f"sqlite:///{tmp_path / 'histories.db'}"
    assert write_database(history, url) == list(TABLES)
    again = load_history(url, params.contract, NOW)
    assert_same(history, again)


def test_sqlite_absent_optional_tables(tmp_path, params, history):
    url = f"sqlite:///{tmp_path / 'partial.db'}"
    write_database({"accounts": history.accounts, "tickets": history.tickets}, url)
    again = load_history(url, params.contract, NOW)
    assert again.missing == ["usage", "escalations", "churn"]


def test_a_database_table_named_in_other_case_is_named(tmp_path, history):
    """A table `Tickets` was read as no tickets table at all (missing_table)."""
    import sqlite3

    db = tmp_path / "cased.db"
    write_database({"accounts": history.accounts}, f"sqlite:///{db}")
    with sqlite3.connect(db) as conn:
        conn.execute('CREATE TABLE "Tickets" (ticket_id TEXT)')
    with pytest.raises(UserError, match="table 'Tickets' is not read .*rename it to tickets"):
        read_tables(f"sqlite:///{db}")


def test_a_sqlite_datetime_column_with_other_dates_is_checked_not_a_crash(
    tmp_path, params, history
):
    """SQLAlchemy parses a SQLite DATETIME column itself and raised ValueError on '22.03.2024'
    (an internal error); the value is now the contract's to report, with its row."""
    import sqlite3

    db = tmp_path / "typed.db"
    write_database(history, f"sqlite:///{db}")
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE churn")
        conn.execute("CREATE TABLE churn (account_id TEXT, churned_at DATETIME, reason TEXT)")
        conn.execute("INSERT INTO churn VALUES ('A-3', '22.03.2024', NULL)")
    with pytest.raises(
        DataValidationError,
        match=r"churn / churned_at / row 1 \(account_id=A-3\) / type: .*'22.03.2024'",
    ):
        load_history(f"sqlite:///{db}", params.contract, NOW)


def test_sqlite_times_with_different_offsets_each_keep_their_instant(tmp_path, params, history):
    """pandas typed a SQLite DATETIME column by its first value's offset and made every value
    with another offset, or none, NaT: churn dates silently lost."""
    import sqlite3

    db = tmp_path / "zoned.db"
    write_database(history, f"sqlite:///{db}")
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE churn")
        conn.execute("CREATE TABLE churn (account_id TEXT, churned_at DATETIME, reason TEXT)")
        conn.executemany(
            "INSERT INTO churn VALUES (?, ?, NULL)",
            [("A-1", "2024-03-01T10:00:00+02:00"), ("A-2", "2024-03-02 10:00:00"),
             ("A-3", "2024-03-03T10:00:00Z")],
        )  # fmt: skip
    churn = load_history(f"sqlite:///{db}", params.contract, NOW).churn
    assert churn is not None
    assert list(churn["churned_at"].astype(str)) == [
        "2024-03-01 08:00:00+00:00",
        "2024-03-02 10:00:00+00:00",
        "2024-03-03 10:00:00+00:00",
    ]


def test_database_views_are_read_like_tables(tmp_path, params, history):
    """Views mapping a warehouse onto the contract were passed over: 'no contract tables'."""
    import sqlite3

    db = tmp_path / "views.db"
    write_database(history, f"sqlite:///{db}")
    with sqlite3.connect(db) as conn:
        for name in TABLES:
            conn.execute(f"ALTER TABLE {name} RENAME TO crm_{name}")
            conn.execute(f"CREATE VIEW {name} AS SELECT * FROM crm_{name}")
    assert_same(history, load_history(f"sqlite:///{db}", params.contract, NOW))


def test_missing_sqlite_file_is_not_created(tmp_path):
    db = tmp_path / "nope.db"
    with pytest.raises(UserError, match="no such database file"):
        read_tables(f"sqlite:///{db}")
    assert not db.exists()


def test_unreachable_database_is_a_user_error():
    with socket.socket() as s:  # a local port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://someone:secret@127.0.0.1:{port}/db?connect_timeout=2"
    with pytest.raises(UserError) as err:
        read_tables(url)
    assert "cannot read the database" in str(err.value)
    assert "secret" not in str(err.value)


def test_bad_url_is_a_user_error():
    with pytest.raises(UserError, match="unknown database dialect"):
        read_tables("nosuchdb://x/y")


def test_describe_hides_passwords():
    assert describe("postgresql+psycopg://u:pw@h/db") == "postgresql+psycopg://u:***@h/db"
    assert describe("some/folder") == "some/folder"


@contextlib.contextmanager
def _postgres_schema() -> Iterator[str]:
    """The PostgreSQL test database's URL searching a schema of its own, dropped afterwards."""
    from sqlalchemy import create_engine, text

    base = os.environ["ESCRISK_TEST_POSTGRES_URL"]
    schema = f"escrisk_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("ESCRISK_TEST_POSTGRES_URL"), reason="ESCRISK_TEST_POSTGRES_URL not set"
)
def test_postgres_round_trip(params, history):
    """Same code, another URL: tables in a schema of their own, dropped afterwards."""
    with _postgres_schema() as url:
        write_database(history, url)
        again = load_history(url, params.contract, NOW)
        assert_same(history, again)
        broken = history.tickets.assign(priority=["P1", "P2", "P9", "P4", "P2"])
        write_database({"tickets": broken}, url)
        with pytest.raises(
            DataValidationError,
            match=r"tickets / priority / row \d \(ticket_id=T-3\) / allowed_values",
        ):
            load_history(url, params.contract, NOW)


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("ESCRISK_TEST_POSTGRES_URL"), reason="ESCRISK_TEST_POSTGRES_URL not set"
)
@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_postgres_far_dates_are_date_range_violations_not_missing(params, history, driver):
    """A warehouse's 'never' (9999-12-31) in a DATE or timestamptz column: pandas typed the
    declared column and made it NaT, so a required date was told as missing and an optional
    time (a ticket's first response) was silently lost. 'infinity' is a type violation, on
    either driver: psycopg2 gave it as 9999-12-31 (a date_range violation quoting a day nobody
    wrote), and a year past 9999 stopped the read with Python's ValueError."""
    from sqlalchemy import create_engine, text

    with _postgres_schema() as base:
        url = re.sub(r"^postgresql(\+\w+)?:", f"postgresql+{driver}:", base)
        write_database(history, url)
        first = history.tickets["ticket_id"].iloc[0]
        account = history.accounts["account_id"].iloc[0]
        engine = create_engine(url)
        with engine.begin() as conn:
            for table, column, kind in [
                ("accounts", "renewal_date", "date"),
                ("tickets", "first_response_at", "timestamptz"),
            ]:
                conn.execute(
                    text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {kind} "
                         f"USING {column}::{kind}")
                )  # fmt: skip
            conn.execute(
                text("UPDATE accounts SET renewal_date = '9999-12-31' WHERE account_id = :a"),
                {"a": account},
            )
            conn.execute(  # the driver refused it, stopping the read naming no table or row
                text("UPDATE accounts SET renewal_date = 'infinity' WHERE account_id = :a"),
                {"a": history.accounts["account_id"].iloc[1]},
            )
            conn.execute(
                text("UPDATE tickets SET first_response_at = '9999-12-31 00:00+00' "
                     "WHERE ticket_id = :t"),
                {"t": first},
            )  # fmt: skip
            conn.execute(
                text("UPDATE tickets SET resolved_at = '-infinity' WHERE ticket_id = :t"),
                {"t": history.tickets["ticket_id"].iloc[1]},
            )
            conn.execute(
                text("UPDATE escalations SET closed_at = '10000-01-01 00:00+00' "
                     "WHERE escalation_id = :e"),
                {"e": history.escalations["escalation_id"].iloc[0]},
            )  # fmt: skip
        engine.dispose()
        with pytest.raises(DataValidationError) as exc:
            load_history(url, params.contract, NOW)
        found = {(v.table, v.column, v.rule) for v in exc.value.violations}
        assert found == {
            ("accounts", "renewal_date", "date_range"),
            ("accounts", "renewal_date", "type"),
            ("tickets", "first_response_at", "date_range"),
            ("tickets", "resolved_at", "type"),
            ("escalations", "closed_at", "type"),
        }, [str(v) for v in exc.value.violations]
        said = [str(v) for v in exc.value.violations if v.rule == "type"]
        assert any("'infinity'" in s for s in said) and any("'-infinity'" in s for s in said)


def test_csv_with_old_mac_line_endings_reads_like_any_other(world, tmp_path, params):
    """Excel for Mac's 'CSV (Macintosh)' ends lines with a lone CR: it was refused with Python's
    csv error ('new-line character seen in unquoted field'), in English, naming no row."""
    mac = tmp_path / "mac"
    shutil.copytree(world, mac)
    for f in mac.glob("*.csv"):
        f.write_bytes(f.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    assert_same(load_history(str(world), params.contract, NOW),
                load_history(str(mac), params.contract, NOW))  # fmt: skip
    usage = mac / "usage.csv"
    head, first, second, *rest = usage.read_bytes().split(b"\r")
    # a blank line (a row in a spreadsheet), then a count that is no number on row 3
    usage.write_bytes(b"\r".join([head, first, b"", second.replace(b",5100", b",viele"), *rest]))
    with pytest.raises(DataValidationError) as exc:
        load_history(str(mac), params.contract, NOW)
    found = [(v.table, v.column, v.row, v.rule) for v in exc.value.violations]
    assert found == [("usage", "events", 3, "type")], [str(v) for v in exc.value.violations]


def test_a_utf16_csv_is_refused_saying_so(world):
    """Excel's 'Unicode text' is UTF-16: told as 'not UTF-8 (line 1, byte 0: b'\\xff')', where
    escrisk import names it and how to save it."""
    accounts = world / "accounts.csv"
    accounts.write_bytes(accounts.read_text().encode("utf-16"))
    with pytest.raises(UserError, match=r'UTF-16 text \(as Excel saves "Unicode text"\)'):
        read_tables(str(world))


def test_a_quote_nothing_closes_is_named_by_its_line_in_the_users_language(world):
    """pandas' reason ('Error tokenizing data. C error: EOF inside string starting at row 1')
    was shown, in English in a German message too; escrisk import already named the line."""
    usage = world / "usage.csv"
    lines = usage.read_text().splitlines()
    lines[2] = lines[2].replace(",118,", ',"118,')
    usage.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError) as err:
        read_tables(str(world))
    assert str(err.value).startswith(f"{usage}, line 3: a value opens a quote")
    assert err.value.said is not None and err.value.said[0] == "csv_open_quote"


def test_semicolon_separated_csv_reads_like_comma_separated(world, tmp_path, params):
    """German spreadsheets save CSV with semicolons: such a folder loads as the same tables."""
    semi = tmp_path / "semicolon"
    semi.mkdir()
    for f in world.glob("*.csv"):
        frame = pd.read_csv(f, dtype=str, keep_default_na=False)
        frame.to_csv(semi / f.name, sep=";", index=False)
    assert_same(load_history(str(world), params.contract, NOW),
                load_history(str(semi), params.contract, NOW))  # fmt: skip


@pytest.mark.parametrize("sep, trailing", [(",", ","), (";", ";"), (";", ";;")])
def test_a_separator_ending_every_data_line_does_not_shift_the_columns(
    world, tmp_path, params, sep, trailing
):
    """Spreadsheets end each line with a separator: one field more than the header, which pandas
    took as the index, shifting every column by one (churned_at read from reason)."""
    odd = tmp_path / "trailing"
    odd.mkdir()
    for f in world.glob("*.csv"):
        lines = pd.read_csv(f, dtype=str, keep_default_na=False).to_csv(sep=sep, index=False)
        head, *rows = lines.splitlines()
        (odd / f.name).write_text("\n".join([head, *(r + trailing for r in rows)]) + "\n")
    assert_same(load_history(str(world), params.contract, NOW),
                load_history(str(odd), params.contract, NOW))  # fmt: skip


def test_a_value_beyond_the_header_line_is_refused_not_dropped(world):
    churn = (world / "churn.csv").read_text().splitlines()
    rows = [churn[0]] + [r + "," for r in churn[1:]]
    rows[-1] += "note"
    (world / "churn.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(UserError) as err:
        read_tables(str(world))
    assert str(err.value) == (
        f"{world / 'churn.csv'}: data row {len(rows) - 1} has more fields than the header line "
        "names ('note' has no column); name its column in the header line or remove the field"
    )


def test_a_later_row_longer_than_the_header_line_is_told_by_its_row_in_both_languages(world):
    """Only the first data row was looked at: a longer row further down got pandas' English
    "Error tokenizing data. C error: Expected 3 fields in line 4, saw 4", also under --lang de."""
    path = world / "churn.csv"
    rows = path.read_text().splitlines()
    rows.insert(2, "")  # a blank line is a row of the report
    path.write_text("\n".join([*rows, rows[1] + ",note", rows[1] + ","]) + "\n")
    with pytest.raises(UserError) as err:
        read_tables(str(world))
    assert str(err.value) == (
        f"{path}: data row {len(rows)} has more fields than the header line names ('note' has no "
        "column); name its column in the header line or remove the field"
    )
    assert err.value.told("de").startswith(f"{path}: Datenzeile {len(rows)} hat mehr Felder")
    path.write_text("\n".join([*rows, rows[1] + ","]) + "\n")
    with pytest.raises(UserError) as err:
        read_tables(str(world))
    assert err.value.told("de").startswith(
        f"{path}: Datenzeile {len(rows)} hat 4 Felder, die Kopfzeile benennt 3"
    )


def test_parquet_text_stored_as_bytes_is_read_as_text(world, params, history):
    """Parquet writers that store strings as plain BYTE_ARRAY (no UTF8 annotation) give bytes:
    ids stayed b'T-1' and every escalation's ticket_id was 'not in tickets'."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tickets = pa.Table.from_pandas(pd.read_csv(world / "tickets.csv", dtype=str,
                                               keep_default_na=False))  # fmt: skip
    for name in ("ticket_id", "account_id"):
        at = tickets.schema.get_field_index(name)
        tickets = tickets.set_column(at, name, tickets.column(name).cast(pa.binary()))
    pq.write_table(tickets, world / "tickets.parquet")
    (world / "tickets.csv").unlink()
    again = load_history(str(world), params.contract, NOW)
    assert list(again.tickets["ticket_id"]) == list(history.tickets["ticket_id"])
    assert again.tickets["account_id"].map(type).eq(str).all()


def test_a_parquet_index_named_as_a_column_is_that_column(world, params, history):
    """`accounts.set_index("account_id").to_parquet(...)` keeps account_id as pandas' index:
    it was dropped, and every table's account_id was 'not in accounts'."""
    accounts = pd.read_csv(world / "accounts.csv", dtype=str, keep_default_na=False)
    accounts.set_index("account_id").to_parquet(world / "accounts.parquet")
    tickets = pd.read_csv(world / "tickets.csv", dtype=str, keep_default_na=False)
    tickets.set_index(pd.Index(range(10, 10 + len(tickets)))).to_parquet(world / "tickets.parquet")
    for name in ("accounts", "tickets"):
        (world / f"{name}.csv").unlink()
    again = load_history(str(world), params.contract, NOW)
    assert list(again.accounts["account_id"]) == list(history.accounts["account_id"])
    assert list(again.tickets.columns) == list(history.tickets.columns)


def test_a_nul_byte_in_a_csv_keeps_its_value_whole(world, params):
    """pandas' C parser cut a value at a NUL byte: the rest of a ticket body was lost, and an
    id's NUL vanished, so the one_line rule never saw it."""
    tickets = (world / "tickets.csv").read_text(encoding="utf-8").splitlines()
    head, first = tickets[0].split(","), tickets[1].split(",")
    first[head.index("body")] = "Hello\x00 world"
    first[head.index("channel")] = "email\x00"
    tickets[1] = ",".join(first)
    (world / "tickets.csv").write_text("\n".join(tickets) + "\n", encoding="utf-8")
    raw = read_tables(str(world))
    assert raw["tickets"].loc[0, "body"] == "Hello\x00 world"
    assert raw["tickets"].loc[0, "channel"] == "email\x00"
    assert len(raw["tickets"]) == len(tickets) - 1


def test_an_excel_sep_line_names_the_separator(world, tmp_path, params):
    """A first line `sep=;` (Excel's separator hint) was read as the header line."""
    hinted = tmp_path / "hinted"
    hinted.mkdir()
    for f in world.glob("*.csv"):
        text = pd.read_csv(f, dtype=str, keep_default_na=False).to_csv(sep=";", index=False)
        (hinted / f.name).write_text("sep=;\n" + text, encoding="utf-8")
    assert_same(load_history(str(world), params.contract, NOW),
                load_history(str(hinted), params.contract, NOW))  # fmt: skip


def test_blank_lines_do_not_shift_the_reported_rows(world, params):
    """pandas skips blank (and blank-only) lines: every later 'row N' was one too small, so the
    user looked at the wrong row. Rows are counted as a spreadsheet shows the file; a quoted cell
    spanning lines stays one row, as before; no row is dropped."""
    path = world / "accounts.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("Acme GmbH", '"Acme\nGmbH"')  # one row over two lines
    lines[3] = lines[3].replace(",6000,", ",lots,")
    path.write_text("\n".join([lines[0], lines[1], "", "   ", lines[2], "", lines[3], "", ""]))
    tickets = world / "tickets.csv"
    t = tickets.read_text(encoding="utf-8").splitlines()
    t[2] = t[2].replace("A-1", "A-9", 1)  # ticket row 2, after a blank line: row 3
    tickets.write_text("\n".join([t[0], t[1], "", *t[2:]]) + "\n")
    raw = read_tables(str(world))
    assert len(raw["accounts"]) == 3 and len(raw["tickets"]) == 5
    with pytest.raises(DataValidationError) as err:
        load_history(str(world), params.contract, NOW)
    found = {(v.table, v.column, v.rule): v.row for v in err.value.violations}
    assert found[("accounts", "arr", "type")] == 6
    assert found[("accounts", "name", "one_line")] == 1
    assert found[("tickets", "account_id", "foreign_key")] == 3


def test_a_spreadsheets_empty_rows_are_skipped_as_blank_lines(world, params):
    """Excel writes rows it once formatted as ',,,,' lines: each was a row of the table, told
    as a missing value in every required column (20 violations for two such rows), where a
    blank line is skipped. They are skipped alike, and later rows keep their rows in the file."""
    accounts = world / "accounts.csv"
    head, first, *rest = accounts.read_text().splitlines()
    empty = "," * head.count(",")
    accounts.write_text("\n".join([head, first, empty, *rest, empty, empty]) + "\n")
    again = load_history(str(world), params.contract, NOW)
    assert_same(load_history(str(WORLD), params.contract, NOW), again)
    accounts.write_text(
        "\n".join([head, first, empty, rest[0].replace(",business,", ",gold,"), *rest[1:]]) + "\n"
    )
    with pytest.raises(DataValidationError) as exc:
        load_history(str(world), params.contract, NOW)
    [v] = exc.value.violations
    assert (v.table, v.column, v.row, v.rule) == ("accounts", "tier", 3, "allowed_values"), str(v)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_named_as_utf16(world, params, codec):
    """UTF-16 without a byte-order mark was read as UTF-8: its NULs became characters of every
    name, and the table was told as lacking each of its columns."""
    churn = world / "churn.csv"
    churn.write_bytes(churn.read_text().encode(codec))
    with pytest.raises(UserError, match=r"churn\.csv: UTF-16 text .* save it as CSV UTF-8"):
        load_history(str(world), params.contract, NOW)
