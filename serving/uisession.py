"""The CSM page's session cookie and CSRF tokens, derived from the API bearer tokens.

Stateless, so every service worker accepts a cookie another worker issued: the cookie holds the
user's name, an expiry, a random nonce (each login is a session of its own) and an HMAC keyed by
the bearer token the user logged in with, never the token itself. Revoking a token (removing it
from ESCRISK_API_TOKENS) ends its sessions; signing out ends one (the page keeps a hash of the
cookie until it expires). The CSRF token of a form is an HMAC of the session's own signature,
keyed by the same bearer token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from serving.guard import token_ok

COOKIE = "escrisk_ui"
_SESSION = b"escrisk-ui-session|"
_CSRF = b"escrisk-ui-csrf|"


@dataclass(frozen=True)
class Session:
    name: str  # as typed at login
    expires: int  # unix seconds
    csrf: str
    key: str = ""  # `key_id` of the token the user logged in with

    @property
    def by(self) -> str:
        """Who acted, for the audit trail: the name typed at login is the user's word, the key
        tells which token it was said with (the trail's `by` holds at most 128 characters)."""
        return f"{self.name[:112]} (key {self.key})" if self.key else self.name


def key_id(token: bytes) -> str:
    """A token's short public name: the first 8 hex digits of its SHA-256, which an operator
    can compute from the token (`printf %s TOKEN | sha256sum`) and which reveals nothing of it."""
    return hashlib.sha256(token).hexdigest()[:8]


def login_ok(token: str, tokens: Sequence[bytes]) -> bool:
    """The pasted token is a known API token (the service's own constant-time check). The check
    reads a header as ASGI gives it, one Latin-1 character per byte: the form's text is passed
    so, as its UTF-8 bytes (a token like "tök" works with the API and was refused here)."""
    return token_ok(f"Bearer {token.strip().encode('utf-8').decode('latin-1')}", tokens)


def _sign(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _encode(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode("utf-8")).decode("ascii").rstrip("=")


def _decode(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")


def issue(token: str, name: str, expires: int) -> str:
    """The cookie value for a user who logged in with `token` (checked by the caller)."""
    payload = f"{_encode(name)}.{expires}.{secrets.token_hex(8)}"
    return f"{payload}.{_sign(token.strip().encode('utf-8'), _SESSION + payload.encode())}"


def verify(value: str | None, tokens: Sequence[bytes], now: int) -> Session | None:
    """The session a cookie value stands for, or None (malformed, expired, unknown token).

    Every token's signature is computed and compared in constant time, as the API does."""
    if not value or value.count(".") != 3:
        return None
    encoded, expires_text, nonce, signature = value.split(".")
    # ASCII digits only: str.isdigit also accepts e.g. superscripts, which int() refuses
    if not (expires_text.isascii() and expires_text.isdigit()) or len(expires_text) > 18:
        return None  # any expiry a session sets; int() refuses beyond 4,300 digits
    if int(expires_text) <= now:
        return None
    try:
        name = _decode(encoded)
    except (ValueError, UnicodeDecodeError):
        return None
    payload = f"{encoded}.{expires_text}.{nonce}".encode()
    given = signature.encode("ascii", "replace")
    key: bytes | None = None
    for t in tokens:
        if hmac.compare_digest(given, _sign(t, _SESSION + payload).encode()):
            key = t
    if key is None:
        return None
    return Session(
        name=name, expires=int(expires_text), csrf=_sign(key, _CSRF + given), key=key_id(key)
    )


def csrf_ok(session: Session, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf.encode(), str(given).encode())


class LoginThrottle:
    """Failed sign-ins per client, against guessing a token on the login form: after `free`
    failures in a row a client waits 1 s before its next try, then 2 s, 4 s, ... at most
    `max_seconds`; a try before then is refused without its token being looked at. A sign-in
    that works forgets the client's failures, as does an hour without a try. At most
    `max_clients` clients are kept (the longest quiet goes first): a flood of addresses costs
    bounded memory. Each service worker keeps its own count."""

    QUIET_SECONDS = 3600.0

    def __init__(
        self,
        free: int,
        max_seconds: float,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free = free
        self.max_seconds = max_seconds
        self.max_clients = max_clients
        self.clock = clock
        self._lock = threading.Lock()
        self._failed: OrderedDict[str, tuple[int, float]] = OrderedDict()  # -> (in a row, last)

    def _delay(self, failures: int) -> float:
        if failures < self.free or self.max_seconds <= 0:
            return 0.0
        return min(self.max_seconds, 2.0 ** min(failures - self.free, 64))

    def wait(self, client: str) -> float:
        """Seconds before `client` may try again; 0 when it may now."""
        with self._lock:
            got = self._failed.get(client)
            if got is None:
                return 0.0
            failures, last = got
            now = self.clock()
            if now - last > self.QUIET_SECONDS:
                del self._failed[client]
                return 0.0
            return max(0.0, last + self._delay(failures) - now)

    def failed(self, client: str) -> None:
        with self._lock:
            failures = self._failed.pop(client, (0, 0.0))[0]
            self._failed[client] = (failures + 1, self.clock())  # the newest goes last
            while len(self._failed) > self.max_clients:
                self._failed.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failed.pop(client, None)


def client_key(host: str | None) -> str:
    """Whom the throttle counts: the client's address (the proxy's `X-Forwarded-For` where the
    service trusts it, FORWARDED_ALLOW_IPS), an IPv6 one by its /64 network, which one host
    commonly has whole."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return host or ""
    if address.version == 6 and address.ipv4_mapped is not None:  # ::ffff:192.0.2.1
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
