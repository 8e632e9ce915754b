"""Business time: a weekly calendar of local opening hours, holidays and a time zone, and the
arithmetic on it that SLA features and the ladder's due times share (one implementation).

Business time is real elapsed time inside the local opening intervals, so nights, weekends,
holidays and DST changes come from the zone database, not from fixed offsets. Times are int64 ns
since the epoch (UTC), as the feature builders hold them; a calendar's opening intervals are laid
out per year once (cached) and every ticket is placed on them with `np.searchsorted`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

if TYPE_CHECKING:
    from features.params import CalendarParams

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NS_PER_HOUR = 3_600 * 10**9
# a time after every time the data holds: a deadline beyond the laid-out years (a target of a
# thousand business hours, a calendar of holidays only) is never reached within them
FAR = np.iinfo(np.int64).max
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NAT = np.iinfo(np.int64).min  # pandas' NaT as int64 (features.windows.NAT, not imported here)


@functools.lru_cache(maxsize=64)
def holidays_in(holidays: tuple[dt.date | str, ...], year: int) -> frozenset[dt.date]:
    """The calendar's holidays in `year` (cached: due times ask for each day they pass)."""
    from dateutil.easter import easter

    out: set[dt.date] = set()
    for h in holidays:
        if isinstance(h, dt.date):
            out.add(h)
        elif h.startswith("easter"):
            out.add(easter(year) + dt.timedelta(days=int(h[6:] or 0)))
        elif m := _NTH_WEEKDAY.fullmatch(h):
            out.add(_nth_weekday(year, int(m[1]), m[2], m[3]) + dt.timedelta(days=int(m[4] or 0)))
        else:
            month, day = int(h[:2]), int(h[3:])
            if (month, day) != (2, 29) or calendar.isleap(year):
                out.add(dt.date(year, month, day))
    return frozenset(out)


_EVERY_YEAR = re.compile(r"(\d\d)-(\d\d)")
_EASTER = re.compile(r"easter([+-]\d{1,3})?")
# a weekday of a month, as US holidays and some DACH ones fall: "11-thu-4" (Thanksgiving),
# "05-mon-last" (Memorial Day), "11-thu-4+1" (the day after); days from it as Easter's
_NTH_WEEKDAY = re.compile(r"(\d\d)-(mon|tue|wed|thu|fri|sat|sun)-([1-4]|last)([+-]\d{1,3})?")


def _nth_weekday(year: int, month: int, weekday: str, nth: str) -> dt.date:
    """The `nth` (1-4, or "last") `weekday` ("mon") of a month."""
    wanted = WEEKDAYS.index(weekday)
    if nth == "last":
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        return last - dt.timedelta(days=(last.weekday() - wanted) % 7)
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(wanted - first.weekday()) % 7 + 7 * (int(nth) - 1))


def read_holiday(given: Any) -> dt.date | str:
    """A holiday as given: a date (YAML reads 2026-12-24 as one), "MM-DD" every year, or
    "easter", "easter+1", "easter-2" (days from Easter Sunday); anything else is an error."""
    if isinstance(given, dt.datetime):
        raise ValueError(f"{given!r}: a holiday is a day, not a time")
    if isinstance(given, dt.date):
        return given
    text = str(given).strip().lower()
    if m := _EASTER.fullmatch(text):
        # Easter falls between March 22 and April 25: these days keep its holiday in its year
        if not -80 <= int(m[1] or 0) <= 250:
            raise ValueError(
                f"{given!r}: a holiday is looked for in its Easter's year, and this one can leave "
                "it (it would never fall on a day): days from Easter Sunday run from -80 to +250"
            )
        return text
    if m := _NTH_WEEKDAY.fullmatch(text):
        if not 1 <= int(m[1]) <= 12:
            raise ValueError(f"{given!r}: no such month for a weekday of a month (11-thu-4)")
        # the years 2000-2027 hold every weekday a month can start on, in leap years and not
        moved = (
            _nth_weekday(y, int(m[1]), m[2], m[3]) + dt.timedelta(days=int(m[4] or 0))
            for y in range(2000, 2028)
        )
        if any(d.year != y for y, d in zip(range(2000, 2028), moved, strict=True)):
            raise ValueError(
                f"{given!r}: a holiday is looked for in its weekday's year, and this one can "
                "leave it (it would never fall on a day there): move it by fewer days"
            )
        return text
    if m := _EVERY_YEAR.fullmatch(text):
        try:
            dt.date(2000, int(m[1]), int(m[2]))  # a leap year: 02-29 is a day
        except ValueError:
            raise ValueError(f"{given!r}: no such day of the year (MM-DD)") from None
        return text
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f'{given!r}: a holiday is a day ("2026-12-24"), a day every year ("12-24"), a '
            'day from Easter Sunday ("easter-2" Good Friday, "easter+1" Easter Monday) or a '
            'weekday of a month ("11-thu-4" the fourth Thursday of November, "05-mon-last")'
        ) from None


END_OF_DAY = dt.time.max  # "24:00": open until midnight (a 24/7 team's "00:00-24:00")


def closing(day: dt.date, close: dt.time, tzinfo: dt.tzinfo | None = None) -> dt.datetime:
    """When an interval closing at `close` ends on `day`: "24:00" is the next midnight."""
    if close == END_OF_DAY:
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tzinfo)
    return dt.datetime.combine(day, close, tzinfo=tzinfo)


def _backwards(day: str, part: str, start: dt.time, end: dt.time) -> str:
    """Why an interval that does not close after it opens is refused, and how to write it: a
    shift past midnight is two intervals, one on each day (the calendar is per weekday)."""
    opens, closes = f"{start:%H:%M}", f"{end:%H:%M}"
    if end == start:
        return f"{day}: {part!r} is empty (it opens and closes at {opens})"
    if end == dt.time(0):
        return f'{day}: {part!r} closes at midnight: write "{opens}-24:00"'
    following = WEEKDAYS[(WEEKDAYS.index(day) + 1) % 7] if day in WEEKDAYS else "the next day"
    return (
        f"{day}: {part!r} runs past midnight; split it across the two days: "
        f'{day}: "{opens}-24:00" and {following}: "00:00-{closes}" (first of its intervals there)'
    )


def parse_intervals(spec: str | None, day: str) -> tuple[tuple[dt.time, dt.time], ...]:
    if not spec:
        return ()
    out: list[tuple[dt.time, dt.time]] = []
    for part in spec.split(","):
        try:
            start_s, end_s = part.strip().split("-")
            start = dt.time.fromisoformat(start_s.strip())
            end_s = end_s.strip()
            end = END_OF_DAY if end_s == "24:00" else dt.time.fromisoformat(end_s)
        except ValueError:
            raise ValueError(f'{day}: {part.strip()!r} is not "HH:MM-HH:MM"') from None
        if end <= start:
            raise ValueError(_backwards(day, part.strip(), start, end))
        if out and start < out[-1][1]:
            raise ValueError(f"{day}: intervals must be ordered, non-overlapping and non-empty")
        out.append((start, end))
    return tuple(out)


# --- arithmetic --------------------------------------------------------------------------------


def intervals(cal: CalendarParams, weekday: int) -> tuple[tuple[dt.time, dt.time], ...]:
    """Opening intervals of a weekday (0 = Monday)."""
    day = WEEKDAYS[weekday]
    return parse_intervals(cal.weekly.get(day), day)


def _key(cal: CalendarParams) -> tuple[str, tuple[tuple[str, str | None], ...], tuple]:
    """What the laid-out years of a calendar are cached by (its settings, hashable)."""
    return cal.time_zone, tuple(sorted(cal.weekly.items())), tuple(cal.holidays)


@functools.lru_cache(maxsize=256)
def _year(key: tuple, year: int) -> tuple[np.ndarray, np.ndarray]:
    """Opening intervals (UTC ns starts, ends) of the local days of `year`, in order."""
    zone, weekly, holidays = key
    tz = ZoneInfo(zone)
    by_day = dict(weekly)
    hours = [parse_intervals(by_day.get(d), d) for d in WEEKDAYS]
    off = holidays_in(holidays, year)
    lo: list[int] = []
    hi: list[int] = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        if day not in off:
            for open_t, close_t in hours[day.weekday()]:
                # fold 0 as datetime.combine gives it: the ladder's due times always read so
                lo.append(_ns(dt.datetime.combine(day, open_t, tzinfo=tz)))
                hi.append(_ns(closing(day, close_t, tz)))
        day += dt.timedelta(days=1)
    return np.array(lo, dtype=np.int64), np.array(hi, dtype=np.int64)


def _ns(t: dt.datetime) -> int:
    """An aware time as int ns since the epoch, exactly (no float seconds)."""
    return (t - _EPOCH) // dt.timedelta(microseconds=1) * 1000


Table = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@functools.lru_cache(maxsize=64)
def _table(key: tuple, first: int, last: int) -> Table:
    """The opening intervals of years first..last as (starts, ends, business ns before each,
    business ns up to each end), ordered and disjoint: an interval a DST change turned inside
    out (a local "02:30-03:00" on the spring day) is dropped and one it moved over its
    predecessor starts where that ends."""
    parts = [_year(key, y) for y in range(first, last + 1)]
    lo = np.concatenate([p[0] for p in parts])
    hi = np.concatenate([p[1] for p in parts])
    if len(lo) > 1:
        lo = np.maximum(lo, np.concatenate(([lo[0]], np.maximum.accumulate(hi)[:-1])))
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    after = np.cumsum(hi - lo)
    return lo, hi, after - (hi - lo), after


_YEAR_NS = 31_556_952 * 10**9  # a mean Gregorian year: off by a day or two at most near 1970 +- 300


def _years(earliest: int, latest: int) -> tuple[int, int]:
    """The years around two times, widened by one each way: a local day (and the year holding
    it) may start or end a day off UTC's, and the mean year is a day or two off the calendar's."""
    return max(earliest // _YEAR_NS + 1969, 1), min(latest // _YEAR_NS + 1971, 9998)


def _position(t: np.ndarray, table: Table) -> np.ndarray:
    """Business ns from the table's start up to each time."""
    lo, hi, before, _ = table
    k = np.searchsorted(lo, t, side="right") - 1
    at = np.maximum(k, 0)
    inside = np.minimum(np.maximum(t - lo[at], 0), hi[at] - lo[at])
    return np.where(k >= 0, before[at] + inside, 0)


def add_business(
    start: np.ndarray, span: np.ndarray, cal: CalendarParams, until: int | None = None
) -> np.ndarray:
    """`start` plus `span` ns of business time (both int64 ns arrays; NaT start stays NaT): the
    earliest moment at which that much business time has passed, so a target used up at
    closing time is due then, as the ladder's due times and help desks count it. Years are laid
    out from the earliest start to `until` (default: the latest start) and a year past; a moment
    beyond them is `FAR`, after every time the data holds."""
    start = np.asarray(start, dtype=np.int64)
    span = np.asarray(span, dtype=np.int64)
    out = np.full(start.shape, _NAT, dtype=np.int64)
    ok = start != _NAT
    if not ok.any():
        return out
    s = start[ok]
    first, last = int(s.min()), int(s.max())
    table = _table(_key(cal), *_years(first, max(last, first if until is None else until)))
    lo, _, before, after = table
    if len(lo) == 0:
        out[ok] = FAR
        return out
    goal = _position(s, table) + (span[ok] if span.shape == start.shape else span)
    j = np.searchsorted(after, goal, side="left")
    at = np.minimum(j, len(lo) - 1)
    due = np.where(j < len(lo), lo[at] + (goal - before[at]), FAR)
    out[ok] = np.maximum(due, s)  # no time to spend: due at the start, not at a past closing
    return out


def business_elapsed(start: np.ndarray, end: np.ndarray, cal: CalendarParams) -> np.ndarray:
    """Business ns from `start` to `end` per row (0 where `end` is not after `start`; NaT
    where either is NaT): what an SLA clock counting in `cal` shows at `end`."""
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    out = np.full(np.broadcast(start, end).shape, _NAT, dtype=np.int64)
    s, e = np.broadcast_arrays(start, end)
    ok = (s != _NAT) & (e != _NAT)
    if not ok.any():
        return out
    both = np.concatenate([s[ok], e[ok]])
    table = _table(_key(cal), *_years(int(both.min()), int(both.max())))
    if len(table[0]) == 0:
        out[ok] = 0
        return out
    out[ok] = np.maximum(_position(e[ok], table) - _position(s[ok], table), 0)
    return out


def due(
    start: np.ndarray,
    span: np.ndarray,
    cal: CalendarParams | None,
    until: int | None = None,
    on_calendar: np.ndarray | None = None,
) -> np.ndarray:
    """`start` plus `span` ns per row (int64; a NaT start stays NaT): business time of `cal` in
    the rows `on_calendar` (every row when None), clock time in the others and without a
    calendar. SLA targets mix both: the policy's are business hours, a ticket's own are the
    clock hours to the deadline its helpdesk worked out (`features.contract.from_policy`)."""
    start = np.asarray(start, dtype=np.int64)
    clock = np.where(start != _NAT, start + span, _NAT)
    if cal is None or (on_calendar is not None and not on_calendar.any()):
        return clock
    if on_calendar is None:
        return add_business(start, span, cal, until)
    business = add_business(np.where(on_calendar, start, _NAT), span, cal, until)
    return np.where(on_calendar, business, clock)


def deadlines(
    start: np.ndarray,
    hours: np.ndarray,
    cal: CalendarParams | None,
    until: int | None = None,
    on_calendar: np.ndarray | None = None,
) -> np.ndarray:
    """When targets of `hours` (float, NaN: none) from `start` (int64 ns, NaT: unknown) run
    out: in clock hours, or in the business hours of `cal` for the rows `on_calendar` (`due`).
    NaT where either is unknown; beyond `until` (and a year past) `FAR`."""
    known = (start != _NAT) & np.isfinite(hours)
    span = np.where(known, np.rint(np.nan_to_num(hours) * 3.6e12), 0).astype(np.int64)
    return due(np.where(known, start, _NAT), span, cal, until, on_calendar)
