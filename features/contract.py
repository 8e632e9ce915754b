"""The input data contract: five tables, their columns and rules, checked where data enters.

`check` turns raw tables (as read from files, a database or an importer) into typed, UTC-normalised
tables plus every violation found. Nothing is dropped: a value that cannot be parsed becomes a
violation naming its table, column, row and rule.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.contract_text import detail
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
    above_min: bool = False  # the value must exceed `min` (SLA hours > 0), not only reach it
    max: float | None = None
    event: bool = False  # an event time: must not lie in the future of the run's clock
    optional: bool = False  # may be absent from a source: then read as missing in every row
    # one line of plain text: an id or owner the daily run stores and shows (a NUL cannot even be
    # stored in PostgreSQL; a tab or line break breaks the list, the links and the API's look-up)
    one_line: bool = False
    # at most this many characters: what the state database's column holds (PostgreSQL refuses
    # a longer value, in the middle of a daily run)
    max_length: int | None = None


@dataclass(frozen=True)
class Table:
    name: str
    key: str | None  # column that identifies a row uniquely
    required: bool
    columns: tuple[Column, ...]
    unique_together: tuple[str, ...] = ()
    # (later, earlier): later must not be before earlier when both are present
    order: tuple[tuple[str, str], ...] = ()
    # (status, its open levels in ContractParams, time): a row whose status is not open has the time
    closed_needs: tuple[str, str, str] | None = None

    @property
    def column_names(self) -> list[str]:
        """The columns every source's table has (optional ones may be absent)."""
        return [c.name for c in self.columns if not c.optional]


ACCOUNTS = Table(
    "accounts",
    key="account_id",
    required=True,
    columns=(
        Column("account_id", "str", one_line=True, max_length=128),
        Column("name", "str", one_line=True, max_length=512),
        Column("tier", "str", allowed="tiers"),
        Column("arr", "float", min=0),
        Column("seats", "int", min=1),
        Column("contract_start", "date"),
        Column("renewal_date", "date"),
        Column("csm_owner", "str", one_line=True, max_length=256),
        Column("region", "str"),
        Column("language", "str", allowed="languages"),
        # CRM fields many exports have: the contract term, and the day the customer gave notice
        Column("term_months", "int", nullable=True, min=1, max=1200, optional=True),
        Column("notice_at", "date", nullable=True, event=True, optional=True),
    ),
    order=(("renewal_date", "contract_start"), ("notice_at", "contract_start")),
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
        Column("sla_first_response_hours", "float", nullable=True, min=0, above_min=True),
        Column("sla_resolution_hours", "float", nullable=True, min=0, above_min=True),
        # the ticket's own language, where a helpdesk detects it (missing: the account's)
        Column("language", "str", nullable=True, allowed="languages", optional=True),
    ),
    order=(("first_response_at", "created_at"), ("resolved_at", "created_at")),
    closed_needs=("status", "open_statuses", "resolved_at"),
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
        Column("escalation_id", "str", one_line=True),
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
        # a CRM's churn list often says who left and when, not why (docs/importers.md)
        Column("reason", "str", nullable=True, optional=True),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (ACCOUNTS, TICKETS, USAGE, ESCALATIONS, CHURN)}

# Each SLA target column of tickets and the boolean column the contract adds beside it: which
# tickets took the policy's target (`contract.sla_policy`, none of their own). Only those are
# business hours under `features.sla.business_hours`: a ticket's own target is what its helpdesk
# set, the clock hours to the deadline it worked out (importers write it so), and laid on the
# calendar again 70 clock hours became 7 business days. Computed by the contract, never read from
# a source: a tickets file's column of that name is replaced.
SLA_FROM_POLICY: dict[str, str] = {
    "sla_first_response_hours": "sla_first_response_from_policy",
    "sla_resolution_hours": "sla_resolution_from_policy",
}


def from_policy(tickets: pd.DataFrame, target: str) -> np.ndarray:
    """Per ticket, whether its `target` (an SLA hours column) is the policy's. Tickets the contract
    did not type (a table built by hand) have no such column: their targets are their own."""
    column = SLA_FROM_POLICY[target]
    if column not in tickets:
        return np.zeros(len(tickets), dtype=bool)
    # rows concatenated from a table without the column are missing there: their own targets
    return tickets[column].to_numpy(dtype=bool, na_value=False)


def as_source(tickets: pd.DataFrame) -> pd.DataFrame:
    """Typed tickets as a source gives them: the policy's targets blank again, the marks of
    `SLA_FROM_POLICY` dropped. Written so and read back, a History means what it did; written
    filled, the policy's targets came back as the tickets' own (clock hours, not business)."""
    marks = [c for c in SLA_FROM_POLICY.values() if c in tickets]
    if not marks:
        return tickets
    blank = {t: tickets[t].where(~from_policy(tickets, t)) for t in SLA_FROM_POLICY}
    return tickets.drop(columns=marks).assign(**blank)


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


# What each optional column's absence means (the column reads as missing in every row).
ABSENT_COLUMN_EFFECTS: dict[tuple[str, str], str] = {
    ("accounts", "term_months"): "every contract is taken as a 12-month term for days_to_renewal",
    ("accounts", "notice_at"): "notices given to the CSM are unknown; only notice tickets count",
    ("tickets", "language"): "each ticket's text is read in its account's language",
    ("churn", "reason"): "churn reasons are unknown (no feature or label uses them)",
}


def absent_columns(raw: Mapping[str, pd.DataFrame | None]) -> list[tuple[str, str]]:
    """The optional columns a source's tables lack (table, column): they read as missing."""
    return [
        (name, col.name)
        for name, table in TABLES.items()
        if (df := raw.get(name)) is not None
        for col in table.columns
        if col.optional and col.name not in df.columns
    ]


def absent_notes(history: History) -> list[str]:
    """One line per optional table the source lacks, saying what that disables."""
    return [f"{name}: absent, {ABSENT_EFFECTS[name]}" for name in history.missing]


# Rule names as reported in violations (and documented in docs/data-contract.md).
RULES: dict[str, str] = {
    "missing_table": "a required table is not in the source",
    "missing_column": "a required column is not in the table",
    "empty_table": "the accounts table has no rows",
    "duplicate_column": "a column name appears more than once",
    "not_null": "a required value is empty",
    "type": "a value is not a number, whole number or ISO 8601 timestamp/date",
    "range": "a number is outside its allowed range (e.g. a negative count)",
    "allowed_values": "a value is not one of the levels listed in params.yaml",
    "date_range": "a timestamp/date is before contract.min_date, after contract.max_date, or in the future",
    "unique": "an id (or key combination) appears more than once",
    "order": "a timestamp/date lies before the one it must follow (e.g. resolved_at < created_at)",
    "too_long": "an id, name or owner is longer than the state database holds (128 / 512 / 256 characters)",
    "closed_unresolved": "a ticket whose status is not open (contract.open_statuses) has no resolved_at",
    "foreign_key": "a reference to an account (or ticket) that does not exist",
    "one_line": "an id or owner holds a control character (tab, line break, NUL)",
}

# control characters (C0, DEL, C1 with NEL) and Unicode's line and paragraph separators: each
# breaks a line (an e-mail header refuses them) or steers a terminal
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_DECIMAL_COMMA = r"\s*[+-]?\d{1,3}(?:\.\d{3})*,\d+\s*|\s*[+-]?\d+,\d+\s*"
# 4,000 is 4000 with an English thousands comma and 4.0 with a German decimal comma: tell both
_COMMA_EITHER = r"\s*[+-]?\d{1,3},\d{3}\s*"
# a long id as a spreadsheet writes the number it took it for: 1.23457E+11, 1,23457E+11 (German)
_SPREADSHEET_ID = r"^\s*[+-]?\d+(?:[.,]\d+)?[eE]\+\d+\s*$"
_SPREADSHEET_ID_RE = re.compile(_SPREADSHEET_ID)
# 1,250,000 and 1,234.50 are English thousands commas, never a decimal comma
_THOUSANDS_COMMAS = r"\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*"
# an amount as a CRM or spreadsheet formats it: a currency sign or code before or after digits
# ("€1.234,00", "1,234.00 USD"), to be told as such, not only "not a number"
_AMOUNT = r"(?:[€$£¥]|[A-Z]{3})\s*[+-]?\d[\d.,' ]*|[+-]?\d[\d.,' ]*\s*(?:[€$£¥]|[A-Z]{3})"
# German spreadsheets group thousands with dots: 120.000 is 120000 there and 120.0 in English;
# 1.250.000 is no English number at all
_THOUSANDS = r"^[+-]?\d{1,3}(?:\.\d{3})+$"
_MANY_GROUPS = r"^[+-]?\d{1,3}(?:\.\d{3}){2,}$"


def one_line(text: str) -> bool:
    """What an id, name or owner may be: text without a control character or line separator."""
    return _CONTROL.search(text) is None


def without_controls(text: str) -> str:
    """`text` with each control character or line separator made a space (typed notes)."""
    return _CONTROL.sub(" ", text)


def _not_one_line(values: Any) -> np.ndarray:
    """Per value: a str holding a control character. The whole column is searched at once first:
    almost always it holds none."""
    texts = [v for v in values if type(v) is str]
    if not _CONTROL.search("".join(texts)):
        return np.zeros(len(values), dtype=bool)
    return np.fromiter(
        (type(v) is str and _CONTROL.search(v) is not None for v in values), bool, len(values)
    )


# Spellings of "no value" that exports use in number and time columns. Text columns treat only
# empty strings as missing: "NA" is a region (North America), "None" could be a name.
NULL_TOKENS = ("", "na", "n/a", "nan", "nat", "null", "none")
_NULL_TOKEN_SET = pa.array(NULL_TOKENS)

# A time of day (hours only too: T10, T1000) followed by anything shaped like a zone designator
# (Z, +HH, +HHMM, +HH:MM, also a malformed +HH:MM:SS): whatever pandas' ISO 8601 parser would
# read an offset from must not go with the naive values, to which pandas would give that offset.
_ZONED = r"[Tt\s]\d\d(?::?\d\d){0,2}(?:[.,]\d+)?\s*(?:[Zz]|[+-]\d\d(?::?\d\d)*)\s*$"


# A raw table's `attrs` key for its rows' numbers in the file they were read from, where they are
# not their positions (a CSV file with blank lines, which pandas skips): numpy int64, 1-based.
ROWS = "escrisk_rows"


def row_in_file(df: pd.DataFrame | None, row: int) -> int:
    """The number the report gives a raw table's `row`-th row (1-based): its row in the file
    (`ROWS`), else `row` itself."""
    rows = None if df is None else df.attrs.get(ROWS)
    if rows is None or len(rows) != len(df) or not 0 < row <= len(rows):  # type: ignore[arg-type]
        return row
    return int(rows[row - 1])


def in_file(violations: list[Violation], raw: Mapping[str, pd.DataFrame | None]) -> list[Violation]:
    """`violations` of the tables typed from `raw` with their rows as the files number them."""
    return [
        v if v.row is None else replace(v, row=row_in_file(raw.get(v.table), v.row))
        for v in violations
    ]


# ISO 8601 as people and exports write it, rewritten to one form that both readers (Arrow for
# files, pydantic for the API) parse alike: so a time means the same instant on both paths, and
# what one accepts the other does too. Liberal only where the meaning is unambiguous: lowercase
# t and z, Y/M/D with slashes, single-digit month, day or hour, the basic format with a T, a
# time of hours only, a decimal comma, blanks before the zone, +HH and +HHMM offsets, and UTC or
# GMT as the zone's name (never another name: CET is +01:00 in winter and +02:00 in summer).
# (Rewrites are RE2 and Python alike; a digit never follows a group reference.)
_TIME_REWRITES: tuple[tuple[str, str], ...] = (
    (r"(\d)\s*(?:UTC|GMT|utc|gmt)$", r"\1Z"),  # as BigQuery and Snowflake export timestamps
    (r"^(\d{4})/(\d{1,2})/(\d{1,2})(\D|$)", r"\1-\2-\3\4"),
    (r"^(\d{4})(\d\d)(\d\d)([Tt])", r"\1-\2-\3\4"),
    (r"^(\d{4})-(\d)-", r"\1-0\2-"),
    (r"^(\d{4}-\d\d)-(\d)(\D|$)", r"\1-0\2\3"),
    (r"^(\d{4}-\d\d-\d\d)[Tt ](\d)", r"\1T\2"),
    (r"T(\d)(\D|$)", r"T0\1\2"),
    (r"T(\d\d)(\d\d)(\d\d)", r"T\1:\2:\3"),
    (r"T(\d\d)(\d\d)(\D|$)", r"T\1:\2\3"),
    (r"T(\d\d)(\s*[Zz+-]|$)", r"T\1:00\2"),
    (r"(:\d\d)[.,](\d)", r"\1.\2"),
    (r"(:\d\d)\.(\s*[Zz+-]|$)", r"\1\2"),
    (r"(\d)\s*[Zz]$", r"\1Z"),
    (r"(T\S*\d)\s*([+-]\d\d):?(\d\d)$", r"\1\2:\3"),
    (r"(T\S*\d)\s*([+-]\d\d)$", r"\1\2:00"),
)
# the forms most exports write already, which both readers take as they are (files skip the
# rewrites: they cost about 3 s per million values)
_CANONICAL_TIME = (
    r"^\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d(?::?\d\d)?)?)?$"
)
_TIME_REWRITES_RE = tuple((re.compile(p), r) for p, r in _TIME_REWRITES)
_CANONICAL_TIME_RE = re.compile(_CANONICAL_TIME)
_HOURS_OFFSET = re.compile(r"(:\d\d(?:\.\d+)?[+-]\d\d)$")


def iso_time_text(value: str) -> str | None:
    """A time or date written in one of the ISO 8601 forms the contract takes, in its canonical
    form ("2025-06-01 09:30:00+02:00"); None when it is none of them. The API's request schema
    reads text through this, and files are read through the same rewrites."""
    text = value.strip()
    if not _CANONICAL_TIME_RE.fullmatch(text):
        for pattern, repl in _TIME_REWRITES_RE:
            text = pattern.sub(repl, text)
        if not _CANONICAL_TIME_RE.fullmatch(text):
            return None
    # an offset in hours only ("+02", as PostgreSQL writes a timestamptz): pydantic wants minutes
    return _HOURS_OFFSET.sub(r"\1:00", text)


def _canonical_times(text: pa.Array) -> pa.Array:
    """`iso_time_text` over an Arrow column of trimmed text (null where it is none of the forms)."""
    ok = pc.fill_null(pc.match_substring_regex(text, _CANONICAL_TIME), True)
    if pc.all(ok).as_py() is not False:
        return text
    rest = _mask(pc.invert(ok))
    part = text.filter(pa.array(rest))
    for pattern, repl in _TIME_REWRITES:
        part = pc.replace_substring_regex(part, pattern=pattern, replacement=repl)
    part = pc.if_else(pc.match_substring_regex(part, _CANONICAL_TIME), part, None)
    out = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    out[rest] = part.to_numpy(zero_copy_only=False)
    return pa.array(out, type=pa.string())


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
                violations.append(_violation(name, "-", "missing_table", "missing_table"))
            typed[name] = empty_table(name) if table.required else None
            continue
        out, found = _check_table(df, table, params, now)
        typed[name] = out
        violations += found
    # References into a table the source lacks are not checked: its missing_table says enough;
    # nor into one that lacks its id column: its missing_column does (not a line per row).
    given = {n: df for n, df in raw.items() if n in TABLES and df is not None}
    keyed = {n for n, df in given.items() if TABLES[n].key in _names(df)}
    violations += _foreign_keys(typed, set(given), keyed)
    assert typed["accounts"] is not None and typed["tickets"] is not None
    violations = in_file(violations, raw)
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


# --- typed values (a parsed API request) ---------------------------------------------------------

_EPOCH = dt.date(1970, 1, 1).toordinal()
_NAT = np.iinfo(np.int64).min
_UTC = pd.DatetimeTZDtype(tz="UTC")
_NONE = type(None)
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


class NeedsGeneralPath(Exception):
    """A value `check_values` does not type itself (text, out-of-range times, non-finite numbers...)."""


@dataclass(frozen=True)
class _Bounds:
    """The time limits of one run (UTC), worked out once for all its tables rather than per table."""

    floor: pd.Timestamp
    ceiling: pd.Timestamp
    horizon: pd.Timestamp

    @classmethod
    def of(cls, params: ContractParams, now: pd.Timestamp) -> _Bounds:
        return cls(
            floor=pd.Timestamp(params.min_date, tz="UTC"),
            ceiling=pd.Timestamp(params.max_date, tz="UTC"),
            horizon=now + pd.Timedelta(days=params.max_future_days),
        )


def check_values(
    tables: Mapping[str, Mapping[str, Any] | None],
    params: ContractParams,
    now: pd.Timestamp,
) -> tuple[History, list[Violation]]:
    """`check` for tables whose values are already typed (str, int, float, datetime, date, None),
    as a parsed request gives them: the same History and violations as `check` on the same columns
    (whole numbers int64 unless one is missing), checked in plain Python with each frame built once.

    Each table maps every contract column to its values (a list); extra columns are arrays, kept as
    they are. Raises NeedsGeneralPath when a value needs `check`'s parsing; the caller then uses it.
    """
    bounds = _Bounds.of(params, _utc(now))
    typed: dict[str, dict[str, Any] | None] = {}
    violations: list[Violation] = []
    for name, table in TABLES.items():
        columns = tables.get(name)
        if columns is None:
            if table.required:
                raise NeedsGeneralPath(f"{name}: table missing")
            typed[name] = None
            continue
        typed[name], found = _check_values_table(columns, table, params, bounds)
        violations += found
    violations += _foreign_keys(typed, present={n for n, c in typed.items() if c is not None})
    cells = typed["tickets"]
    assert cells is not None and typed["accounts"] is not None
    cells |= _sla_values(cells, typed["accounts"], params)
    frames = {
        name: None if c is None else pd.DataFrame(c, index=pd.RangeIndex(_rows(c)), copy=False)
        for name, c in typed.items()
    }
    history = History(
        accounts=frames["accounts"],  # type: ignore[arg-type]
        tickets=frames["tickets"],  # type: ignore[arg-type]
        usage=frames["usage"],
        escalations=frames["escalations"],
        churn=frames["churn"],
    )
    return history, violations


def _rows(cells: Mapping[str, Any]) -> int:
    return len(next(iter(cells.values())))


def _sla_values(
    tickets: Mapping[str, Any], accounts: Mapping[str, Any], params: ContractParams
) -> dict[str, np.ndarray]:
    """`_fill_sla` on typed columns: the policy's targets where a ticket has none of its own,
    and which tickets took them (`SLA_FROM_POLICY`)."""
    tier_of: dict[str, Any] = {}
    for aid, tier in zip(accounts["account_id"], accounts["tier"], strict=True):
        tier_of.setdefault(aid, tier)  # an id's first row, as `_fill_sla` reads it
    targets: dict[tuple[Any, Any], tuple[float, float]] = {
        (tier, prio): (float(t.first_response), float(t.resolution))
        for tier, policy in params.sla_policy.items()
        for prio, t in policy.items()
        if prio in params.priorities
    }
    unknown = (np.nan, np.nan)
    fallback = np.array(
        [
            targets.get((tier_of.get(aid), prio), unknown)
            for aid, prio in zip(tickets["account_id"], tickets["priority"], strict=True)
        ],
        dtype="float64",
    ).reshape(-1, 2)
    out = {}
    for i, (column, flag) in enumerate(SLA_FROM_POLICY.items()):
        own = tickets[column]
        policy = np.isnan(own) & ~np.isnan(fallback[:, i])
        out[column] = np.where(policy, fallback[:, i], own)
        out[flag] = policy
    return out


# Whole years a datetime64[ns] holds, with a day to spare for offsets; others take check's path.
_FIRST_YEAR, _LAST_YEAR = 1678, 2261
_FIRST_DAY, _LAST_DAY = (
    dt.date(_FIRST_YEAR, 1, 1).toordinal(),
    dt.date(_LAST_YEAR, 12, 31).toordinal(),
)


def _times_ns(values: Sequence[Any], date_only: bool) -> np.ndarray:
    """Dates (midnight) or datetimes (naive = UTC) as UTC nanoseconds since 1970, NaT for None;
    exact integer arithmetic, one comprehension per column."""
    kinds = set(map(type, values))
    if not kinds <= {dt.date if date_only else dt.datetime, _NONE}:
        raise NeedsGeneralPath("not a date" if date_only else "not a datetime")
    present = [v for v in values if v is not None] if _NONE in kinds else values
    if not present:
        return np.full(len(values), _NAT, dtype=np.int64)
    if date_only:  # day 0 does not exist (day 1 is 0001-01-01): it stands for None
        days = np.array([0 if v is None else v.toordinal() for v in values], dtype=np.int64)
        known = days[days != 0] if _NONE in kinds else days
        if known.min() < _FIRST_DAY or known.max() > _LAST_DAY:
            raise NeedsGeneralPath("time beyond nanoseconds")
        return np.where(days == 0, _NAT, (days - _EPOCH) * DAY_NS)
    years = [v.year for v in present]
    if not (min(years) >= _FIRST_YEAR and max(years) <= _LAST_YEAR):
        raise NeedsGeneralPath("time beyond nanoseconds")
    return np.array(
        [
            _NAT
            if v is None
            else (v - (_EPOCH_NAIVE if v.utcoffset() is None else _EPOCH_UTC))
            // _MICROSECOND
            * 1000
            for v in values
        ],
        dtype=np.int64,
    )


def _utc_array(ns: np.ndarray) -> Any:
    """UTC nanoseconds as a datetime64[ns, UTC] array; pandas' public constructors spend 0.1 ms
    checking what holds by construction here (pandas is pinned in uv.lock)."""
    return pd.arrays.DatetimeArray._simple_new(ns.view("M8[ns]"), dtype=_UTC)  # type: ignore[attr-defined]


_INT_OR_NONE = frozenset({int, _NONE})
_NUMBER_OR_NONE = frozenset({int, float, _NONE})


def _numbers_typed(values: Sequence[Any], whole: bool) -> tuple[np.ndarray, np.ndarray]:
    """float64 values (NaN = None) and what `check` would quote for each: ints when every value is
    an int (an int64 column), floats otherwise (a float64 column, as pandas reads them)."""
    kinds = set(map(type, values))
    if not kinds <= (_INT_OR_NONE if whole else _NUMBER_OR_NONE):
        raise NeedsGeneralPath("not a plain number")
    present = [v for v in values if v is not None] if _NONE in kinds else list(values)
    if int in kinds:
        ints = present if float not in kinds else [v for v in present if type(v) is int]
        if ints and not (min(ints) >= -(2**63) and max(ints) < 2**63):
            raise NeedsGeneralPath("beyond int64")
    num = np.array(
        [np.nan if v is None else v for v in values] if _NONE in kinds else present,
        dtype="float64",
    )
    if float in kinds and not np.isfinite(np.array(present, dtype="float64")).all():
        raise NeedsGeneralPath("not a finite number")
    if kinds <= {int}:
        return num, np.array(values, dtype=object)
    return num, num.astype(object)


def _int_array(values: Sequence[Any]) -> Any:
    """Typed ints (or None) as Int64, what `_whole` makes of their float64 values, built from the
    ints themselves; beyond 2**53 floats are not exact, and `_whole` has the say."""
    present = [v for v in values if v is not None]
    if present and not (min(present) >= -(2**53) and max(present) <= 2**53):
        return _whole(np.array([np.nan if v is None else v for v in values], dtype="float64"))
    data = np.array([0 if v is None else v for v in values], dtype=np.int64)
    return pd.arrays.IntegerArray(data, np.array([v is None for v in values], dtype=bool))


_STR_OR_NONE = frozenset({str, _NONE})


def _plain_strings(values: Sequence[Any]) -> np.ndarray:
    """Non-empty str without surrounding blanks, or None: what `check` keeps as it is."""
    kinds = set(map(type, values))
    if not kinds <= _STR_OR_NONE:
        raise NeedsGeneralPath("text to clean")
    present = [v for v in values if v is not None] if _NONE in kinds else list(values)
    # str.strip removes exactly the characters str.isspace calls blank
    if "" in present or list(map(str.strip, present)) != present:
        raise NeedsGeneralPath("text to clean")
    try:
        "".join(present).encode("utf-8")
    except UnicodeEncodeError:
        raise NeedsGeneralPath("lone surrogates") from None
    return np.array(values, dtype=object)


def _repeats(keys: list[Any], present: np.ndarray) -> np.ndarray:
    """Rows whose (present) key appears in another row too."""
    seen: dict[Any, int] = {}
    for k, ok in zip(keys, present, strict=True):
        if ok:
            seen[k] = seen.get(k, 0) + 1
    return np.fromiter(
        (ok and seen[k] > 1 for k, ok in zip(keys, present, strict=True)), bool, len(keys)
    )


def _check_values_table(
    columns: Mapping[str, Any],
    table: Table,
    params: ContractParams,
    bounds: _Bounds,
) -> tuple[dict[str, Any], list[Violation]]:
    """One table of typed values: the rules of `_check_table`, in its order, with its messages.
    A rule is looked at row by row only when a cheap whole-column test says it may be broken."""
    n = len(columns[table.columns[0].name])
    if any(len(v) != n for v in columns.values()):
        raise NeedsGeneralPath("columns of different lengths")
    absent = {c.name: [None] * n for c in table.columns if c.optional and c.name not in columns}
    columns = {**columns, **absent}
    cells: dict[str, Any] = {}  # typed columns, which is how `_flag` quotes them
    shown: dict[str, np.ndarray] = {}  # numbers as `check` quotes them (before typing)
    number: dict[str, np.ndarray] = {}
    nanos: dict[str, np.ndarray] = {}
    for col in table.columns:
        values = columns[col.name]
        if col.kind == "str":
            if col.name.endswith("_id") and any(
                type(v) is str and _SPREADSHEET_ID_RE.match(v) for v in values
            ):
                raise NeedsGeneralPath(f"{table.name}.{col.name}: an id in scientific notation")
            cells[col.name] = _plain_strings(values)
        elif col.kind in ("float", "int"):
            number[col.name], shown[col.name] = _numbers_typed(values, whole=col.kind == "int")
            cells[col.name] = _int_array(values) if col.kind == "int" else number[col.name]
        else:
            ns = nanos[col.name] = _times_ns(values, date_only=col.kind == "date")
            cells[col.name] = _utc_array(ns)
    for name, values in columns.items():
        if name not in cells:
            cells[name] = values  # an extra column, kept as it is
    violations: list[Violation] = []
    floor, ceiling, horizon = bounds.floor, bounds.ceiling, bounds.horizon
    # values are typed by now (str, int, float, date, datetime or None), so `None in` is exact
    for col in table.columns:
        values = columns[col.name]
        if not col.nullable and None in values:
            blank = np.fromiter((v is None for v in values), bool, n)
            violations += _flag(cells, table, col.name, blank, "not_null", "not_null")
        if col.one_line:
            bad = _not_one_line(values)
            violations += _flag(cells, table, col.name, bad, "one_line", "one_line")
        if col.max_length is not None:
            limit = col.max_length
            bad = np.fromiter((v is not None and len(v) > limit for v in values), bool, n)
            violations += _flag(cells, table, col.name, bad, "too_long", "too_long", limit=limit)
        if col.name in number:
            num = number[col.name]
            low = _below(num, col)
            high = num > col.max if col.max is not None else None
            if (low is not None and low.any()) or (high is not None and high.any()):
                raw = {**cells, col.name: shown[col.name]}
                if low is not None:
                    violations += _flag(raw, table, col.name, low, "range", **_min_detail(col))
                if high is not None:
                    violations += _flag(
                        raw, table, col.name, high, "range", "above_max", max=f"{col.max:g}"
                    )
        elif col.name in nanos:
            ns = nanos[col.name]
            early = (ns < floor.value) & (ns != _NAT)
            if early.any():
                violations += _flag(
                    cells, table, col.name, early, "date_range", "before_min_date",
                    day=str(floor.date()),
                )  # fmt: skip
            late = ns > (horizon.value if col.event else ceiling.value)  # NaT is the least int64
            if late.any():
                key, values = _late(col, horizon, ceiling)
                violations += _flag(cells, table, col.name, late, "date_range", key, **values)
        if col.allowed is not None:
            allowed = set(getattr(params, col.allowed))
            if not allowed.issuperset(values):  # a None or a level not listed
                bad = np.fromiter((v is not None and v not in allowed for v in values), bool, n)
                violations += _flag(
                    cells, table, col.name, bad, "allowed_values", "not_allowed",
                    levels=col.allowed, allowed=str(sorted(allowed)),
                )  # fmt: skip
    if table.key is not None and n > 1:
        ids = list(columns[table.key])
        if len(set(ids)) < n:
            dup = _repeats(ids, np.fromiter((v is not None for v in ids), bool, n))
            violations += _flag(cells, table, table.key, dup, "unique", "id_repeated")
    if table.unique_together and n > 1:
        cols = list(table.unique_together)
        parts = [nanos[c].tolist() if c in nanos else list(columns[c]) for c in cols]
        keys = list(zip(*parts, strict=True))
        if len(set(keys)) < n:
            present = np.logical_and.reduce([[v is not None for v in columns[c]] for c in cols])
            dup = _repeats(keys, present)
            violations += _flag(
                cells, table, cols[-1], dup, "unique", "key_repeated", columns=", ".join(cols)
            )
    for later, earlier in table.order:
        a, b = nanos[later], nanos[earlier]
        bad = (a < b) & (a != _NAT) & (b != _NAT)
        violations += _flag(cells, table, later, bad, "order", "before", earlier=earlier)
    if table.closed_needs is not None:
        status, levels, needed = table.closed_needs
        still_open = set(getattr(params, levels))
        closed = np.fromiter(
            (v is not None and v not in still_open for v in columns[status]), bool, n
        )
        bad = closed & (nanos[needed] == _NAT)
        violations += _flag(cells, table, needed, bad, "closed_unresolved", **_closed_detail(table))
    return cells, violations


def _below(num: np.ndarray, col: Column) -> np.ndarray | None:
    """Numbers under a column's minimum (or at it, where the value must exceed it)."""
    if col.min is None:
        return None
    return num <= col.min if col.above_min else num < col.min


def _min_detail(col: Column) -> dict[str, str]:
    return {"key": "not_above_min" if col.above_min else "below_min", "min": f"{col.min:g}"}


def _closed_detail(table: Table) -> dict[str, str]:
    status, levels, needed = table.closed_needs or ("", "", "")
    done = needed.split("_")[0]
    return {"key": "closed_unresolved", "status": status, "levels": levels, "needed": needed,
            "done": done}  # fmt: skip


def _late(col: Column, horizon: pd.Timestamp, ceiling: pd.Timestamp) -> tuple[str, dict[str, str]]:
    """The detail of a time too late: an event's is after the horizon, another's after max_date."""
    if col.event:
        return "in_future", {"at": f"{horizon:%Y-%m-%d %H:%M}"}
    return "after_max_date", {"day": str(ceiling.date())}


def _utc(ts: pd.Timestamp) -> pd.Timestamp:
    """The clock as a UTC timestamp; a naive clock is taken as UTC, like naive data."""
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


# A table's columns by name, raw or typed: a DataFrame, or the dict `_check_table` works on.
Cells = Mapping[Any, pd.Series] | pd.DataFrame


def _keys(cells: Cells, table: Table, mask: np.ndarray) -> list[str | None]:
    """The identity of each flagged row (its id, or its key combination) for the report."""
    if table.key is not None and table.key in cells:
        ids = cells[table.key][mask]
        # a blank id (not yet typed as missing) names nothing: no "(account_id=)"
        return [
            None if _is_missing(v) or (isinstance(v, str) and not v.strip()) else f"{table.key}={v}"
            for v in ids
        ]
    if table.unique_together and all(c in cells for c in table.unique_together):
        parts = [cells[c][mask] for c in table.unique_together]
        return [
            ", ".join(f"{c}={_show(v)}" for c, v in zip(table.unique_together, r, strict=True))
            for r in zip(*parts, strict=True)
        ]
    return [None] * int(mask.sum())


def _is_missing(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v))


def _show(v: object) -> object:
    """Midnight timestamps as dates in reports; numpy scalars as the Python values they hold
    (-5, not np.int64(-5)); everything else as it is."""
    if isinstance(v, pd.Timestamp) and v.tzinfo is not None and v == v.normalize():
        return str(v.date())
    if isinstance(v, np.generic):
        return v.item()
    return v


def _flag(
    cells: Cells,
    table: Table,
    column: str,
    mask: pd.Series | np.ndarray,
    rule: str,
    key: str,
    **values: Any,
) -> list[Violation]:
    """Violations for every row where `mask` is true; `key` names their detail in
    `features.contract_text`, a template of the bad value `{v}` and `values`.

    Values and keys are read from `cells` as they stand when the rule is checked, so a type error
    quotes the raw value and a later rule the typed one.
    """
    return _flag_each(cells, table, column, mask, rule, key, lambda v: values)


def _flag_each(
    cells: Cells,
    table: Table,
    column: str,
    mask: pd.Series | np.ndarray,
    rule: str,
    key: str,
    each: Callable[[Any], dict[str, Any]],
) -> list[Violation]:
    """As `_flag`, with the detail's values read from each bad value by `each`."""
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return []
    rows = np.flatnonzero(m) + 1
    bad = cells[column][m] if column in cells else [None] * len(rows)
    keys = _keys(cells, table, m)
    found = []
    for r, v, k in zip(rows, bad, keys, strict=True):
        said = {**each(v), "v": _show(v)}
        found.append(
            Violation(table.name, column, int(r), rule, detail(key, "en", said), k, (key, said))
        )
    return found


def _comma_readings(v: object) -> dict[str, str]:
    """What 4,000 means in English (4000) and in German (4.0)."""
    written = str(v).strip()
    return {"en": written.replace(",", ""), "de": str(float(written.replace(",", ".")))}


def _violation(table: str, column: str, rule: str, key: str, **values: Any) -> Violation:
    """A table-level violation (no row), its detail told from the catalog."""
    return Violation(table, column, None, rule, detail(key, "en", values), None, (key, values))


def _misnamed(name: str, columns: list[Any]) -> str | None:
    """A column of the table that is `name` but for case, spaces or hyphens (`Tier`, ` name`,
    `Account ID`): the contract's names are exact, so say which column to rename."""
    for c in columns:
        if re.sub(r"[\s-]+", "_", str(c).strip().lower()) == name:
            return str(c)
    return None


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or isinstance(s.dtype, pd.StringDtype)


def _arrow_text(s: pd.Series) -> tuple[pa.Array, bool]:
    """Values as stripped Arrow strings (missing stays null): one conversion per column, no Python loop.

    The flag says the column already held Python str without surrounding blanks, so the caller
    can keep it as it is.
    """
    try:
        arr = pa.array(s, type=pa.string(), from_pandas=True)
        # Arrow also takes UTF-8 bytes (a Parquet BYTE_ARRAY without its UTF8 annotation), which
        # must become str: only a column of str is kept as it is
        plain = s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) == "string"
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        arr = pa.array(s.astype("string"), type=pa.string(), from_pandas=True)
        plain = False
    trimmed = pc.utf8_trim_whitespace(arr)
    if plain:
        plain = bool(
            pc.all(pc.equal(pc.utf8_length(arr), pc.utf8_length(trimmed))).as_py() is not False
        )
    return trimmed, plain


# Up to this many rows a text column is first looked at in Python: for a request's few rows that is
# cheaper than the Arrow round trip, which pays off only for files.
SMALL_ROWS = 256


def _plain_text(s: pd.Series) -> np.ndarray | None:
    """For a short object column of Python str without surrounding blanks (and None): which values
    are None. Such a column is already what the check would make of it (Arrow's whitespace is a
    subset of Python's). None when the column needs the general path."""
    if s.dtype != object or len(s) > SMALL_ROWS:
        return None
    values = s.tolist()
    present = [v for v in values if v is not None]
    for v in present:
        if type(v) is not str or not v or v[0].isspace() or v[-1].isspace():
            return None
    try:
        "".join(present).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: let Arrow refuse them as before
        return None
    return np.fromiter((v is None for v in values), dtype=bool, count=len(values))


def _mask(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _blank(s: pd.Series, text: pa.Array | None, kind: Kind) -> np.ndarray:
    """Missing values: NaN/None/NaT, empty strings, and for non-text columns the usual null tokens."""
    if text is None:
        return np.asarray(s.array.isna(), dtype=bool)
    if kind == "str":
        empty = pc.equal(pc.utf8_length(text), 0)
    else:
        empty = pc.is_in(pc.utf8_lower(text), value_set=_NULL_TOKEN_SET)
    # Arrow already made None and NaN null.
    return pc.is_null(text).to_numpy(zero_copy_only=False) | _mask(empty)


def _scientific(values: pd.Series) -> np.ndarray:
    """Ids a spreadsheet saved as numbers too long for its cell (1.23457E+11): their last digits
    are lost, so they match no account, or the account of another id mangled alike."""
    text = pa.array(values, type=pa.string(), from_pandas=True)
    if not pc.any(pc.match_substring(text, "E+", ignore_case=True)).as_py():
        return np.zeros(len(values), dtype=bool)
    return _mask(pc.match_substring_regex(text, _SPREADSHEET_ID))


def _as_str(s: pd.Series, text: pa.Array | None, plain: bool, blank: np.ndarray) -> pd.Series:
    """Text and ids as Python str (object dtype); whole floats (ints read with NaNs) lose their '.0'."""
    if plain and not blank.any():
        return s  # already clean strings: skip the round trip
    if text is None:
        if pd.api.types.is_float_dtype(s.dtype):
            finite = s[~blank]
            if len(finite) and bool((finite == np.floor(finite)).all()):
                s = s.astype("Int64")
        text, _ = _arrow_text(s)
    values = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    values[blank] = None
    return pd.Series(values, index=s.index, dtype=object)


def _to_number(s: pd.Series, text: pa.Array | None, blank: np.ndarray) -> np.ndarray:
    """float64 values; NaN where blank or not a number (the caller tells those apart)."""
    if text is None:
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            return np.full(len(s), np.nan)
        if isinstance(s.dtype, np.dtype):
            values = np.array(s.to_numpy(), dtype="float64")
        else:
            values = s.astype("float64").to_numpy(copy=True)
        values[blank] = np.nan
        return values
    cleaned = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), text)
    try:
        return np.array(cleaned.cast(pa.float64()).to_numpy(zero_copy_only=False), "float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return (
            pd.to_numeric(pd.Series(cleaned.to_pandas()), errors="coerce")
            .astype("float64")
            .to_numpy(copy=True)
        )


def _thousands(text: pa.Array | None, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which values are written as groups of thousands with dots (120.000, 1.250.000), which of
    them have two or more groups, and which values hold a dot at all (all false for a column not
    written as text: a Parquet or database number has no notation)."""
    if text is None:
        return (np.zeros(n, dtype=bool),) * 3
    dotted = _mask(pc.match_substring(text, "."))
    if not dotted.any():  # most columns: no regex pass over them
        return dotted, dotted, dotted
    grouped = _mask(pc.match_substring_regex(text, _THOUSANDS))
    many = _mask(pc.match_substring_regex(text, _MANY_GROUPS))
    return grouped, many, dotted


@dataclass(frozen=True)
class DottedThousands:
    """A number column whose every dotted value looks like a group of thousands (120.000)."""

    table: str
    column: str
    count: int
    examples: tuple[tuple[int, str], ...]  # (row, the value as written)


def dotted_thousands(
    raw: Mapping[str, pd.DataFrame | None], examples: int = 3
) -> list[DottedThousands]:
    """Number columns written as text whose dotted values all look like German thousands groups.

    Which notation a file uses decides what such a value means, so the two cases differ:
    - an error (rule `type`, in `check`): a value that is no number in English notation
      (1.250.000), and a single group (120.000) in a column that shows German notation elsewhere
      (1.250.000 or a decimal comma, 1.234,56): there it surely means 120000, not 120.0;
    - a warning (this function, printed by `escrisk validate`): a column whose only dotted values
      are single groups (120.000) and that shows no notation either way: 120.000 is a valid
      English number (120.0) and is read so, but it is how German spreadsheets write 120000, so
      the user must look. A column with any other dotted value (99.5) writes decimal points and
      gets no warning.
    """
    found = []
    for name, column, s in _given_columns(raw, ("float", "int")):
        if not _is_text(s):
            continue
        text, _ = _arrow_text(s)
        grouped, many, dotted = _thousands(text, len(s))
        if not grouped.any() or many.any() or (dotted & ~grouped).any():
            continue
        if pc.any(pc.match_substring_regex(text, f"^(?:{_DECIMAL_COMMA})$")).as_py():
            continue  # said as errors by `check`
        rows = np.flatnonzero(grouped)
        shown = tuple(
            (row_in_file(raw.get(name), int(r) + 1), str(text[int(r)].as_py()))
            for r in rows[:examples]
        )
        found.append(DottedThousands(name, column, len(rows), shown))
    return found


def _given_columns(
    raw: Mapping[str, pd.DataFrame | None], kinds: Sequence[str]
) -> Iterator[tuple[str, str, pd.Series]]:
    """(table, column, values) of each contract column of these kinds that the tables hold (the
    first of a name given twice): what the warnings of `escrisk validate` look through."""
    for name, table in TABLES.items():
        df = raw.get(name)
        if df is None:
            continue
        df = df.loc[:, ~df.columns.duplicated()]
        for col in table.columns:
            if col.kind in kinds and col.name in df.columns:
                yield name, col.name, df[col.name]


@dataclass(frozen=True)
class LocalMidnights:
    """A date column with values at a local midnight east of UTC, read as the UTC day before."""

    table: str
    column: str
    count: int
    examples: tuple[tuple[int, str, dt.date], ...]  # (row, the value as given, its day read)


def local_midnights(
    raw: Mapping[str, pd.DataFrame | None], examples: int = 3
) -> list[LocalMidnights]:
    """Date columns holding what look like local midnights east of UTC: "2026-03-29T00:00+02:00",
    a Parquet column of Berlin midnights, or a PostgreSQL timestamptz column filled in a Berlin
    session (2026-03-28 22:00 UTC). A date with a time is its UTC day, so each reads as the day
    before: renewals, notices and usage days a day early, usage known before its day has ended.
    Valid data, but the user must look (`escrisk validate` warns): a time of day in UTC from noon
    on, in whole quarter hours, as zone offsets are."""
    found = []
    for name, column, s in _given_columns(raw, ("date",)):
        text = _arrow_text(s)[0] if _is_text(s) else None
        ts, _ = _parse_time(s, text, _blank(s, text, "date"), date_only=False)
        ns = np.asarray(ts, dtype="datetime64[ns]").view(np.int64)
        into = np.where(ts.isna(), 0, ns % DAY_NS)
        east = (into >= DAY_NS // 2) & (into % (15 * 60 * SECOND_NS) == 0)
        rows = np.flatnonzero(east)
        if not len(rows):
            continue
        shown = tuple(
            (
                row_in_file(raw.get(name), int(r) + 1),
                str(s.iat[r]).strip() if text is not None else f"{ts[r]:%Y-%m-%d %H:%M} UTC",
                ts[r].date(),
            )
            for r in rows[:examples].tolist()
        )
        found.append(LocalMidnights(name, column, len(rows), shown))
    return found


def _parse_time(
    s: pd.Series, text: pa.Array | None, blank: np.ndarray, date_only: bool
) -> tuple[pd.arrays.DatetimeArray, np.ndarray]:
    """Parse to UTC: naive values are UTC, offsets are honoured; unparseable values become NaT.

    Returns the parsed values and a mask of values that parsed but lie outside the years pandas can
    hold (1678-2261), so the caller can report them as out of range rather than as garbage.
    Text is parsed strictly as ISO 8601 by Arrow, with zoned and naive values apart: pandas' own
    ISO 8601 parser applies the first value's offset to later naive values.
    """
    oob = np.zeros(len(s), dtype=bool)
    zoned = isinstance(s.dtype, pd.DatetimeTZDtype)
    if text is None and s.dtype == pd.DatetimeTZDtype("ns", "UTC"):
        out = s.array.tz_convert("UTC")
    elif text is None and (zoned or pd.api.types.is_datetime64_dtype(s.dtype)):
        # UTC wall times in the column's own unit (Parquet's and Spark's are microseconds)
        values = (s.dt.tz_convert("UTC").dt.tz_localize(None) if zoned else s).to_numpy()
        if values.dtype != np.dtype("datetime64[ns]"):
            oob = _beyond_ns(values)
            values = np.where(oob, np.datetime64("NaT"), values)
        out = pd.DatetimeIndex(values.astype("datetime64[ns]")).tz_localize("UTC").array
    else:
        if text is None:  # numbers or other objects: not timestamps; let the parser say so
            text, _ = _arrow_text(s)
        text = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), text)
        text = _canonical_times(text)
        zoned = pc.fill_null(pc.match_substring_regex(text, _ZONED), False)
        parsed = np.full(len(s), np.datetime64("NaT", "ns"))
        for mask, typ in (
            (pc.invert(zoned), pa.timestamp("ns")),
            (zoned, pa.timestamp("ns", tz="UTC")),
        ):
            part = text.filter(mask)
            if len(part) == 0:
                continue
            where = _mask(mask)
            parsed[where], oob[where] = _cast_times(part, typ)
        out = pd.DatetimeIndex(parsed).tz_localize("UTC").array
    out = out.astype("datetime64[ns, UTC]")
    # microseconds, as the API's (Python) datetimes hold them: the same instant on both paths
    return floor_utc(out, DAY_NS if date_only else MICROSECOND_NS), oob


def _beyond_ns(values: np.ndarray) -> np.ndarray:
    """Which times of a datetime64 array in a coarser unit than ns nanoseconds cannot hold
    (1678-2261), compared in the array's own unit: numpy compares them with ns bounds by
    converting them to ns, which wraps a warehouse's 9999-12-31 round to 1816."""
    if np.datetime_data(values.dtype)[0] in ("Y", "M"):  # no fixed length in ns
        values = values.astype("datetime64[D]")
    one = np.ones(1, dtype=np.int64).view(values.dtype)  # one step after the epoch
    step = int(one.astype("datetime64[ns]").view(np.int64)[0])
    lo, hi = -(-pd.Timestamp.min.value // step), pd.Timestamp.max.value // step
    n = values.view(np.int64)
    return ~np.isnat(values) & ((n < lo) | (n > hi))


MICROSECOND_NS = 1_000
SECOND_NS = 1_000_000_000
DAY_NS = 86_400 * SECOND_NS


def floor_utc(ts: Any, unit_ns: int) -> Any:
    """`ts.floor(unit)` for a UTC DatetimeIndex or DatetimeArray (NaT stays NaT), in integers:
    pandas' rounding machinery costs 0.2-1 ms per call even for one value."""
    ns = np.asarray(ts.asi8)
    rest = np.where(ts.isna(), 0, ns % unit_ns)  # floor semantics, also before 1970
    if not rest.any():
        return ts
    out = pd.DatetimeIndex((ns - rest).view("datetime64[ns]"), tz="UTC")
    return out if isinstance(ts, pd.DatetimeIndex) else out.array


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


def _whole(num: np.ndarray) -> pd.arrays.IntegerArray:
    """Whole float64 values (NaN = missing) as Int64, built directly: pandas' own cast costs more
    than the work for a few rows. Values beyond int64 go through pandas, which refuses them."""
    missing = np.isnan(num)
    values = np.where(missing, 0.0, np.round(num))
    if ((values >= 2.0**63) | (values < -(2.0**63))).any():
        return pd.array(np.round(num), dtype="Int64")
    return pd.arrays.IntegerArray(values.astype("int64"), missing)


def _outside(values: pd.Series | Sequence[Any], allowed: set[str]) -> np.ndarray:
    """Present values that are not among the allowed levels (values are str or None here)."""
    if isinstance(values, pd.Series) and len(values) > SMALL_ROWS:
        return values.notna().to_numpy() & ~values.isin(allowed).to_numpy()
    if allowed.issuperset(set(values) - {None}):  # the usual case, a set operation in C
        return np.zeros(len(values), dtype=bool)
    return np.fromiter(
        (not _is_missing(v) and v not in allowed for v in values), dtype=bool, count=len(values)
    )


def _repeated(columns: list[pd.Series]) -> np.ndarray:
    """Rows whose values (all present) appear in another row too."""
    present = np.logical_and.reduce([c.notna().to_numpy() for c in columns])
    if len(present) > SMALL_ROWS:
        frame = pd.DataFrame({i: c for i, c in enumerate(columns)}, copy=False)
        return present & frame.duplicated(keep=False).to_numpy()
    # times compare as integers (all UTC here): cheaper to hash than Timestamps
    lists = [
        c.to_numpy(dtype="datetime64[ns]").view("i8").tolist()
        if isinstance(c.dtype, pd.DatetimeTZDtype)
        else c.tolist()
        for c in columns
    ]
    keys = list(zip(*lists, strict=True))
    seen: dict[Any, int] = {}
    for k, ok in zip(keys, present, strict=True):
        if ok:
            seen[k] = seen.get(k, 0) + 1
    return np.fromiter(
        (ok and seen[k] > 1 for k, ok in zip(keys, present, strict=True)),
        dtype=bool,
        count=len(keys),
    )


def _default_index(df: pd.DataFrame) -> bool:
    idx = df.index
    return isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1


def _check_table(
    df: pd.DataFrame, table: Table, params: ContractParams, now: pd.Timestamp
) -> tuple[pd.DataFrame, list[Violation]]:
    """Type and check one table column by column on arrays; the frame is assembled once at the end
    (per-column pandas operations cost more than the work itself for a request's few rows)."""
    violations: list[Violation] = []
    duplicated = df.columns.duplicated()
    for name in sorted({str(c) for c in df.columns[duplicated]}):
        violations.append(_violation(table.name, name, "duplicate_column", "duplicate_column"))
    # Columns are replaced in `cells`, never written into, so the input stays untouched.
    raw = df.loc[:, ~duplicated] if duplicated.any() else df
    if not _default_index(raw):
        raw = raw.reset_index(drop=True)
    index = raw.index
    cells: dict[Any, pd.Series] = dict(raw.items())
    blanks: dict[str, np.ndarray] = {}  # each time column's empty cells (not its unreadable ones)
    missing = [c for c in table.columns if c.name not in cells]
    for col in missing:
        if not col.optional:
            found = _misnamed(col.name, list(cells))
            if found is None:
                violations.append(
                    _violation(table.name, col.name, "missing_column", "missing_column")
                )
            else:
                violations.append(
                    _violation(
                        table.name, col.name, "missing_column", "misnamed_column", found=found
                    )
                )
        cells[col.name] = pd.Series(index=index, dtype=_DTYPES[col.kind])
    horizon = now + pd.Timedelta(days=params.max_future_days)
    floor = pd.Timestamp(params.min_date, tz="UTC")
    ceiling = pd.Timestamp(params.max_date, tz="UTC")
    for col in table.columns:
        if col in missing:
            continue
        s = cells[col.name]
        known = _plain_text(s) if col.kind == "str" else None
        if known is not None:
            text, plain, blank = None, True, known
        else:
            text, plain = _arrow_text(s) if _is_text(s) else (None, False)
            blank = _blank(s, text, col.kind)
        if not col.nullable:
            violations += _flag(cells, table, col.name, blank, "not_null", "not_null")
        if col.kind == "str":
            cells[col.name] = s if known is not None else _as_str(s, text, plain, blank)
            if col.name.endswith("_id"):
                mangled = _scientific(cells[col.name])
                if mangled.any():  # said as the spreadsheet's doing, not as an unknown account
                    violations += _flag(cells, table, col.name, mangled, "type", "spreadsheet_id")
                    cells[col.name] = cells[col.name].where(~mangled, None)
            if col.one_line:
                bad = _not_one_line(cells[col.name].to_numpy())
                violations += _flag(cells, table, col.name, bad, "one_line", "one_line")
            if col.max_length is not None:
                long = cells[col.name].str.len().to_numpy(dtype=float, na_value=0) > col.max_length
                violations += _flag(
                    cells, table, col.name, long, "too_long", "too_long", limit=col.max_length
                )
        elif col.kind in ("float", "int"):
            num = _to_number(s, text, blank)
            bad = np.isnan(num) & ~blank
            grouped, many, _ = _thousands(text, len(num))
            comma = np.zeros(len(num), dtype=bool)
            if bad.any():  # German exports write 32.700,5: say so, not only "not a number"
                as_text = s.astype(str)
                either = bad & as_text.str.fullmatch(_COMMA_EITHER).to_numpy(dtype=bool)
                violations += _flag_each(
                    cells, table, col.name, either, "type", "comma_either", _comma_readings
                )
                bad &= ~either
                commas = bad & as_text.str.fullmatch(_THOUSANDS_COMMAS).to_numpy(dtype=bool)
                violations += _flag(cells, table, col.name, commas, "type", "thousands_commas")
                bad &= ~commas
                comma = bad & as_text.str.fullmatch(_DECIMAL_COMMA).to_numpy(dtype=bool)
                violations += _flag(cells, table, col.name, comma, "type", "decimal_comma")
                bad &= ~comma
                violations += _flag(cells, table, col.name, bad & many, "type", "thousands_dots")
                bad &= ~many
                text_of = s.astype(str).str.strip()
                amount = bad & text_of.str.fullmatch(_AMOUNT).to_numpy(dtype=bool)
                violations += _flag(cells, table, col.name, amount, "type", "currency")
                bad &= ~amount
            violations += _flag(cells, table, col.name, bad, "type", "not_number")
            if grouped.any() and (many.any() or comma.any()):
                # the column writes German numbers elsewhere: its 120.000 is 120000, not 120.0
                single = grouped & ~many
                violations += _flag(cells, table, col.name, single, "type", "thousands_dot")
                num[single] = np.nan
            inf = np.isinf(num)
            violations += _flag(cells, table, col.name, inf, "type", "not_finite")
            num[inf] = np.nan
            if col.kind == "int":
                with np.errstate(invalid="ignore"):
                    frac = ~np.isnan(num) & (num != np.floor(num))
                violations += _flag(cells, table, col.name, frac, "type", "not_whole")
                num[frac] = np.nan
                huge = (num >= 2.0**63) | (num < -(2.0**63))  # NaN compares false
                violations += _flag(
                    cells,
                    table,
                    col.name,
                    huge,
                    "range",
                    "beyond_int64",
                )
                num[huge] = np.nan
            low = _below(num, col)
            if low is not None:
                violations += _flag(cells, table, col.name, low, "range", **_min_detail(col))
            if col.max is not None:
                violations += _flag(
                    cells,
                    table,
                    col.name,
                    num > col.max,
                    "range",
                    "above_max",
                    max=f"{col.max:g}",
                )
            typed = _whole(num) if col.kind == "int" else num
            cells[col.name] = pd.Series(typed, index=index, copy=False)
        else:
            ts, oob = _parse_time(s, text, blank, date_only=col.kind == "date")
            blanks[col.name] = blank
            when = ts.to_numpy(dtype="datetime64[ns]")  # UTC; NaT compares false
            bad = np.isnat(when) & ~blank & ~oob
            what = "not_date" if col.kind == "date" else "not_timestamp"
            violations += _flag(cells, table, col.name, bad, "type", what)
            violations += _flag(
                cells,
                table,
                col.name,
                oob,
                "date_range",
                "outside_years",
            )
            violations += _flag(
                cells,
                table,
                col.name,
                when < floor.to_datetime64(),
                "date_range",
                "before_min_date",
                day=str(floor.date()),
            )
            late = when > (horizon if col.event else ceiling).to_datetime64()
            key, values = _late(col, horizon, ceiling)
            violations += _flag(cells, table, col.name, late, "date_range", key, **values)
            cells[col.name] = pd.Series(ts, index=index, copy=False)
        if col.allowed is not None:
            allowed = set(getattr(params, col.allowed))
            bad = _outside(cells[col.name], allowed)
            violations += _flag(
                cells,
                table,
                col.name,
                bad,
                "allowed_values",
                "not_allowed",
                levels=col.allowed,
                allowed=str(sorted(allowed)),
            )
    if table.key is not None and len(index) > 1:
        dup = _repeated([cells[table.key]])
        violations += _flag(cells, table, table.key, dup, "unique", "id_repeated")
    if table.unique_together and len(index) > 1:
        cols = list(table.unique_together)
        dup = _repeated([cells[c] for c in cols])
        violations += _flag(
            cells, table, cols[-1], dup, "unique", "key_repeated", columns=", ".join(cols)
        )
    for later, earlier in table.order:
        a, b = (cells[c].to_numpy(dtype="datetime64[ns]") for c in (later, earlier))
        bad = np.asarray(a < b)  # false where either is NaT
        violations += _flag(cells, table, later, bad, "order", "before", earlier=earlier)
    if table.closed_needs is not None:
        status, levels, needed = table.closed_needs
        st = cells[status]
        closed = st.notna().to_numpy() & ~st.isin(list(getattr(params, levels))).to_numpy()
        # empty, not given but unreadable (its type or date_range violation says enough)
        empty = blanks.get(needed)
        bad = closed & (cells[needed].isna().to_numpy() if empty is None else empty)
        violations += _flag(cells, table, needed, bad, "closed_unresolved", **_closed_detail(table))
    return pd.DataFrame(cells, index=index, copy=False), violations


def _present(values: pd.Series | Sequence[Any]) -> set[Any]:
    """The values that are there, as a set (a column of a frame or of a request's cells)."""
    if isinstance(values, pd.Series):
        return set(values.dropna())
    return {v for v in values if not _is_missing(v)}


def _foreign_keys(
    typed: Mapping[str, Any], present: set[str], keyed: set[str] | None = None
) -> list[Violation]:
    """Ids that point at no row of the table they name; `typed` holds frames or request cells.
    Only tables in `keyed` (default: all present) are referred to: one without its id column
    would make every reference a violation."""
    keyed = present if keyed is None else keyed
    accounts = typed["accounts"]
    known = _present(accounts["account_id"]) if accounts is not None else set()
    found: list[Violation] = []
    empty = "accounts" in present and accounts is not None and not len(accounts["account_id"])
    if empty:  # one line, not one foreign_key violation per row of every other table
        found.append(
            _violation("accounts", "-", "empty_table", "empty_table")
        )  # fmt: skip
    for name in ("tickets", "usage", "escalations", "churn"):
        df = typed[name]
        if df is None or name not in present or "accounts" not in keyed or empty:
            continue
        bad = _outside(df["account_id"], known)
        found += _flag(
            df,
            TABLES[name],
            "account_id",
            bad,
            "foreign_key",
            "unknown_account",
        )
    esc, tickets = typed["escalations"], typed["tickets"]
    if esc is not None and tickets is not None and "escalations" in present and "tickets" in keyed:
        bad = _outside(esc["ticket_id"], _present(tickets["ticket_id"]))
        found += _flag(
            esc,
            ESCALATIONS,
            "ticket_id",
            bad,
            "foreign_key",
            "unknown_ticket",
        )
        theirs = ~bad & _owned_elsewhere(esc, tickets)
        found += _flag(
            esc,
            ESCALATIONS,
            "ticket_id",
            theirs,
            "foreign_key",
            "others_ticket",
        )
    return found


def _names(df: pd.DataFrame) -> set[str]:
    return {str(c) for c in df.columns}


def _owned_elsewhere(esc: Any, tickets: Any) -> np.ndarray:
    """Escalations whose ticket is another account's: per-account partitions of the tables would
    each miss that ticket, so the whole table must not pass with it either."""
    small = len(esc["ticket_id"]) <= SMALL_ROWS and len(tickets["ticket_id"]) <= 16 * SMALL_ROWS
    if small:  # a request's few rows: no frames to build
        owned = {
            (a, t)
            for t, a in zip(tickets["ticket_id"], tickets["account_id"], strict=True)
            if not _is_missing(a) and not _is_missing(t)
        }
        known = {t for _, t in owned}
        pairs = zip(esc["account_id"], esc["ticket_id"], strict=True)
        return np.fromiter(
            (not _is_missing(a) and t in known and (a, t) not in owned for a, t in pairs),
            dtype=bool,
            count=len(esc["ticket_id"]),
        )

    def frame(cells: Any) -> pd.DataFrame:
        cols = {c: np.asarray(cells[c], dtype=object) for c in ("account_id", "ticket_id")}
        return pd.DataFrame(cols)

    e, t = frame(esc), frame(tickets).dropna()
    own = pd.MultiIndex.from_frame(e).isin(pd.MultiIndex.from_frame(t))
    exists = e["ticket_id"].isin(t["ticket_id"]).to_numpy()
    return exists & e["account_id"].notna().to_numpy() & ~own


def _codes(values: np.ndarray, levels: list[str]) -> np.ndarray:
    """Position of each value among the levels (distinct strings), -1 when not among them."""
    if len(values) > SMALL_ROWS:
        return pd.Index(levels).get_indexer(pd.Index(values))
    at = {level: i for i, level in enumerate(levels)}
    return np.fromiter((at.get(v, -1) for v in values), dtype=np.intp, count=len(values))


def _fill_sla(
    tickets: pd.DataFrame, accounts: pd.DataFrame, params: ContractParams
) -> pd.DataFrame:
    """Tickets without their own SLA targets take the policy's, by the account's tier and
    priority; `SLA_FROM_POLICY`'s columns say which did (a source's columns of those names are
    replaced: only the contract knows)."""
    ids = pd.Index(accounts["account_id"])
    first = ~ids.duplicated()
    where = ids[first].get_indexer(tickets["account_id"])  # each ticket's account, its first row
    # -1 (no such account) picks the None appended at the end
    tiers_known = accounts["tier"].to_numpy(dtype=object)[first]
    tier = np.concatenate([tiers_known, np.array([None], dtype=object)])[where]
    tiers, priorities = list(params.sla_policy), list(params.priorities)
    t = _codes(tier, tiers)
    p = _codes(tickets["priority"].to_numpy(dtype=object), priorities)
    known = (t >= 0) & (p >= 0)
    out = tickets.copy(deep=False)
    for (column, flag), attr in zip(
        SLA_FROM_POLICY.items(), ("first_response", "resolution"), strict=True
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
        own = out[column].to_numpy(dtype="float64")
        policy = np.isnan(own) & ~np.isnan(fallback)
        out[column] = np.where(policy, fallback, own)
        out[flag] = policy
    return out
