"""Jira Service Management: issues as the REST search API returns them with expand=changelog.

The customer is the first configured organization field present on the issue; priority raises in
the changelog are escalations; status changes from a done status back to work count as reopens.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from features.contract_text import Phrase
from features.importers.common import (
    ORIGIN,
    ImportContext,
    close_escalations,
    finish_accounts,
    finish_tickets,
    first_priorities,
    first_seen,
    priority_as_opened,
    priority_escalations,
    tabular,
)
from features.importers.fields import NESTED, Columns, flat, get, require_keys, scalar_extras
from features.importers.readers import iter_frames, iter_json_records
from features.importers.report import message

ROLES = {"accounts": ("account", "organization"), "issues": ("issue", "jira", "search")}
REQUIRED = ("issues",)
# what each required part is, for an import that lacks it
DESCRIBE = {part: Phrase(f"p_jira_{part}") for part in REQUIRED}
EXPORT = Phrase("x_jira_issues")
USED = {"created", "resolutiondate", "priority", "status", "summary", "description"}


def run(inputs: dict[str, list[Path]], ctx: ImportContext) -> dict[str, pd.DataFrame | None]:
    p = ctx.params.jira
    rep = ctx.report.table("tickets", ", ".join(x.name for x in inputs["issues"]))
    org_fields = [f.lower() for f in p.organization_fields]
    done = {k.lower() for k, v in p.status_map.items() if v in ("solved", "closed")}
    rows: list[dict] = []
    orgs: dict[str, str] = {}
    changes: list[dict] = []
    no_org: list[dict] = []  # issues of no organization: the report names a few
    cut: list[str] = []  # issues whose changelog the export holds only in part
    with_changelog = False  # a CSV export has none: no escalations, reopens unknown
    for path in inputs["issues"]:
        csv = _is_csv(path)
        base = ctx.origin_base(path, json_records=not csv)
        records = _csv_records(path, ctx) if csv else iter_json_records(path, EXPORT, ctx.on_bytes)
        for row, rec in records:
            rep.read += 1
            with_changelog |= "changelog" in rec
            require_keys(
                rec,
                [("key",), ("fields.created",), ("fields.status",)],
                EXPORT,
                str(path),
                ctx.place(base + row),
            )
            fields = get(rec, "fields") or {}
            org = _organization(fields, org_fields)
            if org is None:
                no_org.append({ORIGIN: base + row, "key": get(rec, "key")})
                continue
            org_id, org_name = org
            orgs.setdefault(org_id, org_name)
            key = str(get(rec, "key"))
            moves = []  # status changes (from, to), counted as reopens once all statuses are known
            histories = get(rec, "changelog.histories") or []
            total = get(rec, "changelog.total")
            if isinstance(total, (int, float)) and total > len(histories):
                cut.append(key)  # the search API returns an issue's first 100 histories only
            for hist in histories:
                for item in hist.get("items") or []:
                    name = str(item.get("field") or item.get("fieldId") or "").lower()
                    if name == "priority":
                        changes.append(
                            {
                                ORIGIN: base + row,
                                "ticket_id": key,
                                "account_id": org_id,
                                "at": hist.get("created"),
                                "old": item.get("fromString"),
                                "new": item.get("toString"),
                            }
                        )
                    elif name == "status":
                        moves.append(
                            (
                                str(item.get("fromString") or "").strip().lower(),
                                str(item.get("toString") or "").strip().lower(),
                            )
                        )
            sla = _sla(fields, p.first_response_sla, p.resolution_sla)
            out = {
                **sla,
                ORIGIN: base + row,
                "ticket_id": key,
                "account_id": org_id,
                "created_at": get(fields, "created"),
                "resolved_at": get(fields, "resolutiondate"),
                "_updated": get(fields, "updated"),  # resolved_at where a workflow sets none
                "priority": get(fields, "priority.name"),
                "status_name": get(fields, "status.name"),
                "status_category": get(fields, "status.statusCategory.key"),
                "subject": get(fields, "summary"),
                "body": _text(get(fields, "description")),
                "reopen_count": moves if "changelog" in rec else None,
                "jira_id": get(rec, "id"),
            }
            for k, v in fields.items():
                if k.lower() in USED or k.lower() in org_fields or _is_sla(v):
                    continue
                if isinstance(v, dict) and ("value" in v or "name" in v):
                    v = v.get("value", v.get("name"))
                if isinstance(v, list):  # labels, a multi-select's options: their names
                    v = [x.get("value", x.get("name")) if isinstance(x, dict) else x for x in v]
                kept = flat(v)
                if kept is not NESTED:
                    out[f"jira_{k}"] = kept
            out.update(
                scalar_extras(rec, {"key", "id", "fields", "changelog", "expand", "self"}, "jira_")
            )
            rows.append(out)
    if cut:
        named = ", ".join(cut[:3]) + (", ..." if len(cut) > 3 else "")
        rep.note("note_changelog_cut", n=len(cut), keys=named)
    if no_org:
        shown = ctx.examples(pd.DataFrame(no_org), "key")
        rep.skip("skip_no_account", len(no_org), shown, field="/".join(p.organization_fields))
    label = "jira issues"
    df = pd.DataFrame(rows)
    if df.empty:
        df = pd.DataFrame(
            columns=[
                ORIGIN,
                "ticket_id",
                "account_id",
                "created_at",
                "resolved_at",
                "_updated",
                "priority",
                "status_name",
                "status_category",
                "subject",
                "body",
                "reopen_count",
            ]
        )
    keys = df["ticket_id"].rename("key")  # pages number their issues from 1 each
    # a value's column as the file names it: the API's path, or the CSV export's column
    column = {
        f: f"fields.{f}" for f in ("created", "resolutiondate", "updated", "priority", "status")
    }
    if inputs["issues"] and all(map(_is_csv, inputs["issues"])):
        csv_names = {v: k.capitalize() for k, v in CSV_FIELDS.items()} | {"key": "Issue key"}
        column = {f: p.csv_columns.get(f, csv_names[f]) for f in column}
    df["created_at"] = ctx.times(df["created_at"], label, column["created"], df[ORIGIN], keys)
    df["resolved_at"] = ctx.times(
        df["resolved_at"], label, column["resolutiondate"], df[ORIGIN], keys
    )
    df["_updated"] = ctx.times(df["_updated"], label, column["updated"], df[ORIGIN], keys)
    df = _sla_times(df, ctx, label, keys)
    # an issue in two pages (paging while issues change) or two exports: its latest record, as
    # for Zendesk; refused as a repeated ticket id, the import could not be done at all
    before = len(df)
    df = (
        df.sort_values("_updated", kind="stable", na_position="first")
        .drop_duplicates("ticket_id", keep="last")
        .sort_index()
    )
    rep.merge("merge_duplicate", before - len(df))
    kept, used = set(df[ORIGIN]), set(df["account_id"])
    changes = [c for c in changes if c[ORIGIN] in kept]
    orgs = {k: v for k, v in orgs.items() if k in used}
    keys = df["ticket_id"].rename("key")
    df["priority"] = ctx.map_values(
        df["priority"],
        p.priority_map,
        label,
        column["priority"],
        "jira.priority_map",
        df[ORIGIN],
        keys,
    )
    status = (
        df["status_name"]
        .astype(object)
        .map(lambda v: {k.lower(): s for k, s in p.status_map.items()}.get(str(v).strip().lower()))
    )
    by_cat = ctx.map_values(
        df["status_category"].where(status.isna()),
        p.status_category_map,
        label,
        column["status"],
        "jira.status_category_map",
        df[ORIGIN],
        keys,
    )
    df["status"] = status.fillna(by_cat)
    # a status neither the params nor a category name (an export without statusCategory): its
    # value and the map to add it to, not "value is missing"
    unnamed = df["status"].isna() & df["status_name"].notna() & df["status_category"].isna()
    for idx in unnamed[unnamed].index:
        ctx.told(
            label,
            column["status"],
            df.loc[idx, ORIGIN],
            "unknown_value",
            "not_a_key",
            {"v": df.loc[idx, "status_name"], "param": "jira.status_map"},
            f"key={keys.loc[idx]}",
        )
    # statuses the params do not name are done by their category (a German "Erledigt"): a move
    # out of one is a reopen too
    done |= set(
        df.loc[df["status"].isin(["solved", "closed"]) & status.isna(), "status_name"]
        .dropna()
        .astype(str)
        .str.strip()
        .str.lower()
    )
    df["reopen_count"] = df["reopen_count"].map(
        lambda ms: None if ms is None else sum(1 for a, b in ms if a in done and b not in done)
    )
    df = df.drop(columns=["status_category"]).rename(columns={"status_name": "jira_status"})
    ch = pd.DataFrame(changes, columns=[ORIGIN, "ticket_id", "account_id", "at", "old", "new"])
    ck = ch["ticket_id"].rename("key")
    ch["at"] = ctx.times(ch["at"], label, "changelog.histories.created", ch[ORIGIN], ck)
    ch["old"] = ctx.map_values(
        ch["old"],
        p.priority_map,
        label,
        "changelog fromString",
        "jira.priority_map",
        ch[ORIGIN],
        ck,
    )
    ch["new"] = ctx.map_values(
        ch["new"], p.priority_map, label, "changelog toString", "jira.priority_map", ch[ORIGIN], ck
    )
    opened = first_priorities(ch)
    df = _targets_as_opened(df, opened, ch, ctx)
    tickets = finish_tickets(priority_as_opened(df, opened, ctx), ctx, column["resolutiondate"])
    if len(tickets) and tickets["first_response_at"].isna().all():
        rep.note("note_jira_no_first_response", names=" / ".join(p.first_response_sla))
    esc = (
        priority_escalations(ch, ctx, "Jira changelog")
        if p.priority_raise_is_escalation and with_changelog
        else None
    )
    if not with_changelog:  # no table rather than one saying no issue was ever escalated
        ctx.report.notes.append(message("note_no_escalations"))
    if esc is not None:
        esc = close_escalations(esc, tickets)
        erep = ctx.report.table("escalations", message("src_changelog"))
        erep.read = len(ch)  # a priority lowered, or kept, is no escalation: counted, not lost
        erep.skip("skip_not_used", len(ch) - len(esc), what=message("w_not_raised"))
    accounts = pd.DataFrame({"account_id": list(orgs), "name": list(orgs.values())})
    if inputs.get("accounts"):
        accounts = _enrich(accounts, inputs["accounts"], ctx)
    ctx.report.table("accounts", message("src_issue_organizations")).read = len(accounts)
    seen = first_seen(tickets, accounts, ctx, "jira organizations")
    as_of = tickets["created_at"].max() if len(tickets) else None
    accounts_out = finish_accounts(accounts, ctx, seen, as_of)
    return {"accounts": accounts_out, "tickets": tickets, "escalations": esc}


# Jira's CSV export (Filters > Export > Export CSV): its columns -> the search API's fields
CSV_FIELDS = {
    "issue key": "key",
    "issue id": "id",
    "created": "created",
    "updated": "updated",
    "resolved": "resolutiondate",
    "priority": "priority",
    "status": "status",
    "summary": "summary",
    "description": "description",
}


CSV_LABELS = {"key": "Issue key", "created": "Created", "status": "Status"}
# a custom field's column, as an English and a German Jira head it
CUSTOM_FIELD = re.compile(r"(?:custom field|benutzerdefiniertes feld) \((.+)\)", re.IGNORECASE)


def _is_csv(path: Path) -> bool:
    """A CSV export rather than the API's JSON: its first character opens no JSON value."""
    with path.open("rb") as f:
        head = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return path.suffix.lower() == ".csv" or (bool(head) and head[:1] not in b"{[")


def _csv_records(path: Path, ctx: ImportContext) -> Iterator[tuple[int, dict]]:
    """Issues of Jira's CSV export as the search API's records: `Custom field (Organizations)`
    is the field `Organizations`, a column Jira repeats (Labels, Comment, an organization per
    column) one list of its values. It holds no changelog and no SLA cycles."""
    for chunk in iter_frames(path, EXPORT, ctx.on_bytes, encoding=ctx.params.csv_encoding):
        header = Columns(chunk.columns, EXPORT, str(path))
        mapped = ctx.params.jira.csv_columns
        for part, label in CSV_LABELS.items():  # told by the CSV's own names
            header.require(*dict.fromkeys((mapped.get(part, label), label)), field=part)
        known = {**CSV_FIELDS, **{v.strip().lower(): k for k, v in mapped.items()}}
        groups: dict[str, list[str]] = {}
        for col in map(str, chunk.columns):
            base = re.sub(r"\.\d+$", "", col)  # pandas' name for a repeated column: Labels.1
            groups.setdefault(base if base in chunk.columns else col, []).append(col)
        for row, values in zip(chunk.index, chunk.to_dict("records"), strict=True):
            rec: dict[str, Any] = {}
            fields: dict[str, Any] = {}
            for name, same in groups.items():
                given = [v.strip() for c in same if isinstance(v := values[c], str) and v.strip()]
                value: Any = given if len(same) > 1 else (given[0] if given else None)
                custom = CUSTOM_FIELD.fullmatch(name.strip())
                field = known.get(name.strip().lower())
                if field in ("key", "id"):
                    rec[field] = value
                elif field in ("priority", "status"):
                    fields[field] = {"name": value} if value else None
                elif field:
                    fields[field] = value
                else:
                    fields[custom.group(1) if custom else name] = value
            rec["fields"] = fields
            yield int(row), rec


SLA_PARTS = ("start", "stop", "breach", "goal")


def _is_sla(v: Any) -> bool:
    """A JSM SLA field's value: {name, completedCycles, ongoingCycle}."""
    return isinstance(v, dict) and ("completedCycles" in v or "ongoingCycle" in v)


def _sla(fields: dict, first_response: tuple[str, ...], resolution: tuple[str, ...]) -> dict:
    """The issue's first response time and SLA targets from its JSM SLA fields: the first
    cycle of each (a reopened issue starts another), completed or still running. Its start,
    stop (the response) and breach time (the deadline JSM computed over its calendar), and its
    goal in milliseconds where no breach time is given (a paused cycle)."""
    names = {"fr": {n.lower() for n in first_response}, "res": {n.lower() for n in resolution}}
    out: dict[str, Any] = {}
    for v in fields.values():
        if not _is_sla(v):
            continue
        name = str(v.get("name") or "").strip().lower()
        which = next((k for k, ns in names.items() if name in ns), None)
        cycles = [c for c in v.get("completedCycles") or [] if isinstance(c, dict)]
        cycle = cycles[0] if cycles else v.get("ongoingCycle")
        if which is None or not isinstance(cycle, dict):
            continue
        goal = cycle.get("goalDuration")
        out[f"_{which}_start"] = _sla_time(cycle.get("startTime"))
        out[f"_{which}_stop"] = _sla_time(cycle.get("stopTime"))
        out[f"_{which}_breach"] = _sla_time(cycle.get("breachTime"))
        out[f"_{which}_goal"] = goal.get("millis") if isinstance(goal, dict) else None
    return out


def _sla_time(v: Any) -> Any:
    """A JSM SLA time: {iso8601, jira, friendly, epochMillis}."""
    if isinstance(v, dict):
        return v.get("iso8601") or v.get("epochMillis")
    return v


def _sla_times(df: pd.DataFrame, ctx: ImportContext, label: str, keys: pd.Series) -> pd.DataFrame:
    """first_response_at and the SLA target hours from the SLA parts `_sla` kept: a target is
    the breach time less the start in clock hours (as Salesforce's TargetDate - StartDate), else
    the goal; without SLA fields the contract's SLA policy holds."""
    out = df.copy()
    p = ctx.params.jira
    for which, name, column in (
        ("fr", p.first_response_sla[0], "sla_first_response_hours"),
        ("res", p.resolution_sla[0], "sla_resolution_hours"),
    ):
        parts = {}
        for part in ("start", "stop", "breach"):
            raw = out.get(f"_{which}_{part}", pd.Series(None, index=out.index, dtype=object))
            parts[part] = ctx.times(raw, label, f"{name} {part}Time", out[ORIGIN], keys)
        goal = pd.to_numeric(out.get(f"_{which}_goal", pd.Series(None, index=out.index)))
        hours = (parts["breach"] - parts["start"]).dt.total_seconds() / 3600
        out[column] = hours.where(hours > 0)
        # a cycle without a breach time (paused) gives only its goal, in the SLA calendar's
        # business time (16h: two working days): read as clock hours it was due overnight, so
        # the target is left to the contract's SLA policy and the report names the issues
        goal_only = out[column].isna() & goal.notna()
        if goal_only.any():
            ids = out.loc[goal_only, "ticket_id"].astype(str)
            ctx.report.table("tickets").note(
                "note_sla_goal_only",
                n=len(ids),
                field=f"{name} goalDuration",
                need="breachTime",
                ids=", ".join(ids.head(3)) + (", ..." if len(ids) > 3 else ""),
            )
        out[f"_{which}_done"] = parts["stop"]  # for `_targets_as_opened`
        if which == "fr":
            out["first_response_at"] = parts["stop"]
    drop = [f"_{w}_{x}" for w in ("fr", "res") for x in SLA_PARTS]
    return out.drop(columns=[c for c in drop if c in out])


def _targets_as_opened(
    df: pd.DataFrame, opened: pd.Series, ch: pd.DataFrame, ctx: ImportContext
) -> pd.DataFrame:
    """An issue whose priority changed is written with the one it was opened with
    (`priority_as_opened`), but JSM sets a running cycle's goal anew at the change: a target of
    a cycle not stopped before the first change is the changed priority's (a snapshot before a
    raise saw a P3 issue past its P1 deadline), so the contract's SLA policy gives it instead."""
    changes = ch.dropna(subset=["at", "old"]).sort_values("at", kind="stable")
    first = changes.drop_duplicates("ticket_id").set_index("ticket_id")["at"]
    at_open = df["ticket_id"].map(opened)
    moved = at_open.notna() & at_open.isin(list(ctx.contract.priorities))
    moved &= at_open != df["priority"]
    changed_at = df["ticket_id"].map(first)
    out = df.copy()
    for which, column in (("fr", "sla_first_response_hours"), ("res", "sla_resolution_hours")):
        done = out.pop(f"_{which}_done")
        out[column] = out[column].where(~(moved & ~(done < changed_at)))
    return out


def _organization(fields: dict, names: list[str]) -> tuple[str, str] | None:
    """(id, name) of the issue's customer: JSM organizations are lists of {id, name}; text fields work too."""
    lowered = {str(k).lower(): v for k, v in fields.items()}
    for name in names:
        v = lowered.get(name)
        if isinstance(v, list):
            v = v[0] if v else None
        if isinstance(v, dict):
            ident = v.get("id") or v.get("accountId") or v.get("name") or v.get("value")
            label = v.get("name") or v.get("displayName") or v.get("value") or ident
            if ident is not None:
                return str(ident), str(label)
        elif v is not None and str(v).strip():
            return str(v).strip(), str(v).strip()
    return None


def _text(v: Any) -> str | None:
    """Plain text of a description: a string (API v2) or an Atlassian Document Format tree (v3)."""
    if v is None or isinstance(v, str):
        return v
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text" and isinstance(node.get("text"), str):
                parts.append(node["text"])
            elif node.get("type") == "hardBreak":  # a line break inside a paragraph
                parts.append("\n")
            for child in node.get("content") or []:
                walk(child)
            if node.get("type") in ("paragraph", "heading", "listItem"):
                parts.append("\n")
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(v)
    return "".join(parts).strip() or None


def _folded(name: object) -> str | None:
    """A name as people tell names apart: case and runs of spaces aside."""
    return " ".join(str(name).split()).casefold() if isinstance(name, str) else None


def _misspelled(rows: pd.DataFrame, unmatched: pd.DataFrame, ctx: ImportContext) -> None:
    """Rows of the accounts CSV named (not by id) like no organization of the issues, but all
    but like one of them that has no row of its own, are refused as a likely misspelling: each
    became an extra account of no tickets, and the organization it meant kept the defaults'
    tier and ARR. A row of another organization gives its id (account_id)."""
    names = {f: n for n in unmatched["name"].dropna() if (f := _folded(n))}
    for rec in rows.to_dict("records"):
        close = difflib.get_close_matches(_folded(rec["name"]) or "", list(names), 1, 0.85)
        if close:
            ctx.told(
                "jira organizations",
                "name",
                rec[ORIGIN],
                "foreign_key",
                "org_name_misspelled",
                {"v": rec["name"], "closest": names[close[0]]},
            )


def _enrich(accounts: pd.DataFrame, paths: list[Path], ctx: ImportContext) -> pd.DataFrame:
    """Contract columns for organizations from an optional accounts CSV, matched by id or by name.
    A row of no organization of the issues is an organization without issues: an account of no
    tickets (a real, low-risk one, to be scored; it was left out), counted and named in the
    report, where a name misspelled in the CSV shows too."""
    rep = ctx.report.table("organizations", ", ".join(x.name for x in paths))
    cols = (
        "account_id",
        "name",
        "tier",
        "arr",
        "seats",
        "contract_start",
        "renewal_date",
        "csm_owner",
        "region",
        "language",
        "created",
    )
    extra = tabular(
        paths,
        Phrase("x_jira_organizations"),
        {c: (c,) for c in cols},
        (),
        "org_",
        ctx,
        rep,
    )
    for col in ("account_id", "name"):
        extra[col] = extra[col].map(lambda v: str(v).strip() or None if pd.notna(v) else None)
    # by id, else by name as written, else by name in any case and spacing where that is one
    exact = dict(zip(accounts["name"], accounts["account_id"], strict=True))
    folded = accounts.assign(name=accounts["name"].map(_folded)).drop_duplicates("name", keep=False)
    loose = dict(zip(folded["name"], folded["account_id"], strict=True))
    by_name = extra["name"].map(exact).fillna(extra["name"].map(lambda v: loose.get(_folded(v))))
    key = extra["account_id"].where(extra["account_id"].notna(), by_name)
    who = extra["account_id"].fillna(extra["name"])  # the CSV's id, else its name
    nameless = who.isna()
    shown = ctx.examples(extra[nameless], "name")
    rep.skip("skip_no_account", int(nameless.sum()), shown, field="account_id/name")
    new = ~key.isin(accounts["account_id"]) & ~nameless
    _misspelled(
        extra[new & extra["account_id"].isna()], accounts[~accounts["account_id"].isin(key)], ctx
    )
    extra = extra.assign(account_id=key.where(~new, who))[~nameless]
    before = len(extra)
    extra = extra.drop_duplicates("account_id")
    rep.merge("merge_duplicate_row", before - len(extra))
    rep.written = len(extra)
    fresh = extra[~extra["account_id"].isin(accounts["account_id"])]
    if len(fresh):
        ids = ", ".join(fresh["account_id"].head(3)) + (", ..." if len(fresh) > 3 else "")
        ctx.report.table("accounts", message("src_issue_and_csv_organizations"))
        ctx.report.table("accounts").note("note_org_no_issues", n=len(fresh), ids=ids)
    known = accounts.merge(extra.drop(columns=["name"]), on="account_id", how="left")
    fresh = fresh.assign(name=fresh["name"].fillna(fresh["account_id"]))
    return pd.concat([known, fresh], ignore_index=True) if len(fresh) else known
