"""The scorer agrees with the simulated world's intended tone, in English and in German."""

from __future__ import annotations

import numpy as np
import pytest

from features.scorers import CachedScorer, LexiconScorer
from features.sentiment import ticket_scores


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
