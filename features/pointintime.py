"""The history as it stood on a day, and where the data begins and ends.

`history_at(history, D)` is what a system of record would have shown at midnight D: the property
tests compare features built on it with features built on the full history, and replays use it.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from features.contract import History

# status a ticket shows while it is still open at the cut; the real one at that time is unknown
OPEN_STATUS = "open"


def history_at(history: History, as_of: pd.Timestamp) -> History:
    """Everything known before `as_of`: later events removed, later outcomes blanked.

    Tickets created at or after as_of are removed; first responses and resolutions at or after it
    are blanked; a ticket not resolved before as_of has no CSAT and no known reopen yet, and shows
    as open. Escalations opened at or after as_of are removed, later acknowledgements and closures
    blanked. Usage dated on or after as_of's day and churn at or after as_of are removed. An
    account's notice date (`notice_at`) on or after as_of is blanked: the notice came later.
    """
    d = (
        pd.Timestamp(as_of).tz_convert("UTC")
        if pd.Timestamp(as_of).tzinfo
        else pd.Timestamp(as_of, tz="UTC")
    )
    t = history.tickets
    t = t[t["created_at"] < d].copy()
    late_fr = t["first_response_at"].notna() & (t["first_response_at"] >= d)
    t.loc[late_fr, "first_response_at"] = pd.NaT
    unresolved = t["resolved_at"].isna() | (t["resolved_at"] >= d)
    t.loc[unresolved, "resolved_at"] = pd.NaT
    t.loc[unresolved, "csat"] = pd.NA
    t.loc[unresolved, "reopen_count"] = 0
    t.loc[unresolved, "status"] = OPEN_STATUS
    esc = history.escalations
    if esc is not None:
        esc = esc[esc["opened_at"] < d].copy()
        for col in ("acknowledged_at", "closed_at"):
            esc.loc[esc[col].notna() & (esc[col] >= d), col] = pd.NaT
        esc = esc.reset_index(drop=True)
    usage = history.usage
    if usage is not None:
        usage = usage[usage["date"] < d].reset_index(drop=True)
    churn = history.churn
    if churn is not None:
        churn = churn[churn["churned_at"] < d].reset_index(drop=True)
    acc = history.accounts
    if "notice_at" in acc:
        acc = acc.assign(notice_at=acc["notice_at"].where(acc["notice_at"] < d))
    return replace(
        history,
        accounts=acc,
        tickets=t.reset_index(drop=True),
        escalations=esc,
        usage=usage,
        churn=churn,
    )


def _times(history: History) -> list[pd.Series]:
    out = [history.tickets[c] for c in ("created_at", "first_response_at", "resolved_at")]
    if history.escalations is not None:
        out += [history.escalations[c] for c in ("opened_at", "acknowledged_at", "closed_at")]
    if history.churn is not None:
        out.append(history.churn["churned_at"])
    if history.usage is not None:
        out.append(
            history.usage["date"] + pd.Timedelta(days=1)
        )  # a day's row is complete at its end
    return out


def data_end(history: History) -> pd.Timestamp | None:
    """The end of the observed data: the latest event (a usage day counts until its end).

    A label horizon [as_of, as_of + h) is fully observed only if as_of + h <= data_end.
    """
    latest = [s.max() for s in _times(history) if s.notna().any()]
    return max(latest) if latest else None


def newest_event(history: History) -> pd.Timestamp | None:
    """The latest event time in the data, a usage row at its day's start: the newest instant
    that has data, so that its day is the last day with any (`data_end` counts a usage day until
    its end, which cannot be told apart from an event at the next midnight)."""
    times = _times(replace(history, usage=None))
    if history.usage is not None:
        times.append(history.usage["date"])
    latest = [s.max() for s in times if s.notna().any()]
    return max(latest) if latest else None


def empty_days(newest: pd.Timestamp, as_of: pd.Timestamp) -> int:
    """The whole days strictly between the day of `newest` (which has data) and `as_of`'s day:
    the days without any row. The daily run's source check and its old-data line both count so."""
    day = pd.Timestamp(as_of).tz_convert("UTC").normalize()
    return (day - pd.Timestamp(newest).tz_convert("UTC").normalize()).days - 1


def data_start(history: History) -> pd.Timestamp | None:
    """The first event time in the data (ticket creation, usage day, escalation, churn)."""
    firsts = [history.tickets["created_at"]]
    if history.usage is not None:
        firsts.append(history.usage["date"])
    if history.escalations is not None:
        firsts.append(history.escalations["opened_at"])
    found = [s.min() for s in firsts if s.notna().any()]
    return min(found) if found else None
