"""Values that come only from the environment (secrets and deployment URLs), read at entry points.

Library code receives a `Settings` object (or the single value it needs); only `Settings.from_env`
looks at `os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from features.errors import UserError

DEFAULT_DATABASE_URL = "sqlite:///escrisk.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    mlflow_tracking_uri: str | None = None
    api_tokens: tuple[str, ...] = field(default=())
    smtp_password: str | None = field(default=None, repr=False)
    source: str | None = None  # ESCRISK_SOURCE: what the daily job reads (the CSM page's timelines)

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
        )


def api_tokens(settings: Settings, environ: Mapping[str, str]) -> tuple[str, ...]:
    """Tokens from ESCRISK_API_TOKENS plus one per line of the file named by
    ESCRISK_API_TOKENS_FILE (UTF-8; a byte-order mark, as Windows editors write, is dropped;
    blank lines and # comments skipped). A file that cannot be read is a UserError naming it."""
    tokens = list(settings.api_tokens)
    path = environ.get("ESCRISK_API_TOKENS_FILE")
    if path:
        where = f"ESCRISK_API_TOKENS_FILE={path}"
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise UserError(f"{where}: file not found") from None
        except UnicodeDecodeError as exc:
            raise UserError(f"{where}: not UTF-8 text (byte {exc.start})") from None
        except OSError as exc:
            raise UserError(f"{where}: cannot read it ({exc.strerror})") from None
        lines = (line.strip() for line in text.splitlines())
        tokens += [t for t in lines if t and not t.startswith("#")]
    return tuple(tokens)
