"""The scorer agrees with the simulated world's intended tone, in English and in German."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from features.scorers import CachedScorer, LexiconScorer
from features.sentiment import ticket_scores
from features.texts import text_hashes, ticket_keys


@pytest.mark.parametrize("language", ["en", "de"])
def test_scores_agree_with_intended_tone(make_world, make_history, language):
    world = make_world(60, 5)
    history = make_history(60, 5)
    scores = ticket_scores(history, CachedScorer(LexiconScorer()))
    tone = world.truth["ticket_tone"].set_index("ticket_id")["tone"]
    lang = history.tickets["account_id"].map(history.accounts.set_index("account_id")["language"])
    mine = (lang == language).to_numpy()
    intended = history.tickets["ticket_id"][mine].map(tone).to_numpy(dtype=float)
    r = float(np.corrcoef(scores[mine], intended)[0, 1])
    print(f"sentiment agreement ({language}): Pearson r = {r:.3f} over {mine.sum()} tickets")
    assert mine.sum() >= 100 and r > 0.25


def test_ticket_scores_equal_scoring_each_joined_text(make_history):
    """The hashed keys give the same score as scoring "subject\\nbody" in the ticket's language,
    with blank texts, a per-ticket language column and tickets of unknown accounts."""
    history = make_history(6, 2)
    t = history.tickets.copy()
    t.loc[t.index[:3], "subject"] = None
    t.loc[t.index[3:5], "body"] = np.nan
    t.loc[t.index[5], "account_id"] = "no-such-account"
    t["language"] = ["de" if i % 4 == 0 else None for i in range(len(t))]
    history = replace(history, tickets=t)
    lang_of = dict(zip(history.accounts["account_id"], history.accounts["language"], strict=True))
    text = [
        f"{s or ''}\n{'' if b != b else b or ''}"
        for s, b in zip(t["subject"], t["body"], strict=True)
    ]
    language = [
        o or lang_of.get(a) or "en" for o, a in zip(t["language"], t["account_id"], strict=True)
    ]
    want = CachedScorer(LexiconScorer()).scores(text, language)
    scorer = CachedScorer(LexiconScorer())
    got = ticket_scores(history, scorer)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(ticket_scores(history, scorer), want)  # warm: from the cache
    assert want.std() > 0


def test_text_keys_hash_each_cell_as_its_text(make_history):
    """A missing cell keys as "", another value as its str; the accounts' codes a build already
    has give the same keys as looking them up again."""
    cells = ["a", None, np.nan, pd.NA, 3, "", "b"]
    want = text_hashes(pd.Series(["a", "", "", "", "3", "", "b"], dtype=object)).tolist()
    assert text_hashes(pd.Series(cells, dtype=object)).tolist() == want
    assert len(set(want)) == 4 and want[1] == want[2] == want[3] == want[5]
    history = make_history(6, 2)
    ids = np.array(sorted(history.accounts["account_id"]), dtype=object)
    codes = pd.Index(ids).get_indexer(history.tickets["account_id"])
    np.testing.assert_array_equal(ticket_keys(history, (codes, ids)), ticket_keys(history))
