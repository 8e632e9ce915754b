"""Turn a scoring request into a contract-checked History, with errors pointing at request fields.

The request is flattened into the contract's tables and checked by `features.contract.check`, the
same check the batch path runs on files, so the service cannot accept what the batch path would
refuse. Each violation is mapped back to its place in the request (`accounts.3.tickets.0.created_at`).
Event times may not lie after the request clock plus a small allowance for clock skew.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from features.contract import TABLES, History, check
from features.errors import Violation
from features.params import ContractParams, CustomField
from serving.schemas import AccountHistory, ErrorDetail, ScoreRequest


@dataclass
class RequestError(Exception):
    """A request our rules refuse; `status` is the HTTP status, `detail` names every bad field."""

    status: int
    message: str
    detail: list[ErrorDetail] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "detail": [d.model_dump() for d in self.detail]}


Loc = tuple[str | int, ...]


def _utc(ts: dt.datetime | None) -> pd.Timestamp | None:
    if ts is None:
        return None
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _day(d: dt.date | None) -> pd.Timestamp | None:
    return None if d is None else pd.Timestamp(d).tz_localize("UTC")


_TIME_KINDS = {"timestamp": _utc, "date": _day}


def _rows(items: list[Any], table: str, account_id: str) -> list[dict[str, Any]]:
    cols = TABLES[table].columns
    out = []
    for item in items:
        values = item.model_dump()
        row: dict[str, Any] = dict(item.model_extra or {})
        for col in cols:
            v = values.get(col.name)
            if col.name == "account_id":
                v = account_id
            elif col.kind in _TIME_KINDS:
                v = _TIME_KINDS[col.kind](v)
            row[col.name] = v
        out.append(row)
    return out


def _frame(rows: list[dict[str, Any]], table: str) -> pd.DataFrame:
    names = TABLES[table].column_names
    if not rows:
        return pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    return pd.DataFrame.from_records(rows, columns=names)


def _mismatched_ids(i: int, acc: AccountHistory) -> list[ErrorDetail]:
    """Nested rows may repeat their account's id; a different one is a mistake, not a reassignment."""
    own = acc.account.account_id
    errors = []
    for table in ("tickets", "usage", "escalations"):
        for j, item in enumerate(getattr(acc, table) or []):
            if item.account_id is not None and item.account_id != own:
                errors.append(
                    ErrorDetail(
                        loc=["accounts", i, table, j, "account_id"],
                        msg=f"must equal the enclosing account's id ({own!r}) or be left out",
                        type="account_mismatch",
                    )
                )
    return errors


def _custom_fields(
    i: int, acc: AccountHistory, custom: Mapping[str, CustomField]
) -> list[ErrorDetail]:
    """Extra account keys must be declared custom fields with values of their kind."""
    errors = []
    for name, value in (acc.account.model_extra or {}).items():
        loc: list[str | int] = ["accounts", i, "account", name]
        spec = custom.get(name)
        if spec is None:
            msg = "unknown field (neither in the data contract nor in features.custom_fields)"
            errors.append(ErrorDetail(loc=loc, msg=msg, type="extra_forbidden"))
        elif value is None:
            continue
        elif spec.kind == "float" and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            errors.append(
                ErrorDetail(loc=loc, msg="must be a finite number or null", type="float_type")
            )
        elif spec.kind == "category" and not isinstance(value, str):
            errors.append(ErrorDetail(loc=loc, msg="must be a string or null", type="string_type"))
    return errors


def request_tables(
    req: ScoreRequest,
) -> tuple[dict[str, pd.DataFrame | None], dict[str, list[Loc]]]:
    """The request as raw contract tables, plus for each table the request path of every row."""
    rows: dict[str, list[dict[str, Any]]] = {
        "accounts": [],
        "tickets": [],
        "usage": [],
        "escalations": [],
    }
    locs: dict[str, list[Loc]] = {name: [] for name in rows}
    for i, acc in enumerate(req.accounts):
        own = acc.account.account_id
        rows["accounts"] += _rows([acc.account], "accounts", own)
        locs["accounts"].append(("accounts", i, "account"))
        for table in ("tickets", "usage", "escalations"):
            items = getattr(acc, table) or []
            rows[table] += _rows(items, table, own)
            locs[table] += [("accounts", i, table, j) for j in range(len(items))]
    raw: dict[str, pd.DataFrame | None] = {
        "accounts": _frame(rows["accounts"], "accounts"),
        "tickets": _frame(rows["tickets"], "tickets"),
        "churn": None,
    }
    for table in ("usage", "escalations"):
        provided = any(getattr(a, table) is not None for a in req.accounts)
        raw[table] = _frame(rows[table], table) if provided else None
    return raw, locs


def _detail(v: Violation, locs: dict[str, list[Loc]]) -> ErrorDetail:
    rows = locs.get(v.table, [])
    if v.row is not None and 1 <= v.row <= len(rows):
        loc: list[str | int] = [*rows[v.row - 1], v.column]
    else:
        loc = [v.table, v.column]
    return ErrorDetail(loc=loc, msg=v.detail, type=v.rule)


def resolve_as_of(
    as_of: dt.date | None, now: pd.Timestamp, contract: ContractParams
) -> pd.Timestamp:
    """The scoring day at midnight UTC: today by default, never after tomorrow nor before min_date."""
    today = now.tz_convert("UTC").normalize()
    day = today if as_of is None else pd.Timestamp(as_of).tz_localize("UTC")
    latest = today + pd.Timedelta(days=1)
    if day > latest:
        raise RequestError(
            422,
            "as_of lies in the future",
            [
                ErrorDetail(
                    loc=["as_of"],
                    msg=f"must not be after {latest.date()} (tomorrow)",
                    type="date_range",
                )
            ],
        )
    if day < pd.Timestamp(contract.min_date, tz="UTC"):
        raise RequestError(
            422,
            "as_of is too early",
            [
                ErrorDetail(
                    loc=["as_of"], msg=f"must not be before {contract.min_date}", type="date_range"
                )
            ],
        )
    return day


def request_history(
    req: ScoreRequest,
    contract: ContractParams,
    custom: Mapping[str, CustomField],
    now: pd.Timestamp,
    clock_skew: pd.Timedelta,
) -> History:
    """The request's History, or a RequestError (422) naming every field that breaks the contract."""
    errors = [e for i, acc in enumerate(req.accounts) for e in _mismatched_ids(i, acc)]
    errors += [e for i, acc in enumerate(req.accounts) for e in _custom_fields(i, acc, custom)]
    raw, locs = request_tables(req)
    strict = contract.model_copy(update={"max_future_days": 0})
    history, violations = check(raw, strict, now + clock_skew)
    errors += [_detail(v, locs) for v in violations]
    if errors:
        raise RequestError(422, f"{len(errors)} field(s) break the data contract", errors)
    return history
