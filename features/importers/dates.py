"""Timestamps from exports in any of the usual shapes, normalised to UTC.

Values with an offset or zone keep it; values without one are read in `naive_time_zone`; numbers
are Unix epochs (seconds, or milliseconds when too large for seconds). Formats are tried in order:
ISO 8601, then the configured strftime formats, then a lenient parser for values with month names.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

# a wall time and the offset after it: Z, +01:00, +0100, +01 after a time of day; UTC or GMT,
# alone or with an offset as people and JavaScript write it (GMT+0100, UTC+1: east of UTC), after
# a time or a day. Only after a time: the "-2026" of 07-12-2026 is no offset.
_ZONED = re.compile(
    r"^(?P<wall>.*\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?[AaPp][Mm])?)\s?"
    r"(?P<zone>[zZ]|[+-]\d{2}(?::?\d{2})?|(?:UTC|GMT)(?:\s?[+-]\d{1,2}(?::?\d{2})?)?)$"
    r"|^(?P<day>.*\d)\s?(?P<utc>(?:UTC|GMT)(?:\s?[+-]\d{1,2}(?::?\d{2})?)?)$"
)
# a zone abbreviation after the time (EST, CEST, MEZ, PST): ambiguous (IST is India, Ireland and
# Israel), and pandas would drop it and read the wall time in another zone. Refused instead.
ZONE_NAME = r"(?:\d|[AaPp][Mm])\s*(?!(?:AM|PM|UTC|GMT)$)[A-Z]{2,5}$"


def parse_times(
    values: pd.Series, naive_time_zone: str, formats: Sequence[str], dates: bool = False
) -> tuple[pd.Series, pd.Series]:
    """(UTC timestamps, mask of values that were present but could not be parsed).

    With `dates` (a contract date column: contract_start, renewal_date, notice_at) a value
    without an offset and without a time of day (or at midnight) is that calendar day: read in
    `naive_time_zone` east of UTC its midnight is the previous UTC day, a day too early.
    """
    s = pd.Series(values, copy=False)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        out = s.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        return out, pd.Series(False, index=s.index)
    if pd.api.types.is_datetime64_dtype(s.dtype):
        out = _localize(s.astype("datetime64[ns]"), naive_time_zone, dates)
        return out, pd.Series(False, index=s.index)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    obj = s.astype(object)
    blank = obj.isna() | obj.map(lambda v: isinstance(v, str) and v.strip() == "")
    is_num = obj.map(
        lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    )
    text_like = obj.map(
        lambda v: isinstance(v, str) and v.strip().isdigit() and len(v.strip()) in (10, 13)
    )
    numeric = (is_num | text_like) & ~blank
    if numeric.any():
        num = pd.to_numeric(obj[numeric], errors="coerce").astype("float64")
        unit_ms = num.abs() >= 1e11
        secs = num.where(~unit_ms, num / 1000.0)
        out.loc[numeric] = pd.to_datetime(secs, unit="s", utc=True, errors="coerce")
    rest = ~blank & ~numeric
    if rest.any():
        text = obj[rest].astype(str).str.strip()
        # ISO 8601 with an offset (APIs, Data Loader) in one go; other zoned values by their
        # wall time in the formats below and their offset: dateutil read 07.12.2026 14:30 +01:00
        # as 12 July, and GMT+0100 as two hours off
        maybe = text.str[-6:].str.contains(r"[zZ+-]|UTC|GMT", regex=True)  # cheap, then exact
        parts = text[maybe].str.extract(_ZONED).reindex(text.index)
        zone = pd.Series(
            np.where(parts["zone"].notna(), parts["zone"], parts["utc"]), index=text.index
        )
        zoned = zone.notna()
        if zoned.any():
            t = text[zoned]
            parsed = pd.to_datetime(t, utc=True, errors="coerce", format="ISO8601")
            miss = parsed.isna()
            if miss.any():
                wall = parts["wall"].where(parts["wall"].notna(), parts["day"])[zoned][miss]
                offset = zone[zoned][miss].map(_offset)
                parsed.loc[miss] = (_wall_times(wall, formats) - offset).dt.tz_localize("UTC")
            out.loc[parsed.index] = parsed
        naive = text[~zoned]
        naive = naive[~naive.str.contains(ZONE_NAME, regex=True)]
        if len(naive):
            local = _localize(_wall_times(naive, formats), naive_time_zone, dates)
            out.loc[local.index] = local
    bad = out.isna() & ~blank
    return out, bad


def _wall_times(text: pd.Series, formats: Sequence[str]) -> pd.Series:
    """Wall times without a zone: ISO 8601, then `formats`, then values with month names (NaT:
    unreadable)."""
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    for fmt in formats:
        miss = parsed.isna()
        if not miss.any():
            break
        parsed.loc[miss] = pd.to_datetime(text[miss], errors="coerce", format=fmt)
    miss = parsed.isna() & text.str.contains(r"[A-Za-z]{3}", regex=True)
    if miss.any():
        parsed.loc[miss] = text[miss].map(_month_names)
    return parsed.astype("datetime64[ns]")


def _month_names(value: str) -> pd.Timestamp | None:
    """'Dec 7, 2026 2:30 PM' by dateutil; a value it reads a zone from is unreadable: it
    dropped zones it did not know and read GMT+0100 as an hour west of UTC."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ts = pd.Timestamp(value)
        except (ValueError, OverflowError):
            return None
    return None if pd.isna(ts) or ts.tzinfo is not None else ts


def _offset(zone: str) -> pd.Timedelta:
    """Z, UTC, GMT: none; +01:00, +0100, +01, UTC+1, GMT+0100: that far east of UTC."""
    found = re.search(r"([+-])(\d{1,2}):?(\d{2})?$", zone)
    if found is None:
        return pd.Timedelta(0)
    sign, hours, minutes = found.groups()
    return (-1 if sign == "-" else 1) * pd.Timedelta(hours=int(hours), minutes=int(minutes or 0))


def _localize(s: pd.Series, tz: str, dates: bool = False) -> pd.Series:
    """Naive wall times in `tz` to UTC; DST-ambiguous times are read as standard time, gaps shift
    forward. With `dates`, midnights are calendar days: UTC midnights, whatever `tz` is."""
    if tz == "UTC":
        return s.dt.tz_localize("UTC")
    local = s.dt.tz_localize(
        tz, ambiguous=np.zeros(len(s), dtype=bool), nonexistent="shift_forward"
    )
    out = local.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    if dates:
        days = s.notna() & (s == s.dt.normalize())
        out = out.where(~days, s.dt.tz_localize("UTC"))
    return out
