"""The latest stored daily score of one account, for POST /account (written by `escrisk daily`)."""

from __future__ import annotations

import functools
from typing import Any

from features.errors import UserError
from serving.dailystore import DailyStore
from serving.store import Store, StoreUnavailable, open_existing


@functools.cache
def _store(url: str) -> Store:
    return open_existing(url)


@functools.cache
def _daily(url: str) -> DailyStore:
    return DailyStore(_store(url))


def store_problem(database_url: str) -> str | None:
    """Why POST /account cannot answer now (no database yet, a wrong URL, a server that is
    down), or None; the service logs it at start-up and keeps scoring. Never raises."""
    try:  # both opened now, for the first /account (opening one waits for no writer's lock)
        _daily(database_url)
    except StoreUnavailable as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 (a start-up check must not stop the service)
        return f"the database cannot be used ({type(exc).__name__})"
    return None


def latest_score(database_url: str, account_id: str) -> dict[str, Any] | None:
    """The account's most recent daily row as an AccountScore mapping, or None if never scored."""
    store = _store(database_url)
    rows = store.daily_scores(account_id=account_id, last=1)
    if not rows:
        return None
    r = rows[-1]
    reasons = list(r.get("reasons") or [])
    try:  # the CSM on the day's list
        owner = _daily(database_url).account_history(account_id, days=1)[-1].get("csm_owner")
    except UserError:
        owner = None
    # who acts, which team, what priority: the day's ladder decision; rows stored before the
    # daily job kept it fall back to the decision that set the current level
    last: dict[str, Any] = r
    if r.get("team") is None:
        changes = store.rows("level_changes", account_id, last=1)
        last = changes[-1] if changes else {}
    return {
        "account_id": r["account_id"],
        "as_of": r["day"],
        "escalation_risk": r["escalation_risk"],
        "churn_risk": r["churn_risk"],
        "level": r.get("level") or "",
        "owner": owner,
        "owners": list(last.get("owners") or []),
        "team": last.get("team"),
        "priority": last.get("priority") or "",
        "reasons": [
            x for x in reasons if isinstance(x, dict) and {"head", "feature", "text"} <= set(x)
        ],
        "model_version": r.get("model_version") or "",
    }
