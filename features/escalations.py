"""Escalation family: prior escalations (count, in the window, days since the last) and those still
open or unacknowledged at as_of. Acknowledgements and closures count from when they happened.
"""

from __future__ import annotations

import numpy as np

from features.context import Absence, Columns, Context, absent_reason
from features.contract import History
from features.params import FeatureParams
from features.spec import AT_ZERO, FeatureInfo, last_days, number
from features.windows import DAY, NAT, Timeline

FAMILY = "escalations"


def unavailable(history: History, params: FeatureParams) -> dict[str, Absence]:
    why = absent_reason("escalations", history.escalations)
    return {FAMILY: why} if why else {}


def spec(params: FeatureParams) -> list[FeatureInfo]:
    f = FAMILY
    w = params.escalations.window_days
    return [
        number(
            "escalations_count",
            f,
            "escalations",
            "Escalations opened before as_of.",
            f"{{value:.0f}} [escalation|escalations] so far{AT_ZERO}No escalations so far",
            f"Bisher {{value:.0f}} [Eskalation|Eskalationen]{AT_ZERO}Bisher keine Eskalationen",
        ),
        number(
            f"escalations_{w}d",
            f,
            "escalations",
            f"Escalations opened in {last_days(w)}.",
            f"{{value:.0f}} [escalation|escalations] in {last_days(w)}"
            f"{AT_ZERO}No escalations in {last_days(w)}",
            f"{{value:.0f}} [Eskalation|Eskalationen] {last_days(w, 'de')}"
            f"{AT_ZERO}Keine Eskalationen {last_days(w, 'de')}",
        ),
        number(
            "escalations_days_since_last",
            f,
            "days",
            "Days since the last escalation was opened (NaN if none).",
            # at least a moment before as_of: "0 days ago" is less than a day, not today
            f"Last escalation {{value:.0f}} [day|days] ago{AT_ZERO}Last escalation less than a "
            "day ago",
            f"Letzte Eskalation vor {{value:.0f}} [Tag|Tagen]{AT_ZERO}Letzte Eskalation vor "
            "weniger als einem Tag",
        ),
        number(
            "escalations_open",
            f,
            "escalations",
            "Escalations opened and not closed before as_of.",
            f"{{value:.0f}} [escalation|escalations] still open{AT_ZERO}No escalations open",
            f"{{value:.0f}} [Eskalation|Eskalationen] noch offen{AT_ZERO}Keine Eskalationen offen",
        ),
        number(
            "escalations_unacknowledged",
            f,
            "escalations",
            "Open escalations not acknowledged before as_of.",
            f"{{value:.0f}} open [escalation|escalations] not yet acknowledged"
            f"{AT_ZERO}No unacknowledged open escalations",
            f"{{value:.0f}} [offene Eskalation|offene Eskalationen] noch nicht bestätigt"
            f"{AT_ZERO}Keine unbestätigten offenen Eskalationen",
        ),
    ]


def compute(ctx: Context) -> Columns:
    code = ctx.codes("escalations")
    ack_ns, closed_ns = ctx.ns("escalations", "acknowledged_at"), ctx.ns("escalations", "closed_at")
    opened = ctx.timeline("escalations", "opened_at")
    closed = ctx.timeline("escalations", "closed_at")
    # handled = acknowledged or closed, whichever came first (NaT only when neither happened)
    first_done = np.where(
        ack_ns == NAT, closed_ns, np.where(closed_ns == NAT, ack_ns, np.minimum(ack_ns, closed_ns))
    )
    handled = Timeline.build(ctx.snaps, code, first_done)
    end = ctx.snaps.as_of
    w = ctx.params.escalations.window_days
    n = opened.count(None, end)
    return {
        "escalations_count": n,
        f"escalations_{w}d": opened.count(ctx.ago(w), end),
        "escalations_days_since_last": (end - opened.last_time(end)) / DAY,
        "escalations_open": n - closed.count(None, end),
        "escalations_unacknowledged": n - handled.count(None, end),
    }
