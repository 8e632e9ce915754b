"""Files and the API take the same times and dates, and read each as the same instant.

The file path parses text with Arrow (features.contract); the API with pydantic through
serving.schemas.Time and Day. Both go through features.contract.iso_time_text's rewrites, so a
client can send what its export holds, and a time means the same on both paths."""

from __future__ import annotations

import itertools

import pandas as pd
import pydantic
import pytest

from features.contract import _arrow_text, _blank, _parse_time
from serving.schemas import Day, Time

DATES = ["2025-06-01", "2025-6-1", "2025/06/01", "20250601", "2025-06-1", "25-06-01", "1969-12-31"]
SEPARATORS = ["T", "t", " ", "  ", ""]
TIMES = [
    "09:30:00",
    "9:30",
    "0930",
    "093000",
    "09",
    "09:30:00,5",
    "09:30:00.123456789",
    "09:30:00.",
    "23:59:59.9999999",
    "24:00",
    "09:30:60",
    "9",
]
ZONES = [
    "",
    "Z",
    "z",
    " Z",
    "+02:00",
    " +02:00",
    "+0200",
    "+02",
    "-00:00",
    "+2",
    "UTC",
    " UTC",
    " GMT",
    " CET",
    "+24:00",
    "-02:30",
]
BLANKS = ["", " "]
VARIANTS = sorted(
    {
        f"{b}{d}{s}{t}{z}{b}"
        for d, s, t, z, b in itertools.product(DATES, SEPARATORS, TIMES, ZONES, BLANKS)
    }
    | {f"{b}{d}{b}" for d, b in itertools.product(DATES, BLANKS)}
    | {"2025-02-29", "2025-06-01Z", "1700000000", "2025-W22-7", "2025-152", "+2025-06-01"}
)


def _file(values: list[str], date_only: bool) -> list[pd.Timestamp | None]:
    """What the data contract reads from a text column of a file (one column: the mixed path)."""
    s = pd.Series(values, dtype=object)
    text, _ = _arrow_text(s)
    ts, _ = _parse_time(s, text, _blank(s, text, "date" if date_only else "timestamp"), date_only)
    return [None if pd.isna(t) else pd.Timestamp(t) for t in ts]


ADAPTERS = {kind: pydantic.TypeAdapter(kind) for kind in (Time, Day)}


def _api(value: str, kind: object) -> pd.Timestamp | None:
    try:
        v = ADAPTERS[kind].validate_python(value)
    except pydantic.ValidationError:
        return None
    t = pd.Timestamp(v)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


@pytest.mark.parametrize(("kind", "date_only"), [(Time, False), (Day, True)])
def test_files_and_the_api_take_the_same_times_as_the_same_instants(kind, date_only):
    file = _file(VARIANTS, date_only)
    differ = [(v, f, a) for v, f in zip(VARIANTS, file, strict=True) if f != (a := _api(v, kind))]
    assert not differ, differ[:10]
    # both lenient and strict: what an integrator writes is taken, what is ambiguous is not
    taken = {v for v, f in zip(VARIANTS, file, strict=True) if f is not None}
    assert {
        " 2025-06-01T09:30:00Z ",
        "2025-06-01T09:30:00 +02:00",
        "2025-6-1T09Z",
        "2025-06-01t09:30:00z",
        "2025-06-01T09:30:00,5Z",
        "2025-06-01 09:30:00 UTC",  # as BigQuery and Snowflake export timestamps
    } <= taken
    assert not {"25-06-01T09:30:00Z", "2025-06-01T24:00Z", "2025-06-01 09:30:00 CET"} & taken
    assert "2025-06-01 09:30:00 CET" in VARIANTS


def test_one_value_alone_reads_as_in_a_column():
    """A file column of one value takes Arrow's fast path; the same values must read alike."""
    sample = VARIANTS[:: max(1, len(VARIANTS) // 200)]
    column = _file(sample, False)
    alone = [_file([v], False)[0] for v in sample]
    assert column == alone


def test_sub_microsecond_digits_do_not_move_the_instant():
    """pydantic keeps microseconds; files keep the same, not nanoseconds the API cannot send."""
    v = "1969-12-31T23:59:59.9999999Z"
    assert _file([v], False)[0] == _api(v, Time) == pd.Timestamp("1969-12-31T23:59:59.999999Z")
