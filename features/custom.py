"""Custom family: extra accounts columns declared in params.yaml (`features.custom_fields`) become
features without code: numeric ones as floats, categorical ones with their declared levels.

Like the other account attributes they are taken as the accounts table has them now.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.account import categorical
from features.context import Absence, Columns, Context
from features.contract import NULL_TOKENS, History
from features.contract_text import detail
from features.errors import DataValidationError, Violation
from features.params import FeatureParams
from features.spec import FeatureInfo, category, number

FAMILY = "custom"


def unavailable(history: History, params: FeatureParams) -> dict[str, Absence]:
    return {
        f"{FAMILY}.{name}": Absence("column_absent", "accounts", name)
        for name in params.custom_fields
        if name not in history.accounts.columns
    }


def spec(params: FeatureParams) -> list[FeatureInfo]:
    out = []
    for name, field in params.custom_fields.items():
        about = field.description or f"Custom account field {name!r}."
        if field.kind == "category":
            out.append(
                category(
                    name,
                    FAMILY,
                    field.levels or (),
                    about,
                    f"{name}: {{value}}",
                    f"{name}: {{value}}",
                )
            )
        else:
            unit = f" {field.unit}" if field.unit else ""
            out.append(
                number(
                    name,
                    FAMILY,
                    field.unit,
                    about,
                    f"{name} is {{value:g}}{unit}",
                    f"{name} ist {{value:g}}{unit}",
                )
            )
    return out


def compute(ctx: Context) -> Columns:
    acc = ctx.snaps.per_account  # one row per account; values are spread to the rows at the end
    code = ctx.snaps.code
    out: Columns = {}
    bad: list[Violation] = []
    for info in spec(ctx.params):
        if info.name not in acc.columns:
            continue
        raw = acc[info.name]
        if info.dtype == "category":
            text = raw.astype(object).map(_level_text)
            out[info.name] = categorical(text, info.levels or ())[code]
            continue
        num, wrong = _numbers(raw)
        bad += _not_numbers(acc["account_id"], raw, wrong, info.name, rows=None)
        out[info.name] = num.to_numpy(dtype=np.float64, na_value=np.nan)[code]
    if bad:
        raise DataValidationError(bad, "accounts (custom fields in params.yaml)")
    return out


def custom_violations(accounts: pd.DataFrame, params: FeatureParams) -> list[Violation]:
    """The accounts rows whose declared-numeric custom field holds no number: what the build
    would refuse, checked where `escrisk validate` checks the contract (rows as in the input)."""
    out: list[Violation] = []
    for info in spec(params):
        if info.dtype == "category" or info.name not in accounts.columns:
            continue
        raw = accounts[info.name].reset_index(drop=True)
        _, wrong = _numbers(raw)
        ids = accounts["account_id"].reset_index(drop=True)
        out += _not_numbers(ids, raw, wrong, info.name, rows=np.flatnonzero(wrong) + 1)
    return out


def _numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(the values as numbers, the mask of values present that are no number)."""
    blank = raw.map(_blank)
    num = pd.to_numeric(raw.where(~blank, None), errors="coerce")
    return num, num.isna() & ~blank


def _not_numbers(
    ids: pd.Series, raw: pd.Series, wrong: pd.Series, name: str, rows: np.ndarray | None
) -> list[Violation]:
    found = zip(
        ids[wrong], raw[wrong], rows if rows is not None else [None] * int(wrong.sum()), strict=True
    )
    return [
        Violation(
            "accounts",
            name,
            None if row is None else int(row),
            "type",
            detail("custom_not_number", "en", {"v": v}),
            f"account_id={aid}",
            ("custom_not_number", {"v": v}),
        )  # fmt: skip
        for aid, v, row in found
    ]


def _level_text(v: object) -> str | None:
    """A category's value as text: a code read as a float from Parquet or a database column with
    NULLs (1.0) is the level "1", as the same code in a CSV file or a request."""
    if _empty(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _empty(v: object) -> bool:
    return (
        v is None
        or (isinstance(v, float) and np.isnan(v))
        or (isinstance(v, str) and not v.strip())
        or v is pd.NA
    )


def _blank(v: object) -> bool:
    """No value in a number column, as the data contract reads one ("n/a", "null"); a text
    column takes only an empty cell ("NA" may be North America)."""
    return _empty(v) or (isinstance(v, str) and v.strip().lower() in NULL_TOKENS)
