"""The scoring service over real HTTP: endpoints, authentication and every class of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serving.store import Store

pytestmark = pytest.mark.slow


def test_health_endpoints_are_open(client):
    for path in ("/healthz", "/livez", "/readyz"):
        assert client.get(path).status_code == 200
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and "bentoml" in metrics.text
    assert "/score" in client.get("/docs.json").json()["paths"]


def test_the_api_docs_page_loads_no_third_party_script(client):
    """BentoML's page at "/" loads Google Tag Manager: a service holding customer data pulls no
    outside script into its users' browsers. The Swagger UI comes from the service's own files."""
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "googletagmanager" not in page.text and "swagger-ui-bundle.js" in page.text
    assert "https://" not in page.text and "http://" not in page.text
    for src in ("./static_content/swagger-ui-bundle.js", "./static_content/escrisk-docs.js"):
        assert client.get(src.removeprefix(".")).status_code == 200


def test_favicon_ico_is_an_empty_answer_without_a_token(client):
    """Browsers ask for it on any page they open (a 401 is an error in their console)."""
    r = client.get("/favicon.ico")
    assert r.status_code == 204 and r.content == b"", r.text


def test_every_answer_says_nosniff_and_the_api_s_no_store(client, auth):
    """API answers came without X-Content-Type-Options: a browser shown one could sniff a page
    from text it echoes. Every answer says nosniff; a token's answers (customer data, refusals)
    also Cache-Control: no-store."""
    call = {"json": {"account_id": "nobody"}}
    answers = {
        "account": client.post("/account", **call, headers=auth),
        "401": client.post("/account", **call),
        "404": client.get("/no-such-path", headers=auth),
        "ui": client.get("/ui/"),
    }
    for what, r in answers.items():
        assert r.headers.get("x-content-type-options") == "nosniff", what
        assert r.headers.get("cache-control") == "no-store", what
        assert "frame-ancestors 'none'" in r.headers.get("content-security-policy", ""), what
    for path in ("/healthz", "/docs.json", "/"):
        assert client.get(path).headers.get("x-content-type-options") == "nosniff", path
    page = client.get("/ui/login")
    assert page.headers.get_list("x-content-type-options") == ["nosniff"]  # said once
    assert len(page.headers.get_list("content-security-policy")) == 1  # the page's own
    assert "script-src" in page.headers["content-security-policy"]


def test_the_csm_page_keeps_a_language_asked_for_in_the_address(server):
    import httpx

    with httpx.Client(base_url=server["url"], timeout=60) as c:
        r = c.get("/ui/", params={"lang": "de"})
        assert r.status_code == 303 and c.cookies.get("escrisk_ui_lang", path="/ui/") == "de"
        assert "Anmelden" in c.get(r.headers["location"]).text


def test_the_csm_page_behind_a_proxy_under_a_path_prefix(server, auth):
    """nginx `location /risk/ { proxy_pass http://svc/; proxy_set_header X-Forwarded-Prefix
    /risk; }`: links, redirects and the cookie named /ui/..., an address the proxy does not
    serve, and /ui sent the browser to this host's own http://127.0.0.1:PORT/ui/."""
    import httpx

    token = auth["Authorization"].removeprefix("Bearer ")
    target = "/risk/ui/account/ACC-001"
    headers = {"X-Forwarded-Prefix": "/risk/", "X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=server["url"], headers=headers, timeout=60) as c:
        r = c.get("/ui")
        assert r.status_code == 307 and r.headers["location"] == "/risk/ui/"
        r = c.get("/ui/account/ACC-001")
        assert r.status_code == 303
        assert r.headers["location"] == "/risk/ui/login?next=%2Frisk%2Fui%2Faccount%2FACC-001"
        page = c.get("/ui/login", params={"next": target}).text
        assert 'action="/risk/ui/login"' in page and f'value="{target}"' in page
        r = c.post("/ui/login", data={"token": token, "name": "Ops", "next": target})
        assert r.status_code == 303 and r.headers["location"] == target
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("__Secure-escrisk_ui=") and "Secure" in cookie
        assert "Path=/risk/ui/" in cookie
    # a prefix that is not a plain path (another site) leads nowhere
    r = httpx.get(f"{server['url']}/ui?lang=de", headers={"X-Forwarded-Prefix": "//evil.example"})
    assert r.status_code == 307 and r.headers["location"] == "/ui/?lang=de"


def test_failed_sign_ins_are_counted_per_client_behind_a_proxy(server, auth, params):
    """A proxy on this host (FORWARDED_ALLOW_IPS' default) names each client in X-Forwarded-For:
    one client's wrong tokens make it wait, not the other clients of the same proxy (nor, at
    the guesser's own address, the holder of a long token: docs/ui.md)."""
    import httpx

    short = "file-token-abcdef"  # the token file's, 17 characters
    token = auth["Authorization"].removeprefix("Bearer ")  # 21 characters: long
    guesser, colleague = ({"X-Forwarded-For": a} for a in ("192.0.2.10", "192.0.2.11"))
    with httpx.Client(base_url=server["url"], timeout=60) as c:
        for _ in range(params.ui.login_free_failures):
            r = c.post("/ui/login", data={"token": "guess", "name": "X"}, headers=guesser)
            assert r.status_code == 401
        r = c.post("/ui/login", data={"token": short, "name": "X"}, headers=guesser)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        r = c.post("/ui/login", data={"token": token, "name": "X"}, headers=guesser)
        assert r.status_code == 303  # a long token is checked during the wait
        r = c.post("/ui/login", data={"token": short, "name": "Kim"}, headers=colleague)
        assert r.status_code == 303 and "escrisk_ui=" in r.headers["set-cookie"]
    # in the state database: with two workers a guesser's tries alternated 401 and 429, each
    # worker counting for itself
    store = Store(server["database_url"])
    assert store.auth_failures("ui", "192.0.2.10")[0] == params.ui.login_free_failures
    store.close()


def test_wrong_bearer_tokens_make_their_client_address_wait(client, auth, params, server):
    """The API answered a wrong token at once, however many came: a short token could be
    guessed at full speed. After service.auth_free_failures wrong ones an address waits (429,
    Retry-After), its short tokens not looked at, the right one neither (the answer would tell a
    guess apart); a long token still passes: a helpdesk behind the guesser's NAT goes on."""
    guesser = {"X-Forwarded-For": "192.0.2.20"}
    call = {"json": {"account_id": "nobody"}}
    for i in range(params.service.auth_free_failures):
        r = client.post("/account", **call, headers={**guesser, "Authorization": f"Bearer g{i}"})
        assert r.status_code == 401, (i, r.text)
    r = client.post("/account", **call, headers={**guesser, "Authorization": "Bearer guess"})
    assert r.status_code == 429 and r.headers["retry-after"] == "1", r.text
    (detail,) = r.json()["detail"]
    assert detail["type"] == "too_many_failures" and detail["loc"] == ["header", "authorization"]
    assert "try again in 1 s" in r.json()["error"]
    short = {**guesser, "Authorization": "Bearer file-token-abcdef"}  # 17 characters, right
    assert client.post("/account", **call, headers=short).status_code == 429
    assert client.post("/account", **call, headers=guesser).status_code == 401  # no token: no guess
    long = {**guesser, **auth}  # 21 characters
    assert (
        client.post("/account", **call, headers=long).status_code == 404
    )  # let in: no such account
    other = {**short, "X-Forwarded-For": "192.0.2.21"}
    assert client.post("/account", **call, headers=other).status_code == 404
    # counted in the state database: every worker of the service sees the same count
    store = Store(server["database_url"])
    assert store.auth_failures("api", "192.0.2.20")[0] == params.service.auth_free_failures
    store.close()


def test_an_address_the_csm_page_lacks_is_its_page_with_the_way_back(client):
    """BentoML mounts the page for the addresses its routes match: it answered /ui/nothing
    itself, in plain text ("Not Found"), and a form's address opened as a page likewise."""
    for method, path, status in (
        ("GET", "/ui/nothing", 404),
        ("POST", "/ui/nothing?lang=de", 404),
        ("GET", "/ui/ack", 405),
    ):
        r = client.request(method, path)
        assert r.status_code == status
        assert r.headers["content-type"].startswith("text/html"), r.text
        assert 'href="/ui/"' in r.text  # the way back to the list
    assert "Diese Seite gibt es nicht." in client.post("/ui/nothing?lang=de").text


def test_the_openapi_document_declares_the_token_and_the_error_shape(client):
    """A client generated from /docs.json sends the bearer token and can read every refusal."""
    spec = client.get("/docs.json").json()
    assert spec["openapi"] == "3.1.0"  # pydantic's schemas are JSON Schema 2020-12
    assert spec["info"]["version"] not in ("", "None")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "one of the tokens in ESCRISK_API_TOKENS or ESCRISK_API_TOKENS_FILE",
    }
    error = spec["components"]["schemas"]["ErrorResponse"]
    assert {"error", "detail"} <= set(error["properties"])
    assert "ErrorDetail" in spec["components"]["schemas"]
    for path in ("/score", "/score_features", "/account"):
        op = spec["paths"][path]["post"]
        assert op["security"] == [{"bearerAuth": []}]
        assert op["requestBody"]["required"] is True
        for status in ("400", "401", "404", "413", "415", "422", "500", "504"):
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
    assert {"404", "503"} <= set(spec["paths"]["/account"]["post"]["responses"])
    assert "security" not in spec["paths"]["/healthz"]["get"]
    # the request bodies as published: as_of may be null (today), as the service accepts
    body = spec["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"]
    request = spec["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[1]]
    assert {"type": "null"} in request["properties"]["as_of"]["anyOf"]
    assert request["properties"]["accounts"]["items"]["$ref"].startswith("#/components/schemas/")


def test_as_of_with_a_time_and_offset_is_its_utc_day(client, auth, body_for):
    """BentoML runs a top-level field's validators twice: the day must survive both."""
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    before = (today - dt.timedelta(days=1)).isoformat()
    for sent, day in [
        (f"{today}T00:00:00Z", today.isoformat()),
        (f"{today}T00:30:00+02:00", before),
    ]:
        body = {**body_for(["ACC-001"]), "as_of": sent}
        r = client.post("/score", json=body, headers=auth)
        assert r.status_code in (200, 422), r.text  # 422: the account not active on that day
        if r.status_code == 200:
            assert r.json()["as_of"] == day
        else:
            assert r.json()["detail"][0]["loc"][0] != "as_of", r.text


def test_times_in_the_forms_a_file_takes_score_the_same(client, auth, body_for):
    """Blanks around, a lowercase t, a decimal comma, a blank before an hours-only offset: a file
    takes them (features.contract.iso_time_text), so the API does, as the same instants."""
    import copy

    import pandas as pd

    body = body_for(["ACC-007"])
    sent = copy.deepcopy(body)
    for ticket in sent["accounts"][0]["tickets"]:
        t = pd.Timestamp(ticket["created_at"]).tz_convert("UTC")
        ticket["created_at"] = f" {t.strftime('%Y-%m-%dt%H:%M:%S,%f')} +00 "
    plain = client.post("/score", json=body, headers=auth)
    assert plain.status_code == 200, plain.text
    r = client.post("/score", json=sent, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["scores"] == plain.json()["scores"]


def test_score_one_account(client, auth, body_for):
    r = client.post("/score", json=body_for(["ACC-001"]), headers=auth)
    assert r.status_code == 200, r.text
    out = r.json()
    s = out["scores"][0]
    assert s["account_id"] == "ACC-001"
    assert 0 < s["escalation_risk"] < 1 and 0 < s["churn_risk"] < 1
    assert s["level"] and s["model_version"].startswith("escalation-risk/")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic dGVzdA=="},
        {"Authorization": "Bearer"},
    ],
)
@pytest.mark.parametrize("path", ["/score", "/score_features", "/account"])
def test_scoring_endpoints_need_a_token(client, headers, path):
    r = client.post(path, json={"account_id": "x"}, headers=headers)
    assert r.status_code == 401
    assert r.json()["detail"][0]["loc"] == ["header", "authorization"]


def test_health_checks_answer_with_a_trailing_slash_and_no_token(client):
    for path in ("/healthz/", "/readyz/"):
        r = client.get(path, follow_redirects=True)
        assert r.status_code == 200, (path, r.status_code, r.text)


def test_a_header_that_decides_the_request_sent_twice_is_400_naming_it(client, auth):
    headers = [("Authorization", "Bearer wrong"), *auth.items()]
    r = client.post("/account", json={"account_id": "nobody"}, headers=headers)
    assert r.status_code == 400 and r.json()["detail"][0]["loc"] == ["header", "authorization"]
    headers = [*auth.items(), ("Content-Type", "application/json"), ("Content-Type", "text/plain")]
    r = client.post("/account", content=b'{"account_id": "nobody"}', headers=headers)
    assert r.status_code == 400 and r.json()["detail"][0]["loc"] == ["header", "content-type"]


def test_a_body_with_a_byte_order_mark_is_read_as_json(client, auth, body_for):
    body = b"\xef\xbb\xbf" + json.dumps(body_for(["ACC-001"])).encode()
    headers = {**auth, "Content-Type": "application/json"}
    r = client.post("/score", content=body, headers=headers)
    assert r.status_code == 200, r.text
    r = client.post("/score", content=iter([body[:2], body[2:]]), headers=headers)  # chunked
    assert r.status_code == 200, r.text


def test_token_from_file_is_accepted(client):
    r = client.post(
        "/account",
        json={"account_id": "nobody"},
        headers={"Authorization": "Bearer file-token-abcdef"},
    )
    assert r.status_code == 404


def test_a_token_added_to_or_removed_from_the_file_counts_without_a_restart(client, server):
    import time

    path = server["token_file"]
    before = path.read_text(encoding="utf-8")
    # a client address of its own: its wrong tokens are no others' to wait for
    headers = {"Authorization": "Bearer rotated-1", "X-Forwarded-For": "192.0.2.30"}
    call = {"json": {"account_id": "nobody"}, "headers": headers}
    try:
        assert client.post("/account", **call).status_code == 401
        path.write_text(before + "rotated-1\n", encoding="utf-8")
        deadline = time.monotonic() + 10
        while client.post("/account", **call).status_code == 401 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert client.post("/account", **call).status_code == 404  # let in: no such account
    finally:
        path.write_text(before, encoding="utf-8")
    deadline = time.monotonic() + 10
    while client.post("/account", **call).status_code != 401 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert client.post("/account", **call).status_code == 401  # revoked


def test_an_account_id_with_a_control_character_is_refused(client, auth):
    r = client.post("/account", json={"account_id": "A\x00-1"}, headers=auth)
    assert r.status_code == 400 and r.json()["detail"][0]["loc"] == ["account_id"], r.text


def test_unknown_account_is_404_naming_it(client, auth):
    r = client.post("/account", json={"account_id": "ACC-999"}, headers=auth)
    assert r.status_code == 404
    assert "never been scored" in r.json()["error"]
    assert r.json()["detail"][0]["loc"] == ["account_id"]


def test_account_returns_latest_stored_daily_score(client, auth, server):
    import datetime as dt

    from serving.store import Store

    # an account no daily run on the shared server scores (the browser test's run stores later
    # days for the source's accounts)
    store = Store(server["database_url"])
    reason = {
        "head": "escalation",
        "feature": "tickets_30d",
        "family": "tickets",
        "direction": "up",
        "value": 9.0,
        "contribution": 0.1,
        "text": "9 tickets",
    }
    for day, risk in ((dt.date(2024, 5, 1), 0.2), (dt.date(2024, 5, 2), 0.4)):
        store.save_daily_scores(
            [
                {
                    "account_id": "ACC-STORED",
                    "day": day,
                    "escalation_risk": risk,
                    "churn_risk": 0.1,
                    "level": "L1",
                    "reasons": [reason],
                    "model_version": "escalation-risk/1",
                }
            ],
            dt.datetime.now(dt.UTC),
        )
    r = client.post("/account", json={"account_id": "ACC-STORED"}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["escalation_risk"] == 0.4 and r.json()["as_of"] == "2024-05-02"
    assert r.json()["reasons"][0]["feature"] == "tickets_30d"


def test_account_answers_while_a_writer_holds_the_sqlite_database(client, auth, server):
    """`escrisk daily` stores a day in one transaction, holding SQLite's write lock for
    seconds on a large list: /account read under BEGIN IMMEDIATE too, so it waited for the
    writer (up to the timeout, a 504) instead of answering the last committed day at once."""
    import datetime as dt
    import sqlite3
    import time

    import httpx

    from serving.store import Store

    store = Store(server["database_url"])
    row = {"account_id": "ACC-LOCK", "day": dt.date(2024, 5, 3), "escalation_risk": 0.3}
    store.save_daily_scores([{**row, "churn_risk": 0.1, "level": "L1"}], dt.datetime.now(dt.UTC))
    store.close()
    writer = sqlite3.connect(server["database_url"].removeprefix("sqlite:///"), timeout=10)
    writer.isolation_level = None
    writer.execute("BEGIN IMMEDIATE")  # as the daily job's transaction holds it
    try:
        started = time.monotonic()
        r = client.post("/account", json={"account_id": "ACC-LOCK"}, headers=auth, timeout=8)
        took = time.monotonic() - started
    except httpx.TimeoutException:
        took = float("inf")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert took < 4, f"/account waited {took:.1f} s for the writer"
    assert r.status_code == 200 and r.json()["as_of"] == "2024-05-03", r.text


def test_wrong_tokens_are_refused_at_once_while_a_writer_holds_the_database(client, server, params):
    """A wrong token's count is written to the state database: on SQLite it queued behind the
    daily job storing a day, so the 401 hung till the 504 of service.timeout_seconds (and the
    stuck threads held up a right token's large body). Now it answers at once, still counted:
    the address waits after service.auth_free_failures as before."""
    import sqlite3

    import httpx

    guesser = {"X-Forwarded-For": "192.0.2.40"}
    call = {"json": {"account_id": "nobody"}, "timeout": 5}
    writer = sqlite3.connect(server["database_url"].removeprefix("sqlite:///"), timeout=10)
    writer.isolation_level = None
    writer.execute("BEGIN IMMEDIATE")  # as the daily job's transaction holds it
    answers = []
    try:
        for i in range(params.service.auth_free_failures + 1):
            wrong = {**guesser, "Authorization": f"Bearer guess-{i}"}
            answers.append(client.post("/account", **call, headers=wrong).status_code)
    except httpx.TimeoutException:
        answers.append("timeout")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert answers == [401] * params.service.auth_free_failures + [429], answers


def _mutate(body: dict, path: tuple, value) -> dict:
    import copy

    b = copy.deepcopy(body)
    target = b
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return b


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "loc"),
    [
        (("accounts", 0, "account", "arr"), "1000", ["accounts", 0, "account", "arr"]),
        (("accounts", 0, "account", "seats"), 2.5, ["accounts", 0, "account", "seats"]),
        (("accounts", 0, "account", "csm_owner"), _DELETE, ["accounts", 0, "account", "csm_owner"]),
        (
            ("accounts", 0, "tickets", 0, "reopen_count"),
            "1",
            ["accounts", 0, "tickets", 0, "reopen_count"],
        ),
        (
            ("accounts", 0, "tickets", 0, "created_at"),
            "2999-01-01T00:00:00Z",
            ["accounts", 0, "tickets", 0, "created_at"],
        ),
        (
            ("accounts", 0, "tickets", 0, "created_at"),
            "1980-01-01T00:00:00Z",
            ["accounts", 0, "tickets", 0, "created_at"],
        ),
        (
            ("accounts", 0, "tickets", 0, "created_at"),
            "yesterday",
            ["accounts", 0, "tickets", 0, "created_at"],
        ),
        (  # a number as a string: pydantic alone would read it as Unix time
            ("accounts", 0, "tickets", 0, "created_at"),
            "1700000000",
            ["accounts", 0, "tickets", 0, "created_at"],
        ),
        (
            ("accounts", 0, "tickets", 0, "created_at"),
            1700000000,
            ["accounts", 0, "tickets", 0, "created_at"],
        ),
        (
            ("accounts", 0, "tickets", 0, "priority"),
            "P0",
            ["accounts", 0, "tickets", 0, "priority"],
        ),
        (("accounts", 0, "account", "tier"), 3, ["accounts", 0, "account", "tier"]),
        (("accounts", 0, "account", "nickname"), "x", ["accounts", 0, "account", "nickname"]),
        (("accounts", 0, "usage", 0, "events"), -1, ["accounts", 0, "usage", 0, "events"]),
        (("as_of",), "2999-01-01", ["as_of"]),
        (("as_of",), "1759449600", ["as_of"]),  # Unix time as a string: not a date
        (("accounts", 0, "usage", 0, "date"), 20250101, ["accounts", 0, "usage", 0, "date"]),
        (
            ("accounts", 0, "account", "contract_start"),
            "1704067200",
            ["accounts", 0, "account", "contract_start"],
        ),
        (("as_of",), "1989-01-01", ["as_of"]),
        (("accounts",), [], ["accounts"]),
        (
            ("accounts", 0, "account", "account_id"),
            "ACC\x00-001",
            ["accounts", 0, "account", "account_id"],
        ),
    ],
)
def test_bad_input_is_4xx_naming_the_field(client, auth, body_for, path, value, loc):
    r = client.post(
        "/score", json=_mutate(body_for(["ACC-001", "ACC-002"]), path, value), headers=auth
    )
    assert 400 <= r.status_code < 500, r.text
    assert loc in [d["loc"] for d in r.json()["detail"]], r.text
    # the service's error shape: no BentoML class names, details of loc, msg and type only
    assert "IODescriptor" not in r.json()["error"], r.text
    assert all(set(d) == {"loc", "msg", "type"} for d in r.json()["detail"]), r.text


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_are_refused(client, auth, body_for, literal):
    import json

    text = json.dumps(body_for(["ACC-001"])).replace('"arr": ', f'"arr": {literal}, "_x": ', 1)
    r = client.post("/score", content=text, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert ["accounts", 0, "account", "arr"] in [d["loc"] for d in r.json()["detail"]]


def test_duplicate_ticket_ids_are_named(client, auth, body_for):
    b = body_for(["ACC-001"])
    b["accounts"][0]["tickets"][1]["ticket_id"] = b["accounts"][0]["tickets"][0]["ticket_id"]
    r = client.post("/score", json=b, headers=auth)
    assert r.status_code == 422
    assert ["accounts", 0, "tickets", 1, "ticket_id"] in [d["loc"] for d in r.json()["detail"]]


def test_duplicate_account_ids_are_named(client, auth, body_for):
    r = client.post("/score", json=body_for(["ACC-001", "ACC-001"]), headers=auth)
    assert r.status_code == 422
    assert ["accounts", 1, "account", "account_id"] in [d["loc"] for d in r.json()["detail"]]


def test_more_than_1000_accounts_is_refused(client, auth, body_for):
    one = body_for(["ACC-001"])["accounts"][0]
    one = {**one, "tickets": [], "usage": []}
    r = client.post("/score", json={"accounts": [one] * 1001}, headers=auth)
    assert r.status_code == 400
    assert r.json()["detail"][0]["loc"] == ["accounts"]


def test_a_mistake_in_every_history_row_is_named_once_per_list(client, auth, body_for):
    """An export's mistake (a field renamed) is in every row: each row's errors were listed, so
    a few hundred accounts' full histories made hundreds of thousands of them, which held the
    worker's event loop for seconds and came back as tens of megabytes. The first wrong row of
    an account's tickets, usage or escalations names it."""
    body = body_for(["ACC-001", "ACC-002"])
    for acc in body["accounts"]:
        first = acc["tickets"][0]
        acc["tickets"] = [
            {**{k: v for k, v in first.items() if k != "ticket_id"}, "id": f"T{i}"}
            for i in range(2000)
        ]
        acc["usage"] = [{**u, "events": str(u["events"])} for u in acc["usage"]]
    r = client.post("/score", json=body, headers=auth)
    assert r.status_code == 400, r.text
    locs = [d["loc"] for d in r.json()["detail"]]
    assert sorted(map(str, locs)) == sorted(
        str(["accounts", i, *rest])
        for i in (0, 1)
        for rest in (["tickets", 0, "ticket_id"], ["tickets", 0, "id"], ["usage", 0, "events"])
    ), locs[:10]


@pytest.mark.parametrize(
    "content", [b"{", b"[]", b"null", b"", b"\xff\xfe", b'{"accounts": "all"}']
)
def test_malformed_json_is_400(client, auth, content):
    r = client.post("/score", content=content, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert "error" in r.json()


def test_wrong_content_type_is_415(client, auth):
    r = client.post(
        "/score",
        content=b"accounts=1",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415
    r = client.post("/account", content=b'{"account_id": "nobody"}', headers=auth)  # none at all
    assert r.status_code == 415 and r.json()["detail"][0]["loc"] == ["header", "content-type"]


def test_a_charset_other_than_utf8_is_415_naming_it(client, auth, body_for):
    body = json.dumps(body_for(["ACC-001"])).encode()
    for kind in ("application/json; charset=utf-8", 'application/json; charset="UTF-8"'):
        r = client.post("/score", content=body, headers={**auth, "Content-Type": kind})
        assert r.status_code == 200, (kind, r.text)
    r = client.post(
        "/score",
        content=body,
        headers={**auth, "Content-Type": "application/json; charset=latin-1"},
    )
    assert r.status_code == 415 and "latin-1" in r.json()["error"], r.text


def test_a_compressed_body_is_415_naming_the_encoding(client, auth):
    import gzip

    body = gzip.compress(b'{"account_id": "A-1"}')
    headers = {**auth, "Content-Type": "application/json", "Content-Encoding": "gzip"}
    r = client.post("/account", content=body, headers=headers)
    assert r.status_code == 415 and r.json()["detail"][0]["loc"] == ["header", "content-encoding"]


def test_oversized_body_is_413(client, auth, params):
    limit = int(params.service.max_request_mb * 1024 * 1024)
    r = client.post(
        "/score", content=b" " * (limit + 1), headers={**auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["detail"][0]["type"] == "too_large", r.text
    # what to do: a helpdesk's batch of every account's full history reaches the limit
    assert r.json()["error"] == (
        f"request body larger than {limit:,} bytes (service.max_request_mb): "
        "send the accounts as several calls"
    )
    # the CSM page's forms answer a page in the user's language, with the way back
    r = client.post(
        "/ui/login",
        content=b"token=" + b"x" * 100_000,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "de"},
    )
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html"), r.text
    assert "größer als 64 KB" in r.text and "Zurück zur Liste" in r.text


def test_chunked_oversized_body_is_413(client, auth, params):
    limit = int(params.service.max_request_mb * 1024 * 1024)

    def chunks():
        for _ in range(limit // (1 << 20) + 2):
            yield b" " * (1 << 20)

    r = client.post(
        "/score", content=chunks(), headers={**auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["detail"][0]["type"] == "too_large", r.text


def test_unknown_paths_and_methods_answer_in_the_json_error_shape(client, auth):
    r = client.post("/no_such_endpoint", json={}, headers=auth)
    assert r.status_code == 404 and r.json()["detail"][0]["loc"] == ["path"]
    r = client.get("/score", headers=auth)
    assert r.status_code == 405 and r.json()["error"] == "method not allowed"
    assert "POST" in r.headers.get("allow", "")
    r = client.post("/healthz")  # an open path: no token, and still the JSON shape
    assert r.status_code == 405 and r.json()["detail"][0]["loc"] == ["method"], r.text


def test_made_up_paths_share_one_metrics_series(client, auth):
    """Any client could otherwise add a Prometheus series per path it makes up."""
    for i in range(25):
        assert client.get(f"/made-up-{i}-xyz").status_code in (401, 404)
        assert client.post(f"/made-up-{i}-xyz", json={}, headers=auth).status_code == 404
    client.get("/ui/account/made-up-xyz")
    metrics = client.get("/metrics").text
    assert "made-up" not in metrics
    assert 'endpoint="other"' in metrics and 'endpoint="/ui"' in metrics
    assert 'endpoint="/score"' in metrics  # the service's routes keep their own series


def test_service_survives_bad_input(client, auth, body_for):
    r = client.post("/score", json=body_for(["ACC-003"]), headers=auth)
    assert r.status_code == 200


def test_no_ticket_text_in_logs(client, auth, body_for, server):
    b = body_for(["ACC-004"])
    b["accounts"][0]["tickets"][0]["body"] = "SECRET-TICKET-TEXT-42"
    b["accounts"][0]["tickets"][0]["csat"] = "5"  # a validation error on the same request
    client.post("/score", json=b, headers=auth)
    b["accounts"][0]["tickets"][0]["csat"] = None
    client.post("/score", json=b, headers=auth)
    assert "SECRET-TICKET-TEXT-42" not in server["log"].read_text(errors="replace")


def test_rejected_requests_are_one_line_without_their_fields(client, auth, body_for, server):
    """A request the schema rejects is logged as one warning with the error's type: no
    traceback, nothing of what was sent (not even the names of unknown fields)."""
    b = body_for(["ACC-004"])
    b["SECRET_FIELD_NAME_77"] = 1
    r = client.post("/score", json=b, headers=auth)
    assert r.status_code in (400, 422)
    client.post("/score", json=body_for(["ACC-004"]), headers=auth)  # a later line: flushed
    log = server["log"].read_text(errors="replace")
    assert "SECRET_FIELD_NAME_77" not in log
    assert "rejected /score [POST]: ValidationError" in log
    assert "Exception on /score" not in log  # BentoML's ERROR with the traceback


def test_the_log_names_the_model_each_worker_loaded(client, auth, body_for, server):
    """After a promotion and a restart, the log is where to see which version answers: its
    "loaded escalation-risk/N" line was INFO, which BentoML's log leaves out for our loggers;
    a scoring call is the access log's one line, not a second one of ours."""
    version = client.post("/score", json=body_for(["ACC-001"]), headers=auth).json()
    log = server["log"].read_text(encoding="utf-8", errors="replace")
    assert f"loaded {version['model_version']} (" in log
    assert "scored 1 account(s)" not in log


def test_a_line_break_in_the_path_stays_on_its_access_log_line(client, auth, server):
    """A path is decoded before BentoML logs it: %0a wrote a line of the client's choosing
    (here a forged ERROR), even without a token."""
    forged = "2026-01-01T00:00:00+0000 [ERROR] FORGED-LINE-31"
    client.get("/nothing%0a" + forged.replace(" ", "%20"))
    client.get("/ui/account/x%0d%0a" + forged.replace(" ", "%20"))
    client.get("/healthz")  # a later line: flushed
    lines = server["log"].read_text(errors="replace").splitlines()
    assert [line for line in lines if "FORGED-LINE-31" in line]
    assert not [line for line in lines if line.startswith(forged[:10]) and "FORGED" in line]
    assert any("path=/nothing\\x0a2026" in line for line in lines)


def test_skew_service_equals_batch_path(client, auth, body_for, world, params, model_store):
    """Same history, same as_of: the service's answers equal the batch path's, to the last bit."""
    import pandas as pd

    from features.build import build_features
    from features.contract import validated
    from serving.facts import account_facts
    from serving.model import load_champion
    from serving.scoring import score_rows

    ids = ["ACC-000", "ACC-005", "ACC-010", "ACC-013"]
    day = pd.Timestamp.now(tz="UTC").normalize()
    r = client.post("/score", json=body_for(ids, day.date().isoformat()), headers=auth)
    assert r.status_code == 200, r.text
    served = {s["account_id"]: s for s in r.json()["scores"]}
    model = load_champion(model_store, params.promotion.model_name)
    history = validated(world, params.contract, pd.Timestamp.now(tz="UTC"))
    fs = build_features(history, [day], params.features, spec=model.spec)
    batch = score_rows(
        model,
        fs.frame,
        account_facts(history, day, params.features),
        params.ladder,
        pd.Timestamp.now(tz="UTC"),
        params.service.top_reasons,
    )
    for b in batch:
        if b["account_id"] not in served:
            continue
        s = served[b["account_id"]]
        assert s["escalation_risk"] == pytest.approx(b["escalation_risk"], abs=1e-12)
        assert s["churn_risk"] == pytest.approx(b["churn_risk"], abs=1e-12)
        assert s["level"] == b["level"]
        assert [x["feature"] for x in s["reasons"]] == [x["feature"] for x in b["reasons"]]
    assert set(served) <= {b["account_id"] for b in batch}


def test_score_features_matches_score(client, auth, body_for, params, model_store):
    import pandas as pd

    from features.build import build_features
    from features.contract import validated
    from serving.model import load_champion

    ids = ["ACC-007"]
    day = pd.Timestamp.now(tz="UTC").normalize()
    body = body_for(ids, day.date().isoformat())
    scored = client.post("/score", json=body, headers=auth).json()["scores"][0]
    model = load_champion(model_store, params.promotion.model_name)
    raw = body_tables(body)
    history = validated(raw, params.contract, pd.Timestamp.now(tz="UTC"))
    frame = build_features(history, [day], params.features, spec=model.spec).frame
    row = {
        n: (None if pd.isna(v) else (v if isinstance(v, str) else float(v)))
        for n, v in frame.iloc[0][model.spec.names].items()
    }
    facts = {
        "arr": 1.0,
        "tier": "business",
        "seats": 10,
        "days_to_renewal": 100,
        "open_p1": 0,
        "open_p2": 0,
        "open_p1_past_sla": 0,
        "open_p2_past_sla": 0,
        "language": "en",
    }
    r = client.post(
        "/score_features",
        json={
            "rows": [{"account_id": "ACC-007", "features": row, "facts": facts}],
            "as_of": day.date().isoformat(),
        },
        headers=auth,
    )
    assert r.status_code == 200, r.text
    assert r.json()["scores"][0]["escalation_risk"] == pytest.approx(
        scored["escalation_risk"], abs=1e-12
    )
    bad = dict(row)
    first = model.spec.names[0]
    bad[first] = "7"
    bad["no_such_feature"] = 1.0
    r = client.post(
        "/score_features",
        json={"rows": [{"account_id": "A", "features": bad, "facts": facts}]},
        headers=auth,
    )
    assert r.status_code == 422
    locs = [d["loc"] for d in r.json()["detail"]]
    assert ["rows", 0, "features", "no_such_feature"] in locs
    huge = dict(row) | {first: 10**400}  # a whole number no float holds
    r = client.post(
        "/score_features",
        json={"rows": [{"account_id": "A", "features": huge, "facts": facts}]},
        headers=auth,
    )
    assert r.status_code == 422, r.text
    assert [d["loc"] for d in r.json()["detail"]] == [["rows", 0, "features", first]]
    # values no account can have are refused, not told as "ARR of -5" or a 300-digit number
    for name, value in (("arr", -5.0), ("tenure_days", 1e308), ("tickets_7d", -1.0)):
        if name not in row:
            continue
        absurd = dict(row) | {name: value}
        r = client.post(
            "/score_features",
            json={
                "rows": [
                    {"account_id": "A", "features": row, "facts": facts},
                    {"account_id": "B", "features": absurd, "facts": facts},
                ]
            },
            headers=auth,
        )
        assert r.status_code == 422, r.text
        (detail,) = r.json()["detail"]
        assert (detail["loc"], detail["type"]) == (["rows", 1, "features", name], "range"), r.text
    for value in (True, [1.0], {"v": 1}):  # one error at the feature, not one per union member
        odd = dict(row) | {first: value}
        r = client.post(
            "/score_features",
            json={"rows": [{"account_id": "A", "features": odd, "facts": facts}]},
            headers=auth,
        )
        assert r.status_code == 400, r.text
        assert [d["loc"] for d in r.json()["detail"]] == [["rows", 0, "features", first]], r.text


def body_tables(body: dict):
    import pandas as pd

    acc = body["accounts"]
    return {
        "accounts": pd.DataFrame([a["account"] for a in acc]),
        "tickets": pd.DataFrame(
            [{**t, "account_id": a["account"]["account_id"]} for a in acc for t in a["tickets"]]
        ),
        "usage": pd.DataFrame(
            [{**u, "account_id": a["account"]["account_id"]} for a in acc for u in a["usage"]]
        ),
        "escalations": pd.DataFrame(
            [
                {**e, "account_id": a["account"]["account_id"]}
                for a in acc
                for e in a["escalations"]
            ],
            columns=[
                "escalation_id",
                "account_id",
                "opened_at",
                "acknowledged_at",
                "closed_at",
                "level",
                "kind",
                "reason",
                "ticket_id",
            ],
        ),
        "churn": None,
    }


def test_an_unreachable_database_is_503_and_scoring_goes_on(
    start_service, model_store, auth, body_for, tmp_path, unused_port
):
    """/account needs the daily run's store, /score does not: a database that is down (or a wrong
    URL) costs the lookups a 503 that says so, never a 500, and leaves scoring and health alone."""
    import httpx

    token = auth["Authorization"].removeprefix("Bearer ")
    url = f"postgresql+psycopg://escrisk:s3cret@127.0.0.1:{unused_port}/escrisk"
    with (
        start_service(
            tmp_path,
            MLFLOW_TRACKING_URI=model_store,
            ESCRISK_API_TOKENS=token,
            ESCRISK_DATABASE_URL=url,
            ESCRISK_SERVICE_WORKERS="1",
        ) as base,
        httpx.Client(base_url=base, timeout=60, headers=auth) as c,
    ):
        r = c.post("/account", json={"account_id": "ACC-001"})
        assert r.status_code == 503, r.text
        assert "cannot be reached" in r.json()["error"] and "s3cret" not in r.text
        assert c.post("/score", json=body_for(["ACC-001"])).status_code == 200
        assert c.get("/readyz").status_code == 200
        page = c.post("/ui/login", data={"token": token, "name": "Kim"}, follow_redirects=True)
        assert page.status_code == 503 and "not available" in page.text, page.text[:500]
    assert "s3cret" not in (tmp_path / "server.log").read_text()


def _hang_up_mid_body(base: str, path: str, headers: dict[str, str], chunked: bool = False) -> None:
    """Send a request's headers and the start of its body, then close the connection."""
    import socket
    import time
    from urllib.parse import urlsplit

    url = urlsplit(base)
    framing = "Transfer-Encoding: chunked" if chunked else "Content-Length: 1000"
    head = f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n{framing}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    start = b'5\r\n{"acc\r\n' if chunked else b'{"accounts": ['
    with socket.create_connection((url.hostname, url.port)) as s:
        s.sendall(head.encode() + start)
        time.sleep(0.2)  # the service is waiting for the rest


@pytest.mark.parametrize(
    "framing",
    [
        "Content-Length: abc",
        "Content-Length: 2, 2",
        "Transfer-Encoding: chunked\r\nContent-Length: 2",
    ],
)
def test_broken_http_framing_is_the_http_servers_plain_400_as_documented(server, auth, framing):
    """uvicorn, which BentoML starts without a hook for its answers, refuses a request it cannot
    frame before the service sees it, in plain text: docs/api.md ("Errors") says so, and what a
    client sees instead of JSON; this pins it, so that an upgrade that changes it reaches the docs."""
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(server["url"])
    head = f"POST /account HTTP/1.1\r\nHost: {url.netloc}\r\n{framing}\r\n"
    head += f"Authorization: {auth['Authorization']}\r\nContent-Type: application/json\r\n\r\n"
    answer = b""
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall(head.encode() + b"{}")
        while chunk := s.recv(65536):
            answer += chunk
    status, _, body = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 400") and b"content-type: text/plain" in status.lower()
    assert body == b"Invalid HTTP request received."
    docs = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    assert "`Invalid HTTP request received.`" in docs


def test_a_client_that_hangs_up_mid_body_is_no_server_error(client, auth, server):
    """A client gone before its body was complete (a timeout, a closed tab) is its doing: the
    access log says 499, not 500, and no traceback is logged."""
    import time

    log = server["log"]
    before = len(log.read_text(errors="replace"))
    api = {**auth, "Content-Type": "application/json"}
    _hang_up_mid_body(server["url"], "/score", api)
    _hang_up_mid_body(server["url"], "/account", api, chunked=True)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    _hang_up_mid_body(server["url"], "/ui/login", form)
    deadline = time.monotonic() + 10
    while True:
        new = log.read_text(errors="replace")[before:]
        answered = [line for line in new.splitlines() if "(status=" in line]
        if len(answered) >= 3 or time.monotonic() > deadline:
            break
        client.get("/healthz")
        time.sleep(0.2)
    assert len(answered) == 3, new
    assert all("status=499" in line for line in answered), new
    assert "Traceback" not in new and "ClientDisconnect" not in new, new


def test_a_request_past_the_timeout_is_504_in_the_error_shape(
    start_service, model_store, auth, tmp_path
):
    """BentoML's own timeout answered {"error": ...} without `detail`, unlike every other error;
    the guard's comes first, in the service's shape. Here a client that stalls in its body."""
    import socket
    import time
    from pathlib import Path
    from urllib.parse import urlsplit

    import yaml

    root = Path(__file__).resolve().parents[2]
    settings = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    settings["service"]["timeout_seconds"] = 1
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(settings), encoding="utf-8")
    token = auth["Authorization"].removeprefix("Bearer ")
    with start_service(
        tmp_path,
        MLFLOW_TRACKING_URI=model_store,
        ESCRISK_API_TOKENS=token,
        ESCRISK_PARAMS=str(params_file),
        ESCRISK_SERVICE_WORKERS="1",
    ) as base:
        url = urlsplit(base)
        head = (
            f"POST /account HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 30\r\nConnection: close\r\n\r\n"
        )
        with socket.create_connection((url.hostname, url.port), timeout=10) as s:
            s.sendall(head.encode() + b'{"account_id": ')
            started = time.monotonic()
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        assert time.monotonic() - started < 3  # the guard's second, not BentoML's six
        status, _, body = answer.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 504"), answer
        assert json.loads(body) == {
            "error": "the request took longer than 1 s (service.timeout_seconds): send a "
            "large batch as several calls of fewer accounts",
            "detail": [
                {
                    "loc": [],
                    "msg": "the request took longer than 1 s (service.timeout_seconds): "
                    "send a large batch as several calls of fewer accounts",
                    "type": "timeout",
                }
            ],
        }


def test_a_key_sent_twice_in_one_object_is_400_naming_it(client, auth, body_for):
    """The parser kept the last of two keys: two "accounts" lists scored the second alone, two
    "tickets" lists an account with half its history, without a word."""
    one = json.dumps(body_for(["ACC-001"])["accounts"])
    other = json.dumps(body_for(["ACC-002"])["accounts"])
    account = body_for(["ACC-001"])["accounts"][0]
    tickets = json.dumps(account.pop("tickets"))
    inner = json.dumps(account)[:-1] + f', "tickets": {tickets}, "tickets": []}}'
    headers = {**auth, "Content-Type": "application/json"}
    for body, key in (
        (f'{{"accounts": {one}, "accounts": {other}}}', "accounts"),
        (f'{{"accounts": [{inner}]}}', "tickets"),
    ):
        r = client.post("/score", content=body, headers=headers)
        assert r.status_code == 400, r.text
        (detail,) = r.json()["detail"]
        assert (detail["loc"], detail["type"]) == (["body", key], "duplicate_key"), r.text
    r = client.post("/account", content='{"account_id": "A", "account_id": "B"}', headers=headers)
    assert r.status_code == 400 and r.json()["detail"][0]["loc"] == ["body", "account_id"]


def test_a_number_of_more_than_4300_digits_is_a_400_naming_its_field(client, auth, body_for):
    """The parser refuses a number of more than 4,300 digits (Python's int-string limit) with
    "Invalid JSON: number out of range at line 1 column 4421", at no field: a helpdesk's
    export could not tell which of its 100,000 values to fix."""
    long = "1" + "0" * 5000
    body = body_for(["ACC-001"])
    body["accounts"][0]["tickets"][0]["reopen_count"] = 0
    text = json.dumps(body).replace('"reopen_count": 0', f'"reopen_count": {long}', 1)
    headers = {**auth, "Content-Type": "application/json"}
    for path, sent, loc in (
        ("/score", text, ["accounts", 0, "tickets", 0, "reopen_count"]),
        ("/account", f'{{"account_id": {long}.5}}', ["account_id"]),
    ):
        r = client.post(path, content=sent, headers=headers)
        assert r.status_code == 400, r.text
        (detail,) = r.json()["detail"]
        assert (detail["loc"], detail["type"]) == (loc, "number_too_long"), r.text
        assert "4,300 digits" in detail["msg"]


def test_a_csm_page_address_with_a_line_break_is_a_json_404(client):
    """BentoML mounts the page for addresses without a line break only and answered the rest
    in plain text ("Not Found"); the page's own 404s stay pages."""
    r = client.get("/ui/account/a%0ab")
    assert r.status_code == 404
    assert r.json()["detail"][0]["type"] == "not_found"
    page = client.get("/ui/nothing")
    assert page.status_code in (303, 404) and not page.headers.get("content-type", "").startswith(
        "application/json"
    )
