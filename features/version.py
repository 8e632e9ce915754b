"""Which feature code a model was trained with: stamped into every model bundle.

A model learns from the values its features had at training; when an upgrade computes a feature
differently under the same name (a window, a rule, the ticket-tone scorer), the champion is fed
values it never saw and scores off without any error. `escrisk daily` and `escrisk serve` compare
the champion's stamp with `stamp()` and tell the team to train and promote a new version.

Bump FEATURE_CODE_VERSION by hand in the commit that changes what any feature computes for the
same data (a renamed or new feature alone does not need it: the feature spec already tells those).
The ticket-tone scorer is stamped by its own `cache_id` (features.scorers.LEXICON_VERSION and its
packages' versions), which its cache already requires to change with its scores.
tests/features/test_feature_code.py fails when a small world's features change without a bump.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# 1: the first stamped feature code (bundle format 2: long memory bounded to long_window_days)
FEATURE_CODE_VERSION = 1


def stamp() -> dict[str, Any]:
    """This installation's feature code: what a bundle trained now records."""
    from features.scorers import lexicon_id

    return {"version": FEATURE_CODE_VERSION, "sentiment": lexicon_id()}


def stamp_text(found: Mapping[str, Any]) -> str:
    """A stamp as the team reads it: "features v1, sentiment lexicon-v21-..."."""
    return f"features v{found.get('version', '?')}, sentiment {found.get('sentiment', '?')}"


def differs(trained: Mapping[str, Any], now: Mapping[str, Any]) -> bool:
    """Whether a model stamped `trained` is fed other feature values by the code stamped `now`."""
    return any(trained.get(k) != v for k, v in now.items())
