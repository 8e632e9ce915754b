"""Satisfaction family: CSAT mean, count and low ratings of resolved tickets, over the longest
window and over the long memory (`long_window_days`, a bounded year rather than since the data
began: see the escalation family).

A ticket's CSAT counts only once the ticket is resolved (from its resolution time).
"""

from __future__ import annotations

import numpy as np

from features.context import Absence, Columns, Context, absent_reason
from features.contract import History
from features.params import FeatureParams
from features.spec import AT_ZERO, FeatureInfo, last_days, number
from features.windows import ratio

FAMILY = "csat"
UNRATED = np.iinfo(np.int64).min  # stands for a missing rating while reading the column


def unavailable(history: History, params: FeatureParams) -> dict[str, Absence]:
    why = absent_reason("tickets", history.tickets)
    if why is None and history.tickets["csat"].count() == 0:
        why = Absence("column_empty", "tickets", "csat")
    return {FAMILY: why} if why else {}


def spec(params: FeatureParams) -> list[FeatureInfo]:
    f = FAMILY
    low = params.csat.low_at_most
    w, long = max(params.windows_days), params.long_window_days

    def mean(d: int) -> FeatureInfo:
        return number(
            f"csat_mean_{d}d",
            f,
            "rating 1-5",
            f"Mean CSAT of tickets resolved in {last_days(d)}.",
            f"Satisfaction averaged {{value:.1f}} of 5 over {last_days(d)}",
            f"Zufriedenheit im Mittel {{value:.1f}} von 5 {last_days(d, 'de')}",
        )

    def low_count(d: int) -> FeatureInfo:
        return number(
            f"csat_low_count_{d}d",
            f,
            "ratings",
            f"CSAT ratings of {low} or less in {last_days(d)}.",
            f"{{value:.0f}} low satisfaction [rating|ratings] in {last_days(d)}"
            f"{AT_ZERO}No low satisfaction ratings in {last_days(d)}",
            f"{{value:.0f}} schlechte [Zufriedenheitsbewertung|Zufriedenheitsbewertungen] "
            f"{last_days(d, 'de')}{AT_ZERO}Keine schlechten Zufriedenheitsbewertungen "
            f"{last_days(d, 'de')}",
        )

    count = number(
        f"csat_count_{long}d",
        f,
        "ratings",
        f"CSAT ratings of tickets resolved in {last_days(long)}.",
        f"{{value:.0f}} satisfaction [rating|ratings] in {last_days(long)}"
        f"{AT_ZERO}No satisfaction ratings in {last_days(long)}",
        f"{{value:.0f}} [Zufriedenheitsbewertung|Zufriedenheitsbewertungen] "
        f"{last_days(long, 'de')}{AT_ZERO}Keine Zufriedenheitsbewertungen {last_days(long, 'de')}",
    )
    return [mean(long), count, low_count(long), mean(w), low_count(w)]


def compute(ctx: Context) -> Columns:
    raw = ctx.ints("tickets", "csat", fill=UNRATED)
    rated = raw != UNRATED
    score = np.where(rated, raw, 0)
    resolved = ctx.timeline("tickets", "resolved_at")
    ev = resolved.sums(
        {
            "rated": rated,
            "csat": score * rated,
            "low": rated & (score <= ctx.params.csat.low_at_most),
        }
    )
    end = ctx.snaps.as_of
    out: Columns = {}
    for d in (ctx.params.long_window_days, max(ctx.params.windows_days)):
        n = ev.sum("rated", ctx.ago(d), end).astype(np.float64)
        out[f"csat_mean_{d}d"] = ratio(ev.sum("csat", ctx.ago(d), end), n)
        if d == ctx.params.long_window_days:
            out[f"csat_count_{d}d"] = n
        out[f"csat_low_count_{d}d"] = ev.sum("low", ctx.ago(d), end).astype(np.float64)
    return out
