"""Sentiment family: window mean, minimum, share of negative tickets, and trend.

Each ticket's subject and body are scored once (see `features.scorers`) in the ticket's language
(a `language` column on the ticket if the source has one, else the account's language); the score
is known from the ticket's creation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.context import Columns, Context, absent_reason
from features.contract import History
from features.params import FeatureParams
from features.scorers import SentimentScorer, cached, default_scorer
from features.spec import FeatureInfo, number
from features.windows import Events, ratio

FAMILY = "sentiment"


def unavailable(history: History, params: FeatureParams) -> dict[str, str]:
    why = absent_reason("tickets", history.tickets)
    return {FAMILY: why} if why else {}


def spec(params: FeatureParams) -> list[FeatureInfo]:
    f = FAMILY
    out = []
    for w in params.windows_days:
        out += [
            number(
                f"sentiment_mean_{w}d",
                f,
                "score [-1, 1]",
                f"Mean sentiment of tickets created in the last {w} days.",
                f"Ticket tone averaged {{value:+.2f}} over the last {w} days",
                f"Tonfall der Tickets im Mittel {{value:+.2f}} in den letzten {w} Tagen",
            ),
            number(
                f"sentiment_min_{w}d",
                f,
                "score [-1, 1]",
                f"Most negative ticket sentiment in the last {w} days.",
                f"A ticket in the last {w} days scored {{value:+.2f}} in tone",
                f"Ein Ticket der letzten {w} Tage hatte den Tonfall {{value:+.2f}}",
            ),
            number(
                f"sentiment_negative_share_{w}d",
                f,
                "share",
                f"Share of tickets in the last {w} days scoring below "
                f"{params.sentiment.negative_below}.",
                f"{{value:.0%}} of tickets in the last {w} days were negative",
                f"{{value:.0%}} der Tickets der letzten {w} Tage waren negativ",
            ),
        ]
    tr = params.sentiment.trend
    out.append(
        number(
            "sentiment_trend",
            f,
            "score difference",
            f"Mean sentiment of the last {tr.recent_days} days minus that of the "
            f"{tr.baseline_days} days before them.",
            "Ticket tone changed by {value:+.2f} against its own baseline",
            "Tonfall der Tickets {value:+.2f} gegenüber dem eigenen Mittel",
        )
    )
    return out


def ticket_scores(history: History, scorer: SentimentScorer) -> np.ndarray:
    """Score per ticket row of `history.tickets`, in its language, each distinct text once."""
    t = history.tickets
    text = [
        f"{'' if _blank(s) else s}\n{'' if _blank(b) else b}"
        for s, b in zip(t["subject"].tolist(), t["body"].tolist(), strict=True)
    ]
    lang_of = dict(
        zip(
            history.accounts["account_id"].tolist(),
            history.accounts["language"].tolist(),
            strict=True,
        )
    )
    own = t["language"].tolist() if "language" in t.columns else [None] * len(t)
    language = [
        str(o) if not _blank(o) else str(lang_of.get(a) or "en")
        for o, a in zip(own, t["account_id"].tolist(), strict=True)
    ]
    return cached(scorer).scores(text, language)


def _blank(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


def compute(ctx: Context) -> Columns:
    p = ctx.params
    score = ticket_scores(ctx.history, ctx.sentiment or default_scorer())
    # scores as integers (1e-9 steps) so window sums are exact and independent of other rows
    q = np.rint(score * QUANTUM).astype(np.int64)
    neg = (score < p.sentiment.negative_below).astype(np.int64)
    ev = Events.build(
        ctx.snaps, ctx.codes("tickets"), ctx.ns("tickets", "created_at"),
        values={"q": q, "negative": neg}, tiebreak=ctx.rank("tickets", "ticket_id"),
    )  # fmt: skip
    end = ctx.snaps.as_of
    out: Columns = {}
    for w in p.windows_days:
        n = ev.count(ctx.ago(w), end)
        out[f"sentiment_mean_{w}d"] = ratio(ev.sum("q", ctx.ago(w), end), n * QUANTUM)
        out[f"sentiment_min_{w}d"] = ev.min("q", ctx.ago(w), end) / QUANTUM
        out[f"sentiment_negative_share_{w}d"] = ratio(ev.sum("negative", ctx.ago(w), end), n)
    tr = p.sentiment.trend
    r0, b0 = ctx.ago(tr.recent_days), ctx.ago(tr.recent_days + tr.baseline_days)
    recent = ratio(ev.sum("q", r0, end), ev.count(r0, end) * QUANTUM)
    base = ratio(ev.sum("q", b0, r0), ev.count(b0, r0) * QUANTUM)
    out["sentiment_trend"] = recent - base
    return out


QUANTUM = 1e9
