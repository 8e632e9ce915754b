"""Escalation KPIs from the customer history (escalations and tickets tables), as of a day.

Point in time like the features: only what was known before `as_of` counts. Complements
`serving.kpis` (the ladder's own flags, from the audit store). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.contract import History
from serving.params import BenchmarkHoursParams


@dataclass(frozen=True)
class HistoryKpis:
    active_accounts: int
    escalations: int
    accounts_escalated: int
    escalation_rate: float | None  # share of active accounts with an escalation in the window
    escalations_per_account: float | None  # per escalated account
    first_response_hours: np.ndarray  # per escalation with a known first response
    resolution_hours: np.ndarray
    first_response_within: float | None  # share within the benchmark
    resolution_within: float | None
    weekly: pd.Series  # week start -> escalations opened
    csat_after: float | None
    csat_all: float | None


def history_kpis(
    history: History,
    as_of: pd.Timestamp,
    window_days: int,
    csat_after_days: int,
    benchmarks: BenchmarkHoursParams,
) -> HistoryKpis:
    since = as_of - pd.Timedelta(days=window_days)
    active_accounts = accounts_in_window(history, since, as_of)
    e = history.escalations
    if e is None:
        e = pd.DataFrame(
            {
                c: pd.Series(dtype="datetime64[ns, UTC]")
                for c in ("opened_at", "acknowledged_at", "closed_at")
            }
        )
        e["account_id"] = pd.Series(dtype=object)
    win = e[(e["opened_at"] >= since) & (e["opened_at"] < as_of)]
    ack = win["acknowledged_at"].where(win["acknowledged_at"] < as_of)
    closed = win["closed_at"].where(win["closed_at"] < as_of)
    fr = ((ack - win["opened_at"]).dt.total_seconds() / 3600).dropna().to_numpy()
    res = ((closed - win["opened_at"]).dt.total_seconds() / 3600).dropna().to_numpy()
    # still open and already past a benchmark: a known miss, counted as one (not left out)
    age = (as_of - win["opened_at"]).dt.total_seconds() / 3600
    late_fr = int((ack.isna() & (age > benchmarks.first_response)).sum())
    late_res = int((closed.isna() & (age > benchmarks.resolution)).sum())
    n_acc = int(win["account_id"].nunique())
    # whole weeks ending at as_of: weeks counted from the window's start left a last bar of
    # window_days % 7 days (6 of 7 for 90), the newest week drawn as a fall that was not there
    whole = window_days // 7
    weeks = pd.date_range(end=as_of - pd.Timedelta(days=7), periods=whole, freq="7D")
    weekly = pd.Series(
        np.histogram(win["opened_at"].astype("int64"), bins=np.append(weeks.asi8, as_of.value))[0]
        if len(weeks)
        else [],
        index=weeks,
        dtype=int,
    )

    t = history.tickets
    # a rating is known once its ticket is resolved, as the features count it: one resolved
    # after as_of is not yet, nor one of a ticket never resolved (when it was given is unknown)
    known = (t["resolved_at"] < as_of).fillna(False)
    rated = t[(t["created_at"] >= since) & (t["created_at"] < as_of) & t["csat"].notna() & known]
    # an escalation opened csat_after_days before the window or earlier reaches none of its
    # tickets: left out before the pairing (most of a long history's escalations)
    reach = e[
        (e["opened_at"] < as_of) & (e["opened_at"] > since - pd.Timedelta(days=csat_after_days))
    ]
    after = _after_escalation(rated, reach, csat_after_days)
    return HistoryKpis(
        active_accounts=active_accounts,
        escalations=len(win),
        accounts_escalated=n_acc,
        escalation_rate=min(n_acc / active_accounts, 1.0) if active_accounts else None,
        escalations_per_account=len(win) / n_acc if n_acc else None,
        first_response_hours=fr,
        resolution_hours=res,
        first_response_within=_within(fr, late_fr, benchmarks.first_response),
        resolution_within=_within(res, late_res, benchmarks.resolution),
        weekly=weekly,
        csat_after=float(after["csat"].astype(float).mean()) if len(after) else None,
        csat_all=float(rated["csat"].astype(float).mean()) if len(rated) else None,
    )


def accounts_in_window(history: History, since: pd.Timestamp, as_of: pd.Timestamp) -> int:
    """Accounts in contract at some time in [since, as_of): the escalation rate's denominator.
    The accounts active on the day left out those that escalated and then churned in the window,
    while the numerator counted them: the rate was too high (and capped at 100%)."""
    a = history.accounts.drop_duplicates("account_id")
    started = a["contract_start"] < as_of
    gone = pd.Series(False, index=a.index)
    if history.churn is not None and len(history.churn):
        first = history.churn.groupby("account_id")["churned_at"].min()
        gone = (a["account_id"].map(first) < since).fillna(False).astype(bool)
    return int((started & ~gone).sum())


def _within(hours: np.ndarray, late: int, benchmark: float) -> float | None:
    """Share of escalations handled within `benchmark` hours, the `late` open ones as misses."""
    n = len(hours) + late
    return float(np.sum(hours <= benchmark)) / n if n else None


def _after_escalation(tickets: pd.DataFrame, escalations: pd.DataFrame, days: int) -> pd.DataFrame:
    """Tickets opened within `days` after one of their account's escalations (each ticket once).
    The latest escalation opened at or before a ticket decides: if any earlier one reaches the
    ticket, so does it. One as-of join, not every ticket paired with every escalation."""
    if not len(tickets) or not len(escalations):
        return tickets.iloc[0:0]
    rated = tickets[["ticket_id", "account_id", "created_at", "csat"]].sort_values(
        "created_at", kind="stable"
    )
    opened = escalations[["account_id", "opened_at"]].dropna()
    # the join wants one key type on both sides (the tables' time units may differ)
    opened = opened.astype({"opened_at": rated["created_at"].dtype, "account_id": object})
    rated = rated.astype({"account_id": object})
    opened = opened.sort_values("opened_at", kind="stable")
    latest = pd.merge_asof(
        rated, opened, left_on="created_at", right_on="opened_at", by="account_id"
    )
    hit = latest["created_at"] < latest["opened_at"] + pd.Timedelta(days=days)
    return latest[hit.to_numpy()]
