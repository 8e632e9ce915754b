"""Timestamps from exports in any of the usual shapes, normalised to UTC.

Values with an offset or zone keep it; values without one are read in `naive_time_zone`; numbers
are Unix epochs (seconds, or milliseconds when too large for seconds). Formats are tried in order:
ISO 8601, then the configured strftime formats, then a lenient parser for values with month names.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

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


# a date with slashes: 07/12/2026 is 7 December in the UK and 12 July in the US
_SLASHED = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?!\d)")
_CLOCK12 = re.compile(r"\d:\d{2}(?::\d{2})?\s?[AaPp]\.?[Mm]\b")
SLASH_ORDERS = {"day_first": "dmy", "month_first": "mdy"}


@dataclass(frozen=True)
class SlashRead:
    """Slash dates of a group read day first by what its other values show: for the report."""

    group: float
    example: str
    evidence: str
    count: int


def slash_orders(
    values: pd.Series, groups: pd.Series | None, setting: str
) -> tuple[pd.Series, dict[int, tuple[str, dict[str, object]]], list[SlashRead]]:
    """Each slash date's order ("dmy" or "mdy"; None: no slash date), by position why one is
    refused (a catalog key and its values), and the groups read day first by their values.

    `setting` day_first / month_first orders every value so; "auto" by what the group's (a
    file's column) other values show, as `numbers.read_numbers` decides a notation: a first
    part above 12 (25/12/2026) says day first, a second one (12/25/2026) month first; where
    neither is, a 12-hour time (1/8/2024 9:00 AM, as US locales and the docs' Salesforce and
    ServiceNow formats write it) says month first. A value both orders read apart (07/12/2026)
    that nothing decides is refused, never guessed.
    """
    orders = pd.Series(None, index=values.index, dtype=object)
    refused: dict[int, tuple[str, dict[str, object]]] = {}
    read: list[SlashRead] = []
    text = [v if isinstance(v, str) else "" for v in values.astype(object)]
    parts = pd.Series(text, dtype=object).str.extract(_SLASHED)
    slashed = parts[0].notna().to_numpy()
    if not slashed.any():
        return orders, refused, read
    if setting in SLASH_ORDERS:
        orders[slashed] = SLASH_ORDERS[setting]
        return orders, refused, read
    first = pd.to_numeric(parts[0], errors="coerce").to_numpy()
    second = pd.to_numeric(parts[1], errors="coerce").to_numpy()
    years = [str(y) for y in parts[2]]
    files = np.zeros(len(values)) if groups is None else groups.to_numpy(float, na_value=-1)
    for g in np.unique(files[slashed]):
        rows = [int(r) for r in np.flatnonzero(slashed & (files == g))]
        dmy = [text[r] for r in rows if first[r] > 12]
        mdy = [text[r] for r in rows if second[r] > 12]
        if not dmy and not mdy:  # a 12-hour clock (2:30 PM) is how US locales write the time
            mdy = [text[r] for r in rows if _CLOCK12.search(text[r])][:1]
        for r in rows:
            a, b = first[r], second[r]
            if a > 12 or (b <= 12 and dmy and not mdy):
                orders.iat[r] = "dmy"
            elif b > 12 or a == b or (mdy and not dmy):
                orders.iat[r] = "mdy"
            elif dmy and mdy:
                refused[r] = ("date_order_mixed", {"v": text[r], "d": dmy[0], "m": mdy[0]})
            else:
                said: dict[str, object] = {
                    "v": text[r],
                    "dmy": _day(a, b, years[r]),
                    "mdy": _day(b, a, years[r]),
                }
                refused[r] = ("date_order_ambiguous", said)
        told = [
            r for r in rows if orders.iat[r] == "dmy" and first[r] <= 12 and first[r] != second[r]
        ]
        if told:
            read.append(SlashRead(float(g), text[told[0]], dmy[0], len(told)))
    return orders, refused, read


def _day(day: float, month: float, year: str) -> str:
    """A date's reading as ISO 8601 (2026-12-07), to show what each order makes of it."""
    y = int(year) + (2000 if len(year) == 2 else 0)
    return f"{y:04d}-{int(month):02d}-{int(day):02d}"


def _in_order(formats: Sequence[str], order: str) -> list[str]:
    """`formats` with their slash dates in `order`: %m/%d and %d/%m swapped as needed."""
    want, other = ("%d/%m", "%m/%d") if order == "dmy" else ("%m/%d", "%d/%m")
    return [f.replace(other, want) for f in formats]


def parse_times(
    values: pd.Series,
    naive_time_zone: str,
    formats: Sequence[str],
    dates: bool = False,
    orders: pd.Series | None = None,
) -> tuple[pd.Series, pd.Series]:
    """(UTC timestamps, mask of values that were present but could not be parsed).

    With `dates` (a contract date column: contract_start, renewal_date, notice_at; a per-day
    usage row's date) a value without a time of day, or at midnight, is that calendar day, with
    or without an offset: read in its zone east of UTC its midnight is the previous UTC day, a
    day too early (a warehouse's timestamptz day, 2026-03-29T00:00:00+02:00, is 29 March).
    `orders` (`slash_orders`): a slash date's order of day and month; without, as `formats` say.
    """
    s = pd.Series(values, copy=False)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        out = s.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        if dates:
            out = _days(out, s.dt.tz_localize(None).astype("datetime64[ns]"))
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
                walls = _wall_times(wall, formats, orders)
                parsed.loc[miss] = (walls - offset).dt.tz_localize("UTC")
            if dates:
                offsets = pd.to_timedelta(zone[zoned].map(_offset))
                parsed = _days(parsed, parsed.dt.tz_localize(None) + offsets)
            out.loc[parsed.index] = parsed
        naive = text[~zoned]
        naive = naive[~naive.str.contains(ZONE_NAME, regex=True)]
        if len(naive):
            local = _localize(_wall_times(naive, formats, orders), naive_time_zone, dates)
            out.loc[local.index] = local
    bad = out.isna() & ~blank
    return out, bad


def _days(utc: pd.Series, wall: pd.Series) -> pd.Series:
    """`utc`, but a value whose wall time in its own zone is a midnight as that calendar day."""
    midnight = wall.notna() & (wall == wall.dt.normalize())
    return utc.where(~midnight, wall.dt.tz_localize("UTC")).astype("datetime64[ns, UTC]")


def _wall_times(
    text: pd.Series, formats: Sequence[str], orders: pd.Series | None = None
) -> pd.Series:
    """Wall times without a zone: ISO 8601, then `formats`, then values with month names (NaT:
    unreadable). `orders`: slash dates in "dmy" order read with %d/%m formats, "mdy" %m/%d."""
    if orders is not None:
        order = orders.reindex(text.index)
        if order.notna().any():
            parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
            for o in ("dmy", "mdy"):
                mine = order == o
                if mine.any():
                    parsed.loc[mine] = _wall_times(text[mine], _in_order(formats, o))
            rest = order.isna()
            if rest.any():
                parsed.loc[rest] = _wall_times(text[rest], formats)
            return parsed
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    for fmt in formats:
        miss = parsed.isna()
        if not miss.any():
            break
        parsed.loc[miss] = pd.to_datetime(text[miss], errors="coerce", format=fmt)
    miss = parsed.isna() & text.str.contains(r"[^\W\d_]{3}", regex=True)  # Mär too
    if miss.any():
        parsed.loc[miss] = text[miss].map(_month_names)
    return parsed.astype("datetime64[ns]")


# German month names and abbreviations as a German Jira (07/Dez/26 9:15 AM, Java's older
# 07/Mrz/26 9:15 vorm. and newer 07/Dez./26), Salesforce or Excel write them, by the English
# one dateutil reads; with its 12-hour clock's vorm./nachm. One only where it differs
_GERMAN_MONTHS = {
    "januar": "Jan", "jänner": "Jan", "jän": "Jan", "februar": "Feb", "märz": "Mar",
    "mär": "Mar", "mrz": "Mar", "maerz": "Mar", "mai": "May", "juni": "Jun", "juli": "Jul",
    "sept": "Sep", "oktober": "Oct", "okt": "Oct", "dezember": "Dec", "dez": "Dec",
    "vorm": "AM", "nachm": "PM",
}  # fmt: skip
_ENGLISH_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov")
# a month word (German, or English with a dot: Jan.) and its dot
_MONTH_WORD = re.compile(
    r"(?<![^\W\d_])("
    + "|".join(sorted([*_GERMAN_MONTHS, *_ENGLISH_MONTHS, "dec"], key=len, reverse=True))
    + r")(\.|(?![^\W\d_]))",
    re.IGNORECASE,
)


# a German day name before the date (Mo, 07 Dez 2026): dateutil reads English ones only
_GERMAN_DAY = re.compile(
    r"^\s*(?:mo|di|mi|do|fr|sa|so|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag)"
    r"\.?,?\s+",
    re.IGNORECASE,
)


def _english_months(value: str) -> str:
    """`value` with German month names (and a 12-hour clock's vorm./nachm.) in English, and
    without the dot of an abbreviation (Dez., Jan.), which dateutil does not read."""
    value = _GERMAN_DAY.sub("", value)
    return _MONTH_WORD.sub(lambda m: _GERMAN_MONTHS.get(m.group(1).lower(), m.group(1)), value)


def _month_names(value: str) -> pd.Timestamp | None:
    """'Dec 7, 2026 2:30 PM' (or German: '07/Dez/26 9:15 AM', '7. Dezember 2026 09:15') by
    dateutil; a value it reads a zone from is unreadable: it dropped zones it did not know and
    read GMT+0100 as an hour west of UTC."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ts = pd.Timestamp(_english_months(value))
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
