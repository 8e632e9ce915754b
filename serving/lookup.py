"""The latest stored daily score of one account, for POST /account (written by `escrisk daily`)."""

from __future__ import annotations

import functools
from typing import Any

from serving.store import Store


@functools.cache
def _store(url: str) -> Store:
    return Store(url)


def latest_score(database_url: str, account_id: str) -> dict[str, Any] | None:
    """The account's most recent daily row as an AccountScore mapping, or None if never scored."""
    rows = _store(database_url).daily_scores(account_id=account_id)
    if not rows:
        return None
    r = rows[-1]
    reasons = list(r.get("reasons") or [])
    return {
        "account_id": r["account_id"],
        "as_of": r["day"],
        "escalation_risk": r["escalation_risk"],
        "churn_risk": r["churn_risk"],
        "level": r.get("level") or "",
        "owner": next(
            (x.get("owner") for x in reasons if isinstance(x, dict) and x.get("owner")), None
        ),
        "owners": [],
        "team": None,
        "priority": "",
        "reasons": [
            x for x in reasons if isinstance(x, dict) and {"head", "feature", "text"} <= set(x)
        ],
        "model_version": r.get("model_version") or "",
    }
