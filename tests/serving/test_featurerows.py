"""Precomputed feature rows and their facts, checked before the model and the ladder see them."""

from __future__ import annotations

import pandas as pd
import pytest

from features.spec import FeatureSpec, number
from serving.featurerows import feature_frame
from serving.intake import RequestError
from serving.schemas import ScoreFeaturesRequest

SPEC = FeatureSpec((number("tickets_30d", "tickets", "tickets", "d", "{value}", "{value}"),))
FACTS = {
    "arr": 1000.0,
    "tier": "business",
    "seats": 10,
    "days_to_renewal": 90,
    "open_p1": 1,
    "open_p2": 0,
    "open_p1_past_sla": 1,
    "open_p2_past_sla": 0,
    "language": "en",
}
DAY = pd.Timestamp("2025-06-01", tz="UTC")


def _request(**facts: int) -> ScoreFeaturesRequest:
    row = {"account_id": "A", "features": {"tickets_30d": 2}, "facts": FACTS | facts}
    return ScoreFeaturesRequest.model_validate({"rows": [row]})


@pytest.mark.parametrize("p", ["p1", "p2"])
def test_more_open_tickets_past_their_sla_than_open_ones_is_refused(params, p):
    """The ladder's rule on open P1s past their SLA fired for an account told it had none open."""
    with pytest.raises(RequestError) as exc:
        feature_frame(
            _request(**{f"open_{p}": 0, f"open_{p}_past_sla": 2}), SPEC, DAY, params.contract
        )
    assert exc.value.status == 422
    (detail,) = exc.value.detail
    assert (detail.loc, detail.type) == (["rows", 0, "facts", f"open_{p}_past_sla"], "range")


def test_consistent_facts_pass(params):
    frame, facts = feature_frame(_request(), SPEC, DAY, params.contract)
    assert frame["tickets_30d"].tolist() == [2.0] and facts["A"].open_p1_past_sla == 1


def test_an_unknown_feature_name_is_quoted_cut_short(params):
    """A client's megabyte-long key came back whole in the 422's loc."""
    row = {"account_id": "A", "features": {"tickets_30d": 2, "x" * 100_000: 1}, "facts": FACTS}
    req = ScoreFeaturesRequest.model_validate({"rows": [row]})
    with pytest.raises(RequestError) as exc:
        feature_frame(req, SPEC, DAY, params.contract)
    (detail,) = exc.value.detail
    assert detail.type == "unknown_feature"
    assert detail.loc == ["rows", 0, "features", "x" * 128 + "…"]


def test_feature_rows_wrong_in_every_name_are_counted_and_their_first_errors_listed(params):
    """Rows of another feature set: a detail each for 1,000 rows of 1,000 unknown names took
    35 s (past service.timeout_seconds) and made a 119 MB answer."""
    from serving.intake import MAX_DETAILS

    rows = [
        {"account_id": f"A{i}", "features": {f"f{j}": 1 for j in range(100)}, "facts": FACTS}
        for i in range(20)
    ]  # 100 unknown names and the missing tickets_30d: 101 errors a row
    req = ScoreFeaturesRequest.model_validate({"rows": rows})
    with pytest.raises(RequestError) as exc:
        feature_frame(req, SPEC, DAY, params.contract)
    assert len(exc.value.detail) == MAX_DETAILS
    assert exc.value.detail[0].loc == ["rows", 0, "features", "f0"]
    assert exc.value.message == (
        f"2020 field(s) do not match the model's feature spec (the first {MAX_DETAILS} listed)"
    )
