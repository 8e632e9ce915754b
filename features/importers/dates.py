"""Timestamps from exports in any of the usual shapes, normalised to UTC.

Values with an offset or zone keep it; values without one are read in `naive_time_zone`; numbers
are Unix epochs (seconds, or milliseconds when too large for seconds). Formats are tried in order:
ISO 8601, then the configured strftime formats, then a lenient parser for values with month names.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

_AWARE = r"(?:[zZ]|[+-]\d{2}:?\d{2}|\s?(?:UTC|GMT))$"
# a zone abbreviation after the time (EST, CEST, PST): ambiguous (IST is India, Ireland and
# Israel), and pandas would drop it and read the wall time in another zone. Refused instead.
ZONE_NAME = r"\d\s*(?!(?:AM|PM|UTC|GMT)$)[A-Z]{2,5}$"


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
        aware = text.str.contains(_AWARE, regex=True)
        if aware.any():
            t = text[aware]
            parsed = pd.to_datetime(t, utc=True, errors="coerce", format="ISO8601")
            miss = parsed.isna()
            if miss.any():
                parsed.loc[miss] = pd.to_datetime(
                    t[miss], utc=True, errors="coerce", format="mixed"
                )
            out.loc[parsed.index] = parsed
        naive = text[~aware & ~text.str.contains(ZONE_NAME, regex=True)]
        if len(naive):
            parsed = pd.to_datetime(naive, errors="coerce", format="ISO8601")
            for fmt in formats:
                miss = parsed.isna()
                if not miss.any():
                    break
                parsed.loc[miss] = pd.to_datetime(naive[miss], errors="coerce", format=fmt)
            miss = parsed.isna() & naive.str.contains(r"[A-Za-z]{3}", regex=True)
            if miss.any():
                parsed.loc[miss] = pd.to_datetime(naive[miss], errors="coerce", format="mixed")
            local = _localize(parsed.astype("datetime64[ns]"), naive_time_zone, dates)
            out.loc[parsed.index] = local
    bad = out.isna() & ~blank
    return out, bad


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
