"""Notice family: tickets in which the customer gives notice of cancellation or non-renewal.

A customer that decides to leave has to say so in writing before its renewal deadline, and many
send that notice to the support or billing desk. Such a ticket is the strongest churn signal an
export holds, so it is matched by phrase (`features.notice.phrases`, case-insensitive, in subject
or body, any language) and counted from the ticket's creation like every other ticket. A notice
that reached the account team instead is in the CRM: the accounts table's optional `notice_at`,
the day it was given, known from the next midnight on.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features.context import Absence, Columns, Context, absent_reason
from features.contract import History
from features.params import FeatureParams
from features.scorers import SentimentScorer, cached, default_scorer, without_markup
from features.spec import AT_ZERO, FeatureInfo, last_days, number
from features.texts import composed, ticket_keys
from features.windows import DAY, NAT, ns_since_epoch

FAMILY = "notice"


def unavailable(history: History, params: FeatureParams) -> dict[str, Absence]:
    why = absent_reason("tickets", history.tickets)
    return {FAMILY: why} if why else {}


def spec(params: FeatureParams) -> list[FeatureInfo]:
    f = FAMILY
    w = params.notice.window_days
    return [
        number(
            f"notice_tickets_{w}d",
            f,
            "tickets",
            f"Tickets created in {last_days(w)} that give notice of cancellation or "
            "non-renewal (a phrase of features.notice.phrases in subject or body).",
            f"{{value:.0f}} cancellation [notice|notices] in {last_days(w)}"
            f"{AT_ZERO}No cancellation notices in {last_days(w)}",
            f"{{value:.0f}} [Kündigung|Kündigungen] {last_days(w, 'de')}"
            f"{AT_ZERO}Keine Kündigungen {last_days(w, 'de')}",
        ),
        number(
            "notice_days_since",
            f,
            "days",
            "Days since the latest notice of cancellation or non-renewal: a ticket giving it, "
            "or the day recorded in accounts.notice_at (NaN if none).",
            f"Cancellation notice received {{value:.0f}} [day|days] ago{AT_ZERO}Cancellation "
            "notice received less than a day ago",
            f"Kündigung vor {{value:.0f}} [Tag|Tagen] eingegangen{AT_ZERO}Kündigung vor weniger "
            "als einem Tag eingegangen",
        ),
    ]


_EDGE = "[^a-z0-9_]"  # not part of a word, in text lower-cased and with German letters folded
_SPACE = r"[\s\p{Zs}]+"  # any run of spaces: no-break, thin, ideographic ones included
_DASHES = (
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # hyphen, non-breaking hyphen, dashes, minus
)
_DASH = r"[-\x{2010}-\x{2015}\x{2212}]"
# German spelled without its letters (a keyboard without umlauts, capitals without ß): text and
# phrases are both folded to the plain spelling before matching; a Greek final sigma, which
# lower-casing writes as σ or ς depending on the library; and the typographic apostrophe mail
# programs write ("won’t") as the keyboard's
_FOLDS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("ς", "σ"), ("\u2019", "'"))


def phrase_pattern(phrase: str) -> str:
    """An RE2 pattern for one phrase, matched in `_folded` text: whole words ("not renew" is
    not in "cannot renew"), a `*` at either end letting the word go on ("*kündigung*" is in
    "Vertragskündigungen"), any spacing and dash, ä/ö/ü/ß also as ae/oe/ue/ss, and ’ as '."""
    text = _folded(pa.array([composed(phrase.strip())], type=pa.large_string()))[0].as_py()
    open_start, open_end = text.startswith("*"), text.endswith("*")
    body: list[str] = []
    for ch in text.strip("*").strip():
        if ch.isspace():
            if body and body[-1] != _SPACE:
                body.append(_SPACE)
        else:
            body.append(_DASH if ch in _DASHES else re.escape(ch))
    start = "" if open_start else f"(?:^|{_EDGE})"
    end = "" if open_end else f"(?:$|{_EDGE})"
    return start + "".join(body) + end


def _folded(text: pa.Array) -> pa.Array:
    """Lower case, German letters spelled plainly (Arrow kernels: no Python loop per text); the
    phrases go through the same kernels (Python's lower() writes "İ" and "Σ" otherwise)."""
    out = pc.utf8_lower(text)
    for letter, plain in _FOLDS:
        out = pc.replace_substring(out, letter, plain)
    return out


def gives_notice(subject: np.ndarray, body: np.ndarray, phrases: tuple[str, ...]) -> np.ndarray:
    """Per ticket: does its subject or body contain a notice phrase (`phrase_pattern`)?

    Matched with Arrow's vectorised RE2 kernel, subjects and bodies in one call: a Python loop over
    every ticket's text would cost seconds per million tickets on the batch path. The word edges
    are ASCII classes (Unicode letter classes at every phrase's edges made RE2 fall back from its
    DFA, 100 times slower): next to a letter outside a-z and the German ones (é, я), a phrase
    counts as a whole word ("cancelar" is found in "cancelará").
    """
    n = len(subject)
    if not phrases or not n:
        return np.zeros(n, dtype=bool)
    # composed form on both sides: "Kündigung" typed as u + combining diaeresis (as macOS and
    # some exports write it) is the same word; an HTML body read as its text, as the scorer
    # reads it ("K&Uuml;NDIGUNG", "will&nbsp;not renew" were no notice)
    pattern = "|".join(f"(?:{phrase_pattern(p)})" for p in phrases)
    texts = [composed(without_markup(t)) for t in np.concatenate([subject, body]).tolist()]
    text = _folded(pa.array(texts, type=pa.large_string(), from_pandas=True))
    hit = pc.match_substring_regex(text, pattern=pattern)
    found = hit.fill_null(False).to_numpy(zero_copy_only=False)
    return found[:n] | found[n:]


def compute(ctx: Context) -> Columns:
    phrases, scorer = ctx.params.notice.phrases, ctx.sentiment or default_scorer()
    found = notice_flags(ctx.history, phrases, scorer, ctx.text_keys())
    created = ctx.timeline("tickets", "created_at")
    ev = created.sums({"notice": found})
    end = ctx.snaps.as_of
    w = ctx.params.notice.window_days
    latest = np.fmax(created.last_time(end, where=found), recorded_notice(ctx))
    return {
        f"notice_tickets_{w}d": ev.sum("notice", ctx.ago(w), end).astype(np.float64),
        "notice_days_since": (end - latest) / DAY,
    }


def notice_flags(
    history: History,
    phrases: tuple[str, ...],
    scorer: SentimentScorer,
    keys: np.ndarray | None = None,
) -> np.ndarray:
    """Per ticket row: `gives_notice`, each distinct text matched once per phrase list.

    The flags are cached beside the sentiment scores under the same text key
    (`features.texts.ticket_keys`, or `keys` if the caller has them) and kept between runs with
    them, so a warm build runs no regex; a digest of the phrase list names what they are cached
    under."""
    t = history.tickets
    if not phrases or not len(t):
        return np.zeros(len(t), dtype=bool)
    return cached(scorer).flags_keyed(
        ticket_keys(history) if keys is None else keys,
        notice_test(phrases),
        lambda rows: gives_notice(
            t["subject"].to_numpy()[rows], t["body"].to_numpy()[rows], phrases
        ),
    )


def notice_test(phrases: tuple[str, ...]) -> str:
    """The name the flags of this phrase list are cached under (the same in every process)."""
    digest = hashlib.sha256("\n".join(phrases).encode("utf-8")).hexdigest()[:16]
    # "words": matched as whole words; "2": ’ read as '; "3": HTML read as text (earlier flags
    # are redone)
    return f"notice-words3-{digest}"


def recorded_notice(ctx: Context) -> np.ndarray:
    """Per row: the CRM's notice day (seconds) if it lies before as_of, else NaN."""
    acc = ctx.snaps.per_account
    if "notice_at" not in acc:
        return np.full(len(ctx.snaps), np.nan)
    ns = ns_since_epoch(acc["notice_at"])[ctx.snaps.code]
    at = np.floor_divide(ns, 1_000_000_000).astype(np.float64)
    return np.where((ns != NAT) & (at < ctx.snaps.as_of), at, np.nan)
