"""What every importer shares: its context, value maps, account defaults, escalations from priority raises.

Each kind module reads its export into rows tagged with their origin (file and record), then uses
these helpers so that defaults, unknown values and unparseable dates are handled, counted and
reported the same way, each error naming the file and line it is about.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.contract import TABLES
from features.contract_text import Phrase, detail
from features.errors import DataValidationError, Place, UserError, Violation
from features.importers.dates import ZONE_NAME, parse_times, slash_orders
from features.importers.numbers import read_numbers
from features.importers.readers import OnBytes, place
from features.importers.report import EXAMPLES, Example, ImportReport, message
from features.params import ContractParams, ImporterParams

# where a row came from in the user's file, so that an importer's own error and a contract
# violation of an imported table name it ("Case.csv line 5"): the built table is never written
# when it breaks the contract. A number per row, not a text: record n of the k-th file read is
# k * _FILE + n (`ImportContext.origin_base`).
ORIGIN = "_origin"
_FILE = 1 << 40


@dataclass
class Origins:
    """Each built row's origin code per table, and the files the codes number (name, the word
    for a place in it, what to add to a record number: `place`)."""

    codes: dict[str, np.ndarray] = field(default_factory=dict)
    files: list[tuple[str, str, int]] = field(default_factory=list)

    def of(self, table: str, row: int | None) -> Place | None:
        """Where 1-based `row` of a built table came from; None when built from several records."""
        codes = self.codes.get(table)
        if codes is None or row is None or not 1 <= row <= len(codes):
            return None
        found = origin_of(codes[row - 1], self.files)
        return found[0] if found else None


def origin_of(code: object, files: Sequence[tuple[str, str, int]]) -> tuple[Place, int] | None:
    """Where an `ORIGIN` code points ("Case.csv line 5") and the record number in its file; None
    for no code (a row built from several records)."""
    try:
        value = float(code)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not value > 0:
        return None
    k, n = divmod(int(value), _FILE)
    name, word, offset = files[k - 1]
    return Place(name, word, n + offset), n


class NothingToImport(UserError):
    """An export that leaves no row of a table it must fill: refused, with the report of what
    was read and skipped and why (the reasons, not only "all 6 records read were skipped")."""

    def __init__(self, key: str, paths: Sequence[Path], report: ImportReport, table: str):
        read = report.table(table).read
        values = {
            "names": ", ".join(str(p) for p in paths),
            "kept": Phrase("all_skipped", {"n": read}) if read else "",
        }
        super().__init__(detail(key, "en", values), said=(key, values))
        self.report = report


class ImportRefused(DataValidationError):
    """An import refused for its own violations before it built its tables: the report of
    what was read and skipped goes with them (a refused usage mapping told only its lines)."""

    def __init__(self, violations: list[Violation], source: str, report: ImportReport):
        super().__init__(violations, source)
        self.import_report = report  # `report` tells the violations


@dataclass
class ImportResult:
    tables: dict[str, pd.DataFrame | None]
    report: ImportReport
    origins: Origins = field(default_factory=Origins)
    # the importer's own (a value it could not read or map): the import is refused with them
    violations: list[Violation] = field(default_factory=list)


def split_origins(
    tables: dict[str, pd.DataFrame | None], files: list[tuple[str, str, int]]
) -> tuple[dict[str, pd.DataFrame | None], Origins]:
    """The tables without their `ORIGIN` column, and that column per table."""
    out, found = dict(tables), Origins(files=files)
    for name, df in tables.items():
        if df is not None and ORIGIN in df:
            codes = pd.to_numeric(df[ORIGIN], errors="coerce")
            found.codes[name] = codes.to_numpy(dtype="float64", na_value=np.nan)
            out[name] = df.drop(columns=ORIGIN)
    return out, found


def at_origin(violations: list[Violation], origins: Origins) -> list[Violation]:
    """Contract violations of built tables, each naming the file and line its row came from."""
    return [
        _mapped(replace(v, origin=where) if (where := origins.of(v.table, v.row)) else v)
        for v in violations
    ]


# a number as a spreadsheet writes one too long for its cell: 1.84374E+10, 1,84374E+10
_SCIENTIFIC = re.compile(r"\s*[+-]?\d+(?:[.,]\d+)?[eE]\+\d+\s*")  # Excel writes E+, never 12E4
# the fields of an export that hold ids (of a ticket, an account, a case, a company), checked
# for a spreadsheet's scientific notation as they are read
ID_FIELDS = frozenset({"ticket_id", "account_id", "case_id", "case", "task", "company", "caller"})

# an export's own names for these contract levels map through a setting ("Gold" -> enterprise)
_MAPS = {
    ("accounts", "tier"): "importers.tier_map",
    ("accounts", "language"): "importers.language_map",
}


def _mapped(v: Violation) -> Violation:
    """An imported tier or language the contract does not list, said with the setting that maps
    it: the contract's words only listed the levels, leaving the user to find `tier_map`."""
    param = _MAPS.get((v.table, v.column))
    if param is None or v.said is None or v.said[0] != "not_allowed":
        return v
    values = {**v.said[1], "param": param}
    return replace(
        v, detail=detail("not_allowed_map", "en", values), said=("not_allowed_map", values)
    )


@dataclass
class ImportContext:
    kind: str
    params: ImporterParams
    contract: ContractParams
    report: ImportReport
    on_bytes: OnBytes = None
    violations: list[Violation] = field(default_factory=list)
    files: list[tuple[str, str, int]] = field(default_factory=list)  # as `Origins.files`
    # `ORIGIN` codes of records whose value a params map did not know, per map ("zendesk.
    # priority_map"): left empty and told as `unknown_value`, so not "missing" in the report too
    unmapped: dict[str, set[object]] = field(default_factory=dict)
    # accounts columns declared numeric custom fields (features.custom_fields): an export's extra
    # `sf_NPS__c` written 12,5 is read as the contract's numbers are, not kept as text
    numeric_fields: frozenset[str] = frozenset()
    # the account ids of the folder an import that writes no accounts (usage) goes into; None
    # when the folder has no accounts yet (the links are checked by a later import then)
    known_accounts: frozenset[str] | None = None

    def origin_base(self, path: Path, json_records: bool = False) -> int:
        """The `ORIGIN` code of record 0 of a file being read: record n's is this plus n."""
        self.files.append((path.name, *place(path, json_records)))
        return len(self.files) * _FILE

    def place(self, code: object) -> Place | None:
        """Where the record of `ORIGIN` code `code` stands in its file (None: no code)."""
        found = origin_of(code, self.files)
        return found[0] if found else None

    def examples(self, rows: pd.DataFrame, *columns: str) -> list[Example]:
        """The first few of skipped `rows` as the report names them: the file and line of their
        `ORIGIN` and their ids ("tickets.json line 8 (ticket_id=2001)"), to look them up."""
        shown = []
        for rec in rows.head(EXAMPLES).to_dict("records"):
            ids = ", ".join(f"{c}={rec[c]}" for c in columns)
            shown.append((self.place(rec.get(ORIGIN)), ids))
        return shown

    def violation(
        self,
        table: str,
        column: str,
        origin: object,
        rule: str,
        detail: str,
        key: str | None = None,
        row: int | None = None,
        said: tuple[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """An importer's own violation at a record, named by the file and line of its `ORIGIN`
        code as contract violations of the built tables are; `row` where it has none. `said`:
        the detail's catalog key and values, to tell it in the report's language."""
        found = origin_of(origin, self.files)
        where, n = found if found else (None, row)
        self.violations.append(
            Violation(table, column, n, rule, detail, key, said=said, origin=where)
        )

    def told(
        self,
        table: str,
        column: str,
        origin: object,
        rule: str,
        said: str,
        values: Mapping[str, Any],
        key: str | None = None,
        row: int | None = None,
    ) -> None:
        """`violation` with a detail of the catalog (`features.contract_text`), in any language."""
        text = detail(said, "en", values)
        self.violation(table, column, origin, rule, text, key, row, said=(said, values))

    def times(
        self,
        values: pd.Series,
        label: str,
        column: str,
        origins: pd.Series | None = None,
        keys: pd.Series | None = None,
        dates: bool = False,
    ) -> pd.Series:
        """Parse to UTC; every present-but-unreadable value is a violation at its record
        (`origins`: the `ORIGIN` codes, else its 1-based place among `values`) and record id
        (`keys`). `dates`: a contract date column, whose date-only values are their calendar day
        (`parse_times`)."""
        groups = None if origins is None else pd.to_numeric(origins, errors="coerce") // _FILE
        orders, refused, read = slash_orders(values, groups, self.params.slash_dates)
        for found in read:
            k = int(found.group) if found.group == found.group else 0
            file = self.files[k - 1][0] if 1 <= k <= len(self.files) else label
            said = {"column": column, "file": file, "n": found.count, "v": found.example}
            self.report.notes.append(message("note_day_first", **said, e=found.evidence))
        for pos, (why, said) in refused.items():
            origin = None if origins is None else origins.iat[pos]
            self.told(
                label,
                column,
                origin,
                "date_format",
                why,
                said,
                _key(keys, values.index[pos]),
                row=pos + 1,
            )
        if refused:  # told above, not again as unreadable
            keep = np.ones(len(values), dtype=bool)
            keep[list(refused)] = False
            values = values.where(keep)
        out, bad = parse_times(
            values,
            self.params.time_zone(self.kind),
            self.params.date_formats,
            dates=dates,
            orders=orders,
        )
        for i in map(int, np.flatnonzero(bad.to_numpy(dtype=bool))):
            idx = values.index[i]
            value = values.loc[idx]
            self.told(
                label,
                column,
                None if origins is None else origins.loc[idx],
                "date_format",
                _unreadable(value),
                {"v": value},
                _key(keys, idx),
                row=i + 1,
            )
        return out

    def spreadsheet_ids(
        self, values: pd.Series, label: str, column: str, origins: pd.Series | None = None
    ) -> pd.Series:
        """The mask of ids a spreadsheet saved in scientific notation (1.84374E+10, in a list
        `5101;1.84374E+10` too), each a violation at its record: the id lost its last digits,
        so it matched no record, or the record of another id mangled alike."""
        bad = values.map(
            lambda v: isinstance(v, str) and any(_SCIENTIFIC.fullmatch(x) for x in v.split(";"))
        ).astype(bool)
        for pos in map(int, np.flatnonzero(bad.to_numpy())):
            origin = None if origins is None else origins.iat[pos]
            value = values.iat[pos]
            self.told(label, column, origin, "type", "spreadsheet_id", {"v": value}, row=pos + 1)
        return bad

    def numbers(
        self,
        values: pd.Series,
        label: str,
        column: str,
        origins: pd.Series | None = None,
        whole: bool = False,
        table: str | None = None,
        money: bool = False,
    ) -> tuple[pd.Series, pd.Series]:
        """Numbers as the export writes them (84.000,50 or 84,000.50, `numbers.read_numbers`,
        each file's column decided apart), and the mask of values refused: each a violation at
        its record, left empty, so that no default stands in for it. Values like 84.000 read
        by what the column's other values show are noted in `table`'s report."""
        groups = None if origins is None else pd.to_numeric(origins, errors="coerce") // _FILE
        out, refused, inferred = read_numbers(
            values, groups, self.params.number_format, whole, money
        )
        for found in inferred:
            k = int(found.group) if found.group == found.group else 0
            thousands = found.notation == "thousands"
            self.report.table(table or label).note(
                "note_thousands" if thousands else "note_notation",
                column=column,
                file=self.files[k - 1][0] if 1 <= k <= len(self.files) else label,
                n=found.count,
                v=found.example,
                read=found.reading,
                **({} if thousands else {"what": message(f"w_notation_{found.notation}")}),
            )
        for pos, why in refused.items():
            origin = None if origins is None else origins.iat[pos]
            self.told(label, column, origin, "type", why.key, why.values, row=pos + 1)
        bad = np.zeros(len(values), dtype=bool)
        bad[list(refused)] = True
        return out, pd.Series(bad, index=values.index)

    def map_values(
        self,
        values: pd.Series,
        mapping: Mapping[str, str],
        label: str,
        column: str,
        param: str,
        origins: pd.Series,
        keys: pd.Series | None = None,
    ) -> pd.Series:
        """Map source values (case-insensitive; "2 - High" matches "2" or "high") through a params map."""
        norm = {str(k).strip().lower(): v for k, v in mapping.items()}
        cache: dict[object, object] = {}

        def one(v: object) -> object:
            if (
                v is None
                or (isinstance(v, float) and math.isnan(v))
                or (isinstance(v, str) and not v.strip())
            ):
                return None
            if v in cache:
                return cache[v]
            text = str(v).strip().lower()
            if text.endswith(".0") and text[:-2].isdigit():
                text = text[:-2]
            head, _, tail = text.partition(" - ")
            hit = norm.get(text, norm.get(head.strip(), norm.get(tail.strip(), _UNKNOWN)))
            cache[v] = hit
            return hit

        mapped = values.astype(object).map(one)
        unknown = mapped.map(lambda v: v is _UNKNOWN)
        for idx in unknown[unknown].index:
            self.unmapped.setdefault(param, set()).add(origins.loc[idx])
            self.told(
                label,
                column,
                origins.loc[idx],
                "unknown_value",
                "not_a_key",
                {"v": values.loc[idx], "param": param},
                _key(keys, idx),
            )
        return mapped.where(~unknown, None)

    def raise_if_violations(self) -> None:
        if self.violations:
            raise ImportRefused(self.violations, f"{self.kind} import", self.report)


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown>"


_UNKNOWN = _Unknown()


def frame(rows: dict[str, list]) -> pd.DataFrame:
    return pd.DataFrame(rows) if rows else pd.DataFrame()


def finish_tickets(
    df: pd.DataFrame, ctx: ImportContext, resolved_field: str = "resolved_at"
) -> pd.DataFrame:
    """Defaults for fields some exports lack, each counted; contract columns first, extras after.
    `resolved_field`: where the export gives resolved_at, to name it in the report."""
    out = df.copy()
    rep = ctx.report.table("tickets")
    p = ctx.params
    if "status" in out and "resolved_at" in out:
        out = _reopened_unresolved(out, ctx, resolved_field)
    if "priority" not in out:
        out["priority"] = None
    missing = out["priority"].isna()
    if missing.any():
        out.loc[missing, "priority"] = p.default_priority
        told = ctx.unmapped.get(f"{ctx.kind}.priority_map", set())
        absent = missing & ~out[ORIGIN].isin(told) if told and ORIGIN in out else missing
        if absent.any():  # an unmapped priority is told as its error, not as "missing"
            rep.note("note_priority", n=int(absent.sum()), value=p.default_priority)
    if "channel" not in out:
        out["channel"] = None
    missing = out["channel"].isna() | (out["channel"].astype(str).str.strip() == "")
    if missing.any():
        out.loc[missing, "channel"] = p.missing_channel
        rep.note("note_channel", n=int(missing.sum()), value=p.missing_channel)
    if "_updated" in out:  # a solved/closed ticket without a resolution time: its last update
        closed = out["status"].notna() & ~out["status"].isin(list(ctx.contract.open_statuses))
        lacking = closed & out["resolved_at"].isna() & out["_updated"].notna()
        if lacking.any():
            out.loc[lacking, "resolved_at"] = out.loc[lacking, "_updated"]
            rep.note(
                "note_resolved_updated", n=int(lacking.sum()), what=message("w_resolution_date")
            )
        out = out.drop(columns="_updated")
    if "reopen_count" not in out:
        out["reopen_count"] = None
    named = out.attrs.get("columns", {})
    refused = pd.Series(False, index=out.index)
    for col in ("reopen_count", "csat", "sla_first_response_hours", "sla_resolution_hours"):
        if col in out:  # told where unreadable, and then not taken as absent (0 reopens)
            whole = col in ("reopen_count", "csat")
            out[col], bad = ctx.numbers(
                out[col], "tickets", named.get(col, col), out.get(ORIGIN), whole, "tickets"
            )
            refused = bad if col == "reopen_count" else refused
    missing = out["reopen_count"].isna() & ~refused
    if missing.any():
        rep.note("note_reopens", n=int(missing.sum()))
        out["reopen_count"] = out["reopen_count"].where(~missing, 0)
    for col in (
        "subject",
        "body",
        "first_response_at",
        "resolved_at",
        "csat",
        "sla_first_response_hours",
        "sla_resolution_hours",
    ):
        if col not in out:
            out[col] = None
    return _ordered(out, "tickets")


def _reopened_unresolved(out: pd.DataFrame, ctx: ImportContext, field: str) -> pd.DataFrame:
    """A ticket open now whose export still gives a resolution time, reopened since it was
    solved: HubSpot keeps the Close date, Zendesk's metrics the solved_at, a Jira workflow whose
    reopen transition clears no resolution its resolutiondate, a ServiceNow incident set back to
    In Progress its resolved_at. Read as resolved then for good, it was left out of every later
    open-ticket count and its escalations closed; it is unresolved, and the report names it."""
    reopened = out["status"].isin(list(ctx.contract.open_statuses)) & out["resolved_at"].notna()
    if not reopened.any():
        return out
    out.loc[reopened, "resolved_at"] = pd.NaT
    ids = out.loc[reopened, "ticket_id"].astype(str)
    shown = ", ".join(ids.head(EXAMPLES)) + (", ..." if len(ids) > EXAMPLES else "")
    ctx.report.table("tickets").note("note_reopened_open", n=len(ids), ids=shown, field=field)
    return out


def _key(keys: pd.Series | None, idx: Any) -> str | None:
    """A violation's record id ("ticket_id=ABC-1"), when the importer gives them."""
    if keys is None:
        return None
    value = keys.loc[idx]
    return None if pd.isna(value) else f"{keys.name}={value}"


def _unreadable(value: object) -> str:
    """The catalog key of why a time cannot be read."""
    if isinstance(value, str) and re.search(ZONE_NAME, value.strip()):
        return "zone_abbreviation"
    if isinstance(value, str) and _WORD.search(value) and re.search(r"\d", value):
        # a date with a word: a month name of another language (déc., 7 de diciembre)
        return "unreadable_month"
    return "unreadable_time"


# a word in a time that is no AM/PM, T or UTC: a month or day name (déc., dic, 7 de diciembre)
_WORD = re.compile(r"(?<![^\W\d_])(?!(?:[AaPp]\.?[Mm]|UTC|GMT)(?![^\W\d_]))[^\W\d_]{2,}")


def first_seen(
    tickets: pd.DataFrame, accounts: pd.DataFrame, ctx: ImportContext, label: str
) -> pd.Series:
    """By account_id, what stands in for a missing contract start: the account's creation date
    (an optional `created` column the importer maps) or its first ticket, whichever is earlier;
    an account without tickets still has its creation date."""
    seen = [tickets.groupby("account_id")["created_at"].min()]
    if "created" in accounts and accounts["created"].notna().any():
        named = accounts.attrs.get("columns", {}).get("created", "created")
        created = ctx.times(accounts["created"], label, named, accounts.get(ORIGIN))
        seen.append(pd.Series(created.to_numpy(), index=accounts["account_id"]).dropna())
    both = pd.concat(seen)
    return both.groupby(level=0).min() if len(both) else both


# languages as CRMs write them ("German", "Deutsch"); importers.language_map adds more
LANGUAGE_NAMES = {
    "english": "en", "englisch": "en", "en-us": "en", "en-gb": "en", "en_us": "en", "en_gb": "en",
    "german": "de", "deutsch": "de", "de-de": "de", "de-at": "de", "de-ch": "de", "de_de": "de",
}  # fmt: skip


def finish_accounts(
    df: pd.DataFrame, ctx: ImportContext, first_seen: pd.Series, as_of: pd.Timestamp | None
) -> pd.DataFrame:
    """Fill what the export lacks from `importers.account_defaults`, matching tier/language case-insensitively.

    `first_seen` (by account_id) stands in for a missing contract start; a missing renewal date
    is the first whole contract term after `as_of` (the latest event in the import).
    """
    out = df.copy()
    rep = ctx.report.table("accounts")
    d = ctx.params.account_defaults
    total = len(out)
    names = {"tier": ctx.params.tier_map, "language": {**LANGUAGE_NAMES, **ctx.params.language_map}}
    for col, allowed in (("tier", ctx.contract.tiers), ("language", ctx.contract.languages)):
        if col in out:
            # the contract's own names, any case, then the export's names the params map
            lookup = {a.lower(): a for a in allowed}
            lookup |= {k.strip().lower(): v for k, v in names[col].items() if v in allowed}
            tags = col == "language"
            out[col] = out[col].map(
                lambda v, lk=lookup, t=tags: _lookup(lk, v, t) if _present(v) else None
            )
    refused: dict[str, pd.Series] = {}  # numbers refused: told, so not filled by a default
    for c in (c for c in TABLES["accounts"].columns if c.kind in ("float", "int")):
        if c.name in out:
            named = out.attrs.get("columns", {}).get(c.name, c.name)
            out[c.name], refused[c.name] = ctx.numbers(
                out[c.name], "accounts", named, out.get(ORIGIN), c.kind == "int", "accounts",
                money=c.name == "arr",
            )  # fmt: skip
    for name in sorted(ctx.numeric_fields & set(out.columns)):
        out[name], _ = ctx.numbers(out[name], "accounts", name, out.get(ORIGIN), table="accounts")
    for col in ("tier", "language", "csm_owner", "region", "arr", "seats"):
        if col not in out:
            out[col] = None
        missing = ~out[col].map(_present)
        if col in refused:
            missing &= ~refused[col]
        if missing.any():
            out[col] = out[col].where(~missing, getattr(d, col))
            rep.note("note_default", column=col, n=int(missing.sum()), total=total)
    if "name" not in out:
        out["name"] = None
    out["name"] = out["name"].where(out["name"].map(_present), out["account_id"])
    given = out["contract_start"].map(_present) if "contract_start" in out else None
    for col in ("contract_start", "renewal_date"):
        if col not in out:
            out[col] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns, UTC]")
        elif not isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = ctx.times(out[col], "accounts", col, out.get(ORIGIN), dates=True)
    # optional CRM dates a field map may bring (accounts.notice_at), read like the others
    for col in (c.name for c in TABLES["accounts"].columns if c.optional and c.kind == "date"):
        if col in out and not isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = ctx.times(out[col], "accounts", col, out.get(ORIGIN), dates=True)
    missing = out["contract_start"].isna()
    if missing.any():
        seen = out["account_id"].map(first_seen).astype("datetime64[ns, UTC]")
        out["contract_start"] = out["contract_start"].fillna(seen.dt.normalize())
        rep.note("note_start", n=int((missing & out["contract_start"].notna()).sum()))
        # nothing to take it from (an account without tickets, exported without its creation
        # date): said here with what to export, not as two bare not_null violations. An account
        # with tickets whose times could not be read has them named already
        lacking = (
            out["contract_start"].isna()
            & (~given if given is not None else True)
            & ~out["account_id"].isin(first_seen.index)
        )
        created = {"created": _CREATED.get(ctx.kind, "created")}
        param = _CREATED_PARAM.get(ctx.kind)
        said = "no_start" if param is None else "no_start_named"
        if param is not None:
            created["param"] = param
        for pos in map(int, np.flatnonzero(lacking.to_numpy(dtype=bool))):
            ctx.told(
                "accounts",
                "contract_start",
                out[ORIGIN].iat[pos] if ORIGIN in out else None,
                "not_null",
                said,
                created,
                f"account_id={out['account_id'].iat[pos]}",
                row=int(pos) + 1,
            )
    missing = out["renewal_date"].isna() & out["contract_start"].notna()
    if missing.any():
        ref = as_of if as_of is not None else out["contract_start"].max()
        out.loc[missing, "renewal_date"] = out.loc[missing, "contract_start"].map(
            lambda s: _next_renewal(s, ref, d.term_months)
        )
        rep.note("note_renewal", n=int(missing.sum()), months=d.term_months)
    return _ordered(out.drop(columns=["created"], errors="ignore"), "accounts")


# where a report in another language names the creation date's column
_CREATED_PARAM = {"salesforce": "salesforce.account_fields", "hubspot": "hubspot.company_fields"}
# the account creation date each kind reads (`first_seen`), as its export names it
_CREATED = {
    "zendesk": "created_at",
    "salesforce": "CreatedDate",
    "hubspot": "Create Date",
    "servicenow": "sys_created_on",
}


def _lookup(lookup: Mapping[str, str], value: object, tags: bool) -> object:
    """The contract's name for an export's value; with `tags`, a locale tag (de-AT, de_CH,
    en-US) by its language: CRMs store locales with either separator. Else the value as is, for
    the contract check to name."""
    text = str(value).strip().lower()
    if text in lookup or not tags or not re.fullmatch(r"[a-z]{2,3}([-_][a-z0-9]{2,8})+", text):
        return lookup.get(text, value)
    return lookup.get(re.split(r"[-_]", text, maxsplit=1)[0], value)


def _next_renewal(start: pd.Timestamp, ref: pd.Timestamp, term: int) -> pd.Timestamp:
    months = (ref.year - start.year) * 12 + (ref.month - start.month)
    k = max(1, math.ceil(months / term))
    renewal = start + pd.DateOffset(months=k * term)
    while renewal < ref:
        renewal = renewal + pd.DateOffset(months=term)
    return renewal


def _present(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return False
    if isinstance(v, float) and math.isnan(v):
        return False
    return not (isinstance(v, str) and not v.strip())


def _ordered(df: pd.DataFrame, table: str) -> pd.DataFrame:
    cols = TABLES[table].column_names
    extras = [c for c in df.columns if c not in cols]
    return df[cols + extras].reset_index(drop=True)


def priority_escalations(changes: pd.DataFrame, ctx: ImportContext, source: str) -> pd.DataFrame:
    """Priority raises (ticket_id, account_id, at, old, new: contract priorities) as hierarchical escalations."""
    rank = {p: i for i, p in enumerate(ctx.contract.priorities)}
    if changes.empty:
        return escalation_frame([])
    old = changes["old"].map(rank)
    new = changes["new"].map(rank)
    raised = changes[(old.notna()) & (new.notna()) & (new < old)]
    rows = [
        {
            "ticket_id": r.ticket_id,
            "account_id": r.account_id,
            "opened_at": r.at,
            "kind": "hierarchical",
            "level": ctx.params.escalation_level,
            "reason": f"priority raised from {r.old} to {r.new} ({source})",
        }
        for r in raised.itertuples(index=False)
    ]
    return escalation_frame(rows)


def first_priorities(changes: pd.DataFrame) -> pd.Series:
    """ticket_id -> the priority a ticket was opened with: the `old` of its earliest change."""
    known = changes.dropna(subset=["at", "old"]).sort_values("at", kind="stable")
    return known.drop_duplicates("ticket_id").set_index("ticket_id")["old"]


def priority_as_opened(
    tickets: pd.DataFrame, opened: pd.Series, ctx: ImportContext
) -> pd.DataFrame:
    """Each ticket with the priority it was opened with (`opened`: ticket_id -> priority), where
    the export's history shows a later change. The exported priority is the latest: a snapshot
    before a raise would see it already raised, and a raise is an escalation (the very event the
    model learns to foresee), so the contract's one priority per ticket is the one known from its
    creation on."""
    at_open = tickets["ticket_id"].map(opened)
    moved = at_open.notna() & at_open.isin(list(ctx.contract.priorities))
    moved &= at_open != tickets["priority"]
    if not moved.any():
        return tickets
    out = tickets.copy()
    out.loc[moved, "priority"] = at_open[moved]
    ctx.report.table("tickets").note("note_priority_opened", n=int(moved.sum()))
    return out


def escalation_frame(rows: list[dict]) -> pd.DataFrame:
    """Escalations with ids `<ticket>-E<n>` in time order per ticket; acknowledged_at is not in any export."""
    cols = TABLES["escalations"].column_names
    if not rows:
        from features.contract import empty_table

        return empty_table("escalations")
    df = pd.DataFrame(rows)
    for c in cols:
        if c not in df:
            df[c] = None
    df = df.sort_values(["ticket_id", "opened_at"], kind="stable").reset_index(drop=True)
    n = df.groupby("ticket_id").cumcount() + 1
    df["escalation_id"] = df["ticket_id"].astype(str) + "-E" + n.astype(str)
    return df[cols + [c for c in df.columns if c not in cols]]


def close_escalations(esc: pd.DataFrame, tickets: pd.DataFrame) -> pd.DataFrame:
    """An escalation closes when its ticket is resolved (the exports record no separate close)."""
    if esc.empty:
        return esc
    resolved = tickets.drop_duplicates("ticket_id").set_index("ticket_id")["resolved_at"]
    out = esc.copy()
    closed = out["ticket_id"].map(resolved)
    closed = closed.where(closed >= out["opened_at"])
    out["closed_at"] = (
        out["closed_at"].where(out["closed_at"].notna(), closed) if "closed_at" in out else closed
    )
    out["closed_at"] = out["closed_at"].astype("datetime64[ns, UTC]")
    return out


def tabular(
    paths: list,
    export: Phrase,
    fields: Mapping[str, tuple[str, ...]],
    required: tuple[str, ...],
    prefix: str,
    ctx: ImportContext,
    rep,
) -> pd.DataFrame:
    """A CSV/Parquet export read in chunks: mapped columns by candidate names, the rest kept with `prefix`."""
    from features.importers.fields import Columns
    from features.importers.readers import iter_frames

    parts = []
    names: dict[str, str] = {}  # the column each field was found in (of the first file)
    for path in paths:
        cols: Columns | None = None
        base = ctx.origin_base(path)
        for chunk in iter_frames(path, export, ctx.on_bytes, encoding=ctx.params.csv_encoding):
            if cols is None:
                cols = Columns(chunk.columns, export, str(path))
                found = {
                    out: (cols.require(*c, field=out) if out in required else cols.find(*c))
                    for out, c in fields.items()
                }
                extras = cols.extras()
                names = names or {out: str(src) for out, src in found.items() if src is not None}
            rep.read += len(chunk)
            part = pd.DataFrame({ORIGIN: base + chunk.index}, index=chunk.index)
            for out, src in found.items():
                part[out] = chunk[src] if src is not None else None
                if src is not None and out in ID_FIELDS:
                    ctx.spreadsheet_ids(part[out], ctx.kind, str(src), part[ORIGIN])
            for src in extras:
                part[prefix + str(src)] = chunk[src]
            parts.append(part)
        if cols is None:  # a header without rows
            cols = Columns([], export, str(path))
    table = (
        pd.DataFrame(columns=[ORIGIN, *fields])
        if not parts
        else pd.concat(parts, ignore_index=True)
    )
    table.attrs["columns"] = names  # so that an error names the column as the file does
    return table


def merge_repeated(
    df: pd.DataFrame, key: str, rep, updated: pd.Series | None = None
) -> pd.DataFrame:
    """An accounts export's records of one id given twice (two overlapping exports or views):
    one, counted as merged; the whole import was refused as a repeated id. Records equal in
    every column are one; else the one modified last by `updated` (the export's last modified
    date). Records that differ with no such date to choose by are left for the contract's
    unique check, which names them all."""
    ids = df[key].astype(object).map(lambda v: str(v).strip() if pd.notna(v) else v)
    if not ids.dropna().duplicated().any():
        return df
    before = len(df)
    same = df.drop(columns=[ORIGIN], errors="ignore").astype(str).assign(_id=ids)
    out = df[~same.duplicated(keep="first").to_numpy()]
    if updated is not None and updated.notna().any():
        at = updated.reindex(out.index)
        order = at.sort_values(kind="stable", na_position="first").index
        last = ids.reindex(order).drop_duplicates(keep="last")
        mine = ids.reindex(out.index)
        undated = mine[at.isna()]  # an id of a record without the date: not chosen by it
        repeated = mine.duplicated(keep=False) & ~mine.isin(undated)
        keep = ~repeated | out.index.isin(last.index)
        out = out[keep.to_numpy()]
    rep.merge("merge_duplicate", before - len(out))
    return out.reset_index(drop=True)


def mapped_fields(
    fields: Mapping[str, tuple[str, ...]], mapped: Mapping[str, str]
) -> dict[str, tuple[str, ...]]:
    """`fields` (name -> candidate columns) with the column a setting maps a name to tried
    first: a report's labels in the exporting user's language (`Fallnummer`, `Erstellt am`)."""
    return {k: (mapped[k], *c) if k in mapped else c for k, c in fields.items()}


def truthy(v: object) -> bool:
    """Booleans as exports write them: true/false, 1/0, yes/no (German reports: wahr, ja)."""
    return str(v).strip().lower() in ("true", "1", "yes", "y", "t", "1.0", "wahr", "ja", "j")


def dedupe_escalations(esc: pd.DataFrame, rep=None, levels: Sequence[str] = ()) -> pd.DataFrame:
    """Signals of one event (a tag added and a priority raised in the same update) become one
    escalation, at the highest of their levels (in the contract's order, `levels`)."""
    if esc.empty:
        return esc
    keys = ["ticket_id", "opened_at"]
    reasons = esc.groupby(keys, sort=False)["reason"].agg(
        lambda r: "; ".join(dict.fromkeys(x for x in r if x))
    )
    if levels and "level" in esc:
        rank = esc["level"].map({lv: i for i, lv in enumerate(levels)}).fillna(-1)
        esc = esc.iloc[np.argsort(-rank.to_numpy(), kind="stable")]
    first_rows = esc.drop_duplicates(keys).drop(
        columns=["reason", "escalation_id"], errors="ignore"
    )
    merged = first_rows.merge(reasons.rename("reason").reset_index(), on=keys)
    if rep is not None:
        rep.merge("merge_same_update", len(esc) - len(merged))
    return escalation_frame(merged.to_dict("records"))
