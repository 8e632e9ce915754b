"""Ticket volume family: tickets per window and priority, open backlog, trend, reopen rate,
response and resolution times, tickets per seat.

A ticket counts from its creation; its resolution, first response and reopens count from the
moment they happened (a reopen count is known once the ticket is finally resolved).
"""

from __future__ import annotations

import numpy as np

from features.context import Absence, Columns, Context, absent_reason
from features.contract import History
from features.params import FeatureParams
from features.spec import AT_ZERO, FeatureInfo, last_days, number
from features.windows import NAT, ratio

FAMILY = "tickets"


def unavailable(history: History, params: FeatureParams) -> dict[str, Absence]:
    why = absent_reason("tickets", history.tickets)
    return {FAMILY: why} if why else {}


def _p(priority: str) -> str:
    return priority.lower()


def spec(params: FeatureParams) -> list[FeatureInfo]:
    f = FAMILY
    out = []
    for w in params.windows_days:
        en, de = last_days(w), last_days(w, "de")
        out.append(
            number(
                f"tickets_{w}d",
                f,
                "tickets",
                f"Tickets created in {en} before as_of.",
                f"{{value:.0f}} [ticket|tickets] in {en}{AT_ZERO}No tickets in {en}",
                f"{{value:.0f}} [Ticket|Tickets] {de}{AT_ZERO}Keine Tickets {de}",
            )
        )
    for w in params.tickets.by_priority_windows:
        en, de = last_days(w), last_days(w, "de")
        for p in params.priorities:
            out.append(
                number(
                    f"tickets_{_p(p)}_{w}d",
                    f,
                    "tickets",
                    f"{p} tickets created in {en} before as_of.",
                    f"{{value:.0f}} {p} [ticket|tickets] in {en}{AT_ZERO}No {p} tickets in {en}",
                    f"{{value:.0f}} {p}-[Ticket|Tickets] {de}{AT_ZERO}Keine {p}-Tickets {de}",
                )
            )
    tr = params.tickets.trend
    longest = max(params.windows_days)
    out += [
        number(
            "tickets_open",
            f,
            "tickets",
            "Tickets created before as_of and not resolved before it (backlog).",
            f"{{value:.0f}} [ticket|tickets] open{AT_ZERO}No tickets open",
            f"{{value:.0f}} [offenes Ticket|offene Tickets]{AT_ZERO}Keine offenen Tickets",
        ),
        number(
            "tickets_open_p1",
            f,
            "tickets",
            f"Open {params.priorities[0]} tickets at as_of.",
            f"{{value:.0f}} open {params.priorities[0]} [ticket|tickets]"
            f"{AT_ZERO}No open {params.priorities[0]} tickets",
            f"{{value:.0f}} [offenes|offene] {params.priorities[0]}-[Ticket|Tickets]"
            f"{AT_ZERO}Keine offenen {params.priorities[0]}-Tickets",
        ),
        number(
            "tickets_trend",
            f,
            "log ratio",
            f"log((tickets in {last_days(tr.recent_days)} + 1) / (expected from the "
            f"{tr.baseline_days} days before them + 1)); 0 = as usual, > 0 = more than usual.",
            "Ticket volume {value:+.1f} (log) against its own baseline",
            "Ticketaufkommen {value:+.1f} (log) gegenüber dem eigenen Mittel",
        ),
        number(
            f"tickets_reopen_rate_{longest}d",
            f,
            "share",
            f"Share of tickets resolved in {last_days(longest)} that had been reopened.",
            f"{{value:.0%}} of recently resolved tickets were reopened"
            f"{AT_ZERO}None of the recently resolved tickets were reopened",
            f"{{value:.0%}} der zuletzt gelösten Tickets wurden wieder geöffnet"
            f"{AT_ZERO}Keines der zuletzt gelösten Tickets wurde wieder geöffnet",
        ),
        number(
            f"tickets_per_seat_{tr.recent_days}d",
            f,
            "tickets per seat",
            f"Tickets in {last_days(tr.recent_days)} per licensed seat.",
            f"{{value:.2f}} tickets per seat in {last_days(tr.recent_days)}",
            f"{{value:.2f}} Tickets pro Platz {last_days(tr.recent_days, 'de')}",
        ),
        number(
            f"tickets_first_response_hours_mean_{longest}d",
            f,
            "hours",
            f"Mean hours to first response of responses given in {last_days(longest)}.",
            "First responses took {value:.1f} hours on average",
            "Erstantworten dauerten im Mittel {value:.1f} Stunden",
        ),
        number(
            f"tickets_resolution_hours_mean_{longest}d",
            f,
            "hours",
            f"Mean hours to resolution of tickets resolved in {last_days(longest)}.",
            "Resolution took {value:.1f} hours on average",
            "Lösungen dauerten im Mittel {value:.1f} Stunden",
        ),
    ]
    return out


def compute(ctx: Context) -> Columns:
    p = ctx.params
    snaps, end = ctx.snaps, ctx.snaps.as_of
    created_ns, fr_ns = ctx.ns("tickets", "created_at"), ctx.ns("tickets", "first_response_at")
    res_ns = ctx.ns("tickets", "resolved_at")
    prio = ctx.level("tickets", "priority", p.priorities)
    is_p1 = prio == 0
    created = ctx.timeline("tickets", "created_at")
    by_prio = created.sums({level: prio == i for i, level in enumerate(p.priorities)})
    resolved = ctx.timeline("tickets", "resolved_at")
    done = resolved.sums(
        {
            "p1": is_p1,
            "reopened": ctx.ints("tickets", "reopen_count") > 0,
            "secs": _secs(res_ns, created_ns),
        }
    )
    out: Columns = {}
    for w in p.windows_days:
        out[f"tickets_{w}d"] = created.count(ctx.ago(w), end)
    for level in p.priorities:
        for w in p.tickets.by_priority_windows:
            n = by_prio.sum(level, ctx.ago(w), end)
            out[f"tickets_{_p(level)}_{w}d"] = n.astype(np.float64)
    out["tickets_open_p1"] = (
        by_prio.sum(p.priorities[0], None, end) - done.sum("p1", None, end)
    ).astype(np.float64)
    out["tickets_open"] = created.count(None, end) - resolved.count(None, end)
    tr = p.tickets.trend
    recent = created.count(ctx.ago(tr.recent_days), end)
    base = created.count(ctx.ago(tr.recent_days + tr.baseline_days), ctx.ago(tr.recent_days))
    out["tickets_trend"] = np.log((recent + 1.0) / (base * tr.recent_days / tr.baseline_days + 1.0))
    longest = max(p.windows_days)
    n_res = resolved.count(ctx.ago(longest), end)
    out[f"tickets_reopen_rate_{longest}d"] = ratio(
        done.sum("reopened", ctx.ago(longest), end), n_res
    )
    out[f"tickets_resolution_hours_mean_{longest}d"] = ratio(
        done.sum("secs", ctx.ago(longest), end), n_res * 3600.0
    )
    seats = snaps.floats_at_rows("seats")
    out[f"tickets_per_seat_{tr.recent_days}d"] = ratio(recent, seats)
    responded = ctx.timeline("tickets", "first_response_at")
    n_fr = responded.count(ctx.ago(longest), end)
    response_secs = responded.sums({"secs": _secs(fr_ns, created_ns)})
    out[f"tickets_first_response_hours_mean_{longest}d"] = ratio(
        response_secs.sum("secs", ctx.ago(longest), end), n_fr * 3600.0
    )
    return out


def _secs(later_ns: np.ndarray, earlier_ns: np.ndarray) -> np.ndarray:
    """Whole seconds between two times (0 where either is missing): integer sums stay exact."""
    ok = (later_ns != NAT) & (earlier_ns != NAT)
    return np.where(ok, (later_ns - earlier_ns) // 1_000_000_000, 0).astype(np.int64)
