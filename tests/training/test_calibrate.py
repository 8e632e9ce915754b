"""Calibration maps raw scores to honest probabilities and survives a JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from training.calibrate import Calibrator, fit_calibrator


def _scores(n, seed):
    rng = np.random.default_rng(seed)
    raw = rng.normal(0, 2, n)
    true_p = 1 / (1 + np.exp(-(0.5 * raw - 2)))  # the raw score is overconfident and shifted
    y = (rng.random(n) < true_p).astype(float)
    return raw, y, true_p


@pytest.mark.parametrize("min_pos,kind", [(10, "isotonic"), (10**9, "sigmoid")])
def test_calibrated_probabilities_match_observed_rates(min_pos, kind):
    raw, y, _ = _scores(40_000, 0)
    cal = fit_calibrator(raw, y, min_pos)
    assert cal.kind == kind
    raw2, y2, true2 = _scores(40_000, 1)
    p = cal(raw2)
    assert abs(p.mean() - y2.mean()) < 0.01
    assert np.mean(np.abs(p - true2)) < 0.03
    assert np.all(np.diff(cal(np.sort(raw2))) >= -1e-12)  # monotone


@pytest.mark.parametrize("min_pos", [10, 10**9])
def test_json_round_trip(min_pos):
    raw, y, _ = _scores(5000, 2)
    cal = fit_calibrator(raw, y, min_pos)
    back = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    np.testing.assert_array_equal(back(raw), cal(raw))


def test_bad_json_is_rejected():
    with pytest.raises(ValueError):
        Calibrator.from_dict({"kind": "spline"})
    with pytest.raises(ValueError):
        Calibrator.from_dict({"kind": "isotonic", "x": [2, 1], "y": [0, 1]})


def test_a_sigmoid_never_turns_the_ranking_upside_down():
    """With one validation positive among low scores, Platt's fit falls with the score: every
    account's order would flip. The calibrator stays rising (flat at the rate), keeping the order."""
    from training.calibrate import is_flat

    raw = np.random.default_rng(0).normal(0, 1, 300)
    y = np.zeros(300)
    y[np.argsort(raw)[100]] = 1.0  # the one positive scored below the median
    cal = fit_calibrator(raw, y, 200)
    p = cal(np.sort(raw))
    assert np.all(np.diff(p) > 0)  # the model's order, strictly
    assert p == pytest.approx(1 / 300, rel=1e-3)
    assert is_flat(cal) and not is_flat(fit_calibrator(*_scores(5000, 2)[:2], 10**9))
    back = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    np.testing.assert_array_equal(back(raw), cal(raw))
