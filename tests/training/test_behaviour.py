"""Behavioural model tests: on a model trained on a small simulated world, worse signals never
lower the risk, all else equal (params.yaml `model.monotone`), and a broad deterioration raises it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.labels import LABELS
from training.matrix import model_matrix
from training.pipeline import horizons, labelled_features
from training.split import choose_split, window_frames
from training.train import train_head

# how far each kind of feature is pushed in its worse direction
STEP = {"sla": 3.0, "tickets": 2.0, "escalations": 1.0, "usage": 0.3, "sentiment": 0.4, "csat": 1.0}


@pytest.fixture(scope="module")
def trained(make_history, params, model_params):
    lab = labelled_features(make_history(300, 2, 18), params)
    hz = horizons(params.labels)
    split = choose_split(lab.frame, hz, params.split)
    heads, tests = {}, {}
    for target in LABELS:
        win = window_frames(lab.frame, target, hz[target], split)
        X = {w: model_matrix(f, lab.spec) for w, f in win.items()}
        y = {w: f[target].to_numpy(dtype=float) for w, f in win.items()}
        heads[target] = train_head(
            target, X["train"], y["train"], X["validation"], y["validation"], model_params
        )
        tests[target] = X["test"]
    return heads, tests


def _worse(X: pd.DataFrame, feature: str, direction: int) -> pd.DataFrame:
    step = STEP[feature.split("_", 1)[0]]
    return X.assign(**{feature: X[feature] + direction * step})


@pytest.mark.parametrize("target", LABELS)
def test_a_worse_signal_never_lowers_the_risk(trained, params, target):
    heads, tests = trained
    head, X = heads[target], tests[target]
    base = head.predict(X)
    checked = 0
    for feature, direction in params.model.monotone.items():
        if feature not in X.columns:
            continue
        worse = head.predict(_worse(X, feature, direction))
        assert (worse >= base - 1e-12).all(), (target, feature)
        better = head.predict(_worse(X, feature, -direction))
        assert (better <= base + 1e-12).all(), (target, feature)
        checked += 1
    assert checked >= 5


def test_a_broad_deterioration_raises_escalation_risk(trained, params):
    """More SLA breaches, a usage drop and angrier tickets together: risk clearly goes up."""
    heads, tests = trained
    head, X = heads["escalation_30d"], tests["escalation_30d"]
    worse = X
    for feature, direction in params.model.monotone.items():
        if feature in X.columns and feature.split("_", 1)[0] in ("sla", "usage", "sentiment"):
            worse = _worse(worse, feature, direction)
    before, after = head.predict(X), head.predict(worse)
    assert (after >= before - 1e-12).all()
    assert np.mean(after) > 1.2 * np.mean(before)
