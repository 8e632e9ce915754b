"""The promotion gate: not worse -> promote, worse -> keep, force -> promote with the reason."""

from __future__ import annotations

import pytest

from training.promote import decide


@pytest.mark.parametrize(
    "metric,challenger,champion,promote",
    [
        ("pr_auc", {"e": 0.40, "c": 0.30}, {"e": 0.40, "c": 0.30}, True),  # equal
        ("pr_auc", {"e": 0.398, "c": 0.31}, {"e": 0.40, "c": 0.30}, True),  # within tolerance
        ("pr_auc", {"e": 0.38, "c": 0.35}, {"e": 0.40, "c": 0.30}, False),  # one head worse
        ("brier", {"e": 0.050, "c": 0.02}, {"e": 0.060, "c": 0.02}, True),  # lower is better
        ("brier", {"e": 0.070, "c": 0.02}, {"e": 0.060, "c": 0.02}, False),
        ("pr_auc", {"e": float("nan"), "c": 0.3}, {"e": 0.4, "c": 0.3}, False),  # NaN is worse
        # a champion without a score for a head (it had no such head) is beaten there
        ("pr_auc", {"e": 0.40, "c": 0.94}, {"e": 0.40, "c": float("nan")}, True),
        ("pr_auc", {"e": 0.30, "c": 0.94}, {"e": 0.40, "c": float("nan")}, False),
    ],
)
def test_gate(params, metric, challenger, champion, promote):
    p = params.promotion.model_copy(update={"primary_metric": metric, "tolerance": 0.005})
    d = decide(challenger, champion, p)
    assert d.promote is promote
    if not promote:
        assert "worse" in d.reason


def test_first_model_and_force(params):
    assert decide({"e": 0.1}, None, params.promotion).promote
    d = decide({"e": 0.1}, {"e": 0.9}, params.promotion, force=True, force_reason="hotfix")
    assert d.promote and "hotfix" in d.reason
