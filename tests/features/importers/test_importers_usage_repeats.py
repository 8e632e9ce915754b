"""Usage records given twice (overlapping exports, one file named twice) are counted once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from serving.cli import main

DATA = Path(__file__).resolve().parents[2] / "data" / "importers"
USERS = DATA / "usage_events" / "users.csv"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    zd = DATA / "zendesk"
    args = [f"tickets={zd / 'tickets.json'}", f"organizations={zd / 'organizations.json'}"]
    assert main(["import", "zendesk", *args, "--out", str(tmp_path)]) == 0
    return tmp_path


def _usage(folder: Path, *events: Path, lang: str = "en") -> int:
    parts = [f"events={e}" for e in events]
    argv = ["import", "usage-events", f"users={USERS}", *parts, "--out", str(folder)]
    return main([*argv, "--lang", lang])


def _events(folder: Path) -> dict[tuple[str, str], int]:
    usage = pd.read_parquet(folder / "usage.parquet")
    days = usage["date"].dt.strftime("%Y-%m-%d")
    return dict(zip(zip(usage["account_id"], days, strict=True), usage["events"], strict=True))


@pytest.mark.parametrize(
    "name", ["amplitude_daily.csv", "segment_events.jsonl", "mixpanel_events.jsonl"]
)
def test_a_file_given_twice_is_counted_once(folder, capsys, name):
    """Per-day rows and events of the same messageId/$insert_id were summed: twice the events."""
    path = DATA / "usage_events" / name
    assert _usage(folder, path) == 0
    once = _events(folder)
    capsys.readouterr()
    assert _usage(folder, path, path, path) == 0  # a third: after a batch of only repeats
    out = capsys.readouterr().out
    assert _events(folder) == once
    assert "repeats an earlier record" in out and "counted once" in out
    assert f"e.g. {name} line" in out and "(user_id=u-1, date=2024-01-0" in out


def test_overlapping_day_rows_with_other_counts_are_refused_naming_both(folder, tmp_path, capsys):
    """A day exported twice with different counts (a partial day) is told, not summed."""
    late = tmp_path / "late.csv"
    late.write_text("user_id,date,event_count\nu-3,2024-01-06,9\nu-1,2024-01-07,3\n")
    capsys.readouterr()
    assert _usage(folder, DATA / "usage_events" / "amplitude_daily.csv", late, lang="de") == 1
    err = capsys.readouterr().err
    assert (
        "usage events / event_count / late.csv Zeile 2 / unique: Benutzer u-3 am 2024-01-06" in err
    )
    assert "mit 9 Ereignissen, wo amplitude_daily.csv Zeile 4 7 sagt" in err


def test_day_rows_told_apart_by_another_column_are_summed(folder, tmp_path):
    """Rows per user, day and event name are parts of the day, not repeats."""
    daily = tmp_path / "daily.csv"
    daily.write_text(
        "user_id,date,event_name,event_count\n"
        "u-1,2024-01-05,Report Viewed,3\nu-1,2024-01-05,Export Clicked,3\n"
    )
    assert _usage(folder, daily) == 0
    assert _events(folder) == {("361", "2024-01-05"): 6}


def test_mixpanel_times_of_a_project_in_project_time_are_read_in_its_zone(folder, tmp_path):
    """A Mixpanel project created before 2023 exports properties.time as seconds of its project
    time zone's wall clock: a Californian evening event at 23:30 (07:30 UTC the next day) was
    counted on the day before it happened, a usage day ahead of what was known. With
    usage_events.mixpanel_time_zone it is read in that zone; a Segment event beside it is not."""
    import yaml

    wall = int(pd.Timestamp("2024-01-05 23:30").timestamp())  # the epoch of the wall time
    events = tmp_path / "mixpanel.jsonl"
    events.write_text(
        f'{{"event": "Report Viewed", "properties": {{"time": {wall}, "distinct_id": "u-1"}}}}\n'
        '{"type": "track", "event": "X", "userId": "u-1", "timestamp": "2024-01-03T23:30:00Z"}\n'
    )
    data = yaml.safe_load(Path("params.yaml").read_text())
    data["importers"]["usage_events"]["mixpanel_time_zone"] = "America/Los_Angeles"
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(data))
    argv = ["import", "usage-events", f"users={USERS}", f"events={events}", "--out", str(folder)]
    assert main([*argv, "--params", str(params)]) == 0
    days = sorted(d for _, d in _events(folder))
    assert days == ["2024-01-03", "2024-01-06"]


def test_a_folder_of_event_files_is_read_as_its_files(folder, tmp_path, capsys):
    """Amplitude exports an hour per file, named by project and hour (no keyword to tell the
    part by): `events=FOLDER` stopped with an internal error (IsADirectoryError). A folder now
    stands for its files in name order; an empty one is refused saying so."""
    hours = tmp_path / "amplitude"
    hours.mkdir()
    for i, name in enumerate(["123_2024-01-05_9#0.json", "123_2024-01-05_10#0.json"]):
        (hours / name).write_text(
            f'{{"event_time": "2024-01-05 0{i}:00:00.000000", "user_id": "u-1", '
            f'"event_type": "Report Viewed", "$insert_id": "e{i}"}}\n'
        )
    assert _usage(folder, hours) == 0
    assert "(from 123_2024-01-05_10#0.json, 123_2024-01-05_9#0.json)" in capsys.readouterr().out
    assert _events(folder) == {("361", "2024-01-05"): 2}
    (tmp_path / "empty").mkdir()
    assert _usage(folder, tmp_path / "empty") == 1
    assert "a folder without files" in capsys.readouterr().err
    # Amplitude's zip unpacks to a folder per project: its hours are one level down
    (tmp_path / "unzipped" / "123").mkdir(parents=True)
    assert _usage(folder, tmp_path / "unzipped") == 1
    assert f"name the folder the files are in, e.g. {tmp_path / 'unzipped' / '123'}" in (
        capsys.readouterr().err
    )


def test_user_ids_a_spreadsheet_saved_in_scientific_notation_are_named(folder, tmp_path, capsys):
    """Numeric user ids (123456789012) saved by Excel read `1.23457E+11`: two users became one
    (one active user where there were two) without a word. Now each such id of the mapping and
    of a per-day export is refused at its file and line."""
    users = tmp_path / "users.csv"
    users.write_text("user_id,account_id\n123456789012,361\n1.23457E+11,361\n")
    daily = tmp_path / "daily.csv"
    daily.write_text("user_id,date,events\n123456789012,2024-01-03,4\n1.23457E+11,2024-01-03,2\n")
    argv = ["import", "usage-events", f"users={users}", f"events={daily}", "--out", str(folder)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "usage mapping / user_id / users.csv line 3 / type: '1.23457E+11' is an id" in err
    assert "usage events / user_id / daily.csv line 3 / type: '1.23457E+11' is an id" in err
    assert "saved in a spreadsheet (Excel)" in err
    assert not (folder / "usage.parquet").exists()
