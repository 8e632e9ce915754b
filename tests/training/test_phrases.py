"""The phrase bank composes varied text in the ticket's language whose words follow its tone."""

from __future__ import annotations

import numpy as np

from training import phrases

PRIORITIES = ("P1", "P2", "P3", "P4")


def _compose(n, language, tone, seed=0):
    rng = np.random.default_rng(seed)
    topic = rng.integers(0, len(phrases.TOPICS), n)
    priority = rng.integers(0, len(PRIORITIES), n)
    return phrases.compose(rng, np.full(n, language), topic, priority, np.full(n, tone), PRIORITIES)


def _share_with(bodies, sentences):
    return np.mean([any(s in b for s in sentences) for b in bodies])


def test_words_follow_the_intended_tone():
    for lang_code, lang in enumerate(phrases.LANGUAGES):
        negative = phrases.TONE[lang]["very_negative"] + phrases.TONE[lang]["negative"]
        positive = phrases.TONE[lang]["very_positive"] + phrases.TONE[lang]["positive"]
        _, angry = _compose(400, lang_code, -0.9)
        _, happy = _compose(400, lang_code, 0.9)
        assert _share_with(angry, negative) > 0.8 > _share_with(happy, negative)
        assert _share_with(happy, positive) > 0.8 > _share_with(angry, positive)


def test_text_is_varied_and_in_the_account_language():
    subjects, bodies = _compose(500, phrases.LANGUAGES.index("de"), 0.0)
    assert len(set(bodies)) > 450 and len(set(subjects)) > 100
    greetings = tuple(phrases.GREETINGS["de"])
    assert all(b.startswith(greetings) for b in bodies)
    assert not any(b.startswith(tuple(phrases.GREETINGS["en"])) for b in bodies)


def test_same_generator_state_gives_same_text():
    assert _compose(50, 0, -0.3, seed=4)[1].tolist() == _compose(50, 0, -0.3, seed=4)[1].tolist()
