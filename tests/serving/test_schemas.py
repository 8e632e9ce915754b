"""The published request/response schemas do not change by accident; strictness holds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from serving.schemas import (
    MAX_ACCOUNTS,
    AccountRequest,
    ScoreFeaturesRequest,
    ScoreRequest,
    json_schemas,
)

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "serving" / "schema"


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_committed_schema_matches_code(name):
    """To change the API on purpose: ESCRISK_UPDATE_SCHEMAS=1 pytest tests/serving/test_schemas.py."""
    current = json_schemas()[name]
    path = SCHEMA_DIR / f"{name}.json"
    if os.environ.get("ESCRISK_UPDATE_SCHEMAS"):
        path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    committed = json.loads(path.read_text(encoding="utf-8"))
    assert committed == current, (
        f"{name} changed: review, then regenerate serving/schema/ (see docstring)"
    )


def test_every_schema_is_committed():
    assert {p.stem for p in SCHEMA_DIR.glob("*.json")} == set(json_schemas())


ACCOUNT = {
    "account_id": "A",
    "name": "N",
    "tier": "business",
    "arr": 1,
    "seats": 1,
    "contract_start": "2023-01-01",
    "renewal_date": "2025-01-01",
    "csm_owner": "C",
    "region": "R",
    "language": "en",
}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"accounts": []}, ("accounts",)),
        ({"accounts": [{"account": ACCOUNT, "tickets": []}] * (MAX_ACCOUNTS + 1)}, ("accounts",)),
        (
            {"accounts": [{"account": {**ACCOUNT, "arr": "1"}, "tickets": []}]},
            ("accounts", 0, "account", "arr"),
        ),
        (
            {"accounts": [{"account": {**ACCOUNT, "seats": True}, "tickets": []}]},
            ("accounts", 0, "account", "seats"),
        ),
        ({"accounts": [{"account": ACCOUNT}]}, ("accounts", 0, "tickets")),
        ({"accounts": [{"account": ACCOUNT, "tickets": []}], "as_of": "2024-13-01"}, ("as_of",)),
        ({"accounts": [{"account": ACCOUNT, "tickets": []}], "extra": 1}, ("extra",)),
    ],
)
def test_strict_request_errors_name_the_field(body, loc):
    with pytest.raises(ValidationError) as exc:
        ScoreRequest.model_validate_json(json.dumps(body))
    assert loc in [e["loc"] for e in exc.value.errors()]


def test_nan_is_refused_and_input_hidden():
    text = json.dumps({"accounts": [{"account": ACCOUNT, "tickets": []}]}).replace(
        '"arr": 1', '"arr": NaN'
    )
    with pytest.raises(ValidationError) as exc:
        ScoreRequest.model_validate_json(text)
    assert exc.value.errors()[0]["loc"] == ("accounts", 0, "account", "arr")
    assert "input_value" not in str(exc.value)


def test_other_requests_are_strict():
    with pytest.raises(ValidationError):
        AccountRequest.model_validate_json('{"account_id": 5}')
    with pytest.raises(ValidationError):
        ScoreFeaturesRequest.model_validate_json('{"rows": []}')


def test_published_length_limits_are_the_data_contracts():
    """A client built from the schema must not meet a later 422 for a length the schema allowed."""
    from features.contract import ACCOUNTS

    limits = {c.name: c.max_length for c in ACCOUNTS.columns if c.max_length is not None}
    account = json_schemas()["ScoreRequest"]["$defs"]["Account"]["properties"]
    for column, limit in limits.items():
        assert account[column]["maxLength"] == limit, column
    assert json_schemas()["AccountRequest"]["properties"]["account_id"]["maxLength"] == 128
    facts = json_schemas()["ScoreFeaturesRequest"]["$defs"]["Facts"]["properties"]
    assert facts["csm_owner"]["anyOf"][0]["maxLength"] == limits["csm_owner"]
    with pytest.raises(ValidationError):
        AccountRequest(account_id="a" * (limits["account_id"] + 1))


@pytest.mark.parametrize("sent", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00"])
@pytest.mark.parametrize("field", ["contract_start", "renewal_date", "notice_at", "as_of"])
def test_a_date_whose_utc_day_no_date_holds_is_a_validation_error(field, sent):
    """Its UTC day lies in year 0 or 10000: the conversion overflowed, and the service answered
    a 500 (BentoML's shape, with a traceback in the log) instead of a 400 naming the field."""
    body = {"accounts": [{"account": {**ACCOUNT, field: sent}, "tickets": []}]}
    if field == "as_of":
        body = {"accounts": [{"account": ACCOUNT, "tickets": []}], "as_of": sent}
    with pytest.raises(ValidationError) as exc:
        ScoreRequest.model_validate_json(json.dumps(body))
    (error,) = exc.value.errors()
    assert error["type"] == "date_range" and error["loc"][-1] == field
    usage = {"accounts": [{"account": ACCOUNT, "tickets": [], "usage": [
        {"date": sent, "active_users": 1, "events": 1}]}]}  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        ScoreRequest.model_validate_json(json.dumps(usage))
    assert exc.value.errors()[0]["loc"] == ("accounts", 0, "usage", 0, "date")
    with pytest.raises(ValidationError):
        ScoreFeaturesRequest.model_validate_json(json.dumps({"rows": [], "as_of": sent}))
