"""Account family: tenure, days to renewal, ARR, seats and tier, from the accounts table.

The accounts table is a snapshot as of the export, not a history: ARR, seats, tier and renewal
date are taken as they are now (see docs/features.md, "Known limits").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.context import Absence, Columns, Context
from features.contract import History
from features.params import FeatureParams
from features.spec import AT_ZERO, UNKNOWN, FeatureInfo, category, number
from features.windows import DAY, seconds

FAMILY = "account"
NAT_SECONDS = np.floor_divide(np.iinfo(np.int64).min, 1_000_000_000)  # seconds() of NaT


def unavailable(history: History, params: FeatureParams) -> dict[str, Absence]:
    return {}  # the accounts table is required and every snapshot row has an account


def spec(params: FeatureParams) -> list[FeatureInfo]:
    f = FAMILY
    return [
        number(
            "tenure_days",
            f,
            "days",
            "Days since the contract started.",
            f"Customer for {{value:.0f}} [day|days]{AT_ZERO}Customer since today",
            f"Seit {{value:.0f}} [Tag|Tagen] Kunde{AT_ZERO}Seit heute Kunde",
        ),
        number(
            "days_to_renewal",
            f,
            "days",
            "Days from as_of to the next renewal: the export's renewal date stepped back by whole "
            "contract terms (accounts.term_months calendar months; 12 where missing) to the "
            "first on or after as_of, so a "
            "renewal agreed later never leaks into the past; negative once passed.",
            "Renewal in {value:.0f} [day|days] || Renewal date passed {value:.0f} [day|days] ago"
            f"{AT_ZERO}Renewal today",
            "Verlängerung in {value:.0f} [Tag|Tagen] || "
            f"Verlängerungstermin seit {{value:.0f}} [Tag|Tagen] überschritten{AT_ZERO}"
            "Verlängerung heute",
        ),
        number(
            "arr",
            f,
            "currency",
            "Annual recurring revenue.",
            "ARR of {value:,.0f}",
            "Jahresumsatz von {value:,.0f}",
        ),
        number(
            "seats",
            f,
            "seats",
            "Licensed seats.",
            "{value:.0f} licensed [seat|seats]",
            "{value:.0f} [lizenzierter Platz|lizenzierte Plätze]",
        ),
        category(
            "tier",
            f,
            params.tiers,
            "Support tier of the contract.",
            "Tier {value}",
            "Tarif {value}",  # "Stufe" is the ladder's level
        ),
    ]


def compute(ctx: Context) -> Columns:
    snaps = ctx.snaps
    acc = snaps.per_account
    as_of = snaps.as_of
    start = seconds(acc["contract_start"])[snaps.code]
    renewal = seconds(acc["renewal_date"])[snaps.code]
    term = term_months(acc)[snaps.code]
    return {
        "tenure_days": (as_of - start) / DAY,
        "days_to_renewal": next_renewal_days(renewal, as_of, term, start),
        "arr": snaps.floats_at_rows("arr"),
        "seats": snaps.floats_at_rows("seats"),
        "tier": categorical(acc["tier"], (*ctx.params.tiers, UNKNOWN))[snaps.code],
    }


def term_months(accounts: pd.DataFrame) -> np.ndarray:
    """Per account: its contract term in months, from `term_months` (optional in the contract);
    an account without one is assumed to renew every 12 months, as most SaaS contracts do."""
    if "term_months" not in accounts:
        return np.full(len(accounts), 12, dtype=np.int64)
    return accounts["term_months"].to_numpy(dtype=np.float64, na_value=12.0).astype(np.int64)


def next_renewal_days(
    renewal: np.ndarray, as_of: np.ndarray, months: np.ndarray | int, start: np.ndarray
) -> np.ndarray:
    """Days from as_of to the first renewal on or after it, as known at as_of.

    The accounts table holds the renewal date as of the export: the one after every renewal that
    happened since, or the one at which a churned account left. Taken as is it tells a past
    snapshot about the future (only churners have a renewal within months of an old as_of), so it
    is stepped back by whole terms, but never to the contract's start or before it (on its first
    day a one-year contract renews in a year, not today); a date already passed at as_of (a
    stale export) stays negative. A term is calendar months, on the renewal's day of the month
    (the month's last day where it is shorter): steps of 365 days drifted by a day per 29
    February, and in a term with one an account that had just renewed read "Renewal today".
    """
    missing = renewal == NAT_SECONDS
    r = np.where(missing, 0, renewal)
    months = np.broadcast_to(np.asarray(months, dtype=np.int64), r.shape)
    month = r.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    into = r - _month_start(month)  # seconds from the 1st of the renewal's month

    def back(k: np.ndarray) -> np.ndarray:
        """The renewal k terms before the export's, in seconds."""
        m = month - k * months
        first, length = _month_start(m), _month_start(m + 1) - _month_start(m)
        return first + np.minimum(into // DAY, length // DAY - 1) * DAY + into % DAY

    ahead = r >= as_of
    # whole terms between as_of and the renewal: from an estimate (a month is 30.44 days on
    # average), then on while the renewal a term earlier still lies on or after as_of
    k = np.maximum((r - as_of) // (months * 2_629_746) - 1, 0)
    for _ in range(4):
        k = np.where(ahead & (back(k + 1) >= as_of), k + 1, k)
    k = np.where((k > 0) & (back(k) <= start), k - 1, k)  # the start is no renewal
    days = np.where(ahead, back(k) - as_of, r - as_of).astype(np.float64) / DAY
    return np.where(missing, np.nan, days)


def _month_start(month: np.ndarray) -> np.ndarray:
    """Seconds since the epoch of the 1st of each month (months counted from 1970-01)."""
    return month.astype("datetime64[M]").astype("datetime64[s]").astype(np.int64)


def categorical(values: pd.Series, levels: tuple[str, ...]) -> pd.Categorical[str]:
    """Values as a Categorical with exactly `levels`: outside values become UNKNOWN, missing stay NaN."""
    raw = values.to_numpy(dtype=object)
    index = {level: i for i, level in enumerate(levels)}
    unknown = index[UNKNOWN]
    codes = np.array(
        [-1 if v is None or v is pd.NA or v != v else index.get(v, unknown) for v in raw],
        dtype=np.int64,
    )
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(levels)))
