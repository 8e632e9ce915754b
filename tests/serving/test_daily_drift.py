"""PSI against hand-computed values, the bands, and the reference bins shared with training."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from serving.drift import band, drift_report, psi, shares
from training.bundle import _reference_column


def test_psi_matches_a_hand_computed_value():
    # (0.25-0.5)*ln(0.25/0.5) + (0.75-0.5)*ln(0.75/0.5)
    want = 0.25 * math.log(2) + 0.25 * math.log(1.5)
    assert psi([0.5, 0.5], [0.25, 0.75], 1e-4) == pytest.approx(want, abs=1e-12)
    assert want == pytest.approx(0.27465, abs=1e-5)


def test_an_empty_bin_counts_as_epsilon():
    want = (0.5 - 1e-4) * math.log(0.5 / 1e-4) + (1e-4 - 0.5) * math.log(1e-4 / 0.5) + 0.0
    assert psi([0.5, 0.0, 0.5], [0.0, 0.5, 0.5], 1e-4) == pytest.approx(want, rel=1e-9)


@given(st.lists(st.floats(0.01, 1), min_size=2, max_size=8))
def test_psi_is_zero_on_itself_and_positive_otherwise(w):
    e = np.array(w) / sum(w)
    assert psi(e, e, 1e-4) == pytest.approx(0.0, abs=1e-12)
    a = np.roll(e, 1)
    assert psi(e, a, 1e-4) >= -1e-12


def test_shares_use_the_reference_edges_and_a_missing_bin():
    ref = _reference_column(pd.Series([0.0, 1.0, 2.0, 3.0]), "float", 2)
    assert ref["edges"] == [1.5] and ref["shares"] == [0.5, 0.5, 0.0]
    assert shares(pd.Series([0.0, 2.0, 5.0, np.nan]), ref) == [0.25, 0.5, 0.25]
    cat = _reference_column(
        pd.Series(pd.Categorical(["a", "a", "b", None], categories=["a", "b"])), "category", 10
    )
    assert cat["shares"] == [0.5, 0.25, 0.25]
    assert shares(pd.Series(["b", "b", "a", "b"]), cat) == [0.25, 0.75, 0.0]


def test_a_score_a_rounding_error_below_a_tied_edge_stays_in_its_bin(params):
    """A tree model gives many accounts the same lowest score, so a quantile edge sits on it; the
    daily job computes the scores from SHAP sums, one ulp off the reference's `predict`. Those
    accounts fell into the empty bin below the edge: PSI 0.54 and "retrain advised" on the very
    data the model was trained on (make demo)."""
    low = 0.0036484543431301187
    trained = pd.Series([low] * 30 + list(np.linspace(0.004, 0.9, 170)))
    ref = _reference_column(trained, "float", 10)
    assert ref["edges"][0] == low and ref["shares"][0] == 0.0  # the edge is the tied value
    today = trained.copy()
    today[:30] = np.nextafter(low, 0.0)
    assert shares(today, ref) == shares(trained, ref)
    report = drift_report(
        {"features": {}, "scores": {"churn_90d": ref}},
        pd.DataFrame(index=range(200)),
        {"churn_90d": today},
        [],
        params.daily.drift,
    )
    assert report.judged and not report.retrain
    assert report.table["band"].tolist() == ["stable"]


def test_the_training_data_itself_shows_no_drift_where_an_edge_is_interpolated_off_a_tie():
    """np.quantile interpolates an edge a rounding error above a value many rows share (a third
    of tickets negative: 0.3333333333333428); the reference counted those rows below it, the
    daily job (`bin_of`) above it: PSI 4.2 on identical data (0.232 for 0.161 in a 283-account
    world). The edge is the shared value itself."""
    trained = pd.Series([0.0] * 200 + [1 / 3] * 101 + [0.5] * 300 + list(np.linspace(0.51, 1, 400)))
    ref = _reference_column(trained, "float", 10)
    assert 1 / 3 in ref["edges"] and 0.5 in ref["edges"]
    assert shares(trained, ref) == pytest.approx(ref["shares"], abs=1e-12)
    assert psi(ref["shares"], shares(trained, ref), 1e-4) == pytest.approx(0.0, abs=1e-12)


def test_bands_and_the_retrain_advice(params):
    p = params.daily.drift
    assert [band(v, p) for v in (0.05, 0.1, 0.2, 0.25, 1.0)] == [
        "stable",
        "moderate",
        "moderate",
        "major",
        "major",
    ]
    ref = {
        "features": {"x": {"kind": "float", "edges": [0.5], "shares": [0.5, 0.5, 0.0]}},
        "scores": {"escalation_30d": {"kind": "float", "edges": [0.5], "shares": [0.5, 0.5, 0.0]}},
    }
    x = pd.DataFrame({"x": [0.0, 1.0] * 100})  # 200 accounts: enough to tell a shift
    same = drift_report(ref, x, {"escalation_30d": pd.Series([0.1, 0.9] * 100)}, ["x"], p)
    assert not same.retrain and same.table["psi"].abs().max() < 1e-9
    shifted = drift_report(ref, x, {"escalation_30d": pd.Series([0.9] * 200)}, ["x"], p)
    assert shifted.retrain and shifted.why == ("escalation_30d",)


def test_a_small_portfolio_drawn_from_the_reference_is_not_drift(params):
    """Ten quantile bins and a missing bin: 60 accounts drawn from the training distribution
    itself must not advise retraining (but about once in a hundred), while a real shift of the
    same 60 still does."""
    from serving.drift import noise_level

    p = params.daily.drift.model_copy(update={"min_accounts": 1})  # judge 60 accounts here
    rng = np.random.default_rng(3)
    edges = list(np.quantile(rng.normal(size=100_000), np.linspace(0.1, 0.9, 9)))
    shares_ = [0.1] * 10 + [0.0]
    ref = {"features": {}, "scores": {"escalation_30d": {"kind": "float", "edges": edges,
                                                         "shares": shares_}}}  # fmt: skip
    # large portfolios: the chi-squared rule (9 degrees of freedom over 10 filled bins)
    assert noise_level(shares_, 100_000, p.epsilon) == pytest.approx(21.666 / 100_000, rel=0.15)
    advised = 0
    for seed in range(200):
        sample = pd.Series(np.random.default_rng(seed).normal(size=60))
        report = drift_report(ref, pd.DataFrame(index=range(60)), {"escalation_30d": sample}, [], p)
        advised += report.retrain
        row = report.table.iloc[0]
        assert row["band"] in ("stable", "noise") or row["psi"] > row["noise"]
    assert advised <= 6  # 1% expected of 200 (the scores' one test here)
    shifted = pd.Series(np.random.default_rng(0).normal(loc=2.0, size=60))
    report = drift_report(ref, pd.DataFrame(index=range(60)), {"escalation_30d": shifted}, [], p)
    assert report.retrain and report.table.iloc[0]["band"] == "major"


def test_too_few_accounts_are_not_judged(params):
    """34 accounts right after training read as major drift (PSI over a few dozen values swings
    with the sample): below daily.drift.min_accounts nothing is judged and no retraining advised."""
    p = params.daily.drift
    assert p.min_accounts == 200
    ref = {
        "features": {"x": {"kind": "float", "edges": [0.5], "shares": [0.5, 0.5, 0.0]}},
        "scores": {"escalation_30d": {"kind": "float", "edges": [0.5], "shares": [0.5, 0.5, 0.0]}},
    }

    def shifted(n: int):
        x = pd.DataFrame({"x": [1.0] * n})
        return drift_report(ref, x, {"escalation_30d": pd.Series([0.9] * n)}, ["x"], p)

    few = shifted(p.min_accounts - 1)
    assert not few.judged and not few.retrain and few.why == ()
    assert few.accounts == p.min_accounts - 1 and set(few.table["band"]) == {"unjudged"}
    assert few.table["psi"].min() > p.retrain_psi  # still measured, shown for information
    enough = shifted(p.min_accounts)
    assert enough.judged and enough.retrain and set(enough.table["band"]) == {"major"}
