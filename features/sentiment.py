"""Sentiment family: window mean, minimum, share of negative tickets, and trend.

Each ticket's subject and body are scored once (see `features.scorers`) in the ticket's language
(a `language` column on the ticket if the source has one, else the account's language); the score
is known from the ticket's creation.
"""

from __future__ import annotations

import numpy as np

from features.context import Absence, Columns, Context, absent_reason
from features.contract import History
from features.params import FeatureParams
from features.scorers import SentimentScorer, cached, default_scorer, without_markup
from features.spec import AT_ZERO, FeatureInfo, last_days, number
from features.texts import ticket_keys, ticket_languages, ticket_texts
from features.windows import ratio

FAMILY = "sentiment"


def unavailable(history: History, params: FeatureParams) -> dict[str, Absence]:
    why = absent_reason("tickets", history.tickets)
    return {FAMILY: why} if why else {}


def spec(params: FeatureParams) -> list[FeatureInfo]:
    f = FAMILY
    out = []
    for w in params.windows_days:
        last, letzten, der = last_days(w), last_days(w, "de"), last_days(w, "de_of")
        out += [
            number(
                f"sentiment_mean_{w}d",
                f,
                "score [-1, 1]",
                f"Mean sentiment of tickets created in {last} (those with text).",
                f"Ticket tone averaged {{value:+.2f}} over {last}",
                f"Tonfall der Tickets im Mittel {{value:+.2f}} {letzten}",
            ),
            number(
                f"sentiment_min_{w}d",
                f,
                "score [-1, 1]",
                f"Most negative ticket sentiment in {last}.",
                f"A ticket in {last} scored {{value:+.2f}} in tone",
                f"Ein Ticket {der} hatte den Tonfall {{value:+.2f}}",
            ),
            number(
                f"sentiment_negative_share_{w}d",
                f,
                "share",
                f"Share of tickets with text in {last} scoring below "
                f"{params.sentiment.negative_below}.",
                f"{{value:.0%}} of tickets in {last} were negative"
                f"{AT_ZERO}None of the tickets in {last} were negative",
                f"{{value:.0%}} der Tickets {der} waren negativ"
                f"{AT_ZERO}Keines der Tickets {der} war negativ",
            ),
        ]
    tr = params.sentiment.trend
    out.append(
        number(
            "sentiment_trend",
            f,
            "score difference",
            f"Mean sentiment of {last_days(tr.recent_days)} minus that of the "
            f"{tr.baseline_days} days before them.",
            "Ticket tone changed by {value:+.2f} against its own baseline",
            "Tonfall der Tickets {value:+.2f} gegenüber dem eigenen Mittel",
        )
    )
    return out


def ticket_scores(
    history: History, scorer: SentimentScorer, keys: np.ndarray | None = None
) -> np.ndarray:
    """Score per ticket row of `history.tickets`, in its language, each distinct text once.

    A ticket's text is its subject and body joined by a newline. It is looked up by its key
    (`features.texts.ticket_keys`, or `keys` if the caller has them), so a warm lookup handles no
    text; the texts are built only when the cache has not scored some of them yet.
    """
    keys = ticket_keys(history) if keys is None else keys

    def texts_of(rows: np.ndarray) -> tuple[list[str], list[str]]:
        return ticket_texts(history, rows), ticket_languages(history)[rows].tolist()

    return cached(scorer).scores_keyed(keys, texts_of)


def has_text(history: History, scorer: SentimentScorer, keys: np.ndarray) -> np.ndarray:
    """Per ticket row: does its subject or body hold any text? A ticket without (a phone call
    logged with no note, an export without text columns) has no tone: it is left out of the
    sentiment features rather than counted as neutral. An HTML body read as its text, as the
    scorer reads it: a rich-text editor's empty "<p>&nbsp;</p>" is no text either. Kept beside
    the scores, as they are ("v2": flags of markup-only texts are redone)."""

    def run(rows: np.ndarray) -> np.ndarray:
        texts = ticket_texts(history, rows)
        return np.array([bool(without_markup(t).strip()) for t in texts], dtype=bool)

    return cached(scorer).flags_keyed(keys, "has-text-v2", run)


def compute(ctx: Context) -> Columns:
    p = ctx.params
    scorer, keys = ctx.sentiment or default_scorer(), ctx.text_keys()
    score = ticket_scores(ctx.history, scorer, keys)
    texted = has_text(ctx.history, scorer, keys)
    # scores as integers (1e-9 steps) so window sums are exact and independent of other rows
    q = np.where(texted, np.rint(score * QUANTUM), 0).astype(np.int64)
    created = ctx.timeline("tickets", "created_at")
    negative = texted & (score < p.sentiment.negative_below)
    ev = created.sums({"q": q, "negative": negative, "texted": texted})
    lowest = np.where(texted, q, np.inf)  # the minimum of the tickets with a tone
    end = ctx.snaps.as_of
    out: Columns = {}
    for w in p.windows_days:
        n = ev.sum("texted", ctx.ago(w), end)
        out[f"sentiment_mean_{w}d"] = ratio(ev.sum("q", ctx.ago(w), end), n * QUANTUM)
        low = created.min(lowest, ctx.ago(w), end)
        out[f"sentiment_min_{w}d"] = np.where(np.isinf(low), np.nan, low / QUANTUM)
        out[f"sentiment_negative_share_{w}d"] = ratio(ev.sum("negative", ctx.ago(w), end), n)
    tr = p.sentiment.trend
    r0, b0 = ctx.ago(tr.recent_days), ctx.ago(tr.recent_days + tr.baseline_days)
    recent = ratio(ev.sum("q", r0, end), ev.sum("texted", r0, end) * QUANTUM)
    base = ratio(ev.sum("q", b0, r0), ev.sum("texted", b0, r0) * QUANTUM)
    out["sentiment_trend"] = recent - base
    return out


QUANTUM = 1e9
