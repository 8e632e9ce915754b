"""The sentiment scorer: sign, negation, caching; no download at run time."""

from __future__ import annotations

import numpy as np
import pytest

from features.scorers import (
    SENTENCE_WORDS,
    CachedScorer,
    GermanLexiconScorer,
    LexiconScorer,
    sentences,
)

CASES = [
    ("en", "Thanks, the fix works great and support was very helpful.", 1),
    ("en", "This is terrible, the app is broken again and nobody answers. Unacceptable.", -1),
    ("de", "Vielen Dank, die Lösung funktioniert super und der Support war sehr hilfreich.", 1),
    (
        "de",
        "Das ist inakzeptabel, die Anwendung ist schon wieder kaputt und ein schlechter Fehler.",
        -1,
    ),
]


@pytest.fixture(scope="module")
def scorer():
    return LexiconScorer()


@pytest.mark.parametrize(("language", "text", "sign"), CASES)
def test_clear_texts_get_the_right_sign(scorer, language, text, sign):
    s = scorer.score(text, language)
    assert -1 <= s <= 1 and s * sign > 0.2


def test_german_negation_flips_polarity():
    de = GermanLexiconScorer()
    assert de.score("Das ist gut") > 0 > de.score("Das ist nicht gut")
    assert de.score("Das ist sehr schlecht") < de.score("Das ist schlecht") < 0


@pytest.mark.parametrize(
    "text",
    [
        "Der Export funktioniert nicht.",  # German puts "nicht" after the verb
        "Der Export funktioniert seit gestern nicht",
        "Das hilft uns nicht weiter.",
    ],
)
def test_german_negation_after_the_verb_flips_it(text):
    de = GermanLexiconScorer()
    assert de.score(text) < 0 < de.score(text.replace("nicht", ""))


@pytest.mark.parametrize(
    ("plain", "german"),
    [("veraergert", "verärgert"), ("enttaeuscht", "enttäuscht"), ("GROSSARTIG!", "Großartig!")],
)
def test_german_typed_without_umlauts_or_eszett_scores_as_with_them(plain, german):
    de = GermanLexiconScorer()
    assert de.score(german) != 0 and de.score(plain) == pytest.approx(de.score(german))


def test_a_long_text_without_full_stops_is_scored_in_pieces_of_words(scorer):
    """VADER's time grows with the square of a sentence's words: a pasted log is cut up."""
    piece = " ".join(["the export is broken and not great"] * 8)  # 56 words
    text = " ".join([piece] * 100)
    parts = sentences(text)
    assert len(parts) > 90 and all(len(p.split()) <= SENTENCE_WORDS for p in parts)
    assert " ".join(parts) == " ".join(text.split())
    assert scorer.score(text, "en") < -0.9
    assert sentences("Short one. And another!") == ["Short one.", "And another!"]


def test_each_text_is_scored_once():
    calls = []

    class Counting:
        def score(self, text, language):
            calls.append(text)
            return 0.5

    cached = CachedScorer(Counting())
    out = cached.scores(["a", "b", "a", "a"], ["en", "en", "en", "de"])
    assert list(out) == [0.5] * 4 and sorted(calls) == [
        "a",
        "a",
        "b",
    ]  # "a" in German is another text
    cached.scores(["b", "a"], ["en", "de"])
    assert len(calls) == 3  # all cached now


def test_flags_are_cached_per_test_name():
    """A yes/no test runs once per distinct key; another test name (another phrase list) never
    reuses the first one's results."""
    runs: list[list] = []

    class Unused:
        def score(self, text, language):
            raise AssertionError("no text is scored for flags")

    cached = CachedScorer(Unused())
    keys = np.array([11, 12, 11, 13], dtype=np.int64)
    odd = np.array([True, False, True, True])

    def run(name):
        def test(items):
            runs.append([name, *items.tolist()])
            return odd[items] if name == "odd" else ~odd[items]

        return test

    assert cached.flags_keyed(keys, "odd", run("odd")).tolist() == odd.tolist()
    assert runs == [["odd", 0, 1, 3]]  # each distinct key once, at its first row
    assert cached.flags_keyed(keys[::-1], "odd", run("odd")).tolist() == odd[::-1].tolist()
    assert len(runs) == 1  # warm: no run
    assert cached.flags_keyed(keys, "even", run("even")).tolist() == (~odd).tolist()
    assert runs[-1] == ["even", 0, 1, 3]
    more = np.array([14, 11], dtype=np.int64)
    assert cached.flags_keyed(more, "odd", lambda items: np.array([False])).tolist() == [
        False,
        True,
    ]


def test_a_full_cache_keeps_what_it_knew_of_the_current_call():
    calls = []

    class Counting:
        def score(self, text, language):
            calls.append(text)
            return len(text) / 10

    cached = CachedScorer(Counting(), max_entries=3)
    cached.scores(["a", "bb"], ["en", "en"])
    out = cached.scores(["bb", "ccc", "dddd"], ["en"] * 3)  # 4 keys > 3: keeps these three
    assert out.tolist() == [0.2, 0.3, 0.4] and calls == ["a", "bb", "ccc", "dddd"]
    assert cached.entries == 3 and bool(cached)
    cached.scores(["dddd", "ccc", "bb"], ["en"] * 3)
    assert calls == ["a", "bb", "ccc", "dddd"]  # all still cached
