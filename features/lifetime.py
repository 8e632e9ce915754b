"""Events outside their account's contract: tickets and usage before contract_start, tickets and
usage after the account churned.

They are valid data (pilots and trials come before a contract, a churned customer may still
write) and are kept; `escrisk validate` reports them so that a wrong contract_start or churned_at
does not go unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from features.contract import History

Side = Literal["before_start", "after_churn"]
# (table, its event time column) checked against the account's contract
EVENTS = (("tickets", "created_at"), ("usage", "date"))


@dataclass(frozen=True)
class Outside:
    """Rows of one table dated before their account's start (or after its churn): how many, and
    the first few as (row, account_id, date), row being the 1-based data row as violations say."""

    table: str
    column: str
    side: Side
    count: int
    examples: tuple[tuple[int, str, str], ...]


def outside_contract(history: History, examples: int = 3) -> list[Outside]:
    """Every table whose event rows lie outside their account's contract, one entry per side."""
    accounts = history.accounts.drop_duplicates("account_id").set_index("account_id")
    limits: dict[Side, pd.Series] = {"before_start": accounts["contract_start"]}
    churn = history.churn
    if churn is not None and len(churn):
        limits["after_churn"] = churn.groupby("account_id")["churned_at"].min()
    found = []
    for table, column in EVENTS:
        df = history.table(table)
        if df is None or not len(df):
            continue
        when = df[column].to_numpy(dtype="datetime64[ns]")
        for side, limit in limits.items():
            bound = df["account_id"].map(limit).to_numpy(dtype="datetime64[ns]")
            # NaT (no such account, no churn) compares false
            bad = when < bound if side == "before_start" else when > bound
            rows = np.flatnonzero(bad)
            if not len(rows):
                continue
            shown = tuple(
                (int(r) + 1, str(df["account_id"].iat[r]), _day_or_time(df[column].iat[r]))
                for r in rows[:examples]
            )
            found.append(Outside(table, column, side, len(rows), shown))
    return found


def _day_or_time(value: object) -> str:
    ts = pd.Timestamp(value)  # type: ignore[arg-type]
    return f"{ts:%Y-%m-%d}" if ts == ts.normalize() else f"{ts:%Y-%m-%d %H:%M} UTC"
