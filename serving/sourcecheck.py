"""Is the day's source whole enough to act on? An export that lost a table, or whose table stopped
days ago, scores every account as if nothing had happened there (no usage rows read as usage
gone, no tickets as calm accounts): the ladder would move levels and notify on it, and those
decisions stay. The daily run checks the tables its champion uses before anything is stored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.build import TABLE_FAMILIES, left_out, unavailable_families
from features.contract import DAY_NS, History
from features.params import FeatureParams
from features.pointintime import empty_days
from serving.daily_text import day_text, family, t
from serving.scoring import ScoringModel
from training.bundle import used_families as bundle_families
from training.bundle import used_features

# when each table's row is known: a ticket at its creation, a usage day at its end;
# escalations are rare, so an old newest one says nothing
KNOWN_AT = {"tickets": ("created_at", pd.Timedelta(0)), "usage": ("date", pd.Timedelta(days=1))}


def used_families(model: ScoringModel) -> set[str]:
    """The feature families either head splits on: what the model would miss."""
    return bundle_families(model.spec, (h.booster for h in model.heads.values()))


def column_gaps(
    history: History, model: ScoringModel, params: FeatureParams, language: str = "en"
) -> list[str]:
    """Columns without a single value that features the model splits on are built from (CSAT
    ratings, first responses: an export that does not carry them), one line each in `language`:
    a champion trained where they had values would read every account as unrated, or every
    ticket as a first-response breach, and the ladder would act on it."""
    used = used_features(h.booster for h in model.heads.values())
    out = []
    for key, why in sorted(unavailable_families(history, params).items()):
        hit = any(f.name in used and left_out(f, {key: why}) for f in model.spec.features)
        if why.key == "column_empty" and hit:
            words = {"table": why.table, "column": why.column, "families": family(key, language)}
            out.append(t("gap_column_empty", language, **words))
    return out


def source_gaps(
    history: History,
    as_of: pd.Timestamp,
    used: set[str],
    max_lag_days: int | None,
    language: str = "en",
    reach_days: int = 0,
) -> list[str]:
    """What the source lacks for `as_of`, one line per problem of a table the model uses, in
    `language`: absent, empty, its newest row before as_of older than `max_lag_days`, or (usage)
    days without any row amid the `reach_days` before as_of (None: neither checked)."""
    out = []
    day = day_text(as_of, language)
    for table, families in TABLE_FAMILIES.items():
        needed = sorted(set(families) & used)
        if not needed:
            continue
        rows = getattr(history, table)
        what = ", ".join(family(f, language) for f in needed)
        if rows is None:
            out.append(t("gap_absent", language, table=table, families=what))
            continue
        if not len(rows):
            out.append(t("gap_empty", language, table=table, families=what))
            continue
        if table not in KNOWN_AT or max_lag_days is None:
            continue
        column, after = KNOWN_AT[table]
        newest = _newest(rows[column], as_of - after)  # the newest row known by as_of
        if newest is None:
            out.append(t("gap_none_before", language, table=table, day=day))
            continue
        lag = empty_days(newest, as_of)
        if lag > max_lag_days:
            newest_day = day_text(newest, language)
            out.append(
                t("gap_stale", language, table=table, newest=newest_day, lag=lag, day=day,
                  max_lag=max_lag_days)
            )  # fmt: skip
        if table == "usage" and reach_days > 0:
            out += _holes(history, rows[column], as_of, reach_days, language)
    return out


def usage_reach(features: FeatureParams) -> int:
    """The days before as_of the usage features read: the long window and its baseline."""
    return features.usage.long_days + features.usage.baseline_days


def _holes(
    history: History, dates: pd.Series, as_of: pd.Timestamp, reach: int, language: str
) -> list[str]:
    """Days in the `reach` before as_of on which no account has a usage row, between two days
    that have them, while some account is in contract: usage is one row per account and day,
    so a day without any is a lost export day (read as no usage at all), not a quiet one."""
    d = as_of.value // DAY_NS  # rows for days before as_of are known at it
    day = pd.DatetimeIndex(dates).tz_convert("UTC").asi8 // DAY_NS - (d - reach)
    rows = np.bincount(day[(day >= 0) & (day < reach)], minlength=reach)
    seen = np.flatnonzero(rows)
    if len(seen) < 2:
        return []
    empty = np.flatnonzero(rows[seen[0] : seen[-1]] == 0) + seen[0] + d - reach
    # a weekday without a row in the whole reach is a quiet day, not a lost one: a business
    # product's export has no weekend rows at all when nobody works then
    busy = np.bincount((np.arange(reach) + d - reach)[rows > 0] % 7, minlength=7) > 0
    empty = empty[busy[empty % 7]]
    if not len(empty):
        return []
    # a day without any account in contract has no rows to miss (one churned, the next not
    # yet started)
    starts = np.sort(_days(history.accounts["contract_start"]))
    churned = (
        np.sort(_days(history.churn["churned_at"])) if history.churn is not None else starts[:0]
    )
    active = np.searchsorted(starts, empty, "right") - np.searchsorted(churned, empty, "left")
    empty = empty[active > 0]
    if not len(empty):
        return []
    first, last = (
        day_text(pd.Timestamp(int(x) * DAY_NS, tz="UTC"), language) for x in empty[[0, -1]]
    )
    words = {"n": len(empty), "first": first, "last": last, "reach": reach}
    key = "gap_hole_day" if len(empty) == 1 else "gap_holes"
    return [t(key, language, table="usage", day=day_text(as_of, language), **words)]


def _newest(times: pd.Series, until: pd.Timestamp) -> pd.Timestamp | None:
    """The latest time at or before `until` (UTC), without copying millions of rows."""
    ns = pd.DatetimeIndex(times).tz_convert("UTC").asi8  # NaT is the smallest int64
    lowest = np.iinfo(np.int64).min
    found = int(np.max(ns, where=ns <= until.value, initial=lowest))
    return None if found == lowest else pd.Timestamp(found, tz="UTC")


def _days(times: pd.Series) -> np.ndarray:
    """The UTC day numbers (since the epoch) of the times that are known."""
    return pd.DatetimeIndex(times.dropna()).tz_convert("UTC").asi8 // DAY_NS
