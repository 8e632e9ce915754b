"""Usage family: active users and events over the last short and long windows against the
account's own baseline; percentage drop, slope, z-score, days since the last active day, seat use.

A usage row for day d is known from d + 1 (d < as_of). Days count from the account's first usage
row (and never before the contract start); after it, days without a row count as zero usage
(exports usually omit idle days). An account with no usage row before as_of has NaN usage features. All sums
are integer prefix sums on the daily rows, so results are exact and independent of row order.
"""

from __future__ import annotations

import numpy as np

from features.context import Absence, Columns, Context, absent_reason, ns_since_epoch
from features.contract import History
from features.params import FeatureParams
from features.spec import AT_ZERO, FeatureInfo, last_days, number
from features.windows import DAY, Timeline, ratio

FAMILY = "usage"


def unavailable(history: History, params: FeatureParams) -> dict[str, Absence]:
    why = absent_reason("usage", history.usage)
    return {FAMILY: why} if why else {}


def spec(params: FeatureParams) -> list[FeatureInfo]:
    f = FAMILY
    u = params.usage
    s, lg, b = u.short_days, u.long_days, u.baseline_days
    out = []
    for metric, en, de, keine in (  # keine: the German words after "keine"
        ("active_users", "active users", "aktive Nutzer", "aktiven Nutzer"),
        ("events", "events", "Ereignisse", "Ereignisse"),
    ):
        for w in (s, lg):
            out.append(
                number(
                    f"usage_{metric}_mean_{w}d",
                    f,
                    f"{en} per day",
                    f"Mean daily {en} over {last_days(w)}.",
                    f"{{value:,.1f}} {en} per day over {last_days(w)}"
                    f"{AT_ZERO}No {en} in {last_days(w)}",
                    f"{{value:,.1f}} {de} pro Tag {last_days(w, 'de')}"
                    f"{AT_ZERO}Keine {keine} {last_days(w, 'de')}",
                )
            )
        out.append(
            number(
                f"usage_{metric}_baseline",
                f,
                f"{en} per day",
                f"Mean daily {en} over the {b} days before {last_days(lg)} (the baseline).",
                f"{{value:,.1f}} {en} per day at baseline{AT_ZERO}No {en} at baseline",
                f"{{value:,.1f}} {de} pro Tag im Mittel davor{AT_ZERO}Keine {keine} im Mittel davor",
            )
        )
        out.append(
            number(
                f"usage_{metric}_pct_drop",
                f,
                "share",
                f"1 - ({lg}-day mean / baseline mean): how far {en} fell below the baseline.",
                # a value below zero is a rise: told as one, not as "down -4%"
                f"{en.capitalize()} down {{value:.0%}} against the {b}-day baseline"
                f" || {en.capitalize()} up {{value:.0%}} against the {b}-day baseline",
                f"{de[:1].upper()}{de[1:]} {{value:.0%}} unter dem {b}-Tage-Mittel"
                f" || {de[:1].upper()}{de[1:]} {{value:.0%}} über dem {b}-Tage-Mittel",
            )
        )
        out.append(
            number(
                f"usage_{metric}_pct_drop_{s}d",
                f,
                "share",
                f"1 - ({s}-day mean / baseline mean).",
                f"{en.capitalize()} in {last_days(s)} down {{value:.0%}} against the baseline"
                f" || {en.capitalize()} in {last_days(s)} up {{value:.0%}} against the baseline",
                f"{de[:1].upper()}{de[1:]} {last_days(s, 'de_of')} {{value:.0%}} unter dem Mittel"
                f" || {de[:1].upper()}{de[1:]} {last_days(s, 'de_of')} {{value:.0%}} über dem "
                "Mittel",
            )
        )
    out += [
        number(
            f"usage_active_users_slope_{lg}d",
            f,
            "share of mean per day",
            f"Least-squares slope of daily active users over {last_days(lg)}, divided by their mean.",
            "Active users changing by {value:+.1%} per day",
            "Aktive Nutzer ändern sich um {value:+.1%} pro Tag",
        ),
        number(
            f"usage_active_users_zscore_{s}d",
            f,
            "standard deviations",
            f"({s}-day mean - baseline mean) / baseline standard deviation of daily active users.",
            "Active users {value:+.1f} standard deviations from normal",
            "Aktive Nutzer {value:+.1f} Standardabweichungen vom Normalwert",
        ),
        number(
            "usage_days_since_active",
            f,
            "days",
            "Days since the last day with any active user or event (NaN if none yet).",
            # 0: active on the last day with usage data, the day before as_of
            f"No activity for {{value:.0f}} [day|days]{AT_ZERO}Last active yesterday",
            f"Seit {{value:.0f}} [Tag|Tagen] keine Aktivität{AT_ZERO}Zuletzt gestern aktiv",
        ),
        number(
            "usage_seat_utilisation",
            f,
            "share",
            f"Mean daily active users over {last_days(lg)} per licensed seat.",
            f"{{value:.0%}} of seats in use{AT_ZERO}No seats in use",
            f"{{value:.0%}} der Plätze genutzt{AT_ZERO}Keine Plätze genutzt",
        ),
    ]
    return out


def compute(ctx: Context) -> Columns:
    u = ctx.params.usage
    s, lg, b = u.short_days, u.long_days, u.baseline_days
    code = ctx.codes("usage")
    date_ns = ctx.ns("usage", "date")
    start_ns = ns_since_epoch(ctx.snaps.per_account["contract_start"])  # per account code
    in_contract = (code >= 0) & (
        date_ns >= start_ns[np.maximum(code, 0)]
    )  # days before the contract do not count
    day = np.floor_divide(date_ns, 1_000_000_000 * DAY)  # integer day numbers since the epoch
    au = ctx.ints("usage", "active_users")
    evn = ctx.ints("usage", "events")
    rows = Timeline.build(ctx.snaps, code, date_ns, keep=in_contract)
    ev = rows.sums({"au": au, "au2": au * au, "tau": day * au, "ev": evn})
    end = ctx.snaps.as_of
    # days count from the account's first usage row known at as_of (before it: not yet tracked);
    # an account with no usage row before as_of has no usage features (NaN), not zeros
    first = rows.first_time(end)
    start_day = np.where(np.isnan(first), end // DAY, np.nan_to_num(first) // DAY).astype(np.int64)
    d = end // DAY  # as_of's day number: rows for days < d are known

    def days(w_from: int, w_to: int) -> np.ndarray:
        """Counted days in [d - w_from, d - w_to): those on or after the contract start."""
        lo = np.maximum(d - w_from, start_day)
        return np.maximum(d - w_to - lo, 0)

    def total(name: str, w_from: int, w_to: int) -> np.ndarray:
        return ev.sum(name, ctx.ago(w_from), ctx.ago(w_to))

    out: dict[str, np.ndarray] = {}
    for metric, key in (("active_users", "au"), ("events", "ev")):
        for w in (s, lg):
            out[f"usage_{metric}_mean_{w}d"] = ratio(total(key, w, 0), days(w, 0))
        base = ratio(total(key, lg + b, lg), days(lg + b, lg))
        out[f"usage_{metric}_baseline"] = base
        out[f"usage_{metric}_pct_drop"] = 1.0 - ratio(out[f"usage_{metric}_mean_{lg}d"], base)
        out[f"usage_{metric}_pct_drop_{s}d"] = 1.0 - ratio(out[f"usage_{metric}_mean_{s}d"], base)
    # slope: exact integer sums over the counted days t in [lo, d) of the long window
    n = days(lg, 0)
    lo = d - n
    sum_t = (lo + d - 1) * n // 2
    sum_t2 = _sum_squares(d - 1) - _sum_squares(lo - 1)
    sum_y = total("au", lg, 0)
    sum_ty = total("tau", lg, 0)
    num = (n * sum_ty - sum_t * sum_y).astype(np.float64)
    den = (n * sum_t2 - sum_t * sum_t).astype(np.float64)
    out[f"usage_active_users_slope_{lg}d"] = ratio(
        ratio(num, den), out[f"usage_active_users_mean_{lg}d"]
    )
    nb = days(lg + b, lg)
    yb, y2b = total("au", lg + b, lg), total("au2", lg + b, lg)
    var = ratio((nb * y2b - yb * yb).astype(np.float64), (nb * nb).astype(np.float64))
    std = np.sqrt(np.maximum(var, 0.0))
    out[f"usage_active_users_zscore_{s}d"] = ratio(
        out[f"usage_active_users_mean_{s}d"] - out["usage_active_users_baseline"], std
    )
    last = rows.last_time(end, where=(au > 0) | (evn > 0))
    out["usage_days_since_active"] = (end - last) / DAY - 1.0  # yesterday's activity -> 0 days
    seats = ctx.snaps.floats_at_rows("seats")
    out["usage_seat_utilisation"] = ratio(out[f"usage_active_users_mean_{lg}d"], seats)
    columns: Columns = {}
    columns.update(out)
    return columns


def _sum_squares(k: np.ndarray) -> np.ndarray:
    """Sum of t^2 for t = 1..k (exact integers; day numbers are positive)."""
    k = k.astype(np.int64)
    return k * (k + 1) * (2 * k + 1) // 6
