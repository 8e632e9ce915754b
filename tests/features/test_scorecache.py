"""Text results kept between runs: a later process scores and matches only texts it has not seen."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from features.build import build_features
from features.notice import notice_flags, notice_test
from features.scorecache import cache_file, kept_scores, read_scores, write_scores
from features.scorers import CachedScorer, LexiconScorer, stable_keys
from features.texts import text_hashes, ticket_keys

TEXTS = [
    "Great support, thanks!",
    "Das ist inakzeptabel.",
    "Still broken",
    "Great support, thanks!",
]
LANGS = ["en", "de", "en", "de"]


class Counting:
    """A scorer that counts its calls; its scores depend on the text only."""

    cache_id = "counting-v1"

    def __init__(self) -> None:
        self.calls = 0

    def score(self, text: str, language: str) -> float:
        self.calls += 1
        return (len(text) % 7) / 7 - 0.5


def test_a_new_process_reads_the_scores_instead_of_scoring(tmp_path):
    first = CachedScorer(Counting())
    with kept_scores(tmp_path, first) as s:
        before = s.scores(TEXTS, LANGS)
    assert first.scorer.calls == 4  # one text in two languages is two texts
    later = CachedScorer(Counting())  # as in the next run: nothing in memory
    with kept_scores(tmp_path, later) as s:
        again = s.scores(TEXTS + ["new text"], LANGS + ["en"])
    assert later.scorer.calls == 1
    np.testing.assert_array_equal(again[:4], before)
    keys, _, _ = read_scores(cache_file(tmp_path, later))
    assert len(keys) == 5


def test_each_scorer_keeps_its_own_file(tmp_path):
    class Other(Counting):
        cache_id = "other-v2"

    a, b = CachedScorer(Counting()), CachedScorer(Other())
    with kept_scores(tmp_path, a) as s:
        s.scores(TEXTS, LANGS)
    with kept_scores(tmp_path, b) as s:
        s.scores(TEXTS, LANGS)
    assert b.scorer.calls == 4 and cache_file(tmp_path, a) != cache_file(tmp_path, b)


def test_an_unreadable_file_is_ignored_and_replaced(tmp_path, capsys):
    s = CachedScorer(Counting())
    path = cache_file(tmp_path, s)
    path.write_bytes(b"not a numpy file")
    with kept_scores(tmp_path, s) as k:
        k.scores(TEXTS, LANGS)
    assert "ignoring the text cache" in capsys.readouterr().err
    assert s.scorer.calls == 4 and len(read_scores(path)[0]) == 4


def test_an_unwritable_cache_costs_only_time(tmp_path, capsys):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the directory should be")
    s = CachedScorer(Counting())
    with kept_scores(blocked, s) as k:
        got = k.scores(TEXTS, LANGS)
    assert len(got) == 4 and "could not keep 4 sentiment scores" in capsys.readouterr().err


def test_no_directory_keeps_nothing(tmp_path):
    s = CachedScorer(Counting())
    with kept_scores(None, s) as k:
        k.scores(TEXTS, LANGS)
    assert s.unsaved()[0].size == 0 and not list(tmp_path.iterdir())


def test_stable_keys_are_the_same_in_every_process():
    """Python salts `hash` per process; the keys a kept file is read by must not change."""
    code = (
        "import pandas as pd; from features.scorers import stable_keys; "
        "from features.texts import text_hashes; "
        "print(stable_keys(['Kündigung zum 31.12.', 'ok'], ['de', 'en']).tolist(), "
        "text_hashes(pd.Series(['Kündigung', None, 3], dtype=object)).tolist())"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    here = (
        stable_keys(["Kündigung zum 31.12.", "ok"], ["de", "en"]).tolist(),
        text_hashes(pd.Series(["Kündigung", None, 3], dtype=object)).tolist(),
    )
    assert seen == {" ".join(map(str, here))}
    assert len(set(stable_keys(["a", "a", "b"], ["en", "de", "en"]).tolist())) == 3


def test_features_from_kept_scores_equal_freshly_scored_ones(make_history, params, tmp_path):
    """The default scorer's scores survive the file bit for bit, so the features do too."""
    history = make_history(30, 1)
    dates = pd.date_range(history.tickets["created_at"].max().normalize(), periods=1)
    fresh = CachedScorer(LexiconScorer())
    with kept_scores(tmp_path, fresh) as s:
        a = build_features(history, dates, params.features, sentiment=s).frame

    class Refuses(LexiconScorer):
        def score(self, text: str, language: str) -> float:
            raise AssertionError("scored a text the file knew")

    later = CachedScorer(Refuses())
    with kept_scores(tmp_path, later) as s:
        b = build_features(history, dates, params.features, sentiment=s).frame
    assert_frame_equal(a, b, check_exact=True)
    # the notice phrases' matches were kept too: the later build asked no text to be matched
    keys, _, flags = read_scores(cache_file(tmp_path, later))
    test = notice_test(params.features.notice.phrases)
    kept = CachedScorer(Refuses())
    kept.remember(keys, np.full(len(keys), np.nan), flags)
    got = kept.flags_keyed(ticket_keys(history), test, _never)
    np.testing.assert_array_equal(got, notice_flags(history, params.features.notice.phrases, fresh))


def test_merging_keeps_what_either_run_knew(tmp_path):
    """A later entry that knows less (no score, an untested phrase list) does not erase what an
    earlier run knew; what it knows wins; keys seen by one run only are kept."""
    path = tmp_path / "texts.npz"
    write_scores(path, np.array([1, 2]), np.array([0.5, -0.5]), {"a": np.array([1, -1], np.int8)})
    write_scores(
        path,
        np.array([2, 3]),
        np.array([np.nan, 0.25]),
        {"a": np.array([0, -1], np.int8), "b": np.array([1, 1], np.int8)},
    )
    keys, scores, flags = read_scores(path)
    assert keys.tolist() == [1, 2, 3]
    assert scores.tolist() == [0.5, -0.5, 0.25]
    assert flags["a"].tolist() == [1, 0, -1] and flags["b"].tolist() == [-1, 1, 1]


def test_unsaved_reports_what_the_file_did_not_give_once():
    s = CachedScorer(Counting())
    s.scores(["before"], ["en"])
    assert s.unsaved()[0].size == 0  # nobody keeps this cache yet
    s.remember(np.array([7], np.int64), np.array([0.1]), {})
    s.scores(["before", "after"], ["en", "en"])
    keys, scores, _ = s.unsaved()  # what the process learnt and the file did not give
    assert sorted(keys.tolist()) == sorted(s.keys(["before", "after"], ["en"] * 2).tolist())
    assert s.unsaved()[0].size == 0


def _never(items):
    raise AssertionError("every text was known")


def test_a_file_of_the_old_format_is_dropped(tmp_path):
    s = CachedScorer(Counting())
    old = tmp_path / cache_file(tmp_path, s).name.replace("texts-", "sentiment-")
    old.write_bytes(b"keys of another kind")
    with kept_scores(tmp_path, s) as k:
        k.scores(TEXTS, LANGS)
    assert not old.exists() and cache_file(tmp_path, s).exists()


def test_an_earlier_version_of_the_scorer_has_its_file_dropped(tmp_path):
    class Versioned(Counting):
        cache_id = "lexicon-v2-x1"

    s = CachedScorer(Versioned())
    stale = tmp_path / "texts-lexicon-v1-x1.npz"
    other = tmp_path / "texts-lexicon-vader-x1.npz"  # another scorer: kept
    for f in (stale, other):
        f.write_bytes(b"...")
    with kept_scores(tmp_path, s) as k:
        k.scores(TEXTS, LANGS)
    assert not stale.exists() and other.exists() and cache_file(tmp_path, s).exists()


def test_remember_adds_to_what_the_process_knows():
    """A file entry that knows less (no score) does not erase a score this process has, which
    stays to be saved; one that knows the same makes it saved."""
    s = CachedScorer(Counting())
    got = s.scores(["a", "b"], ["en", "en"])
    ka, kb = s.keys(["a", "b"], ["en", "en"]).tolist()
    s.remember(np.array([ka, kb]), np.array([np.nan, got[1]]), {"t": np.array([1, 0], np.int8)})
    assert s.scores(["a", "b"], ["en", "en"]).tolist() == got.tolist() and s.scorer.calls == 2
    keys, scores, flags = s.unsaved()
    assert keys.tolist() == [ka] and scores.tolist() == [got[0]] and flags["t"].tolist() == [1]


@pytest.mark.parametrize("max_entries", [5_000_000, 3_000])
def test_calls_of_any_size_answer_as_one_call_and_score_each_text_once(max_entries):
    """The cache keeps recent keys apart from its index and merges them now and then: whatever
    the sizes of the calls (a request's few tickets, a batch's many), every text gets the score
    it gets alone, is scored once while it is cached, and its flags and unsaved entries follow."""
    rng = np.random.default_rng(7)
    texts = [f"text {i} {'great' if i % 3 else 'broken'}" for i in range(12_000)]
    langs = ["en" if i % 2 else "de" for i in range(len(texts))]
    alone = Counting()
    expected = np.array([alone.score(t, lang) for t, lang in zip(texts, langs, strict=True)])
    s = CachedScorer(Counting(), max_entries=max_entries)
    s.remember(np.zeros(0, dtype=np.int64), np.zeros(0))  # kept: unsaved reports what is new
    seen: set[int] = set()
    largest = 0  # a call larger than max_entries is kept whole
    for _ in range(60):
        size = int(rng.choice([1, 3, 17, 500, 5_000]))
        pick = rng.integers(0, len(texts), size=size)
        got = s.scores([texts[i] for i in pick], [langs[i] for i in pick])
        np.testing.assert_array_equal(got, expected[pick])
        flags = s.flags_keyed(
            stable_keys([texts[i] for i in pick], [langs[i] for i in pick]),
            "odd",
            lambda items, pick=pick: pick[items] % 2 == 1,
        )
        np.testing.assert_array_equal(flags, pick % 2 == 1)
        seen |= set(pick.tolist())
        largest = max(largest, size)
        assert s.entries <= max(max_entries, largest)
    if max_entries > len(texts):
        assert s.scorer.calls == len(seen) == s.entries
        keys, scores, kept_flags = s.unsaved()
        order = stable_keys(texts, langs)
        where = pd.Index(order).get_indexer(keys)
        assert sorted(where.tolist()) == sorted(seen)
        np.testing.assert_array_equal(scores, expected[where])
        np.testing.assert_array_equal(kept_flags["odd"], (where % 2 == 1).astype(np.int8))
        assert s.unsaved()[0].size == 0  # each reported once
