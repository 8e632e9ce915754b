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


def test_promote_warns_of_a_source_without_first_responses(params):
    """A version that splits on first-response SLA features, promoted on a source whose tickets
    have no first_response_at at all (as the empty CSAT column is told)."""
    import dataclasses
    from pathlib import Path
    from types import SimpleNamespace

    import pandas as pd

    from features.build import full_spec
    from features.sources import load_history
    from training.promotion_job import missing_families

    source = Path(__file__).parent.parent / "data" / "handmade"
    history = load_history(str(source), params.contract, pd.Timestamp("2026-12-07", tz="UTC"))
    spec = full_spec(params.features)
    used = "sla_first_response_breaches_30d"

    class Booster:
        def feature_name(self):
            return spec.names

        def feature_importance(self, kind):
            return [int(n == used) for n in spec.names]

    bundle = SimpleNamespace(
        spec=spec,
        heads={"escalation_30d": SimpleNamespace(booster=Booster())},
        feature_params=None,
    )
    assert missing_families(bundle, history, params) == []
    empty = dataclasses.replace(history, tickets=history.tickets.assign(first_response_at=pd.NaT))
    assert missing_families(bundle, empty, params) == [
        "sla.first_response (tickets table has no first_response_at values)"
    ]
    from training.text import shown

    # promote's warning is printed in the team's language, its reason too
    assert [shown(g, "de") for g in missing_families(bundle, empty, params)] == [
        "sla.first_response (Tabelle tickets hat keine Werte in first_response_at)"
    ]
    # a version trained with a custom field params.yaml no longer declares still reads it: a
    # source without the column is told for it (it was judged by today's params, not its own)
    from features.params import CustomField

    trained = params.features.model_copy(
        update={"custom_fields": {"nps": CustomField(kind="float")}}
    )
    spec = full_spec(trained)
    used = "nps"
    bundle = SimpleNamespace(
        spec=spec,
        heads={"escalation_30d": SimpleNamespace(booster=Booster())},
        feature_params=trained,
    )
    assert [g.split(" ")[0] for g in missing_families(bundle, history, params)] == ["custom.nps"]
