"""Satisfaction family: CSAT mean, count and low ratings of resolved tickets.

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
    w = max(params.windows_days)
    return [
        number(
            "csat_mean",
            f,
            "rating 1-5",
            "Mean CSAT of all rated tickets resolved before as_of.",
            "Customer satisfaction averages {value:.1f} of 5",
            "Kundenzufriedenheit im Mittel {value:.1f} von 5",
        ),
        number(
            "csat_count",
            f,
            "ratings",
            "CSAT ratings of tickets resolved before as_of.",
            f"{{value:.0f}} satisfaction [rating|ratings]{AT_ZERO}No satisfaction ratings",
            f"{{value:.0f}} [Zufriedenheitsbewertung|Zufriedenheitsbewertungen]"
            f"{AT_ZERO}Keine Zufriedenheitsbewertungen",
        ),
        number(
            "csat_low_count",
            f,
            "ratings",
            f"CSAT ratings of {low} or less, before as_of.",
            f"{{value:.0f}} low satisfaction [rating|ratings]{AT_ZERO}No low satisfaction ratings",
            f"{{value:.0f}} schlechte [Zufriedenheitsbewertung|Zufriedenheitsbewertungen]"
            f"{AT_ZERO}Keine schlechten Zufriedenheitsbewertungen",
        ),
        number(
            f"csat_mean_{w}d",
            f,
            "rating 1-5",
            f"Mean CSAT of tickets resolved in {last_days(w)}.",
            f"Satisfaction averaged {{value:.1f}} of 5 over {last_days(w)}",
            f"Zufriedenheit im Mittel {{value:.1f}} von 5 {last_days(w, 'de')}",
        ),
        number(
            f"csat_low_count_{w}d",
            f,
            "ratings",
            f"CSAT ratings of {low} or less in {last_days(w)}.",
            f"{{value:.0f}} low satisfaction [rating|ratings] in {last_days(w)}"
            f"{AT_ZERO}No low satisfaction ratings in {last_days(w)}",
            f"{{value:.0f}} schlechte [Zufriedenheitsbewertung|Zufriedenheitsbewertungen] "
            f"{last_days(w, 'de')}{AT_ZERO}Keine schlechten Zufriedenheitsbewertungen "
            f"{last_days(w, 'de')}",
        ),
    ]


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
    w = max(ctx.params.windows_days)
    n_all = ev.sum("rated", None, end).astype(np.float64)
    n_w = ev.sum("rated", ctx.ago(w), end).astype(np.float64)
    return {
        "csat_mean": ratio(ev.sum("csat", None, end), n_all),
        "csat_count": n_all,
        "csat_low_count": ev.sum("low", None, end).astype(np.float64),
        f"csat_mean_{w}d": ratio(ev.sum("csat", ctx.ago(w), end), n_w),
        f"csat_low_count_{w}d": ev.sum("low", ctx.ago(w), end).astype(np.float64),
    }
