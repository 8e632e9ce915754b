"""The service's OpenAPI document (`/docs.json`) as an integrator needs it.

BentoML generates the document from the endpoints' pydantic models, but knows nothing of the
bearer tokens our Guard demands nor of the error shape every refusal has, so a client generated
from it would send no token and could not read a single error. `enrich` adds both; the Guard
applies it to BentoML's answer. Pure: a document in, a document out.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from serving.schemas import AccountRequest, ErrorResponse, ScoreFeaturesRequest, ScoreRequest

SCHEME = "bearerAuth"

# status -> when (every secured endpoint may answer these; /account also 404 and 503)
ERRORS = {
    "400": "the request's shape: malformed JSON, wrong types, missing or unknown fields",
    "401": "missing or invalid bearer token",
    "404": "no such path",
    "413": "request body larger than service.max_request_mb",
    "503": "too many large bodies being handled at once: retry (Retry-After)",
    "429": "too many wrong bearer tokens from this client address: retry after Retry-After seconds",
    "415": "no content type or not application/json, a charset other than UTF-8, or a compressed body",
    "422": "the data contract or the model refuses the data (the detail names each field)",
    "500": "an error of the service itself (logged without request data)",
    "504": "not begun to answer within service.timeout_seconds (a body still being sent, too)",
}
# the request bodies as published (serving/schema/): BentoML's own rendering drops a top-level
# field's `null` (as_of: "string" only, though null is accepted and means today)
REQUESTS: dict[str, type[BaseModel]] = {
    "/score": ScoreRequest,
    "/score_features": ScoreFeaturesRequest,
    "/account": AccountRequest,
}
ACCOUNT_ERRORS = {
    "404": "the daily run never scored this account",
    "503": "the daily run's database cannot be used (none at the configured path, or down), or "
    "too many large bodies at once",
}


DESCRIPTION = (  # Markdown; the docs page shows its heading as the title
    "# escalation-risk API\n\n"
    "Escalation and churn risk of B2B SaaS accounts for the helpdesk: `POST /score` scores "
    "accounts from their records and history, `POST /score_features` from precomputed feature "
    "rows, `POST /account` reads the latest score of the daily run. Each answers the escalation "
    "ladder's level, who acts (owner, owners, team, priority) and the reasons. Send "
    '`Authorization: Bearer <token>`; every refusal is JSON `{"error", "detail"}`. '
    "Described in docs/api.md."
)


def enrich(spec: dict[str, Any], secured: Iterable[str]) -> dict[str, Any]:
    """The document with the bearer scheme required on the `secured` paths, their bodies
    required and their error responses in the service's `{"error", "detail"}` shape. Declared
    OpenAPI 3.1: the schemas are pydantic's JSON Schema 2020-12 (`"type": "null"`, numeric
    `exclusiveMinimum`), which 3.1 takes as they are and the 3.0 BentoML declares does not."""
    out = copy.deepcopy(spec)
    out["openapi"] = "3.1.0"
    components = out.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "one of the tokens in ESCRISK_API_TOKENS or ESCRISK_API_TOKENS_FILE",
    }
    schemas = components.setdefault("schemas", {})
    _publish(schemas, ErrorResponse)
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    for path in secured:
        for operation in (out.get("paths") or {}).get(path, {}).values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            operation["security"] = [{SCHEME: []}]
            if isinstance(operation.get("requestBody"), dict):
                operation["requestBody"]["required"] = True
                if path in REQUESTS:
                    ref = {"$ref": f"#/components/schemas/{_publish(schemas, REQUESTS[path])}"}
                    operation["requestBody"]["content"] = {"application/json": {"schema": ref}}
            errors = ERRORS | (ACCOUNT_ERRORS if path == "/account" else {})
            for status, when in errors.items():
                operation["responses"][status] = {"description": when, "content": body}
    info = out.setdefault("info", {})
    # BentoML's is its own README: badges from four outside hosts (the docs page loaded them in
    # every visitor's browser) and links to its Slack and Twitter
    info["description"] = DESCRIPTION
    info["contact"] = {"name": "escalation-risk"}
    info["version"] = _version()
    return out


def _publish(schemas: dict[str, Any], model: type[BaseModel]) -> str:
    """Put the model's JSON schema (and the ones it refers to) among the components."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return model.__name__


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("escalation-risk")
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "unknown"
