"""Sentiment of a ticket's text in [-1, 1], English and German, from lexicons shipped in PyPI wheels.

English: VADER's compound score (vaderSentiment ships its lexicon). German: the SentiWS-derived
word weights that the `gersent` wheel ships (inflected forms included), scored here with negation,
intensifier and "aber" handling in VADER's manner, because gersent's own scorer has none. Nothing
is downloaded at run time. Any object with `score(text, language) -> float` can replace these;
`CachedScorer` makes sure each distinct text is scored once.
"""

from __future__ import annotations

import functools
import json
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from features.texts import mix


@runtime_checkable
class SentimentScorer(Protocol):
    """Pluggable: a score in [-1, 1] (negative = unhappy) for a text in a language ("en", "de").

    An optional `cache_id` attribute names the scorer's scores kept between runs
    (features.scorecache); change it whenever the scores change."""

    def score(self, text: str, language: str) -> float: ...


class VaderScorer:
    """English: VADER's compound score."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()

    def score(self, text: str, language: str = "en") -> float:
        return float(self._vader.polarity_scores(text)["compound"])


# Words that flip the polarity of the next few words, and words that strengthen or soften them.
GERMAN_NEGATIONS = frozenset(
    [
        "nicht",
        "kein",
        "keine",
        "keinen",
        "keinem",
        "keiner",
        "keines",
        "nie",
        "niemals",
        "nirgends",
        "nichts",
        "ohne",
        "weder",
        "kaum",
    ]
)
GERMAN_BOOSTERS = {
    "sehr": 0.3, "extrem": 0.4, "äußerst": 0.4, "total": 0.3, "absolut": 0.3, "völlig": 0.3,
    "wirklich": 0.2, "besonders": 0.2, "echt": 0.2, "ziemlich": 0.1, "unglaublich": 0.4,
    "etwas": -0.2, "leicht": -0.2, "bisschen": -0.2,
}  # fmt: skip
# Support-desk words SentiWS lacks (weights on SentiWS's scale), documented in docs/features.md.
GERMAN_SUPPLEMENT = {
    "inakzeptabel": -0.6, "unakzeptabel": -0.6, "dringend": -0.2, "ausfall": -0.5,
    "ausgefallen": -0.5, "absturz": -0.5, "abgestürzt": -0.5, "stürzt": -0.4, "eskalation": -0.4,
    "eskalieren": -0.4, "kündigen": -0.6, "kündigung": -0.6, "frustriert": -0.5, "frustrierend": -0.5,
    "verärgert": -0.5, "nervig": -0.4, "unbrauchbar": -0.6, "funktioniert": 0.2, "danke": 0.3,
    "vielen": 0.1, "bestens": 0.5, "reibungslos": 0.4, "top": 0.4, "klasse": 0.4,
}  # fmt: skip
NEGATION_SCALAR = -0.74  # VADER's N_SCALAR
BUT_BEFORE, BUT_AFTER = 0.5, 1.5  # VADER's weighting around "but"
NORMALISER = 1.0  # x / sqrt(x^2 + NORMALISER): SentiWS weights are on a ~[-1, 1] per-word scale
_WORD = re.compile(r"[a-zäöüß]+")


def _gersent_lexicon() -> dict[str, float]:
    """gersent's word lists, read from its installed files (its package code is not run)."""
    found = find_spec("gersent")
    if found is None or not found.submodule_search_locations:
        raise RuntimeError("the gersent package (German sentiment lexicon) is not installed")
    root = Path(next(iter(found.submodule_search_locations))) / "wordlists" / "de"
    sums: dict[str, list[float]] = {}
    for name in ("positive.json", "negative.json"):
        for word, weight in json.loads((root / name).read_text(encoding="utf-8")).items():
            sums.setdefault(word.lower(), []).append(float(weight))
    return {w: sum(v) / len(v) for w, v in sums.items()}


# German typed without its letters ("enttaeuscht", "GROSSARTIG"): tried when the word is unknown
_GERMAN_SPELLINGS = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"), ("ss", "ß"))
NEGATION_REACH = 3  # words a negation reaches: "nicht gut" forwards, "funktioniert nicht" back


class GermanLexiconScorer:
    """German: SentiWS word weights (via gersent) with negation, boosters and "aber".

    A negation flips the sentiment words within three words after it ("nicht gut"); one with no
    sentiment word after it flips the nearest one before it, as German puts "nicht" after the verb
    ("funktioniert seit gestern nicht")."""

    def __init__(self) -> None:
        self.lexicon = {**_gersent_lexicon(), **GERMAN_SUPPLEMENT}
        words = [*GERMAN_NEGATIONS, *GERMAN_BOOSTERS, *self.lexicon]
        self._known: dict[str, str] = {w: w for w in words}  # token -> its lexicon spelling
        # bounded: a service's callers can send any number of made-up words
        self._known_cap = len(self._known) + 200_000

    def _word(self, token: str) -> str:
        """The token as the lexicons spell it: as is, else with ae/oe/ue/ss read as ä/ö/ü/ß."""
        known = self._known.get(token)
        if known is None:
            known = next((f for f in _spellings(token) if f in self._known), token)
            if len(self._known) < self._known_cap and len(token) <= 40:  # unknown words once
                self._known[token] = known
        return known

    def score(self, text: str, language: str = "de") -> float:
        tokens = [self._word(t) for t in _WORD.findall(text.lower())]
        weights = [0.0 if t in GERMAN_NEGATIONS else self.lexicon.get(t, 0.0) for t in tokens]
        flipped = [False] * len(tokens)
        for i, tok in enumerate(tokens):
            if tok not in GERMAN_NEGATIONS:
                continue
            after = [
                j for j in range(i + 1, min(len(tokens), i + 1 + NEGATION_REACH)) if weights[j]
            ]
            before = [j for j in range(max(0, i - NEGATION_REACH), i) if weights[j]]
            for j in after or before[-1:]:
                flipped[j] = True
        for i in range(len(tokens)):
            if not weights[i]:
                continue
            if i and tokens[i - 1] in GERMAN_BOOSTERS:
                weights[i] *= 1 + GERMAN_BOOSTERS[tokens[i - 1]]
            if flipped[i]:
                weights[i] *= NEGATION_SCALAR
        if "aber" in tokens:
            k = tokens.index("aber")
            weights = [w * (BUT_BEFORE if i < k else BUT_AFTER) for i, w in enumerate(weights)]
        total = sum(weights)
        return total / math.sqrt(total * total + NORMALISER) if total else 0.0


def _spellings(token: str) -> list[str]:
    """`token` with every combination of ae/oe/ue/ss read as ä/ö/ü/ß (all of one kind at once)."""
    out = [token]
    for plain, letter in _GERMAN_SPELLINGS:
        if plain in token:
            out += [t.replace(plain, letter) for t in out]
    return out[1:]


VADER_ALPHA = 15.0  # VADER's normalisation constant: compound = s / sqrt(s^2 + alpha)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
# VADER's time grows with the square of a sentence's words (it lower-cases the whole sentence for
# every sentiment word): a pasted log of 100,000 characters without a full stop took 18 s. Longer
# "sentences" are scored in pieces of this many words.
SENTENCE_WORDS = 60


def sentences(text: str) -> list[str]:
    """The text's sentences, none longer than SENTENCE_WORDS words."""
    out = []
    for s in _SENTENCE.split(text):
        if not s.strip():
            continue
        if len(s) <= 6 * SENTENCE_WORDS:  # the common case: too short to need counting
            out.append(s)
            continue
        words = s.split()
        out += [
            " ".join(words[i : i + SENTENCE_WORDS]) for i in range(0, len(words), SENTENCE_WORDS)
        ]
    return out


class LexiconScorer:
    """The default: VADER for English, the German lexicon scorer for German (others: English).

    A text is scored sentence by sentence: each distinct sentence once (support texts repeat
    sentences a lot), its compound score turned back into VADER's raw valence sum, the sums added
    and normalised again as VADER does. This equals scoring the whole text except for VADER's
    whole-text punctuation emphasis, and makes scoring a large backlog fast.
    """

    def __init__(self, max_sentences: int = 250_000) -> None:
        from importlib.metadata import version

        # names the scores kept between runs (features.scorecache): bump "v1" when scoring changes
        self.cache_id = f"lexicon-v3-vader{version('vaderSentiment')}-gersent{version('gersent')}"
        self.en = VaderScorer()
        self.de = GermanLexiconScorer()
        self.max_sentences = max_sentences
        self._valence: dict[tuple[str, str], float] = {}

    def _sentence_valence(self, sentence: str, language: str) -> float:
        key = (language, sentence)
        got = self._valence.get(key)
        if got is None:
            scorer = self.de if language == "de" else self.en
            c = min(max(scorer.score(sentence, language), -0.999999), 0.999999)
            alpha = NORMALISER if language == "de" else VADER_ALPHA
            got = c * math.sqrt(alpha) / math.sqrt(1.0 - c * c)
            if len(self._valence) >= self.max_sentences:
                self._valence.clear()
            if len(sentence) <= 500:  # bounded memory; long ones rarely repeat
                self._valence[key] = got
        return got

    def score(self, text: str, language: str) -> float:
        language = "de" if language == "de" else "en"
        total = sum(self._sentence_valence(s, language) for s in sentences(text))
        alpha = NORMALISER if language == "de" else VADER_ALPHA
        return total / math.sqrt(total * total + alpha) if total else 0.0


_FEW = 4096  # keys added (or looked up) at once above which the dict of recent keys is merged


class CachedScorer:
    """Scores each distinct (language, text) once; the cache is keyed by a stable 64-bit hash.

    Beside the score it keeps, under the same key, the results of named yes/no tests of the text
    (`flags_keyed`, e.g. "does it contain a notice phrase"). Keys live in a pandas index (a hash
    table in C), so looking up a million tickets' keys is one vectorised call, not a dict look-up
    per key. Keys are the same in every process, so what earlier runs learnt can be handed in
    (`remember`) and what this one learnt taken out (`unsaved`): `features.scorecache` keeps it.
    """

    def __init__(self, scorer: SentimentScorer, max_entries: int = 5_000_000) -> None:
        self.scorer = scorer
        self.max_entries = max_entries
        self._lock = threading.Lock()  # the service looks texts up from more than one thread
        self._keeping = False  # True once `remember` was called: `unsaved` reports what is new
        # Slots 0.._size-1 hold the keys in the order they came. The first of them are in a
        # pandas index (looked up vectorised); keys added since are in a dict until there are
        # enough of them to merge, so that a call adding a few keys (a service request's
        # tickets) costs no copy and no rehash of a million-key index. The per-slot arrays grow
        # by doubling, for the same reason.
        self._all = np.zeros(0, dtype=np.int64)  # the key of each slot (capacity >= _size)
        self._size = 0
        self._main = pd.Index(self._all)  # the keys of slots 0..len(_main)-1
        self._recent: dict[int, int] = {}  # key -> slot, for the slots after those
        self._scores = np.zeros(0)  # per slot; NaN: not scored yet
        self._flags: dict[str, np.ndarray] = {}  # per test: int8 per slot, -1 not tested yet
        self._new = np.zeros(0, dtype=bool)  # per slot: learnt since `remember` or `unsaved`

    @property
    def entries(self) -> int:
        """Distinct keys cached (not `__len__`: an empty cache must not be falsy)."""
        return self._size

    @staticmethod
    def keys(texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        """Stable 64-bit keys of (language, text) (`stable_keys`)."""
        return stable_keys(texts, languages)

    def score(self, text: str, language: str) -> float:
        return float(self.scores([text], [language])[0])

    def scores(self, texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        return self.scores_keyed(
            self.keys(texts, languages),
            lambda items: ([texts[i] for i in items], [languages[i] for i in items]),
        )

    def scores_keyed(
        self,
        keys: np.ndarray,
        texts_of: Callable[[np.ndarray], tuple[Sequence[str], Sequence[str]]],
    ) -> np.ndarray:
        """Scores of items identified by 64-bit keys (equal keys: equal text and language);
        `texts_of(items)` gives the texts and languages of the given items (positions in `keys`),
        asked once, for one item per key not cached yet."""
        if len(keys) == 0:
            return np.zeros(0)
        with self._lock:
            slots = self._slots(keys)
            got = self._scores[slots]
        todo = np.flatnonzero(np.isnan(got))
        if len(todo):  # scored outside the lock: other threads' look-ups need not wait for it
            _, first, which = np.unique(slots[todo], return_index=True, return_inverse=True)
            texts, languages = texts_of(todo[first])
            pairs = zip(texts, languages, strict=True)
            new = np.array([self._score(t, lang) for t, lang in pairs], dtype=np.float64)
            got[todo] = new[which]
            with self._lock:
                at = self._slots(keys[todo[first]])
                self._scores[at] = new
                self._new[at] = True
        return got

    def _score(self, text: str, language: str) -> float:
        return float(np.clip(self.scorer.score(text, language), -1.0, 1.0))

    def flags_keyed(
        self, keys: np.ndarray, test: str, run: Callable[[np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """A yes/no test's result per item identified by 64-bit keys, each distinct key tested
        once. `test` names the test and must differ whenever its outcome could (e.g. it holds
        a digest of the phrase list); `run(items)` tests the given items (one per untested key)
        at once."""
        if len(keys) == 0:
            return np.zeros(0, dtype=bool)
        with self._lock:
            slots = self._slots(keys)
            got = self._known(test)[slots]
        todo = np.flatnonzero(got < 0)
        if len(todo):
            _, first, which = np.unique(slots[todo], return_index=True, return_inverse=True)
            new = np.asarray(run(todo[first]), dtype=np.int8)
            got[todo] = new[which]
            with self._lock:
                at = self._slots(keys[todo[first]])
                self._known(test)[at] = new
                self._new[at] = True
        return got.astype(bool)

    def remember(
        self, keys: np.ndarray, scores: np.ndarray, flags: Mapping[str, np.ndarray] | None = None
    ) -> None:
        """What earlier runs learnt, by key: scores (NaN: not scored) and test results (-1: not
        tested), added to what this process knows (an unknown entry never erases a known one).
        From now on `unsaved` reports what this process learnt beyond it."""
        keys = np.asarray(keys, dtype=np.int64)
        with self._lock:
            self._keeping = True
            if len(keys) > self.max_entries:
                keys, scores = keys[-self.max_entries :], scores[-self.max_entries :]
                flags = {t: f[-self.max_entries :] for t, f in (flags or {}).items()}
            at = self._slots(keys)
            mine = self._scores[at]
            beyond = ~np.isnan(mine) & np.isnan(scores)  # what only this process knows
            self._scores[at] = np.where(np.isnan(scores), mine, scores)
            for test, known in (flags or {}).items():
                mine_flags = self._known(test)[at]
                beyond |= (mine_flags >= 0) & (known < 0)
                self._known(test)[at] = np.where(known < 0, mine_flags, known)
            self._new[at] &= beyond

    def unsaved(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Keys, scores and test results of the texts this process learnt that `remember` did not
        give, each reported once; nothing before `remember` is called (a cache nobody keeps)."""
        with self._lock:
            at = np.flatnonzero(self._new) if self._keeping else np.zeros(0, dtype=np.intp)
            self._new[at] = False
            return (
                self._all[at],
                self._scores[at],
                {test: known[at] for test, known in self._flags.items()},
            )

    def _known(self, test: str) -> np.ndarray:
        return self._flags.setdefault(test, np.full(len(self._scores), -1, dtype=np.int8))

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        """Each key's slot, adding the keys not cached yet. When that would exceed `max_entries`
        the cache keeps only this call's keys (with what it knew of them)."""
        keys = np.asarray(keys, dtype=np.int64)
        if len(self._recent) and len(keys) > _FEW:
            self._merge()
        slots = self._main.get_indexer(keys)  # type: ignore[arg-type]  # pandas takes arrays
        absent = np.flatnonzero(slots < 0)
        if len(absent) and self._recent:
            slots[absent] = [self._recent.get(k, -1) for k in keys[absent].tolist()]
            absent = absent[slots[absent] < 0]
        if not len(absent):
            return slots
        fresh = pd.unique(keys[absent])
        if self._size + len(fresh) > self.max_entries:
            return self._keep_only(keys)
        start, self._size = self._size, self._size + len(fresh)
        self._grow(self._size)
        self._all[start : self._size] = fresh
        if len(fresh) > _FEW:
            self._merge()
            slots[absent] = self._main.get_indexer(keys[absent])  # type: ignore[arg-type]
            return slots
        self._recent.update(zip(fresh.tolist(), range(start, self._size), strict=True))
        slots[absent] = [self._recent[k] for k in keys[absent].tolist()]
        if len(self._recent) > max(_FEW, len(self._main) // 8):  # merges cost O(1) per key
            self._merge()
        return slots

    def _merge(self) -> None:
        """Every slot's key into the pandas index (rebuilt once, hashed at its next look-up)."""
        self._main = pd.Index(self._all[: self._size].copy())
        self._recent = {}

    def _grow(self, size: int) -> None:
        """Per-slot arrays with room for `size` slots, doubling: appends cost O(1) per slot."""
        if size <= len(self._scores):
            return
        room = max(size, 2 * len(self._scores), 1024)

        def grown(values: np.ndarray, missing: object) -> np.ndarray:
            out = np.full(room, missing, dtype=values.dtype)
            out[: len(values)] = values
            return out

        self._all = grown(self._all, 0)
        self._scores = grown(self._scores, np.nan)
        self._new = grown(self._new, False)
        self._flags = {t: grown(f, -1) for t, f in self._flags.items()}

    def _keep_only(self, keys: np.ndarray) -> np.ndarray:
        """The cache reduced to this call's keys, with what it knew of them; their slots."""
        self._merge()
        kept = pd.Index(pd.unique(keys))
        old = self._main.get_indexer(kept)
        had = old >= 0
        self._all, self._size, self._main = kept.to_numpy().copy(), len(kept), kept
        self._scores = _carried(self._scores, old, had, np.nan)
        self._new = _carried(self._new, old, had, False)
        self._flags = {t: _carried(f, old, had, -1) for t, f in self._flags.items()}
        return kept.get_indexer(keys)


def _carried(values: np.ndarray, old: np.ndarray, had: np.ndarray, missing: object) -> np.ndarray:
    """Per kept slot: its value at its old slot, or `missing` for a slot that is new."""
    out = np.full(len(old), missing, dtype=values.dtype)
    out[had] = values[old[had]]
    return out


def stable_keys(texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
    """64-bit keys of (language, text) that are the same in every process (Python's `hash` of a
    str is salted per process), for results kept between runs: pandas' SipHash with its fixed
    key, vectorised (a million texts in about half a second)."""
    t = pd.util.hash_array(np.asarray(texts, dtype=object), categorize=False)
    return mix(pd.util.hash_array(np.asarray(languages, dtype=object)), t)


@functools.cache
def default_scorer() -> CachedScorer:
    """One process-wide cached default scorer, so a text is scored once per process."""
    return CachedScorer(LexiconScorer())


def cached(scorer: SentimentScorer) -> CachedScorer:
    return scorer if isinstance(scorer, CachedScorer) else CachedScorer(scorer)
