"""Sentiment of a ticket's text in [-1, 1], English and German, from lexicons shipped in PyPI wheels.

English: VADER's compound score (vaderSentiment ships its lexicon). German: the SentiWS-derived
word weights that the `gersent` wheel ships (inflected forms included), scored here with negation,
intensifier and "aber" handling in VADER's manner, because gersent's own scorer has none. Nothing
is downloaded at run time. Any object with `score(text, language) -> float` can replace these;
`CachedScorer` makes sure each distinct text is scored once.
"""

from __future__ import annotations

import functools
import html
import json
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from features.texts import mix


@runtime_checkable
class SentimentScorer(Protocol):
    """Pluggable: a score in [-1, 1] (negative = unhappy) for a text in a language ("en", "de").

    An optional `cache_id` attribute names the scorer's scores kept between runs
    (features.scorecache); change it whenever the scores change."""

    def score(self, text: str, language: str) -> float: ...


# Support-desk words VADER lacks or reads as a stranger would (VADER's scale, -4..4), documented
# in docs/features.md: "not working" had no tone, "crashed" none while "crash" had one, and the
# words of every request ("please", "support", "help") and "urgent" counted as praise.
ENGLISH_SUPPLEMENT = {
    "working": 1.0, "works": 1.0, "worked": 1.0, "fixed": 1.0, "outage": -2.0, "outages": -2.0,
    "crashed": -1.7, "crashes": -1.7, "crashing": -1.7, "bug": -1.0, "bugs": -1.0, "slow": -1.2,
    "unusable": -2.5, "unresolved": -1.5, "urgent": -0.8, "please": 0.0, "support": 0.0,
    "help": 0.0,
    # "We will escalate this to management" had no tone, "Your support is a joke" was praise
    "escalate": -1.2, "escalated": -1.2, "escalating": -1.2, "escalation": -1.2, "joke": -1.5,
    "unanswered": -1.5,
}  # fmt: skip


# A negated request of the product ("does not load", "can't log in", "unable to open"): VADER has
# no tone for the verbs, so the commonest complaint scored 0. Read as "not working" (negative,
# as `ENGLISH_SUPPLEMENT` has it); the verbs alone stay without tone ("we load data nightly"), and
# only a few words may stand between ("can't even open"): many of the verbs are nouns too ("not
# great, the export ...").
_ENGLISH_FAILS = re.compile(
    r"\b(?:not|never|no longer|nothing|nobody|no one|none of (?:the|our|my|your) [a-z]+ can"
    r"|cannot|can['’]?t|couldn['’]?t|won['’]?t|wouldn['’]?t|doesn['’]?t|don['’]?t|didn['’]?t|isn['’]?t|aren['’]?t|unable to)(?:[ \t]+(?:even|always|really|properly"
    r"|be|been|get|can|able to|seem to|seems to|has|have|had|yet)){0,2}[ \t]+"
    r"(?:load|loads|loading|loaded|open|opens|opening|start|starts|starting|log[ \t-]?in|logging in"
    r"|sign[ \t-]?in|signing in|connect|connects|connecting|sync|syncs|syncing|save|saves|saving"
    r"|respond|responds|responding|update|updates|updating|export|exports|exporting|import"
    r"|imports|importing|send|sends|sending|print|prints|printing|upload|uploads|uploading"
    r"|download|downloads|downloading|run|runs|running|show|shows|showing|appear|appears"
    r"|arrive|arrives|available|accessible|possible|work|help|helps|helped|helping|reply|replies"
    r"|replied|replying|answer|answers|answered|answering)\b"
    # praise: "couldn't run smoother", "nobody exports reports faster"
    r"(?![ \t]+(?:[a-z]+[ \t]+)?(?:better|faster|smoother|easier|quicker|simpler|more)\b)",
    re.I,
)


# "The system is down": VADER has no tone for "down" (nor would it do: "scroll down", "a drop-down
# list"); a thing that is down is an outage
_IS_DOWN = re.compile(
    r"\b((?:is|are|was|were|been|being|still)(?:[ \t]+(?:completely|totally|again|still))?[ \t]+)"
    r"down\b(?![ \t-]+(?:to|by|from)\b)",
    re.I,
)


# "would like" / "I'd like": VADER reads the liking, so every polite request ("I would like to know
# how ...") scored +0.36; the request is read without it ("I would to know how ...")
_WOULD_LIKE = re.compile(r"\b(would|(?<=[a-z])['’]d)([ \t]+)like\b", re.I)


# a demand that something be fixed ("This needs to be fixed today") names no fix: VADER and our
# "fixed" read it as praise (+0.25); the wish is read as "done", without tone
_ENGLISH_DEMANDS = re.compile(
    r"\b(must|needs?[ \t]+to|ha(?:s|ve)[ \t]+to|should)((?:[ \t]+(?:really|finally|urgently|now))?"
    r"[ \t]+be[ \t]+)(?:fixed|resolved|solved|sorted)\b",
    re.I,
)


# "No problem, thanks!": VADER's "no" negates the next three words across the comma, so the thanks
# of the commonest reply read as a complaint (-0.11; "No worries, thanks!" -0.09); said as a clause
# of its own, it is read as "fine" (German "Kein Problem, danke!" stops at the comma)
_NO_PROBLEM = re.compile(r"\bno[ \t]+(?:problems?|worries)(?=[ \t]*[,;:!.)-])", re.I)


# sentence adverbs: they comment on their sentence and no negation reaches them, but VADER's
# does ("The export is not working, unfortunately" scored +0.08, as German "leider" did). They are
# taken out of the text and their valence added to the sentence's.
_ENGLISH_ADVERBS = re.compile(r"\b(?:unfortunately|sadly|regrettably)\b", re.I)


class VaderScorer:
    """English: VADER's compound score, with the support-desk words of `ENGLISH_SUPPLEMENT`,
    a negated request of the product read as "not working" (`_ENGLISH_FAILS`) and a thing that
    is down as an outage (`_IS_DOWN`)."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()
        self._vader.lexicon.update(ENGLISH_SUPPLEMENT)

    def score(self, text: str, language: str = "en") -> float:
        if "n" in text or "N" in text:  # every negation has one (in capitals too: "DOES NOT LOAD")
            text = _ENGLISH_FAILS.sub("not working", text)
        if "own" in text or "OWN" in text:
            text = _IS_DOWN.sub(r"\1an outage", text)
        if "roblem" in text or "orries" in text or "ROBLEM" in text or "ORRIES" in text:
            text = _NO_PROBLEM.sub("fine", text)
        if " be " in text or " BE " in text:
            text = _ENGLISH_DEMANDS.sub(r"\1\2done", text)
        if "ike" in text or "IKE" in text:
            text = _WOULD_LIKE.sub(r"\1\2", text)
        adverbs = 0.0
        if "ortunately" in text or "adly" in text or "egrettably" in text or text.isupper():
            found = _ENGLISH_ADVERBS.findall(text)
            adverbs = sum(self._vader.lexicon[w.lower()] for w in found)
            text = _ENGLISH_ADVERBS.sub(" ", text) if found else text
        compound = float(self._vader.polarity_scores(text)["compound"])
        if not adverbs:
            return compound
        c = min(max(compound, -0.999999), 0.999999)
        total = c * math.sqrt(VADER_ALPHA) / math.sqrt(1.0 - c * c) + adverbs
        return total / math.sqrt(total * total + VADER_ALPHA)


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
        # "Die Lösung ist keineswegs gut", "Niemand meldet sich", colloquial and Swiss/Austrian
        # "nix", "ned", "nöd", "nid": each was no negation, and the praise after it stood
        "keineswegs",
        "keinesfalls",
        "mitnichten",
        "niemand",
        "niemanden",
        "niemandem",
        "nix",
        "ned",
        "nöd",
        "nid",
    ]
)
GERMAN_BOOSTERS = {
    "sehr": 0.3, "extrem": 0.4, "äußerst": 0.4, "total": 0.3, "absolut": 0.3, "völlig": 0.3,
    "wirklich": 0.2, "besonders": 0.2, "echt": 0.2, "ziemlich": 0.1, "unglaublich": 0.4,
    "etwas": -0.2, "leicht": -0.2, "bisschen": -0.2,
}  # fmt: skip
# ... and as adjectives before a noun ("ein absolutes Desaster", "eine totale Katastrophe"), where
# SentiWS's own weight of "absolutes" (+0.24) all but cancelled the disaster
GERMAN_BOOSTERS |= {
    f"{word}{ending}": GERMAN_BOOSTERS[word]
    for word in ("extrem", "absolut", "total", "völlig", "echt", "wirklich", "unglaublich")
    for ending in ("e", "er", "es", "en", "em")
}
# Support-desk words SentiWS lacks (weights on SentiWS's scale), documented in docs/features.md.
GERMAN_SUPPLEMENT = {
    "inakzeptabel": -0.6, "unakzeptabel": -0.6, "dringend": -0.2, "ausfall": -0.5,
    "ausgefallen": -0.5, "absturz": -0.5, "abgestürzt": -0.5, "stürzt": -0.4, "eskalation": -0.4,
    "eskalieren": -0.4, "kündigen": -0.6, "kündigung": -0.6, "frustriert": -0.5, "frustrierend": -0.5,
    "verärgert": -0.5, "nervig": -0.4, "unbrauchbar": -0.6, "funktioniert": 0.2, "danke": 0.3,
    "vielen": 0.1, "bestens": 0.5, "reibungslos": 0.4, "top": 0.4, "klasse": 0.4,
    "läuft": 0.2, "klappt": 0.2, "behoben": 0.3, "akzeptabel": 0.3, "langsam": -0.3,
    # "Vielen Dank" and "gelöst" had no weight ("Das Problem ist gelöst, vielen Dank" scored
    # -0.27 for its "Problem", its English twin +0.32), nor Swiss "Merci"; the angry words below
    # none or SentiWS's "sour" and a trace of "enttäuschend"
    "dank": 0.3, "merci": 0.3, "gelöst": 0.3, "unverschämt": -0.5, "sauer": -0.4,
    "stinksauer": -0.6, "enttäuschend": -0.3,
    # SentiWS reads these as "chic" and "shut": in a ticket they send things and close tickets
    "schicken": 0.0, "geschlossen": 0.0,
    # and "möchte(n)" as a liking: every polite request ("Ich möchte wissen, ...") was praise
    "möchte": 0.0, "möchten": 0.0,
    # a disaster and a scandal SentiWS has next to no weight for, "in Ordnung" none ("Das ist
    # nicht in Ordnung" was neutral), "zufriedenstellend" a trace ("nicht zufriedenstellend")
    "desaster": -0.6, "skandal": -0.5, "skandalös": -0.5, "witz": -0.3, "ordnung": 0.3,
    "zufriedenstellend": 0.4,
    # English words of German IT tickets ("Das System ist down", "der Export crasht", "ein Bug"):
    # read by the German scorer, they had no tone at all
    "bug": -0.3, "bugs": -0.3, "outage": -0.5, "down": -0.4, "broken": -0.5, "crash": -0.5,
    "crasht": -0.5, "gecrasht": -0.5, "failed": -0.4, "gefailed": -0.4, "showstopper": -0.5,
}  # fmt: skip
# What a product is asked to do ("lädt", "startet", "einloggen", "möglich"): no tone of their own,
# but negated they are the commonest complaint there is ("Die Seite lädt nicht", "Login nicht
# möglich"), which SentiWS has no word for. They count only where a negation flips them.
GERMAN_FUNCTIONS = {
    w: 0.5
    for w in (
        "lädt", "laden", "geladen", "geht", "gehen", "startet", "starten", "gestartet", "öffnet",
        "öffnen", "geöffnet", "reagiert", "reagieren", "speichert", "speichern", "gespeichert",
        "synchronisiert", "synchronisieren", "einloggen", "anmelden", "verbindet", "verbinden",
        "druckt", "drucken", "sendet", "senden", "aktualisiert", "aktualisieren", "exportiert",
        "exportieren", "importiert", "importieren", "hochladen", "herunterladen", "erreichbar",
        "möglich", "verfügbar", "angezeigt", "erscheint", "ankommen", "kommt", "kommen",
        "benutzbar", "nutzbar", "bedienbar", "nachvollziehbar", "abrufbar",
        "funktionsfähig", "arbeiten", "antwortet", "geantwortet", "meldet", "gemeldet",
    )
}  # fmt: skip
NEGATION_SCALAR = -0.74  # VADER's N_SCALAR
BUT_BEFORE, BUT_AFTER = 0.5, 1.5  # VADER's weighting around "but"
NORMALISER = 1.0  # x / sqrt(x^2 + NORMALISER): SentiWS weights are on a ~[-1, 1] per-word scale
_WORD = re.compile(r"[a-zäöüß]+")
_TOKEN = re.compile(r"[a-zäöüß]+|[,;:.!?()]")  # words, and the marks that end a clause
_CLAUSE_END = frozenset(",;:.!?()")


def _gersent_lexicon() -> tuple[dict[str, float], frozenset[str]]:
    """gersent's word lists, read from its installed files (its package code is not run), and
    which of its words are nouns (SentiWS writes them capitalised)."""
    found = find_spec("gersent")
    if found is None or not found.submodule_search_locations:
        raise RuntimeError("the gersent package (German sentiment lexicon) is not installed")
    root = Path(next(iter(found.submodule_search_locations))) / "wordlists" / "de"
    sums: dict[str, list[float]] = {}
    nouns = set()
    for name in ("positive.json", "negative.json"):
        for word, weight in json.loads((root / name).read_text(encoding="utf-8")).items():
            sums.setdefault(word.lower(), []).append(float(weight))
            if word[:1].isupper():
                nouns.add(word.lower())
    return {w: sum(v) / len(v) for w, v in sums.items()}, frozenset(nouns)


# German typed without its letters ("enttaeuscht", "GROSSARTIG"): tried when the word is unknown
_GERMAN_SPELLINGS = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"), ("ss", "ß"))
NEGATION_REACH = 3  # words a negation reaches forwards: "nicht gut"
# backwards, within its clause: "funktioniert seit heute Morgen nicht" (German ends a clause with it)
NEGATION_REACH_BACK = 6
# a compound's last part carries its meaning ("Systemausfall" is an "Ausfall"): an unknown word
# is read as the longest lexicon noun it ends with, of at least this many letters, after at least
# COMPOUND_LEFT letters (shorter nouns end too many unrelated words)
COMPOUND_HEAD, COMPOUND_LEFT = 6, 3


class GermanLexiconScorer:
    """German: SentiWS word weights (via gersent) with negation, boosters and "aber".

    A negation flips the sentiment words within three words after it ("nicht gut"); one with no
    sentiment word after it flips the nearest one before it in its clause, as German puts "nicht"
    after the verb ("funktioniert seit heute Morgen nicht"). A word the lexicon lacks is read as
    the noun it ends with, as German compounds are ("Datenverlust": "Verlust")."""

    def __init__(self) -> None:
        lexicon, self._nouns = _gersent_lexicon()
        self._longest_noun = max(map(len, self._nouns), default=0)
        # a booster strengthens the next word and has no tone of its own, as in VADER: SentiWS's
        # "besonders" (+0.54, "special") made "besonders ärgerlich" praise
        boosters = dict.fromkeys(GERMAN_BOOSTERS, 0.0)
        self.lexicon = {**lexicon, **boosters, **GERMAN_FUNCTIONS, **GERMAN_SUPPLEMENT}
        words = [*GERMAN_NEGATIONS, *GERMAN_BOOSTERS, *self.lexicon]
        self._known: dict[str, str] = {w: w for w in words}  # token -> its lexicon spelling
        # bounded: a service's callers can send any number of made-up words
        self._known_cap = len(self._known) + 200_000

    def _word(self, token: str) -> str:
        """The token as the lexicons spell it: as is, else with ae/oe/ue/ss read as ä/ö/ü/ß, else
        the lexicon noun a compound ends with."""
        known = self._known.get(token)
        if known is None:
            forms = [token, *_spellings(token)]
            known = next((f for f in forms[1:] if f in self._known), None)
            known = known or next(filter(None, map(self._head, forms)), token)
            if len(self._known) < self._known_cap and len(token) <= 40:  # unknown words once
                self._known[token] = known
        return known

    def _head(self, word: str) -> str | None:
        """The longest lexicon noun `word` ends with (`COMPOUND_HEAD`, `COMPOUND_LEFT`); only
        endings as long as a noun are tried (a pasted 100 kB "word" took seconds)."""
        for k in range(
            max(COMPOUND_LEFT, len(word) - self._longest_noun), len(word) - COMPOUND_HEAD + 1
        ):
            if word[k:] in self._nouns:
                return word[k:]
        return None

    def score(self, text: str, language: str = "de") -> float:
        text = text.lower()
        if "andere als" in text or "nsch" in text or "stich" in text or "ngt sich" in text:
            text = _GERMAN_IDIOMS.sub(lambda m: _IDIOM_WORDS[m.lastindex or 0], text)
        tokens = [self._word(t) for t in _TOKEN.findall(text)]
        weights = [0.0 if t in GERMAN_NEGATIONS else self.lexicon.get(t, 0.0) for t in tokens]
        flipped = [False] * len(tokens)
        complains = [False] * len(tokens)  # a function word a plain negation flips
        for i, tok in enumerate(tokens):
            if tok not in GERMAN_NEGATIONS:
                continue
            after = []
            for j in range(i + 1, min(len(tokens), i + 1 + NEGATION_REACH)):
                if tokens[j] in _CLAUSE_END:
                    break
                if weights[j] and tokens[j] not in _UNNEGATED:
                    after.append(j)
            before = []
            for j in range(i - 1, max(-1, i - 1 - NEGATION_REACH_BACK), -1):
                if tokens[j] in _CLAUSE_END:
                    break
                if weights[j] and tokens[j] not in _UNNEGATED:
                    before.append(j)
                    break
            for j in after or before:
                flipped[j] = True
                complains[j] = tok not in _NOT_A_COMPLAINT and not _praise_idiom(tokens, j)
        if _MODALS.intersection(tokens):
            _unresolved(tokens, weights)
        for i in range(len(tokens)):
            if tokens[i] in GERMAN_FUNCTIONS and not complains[i]:
                weights[i] = 0.0  # "lädt schnell" says nothing, "lädt nicht" complains
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


# idioms whose words say otherwise: "alles andere als zufrieden" is "nicht zufrieden" (it scored
# as praise), "lässt zu wünschen übrig" a want, "im Stich gelassen" no calm ("gelassen"), and
# "hängt sich auf" a freeze; each read as the word that says it
_GERMAN_IDIOMS = re.compile(
    r"\b(?:(alles[ \t]+andere[ \t]+als)|(zu[ \t]+w(?:ü|ue)nschen[ \t]+(?:ü|ue)brig)"
    r"|(im[ \t]+stich[ \t]+gelassen)|(h(?:ä|ae)ngt[ \t]+sich))\b"
)
_IDIOM_WORDS = ("", "nicht", "mangelhaft", "enttäuscht", "stürzt")


# a demand that something be fixed ("Das muss jetzt gelöst werden") names no fix: after a modal in
# its clause the words of a fix have no tone (they read as praise, +0.29)
_MODALS = frozenset(["muss", "müssen", "muß", "soll", "sollte", "sollten", "sollen", "müsste"])
_FIXED = frozenset(["gelöst", "behoben", "repariert", "korrigiert"])


def _unresolved(tokens: list[str], weights: list[float]) -> None:
    """Zero the weight of a fix word (`_FIXED`) that follows a modal (`_MODALS`) in its clause."""
    modal = False
    for i, tok in enumerate(tokens):
        if tok in _CLAUSE_END:
            modal = False
        elif tok in _MODALS:
            modal = True
        elif modal and tok in _FIXED:
            weights[i] = 0.0


# sentence adverbs: they comment on their clause and a negation never reaches them; "leider" was
# the nearest sentiment word before a clause-final "nicht" and flipped ("Es funktioniert leider
# nicht" scored as praise)
_UNNEGATED = frozenset(["leider", "dringend", "offensichtlich"])
# negations that do not make a function word a complaint ("ohne Probleme geöffnet")
_NOT_A_COMPLAINT = frozenset(["ohne", "kaum", "weder", "nirgends"])
# words ending in "-er" that are no comparatives ("Leider geht es nicht" complains)
_NOT_COMPARATIVES = frozenset([
    "leider", "immer", "wieder", "daher", "dieser", "jeder", "keiner", "einer", "unser", "später",
    "vorher", "nachher", "außer", "sicher", "seither", "bisher", "aber", "oder",
])  # fmt: skip


def _praise_idiom(tokens: list[str], i: int) -> bool:
    """Is the negated function word at `i` praise: "Nichts geht über dieses Tool", "Einfacher
    geht es nicht" (a comparative opening its clause)?"""
    if i + 1 < len(tokens) and tokens[i + 1] == "über":
        return True
    if i == 0:
        return False
    before = tokens[i - 1]
    opens = i == 1 or tokens[i - 2] in _CLAUSE_END
    return opens and len(before) >= 6 and before.endswith("er") and before not in _NOT_COMPARATIVES


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


# --- what of a ticket's text is scored, and in which language ---------------------------------

_TAG = re.compile(r"<[a-zA-Z/!][^<>]*>")
_BREAK = re.compile(r"<(?:br|p|div|li|tr|h[1-6])\b[^<>]*>|</(?:p|div|li|tr|h[1-6])>", re.I)
# where a reply quotes the message it answers (Gmail, Apple Mail, Outlook; English and German)
_REPLY_HEADER = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*(?:original message|ursprüngliche nachricht|forwarded message|"
    r"weitergeleitete nachricht)[ \t]*-{2,}|on\b.{0,200}\bwrote:|am\b.{0,200}\bschrieb\b.{0,200}:"
    r"|(?:from|von):[ \t].*\n[ \t]*(?:sent|gesendet|date|datum):.*)[ \t]*$",
    re.I | re.M,
)
_QUOTED_LINE = re.compile(r"^[ \t]*>.*$", re.M)
# the signature delimiter of e-mail ("-- " on a line of its own, RFC 3676; many clients drop the
# space): a company's tagline below it ("The best solution for your team") was read as praise
_SIGNATURE = re.compile(r"^--[ \t]?$", re.M)
# greetings and sign-offs: every e-mail has one, and VADER and SentiWS read "Kind regards",
# "Best", "Dear", "Mit freundlichen Grüßen", "Guten Tag" and "Good morning" as praise; so did they
# "Mit freundlichem Gruß", "Thanks in advance", "Danke im Voraus" and a "Thanks," signing off
# above the name, which turned "Login does not work" into praise (+0.29)
_FORMULA = re.compile(  # the look-ahead lets most positions fail at once
    r"\b(?=[bkwrsdmfvlhgt])(?:(?:with[ \t]+)?(?:best|kind|kindest|warm|warmest)[ \t]+(?:regards|wishes)|regards"
    r"|good[ \t]+(?:morning|afternoon|evening)|guten[ \t]+(?:tag|morgen|abend)"
    r"|have[ \t]+a[ \t]+(?:nice|good|great)[ \t]+(?:day|weekend)|sch(?:ö|oe)ne[ns]?[ \t]+(?:tag|wochenende)"
    r"|sincerely|dear|mit[ \t]+(?:freundliche|beste|herzliche|liebe|viele)[nm][ \t]+gr(?:u|ü|ue)(?:ß|ss)(?:en)?"
    r"|(?:(?:many[ \t]+)?thanks|thank[ \t]+you|(?:vielen|besten|herzlichen)[ \t]+dank|danke)[ \t]+"
    r"(?:in[ \t]+advance|im[ \t]+voraus|vorab|schon[ \t]*mal)"
    r"|(?:(?:besten|vielen|herzlichen)[ \t]+dank|danke)[ \t]+und[ \t]+"  # Swiss: "Besten Dank und"
    r"(?:(?:freundliche|beste|liebe|viele|herzliche)[ \t]+)?gr(?:u|ü|ue)(?:ß|ss)e?"
    r"|(?:freundliche|beste|viele|liebe|herzliche)[ \t]+gr(?:ü|ue)(?:ß|ss)e|sehr[ \t]+geehrte[rs]?"
    r"|liebe[rs]?)\b|^[ \t]*(?:best|cheers|all the best|gru(?:ß|ss)|gr(?:ü|ue)(?:ß|ss)e)[ \t]*(?:,[ \t]*)?$"
    r"|^[ \t]*(?:(?:many[ \t]+)?thanks|thank[ \t]+you|danke|vielen[ \t]+dank|merci)[ \t]*,[ \t]*$",
    re.I | re.M,
)


# Emoji that carry a ticket's tone, as the words each language's lexicon knows: VADER and SentiWS
# read none of them ("Schon wieder kaputt 😡" was as calm as without). Read as words, they take
# negation and boosters as words do ("nicht 👍").
EMOJI_WORDS = {
    "😡": ("angry", "verärgert"), "😠": ("angry", "verärgert"), "🤬": ("angry", "verärgert"),
    "😤": ("frustrated", "frustriert"), "👎": ("bad", "schlecht"), "😞": ("disappointed", "enttäuscht"),
    "😔": ("disappointed", "enttäuscht"), "🙁": ("disappointed", "enttäuscht"),
    "☹": ("disappointed", "enttäuscht"), "😟": ("disappointed", "enttäuscht"),
    "😕": ("disappointed", "enttäuscht"), "😢": ("sad", "traurig"), "😭": ("sad", "traurig"),
    "👍": ("good", "gut"), "🙂": ("good", "gut"), "😊": ("happy", "super"), "😀": ("happy", "super"),
    "😃": ("happy", "super"), "😄": ("happy", "super"), "😁": ("happy", "super"),
    "😍": ("great", "toll"), "❤": ("great", "toll"), "🎉": ("great", "toll"),
}  # fmt: skip
_EMOJI = re.compile("|".join(map(re.escape, EMOJI_WORDS)))


def emoji_words(text: str, language: str) -> str:
    """`text` with its tone-carrying emoji (`EMOJI_WORDS`) written as words of `language`."""
    k = 1 if language == "de" else 0
    return _EMOJI.sub(lambda m: f" {EMOJI_WORDS[m[0]][k]} ", text) if _EMOJI.search(text) else text


def message_text(text: str) -> str:
    """The customer's own words in a ticket text: without HTML markup, without the earlier
    messages a reply quotes ("> " lines, and all after "On ... wrote:", "Am ... schrieb ...:" or
    an Outlook header), without the signature below a "-- " line: a quoted "We are happy to help!" of the desk read as the customer's
    praise. Greetings and sign-offs go per sentence (`without_formulas`)."""
    text = without_markup(text)
    header = _REPLY_HEADER.search(text)
    if header is not None and text[: header.start()].strip():
        text = text[: header.start()]
    if "--" in text:
        sig = _SIGNATURE.search(text)
        if sig is not None and text[: sig.start()].strip():
            text = text[: sig.start()]
    if ">" in text:
        text = _QUOTED_LINE.sub("", text)
    return text


def without_markup(text: Any) -> Any:
    """An HTML text (a helpdesk's html_body) as plain text: no tags, no quoted <blockquote>,
    <style> or <script>, character references resolved ("K&uuml;ndigung", "will&nbsp;not");
    plain text and non-text values as they are."""
    if isinstance(text, str) and "<" in text and _TAG.search(text):
        text = _without_elements(text)
        text = _unescaped(_TAG.sub(" ", _BREAK.sub("\n", text)))
    return text


# a decimal character reference: html.unescape reads its digits as an int, which Python refuses
# beyond 4,300 digits (ValueError)
_DECIMAL_CHARREF = re.compile(r"&#0*([0-9]+)(;?)")


def _unescaped(text: str) -> str:
    """`text` with HTML character references resolved; one of more digits than a code point has
    is U+FFFD, as html.unescape makes it, without reading its digits as a number."""
    if "&#" in text:
        text = _DECIMAL_CHARREF.sub(
            lambda m: "\ufffd" if len(m[1]) > 7 else "&#" + m[1] + m[2], text
        )
    return html.unescape(text)


def _without_elements(text: str, names: tuple[str, ...] = ("blockquote", "style", "script")) -> str:
    """`text` without the elements that are not the customer's words: a <blockquote> (what a
    reply quotes), an e-mail's <style> and <script> (their words were scored as the customer's).
    Found with str.find: a pattern's lazy `.*?` rescanned the rest of the text from every
    unclosed "<blockquote>" (7 s for a 120 kB text of them)."""
    for name in names:
        low, out, at = text.lower(), [], 0
        while (start := low.find(f"<{name}", at)) >= 0:
            end = low.find(f"</{name}>", start)
            if end < 0:
                break
            out += [text[at:start], "\n"]
            at = end + len(name) + 3
        text = "".join(out) + text[at:]
    return text


def without_formulas(sentence: str) -> str:
    """A sentence without greeting and sign-off formulas, which carry no tone of a ticket."""
    return _FORMULA.sub(" ", sentence)


# frequent words that only one of the two languages has (not "die", "an", "in", "was", "also")
_ENGLISH_WORDS = frozenset([
    "the", "and", "is", "are", "were", "we", "our", "you", "your", "this", "that", "with", "have",
    "has", "not", "please", "thanks", "thank", "for", "of", "to", "it", "can", "cannot", "does",
    "doesn", "don", "still", "again", "since", "from", "there", "i", "my", "be", "been", "will",
    "would", "could", "what", "how", "when", "just", "on", "at",
])  # fmt: skip
_GERMAN_WORDS = frozenset([
    "der", "das", "und", "ist", "sind", "wir", "unser", "unsere", "uns", "sie", "ihr", "ihre",
    "nicht", "bitte", "danke", "dank", "vielen", "für", "mit", "ein", "eine", "einen", "dem",
    "den", "des", "auch", "noch", "schon", "seit", "wieder", "kann", "können", "keine", "kein",
    "nach", "bei", "funktioniert", "leider", "immer", "ich", "wie", "im", "zum", "zur", "es",
    "sich", "hiermit", "alles", "gut", "sehr", "oder", "aber", "auf", "wird", "werden", "haben",
])  # fmt: skip


def text_language(text: str, default: str) -> str:
    """The language a ticket's words are clearly in ("en" or "de"), else `default`: a German
    ticket of an account filed as English, read by VADER, scored its "die" as a death and its
    "Danke" as nothing. Clear: at least twice as many distinct common words of one language as of
    the other (one against none in a short text)."""
    words = set(_WORD.findall(text.lower()))
    en, de = len(_ENGLISH_WORDS.intersection(words)), len(_GERMAN_WORDS.intersection(words))
    if de > en and de >= 2 * en:
        return "de"
    if en > de and en >= 2 * de:
        return "en"
    return default


def primary_language(tag: str) -> str:
    """A language tag's language, as the scorers know them: "de-AT", "de_CH", "DE" are "de"."""
    return "de" if re.split(r"[-_]", str(tag).strip().lower(), maxsplit=1)[0] == "de" else "en"


# names the lexicon scorer's scores kept between runs (features.scorecache) and the tone a model
# was trained with (features.version): bump it whenever this scorer's scores change
LEXICON_VERSION = "lexicon-v21"


def lexicon_id() -> str:
    """The default scorer's id: its version and its lexicon packages' (an upgrade of either
    changes scores)."""
    from importlib.metadata import version

    return f"{LEXICON_VERSION}-vader{version('vaderSentiment')}-gersent{version('gersent')}"


class LexiconScorer:
    """The default: VADER for English, the German lexicon scorer for German (others: English).

    A text's customer words (`message_text`) are scored in the language they are clearly in
    (`text_language`), else in the one given (its primary language: "de-AT" is German); a
    sentence clearly in the other language is scored in that one (mixed tickets).
    A text is scored sentence by sentence: each distinct sentence once (support texts repeat
    sentences a lot), its compound score turned back into VADER's raw valence sum, the sums added
    and normalised again as VADER does. This equals scoring the whole text except for VADER's
    whole-text punctuation emphasis, and makes scoring a large backlog fast.
    """

    def __init__(self, max_sentences: int = 250_000) -> None:
        self.cache_id = lexicon_id()
        self.en = VaderScorer()
        self.de = GermanLexiconScorer()
        self.max_sentences = max_sentences
        self._valence: dict[tuple[str, str], float] = {}

    def _sentence_valence(self, sentence: str, language: str) -> float:
        """A sentence's raw valence on the scale of the text's `language`, scored in the
        language the sentence is clearly in: a mixed ticket's "Very disappointed." after German
        sentences had no tone for the German lexicon, nor "Vielen Dank!" for VADER."""
        key = (language, sentence)
        got = self._valence.get(key)
        if got is None:
            own = text_language(sentence, language)
            scorer = self.de if own == "de" else self.en
            words = without_formulas(emoji_words(sentence, own))
            c = min(max(scorer.score(words, own), -0.999999), 0.999999)
            alpha = NORMALISER if language == "de" else VADER_ALPHA
            got = c * math.sqrt(alpha) / math.sqrt(1.0 - c * c)
            if len(self._valence) >= self.max_sentences:
                self._valence.clear()
            if len(sentence) <= 500:  # bounded memory; long ones rarely repeat
                self._valence[key] = got
        return got

    def score(self, text: str, language: str) -> float:
        text = message_text(text)
        language = text_language(text, primary_language(language))
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
