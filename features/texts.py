"""Ticket text keys: one 64-bit key per ticket row for its language, subject and body.

Families that work per distinct text (sentiment scores, notice phrase matches) cache their results
under this key (`features.scorers.CachedScorer`), so a warm build handles no text: it only hashes
each cell. The key is the same in every process (pandas' SipHash with its fixed key, not Python's
salted `hash`), so results kept between runs (`features.scorecache`) are found by the key a build
computes anyway: a new process reads them without joining or hashing any text a second time.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from features.contract import History

__all__ = ["composed", "mix", "text_hashes", "ticket_keys", "ticket_languages", "ticket_texts"]


def ticket_keys(
    history: History, account_codes: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Per ticket row: a key mixed from the hashes of its language, subject and body.

    `account_codes` (each ticket's position in an array of account ids, -1 for none, and that
    array) saves looking the accounts up again when the caller has them already.
    """
    t = history.tickets
    codes, ids = account_codes if account_codes is not None else _factorize(t["account_id"])
    if _own_languages(t):
        lang = _hashes(ticket_languages(history, (codes, ids)), few=True)
    else:  # hash each account's language once
        lang = _hashes(np.array(_account_languages(history, ids), object))[codes]
    return mix(mix(lang, text_hashes(t["subject"])), text_hashes(t["body"]))


def _own_languages(tickets: pd.DataFrame) -> bool:
    """Does any ticket carry its own language (the contract's optional column, else missing)?"""
    return "language" in tickets.columns and bool(tickets["language"].notna().any())


def ticket_languages(
    history: History, account_codes: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Per ticket row: its own `language` if the source has one, else its account's, else "en"."""
    t = history.tickets
    codes, ids = account_codes if account_codes is not None else _factorize(t["account_id"])
    language = np.array(_account_languages(history, ids), object)[codes]
    if _own_languages(t):
        own = t["language"].tolist()
        language = np.array(
            [str(o) if not _blank(o) else d for o, d in zip(own, language, strict=True)], object
        )
    return language


def ticket_texts(history: History, rows: np.ndarray | None = None) -> list[str]:
    """Per ticket row (or the given rows): its subject and body joined by a newline (a missing
    one is empty); joined by numpy in one pass when both are text throughout."""
    t = history.tickets
    subject, body = t["subject"].to_numpy(dtype=object), t["body"].to_numpy(dtype=object)
    if rows is not None:
        subject, body = subject[rows], body[rows]
    infer = pd.api.types.infer_dtype
    if infer(subject, skipna=False) == "string" and infer(body, skipna=False) == "string":
        texts = (subject + "\n" + body).tolist()
    else:
        texts = [
            f"{_text(s)}\n{_text(b)}" for s, b in zip(subject.tolist(), body.tolist(), strict=True)
        ]
    return [composed(t) for t in texts]


def composed(text: Any) -> Any:
    """A text in Unicode's composed form (NFC), so that a word typed with combining marks (u +
    diaeresis, as macOS writes "Kündigung") is the same word; ASCII, composed text and non-text
    values as they are. (Arrow's utf8_normalize is not used: pyarrow 25 returns the decomposed
    form for "NFC".)"""
    if not isinstance(text, str) or text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def _account_languages(history: History, ids: np.ndarray) -> list[str]:
    """Each account's language ("en" when unknown), then "en" for code -1 (no account)."""
    lang_of = dict(
        zip(
            history.accounts["account_id"].tolist(),
            history.accounts["language"].tolist(),
            strict=True,
        )
    )
    return [str(lang_of.get(a) or "en") for a in ids.tolist()] + ["en"]


def text_hashes(column: pd.Series) -> np.ndarray:
    """The stable hash of each cell as text: a missing cell hashes as "", another value as its str.

    A column of str only (the contract's text columns without missing cells) is hashed as it is;
    every pass over a million Python objects costs tens of milliseconds, so it makes two."""
    values = column.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return _hashes(values)
    return _hashes(np.array([_text(v) for v in values.tolist()], object))


def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One 64-bit key from two (wrapping multiply-add, as a polynomial string hash does)."""
    return (a.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + b.view(np.uint64)).view(np.int64)


def _factorize(account_id: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, ids = pd.factorize(account_id.to_numpy(dtype=object))
    return codes, np.asarray(ids, dtype=object)


def _text(v: object) -> str:
    return v if type(v) is str else "" if _blank(v) else str(v)


def _hashes(values: np.ndarray, few: bool = False) -> np.ndarray:
    """Stable 64-bit hashes of str cells; `few`: many repeats (languages), hashed once each."""
    return pd.util.hash_array(values, categorize=few).view(np.int64)


def _blank(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)
