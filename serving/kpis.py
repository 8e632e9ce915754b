"""Escalation KPIs that CS leaders track, computed from the audit trail's records.

Pure: rows in (as returned by `Store.rows` / `Store.daily_scores`), numbers out. An escalation is
a level change upwards; acknowledgements, resolutions and feedback refer to it by decision id.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Rows = Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class LadderKpis:
    escalations: int
    accounts_escalated: int
    accounts_scored: int
    account_days_scored: int
    escalation_rate: float | None  # escalations per scored account-day
    escalations_per_account: float | None  # per scored account
    median_hours_to_acknowledge: float | None
    median_hours_to_resolve: float | None
    acknowledged_share: float | None  # escalations acknowledged at all
    confirmed_share: float | None  # flags with CSM feedback that the CSM agreed with
    per_account: Mapping[str, int]


def _hours(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds() / 3600.0


def _first_after(rows: Rows) -> dict[str, dt.datetime]:
    first: dict[str, dt.datetime] = {}
    for r in rows:
        did = r.get("decision_id")
        if did is not None and (did not in first or r["at"] < first[did]):
            first[did] = r["at"]
    return first


def ladder_kpis(
    changes: Rows,
    acknowledgements: Rows,
    resolutions: Rows,
    feedback: Rows,
    daily_scores: Rows,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> LadderKpis:
    """KPIs over escalations that happened in [since, until)."""

    def inside(t: dt.datetime) -> bool:
        return (since is None or t >= since) and (until is None or t < until)

    ups = [c for c in changes if c["direction"] == "up" and inside(c["at"])]
    acked, resolved = _first_after(acknowledgements), _first_after(resolutions)
    to_ack = [_hours(c["at"], acked[c["decision_id"]]) for c in ups if c["decision_id"] in acked]
    to_res = [
        _hours(c["at"], resolved[c["decision_id"]]) for c in ups if c["decision_id"] in resolved
    ]

    flagged = {c["decision_id"] for c in ups}
    latest: dict[str, tuple[dt.datetime, int, bool]] = {}
    for f in feedback:  # the latest verdict per flag counts
        did = f["decision_id"]
        if did in flagged and (did not in latest or (f["at"], f.get("id", 0)) >= latest[did][:2]):
            latest[did] = (f["at"], f.get("id", 0), bool(f["agree"]))

    days = [
        s for s in daily_scores if inside(dt.datetime.combine(s["day"], dt.time(), tzinfo=dt.UTC))
    ]
    accounts = {s["account_id"] for s in days}
    per_account = Counter(c["account_id"] for c in ups)
    return LadderKpis(
        escalations=len(ups),
        accounts_escalated=len(per_account),
        accounts_scored=len(accounts),
        account_days_scored=len(days),
        escalation_rate=len(ups) / len(days) if days else None,
        escalations_per_account=len(ups) / len(accounts) if accounts else None,
        median_hours_to_acknowledge=statistics.median(to_ack) if to_ack else None,
        median_hours_to_resolve=statistics.median(to_res) if to_res else None,
        acknowledged_share=len(to_ack) / len(ups) if ups else None,
        confirmed_share=(sum(v[2] for v in latest.values()) / len(latest) if latest else None),
        per_account=dict(sorted(per_account.items())),
    )


def store_kpis(
    store: Any, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> LadderKpis:
    """The KPIs over everything in a `serving.store.Store` (the edge that reads the records)."""
    return ladder_kpis(
        store.rows("level_changes"),
        store.rows("acknowledgements"),
        store.rows("resolutions"),
        store.rows("feedback"),
        store.daily_scores(),
        since,
        until,
    )
