"""The service's front door, as ASGI middleware: bearer tokens, body size and content type.

It runs before BentoML parses a body, so an unauthenticated or oversized request costs nothing.
Tokens are compared in constant time; health, metrics and docs stay open. Answers are JSON in the
service's error shape (`{"error": ..., "detail": [...]}`) and never echo what was sent.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from serving.settings import MIN_TOKEN_CHARS, TokenSource, token_source
from serving.throttle import LoginThrottle, client_key  # SharedThrottle is one

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = frozenset(
    {"/", "/healthz", "/livez", "/readyz", "/metrics", "/docs.json", "/schema.json"}
)
OPEN_PREFIXES = ("/static_content/", "/assets/")
# headers whose value decides what is done with the request: sent twice, proxies and frameworks
# disagree on which one counts (this guard would read the last, Starlette the first)
SINGLE_HEADERS = frozenset({"authorization", "content-type", "content-length", "content-encoding"})
# the API's interactive docs at "/": BentoML's Swagger UI from its bundled files, without the
# Google Tag Manager script BentoML's own page loads (a service holding customer data pulls no
# third-party script into its users' browsers)
DOCS_PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>escalation-risk API</title>
<link rel="stylesheet" href="./static_content/swagger-ui.css">
<link rel="stylesheet" href="./static_content/index.css">
<link rel="icon" href="data:,">
</head>
<body>
<div id="swagger-ui"></div>
<script src="./static_content/swagger-ui-bundle.js" charset="UTF-8"></script>
<script src="./static_content/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
<script src="./static_content/escrisk-docs.js" charset="UTF-8"></script>
</body>
</html>
"""
# BentoML's initializer keeps Swagger UI's default validator: on any host but localhost the page
# sent the service's own address to validator.swagger.io, in an image every visitor loaded
DOCS_SCRIPT_PATH = "/static_content/escrisk-docs.js"
DOCS_SCRIPT = b"""window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "./docs.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
};
"""
# and should a document come to link an outside image again, the browser does not fetch it
DOCS_POLICY = (
    b"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    b"frame-ancestors 'none'; base-uri 'none'"
)
DOCS = {"/": (DOCS_PAGE, b"text/html"), DOCS_SCRIPT_PATH: (DOCS_SCRIPT, b"text/javascript")}
# apps that authenticate their requests themselves: the CSM page (session cookie, serving/ui.py)
SELF_AUTHENTICATED_PREFIXES = ("/ui/",)


# a path prefix a reverse proxy serves us under: plain path segments only (never `//`, a scheme
# or a quote), so that it can lead no link or redirect to another site
PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+")


def forwarded_prefix(headers: Any, trusted: bool = True) -> str:
    """The path prefix the proxy in front of the service publishes it under (`X-Forwarded-Prefix:
    /risk`, nginx `proxy_set_header X-Forwarded-Prefix /risk;`, Traefik's StripPrefix), without
    its trailing slash; "" without one or for a value that is not a plain path, and "" unless
    `trusted` (ESCRISK_FORWARDED_PREFIX: a proxy sets the header, and drops a client's): a
    client talking to the service itself set the links, redirects and cookie path it was sent."""
    if not trusted:
        return ""
    sent = str(headers.get("x-forwarded-prefix") or "").split(",")[0].strip().rstrip("/")
    return sent if PREFIX.fullmatch(sent) else ""


def presented(header: str | None) -> bytes | None:
    """The token of a `Bearer <t>` header as the client sent its bytes; None for no such header
    (nothing to check: not a guess)."""
    if not header:
        return None
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return None
    # the header was decoded as Latin-1 (ASGI's bytes, one char each): back to the bytes the
    # client sent, which are UTF-8 for a token like "tök"
    return given.strip().encode("latin-1", "replace")


def token_ok(header: str | None, tokens: Iterable[bytes]) -> bool:
    """True when `header` is `Bearer <t>` for a known t; every token is compared, in constant time."""
    candidate = presented(header)
    if candidate is None:
        return False
    ok = False
    for t in tokens:
        ok |= hmac.compare_digest(candidate, t)
    return ok


def long_tokens(tokens: Iterable[bytes]) -> list[bytes]:
    """The tokens of MIN_TOKEN_CHARS or more, checked even while a client waits after wrong
    ones (the API's bearer check, the page's sign-in): telling a guess that it is not such a
    token tells nothing worth knowing of a long random one, and someone behind a guesser's
    address (one NAT) goes on."""
    return [t for t in tokens if len(t.decode("utf-8", "replace")) >= MIN_TOKEN_CHARS]


def is_open(path: str) -> bool:
    """Open paths, with or without a trailing slash (`/healthz/` is a health check too)."""
    return (path.rstrip("/") or "/") in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def is_self_authenticated(path: str) -> bool:
    return path + "/" in SELF_AUTHENTICATED_PREFIXES or path.startswith(SELF_AUTHENTICATED_PREFIXES)


async def _answer(
    send: Send, status: int, error: str, loc: list[str], kind: str, headers=()
) -> None:
    body = json.dumps(
        {"error": error, "detail": [{"loc": loc, "msg": error, "type": kind}]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Authenticate, bound the body and insist on JSON for every non-open HTTP path."""

    def __init__(
        self,
        app: ASGIApp,
        tokens: TokenSource | Iterable[str],
        max_body_bytes: int,
        openapi: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        large_body_bytes: int | None = None,
        concurrent_large: int = 1,
        timeout_seconds: float | None = None,
        forwarded_prefix: bool = False,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self.app = app
        self.throttle = throttle  # wrong bearer tokens per client address (None: not counted)
        self.forwarded_prefix = forwarded_prefix  # X-Forwarded-Prefix believed (a proxy sets it)
        self.tokens = token_source(tokens)
        self.max_body_bytes = max_body_bytes
        # memory: a large body costs its worker ~12x its size while it is read and scored, so
        # only so many are held at once (one event loop per worker: a plain counter suffices)
        self.large_body_bytes = max_body_bytes if large_body_bytes is None else large_body_bytes
        self.concurrent_large = concurrent_large
        self.large_now = 0
        self.openapi = openapi  # rewrites BentoML's /docs.json (serving.openapi.enrich)
        # BentoML's own timeout answers {"error": ...} without `detail`: this one comes first
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The request, answered 504 in the service's error shape when it has not begun to answer
        within `timeout_seconds` (as BentoML's timeout counts: to the answer's first message)."""
        if scope["type"] == "http":
            path = scope.get("path", "")
            send = _hardened(send, private=not (is_open(path) or path in DOCS))
        if scope["type"] != "http" or self.timeout_seconds is None:
            await self._handle(scope, receive, send)
            return
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def start(_: object = None) -> None:
            if not started.done():
                started.set_result(None)

        async def starting(message: Message) -> None:
            start()
            await send(message)

        task = asyncio.ensure_future(self._handle(scope, receive, starting))
        task.add_done_callback(start)  # ended without answering: its error is raised below
        try:
            await asyncio.wait_for(asyncio.shield(started), self.timeout_seconds)
        except TimeoutError:
            task.cancel()
            seconds = f"{self.timeout_seconds:g}"
            message = (
                f"the request took longer than {seconds} s (service.timeout_seconds): "
                "send a large batch as several calls of fewer accounts"
            )
            await _answer(send, 504, message, [], "timeout")
            return
        except asyncio.CancelledError:
            task.cancel()
            raise
        await task

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if path == "/ui" and scope.get("method") in ("GET", "HEAD"):
            # Starlette's redirect named this host's own address, without the proxy's prefix
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            query = scope.get("query_string", b"").decode("latin-1")
            where = (
                forwarded_prefix(headers, self.forwarded_prefix)
                + "/ui/"
                + (f"?{query}" if query else "")
            )
            await send({"type": "http.response.start", "status": 307,
                        "headers": [(b"location", where.encode("latin-1")),
                                    (b"content-length", b"0")]})  # fmt: skip
            await send({"type": "http.response.body", "body": b""})
            return
        if is_self_authenticated(path):  # the page's own 404s are pages; BentoML's, for an
            # address its mount does not match (a line break in it), plain text: JSON instead
            await self.app(scope, receive, _json_not_found(send))
            return
        if path == "/favicon.ico":  # a browser asks on any page it opens: no icon, and no 401
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        if path in DOCS and scope.get("method") in ("GET", "HEAD"):
            content, kind = DOCS[path]
            page = [(b"content-type", kind + b"; charset=utf-8")]
            page.append((b"content-length", str(len(content)).encode()))
            page.append((b"content-security-policy", DOCS_POLICY))
            await send({"type": "http.response.start", "status": 200, "headers": page})
            body = b"" if scope["method"] == "HEAD" else content
            await send({"type": "http.response.body", "body": body})
            return
        if is_open(path):  # no token needed; a wrong method (POST /healthz) still answers JSON
            if path == "/docs.json" and self.openapi is not None:
                send = _json_rewritten(send, self.openapi)
            await self.app(scope, receive, _json_not_found(send))
            return
        names = [k.decode("latin-1").lower() for k, _ in scope["headers"]]
        twice = sorted({n for n in names if n in SINGLE_HEADERS and names.count(n) > 1})
        if twice:  # which of two Authorization headers counts? Neither: ask for one
            await _answer(
                send,
                400,
                f"header {twice[0]!r} sent more than once",
                ["header", twice[0]],
                "header",
            )
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        wait = await self._refused(headers.get("authorization"), scope)
        if wait is not None:
            if wait:
                await _answer(
                    send,
                    429,
                    f"too many wrong bearer tokens from this client address: try again in "
                    f"{wait} s (service.auth_max_wait_seconds)",
                    ["header", "authorization"],
                    "too_many_failures",
                    [(b"retry-after", str(wait).encode())],
                )
                return
            await _answer(
                send,
                401,
                "missing or invalid bearer token (send Authorization: Bearer <token>)",
                ["header", "authorization"],
                "unauthorized",
                [(b"www-authenticate", b'Bearer realm="escrisk"')],
            )
            return
        if path.endswith("/") and path.rstrip("/"):
            # Starlette answers `POST /score/` with a bodiless 307 to /score, which a helpdesk's
            # HTTP client does not follow: the same endpoint instead
            raw = scope.get("raw_path")
            scope = {**scope, "path": path.rstrip("/")}
            if isinstance(raw, bytes):
                scope["raw_path"] = raw.rstrip(b"/")
        if scope.get("method") == "POST" and scope.get("query_string"):
            # nothing reads it: `POST /score?as_of=2025-06-01` scored today without a word
            query = scope["query_string"].decode("latin-1")
            name = (parse_qsl(query, keep_blank_values=True) or [(query, "")])[0][0][:64]
            await _answer(
                send,
                400,
                "query parameters are not read: send every field in the JSON body",
                ["query", name],
                "extra_forbidden",
            )
            return
        if scope.get("method") == "POST":
            if not headers.get("content-type", "").strip():  # a client that forgot to say JSON
                await _answer(
                    send,
                    415,
                    "no content type: send Content-Type: application/json",
                    ["header", "content-type"],
                    "media_type",
                )
                return
            media, *options = headers["content-type"].split(";")
            charset = next(
                (v.strip().strip('"').lower() for k, _, v in (o.partition("=") for o in options)
                 if k.strip().lower() == "charset"),
                "utf-8",
            )  # fmt: skip
            if media.strip().lower() != "application/json":
                await _answer(
                    send,
                    415,
                    "the body must be application/json",
                    ["header", "content-type"],
                    "media_type",
                )
                return
            if charset not in ("utf-8", "utf8"):  # JSON is UTF-8 (RFC 8259); BentoML reads it so
                await _answer(
                    send,
                    415,
                    f"charset {charset!r} is not accepted: send the JSON as UTF-8",
                    ["header", "content-type"],
                    "media_type",
                )
                return
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            await _answer(
                send,
                415,
                f"content encoding {encoding!r} is not accepted: send the JSON uncompressed",
                ["header", "content-encoding"],
                "media_type",
            )
            return
        length = headers.get("content-length")
        length = None if length is None else length.strip()  # "24 " is a valid header value
        limit = self.max_body_bytes
        too_large = (
            f"request body larger than {limit:,} bytes (service.max_request_mb): "
            "send the accounts as several calls"
        )
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _answer(send, 413, too_large, ["body"], "too_large")
            return
        if length is not None and int(length) > self.large_body_bytes:
            await self._large(scope, receive, send)  # counted before its body is read
            return
        data = await _read_body(receive, limit)
        if data is None:
            await _gone(send)
            return
        if data is TOO_LARGE:  # chunked, without a Content-Length to refuse it by
            await _answer(send, 413, too_large, ["body"], "too_large")
            return
        if len(data) > self.large_body_bytes:
            await self._large(scope, receive, send, data)
            return
        await self._endpoint(scope, data, receive, send)

    async def _refused(self, header: str | None, scope: Scope) -> int | None:
        """None when the request's bearer token is known; else the seconds its client must wait
        (429), 0 for a plain 401. A wrong token counts against the client's address; during its
        wait a token shorter than MIN_TOKEN_CHARS is not looked at, a right one neither: its
        answer would tell a guess apart. A long token is checked all the same, so that a
        helpdesk behind the address of a guesser (one NAT) goes on: telling a guess that it is
        not a long random token tells nothing worth knowing. A success forgets no failures: a
        busy integration would wipe out the count of a guesser behind its NAT."""
        tokens = self.tokens.current()
        candidate = presented(header)
        if candidate is None:  # nothing sent to check: not a guess
            return 0
        if self.throttle is None:
            return None if token_ok(header, tokens) else 0
        long = long_tokens(tokens)
        if token_ok(header, long):
            return None
        client = client_key((scope.get("client") or ("",))[0])
        # the count may be in the state database: off the event loop
        wait = math.ceil(await asyncio.to_thread(self.throttle.wait, client))
        if wait:
            return wait
        if token_ok(header, [t for t in tokens if t not in long]):
            return None
        await asyncio.to_thread(self.throttle.failed, client)
        return 0

    async def _endpoint(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        """The endpoint, given a JSON body without a key sent twice in one object: BentoML's
        parser keeps the last, so `{"accounts": [A], "accounts": [B]}` scored B alone and
        dropped A without a word (a large body is looked at in a thread: the loop stays live)."""
        if scope.get("method") == "POST":
            if len(body) <= INLINE_CHECK_BYTES:
                twice = duplicate_key(body)
            else:
                twice = await asyncio.to_thread(duplicate_key, body)
            if twice is not None:
                message = (
                    f"key {twice!r} sent twice in one JSON object (only one would be read): "
                    "send each key once"
                )
                await _answer(send, 400, message, ["body", twice], "duplicate_key")
                return
        await self.app(scope, _replayed(body, receive), _answers(send, body))

    async def _large(
        self, scope: Scope, receive: Receive, send: Send, body: bytes | None = None
    ) -> None:
        """A large body: handled if fewer than `concurrent_large` are held now, else a 503
        asking to retry (a body not yet read is not read: it costs nothing)."""
        if self.large_now >= self.concurrent_large:
            await _answer(
                send,
                503,
                f"{self.large_now} large requests are being handled: retry in a moment",
                ["body"],
                "busy",
                [(b"retry-after", b"1")],
            )
            return
        self.large_now += 1
        try:
            if body is None:
                body = await _read_body(receive, self.max_body_bytes)
                if body is None:
                    await _gone(send)
                    return
            await self._endpoint(scope, body, receive, send)
        finally:
            self.large_now -= 1


BOM = b"\xef\xbb\xbf"


TOO_LARGE = b"<too large>"  # _read_body's answer for a body beyond its limit (compared by identity)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, before the endpoint sees it (BentoML reads whole bodies anyway), without a
    leading UTF-8 byte-order mark, which Windows tools write before JSON and RFC 8259 lets a
    parser ignore (BentoML's parser calls it invalid JSON). None when the client went away before
    its body was complete (the endpoint would have answered a 500 for it, and logged it);
    TOO_LARGE past `limit` bytes."""
    chunks: list[bytes] = []
    seen = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        seen += len(chunks[-1])
        if seen > limit:
            return TOO_LARGE
        if not message.get("more_body", False):
            return b"".join(chunks).removeprefix(BOM)


INLINE_CHECK_BYTES = 256 * 1024  # a body up to this is checked for duplicate keys on the loop


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def duplicate_key(body: bytes) -> str | None:
    """The first key sent twice in one object of a JSON body, or None (also for a body that is
    no JSON: BentoML's parser tells what is wrong with it)."""
    try:
        json.loads(body, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        return shown_name(str(exc.args[0]))
    except (ValueError, RecursionError):
        return None
    return None


def _replayed(body: bytes, receive: Receive) -> Receive:
    """A receive that gives `body` first, then what the client sends next (its disconnect)."""
    replay = [{"type": "http.request", "body": body, "more_body": False}]

    async def wrapped() -> Message:
        return replay.pop() if replay else await receive()

    return wrapped


async def _gone(send: Send) -> None:
    """The answer to a client that closed the connection mid-body: nobody reads it, the access
    log does (499, as nginx writes it: the client's doing, not a 500 of the service's)."""
    message = "the client closed the connection before its request body was complete"
    await _answer(send, 499, message, ["body"], "disconnected")


PRIVATE_HEADERS = (
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
)


def _hardened(send: Send, private: bool) -> Send:
    """Every answer with `X-Content-Type-Options: nosniff`: a browser shown an API answer reads
    it as the JSON it says it is, never as a page guessed from text it echoes. The answers of a
    token's paths also with `Cache-Control: no-store` (customer data no cache keeps) and a policy
    that lets a browser run, load or frame nothing of them; a header the app set itself (the
    CSM page's own policy) is left as it is."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            names = {bytes(k).lower() for k, _ in headers}
            if b"x-content-type-options" not in names:
                headers.append((b"x-content-type-options", b"nosniff"))
            if private:
                headers += [(k, v) for k, v in PRIVATE_HEADERS if k not in names]
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _answers(send: Send, body: bytes = b"") -> Send:
    """An endpoint's refusals in the service's error shape: BentoML's 400s cleaned (a number
    too long for its parser named by its field in `body`), its plain 404s and 405s as JSON."""
    return _json_not_found(
        _json_rewritten(
            send,
            lambda answer: client_error_shape(answer, body),
            status=400,
            threaded=len(body) > INLINE_CHECK_BYTES,
        )
    )


# the digits before its point a JSON number may have: Python's int-string limit, which the
# parser BentoML uses (pydantic's) keeps for floats too
MAX_NUMBER_DIGITS = 4300


MAX_NAME = 128  # characters of a key's name an answer repeats


def shown_name(name: str) -> str:
    """A key's name as an answer repeats it: its first MAX_NAME characters, and "…" when it
    was longer (a key the client sent a megabyte long made a megabyte answer)."""
    return name[:MAX_NAME] + "…" * (len(name) > MAX_NAME)


class _LongNumber:
    """A JSON number beyond MAX_NUMBER_DIGITS, in place of its value (`long_number`)."""


def _int_or_long(text: str) -> Any:
    return _LongNumber() if len(text.lstrip("-")) > MAX_NUMBER_DIGITS else int(text)


def _float_or_long(text: str) -> Any:
    whole = re.split(r"[.eE]", text.lstrip("-"), maxsplit=1)[0]
    return _LongNumber() if len(whole) > MAX_NUMBER_DIGITS else float(text)


def long_number(body: bytes) -> list[str | int] | None:
    """Where the first number of more than MAX_NUMBER_DIGITS digits before its point sits in a
    JSON body (["accounts", 0, "account", "seats"]), or None; BentoML's parser refused it with
    "number out of range at line 1 column 4421", naming no field."""
    try:
        document = json.loads(body, parse_int=_int_or_long, parse_float=_float_or_long)
    except (ValueError, RecursionError):
        return None
    return _path_of(document, lambda v: isinstance(v, _LongNumber))


def _lone_surrogate(value: Any) -> bool:
    return isinstance(value, str) and any("\ud800" <= c <= "\udfff" for c in value)


def lone_surrogate(body: bytes) -> list[str | int] | None:
    """Where the first text holding half of a UTF-16 surrogate pair (`"\\ud83d"` without its
    `"\\ude00"`: a system that cut an emoji in two) sits in a JSON body, or None; BentoML's
    parser refused it with "lone leading surrogate in hex escape at line 1 column 14"."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return _path_of(document, _lone_surrogate)


def not_utf8(body: bytes) -> list[str | int] | None:
    """Where the first text that is not UTF-8 (Windows-1252's or Latin-1's "ü", the byte 0xFC)
    sits in a JSON body, or None; BentoML's parser refused it with "invalid unicode code point
    at line 1 column 422". Each such byte is read as a lone surrogate (surrogateescape)."""
    try:
        document = json.loads(body.decode("utf-8", "surrogateescape"))
    except (ValueError, RecursionError):
        return None
    return _path_of(document, _lone_surrogate)


def _path_of(document: Any, hit: Callable[[Any], bool]) -> list[str | int] | None:
    """The path of the first value (or key) of a parsed JSON document that `hit` picks."""
    stack: list[tuple[list[str | int], Any]] = [([], document)]
    while stack:  # depth first, in the order the body gives them
        path, value = stack.pop()
        if hit(value):
            return path
        if isinstance(value, dict):
            key = next((k for k in value if hit(k)), None)
            if key is not None:
                return [*path, shown_name(key)]
            items: list[tuple[str | int, Any]] = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        else:
            continue
        stack += [([*path, key if isinstance(key, int) else shown_name(key)], item)
                  for key, item in reversed(items)]  # fmt: skip
    return None


_SCHEMA_ERRORS = re.compile(r"^(\d+) validation errors? for \S+")


def client_error_shape(body: Any, request: bytes = b"") -> dict[str, Any]:
    """BentoML's 400 body as the service's: its refusal of the schema names the request, not
    BentoML's descriptor class ("1 validation error for ScoreRequestIODescriptor"), and each
    detail carries loc, msg and type only (no link to pydantic's docs); a number too long for
    the parser is named by its place in the `request` body, as any other field's error."""
    if isinstance(body, list) and body and isinstance(body[0], dict):  # some come in a list
        body = body[0]
    if not isinstance(body, dict):
        return {"error": "bad request", "detail": []}

    def counted(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f"{n} validation error{'' if n == 1 else 's'} in the request"

    error = _SCHEMA_ERRORS.sub(counted, str(body.get("error") or "bad request"))
    detail = [
        {k: d[k] for k in ("loc", "msg", "type") if k in d}
        for d in body.get("detail") or []
        if isinstance(d, dict)
    ]
    for d in detail:  # pydantic's loc names an unknown key as sent, however long
        if isinstance(d.get("loc"), list):
            d["loc"] = [shown_name(x) if isinstance(x, str) else x for x in d["loc"]]
    for d in detail:
        if d.get("type") != "json_invalid":
            continue
        for words, find, msg, kind in UNREADABLE:
            where = find(request) if words in str(d.get("msg")) else None
            if where is not None:
                d.update(loc=where, msg=msg, type=kind)
                break
    return {"error": error, "detail": detail}


# what BentoML's parser says of a value it cannot read -> where it is, and how it is told
UNREADABLE: list[tuple[str, Callable[[bytes], list[str | int] | None], str, str]] = [
    (
        "number out of range",
        long_number,
        f"a number of more than {MAX_NUMBER_DIGITS:,} digits before its point (no field takes one)",
        "number_too_long",
    ),
    (
        "hex escape",
        lone_surrogate,
        "text with half of a UTF-16 surrogate pair (such as \\ud83d without the \\ude00 that "
        "completes it, where a text was cut inside a character): send whole characters",
        "unicode_surrogate",
    ),
    (
        "invalid unicode code point",
        not_utf8,
        "text that is not UTF-8 (such as Windows-1252's or Latin-1's ü, the byte 0xFC): send "
        "the body encoded as UTF-8",
        "unicode_encoding",
    ),
]


def _json_not_found(send: Send) -> Send:
    """Starlette answers an unknown path (404) or method (405) in plain text: give the client
    the service's JSON error shape instead (keeping headers such as Allow)."""
    held: Message | None = None

    async def wrapped(message: Message) -> None:
        nonlocal held
        if message["type"] == "http.response.start" and message["status"] in (404, 405):
            kind = dict(message.get("headers") or []).get(b"content-type", b"")
            if kind.startswith(b"text/plain"):
                held = message
                return
        if held is None:
            await send(message)
            return
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            status = held["status"]
            keep = [(k, v) for k, v in held.get("headers") or [] if k.lower() == b"allow"]
            if status == 404:
                await _answer(send, 404, "no such endpoint", ["path"], "not_found", keep)
            else:
                await _answer(send, 405, "method not allowed", ["method"], "method", keep)

    return wrapped


def _json_rewritten(
    send: Send, rewrite: Callable[[Any], dict[str, Any]], status: int = 200, threaded: bool = False
) -> Send:
    """A JSON answer of `status` passed through `rewrite` (held until its last chunk); in a
    thread when `threaded` (a rewrite that reads a large request body: the loop stays live)."""
    held: Message | None = None
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        nonlocal held
        if message["type"] == "http.response.start" and message["status"] == status:
            kind = dict(message.get("headers") or []).get(b"content-type", b"")
            if not kind.startswith(b"application/json"):
                await send(message)
                return
            held = message
            return
        if held is None:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        try:
            answer = json.loads(b"".join(chunks))
            rewritten = await asyncio.to_thread(rewrite, answer) if threaded else rewrite(answer)
            body = json.dumps(rewritten).encode()
        except ValueError:  # not the JSON it said: passed on as it came
            body = b"".join(chunks)
        keep = [(k, v) for k, v in held.get("headers") or [] if k.lower() != b"content-length"]
        await send({**held, "headers": [*keep, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def _client_error(exc: BaseException | None) -> bool:
    """Errors of the request, not of the service: validation, bad input, a client gone."""
    from pydantic import ValidationError
    from starlette.requests import ClientDisconnect

    if isinstance(exc, ValidationError | ClientDisconnect):
        return True
    status = getattr(getattr(exc, "error_code", None), "value", None)
    return isinstance(status, int) and 400 <= status < 500


class ClientErrorLogs(logging.Filter):
    """BentoML logs every request it rejects as an ERROR with the traceback, whose message can
    name fields of the request: keep one WARNING line per rejected request instead, with the
    error's type only. Errors of the service itself keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if record.msg == "Exception on %s [%s]" and _client_error(exc):
            record.msg = "rejected %s [%s]: %s"
            record.args = (*(record.args or ()), type(exc).__name__)  # type: ignore[misc]
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


# line breaks and other control characters, also Unicode's (NEL, the line and paragraph separators)
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` with its control characters written as escapes (\\x0a), so that it stays on its line."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class OneLineLogs(logging.Filter):
    """A request's path is the client's text, decoded: `/x%0a... [ERROR] ...` made BentoML's
    access log write a line of the client's choosing, without a token. The arguments of every
    record are kept on their line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) for a in record.args):
            record.args = tuple(one_line(a) if isinstance(a, str) else a for a in record.args)
        return True
