"""The ladder's account facts as of a day: size, renewal and open P1/P2 tickets (past their SLA).

Point in time like the features: a ticket counts as open on day D (midnight UTC) if it was created
before D and not resolved before D; it is past its SLA when its resolution target ended before D,
counted as the SLA features count it: the policy's targets in the business hours of
`features.sla.business_hours` (when set), a ticket's own in clock hours to its helpdesk's deadline.
"P1" and "P2" are the first two of `features.priorities` (whatever a helpdesk calls them); the
days to renewal are the export's renewal date's, unknown once it has passed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.businesstime import deadlines
from features.context import positions
from features.contract import History, from_policy
from features.params import FeatureParams
from features.windows import NAT, ns_since_epoch
from serving.ladder import AccountFacts


def account_facts(
    history: History, as_of: pd.Timestamp, params: FeatureParams
) -> dict[str, AccountFacts]:
    """Facts per account id, for every account of the history (the daily job's 100,000 and the
    service's one alike: counted with numpy over the ticket rows, no per-account pandas)."""
    a = history.accounts
    t = history.tickets
    account_ids = a["account_id"].to_numpy(dtype=object)
    ids = account_ids.tolist()
    code = positions(t["account_id"].to_numpy(dtype=object), account_ids)
    at = pd.Timestamp(as_of).value  # ns since the epoch, UTC
    created = ns_since_epoch(t["created_at"])
    resolved = ns_since_epoch(t["resolved_at"])
    known = (created != NAT) & (created < at)
    open_ = known & ((resolved == NAT) | (resolved >= at)) & (code >= 0)
    # the SLA deadline of the open tickets only: a small share of a portfolio's history
    hours = t["sla_resolution_hours"].to_numpy(dtype=np.float64, na_value=np.nan)[open_]
    # as the SLA features count them: the policy's targets in business hours (`sla.business_hours`)
    policy = from_policy(t, "sla_resolution_hours")[open_]
    cal = params.sla.business_hours
    due = deadlines(created[open_], hours, cal, until=at, on_calendar=policy)  # NaT: no target
    past = open_.copy()
    past[open_] = (due != NAT) & (due < at)
    prio = t["priority"].to_numpy(dtype=object)
    n = len(ids)

    def count(mask: np.ndarray, priority: str | None) -> list[int]:
        if priority is None:  # a contract with a single priority has no second one
            return [0] * n
        return np.bincount(code[mask & (prio == priority)], minlength=n).tolist()

    first, second = (*params.priorities, None)[:2]
    renewal_ns = ns_since_epoch(a["renewal_date"])
    days = np.floor_divide(renewal_ns - at, 86_400 * 10**9)
    # the export's renewal date as it stands (the ladder acts on today's facts; stepping it back
    # by assumed 12-month terms, as the feature does for past snapshots, made a two-year deal
    # renew in 71 days); one already passed (a stale export) is unknown, not imminent
    renewal = [
        None if r == NAT or d < 0 else d
        for r, d in zip(renewal_ns.tolist(), days.tolist(), strict=True)
    ]
    columns = zip(
        ids,
        a["arr"].tolist(),  # the Python scalars astype(object).tolist() gives, without its copy
        a["tier"].tolist(),
        a["seats"].tolist(),
        renewal,
        a["language"].tolist(),
        a["csm_owner"].to_numpy(dtype=object).tolist(),
        a["name"].to_numpy(dtype=object).tolist(),
        count(open_, first),
        count(open_, second),
        count(past, first),
        count(past, second),
        strict=True,
    )
    return {
        aid: AccountFacts(
            arr=float(arr),
            tier=str(tier),
            seats=int(seats),
            days_to_renewal=dtr,
            language=str(lang),
            csm_owner=owner,
            name=None if name is None or name != name else str(name),
            open_p1=p1,
            open_p2=p2,
            open_p1_past_sla=p1_past,
            open_p2_past_sla=p2_past,
        )
        for aid, arr, tier, seats, dtr, lang, owner, name, p1, p2, p1_past, p2_past in columns
    }
