"""The input data contract: five tables, their columns and rules, checked where data enters.

`check` turns raw tables (as read from files, a database or an importer) into typed, UTC-normalised
tables plus every violation found. Nothing is dropped: a value that cannot be parsed becomes a
violation naming its table, column, row and rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.errors import DataValidationError, Violation
from features.params import ContractParams

Kind = Literal["str", "float", "int", "timestamp", "date"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool = False
    allowed: str | None = None  # name of the ContractParams field listing the allowed values
    min: float | None = None
    max: float | None = None
    event: bool = False  # an event time: must not lie in the future of the run's clock


@dataclass(frozen=True)
class Table:
    name: str
    key: str | None  # column that identifies a row uniquely
    required: bool
    columns: tuple[Column, ...]
    unique_together: tuple[str, ...] = ()
    # (later, earlier): later must not be before earlier when both are present
    order: tuple[tuple[str, str], ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


ACCOUNTS = Table(
    "accounts",
    key="account_id",
    required=True,
    columns=(
        Column("account_id", "str"),
        Column("name", "str"),
        Column("tier", "str", allowed="tiers"),
        Column("arr", "float", min=0),
        Column("seats", "int", min=1),
        Column("contract_start", "date"),
        Column("renewal_date", "date"),
        Column("csm_owner", "str"),
        Column("region", "str"),
        Column("language", "str", allowed="languages"),
    ),
    order=(("renewal_date", "contract_start"),),
)

TICKETS = Table(
    "tickets",
    key="ticket_id",
    required=True,
    columns=(
        Column("ticket_id", "str"),
        Column("account_id", "str"),
        Column("created_at", "timestamp", event=True),
        Column("priority", "str", allowed="priorities"),
        Column("channel", "str"),
        Column("subject", "str", nullable=True),
        Column("body", "str", nullable=True),
        Column("first_response_at", "timestamp", nullable=True, event=True),
        Column("resolved_at", "timestamp", nullable=True, event=True),
        Column("status", "str", allowed="ticket_statuses"),
        Column("reopen_count", "int", min=0),
        Column("csat", "int", nullable=True, min=1, max=5),
        Column("sla_first_response_hours", "float", nullable=True, min=1e-9),
        Column("sla_resolution_hours", "float", nullable=True, min=1e-9),
    ),
    order=(("first_response_at", "created_at"), ("resolved_at", "created_at")),
)

USAGE = Table(
    "usage",
    key=None,
    required=False,
    columns=(
        Column("account_id", "str"),
        Column("date", "date", event=True),
        Column("active_users", "int", min=0),
        Column("events", "int", min=0),
    ),
    unique_together=("account_id", "date"),
)

ESCALATIONS = Table(
    "escalations",
    key="escalation_id",
    required=False,
    columns=(
        Column("escalation_id", "str"),
        Column("account_id", "str"),
        Column("opened_at", "timestamp", event=True),
        Column("acknowledged_at", "timestamp", nullable=True, event=True),
        Column("closed_at", "timestamp", nullable=True, event=True),
        Column("level", "str", allowed="escalation_levels"),
        Column("kind", "str", allowed="escalation_kinds"),
        Column("reason", "str", nullable=True),
        Column("ticket_id", "str", nullable=True),
    ),
    order=(("acknowledged_at", "opened_at"), ("closed_at", "opened_at")),
)

CHURN = Table(
    "churn",
    key="account_id",
    required=False,
    columns=(
        Column("account_id", "str"),
        Column("churned_at", "timestamp", event=True),
        Column("reason", "str", nullable=True),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (ACCOUNTS, TICKETS, USAGE, ESCALATIONS, CHURN)}


@dataclass(frozen=True)
class History:
    """Typed, validated account histories: the one input every builder takes.

    Timestamps and dates are `datetime64[ns, UTC]` (dates at midnight); ids are strings; optional
    tables are None when the source does not have them. Extra columns are kept.
    """

    accounts: pd.DataFrame
    tickets: pd.DataFrame
    usage: pd.DataFrame | None = None
    escalations: pd.DataFrame | None = None
    churn: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default=())

    def table(self, name: str) -> pd.DataFrame | None:
        return getattr(self, name)

    @property
    def missing(self) -> list[str]:
        """Optional tables the source does not have, so the caller can say what is unavailable."""
        return [n for n, t in TABLES.items() if not t.required and self.table(n) is None]

    def for_accounts(self, account_ids: pd.Index | list[str]) -> History:
        """The sub-history of some accounts: how a partition of the portfolio is cut."""
        ids = pd.Index(account_ids)
        cut: dict[str, Any] = {}
        for name in TABLES:
            df = self.table(name)
            cut[name] = (
                None if df is None else df[df["account_id"].isin(ids)].reset_index(drop=True)
            )
        return replace(self, **cut)


def empty_table(name: str) -> pd.DataFrame:
    """A typed table with no rows, for sources that have the table but nothing in it."""
    out = {}
    for col in TABLES[name].columns:
        out[col.name] = pd.Series(dtype=_DTYPES[col.kind])
    return pd.DataFrame(out)


_DTYPES = {
    "str": "object",
    "float": "float64",
    "int": "Int64",
    "timestamp": "datetime64[ns, UTC]",
    "date": "datetime64[ns, UTC]",
}

# What each optional table's absence disables; commands print these so a user knows what is missing.
ABSENT_EFFECTS: dict[str, str] = {
    "usage": "usage features unavailable",
    "escalations": "escalation history features and escalation labels unavailable",
    "churn": "churn labels unavailable",
}


def absent_notes(history: History) -> list[str]:
    """One line per optional table the source lacks, saying what that disables."""
    return [f"{name}: absent, {ABSENT_EFFECTS[name]}" for name in history.missing]


# Rule names as reported in violations (and documented in docs/data-contract.md).
RULES: dict[str, str] = {
    "missing_table": "a required table is not in the source",
    "missing_column": "a required column is not in the table",
    "duplicate_column": "a column name appears more than once",
    "not_null": "a required value is empty",
    "type": "a value is not a number, whole number or ISO 8601 timestamp/date",
    "range": "a number is outside its allowed range (e.g. a negative count)",
    "allowed_values": "a value is not one of the levels listed in params.yaml",
    "date_range": "a timestamp/date is before contract.min_date, after contract.max_date, or in the future",
    "unique": "an id (or key combination) appears more than once",
    "order": "a timestamp/date lies before the one it must follow (e.g. resolved_at < created_at)",
    "foreign_key": "a reference to an account (or ticket) that does not exist",
}

# Spellings of "no value" that exports use in number and time columns. Text columns treat only
# empty strings as missing: "NA" is a region (North America), "None" could be a name.
_NULL_TOKENS = ("", "na", "n/a", "nan", "nat", "null", "none")

# A time of day followed by a zone designator: Z, +HH, +HHMM or +HH:MM.
_ZONED = r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:[Zz]|[+-]\d\d(?::?\d\d)?)$"


def check(
    raw: Mapping[str, pd.DataFrame | None],
    params: ContractParams,
    now: pd.Timestamp,
) -> tuple[History, list[Violation]]:
    """Type, normalise and check every table; return what could be typed and every violation.

    `now` is the run's clock (passed in, never read here): event times after now plus
    `max_future_days` are violations. Values that cannot be typed become missing in the History
    and are reported; the History is only safe to use when the violation list is empty.
    """
    now = _utc(now)
    violations: list[Violation] = []
    typed: dict[str, pd.DataFrame | None] = {}
    for name, table in TABLES.items():
        df = raw.get(name)
        if df is None:
            if table.required:
                violations.append(
                    Violation(name, "-", None, "missing_table", "required table not found")
                )
            typed[name] = empty_table(name) if table.required else None
            continue
        out, found = _check_table(df, table, params, now)
        typed[name] = out
        violations += found
    # References into a table the source lacks are not checked: its missing_table says enough.
    violations += _foreign_keys(typed, present={n for n in TABLES if raw.get(n) is not None})
    assert typed["accounts"] is not None and typed["tickets"] is not None
    tickets = _fill_sla(typed["tickets"], typed["accounts"], params)
    history = History(
        accounts=typed["accounts"],
        tickets=tickets,
        usage=typed["usage"],
        escalations=typed["escalations"],
        churn=typed["churn"],
    )
    return history, violations


def validated(
    raw: Mapping[str, pd.DataFrame | None],
    params: ContractParams,
    now: pd.Timestamp,
    source: str = "input",
) -> History:
    """`check`, raising every violation at once: how commands make sure bad data never reaches a model."""
    history, violations = check(raw, params, now)
    if violations:
        raise DataValidationError(violations, source)
    return history


def _utc(ts: pd.Timestamp) -> pd.Timestamp:
    """The clock as a UTC timestamp; a naive clock is taken as UTC, like naive data."""
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _keys(df: pd.DataFrame, table: Table, mask: np.ndarray) -> list[str | None]:
    """The identity of each flagged row (its id, or its key combination) for the report."""
    if table.key is not None and table.key in df.columns:
        ids = df.loc[mask, table.key]
        return [None if _is_missing(v) else f"{table.key}={v}" for v in ids]
    if table.unique_together and all(c in df.columns for c in table.unique_together):
        sub = df.loc[mask, list(table.unique_together)]
        return [
            ", ".join(f"{c}={_show(v)}" for c, v in zip(sub.columns, r, strict=True))
            for r in sub.itertuples(index=False)
        ]
    return [None] * int(mask.sum())


def _is_missing(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v))


def _show(v: object) -> object:
    """Midnight timestamps as dates in reports; everything else as it is."""
    if isinstance(v, pd.Timestamp) and v.tzinfo is not None and v == v.normalize():
        return str(v.date())
    return v


def _flag(
    df: pd.DataFrame,
    table: Table,
    column: str,
    mask: pd.Series | np.ndarray,
    rule: str,
    detail: str,
) -> list[Violation]:
    """Violations for every row where `mask` is true; `detail` is a template of the bad value `{v}`."""
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return []
    rows = np.flatnonzero(m) + 1
    values = df.loc[m, column] if column in df.columns else pd.Series([None] * len(rows))
    keys = _keys(df, table, m)
    return [
        Violation(
            table.name,
            column,
            int(r),
            rule,
            detail.format(v=_show(v)) if "{v" in detail else detail,
            k,
        )
        for r, v, k in zip(rows, values, keys, strict=True)
    ]


def _braces(template: str, value: object) -> str:
    """Append a value's text to a detail template, escaping braces it may contain."""
    return template + str(value).replace("{", "{{").replace("}", "}}")


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or isinstance(s.dtype, pd.StringDtype)


def _arrow_text(s: pd.Series) -> tuple[pa.Array, bool]:
    """Values as stripped Arrow strings (missing stays null): one conversion per column, no Python loop.

    The flag says the column already held Python str without surrounding blanks, so the caller
    can keep it as it is.
    """
    try:
        arr = pa.array(s, type=pa.string(), from_pandas=True)
        plain = s.dtype == object
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        arr = pa.array(s.astype("string"), type=pa.string(), from_pandas=True)
        plain = False
    trimmed = pc.utf8_trim_whitespace(arr)
    if plain:
        plain = bool(
            pc.all(pc.equal(pc.utf8_length(arr), pc.utf8_length(trimmed))).as_py() is not False
        )
    return trimmed, plain


def _mask(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _blank(s: pd.Series, text: pa.Array | None, kind: Kind) -> pd.Series:
    """Missing values: NaN/None/NaT, empty strings, and for non-text columns the usual null tokens."""
    if text is None:
        return pd.Series(s.isna().to_numpy(), index=s.index)
    if kind == "str":
        empty = pc.equal(pc.utf8_length(text), 0)
    else:
        empty = pc.is_in(pc.utf8_lower(text), value_set=pa.array(_NULL_TOKENS))
    # Arrow already made None and NaN null.
    return pd.Series(pc.is_null(text).to_numpy(zero_copy_only=False) | _mask(empty), index=s.index)


def _as_str(s: pd.Series, text: pa.Array | None, plain: bool, blank: pd.Series) -> pd.Series:
    """Text and ids as Python str (object dtype); whole floats (ints read with NaNs) lose their '.0'."""
    if plain and not blank.any():
        return s  # already clean strings: skip the round trip
    if text is None:
        if pd.api.types.is_float_dtype(s.dtype):
            finite = s[~blank]
            if len(finite) and bool((finite == np.floor(finite)).all()):
                s = s.astype("Int64")
        text, _ = _arrow_text(s)
    out = pd.Series(text.to_pandas(), index=s.index, dtype=object)
    return out.where(~blank, None)


def _to_number(s: pd.Series, text: pa.Array | None, blank: pd.Series) -> pd.Series:
    """float64 values; NaN where blank or not a number (the caller tells those apart)."""
    if text is None:
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            return pd.Series(np.nan, index=s.index)
        return s.astype("float64").where(~blank)
    cleaned = pc.if_else(pa.array(blank.to_numpy()), pa.scalar(None, pa.string()), text)
    try:
        values = cleaned.cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = (
            pd.to_numeric(pd.Series(cleaned.to_pandas()), errors="coerce")
            .astype("float64")
            .to_numpy()
        )
    return pd.Series(values, index=s.index, dtype="float64")


def _parse_time(
    s: pd.Series, text: pa.Array | None, blank: pd.Series, date_only: bool
) -> tuple[pd.Series, pd.Series]:
    """Parse to UTC: naive values are UTC, offsets are honoured; unparseable values become NaT.

    Returns the parsed values and a mask of values that parsed but lie outside the years pandas can
    hold (1678-2261), so the caller can report them as out of range rather than as garbage.
    Text is parsed strictly as ISO 8601 by Arrow, with zoned and naive values apart: pandas' own
    ISO 8601 parser applies the first value's offset to later naive values.
    """
    index = s.index
    oob: pd.Series = pd.Series(False, index=index)
    if text is None and isinstance(s.dtype, pd.DatetimeTZDtype):
        out = s.dt.tz_convert("UTC")
    elif text is None and pd.api.types.is_datetime64_dtype(s.dtype):
        values = s.to_numpy()
        if values.dtype != np.dtype("datetime64[ns]"):
            lo, hi = pd.Timestamp.min.to_datetime64(), pd.Timestamp.max.to_datetime64()
            oob = pd.Series(~np.isnat(values) & ((values < lo) | (values > hi)), index=index)
            values = np.where(oob.to_numpy(), np.datetime64("NaT"), values)
        out = pd.Series(
            pd.DatetimeIndex(values.astype("datetime64[ns]")).tz_localize("UTC"), index=index
        )
    else:
        if text is None:  # numbers or other objects: not timestamps; let the parser say so
            text, _ = _arrow_text(s)
        text = pc.if_else(pa.array(blank.to_numpy()), pa.scalar(None, pa.string()), text)
        zoned = pc.fill_null(pc.match_substring_regex(text, _ZONED), False)
        parsed = np.full(len(s), np.datetime64("NaT", "ns"))
        far = np.zeros(len(s), dtype=bool)
        for mask, typ in (
            (pc.invert(zoned), pa.timestamp("ns")),
            (zoned, pa.timestamp("ns", tz="UTC")),
        ):
            part = text.filter(mask)
            if len(part) == 0:
                continue
            where = _mask(mask)
            parsed[where], far[where] = _cast_times(part, typ)
        oob = pd.Series(far, index=index)
        out = pd.Series(pd.DatetimeIndex(parsed).tz_localize("UTC"), index=index)
    out = out.astype("datetime64[ns, UTC]")
    return (out.dt.normalize() if date_only else out), oob


def _cast_times(part: pa.Array, typ: pa.DataType) -> tuple[np.ndarray, np.ndarray]:
    """Cast ISO 8601 strings (all naive or all zoned) in one go; when some fail, find which.

    Returns naive UTC datetime64[ns] values (NaT where unparseable) and a mask of values that are
    well-formed but outside the years nanoseconds can hold.
    """
    oob = np.zeros(len(part), dtype=bool)
    try:
        values = part.cast(typ)
        if typ.tz is not None:
            values = values.cast(pa.timestamp("ns"))
        return values.to_numpy(zero_copy_only=False).astype("datetime64[ns]"), oob
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Some values fail: parse the rest with pandas (safe here: the values are all naive or all
    # zoned), then look closer only at the failures that look like dates.
    strings = pd.Series(part.to_pandas(), dtype=object)
    try:
        parsed = pd.to_datetime(strings, format="ISO8601", errors="coerce", utc=typ.tz is not None)
        if typ.tz is not None:
            parsed = parsed.dt.tz_localize(None)
        out = parsed.to_numpy(dtype="datetime64[ns]")
    except (ValueError, TypeError, OverflowError):
        out = np.full(len(part), np.datetime64("NaT", "ns"))
    failed = np.isnat(out) & strings.notna().to_numpy()
    datelike = failed & strings.astype("string").str.match(r"^[+-]?\d{4,}-\d\d").fillna(
        False
    ).to_numpy(dtype=bool)
    for i in np.flatnonzero(datelike):
        cell, far = _cast_one(strings.iloc[i], typ)
        oob[i] = far
        if cell is not None:
            ts = pd.Timestamp(cell)
            out[i] = (
                ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
            ).to_datetime64()
    return out, oob


def _cast_one(v: str | None, typ: pa.DataType) -> tuple[Any, bool]:
    if v is None:
        return None, False
    try:
        return pa.array([v]).cast(typ)[0].as_py(), False
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Well-formed but beyond what nanoseconds hold (e.g. 9999-12-31): out of range, not garbage.
        try:
            pa.array([v]).cast(pa.timestamp("s", tz=typ.tz))
            return None, True
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None, False


def _check_table(
    df: pd.DataFrame, table: Table, params: ContractParams, now: pd.Timestamp
) -> tuple[pd.DataFrame, list[Violation]]:
    violations: list[Violation] = []
    dup_names = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    for name in dup_names:
        violations.append(
            Violation(
                table.name,
                name,
                None,
                "duplicate_column",
                "column appears more than once; the first is used",
            )
        )
    # A shallow copy: columns are replaced, never written into, so the input stays untouched.
    out = df.loc[:, ~df.columns.duplicated()].reset_index(drop=True).copy(deep=False)
    missing = [c for c in table.columns if c.name not in out.columns]
    for col in missing:
        violations.append(
            Violation(table.name, col.name, None, "missing_column", "required column not found")
        )
        out[col.name] = pd.Series(index=out.index, dtype=_DTYPES[col.kind])
    horizon = now + pd.Timedelta(days=params.max_future_days)
    floor = pd.Timestamp(params.min_date, tz="UTC")
    ceiling = pd.Timestamp(params.max_date, tz="UTC")
    for col in table.columns:
        if col in missing:
            continue
        s = out[col.name]
        text, plain = _arrow_text(s) if _is_text(s) else (None, False)
        blank = _blank(s, text, col.kind)
        if not col.nullable:
            violations += _flag(out, table, col.name, blank, "not_null", "value is missing")
        if col.kind == "str":
            out[col.name] = _as_str(s, text, plain, blank)
        elif col.kind in ("float", "int"):
            num = _to_number(s, text, blank)
            bad = num.isna() & ~blank
            violations += _flag(out, table, col.name, bad, "type", "not a number: {v!r}")
            inf = np.isinf(num)
            violations += _flag(out, table, col.name, inf, "type", "not a finite number: {v!r}")
            num = num.where(~inf)
            if col.kind == "int":
                frac = num.notna() & (num != np.floor(num))
                violations += _flag(out, table, col.name, frac, "type", "not a whole number: {v!r}")
                num = num.where(~frac)
            if col.min is not None:
                violations += _flag(
                    out,
                    table,
                    col.name,
                    num < col.min,
                    "range",
                    f"{{v!r}} is below the minimum {col.min:g}",
                )
            if col.max is not None:
                violations += _flag(
                    out,
                    table,
                    col.name,
                    num > col.max,
                    "range",
                    f"{{v!r}} is above the maximum {col.max:g}",
                )
            out[col.name] = num.round().astype("Int64") if col.kind == "int" else num
        else:
            ts, oob = _parse_time(s, text, blank, date_only=col.kind == "date")
            bad = ts.isna() & ~blank & ~oob
            what = "an ISO 8601 date" if col.kind == "date" else "an ISO 8601 timestamp"
            violations += _flag(out, table, col.name, bad, "type", f"not {what}: {{v!r}}")
            violations += _flag(
                out,
                table,
                col.name,
                oob,
                "date_range",
                "{v} is outside the years 1678-2261",
            )
            violations += _flag(
                out,
                table,
                col.name,
                ts < floor,
                "date_range",
                f"{{v}} is before contract.min_date {floor.date()}",
            )
            if col.event:
                late = ts > horizon
                detail = f"{{v}} is in the future (after {horizon:%Y-%m-%d %H:%M} UTC)"
            else:
                late = ts > ceiling
                detail = f"{{v}} is after contract.max_date {ceiling.date()}"
            violations += _flag(out, table, col.name, late, "date_range", detail)
            out[col.name] = ts
        if col.allowed is not None:
            allowed = set(getattr(params, col.allowed))
            bad = out[col.name].notna() & ~out[col.name].isin(allowed)
            violations += _flag(
                out,
                table,
                col.name,
                bad,
                "allowed_values",
                _braces(f"{{v!r}} is not one of contract.{col.allowed} ", sorted(allowed)),
            )
    if table.key is not None:
        dup = out[table.key].notna() & out[table.key].duplicated(keep=False)
        violations += _flag(out, table, table.key, dup, "unique", "id appears more than once")
    if table.unique_together:
        cols = list(table.unique_together)
        dup = out[cols].notna().all(axis=1) & out.duplicated(cols, keep=False)
        violations += _flag(
            out, table, cols[-1], dup, "unique", f"({', '.join(cols)}) appears more than once"
        )
    for later, earlier in table.order:
        bad = out[later].notna() & out[earlier].notna() & (out[later] < out[earlier])
        violations += _flag(out, table, later, bad, "order", f"{{v}} is before {earlier}")
    return out, violations


def _foreign_keys(typed: Mapping[str, pd.DataFrame | None], present: set[str]) -> list[Violation]:
    accounts = typed["accounts"]
    known: Any = accounts["account_id"].dropna().unique() if accounts is not None else []
    found: list[Violation] = []
    for name in ("tickets", "usage", "escalations", "churn"):
        df = typed[name]
        if df is None or name not in present or "accounts" not in present:
            continue
        bad = df["account_id"].notna() & ~df["account_id"].isin(known)
        found += _flag(
            df,
            TABLES[name],
            "account_id",
            bad,
            "foreign_key",
            "account {v!r} is not in accounts",
        )
    esc, tickets = typed["escalations"], typed["tickets"]
    if esc is not None and tickets is not None and {"escalations", "tickets"} <= present:
        bad = esc["ticket_id"].notna() & ~esc["ticket_id"].isin(
            tickets["ticket_id"].dropna().unique()
        )
        found += _flag(
            esc,
            ESCALATIONS,
            "ticket_id",
            bad,
            "foreign_key",
            "ticket {v!r} is not in tickets",
        )
    return found


def _fill_sla(
    tickets: pd.DataFrame, accounts: pd.DataFrame, params: ContractParams
) -> pd.DataFrame:
    """Tickets without their own SLA targets take the policy's, by the account's tier and priority."""
    tier = tickets["account_id"].map(
        accounts.drop_duplicates("account_id").set_index("account_id")["tier"]
    )
    tiers, priorities = list(params.sla_policy), list(params.priorities)
    t = pd.Categorical(tier, categories=tiers).codes
    p = pd.Categorical(tickets["priority"], categories=priorities).codes
    known = (t >= 0) & (p >= 0)
    out = tickets.copy(deep=False)
    for column, attr in (
        ("sla_first_response_hours", "first_response"),
        ("sla_resolution_hours", "resolution"),
    ):
        grid = np.array(
            [
                [
                    getattr(params.sla_policy[tt][pp], attr)
                    if pp in params.sla_policy[tt]
                    else np.nan
                    for pp in priorities
                ]
                for tt in tiers
            ],
            dtype="float64",
        )
        fallback = np.where(known, grid[np.maximum(t, 0), np.maximum(p, 0)], np.nan)
        out[column] = out[column].astype("float64").fillna(pd.Series(fallback, index=out.index))
    return out
