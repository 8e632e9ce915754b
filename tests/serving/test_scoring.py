"""`score_rows` reads the features once into arrays for LightGBM, the reasons and the ladder; its
answers equal those of the pandas path it replaced (LightGBM converting the frame per head)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from features.build import build_features
from features.contract import validated
from serving.facts import account_facts
from serving.model import load_champion
from serving.reasons import split_contrib, to_probability, top_reasons
from serving.scoring import (
    HEADS,
    FeatureArrays,
    answers,
    contributions,
    row_views,
    score_rows,
)

pytestmark = pytest.mark.slow


def pandas_score_rows(model, frame, facts, ladder, now, top_k) -> list[dict[str, Any]]:
    """The previous `score_rows`: the DataFrame to LightGBM and to the reasons, per head."""
    X = frame[model.spec.names]
    ids = frame["account_id"].tolist()
    langs = [facts[a].language if a in facts else "en" for a in ids]
    risks, reasons = {}, {}
    for name in HEADS:
        head = model.heads[name]
        raw, bias = split_contrib(contributions(head.booster, X))
        c = to_probability(raw, bias, head.calibrate)
        risks[name] = c.risk
        reasons[name] = top_reasons(name, c.prob, X, model.spec, langs, top_k)
    rows = row_views(X)
    days = pd.DatetimeIndex(frame["as_of"]).date
    return answers(model, ids, days, risks, reasons, rows, facts, ladder, now)


@pytest.fixture(scope="module")
def scored_world(world, params, model_store):
    model = load_champion(model_store, params.promotion.model_name)
    now = pd.Timestamp.now(tz="UTC")
    history = validated(world, params.contract, now)
    day = now.normalize()
    frame = build_features(history, [day], params.features, spec=model.spec).frame
    return model, frame, account_facts(history, day, params.features), now


def test_a_feature_build_scores_like_its_frame(world, params, model_store):
    """The API scores a feature build's columns without a DataFrame; the answers are the same."""
    model = load_champion(model_store, params.promotion.model_name)
    now = pd.Timestamp.now(tz="UTC")
    history = validated(world, params.contract, now)
    ids = sorted(history.accounts["account_id"])[:2]
    for part in ([ids[0]], ids):  # one account (the small paths) and a batch of two
        fs = build_features(
            history.for_accounts(part), [now.normalize()], params.features, spec=model.spec
        )
        facts = account_facts(history, now.normalize(), params.features)
        got = score_rows(model, fs, facts, params.ladder, now, params.service.top_reasons)
        want = score_rows(model, fs.frame, facts, params.ladder, now, params.service.top_reasons)
        assert got == want and len(got) == len(part)


@pytest.mark.parametrize("rows", [1, 3, None])
def test_score_rows_equals_the_pandas_path(scored_world, params, rows):
    model, frame, facts, now = scored_world
    part = frame if rows is None else frame.iloc[:rows].reset_index(drop=True)
    got = score_rows(model, part, facts, params.ladder, now, params.service.top_reasons)
    want = pandas_score_rows(model, part, facts, params.ladder, now, params.service.top_reasons)
    assert got == want


def test_unknown_and_missing_categories_predict_like_lightgbm(scored_world):
    """Category values outside the model's levels, or missing, are NaN to LightGBM, not a code."""
    model, frame, _, _ = scored_world
    X = frame[model.spec.names].copy()
    cats = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    assert cats, "the model has no category feature to check"
    for c in cats:
        values = X[c].astype(object).to_numpy()
        values[0], values[-1] = None, "no-such-level"
        X[c] = pd.Categorical(values, categories=[*X[c].cat.categories, "no-such-level"])
    arrays = FeatureArrays.of(X, list(model.spec.names))
    for head in model.heads.values():
        want = contributions(head.booster, X)
        got = contributions(head.booster, arrays.lightgbm_input(head.booster))
        np.testing.assert_array_equal(got, want)
