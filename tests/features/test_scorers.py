"""The sentiment scorer: sign, negation, caching; no download at run time."""

from __future__ import annotations

import pytest

from features.scorers import CachedScorer, GermanLexiconScorer, LexiconScorer

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
