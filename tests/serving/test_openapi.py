"""The API's docs page and OpenAPI document send none of their visitors to outside hosts."""

from __future__ import annotations

import re

import anyio

from serving.guard import DOCS_SCRIPT_PATH, Guard
from serving.openapi import enrich

# the head of what BentoML 1.4 writes into info.description (its README, with badges)
BENTOML_INFO = {
    "title": "escalation_risk",
    "version": "0.1.0",
    "description": "# escalation_risk:dev\n\n[![pypi_status](https://img.shields.io/badge/"
    "BentoML-1.4.39-informational)](https://pypi.org/project/BentoML)\n\nThis is a Machine "
    "Learning Service created with BentoML.\n",
}


def _get(path: str) -> tuple[int, dict[bytes, bytes], bytes]:
    """GET `path` through the Guard, without a token (the docs are open)."""
    sent: list[dict] = []

    async def app(scope, receive, send):  # BentoML behind the Guard: not reached
        raise AssertionError(scope["path"])

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": []}
    anyio.run(Guard(app, ["tok"], max_body_bytes=1000), scope, receive, send)
    start, body = sent
    return start["status"], dict(start["headers"]), body["body"]


def test_the_openapi_description_is_the_services_own_without_outside_images():
    """BentoML's README was the document's description: the page showed "escalation_risk:dev",
    BentoML's Slack and Twitter, and loaded badges from img.shields.io, badgen.net and
    readthedocs.org in every visitor's browser."""
    spec = enrich({"openapi": "3.0.2", "info": dict(BENTOML_INFO), "paths": {}}, [])
    text = spec["info"]["description"]
    assert "BentoML" not in text and "http" not in text and "![" not in text
    assert text.startswith("# escalation-risk API") and "/score" in text


def test_the_docs_page_asks_no_outside_validator_and_may_load_nothing_from_outside():
    """Swagger UI's default validator put an image from validator.swagger.io, carrying the
    service's own address, on the page of any host but localhost."""
    status, headers, page = _get("/")
    assert status == 200 and f'src=".{DOCS_SCRIPT_PATH}"'.encode() in page
    assert b"swagger-initializer.js" not in page  # BentoML's, with the validator
    status, headers, script = _get(DOCS_SCRIPT_PATH)
    assert status == 200 and headers[b"content-type"].startswith(b"text/javascript")
    assert b"validatorUrl: null" in script and b"./docs.json" in script
    for path in ("/", DOCS_SCRIPT_PATH):
        policy = _get(path)[1][b"content-security-policy"].decode()
        assert "img-src 'self' data:;" in policy and "default-src 'self';" in policy
        assert not re.search(r"https?:|\*", policy)


def test_every_error_status_of_docs_api_md_is_declared_on_the_scoring_endpoints():
    """docs/api.md answers 504 in the error shape; a client generated from the document did
    not know it (it declared 400 to 503 only)."""
    operation = {"responses": {"200": {}}, "requestBody": {"content": {}}}
    spec = {"info": {}, "paths": {"/score": {"post": operation}}}
    responses = enrich(spec, ["/score"])["paths"]["/score"]["post"]["responses"]
    ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for status in ("400", "401", "404", "413", "415", "422", "500", "503", "504"):
        assert responses[status]["content"]["application/json"]["schema"] == ref, status
