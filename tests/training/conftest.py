"""A synthetic labelled feature frame, so training can be tested without the feature builders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.spec import FeatureSpec, category, number

HORIZONS = {"escalation_30d": 30, "churn_90d": 90}


def synthetic_frame(
    n_accounts: int = 300, n_weeks: int = 80, seed: int = 0
) -> tuple[pd.DataFrame, FeatureSpec]:
    """Weekly snapshots whose labels follow a known logistic model of the features."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2023-01-02", tz="UTC")
    acc = np.repeat(np.arange(n_accounts), n_weeks)
    week = np.tile(np.arange(n_weeks), n_accounts)
    base = rng.normal(0, 1, n_accounts)[acc]
    x1 = base + rng.normal(0, 0.7, len(acc))
    x2 = rng.normal(0, 1, len(acc))
    x2[rng.random(len(acc)) < 0.1] = np.nan
    tier = np.array(["enterprise", "business", "starter"])[rng.integers(0, 3, n_accounts)][acc]
    tier_eff = pd.Series(tier).map({"enterprise": -0.5, "business": 0.0, "starter": 0.5}).to_numpy()
    z = -3.0 + 1.2 * x1 + 0.6 * np.nan_to_num(x2) + tier_eff
    frame = pd.DataFrame(
        {
            "account_id": pd.Series([f"A{i:04d}" for i in acc], dtype=object),
            "as_of": t0 + pd.to_timedelta(week * 7, unit="D"),
            "tickets_30d": x1,
            "sentiment_mean_30d": x2,
            "tier": pd.Categorical(
                tier, categories=["enterprise", "business", "starter", "__unknown__"]
            ),
        }
    )
    end = t0 + pd.Timedelta(days=7 * n_weeks)
    for target, shift in (("escalation_30d", 0.0), ("churn_90d", -0.7)):
        y = (rng.random(len(acc)) < 1 / (1 + np.exp(-(z + shift)))).astype(float)
        y[(frame["as_of"] + pd.Timedelta(days=HORIZONS[target]) > end).to_numpy()] = np.nan
        frame[target] = y
    spec = FeatureSpec(
        (
            number("tickets_30d", "tickets", "tickets", "tickets in 30 days", "{value}", "{value}"),
            number("sentiment_mean_30d", "sentiment", "", "mean sentiment", "{value}", "{value}"),
            category(
                "tier",
                "account",
                ["enterprise", "business", "starter"],
                "tier",
                "{value}",
                "{value}",
            ),
        )
    )
    return frame, spec


@pytest.fixture(scope="session")
def synthetic():
    return synthetic_frame()


@pytest.fixture(scope="session")
def model_params(params):
    """The repo's model params on one thread: OpenMP threads crawl when the test machine is busy."""
    return params.model.model_copy(update={"num_threads": 1})


@pytest.fixture(scope="session")
def small_eval(params):
    return params.evaluation.model_copy(update={"bootstrap_samples": 20})


@pytest.fixture(scope="session")
def horizons():
    return dict(HORIZONS)
