"""API tokens: read from the environment and a file as an operator writes it, compared as sent."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from features.errors import UserError
from serving.guard import token_ok
from serving.settings import Settings, api_tokens, exposed_token_file


def _tokens(tmp_path, content: bytes, env_tokens: str = "") -> tuple[str, ...]:
    path = tmp_path / "tokens.txt"
    path.write_bytes(content)
    env = {"ESCRISK_API_TOKENS": env_tokens, "ESCRISK_API_TOKENS_FILE": str(path)}
    return api_tokens(Settings.from_env(env), env)


def test_a_token_file_saved_with_a_byte_order_mark_works(tmp_path):
    assert _tokens(tmp_path, "\ufefftok-bom\r\n# note\n\n  spaced  \n".encode()) == (
        "tok-bom",
        "spaced",
    )
    assert _tokens(tmp_path, b"from-file\n", "a, b") == ("a", "b", "from-file")


@pytest.mark.parametrize(
    "content, message",
    [(b"\xff\xfe t\x00", "not UTF-8 text"), (None, "file not found")],
)
def test_a_token_file_that_cannot_be_read_is_one_line_naming_it(tmp_path, content, message):
    path = tmp_path / "tokens.txt"
    if content is not None:
        path.write_bytes(content)
    env = {"ESCRISK_API_TOKENS_FILE": str(path)}
    with pytest.raises(UserError, match=message) as err:
        api_tokens(Settings.from_env(env), env)
    assert "ESCRISK_API_TOKENS_FILE" in str(err.value) and str(path) in str(err.value)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_tokens_file_other_users_can_read_is_warned_of(
    tmp_path, model_store, monkeypatch, capsys
):
    """The state database is created 0600; a tokens file saved 0644 (an editor's default) let
    every user of the host take a token, and nothing said so."""
    from serving.cli import main

    path = tmp_path / "tokens.txt"
    path.write_text("t-123\n", encoding="utf-8")
    path.chmod(0o600)
    assert exposed_token_file(str(path)) is None
    assert exposed_token_file(str(tmp_path / "absent.txt")) is None  # read_token_file says so
    path.chmod(0o644)
    told = exposed_token_file(str(path))
    assert told is not None and "mode 644" in told and f"chmod 600 {path}" in told
    monkeypatch.setenv("MLFLOW_TRACKING_URI", model_store)
    monkeypatch.setenv("ESCRISK_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("ESCRISK_API_TOKENS_FILE", str(path))
    started: list[str] = []  # the server is not started: the command's checks are under test
    monkeypatch.setattr("os.execvpe", lambda cmd, argv, env: started.append(cmd))
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert main(["serve", "--port", str(port)]) == 0 and started
    err = capsys.readouterr().err
    assert f"warning: ESCRISK_API_TOKENS_FILE={path} can be read by other users" in err


def test_short_tokens_are_warned_of_by_their_key_never_their_text(
    tmp_path, model_store, monkeypatch, capsys
):
    """The API answers a wrong token at once and the docs' example was `change-me`: a token
    anyone could guess served the customers' data, and nothing said so."""
    import hashlib

    from serving.cli import main
    from serving.settings import short_tokens

    long = "k" * 43
    assert short_tokens([long]) is None and short_tokens([]) is None
    key = hashlib.sha256(b"change-me").hexdigest()[:8]
    told = short_tokens(["change-me", long, "change-me"])
    assert told is not None and f"1 API token shorter than 20 characters (key {key})" in told
    monkeypatch.setenv("MLFLOW_TRACKING_URI", model_store)
    monkeypatch.setenv("ESCRISK_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.delenv("ESCRISK_API_TOKENS_FILE", raising=False)
    monkeypatch.setattr("os.execvpe", lambda cmd, argv, env: None)  # the checks, not the server
    for tokens, warned in ((f"change-me,{long}", True), (long, False)):
        monkeypatch.setenv("ESCRISK_API_TOKENS", tokens)
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 0
        err = capsys.readouterr().err
        assert (f"warning: 1 API token shorter than 20 characters (key {key})" in err) == warned
        assert "change-me" not in err


def test_tokens_are_compared_as_the_bytes_the_client_sent():
    """ASGI hands headers over as bytes; the guard reads them as Latin-1, one char per byte."""
    known = [t.encode("utf-8") for t in ("tök", "plain")]
    sent_utf8 = "Bearer tök".encode().decode("latin-1")
    assert token_ok(sent_utf8, known)
    assert token_ok("Bearer plain", known) and token_ok("bearer  plain ", known)
    assert not token_ok("Bearer tok", known) and not token_ok("Bearer ", known)
    assert not token_ok(None, known) and not token_ok("Basic plain", known)


def test_serve_refuses_a_malformed_database_url_in_one_line(model_store, monkeypatch, capsys):
    """Before it starts any worker (each would otherwise fail on every /account call)."""
    from serving.cli import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", model_store)
    monkeypatch.setenv("ESCRISK_DATABASE_URL", "not a url")
    monkeypatch.setenv("ESCRISK_API_TOKENS", "t")
    assert main(["serve", "--port", "1"]) == 1
    err = capsys.readouterr().err
    assert "not a valid SQLAlchemy URL" in err and "Traceback" not in err


def test_bentomls_refusals_get_the_services_error_shape():
    from serving.guard import client_error_shape

    bentoml = {
        "error": "3 validation error for ScoreRequestIODescriptor",
        "detail": [{"type": "missing", "loc": ["accounts"], "msg": "Field required", "url": "u"}],
    }
    assert client_error_shape(bentoml) == {
        "error": "3 validation errors in the request",
        "detail": [{"type": "missing", "loc": ["accounts"], "msg": "Field required"}],
    }
    one = client_error_shape({"error": "1 validation error for X", "detail": []})
    assert one["error"] == "1 validation error in the request"
    # BentoML answers some refusals as a one-element list
    assert client_error_shape([{"error": "Invalid JSON"}]) == {
        "error": "Invalid JSON",
        "detail": [],
    }
    long = {"error": "1 validation error for X", "detail": [{"loc": ["a", 0, "k" * 10**6]}]}
    assert client_error_shape(long)["detail"] == [{"loc": ["a", 0, "k" * 128 + "…"]}]
    ours = {
        "error": "some accounts cannot be scored",
        "detail": [{"loc": ["a"], "msg": "m", "type": "t"}],
    }
    assert client_error_shape(ours) == ours


def test_a_number_too_long_for_the_parser_is_found_by_its_field():
    """pydantic's JSON parser refuses a number of more than 4,300 digits before its point with
    "number out of range at line 1 column N", naming no field: the Guard finds it."""
    from serving.guard import long_number

    long = "1" + "0" * 4300
    body = f'{{"accounts": [{{"account": {{"seats": 3}}}}, {{"account": {{"seats": {long}}}}}]}}'
    assert long_number(body.encode()) == ["accounts", 1, "account", "seats"]
    for number in (f"-{long}", f"{long}.5", f"{long}e-9000", f"{long}E2"):
        assert long_number(f'{{"x": [1, {number}]}}'.encode()) == ["x", 1], number
    # within the limit, or long after its point only: parsed, nothing to name
    for fine in (long[:-1], f"-{long[:-1]}", f"0.{long}", f"1.{long}e5"):
        assert long_number(f'{{"x": {fine}}}'.encode()) is None, fine
    key = "k" * 10_000  # the key's name as far as an answer repeats it
    assert long_number(f'{{"{key}": {long}}}'.encode()) == ["k" * 128 + "…"]
    assert long_number(b"not json") is None


def test_half_a_surrogate_pair_is_found_by_its_field():
    """A helpdesk that cut a text inside an emoji sends "\\ud83d" alone: pydantic's parser said
    "Invalid JSON: lone leading surrogate in hex escape at line 1 column 14", loc []."""
    from serving.guard import client_error_shape, lone_surrogate

    body = (
        rb'{"accounts": [{"tickets": [{"subject": "ok \ud83d\ude00"}, {"subject": "cut \ud83d"}]}]}'
    )
    assert lone_surrogate(body) == ["accounts", 0, "tickets", 1, "subject"]
    assert lone_surrogate(rb'{"a": {"x\udc00": 1}}') == ["a", "x\udc00"]
    assert lone_surrogate(rb'{"a": "\ud83d\ude00"}') is None  # a whole pair is a character
    bentoml = {
        "error": "1 validation error for X",
        "detail": [{"loc": [], "msg": "Invalid JSON: lone leading surrogate in hex escape at "
                    "line 1 column 80", "type": "json_invalid"}],
    }  # fmt: skip
    (detail,) = client_error_shape(bentoml, body)["detail"]
    assert detail["loc"] == ["accounts", 0, "tickets", 1, "subject"]
    assert detail["type"] == "unicode_surrogate" and "\\ud83d" in detail["msg"]
    (untouched,) = client_error_shape(bentoml, b'{"a": "\\u12"}')["detail"]
    assert untouched["loc"] == [] and untouched["type"] == "json_invalid"


def test_text_that_is_not_utf8_is_found_by_its_field():
    """A helpdesk on Windows sent its export in Windows-1252: "Invalid JSON: invalid unicode
    code point at line 1 column 422", loc [], for a "ü" somewhere in 60 MB."""
    from serving.guard import client_error_shape, not_utf8

    body = '{"accounts": [{"account": {"name": "Müller"}, "tickets": [{"subject": "Grüße"}]}]}'
    assert not_utf8(body.encode("utf-8")) is None
    assert not_utf8(body.encode("cp1252")) == ["accounts", 0, "account", "name"]
    bentoml = {
        "error": "1 validation error for X",
        "detail": [{"loc": [], "msg": "Invalid JSON: invalid unicode code point at line 1 "
                    "column 38", "type": "json_invalid"}],
    }  # fmt: skip
    (detail,) = client_error_shape(bentoml, body.encode("cp1252"))["detail"]
    assert detail["loc"] == ["accounts", 0, "account", "name"]
    assert detail["type"] == "unicode_encoding" and "UTF-8" in detail["msg"]


def test_serve_refuses_a_rule_on_a_feature_the_champion_lacks(
    model_store, monkeypatch, capsys, tmp_path
):
    """A misspelled feature in a hard rule would never fire: `escrisk serve` says which before
    it starts (as `escrisk daily` and `escrisk replay` do)."""
    import yaml

    from serving.cli import main

    root = Path(__file__).resolve().parents[2]
    data = yaml.safe_load((root / "params.yaml").read_text())
    data["ladder"]["rules"][2]["when"] = [{"feature": "open_p1_tickets_xx", "op": ">=", "value": 3}]
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", model_store)
    monkeypatch.setenv("ESCRISK_API_TOKENS", "t")
    assert main(["serve", "--port", "1", "--params", str(path)]) == 1
    err = capsys.readouterr().err
    assert (
        "ladder.rules[2].when[0].feature: unknown feature 'open_p1_tickets_xx' in rule "
        "'many_open_p1'" in err
    )
    assert "Traceback" not in err


def test_the_token_file_is_read_again_when_it_changes_and_kept_when_unreadable(tmp_path, caplog):
    from serving.settings import TokenSource

    path = tmp_path / "tokens.txt"
    path.write_text("one\n", encoding="utf-8")
    now = [0.0]
    source = TokenSource(["fixed"], str(path), clock=lambda: now[0])
    assert source.current() == (b"fixed", b"one")
    path.write_text("two\n# three\n", encoding="utf-8")
    os.utime(path, ns=(1, 10**18))  # a new stamp whatever the file system's resolution
    assert source.current() == (b"fixed", b"one")  # looked at most once a second
    now[0] = 1.5
    assert source.current() == (b"fixed", b"two")
    stamp = path.stat()
    time.sleep(0.01)
    path.write_text("six\n# three\n", encoding="utf-8")  # same size, same mtime (as `cp -p`)
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    now[0] = 2.6
    assert source.current() == (b"fixed", b"six")
    path.write_bytes(b"\xff\xfe")  # unreadable: the tokens last read stay
    os.utime(path, ns=(1, 2 * 10**18))
    now[0] = 3.7
    assert source.current() == (b"fixed", b"six")
    path.unlink()
    now[0] = 5.0
    assert source.current() == (b"fixed", b"six")
    # an operator deleting the file to cut everyone off saw nothing happen and nothing said
    assert "is gone; to revoke every token, empty the file" in caplog.text
    caplog.clear()
    now[0] = 6.1
    assert source.current() == (b"fixed", b"six") and caplog.text == ""  # said once
    path.write_text("", encoding="utf-8")  # emptied: every token of the file revoked
    now[0] = 7.2
    assert source.current() == (b"fixed",)


@pytest.mark.parametrize(
    "reads",
    [
        [b"\xef\xbb\xbf{}"],
        [b"\xef", b"\xbb\xbf{}"],  # the mark split across reads of the socket
        [b"", b"\xef\xbb", b"\xbf", b"{}"],
        [b"{}"],
        [b"\xef\xbb\xbf"],
    ],
)
def test_the_guard_drops_a_byte_order_mark_however_the_body_arrives(reads):
    import anyio

    from serving.guard import Guard

    seen: list[bytes] = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    messages = [
        {"type": "http.request", "body": b, "more_body": i < len(reads) - 1}
        for i, b in enumerate(reads)
    ]

    async def receive():
        return messages.pop(0)

    async def send(message):
        pass

    length = str(sum(map(len, reads))).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/score",
        "headers": [
            (b"authorization", b"Bearer tok"),
            (b"content-type", b"application/json"),
            (b"content-length", length),
        ],
    }
    anyio.run(Guard(app, ["tok"], max_body_bytes=1000), scope, receive, send)
    assert b"".join(seen) == b"".join(reads).removeprefix(b"\xef\xbb\xbf")


def test_a_long_run_of_digits_as_a_time_is_refused_at_once():
    """The number test split a run of digits in n^2 ways: 20,000 digits held a worker 20 s."""
    from pydantic import ValidationError

    from serving.schemas import AccountRequest, ScoreRequest

    body = {"accounts": [], "as_of": "1" * 20_000 + "x"}
    with pytest.raises(ValidationError, match="ISO 8601"):
        ScoreRequest.model_validate(body)
    assert AccountRequest.model_validate({"account_id": "A-1"})


def test_a_source_url_is_shown_without_its_password_or_query():
    from features.sources import describe

    shown = describe("postgresql+psycopg://reader:pw1@db.example/crm?password=pw2&sslmode=require")
    assert "pw1" not in shown and "pw2" not in shown and shown.startswith("postgresql+psycopg://")


def test_webhook_addresses_are_not_logged_to_mlflow():
    from training.registry import flatten, redacted

    flat = redacted(flatten({"notifications": {"channels": {"slack": {
        "url": "https://hooks.example/T0/B0/secret", "team_urls": {"billing": "https://h/b"}}}},
        "model": {"num_leaves": 3}}))  # fmt: skip
    assert "secret" not in str(flat) and "https://h/b" not in str(flat)
    assert flat["model.num_leaves"] == "3"


def test_only_so_many_large_bodies_are_held_at_once():
    """A 59 MB body took a worker's memory up 0.7 GB, and nothing bounded how many at once."""
    import anyio

    from serving.guard import Guard

    release = anyio.Event()
    statuses: list[int] = []

    async def app(scope, receive, send):
        await release.wait()  # the large calls being scored
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guard = Guard(app, ["tok"], max_body_bytes=1000, large_body_bytes=100, concurrent_large=2)

    async def call(size: int) -> None:
        async def receive():
            return {"type": "http.request", "body": b" " * size, "more_body": False}

        async def send(message):
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
                if message["status"] == 503:
                    assert (b"retry-after", b"1") in message["headers"]

        headers = [(b"authorization", b"Bearer tok"), (b"content-type", b"application/json"),
                   (b"content-length", str(size).encode())]  # fmt: skip
        await guard({"type": "http", "method": "POST", "path": "/score", "headers": headers},
                    receive, send)  # fmt: skip

    async def main():
        async with anyio.create_task_group() as tg:
            tg.start_soon(call, 500)
            tg.start_soon(call, 500)
            await anyio.sleep(0.05)
            await call(500)  # a third large one: 503 at once
            assert statuses == [503] and guard.large_now == 2
            release.set()
        await call(50)  # small ones are never counted
        await call(500)  # and once the large ones are done, a large one is taken again

    anyio.run(main)
    assert statuses == [503, 200, 200, 200, 200] and guard.large_now == 0


@pytest.mark.parametrize(
    ("query", "name"), [(b"as_of=2025-06-01", "as_of"), (b"as_of", "as_of"), (b"%0a=1&x=2", "\n")]
)
def test_a_query_string_on_a_scoring_call_is_refused_not_ignored(query, name):
    """Nothing reads it: `POST /score?as_of=2025-06-01` was scored as of today without a word."""
    import json

    import anyio

    from serving.guard import Guard

    reached: list[str] = []
    sent: list[dict] = []

    async def app(scope, receive, send):
        reached.append(scope["path"])

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/score",
        "query_string": query,
        "headers": [(b"authorization", b"Bearer tok"), (b"content-type", b"application/json")],
    }
    anyio.run(Guard(app, ["tok"], max_body_bytes=1000), scope, receive, send)
    assert not reached and sent[0]["status"] == 400
    body = json.loads(sent[1]["body"])
    (detail,) = body["detail"]
    assert (detail["loc"], detail["type"]) == (["query", name], "extra_forbidden")


def test_a_scoring_path_with_a_trailing_slash_is_the_endpoint():
    """Starlette answered `POST /score/` with a 307 without a body (no JSON, and a client that
    does not follow redirects read nothing)."""
    import anyio

    from serving.guard import Guard

    reached: list[tuple[str, bytes]] = []

    async def app(scope, receive, send):
        reached.append((scope["path"], scope["raw_path"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        pass

    for path in ("/score/", "/account//"):
        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"authorization", b"Bearer tok"), (b"content-type", b"application/json")],
        }
        anyio.run(Guard(app, ["tok"], max_body_bytes=1000), scope, receive, send)
    assert reached == [("/score", b"/score"), ("/account", b"/account")]


def test_workers_log_in_the_language_serve_was_told(params):
    """`escrisk serve --language de` warned in German before the start while each worker logged
    the feature-code warning in params' daily.language: serve now passes its language down."""
    from serving.settings import worker_language

    en = params.model_copy(update={"daily": params.daily.model_copy(update={"language": "en"})})
    assert worker_language(Settings.from_env({"ESCRISK_SERVE_LANGUAGE": "de"}), en) == "de"
    assert worker_language(Settings.from_env({}), en) == "en"
    assert worker_language(Settings.from_env({"ESCRISK_SERVE_LANGUAGE": "fr"}), en) == "en"
