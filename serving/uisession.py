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
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from serving.guard import token_ok
from serving.throttle import LoginThrottle, client_key

__all__ = ["LoginThrottle", "client_key"]  # the page's sign-in throttle lives beside the API's

COOKIE = "escrisk_ui"
# over HTTPS: a browser lets no plain-HTTP page of the host (another port's service, or a
# network attacker's answer) set a cookie of this name, as it could the plain one and sign a
# user in as someone else; `__Host-` would need Path=/, sending the session to every path of a
# host the page shares behind a proxy (/risk/ui/ beside /other/)
SECURE_COOKIE = "__Secure-" + COOKIE


def cookie_name(https: bool) -> str:
    """The session cookie's name: `__Secure-` over HTTPS (then Secure too), plain over HTTP,
    where a browser refuses a `__Secure-` cookie."""
    return SECURE_COOKIE if https else COOKIE


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
