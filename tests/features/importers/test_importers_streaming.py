"""Large exports are streamed: memory follows what is kept, not the size of the file."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from features.importers.common import ImportContext
from features.importers.readers import iter_json_records
from features.importers.report import ImportReport
from features.importers.zendesk import _tickets

LINE = (
    '{{"id":{i},"organization_id":{org},"created_at":"2024-01-03T08:15:00Z","updated_at":"2024-01-03T09:00:00Z",'
    '"priority":"normal","status":"open","via":{{"channel":"web","source":{{"from":{{}},"to":{{}}}}}},'
    '"subject":"s","description":"d","tags":[],"fields":{{"blob":"{pad}"}}}}\n'
)


def big_export(path: Path, n: int, pad: int) -> int:
    """Zendesk-shaped ticket lines whose bulk is a nested part the importer does not keep."""
    blob = "x" * pad
    with path.open("w") as f:
        f.writelines(LINE.format(i=i, org=i % 50, pad=blob) for i in range(n))
    return path.stat().st_size


@pytest.mark.slow
def test_json_lines_reader_holds_one_record_at_a_time(tmp_path):
    n = 200_000
    path = tmp_path / "events.jsonl"
    blob = "x" * 800  # few keys per line: tracemalloc's cost is per allocation, not per byte
    with path.open("w") as f:
        f.writelines(f'{{"id":{i},"blob":"{blob}"}}\n' for i in range(n))
    size = path.stat().st_size  # about 165 MB
    tracemalloc.start()
    count = sum(1 for _ in iter_json_records(path, "events"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == n
    assert peak < 2 * 1024 * 1024, (
        f"reader peaked at {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB file"
    )


@pytest.mark.slow
def test_ticket_import_keeps_only_mapped_fields(tmp_path, params):
    n = 20_000
    size = big_export(tmp_path / "tickets.jsonl", n, pad=3000)  # real tickets are a few KB of JSON
    ctx = ImportContext("zendesk", params.importers, params.contract, ImportReport("zendesk"))
    tracemalloc.start()
    df = _tickets([tmp_path / "tickets.jsonl"], ctx)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(df) == n and ctx.report.tables["tickets"].read == n
    assert peak < size / 3, f"import peaked at {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB file"


def test_a_wall_time_in_a_dst_gap_moves_to_its_end_and_keeps_the_wall_clock_order():
    """docs/importers.md said 'moved forward by the gap' (02:30 -> 03:30), which would put a
    ticket created 02:30 after its reply written 03:10; the rule is the gap's end (03:00)."""
    import pandas as pd

    from features.importers.dates import parse_times

    values = pd.Series(["2025-03-30 02:30", "2025-03-30 03:10", "2025-10-26 02:30"])
    out, bad = parse_times(values, "Europe/Berlin", ["%Y-%m-%d %H:%M"])
    assert not bad.any()
    assert [t.isoformat() for t in out] == [
        "2025-03-30T01:00:00+00:00",
        "2025-03-30T01:10:00+00:00",
        "2025-10-26T01:30:00+00:00",
    ]
