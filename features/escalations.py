"""Escalation family: prior escalations (in the window, in the long window, days since the last)
and those still open or unacknowledged at as_of. Acknowledgements and closures count from when they
happened. The long memory reaches back `long_window_days`, not to the start of the data: counted
from there, a value grows with the export's length and today's accounts would all look worse than
any the model was trained on.
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
    w, long = params.escalations.window_days, params.long_window_days
    return [
        *(
            number(
                f"escalations_{d}d",
                f,
                "escalations",
                f"Escalations opened in {last_days(d)}.",
                f"{{value:.0f}} [escalation|escalations] in {last_days(d)}"
                f"{AT_ZERO}No escalations in {last_days(d)}",
                f"{{value:.0f}} [Eskalation|Eskalationen] {last_days(d, 'de')}"
                f"{AT_ZERO}Keine Eskalationen {last_days(d, 'de')}",
            )
            for d in (long, w)
        ),
        number(
            "escalations_days_since_last",
            f,
            "days",
            f"Days since the last escalation was opened, within {last_days(long)} (NaN if none).",
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
    w, long = ctx.params.escalations.window_days, ctx.params.long_window_days
    n = opened.count(None, end)
    since = (end - opened.last_time(end)) / DAY
    return {
        f"escalations_{long}d": opened.count(ctx.ago(long), end),
        f"escalations_{w}d": opened.count(ctx.ago(w), end),
        "escalations_days_since_last": np.where(
            since <= long, since, np.nan
        ),  # the window holds its edge
        "escalations_open": n - closed.count(None, end),
        "escalations_unacknowledged": n - handled.count(None, end),
    }
