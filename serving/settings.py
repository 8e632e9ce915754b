"""Values that come only from the environment (secrets and deployment URLs), read at entry points.

Library code receives a `Settings` object (or the single value it needs); only `Settings.from_env`
looks at `os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

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
