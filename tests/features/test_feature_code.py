"""The guard on features/version.py's hand-bumped FEATURE_CODE_VERSION: a commit that makes the
features of a fixed small world (same tables, same settings) come out otherwise must bump it, or
the champions trained before it are scored on other values without the warning daily and serve
give (tests/serving/test_feature_code.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from features.build import as_of_grid, build_features, full_spec
from features.version import stamp

RECORD = Path(__file__).resolve().parents[1] / "data" / "feature_code.json"


def _digest(frames: list[pd.DataFrame]) -> str:
    """Values to 6 significant digits: what a model sees, not the platform's last bits."""
    h = hashlib.sha256()
    for f in frames:
        h.update(f.to_csv(index=False, float_format="%.6g", date_format="%Y-%m-%dT%H:%M").encode())
    return h.hexdigest()[:16]


def test_changed_feature_values_come_with_a_new_feature_code_version(
    make_world, make_history, params
):
    world = make_world(40, 11, 4)
    tables = [world.tables[k] for k in sorted(world.tables) if world.tables[k] is not None]
    settings = pd.DataFrame([json.dumps(params.features.model_dump(mode="json"), sort_keys=True)])
    history = make_history(40, 11, 4)
    grid = as_of_grid(history, params.features)[-6:]
    frame = build_features(history, grid, params.features, spec=full_spec(params.features)).frame
    now = {"stamp": stamp(), "inputs": _digest([*tables, settings]), "features": _digest([frame])}
    kept = json.loads(RECORD.read_text(encoding="utf-8"))
    record = f"record it in tests/data/{RECORD.name}: {json.dumps(now)}"
    if kept["stamp"] == now["stamp"] and kept["inputs"] == now["inputs"]:
        assert kept["features"] == now["features"], (
            "the features of the same tables and settings changed: a model trained before would "
            "be fed other values. Bump FEATURE_CODE_VERSION in features/version.py (or "
            f"LEXICON_VERSION for the tone scorer), then {record}"
        )
    else:  # a bump, or another world or settings: only the author knows whether code changed too
        assert kept == now, f"the feature code's stamp or the test world changed: {record}"
