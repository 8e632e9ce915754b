"""SLA family: first-response and resolution breaches and near-misses per window and priority,
and open tickets at risk or already breached at as_of.

A breach is known at its deadline (created + target) if the ticket was not answered/resolved by
then, so a ticket still open at as_of counts as breached from its age, never from its future
resolution time. A near-miss is a target met with less than `near_miss_share` of the allowed
time left; it is known when the response or resolution happened. A ticket is at risk at as_of
while it is open, unmet, and has used more than 1 - near_miss_share of its allowed time.

Targets are clock hours. With a calendar in `sla.business_hours` (contracts stating "8 business
hours, Mon-Fri 08:00-18:00") the policy's targets (`contract.sla_policy`, for tickets without their
own) are business hours: their deadlines are laid on its opening intervals (`features.businesstime`,
the ladder's due-time arithmetic), still known at creation. A ticket's own target stays clock
hours: it is the time to the deadline its helpdesk worked out, in its own business hours already.
"""

from __future__ import annotations

import numpy as np

from features.businesstime import due
from features.context import Absence, Columns, Context, absent_reason, positions
from features.contract import History, from_policy
from features.params import FeatureParams
from features.spec import AT_ZERO, FeatureInfo, last_days, number
from features.windows import NAT, Timeline

FAMILY = "sla"
# the German word is a compound's first part: Erstantwort-SLA, Lösungs-SLA (with its linking s)
KINDS = {"first_response": ("first_response_at", "sla_first_response_hours", "first response", "Erstantwort"),
         "resolution": ("resolved_at", "sla_resolution_hours", "resolution", "Lösungs")}  # fmt: skip


def unavailable(history: History, params: FeatureParams) -> dict[str, Absence]:
    """The family without tickets; its first-response half when no ticket has a first response
    (an import without response times, e.g. Salesforce without CaseMilestone): every ticket
    would read as a breach at its deadline, breaches that never happened."""
    why = absent_reason("tickets", history.tickets)
    if why:
        return {FAMILY: why}
    if history.tickets["first_response_at"].count() == 0:
        return {f"{FAMILY}.first_response": Absence("column_empty", "tickets", "first_response_at")}
    return {}


def spec(params: FeatureParams) -> list[FeatureInfo]:
    f = FAMILY
    out = []
    share = params.sla.near_miss_share
    for kind, (_, _, en, de) in KINDS.items():
        for w in params.windows_days:
            last, letzte = last_days(w), last_days(w, "de")
            out.append(
                number(
                    f"sla_{kind}_breaches_{w}d",
                    f,
                    "tickets",
                    f"Tickets whose {en} target passed unmet in {last} "
                    "(open tickets included, from their age).",
                    f"{{value:.0f}} {en} SLA [breach|breaches] in {last}"
                    f"{AT_ZERO}No {en} SLA breaches in {last}",
                    f"{{value:.0f}} verletzte {de}-[SLA|SLAs] {letzte}"
                    f"{AT_ZERO}Keine verletzten {de}-SLAs {letzte}",
                )
            )
            out.append(
                number(
                    f"sla_{kind}_near_misses_{w}d",
                    f,
                    "tickets",
                    f"Tickets whose {en} target was met with less than {share:.0%} of the "
                    f"allowed time left, in {last}.",
                    f"{{value:.0f}} {en} SLA [near-miss|near-misses] in {last}"
                    f"{AT_ZERO}No {en} SLA near-misses in {last}",
                    f"{{value:.0f}} knapp eingehaltene {de}-[SLA|SLAs] {letzte}"
                    f"{AT_ZERO}Keine knapp eingehaltenen {de}-SLAs {letzte}",
                )
            )
        for w in params.sla.by_priority_windows:
            last, letzte = last_days(w), last_days(w, "de")
            for p in params.priorities:
                out.append(
                    number(
                        f"sla_{kind}_breaches_{p.lower()}_{w}d",
                        f,
                        "tickets",
                        f"{p} tickets whose {en} target passed unmet in {last}.",
                        f"{{value:.0f}} {p} {en} SLA [breach|breaches] in {last}"
                        f"{AT_ZERO}No {p} {en} SLA breaches in {last}",
                        f"{{value:.0f}} verletzte {de}-[SLA|SLAs] bei {p}-Tickets {letzte}"
                        f"{AT_ZERO}Keine verletzten {de}-SLAs bei {p}-Tickets {letzte}",
                    )
                )
        out.append(
            number(
                f"sla_{kind}_at_risk",
                f,
                "tickets",
                f"Open tickets without {en} yet that have used more than "
                f"{1 - share:.0%} of the allowed time.",
                f"{{value:.0f}} open [ticket|tickets] close to [its|their] {en} SLA"
                f"{AT_ZERO}No open tickets close to their {en} SLA",
                f"{{value:.0f}} [offenes Ticket|offene Tickets] kurz vor Ablauf der {de}-SLA"
                f"{AT_ZERO}Keine offenen Tickets kurz vor Ablauf der {de}-SLA",
            )
        )
        out.append(
            number(
                f"sla_{kind}_open_breached",
                f,
                "tickets",
                f"Open tickets without {en} whose target has already passed.",
                f"{{value:.0f}} open [ticket|tickets] past [its|their] {en} SLA"
                f"{AT_ZERO}No open tickets past their {en} SLA",
                f"{{value:.0f}} [offenes Ticket|offene Tickets] mit überschrittener {de}-SLA"
                f"{AT_ZERO}Keine offenen Tickets mit überschrittener {de}-SLA",
            )
        )
    return out


def compute(ctx: Context) -> Columns:
    p = ctx.params
    end = ctx.snaps.as_of
    share = p.sla.near_miss_share
    code = ctx.codes("tickets")
    created = ctx.ns("tickets", "created_at")
    prio = ctx.level("tickets", "priority", p.priorities)
    snaps = ctx.snaps
    resolved = ctx.ns("tickets", "resolved_at")
    cal = p.sla.business_hours
    # the latest time compared with a deadline: business deadlines are laid out up to it
    until = _latest(snaps.as_of * 1_000_000_000, resolved, ctx.ns("tickets", "first_response_at"))
    out: Columns = {}
    for kind, (done_col, target_col, _, _) in KINDS.items():
        # business hours for the policy's targets only: a ticket's own is clock hours to its deadline
        policy = from_policy(ctx.history.tickets, target_col)
        hours = policy_hours(ctx, target_col, policy)
        known = (created != NAT) & np.isfinite(hours)
        target = np.where(known, np.rint(np.nan_to_num(hours) * 3.6e12), 0).astype(np.int64)  # ns
        start = np.where(known, created, NAT)
        deadline = due(start, target, cal, until, policy)
        done = ctx.ns("tickets", done_col)
        has_done = done != NAT
        breached = known & (~has_done | (done > deadline))
        margin = np.rint(target * share).astype(np.int64)
        # the last share of the allowed time, counted as the target is (business hours too)
        risk_start = due(start, target - margin, cal, until, policy)
        near = known & has_done & (done <= deadline) & (done > risk_start)
        br = Timeline.build(snaps, code, deadline, keep=breached)
        br_prio = br.sums({level: prio == i for i, level in enumerate(p.priorities)})
        on_done = ctx.timeline("tickets", done_col).sums({"near": near})
        # a resolved ticket is open no more: it stops waiting for its first response too (an
        # export without response times, a ticket solved without a reply, is not open forever)
        stop = done if done_col == "resolved_at" else _earliest(done, resolved)
        for w in p.windows_days:
            out[f"sla_{kind}_breaches_{w}d"] = br.count(ctx.ago(w), end)
            nm = on_done.sum("near", ctx.ago(w), end)
            out[f"sla_{kind}_near_misses_{w}d"] = nm.astype(np.float64)
        for level in p.priorities:
            for w in p.sla.by_priority_windows:
                n = br_prio.sum(level, ctx.ago(w), end)
                out[f"sla_{kind}_breaches_{level.lower()}_{w}d"] = n.astype(np.float64)
        # at risk at D: more than the share of the target used before D and not yet met or
        # breached, risk_start < D <= min(deadline, done); counted as starts minus ends, both
        # strictly before D (a start at D+0.5 s, floored to D's second, is not known at D)
        risk_end = _earliest(np.where(breached, deadline, done), stop)
        valid = known & (risk_start <= risk_end)
        starts = Timeline.build(snaps, code, risk_start, keep=valid)
        ends = Timeline.build(snaps, code, risk_end, keep=valid)
        out[f"sla_{kind}_at_risk"] = starts.count(None, end) - ends.count(None, end)
        # open and breached at D: deadline < D <= stop (or never stopped)
        closed = Timeline.build(
            snaps, code, np.maximum(deadline, stop), keep=breached & (stop != NAT)
        )
        out[f"sla_{kind}_open_breached"] = br.count(None, end) - closed.count(None, end)
    return out


def policy_hours(ctx: Context, target_col: str, policy: np.ndarray) -> np.ndarray:
    """Each ticket's target in hours: its own, or where it took the policy's (`policy`), that of
    the policy these features are built with (`sla.policy`, a model's), by its account's tier
    and its priority. The data was read with params.yaml's policy of today, which may have been
    restated since the model was trained; a tier or priority the kept policy lacks keeps it."""
    hours = ctx.history.tickets[target_col].to_numpy(dtype=np.float64, na_value=np.nan)
    kept, p = ctx.params.sla.policy, ctx.params
    if kept is None or not policy.any() or not len(ctx.snaps.ids):
        return hours
    attr = "first_response" if target_col == "sla_first_response_hours" else "resolution"
    tiers = tuple(kept)
    grid = np.array(
        [
            [getattr(kept[t][q], attr) if q in kept[t] else np.nan for q in p.priorities]
            for t in tiers
        ],
        dtype=np.float64,
    ).reshape(len(tiers), len(p.priorities))
    code = ctx.codes("tickets")
    tier_of = positions(ctx.snaps.per_account["tier"].to_numpy(dtype=object), tiers)
    tier = np.where(code >= 0, tier_of[np.maximum(code, 0)], -1)
    prio = ctx.level("tickets", "priority", p.priorities)
    ok = policy & (tier >= 0) & (prio >= 0)
    found = grid[np.maximum(tier, 0), np.maximum(prio, 0)]
    return np.where(ok & np.isfinite(found), found, hours)


def _latest(*times: np.ndarray) -> int:
    """The latest of some int64 ns times (NaT ignored; 0 when there are none)."""
    return max([0] + [int(t.max()) for t in times if t.size])


def _earliest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The earlier of two times per row, NaT (unknown) only where both are."""
    return np.where(a == NAT, b, np.where(b == NAT, a, np.minimum(a, b)))
