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
            "contract terms (accounts.term_months; 12 months where missing, "
            "account.renewal_cycle_days per 12 months) to the first on or after as_of, so a "
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
    term = term_days(acc, ctx.params.account.renewal_cycle_days)[snaps.code]
    return {
        "tenure_days": (as_of - start) / DAY,
        "days_to_renewal": next_renewal_days(renewal, as_of, term, start),
        "arr": snaps.floats_at_rows("arr"),
        "seats": snaps.floats_at_rows("seats"),
        "tier": categorical(acc["tier"], (*ctx.params.tiers, UNKNOWN))[snaps.code],
    }


def term_days(accounts: pd.DataFrame, year_days: int) -> np.ndarray:
    """Per account: its contract term in days, from `term_months` (optional in the contract);
    an account without one is assumed to renew every 12 months, as most SaaS contracts do."""
    if "term_months" not in accounts:
        return np.full(len(accounts), float(year_days))
    months = accounts["term_months"].to_numpy(dtype=np.float64, na_value=12.0)
    return months * year_days / 12


def next_renewal_days(
    renewal: np.ndarray, as_of: np.ndarray, cycle_days: np.ndarray | float, start: np.ndarray
) -> np.ndarray:
    """Days from as_of to the first renewal on or after it, as known at as_of.

    The accounts table holds the renewal date as of the export: the one after every renewal that
    happened since, or the one at which a churned account left. Taken as is it tells a past
    snapshot about the future (only churners have a renewal within months of an old as_of), so it
    is stepped back by whole terms, but never to the contract's start or before it (on its first
    day a one-year contract renews in 365 days, not today); a date already passed at as_of (a
    stale export) stays negative.
    """
    missing = renewal == NAT_SECONDS
    days = (renewal - as_of).astype(np.float64) / DAY
    ahead = days >= 0
    stepped = np.mod(days, cycle_days)
    too_early = as_of + stepped * DAY <= start  # the start is no renewal
    stepped = np.where(too_early & (stepped + cycle_days <= days), stepped + cycle_days, stepped)
    days = np.where(ahead, stepped, days)
    return np.where(missing, np.nan, days)


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
