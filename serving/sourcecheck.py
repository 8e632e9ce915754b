"""Is the day's source whole enough to act on? An export that lost a table, or whose table stopped
days ago, scores every account as if nothing had happened there (no usage rows read as usage
gone, no tickets as calm accounts): the ladder would move levels and notify on it, and those
decisions stay. The daily run checks the tables its champion uses before anything is stored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.build import TABLE_FAMILIES
from features.contract import History
from serving.daily_text import day_text, family, t
from serving.scoring import ScoringModel

# when each table's row is known: a ticket at its creation, a usage day at its end;
# escalations are rare, so an old newest one says nothing
KNOWN_AT = {"tickets": ("created_at", pd.Timedelta(0)), "usage": ("date", pd.Timedelta(days=1))}


def used_families(model: ScoringModel) -> set[str]:
    """The feature families either head splits on: what the model would miss."""
    family = {f.name: f.family for f in model.spec.features}
    used: set[str] = set()
    for head in model.heads.values():
        names = head.booster.feature_name()
        splits = head.booster.feature_importance("split")
        used |= {family.get(n, "") for n, k in zip(names, splits, strict=True) if k > 0}
    return used - {""}


def source_gaps(
    history: History,
    as_of: pd.Timestamp,
    used: set[str],
    max_lag_days: int | None,
    language: str = "en",
) -> list[str]:
    """What the source lacks for `as_of`, one line per table the model uses, in `language`:
    absent, empty, or its newest row before as_of older than `max_lag_days` (None: not
    checked)."""
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
        # the whole days between the newest row's day and as_of: the days that have none
        lag = (as_of - newest.normalize()).days - 1
        if lag > max_lag_days:
            newest_day = day_text(newest, language)
            out.append(
                t("gap_stale", language, table=table, newest=newest_day, lag=lag, day=day,
                  max_lag=max_lag_days)
            )  # fmt: skip
    return out


def _newest(times: pd.Series, until: pd.Timestamp) -> pd.Timestamp | None:
    """The latest time at or before `until` (UTC), without copying millions of rows."""
    ns = pd.DatetimeIndex(times).tz_convert("UTC").asi8  # NaT is the smallest int64
    lowest = np.iinfo(np.int64).min
    found = int(np.max(ns, where=ns <= until.value, initial=lowest))
    return None if found == lowest else pd.Timestamp(found, tz="UTC")
