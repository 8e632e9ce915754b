"""Turn a scoring request into a contract-checked History, with errors pointing at request fields.

The request is flattened into the contract's tables and checked by the data contract's rules
(`features.contract.check_values` for typed values, else `check`, which the batch path runs on
files), so the service cannot accept what the batch path would refuse. Each violation is mapped back to its place in the request (`accounts.3.tickets.0.created_at`).
Event times may not lie after the request clock plus a small allowance for clock skew.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.errors import OutOfBoundsDatetime

from features.contract import TABLES, History, NeedsGeneralPath, check, check_values
from features.errors import Violation
from features.params import ContractParams, CustomField
from serving.guard import shown_name
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

MAX_DETAILS = 1000  # error details listed in one answer; its message counts them all


class Details(list[ErrorDetail]):
    """The details of one refusal: the first MAX_DETAILS, every one counted. An export's
    mistake is in every row: a detail each for 1,000 feature rows of 1,000 unknown names took
    35 s (past the timeout) and made a 119 MB answer."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def add(self, loc: list[str | int], msg: str, type: str) -> None:  # noqa: A002 (its field)
        self.total += 1
        if len(self) < MAX_DETAILS:  # made only when listed: each costs ~15 us
            self.append(ErrorDetail(loc=loc, msg=msg, type=type))

    def message(self, what: str) -> str:
        listed = f" (the first {len(self)} listed)" if self.total > len(self) else ""
        return f"{self.total} {what}{listed}"


def _utc(ts: dt.datetime | None) -> pd.Timestamp | str | None:
    """A request time in UTC; one that nanoseconds cannot hold stays the ISO text it was sent as,
    which the contract names as outside the years it takes ("0001-01-01T00:00:00+14:00" in UTC
    is in year 0, which wrapped around to 1972 on its way to nanoseconds)."""
    if ts is None:
        return None
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    try:
        return t.as_unit("ns")
    except OutOfBoundsDatetime:
        return ts.isoformat()


def _day(d: dt.date | None) -> pd.Timestamp | None:
    return None if d is None else pd.Timestamp(d).tz_localize("UTC")


_TIME_KINDS = {"timestamp": _utc, "date": _day}
# Days a datetime64[ns] holds whole; dates outside go the slow way and the contract reports them.
_FIRST_DAY, _LAST_DAY = dt.date(1678, 1, 1).toordinal(), dt.date(2261, 12, 31).toordinal()
_EPOCH_DAY, _NO_DAY = dt.date(1970, 1, 1).toordinal(), -1


def _times(values: list[Any], kind: str) -> Any:
    """A column of request datetimes (naive = UTC) or dates as datetime64[ns, UTC] in one call;
    values pandas cannot hold in nanoseconds keep the per-value path, and the contract says why."""
    try:
        if kind == "timestamp":
            return pd.to_datetime(values, utc=True).array
        # numpy converts date objects slowly; ordinals are exact (day 1 = 0001-01-01)
        ordinals = np.array([_NO_DAY if d is None else d.toordinal() for d in values], np.int64)
        present = ordinals != _NO_DAY
        if ((ordinals[present] < _FIRST_DAY) | (ordinals[present] > _LAST_DAY)).any():
            raise OverflowError
        days = (ordinals - _EPOCH_DAY).astype("datetime64[D]")
        days[~present] = np.datetime64("NaT")
        return pd.DatetimeIndex(days.astype("datetime64[ns]"), tz="UTC").array
    except (OverflowError, ValueError, OutOfBoundsDatetime):
        out = np.empty(len(values), dtype=object)
        out[:] = [_TIME_KINDS[kind](v) for v in values]
        return out


def _numbers(values: list[Any]) -> np.ndarray:
    """Whole numbers stay int64 unless one is missing, as pandas would read them."""
    if all(type(v) is int for v in values):
        try:
            return np.array(values, dtype="int64")
        except OverflowError:
            pass
    return np.array(values, dtype="float64")


def _frame(columns: Mapping[str, Any], table: str) -> pd.DataFrame:
    """One contract table for `check` from the request's typed values, column by column."""
    out: dict[str, Any] = {}
    for col in TABLES[table].columns:
        values = columns[col.name]
        if col.kind in _TIME_KINDS:
            out[col.name] = _times(values, col.kind)
        elif col.kind == "str":
            out[col.name] = np.array(values, dtype=object)
        else:
            out[col.name] = _numbers(values)
    out |= {k: v for k, v in columns.items() if k not in out}  # custom fields
    n = len(columns[TABLES[table].columns[0].name])
    return pd.DataFrame(out, index=pd.RangeIndex(n), copy=False)


def _values(items: list[Any], table: str, account_ids: list[str]) -> dict[str, list[Any]]:
    """One contract table as lists of the validated rows' (already typed) values."""
    columns: dict[str, list[Any]] = {}
    for col in TABLES[table].columns:
        if col.name == "account_id":
            columns[col.name] = account_ids
        elif table == "accounts":
            columns[col.name] = [getattr(item, col.name) for item in items]
        else:
            columns[col.name] = [item.get(col.name) for item in items]
    return columns


def _mismatched_ids(i: int, acc: AccountHistory, errors: Details) -> None:
    """Nested rows may repeat their account's id; a different one is a mistake, not a reassignment."""
    own = acc.account.account_id
    for table in ("tickets", "usage", "escalations"):
        for j, item in enumerate(getattr(acc, table) or []):
            if item.get("account_id") is not None and item["account_id"] != own:
                loc: list[str | int] = ["accounts", i, table, j, "account_id"]
                msg = f"must equal the enclosing account's id ({own!r}) or be left out"
                errors.add(loc, msg, "account_mismatch")


def _custom_fields(
    i: int,
    acc: AccountHistory,
    custom: Mapping[str, CustomField],
    declared: Mapping[str, CustomField],
    errors: Details,
) -> None:
    """Extra account keys must be custom fields with values of their kind: the served model's
    (`custom`), or those params.yaml declares (`declared`) which the model was trained without,
    checked and not read (the daily run reads no such column of an accounts file either): a
    helpdesk sending a field declared for the next model got "unknown field (neither in ...
    features.custom_fields)" for it, on every request until that model was promoted."""
    for name, value in (acc.account.model_extra or {}).items():
        loc: list[str | int] = ["accounts", i, "account", shown_name(name)]
        spec = custom.get(name) or declared.get(name)
        if spec is None:
            msg = (
                "unknown field: neither in the data contract nor a custom field "
                "(params.yaml features.custom_fields, or the served model's)"
            )
            errors.add(loc, msg, "extra_forbidden")
        elif value is None:
            continue
        elif spec.kind == "float" and not finite_number(value):
            errors.add(loc, "must be a finite number or null", "float_type")
        elif spec.kind == "category" and not isinstance(value, str):
            errors.add(loc, "must be a string or null", "string_type")


def finite_number(value: Any) -> bool:
    """A JSON number that a float holds (not a bool, not a whole number beyond float's range)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def request_values(
    req: ScoreRequest, custom: Mapping[str, CustomField] | None = None
) -> dict[str, dict[str, Any] | None]:
    """The request as contract tables of typed values; nested rows take their account's id.

    Declared custom fields sent by any account become accounts columns (missing where an account
    leaves them out), as extra columns of an accounts file do in the batch path."""
    accounts: dict[str, Any] = _values(
        [a.account for a in req.accounts], "accounts", [a.account.account_id for a in req.accounts]
    )
    for name, spec in (custom or {}).items():
        values = [(a.account.model_extra or {}).get(name) for a in req.accounts]
        if any(v is not None for v in values):
            # values of the wrong kind are reported by _custom_fields; here they are missing
            if spec.kind == "float":
                accounts[name] = _numbers([v if finite_number(v) else None for v in values])
            else:
                accounts[name] = np.array(
                    [v if isinstance(v, str) else None for v in values], dtype=object
                )
    out: dict[str, dict[str, Any] | None] = {"accounts": accounts, "churn": None}
    for table in ("tickets", "usage", "escalations"):
        if table != "tickets" and all(getattr(a, table) is None for a in req.accounts):
            out[table] = None  # left out everywhere: the source has no such table
            continue
        items: list[Any] = []
        ids: list[str] = []
        for acc in req.accounts:
            rows = getattr(acc, table) or []
            items += rows
            ids += [acc.account.account_id] * len(rows)
        out[table] = _values(items, table, ids)
    return out


# Up to this many rows in all, a request's tables are checked in plain Python (`check_values`,
# no fixed pandas cost per column); above, `check`'s vectorised path on frames costs less.
PLAIN_ROWS = 5_000


def _rows(values: Mapping[str, Mapping[str, Any] | None]) -> int:
    return sum(len(c["account_id"]) for c in values.values() if c is not None)


def request_tables(
    req: ScoreRequest, custom: Mapping[str, CustomField] | None = None
) -> dict[str, pd.DataFrame | None]:
    """The request as raw contract tables (DataFrames), as `check` takes them."""
    return {
        name: None if columns is None else _frame(columns, name)
        for name, columns in request_values(req, custom).items()
    }


def request_locations(req: ScoreRequest) -> dict[str, list[Loc]]:
    """For each table, the request path of every row (row i of a table is locs[table][i])."""
    locs: dict[str, list[Loc]] = {"accounts": [], "tickets": [], "usage": [], "escalations": []}
    for i, acc in enumerate(req.accounts):
        locs["accounts"].append(("accounts", i, "account"))
        for table in ("tickets", "usage", "escalations"):
            items = getattr(acc, table) or []
            locs[table] += [("accounts", i, table, j) for j in range(len(items))]
    return locs


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


_STRICT: list[tuple[ContractParams, ContractParams]] = []  # the last contract and its strict copy


def _strict(contract: ContractParams) -> ContractParams:
    """The contract with no days of allowance for future events (the request clock's skew is the
    allowance): params are frozen, so the copy is made once per params object, not per request."""
    if not _STRICT or _STRICT[0][0] is not contract:
        _STRICT[:] = [(contract, contract.model_copy(update={"max_future_days": 0}))]
    return _STRICT[0][1]


def request_history(
    req: ScoreRequest,
    contract: ContractParams,
    custom: Mapping[str, CustomField],
    now: pd.Timestamp,
    clock_skew: pd.Timedelta,
    declared: Mapping[str, CustomField] | None = None,
) -> History:
    """The request's History, or a RequestError (422) naming every field that breaks the contract.
    `custom` are the custom fields the model reads; `declared` those params.yaml declares now."""
    errors = Details()  # the first MAX_DETAILS listed, all counted (one mistake in every row)
    for i, acc in enumerate(req.accounts):
        _mismatched_ids(i, acc, errors)
        _custom_fields(i, acc, custom, declared or {}, errors)
    strict = _strict(contract)
    values = request_values(req, custom)
    try:
        if _rows(values) > PLAIN_ROWS:
            raise NeedsGeneralPath("large request")
        history, violations = check_values(values, strict, now + clock_skew)
    except NeedsGeneralPath:  # large, or text to clean, or times beyond nanoseconds
        raw = {n: None if c is None else _frame(c, n) for n, c in values.items()}
        history, violations = check(raw, strict, now + clock_skew)
    if violations:
        locs = request_locations(req)
        errors += [_detail(v, locs) for v in violations[: max(0, MAX_DETAILS - len(errors))]]
        errors.total += len(violations)
    if errors.total:
        raise RequestError(422, errors.message("field(s) break the data contract"), list(errors))
    return history
