"""Times with an offset or a zone after a German or US wall time: read by the same formats as
times without one, never by dateutil's month-first guess, and a zone name refused."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.importers.dates import parse_times
from serving.cli import main

HS = Path(__file__).resolve().parents[2] / "data" / "importers" / "hubspot"
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
