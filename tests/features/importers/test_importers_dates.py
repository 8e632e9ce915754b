"""Times with an offset or a zone after a German or US wall time: read by the same formats as
times without one, never by dateutil's month-first guess, and a zone name refused."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from features.importers.dates import parse_times, slash_orders
from serving.cli import main

DATA = Path(__file__).resolve().parents[2] / "data" / "importers"
HS = DATA / "hubspot"
FORMATS = ["%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M %p", "%d.%m.%Y %H:%M", "%d-%m-%Y %H:%M:%S"]


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("07.12.2026 14:30 +01:00", "2026-12-07T13:30:00+00:00"),  # was 12 July
        ("07.12.2026 14:30 UTC", "2026-12-07T14:30:00+00:00"),  # was 12 July
        ("07.12.2026 14:30Z", "2026-12-07T14:30:00+00:00"),
        ("07.12.2026 14:30 UTC+1", "2026-12-07T13:30:00+00:00"),  # was an internal error
        ("Mon Dec 07 2026 14:30 GMT+0100", "2026-12-07T13:30:00+00:00"),  # was 15:30
        ("12/07/2026 2:30 PM -05:00", "2026-12-07T19:30:00+00:00"),
        ("2024-01-03T08:15:00.000+0000", "2024-01-03T08:15:00+00:00"),
        ("07.12.2026 14:30", "2026-12-07T13:30:00+00:00"),  # no offset: naive_time_zone
    ],
)
def test_a_zoned_time_is_read_by_its_wall_time_and_offset(value, utc):
    out, bad = parse_times(pd.Series([value]), "Europe/Berlin", FORMATS)
    assert not bad.any()
    assert out.iloc[0].isoformat() == utc


@pytest.mark.parametrize(
    "value",
    [
        "07.12.2026 14:30 MEZ",  # its Z was taken for UTC, and the day for 12 July
        "07.12.2026 14:30 MESZ",
        "Dec 7, 2026 2:30 PM CET",  # a zone name after AM/PM
        "07-12-2026",  # its -2026 was taken for an offset: 12 July
    ],
)
def test_a_zone_name_or_a_date_no_format_reads_is_refused_not_guessed(value):
    out, bad = parse_times(pd.Series([value]), "Europe/Berlin", FORMATS)
    assert bad.all() and out.isna().all()


def test_an_import_with_utc_plus_one_times_is_read_not_an_internal_error(tmp_path, capsys):
    src = (HS / "tickets.csv").read_text()
    tickets = tmp_path / "tickets.csv"
    tickets.write_text(src.replace("2024-01-03 08:15,", "03.01.2024 08:15:00 UTC+1,", 1))
    args = ["import", "hubspot", str(tickets), str(HS / "companies.csv")]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0, capsys.readouterr().err
    out = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert out.loc["7001", "created_at"] == pd.Timestamp("2024-01-03 07:15", tz="UTC")
    tickets.write_text(src.replace("2024-01-03 08:15,", "03.01.2024 08:15 MEZ,", 1))
    assert main([*args, "--out", str(tmp_path / "o2")]) == 1
    err = capsys.readouterr().err
    assert "tickets.csv line 2" in err and "time zone abbreviation is ambiguous" in err


def _uk_cases(tmp_path: Path, created: list[str]) -> Path:
    """The Salesforce fixture's cases with CreatedDate as a UK report writes it (dd/mm/yyyy)."""
    rows = (DATA / "salesforce" / "Case.csv").read_text().splitlines()
    for i, value in enumerate(created, start=1):
        fields = rows[i].split('","')
        fields[4] = value
        rows[i] = '","'.join(fields)
    path = tmp_path / "Case.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def _sf(tmp_path: Path, cases: Path, *extra: str) -> int:
    accounts = DATA / "salesforce" / "Account.csv"
    argv = ["import", "salesforce", str(cases), str(accounts), "--out", str(tmp_path / "o")]
    return main([*argv, *extra])


@pytest.mark.parametrize("comma", ["", ","])
def test_a_uk_slash_date_is_read_day_first_when_its_column_says_so(tmp_path, capsys, comma):
    """03/01/2024 of a UK export was read as 1 March by the US formats, silently; a Lightning
    report in an en_GB locale (03/01/2024, 08:15) was not read at all."""
    created = ["03/01/2024 08:15", "15/01/2024 09:00", "08/01/2024 09:00"]
    cases = _uk_cases(tmp_path, [c.replace(" ", comma + " ") for c in created])
    assert _sf(tmp_path, cases) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert t.loc["00001001", "created_at"] == pd.Timestamp("2024-01-03 08:15", tz="UTC")
    assert t.loc["00001003", "created_at"] == pd.Timestamp("2024-01-08 09:00", tz="UTC")
    said = f"CreatedDate in Case.csv: 2 dates such as '03/01/2024{comma} 08:15' read day first"
    assert said in out and f"'15/01/2024{comma} 09:00'" in out


def test_a_slash_date_nothing_decides_is_refused_naming_the_setting(tmp_path, capsys):
    cases = _uk_cases(tmp_path, ["03/01/2024 08:15", "05/01/2024 09:00", "08/01/2024 09:00"])
    assert _sf(tmp_path, cases, "--lang", "de") == 1
    err = capsys.readouterr().err
    said = "salesforce cases / CreatedDate / Case.csv Zeile 2 / date_format: '03/01/2024 08:15' ist"
    assert said in err
    assert "der 2024-01-03" in err and "der 2024-03-01" in err
    assert "importers.slash_dates auf day_first oder month_first setzen" in err
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["importers"]["slash_dates"] = "day_first"
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(params))
    assert _sf(tmp_path, cases, "--params", str(tmp_path / "p.yaml")) == 0
    t = pd.read_parquet(tmp_path / "o" / "tickets.parquet").set_index("ticket_id")
    assert t.loc["00001002", "created_at"] == pd.Timestamp("2024-01-05 09:00", tz="UTC")


def test_a_column_writing_both_orders_is_refused():
    values = pd.Series(["25/12/2025", "12/26/2025", "07/12/2025", "01/01/2026"])
    orders, refused, _ = slash_orders(values, None, "auto")
    assert list(orders.fillna("-")) == ["dmy", "mdy", "-", "mdy"]
    said = {"v": "07/12/2025", "d": "25/12/2025", "m": "12/26/2025"}
    assert refused == {2: ("date_order_mixed", said)}


def test_a_us_12_hour_time_keeps_reading_month_first():
    """The documented Salesforce and ServiceNow US shapes: 1/8/2024 9:00 AM is 8 January."""
    values = pd.Series(["1/8/2024 9:00 AM", "01/09/2024 02:30:00 PM"])
    orders, refused, _ = slash_orders(values, None, "auto")
    assert list(orders) == ["mdy", "mdy"] and not refused
    out, bad = parse_times(values, "UTC", FORMATS, orders=orders)
    assert out.iloc[0] == pd.Timestamp("2024-01-08 09:00", tz="UTC") and not bad.iloc[0]


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2026-03-29T00:00:00+02:00", "2026-03-29"),  # was 2026-03-28: its UTC day
        ("2026-03-29 00:00:00+0100", "2026-03-29"),
        ("29.03.2026 00:00 +02:00", "2026-03-29"),
        ("2026-03-29T00:00:00-05:00", "2026-03-29"),
        ("2026-03-29T00:00:00Z", "2026-03-29"),
        ("2026-03-29", "2026-03-29"),
    ],
)
def test_a_date_at_a_zoned_midnight_is_that_calendar_day(value, day):
    """A warehouse's timestamptz day (2026-03-29T00:00:00+02:00) in an account date or a per-day
    usage row was read as its UTC day, 28 March: the docs promise "a day is that day in any zone"."""
    out, bad = parse_times(pd.Series([value]), "UTC", FORMATS, dates=True)
    assert not bad.any()
    assert out.iloc[0] == pd.Timestamp(day, tz="UTC")


def test_a_date_column_of_zoned_midnights_keeps_its_days_and_a_time_stays_a_time():
    berlin = pd.Series(pd.to_datetime(["2026-03-29", "2026-10-25"])).dt.tz_localize("Europe/Berlin")
    out, _ = parse_times(berlin, "UTC", FORMATS, dates=True)
    assert out.tolist() == [
        pd.Timestamp("2026-03-29", tz="UTC"),
        pd.Timestamp("2026-10-25", tz="UTC"),
    ]
    # with a time of day it is read like any time, and an event time is never a day
    out, _ = parse_times(pd.Series(["2026-03-29T00:30:00+02:00"]), "UTC", FORMATS, dates=True)
    assert out.iloc[0] == pd.Timestamp("2026-03-28 22:30", tz="UTC")
    out, _ = parse_times(pd.Series(["2026-03-29T00:00:00+02:00"]), "UTC", FORMATS)
    assert out.iloc[0] == pd.Timestamp("2026-03-28 22:00", tz="UTC")


def test_per_day_usage_rows_written_with_an_offset_keep_their_day(tmp_path):
    (tmp_path / "daily.csv").write_text(
        "user_id,date,events\nu-1,2026-03-29T00:00:00+02:00,3\nu-1,2026-03-30T00:00:00+02:00,2\n",
        encoding="utf-8",
    )
    users = DATA / "usage_events" / "users.csv"
    args = [f"events={tmp_path / 'daily.csv'}", f"users={users}", "--out", str(tmp_path / "out")]
    assert main(["import", "usage-events", *args, "--params", "params.yaml"]) == 0
    usage = pd.read_parquet(tmp_path / "out" / "usage.parquet")
    assert [str(d.date()) for d in usage["date"]] == ["2026-03-29", "2026-03-30"]
