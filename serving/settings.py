"""Values that come only from the environment (secrets and deployment URLs), read at entry points.

Library code receives a `Settings` object (or the single value it needs); only `Settings.from_env`
looks at `os.environ`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from features.errors import UserError

DEFAULT_DATABASE_URL = "sqlite:///escrisk.db"
logger = logging.getLogger("escrisk.settings")


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    mlflow_tracking_uri: str | None = None
    api_tokens: tuple[str, ...] = field(default=())
    smtp_password: str | None = field(default=None, repr=False)
    source: str | None = None  # ESCRISK_SOURCE: what the daily job reads (the CSM page's timelines)
    # ESCRISK_MODEL_VERSION: the registered version every worker of the service loads; `escrisk
    # serve` sets it to the champion it announced, so that a worker started later (a crashed
    # one's replacement) does not load a champion promoted since
    model_version: str | None = None
    # ESCRISK_FORWARDED_PREFIX=1: the service sits behind a proxy that sets X-Forwarded-Prefix
    # (and replaces a client's); without it the header is ignored, as any client may send it
    forwarded_prefix: bool = False
    # ESCRISK_MODEL_CACHE: where the service keeps the bundles it downloaded, to load the pinned
    # version from while the model registry cannot be reached (default: `model_cache`)
    model_cache: str = ""
    # ESCRISK_SERVE_LANGUAGE: the language `escrisk serve --language` told its start in, for
    # what each worker logs (else params' daily.language)
    language: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        tokens = tuple(t.strip() for t in env.get("ESCRISK_API_TOKENS", "").split(",") if t.strip())
        return cls(
            database_url=env.get("ESCRISK_DATABASE_URL") or DEFAULT_DATABASE_URL,
            mlflow_tracking_uri=env.get("MLFLOW_TRACKING_URI") or None,
            api_tokens=tokens,
            smtp_password=env.get("ESCRISK_SMTP_PASSWORD") or None,
            source=env.get("ESCRISK_SOURCE") or None,
            model_version=env.get("ESCRISK_MODEL_VERSION", "").strip() or None,
            forwarded_prefix=switch(env, "ESCRISK_FORWARDED_PREFIX"),
            model_cache=env.get("ESCRISK_MODEL_CACHE") or model_cache(env),
            language=env.get("ESCRISK_SERVE_LANGUAGE", "").strip() or None,
        )


def model_cache(env: Mapping[str, str]) -> str:
    """The user's cache folder's `escalation-risk/models` ($XDG_CACHE_HOME, else ~/.cache)."""
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return str(Path(base) / "escalation-risk" / "models")


SWITCH = {"1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False, "": False}  # fmt: skip


def switch(env: Mapping[str, str], name: str) -> bool:
    """An on/off environment variable (1/true/yes/on, 0/false/no/off, unset); a UserError naming
    it for any other value: a typo must not quietly leave a setting off."""
    value = env.get(name, "").strip()
    if value.lower() not in SWITCH:
        from serving.model_cli_text import Refused

        raise Refused("not_a_switch", name=name, value=value)
    return SWITCH[value.lower()]


def api_tokens(settings: Settings, environ: Mapping[str, str]) -> tuple[str, ...]:
    """Tokens from ESCRISK_API_TOKENS plus one per line of the file named by
    ESCRISK_API_TOKENS_FILE (`read_token_file`). A file that cannot be read is a UserError."""
    path = environ.get("ESCRISK_API_TOKENS_FILE")
    return (*settings.api_tokens, *(read_token_file(path) if path else ()))


def read_token_file(path: str) -> tuple[str, ...]:
    """One token per line (UTF-8; a byte-order mark, as Windows editors write, is dropped; blank
    lines and # comments skipped). A file that cannot be read is a UserError naming it."""
    from serving.model_cli_text import Refused

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise Refused("tokens_file_missing", path=path) from None
    except UnicodeDecodeError as exc:
        raise Refused("tokens_file_not_utf8", path=path, byte=exc.start) from None
    except OSError as exc:
        raise Refused("tokens_file_unreadable", path=path, why=exc.strerror) from None
    lines = (line.strip() for line in text.splitlines())
    return tuple(t for t in lines if t and not t.startswith("#"))


def exposed_token_file(path: str, language: str = "en") -> str | None:
    """A warning when the tokens file can be read by users other than its owner (an editor's
    0644): each token in it calls the API and signs in to the CSM page, as the state database,
    created 0600, is kept from them. None when private, or on a system without POSIX modes."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # read_token_file says what is wrong with it
        return None
    if os.name != "posix" or not mode & 0o077:
        return None
    from serving.model_cli_text import say

    return say("serve_exposed", language, path=path, mode=f"{mode & 0o777:o}")


MIN_TOKEN_CHARS = 20  # `secrets.token_urlsafe(32)` gives 43


def short_tokens(tokens: Iterable[str], language: str = "en") -> str | None:
    """A warning naming the tokens shorter than MIN_TOKEN_CHARS by their key (the first 8 hex
    digits of their SHA-256, as the audit trail names them), never by their text: the API answers
    a wrong token at once, so a short one (`change-me`) can be guessed. None otherwise."""
    short = sorted({hashlib.sha256(t.encode("utf-8")).hexdigest()[:8]
                    for t in tokens if len(t) < MIN_TOKEN_CHARS})  # fmt: skip
    if not short:
        return None
    from serving.model_cli_text import say

    keys = ", ".join(short)
    return say("serve_short_tokens", language, n=len(short), least=MIN_TOKEN_CHARS, keys=keys)


class TokenSource:
    """The bearer tokens a running service accepts: fixed ones (ESCRISK_API_TOKENS) and the
    tokens file's, which is read again when it changes (looked at once a second), so that a
    token added or revoked in the file counts without a restart. A file that turns unreadable
    keeps the tokens last read (an editor's save can leave it missing for a moment)."""

    def __init__(
        self,
        fixed: Iterable[str] = (),
        path: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fixed = tuple(t for t in fixed if t)
        self.path = path
        self.clock = clock
        self._looked = -math.inf
        self._lock = threading.Lock()
        self._stamp = self._stat()  # before reading: a change in between is read at the next look
        self._tokens = self._encoded(read_token_file(path) if path else ())

    @classmethod
    def from_env(cls, settings: Settings, environ: Mapping[str, str]) -> TokenSource:
        return cls(settings.api_tokens, environ.get("ESCRISK_API_TOKENS_FILE") or None)

    def _encoded(self, from_file: Iterable[str]) -> tuple[bytes, ...]:
        return tuple(t.encode("utf-8") for t in (*self.fixed, *from_file))

    def _stat(self) -> tuple[int, ...] | None:
        """What tells a changed file: a new inode (replaced by rename), a new change time (any
        write, also one that kept the modification time and size, as `cp -p` or `rsync -a` do)."""
        try:
            st = os.stat(self.path) if self.path else None
        except OSError:
            return None
        return None if st is None else (st.st_ino, st.st_ctime_ns, st.st_mtime_ns, st.st_size)

    def current(self) -> tuple[bytes, ...]:
        """The tokens as bytes (what the constant-time comparison takes)."""
        if self.path is None:
            return self._tokens
        now = self.clock()
        if now - self._looked < 1.0:
            return self._tokens
        with self._lock:
            self._looked = now
            stamp = self._stat()
            if stamp is None and self._stamp is not None:  # once, till it is back
                self._stamp = None
                logger.warning(
                    "API tokens kept as they were: ESCRISK_API_TOKENS_FILE=%s is gone; to "
                    "revoke every token, empty the file instead",
                    self.path,
                )
            if stamp is not None and stamp != self._stamp:
                try:
                    self._tokens = self._encoded(read_token_file(self.path))
                    self._stamp = stamp
                except UserError as exc:
                    logger.warning("API tokens kept as they were: %s", exc)
        return self._tokens


def token_source(tokens: TokenSource | Iterable[str]) -> TokenSource:
    """A TokenSource as is; a list of tokens (tests, embedding) as fixed tokens."""
    return tokens if isinstance(tokens, TokenSource) else TokenSource(tokens)


def worker_language(settings: Settings, params: Any) -> str:
    """The language a service worker logs its warnings in: `escrisk serve --language`'s (passed
    down as ESCRISK_SERVE_LANGUAGE), else params' daily.language; English for any other."""
    language = settings.language or params.daily.language
    return language if language in ("en", "de") else "en"
