"""Zendesk: tickets (Incremental Export or Search API JSON), ticket metrics, organizations, audits.

An escalation is the configured tag on a ticket (dated when the audits show it being added) or,
when audits are given, a raise of the ticket's priority.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.contract_text import Phrase
from features.importers.common import (
    ORIGIN,
    ImportContext,
    NothingToImport,
    close_escalations,
    dedupe_escalations,
    escalation_frame,
    finish_accounts,
    finish_tickets,
    first_priorities,
    first_seen,
    priority_as_opened,
    priority_escalations,
)
from features.importers.fields import NESTED, first, flat, get, require_keys, scalar_extras
from features.importers.readers import iter_json_records
from features.importers.report import message

ROLES = {
    "ticket_metrics": ("metric",),
    "ticket_audits": ("audit", "event"),
    "organizations": ("organization", "org"),
    "tickets": ("ticket",),
}
REQUIRED = ("tickets", "organizations")
# what each required part is, for an import that lacks it
DESCRIBE = {part: Phrase(f"p_zendesk_{part}") for part in REQUIRED}
TICKET_USED = {
    "id",
    "organization_id",
    "created_at",
    "updated_at",
    "priority",
    "status",
    "via",
    "subject",
    "raw_subject",
    "description",
    "satisfaction_rating",
    "tags",
    "custom_fields",
    "fields",
}


def run(inputs: dict[str, list[Path]], ctx: ImportContext) -> dict[str, pd.DataFrame | None]:
    tickets = _tickets(inputs["tickets"], ctx)
    metrics = _metrics(inputs.get("ticket_metrics", []), ctx)
    changes, tag_added = _audits(inputs.get("ticket_audits", []), ctx)
    accounts = _organizations(inputs["organizations"], ctx)
    if not accounts.empty:
        tickets = _of_known_organizations(tickets, accounts, ctx)
    for part, frame in (("tickets", tickets), ("organizations", accounts)):
        if frame.empty:  # nothing to import: said, not a KeyError further on
            table = "accounts" if part == "organizations" else part
            raise NothingToImport(f"no_{part}_to_import", inputs[part], ctx.report, table)

    t = tickets
    solved = t["status"].isin(["solved", "closed"])
    if metrics is not None:
        t = t.merge(metrics, on="ticket_id", how="left", indicator="_metrics")
        t["first_response_at"] = t["created_at"] + pd.to_timedelta(
            t.pop("reply_minutes"), unit="min"
        )
        t["resolved_at"] = t.pop("solved_at")
        t["reopen_count"] = t.pop("reopens")
        # a metrics export leaves out some tickets (archived ones): those fall back, as with none
        unmeasured = solved.to_numpy() & (t.pop("_metrics") == "left_only").to_numpy()
    else:
        t["resolved_at"] = pd.Series(pd.NaT, index=t.index, dtype=t["updated_at"].dtype)
        unmeasured = solved.to_numpy()
    if unmeasured.any():
        t.loc[unmeasured, "resolved_at"] = t.loc[unmeasured, "updated_at"]
        ctx.report.table("tickets").note(
            "note_resolved_updated", n=int(unmeasured.sum()), what=message("w_ticket_metrics")
        )
    t = priority_as_opened(t, first_priorities(changes), ctx)
    tickets_out = finish_tickets(
        t.drop(columns=["updated_at", "escalation_tag"]), ctx, "ticket_metrics solved_at"
    )

    esc = _escalations(
        t, changes, tag_added, audits_given=bool(inputs.get("ticket_audits")), ctx=ctx
    )
    esc = close_escalations(esc, tickets_out)
    source = message("src_tags_audits" if inputs.get("ticket_audits") else "src_tags")
    ctx.report.table("escalations", source).written = len(esc)

    seen = first_seen(tickets_out, accounts, ctx, "zendesk organizations")
    as_of = tickets_out["created_at"].max() if len(tickets_out) else None
    accounts_out = finish_accounts(accounts, ctx, seen, as_of)
    return {"accounts": accounts_out, "tickets": tickets_out, "escalations": esc}


def _tickets(paths: list[Path], ctx: ImportContext) -> pd.DataFrame:
    p = ctx.params.zendesk
    rep = ctx.report.table("tickets", ", ".join(x.name for x in paths))
    cols: dict[str, list] = {
        k: []
        for k in (
            ORIGIN,
            "ticket_id",
            "account_id",
            "created_at",
            "updated_at",
            "priority",
            "status",
            "channel",
            "subject",
            "body",
            "csat",
            "escalation_tag",
            "extras",
        )
    }
    required = [("id",), ("created_at",), ("organization_id",), ("status",)]
    skip = {s.lower() for s in p.skip_statuses}
    skip_tags = {s.lower() for s in p.skip_tags}
    gone: dict[str, list] = {ORIGIN: [], "ticket_id": [], "updated_at": []}  # skipped records
    no_org: list[dict] = []  # of them, those of no organization: the report names a few
    for path in paths:
        export = Phrase("x_zendesk_tickets")
        base = ctx.origin_base(path, json_records=True)
        for row, rec in iter_json_records(path, export, ctx.on_bytes):
            rep.read += 1
            require_keys(rec, required, export, str(path), ctx.place(base + row))
            status = get(rec, "status")
            org = get(rec, "organization_id")
            tags = get(rec, "tags") or []
            merged = skip_tags & {str(t).lower() for t in tags} if isinstance(tags, list) else set()
            skipped = True
            if status is not None and str(status).lower() in skip:
                rep.skip("skip_status", status=str(status), kind="zendesk")
            elif merged:
                rep.skip("skip_tag", tag=min(merged))
            elif org is None or org == "":
                no_org.append({ORIGIN: base + row, "ticket_id": _id(get(rec, "id"))})
            else:
                skipped = False
            if skipped:
                gone[ORIGIN].append(base + row)
                gone["ticket_id"].append(_id(get(rec, "id")))
                gone["updated_at"].append(first(rec, "updated_at", "created_at"))
                continue
            extras = scalar_extras(rec, TICKET_USED, "zendesk_")
            kept = flat(tags)
            if kept is not NESTED:  # read for the escalation tag, and kept as they are
                extras["zendesk_tags"] = kept
            for cf in get(rec, "custom_fields") or []:
                value = flat(cf.get("value")) if isinstance(cf, dict) and "id" in cf else NESTED
                if value is not NESTED:  # a multi-select's options joined by "; "
                    extras[f"zendesk_custom_{cf['id']}"] = value
            cols[ORIGIN].append(base + row)
            cols["ticket_id"].append(_id(get(rec, "id")))
            cols["account_id"].append(_id(org))
            cols["created_at"].append(get(rec, "created_at"))
            cols["updated_at"].append(first(rec, "updated_at", "created_at"))
            cols["priority"].append(get(rec, "priority"))
            cols["status"].append(status)
            cols["channel"].append(first(rec, "via.channel"))
            cols["subject"].append(first(rec, "subject", "raw_subject"))
            cols["body"].append(get(rec, "description"))
            cols["csat"].append(get(rec, "satisfaction_rating.score"))
            cols["escalation_tag"].append(
                p.escalation_tag.lower() in {str(t).lower() for t in tags}
            )
            cols["extras"].append(extras)
    if no_org:
        shown = ctx.examples(pd.DataFrame(no_org), "ticket_id")
        rep.skip("skip_no_account", len(no_org), shown, field="organization_id")
    kept = pd.DataFrame.from_records(cols.pop("extras"))
    df = pd.DataFrame(cols)
    df = pd.concat([df, kept.set_axis(df.index)], axis=1) if len(kept.columns) else df
    label = "zendesk tickets"
    df["created_at"] = ctx.times(df["created_at"], label, "created_at", df[ORIGIN])
    df["updated_at"] = ctx.times(df["updated_at"], label, "updated_at", df[ORIGIN])
    df["priority"] = ctx.map_values(
        df["priority"], p.priority_map, label, "priority", "zendesk.priority_map", df[ORIGIN]
    )
    df["status"] = ctx.map_values(
        df["status"], p.status_map, label, "status", "zendesk.status_map", df[ORIGIN]
    )
    csat_map = {k.lower(): v for k, v in p.csat_map.items()}
    df["csat"] = (
        df["csat"]
        .map(lambda v: csat_map.get(str(v).lower()) if v is not None else None)
        .astype("Int64")
    )
    before = len(df)
    df = (
        df.sort_values("updated_at", kind="stable")
        .drop_duplicates("ticket_id", keep="last")
        .sort_index()
    )
    # a ticket's later record that was skipped (deleted) outdates its earlier records
    if gone[ORIGIN]:
        at = ctx.times(pd.Series(gone["updated_at"]), label, "updated_at", pd.Series(gone[ORIGIN]))
        latest = pd.Series(at.to_numpy(), index=gone["ticket_id"]).groupby(level=0).max()
        outdated = df["updated_at"] <= df["ticket_id"].map(latest).astype(at.dtype)
        df = df[~outdated.to_numpy(dtype=bool)]
    rep.merge("merge_duplicate", before - len(df))
    rep.written = len(df)
    return df.reset_index(drop=True)


def _of_known_organizations(
    tickets: pd.DataFrame, accounts: pd.DataFrame, ctx: ImportContext
) -> pd.DataFrame:
    """Tickets of organizations the organizations export holds. Another organization's (deleted
    since, or created after the organizations were exported) belong to no account the import
    knows: kept out, counted and the first few named, rather than refusing the whole import."""
    known = tickets["account_id"].isin(accounts["account_id"])
    if known.all():
        return tickets
    stray = tickets[~known].rename(columns={"account_id": "organization_id"})
    shown = ctx.examples(stray, "ticket_id", "organization_id")
    ctx.report.table("tickets").skip("skip_unknown_organization", len(stray), shown)
    return tickets[known].reset_index(drop=True)


def _metrics(paths: list[Path], ctx: ImportContext) -> pd.DataFrame | None:
    if not paths:
        return None
    rows = []
    for path in paths:
        export = Phrase("x_zendesk_ticket_metrics")
        base = ctx.origin_base(path, json_records=True)
        for row, rec in iter_json_records(path, export, ctx.on_bytes):
            require_keys(rec, [("ticket_id",)], export, str(path), ctx.place(base + row))
            rows.append(
                {
                    ORIGIN: base + row,
                    "ticket_id": _id(get(rec, "ticket_id")),
                    "reply_minutes": _minutes(get(rec, "reply_time_in_minutes")),
                    "solved_at": get(rec, "solved_at"),
                    "reopens": get(rec, "reopens"),
                    "full_resolution_minutes": _minutes(
                        get(rec, "full_resolution_time_in_minutes")
                    ),
                }
            )
    df = pd.DataFrame(
        rows,
        columns=[
            ORIGIN,
            "ticket_id",
            "reply_minutes",
            "solved_at",
            "reopens",
            "full_resolution_minutes",
        ],
    )
    df["solved_at"] = ctx.times(df["solved_at"], "zendesk ticket_metrics", "solved_at", df[ORIGIN])
    label = "zendesk ticket_metrics"
    for col, key in (("reply_minutes", "reply_time_in_minutes"), ("reopens", "reopens")):
        df[col], _ = ctx.numbers(df[col], label, key, df[ORIGIN], col == "reopens", "tickets")
    return df.drop(columns=[ORIGIN, "full_resolution_minutes"]).drop_duplicates(
        "ticket_id", keep="last"
    )


def _minutes(v: object) -> object:
    """Zendesk gives {"calendar": m, "business": m}; calendar minutes are what SLAs here measure."""
    if isinstance(v, dict):
        return v.get("calendar")
    return v


def _audits(paths: list[Path], ctx: ImportContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Priority changes and the first time the escalation tag was added, from audits or ticket events."""
    tag = ctx.params.zendesk.escalation_tag.lower()
    changes: dict[str, list] = {ORIGIN: [], "ticket_id": [], "at": [], "old": [], "new": []}
    tags: dict[str, list] = {ORIGIN: [], "ticket_id": [], "at": []}
    for path in paths:
        export = Phrase("x_zendesk_ticket_audits")
        base = ctx.origin_base(path, json_records=True)
        for row, rec in iter_json_records(path, export, ctx.on_bytes):
            require_keys(
                rec,
                [("ticket_id",), ("created_at", "timestamp")],
                export,
                str(path),
                ctx.place(base + row),
            )
            tid, at = _id(get(rec, "ticket_id")), first(rec, "created_at", "timestamp")
            for ev in get(rec, "events") or get(rec, "child_events") or []:
                if not isinstance(ev, dict):
                    continue
                fname = str(ev.get("field_name") or "").lower()
                if fname == "priority" or (
                    "priority" in ev and str(ev.get("event_type", "")).lower() == "change"
                ):
                    changes[ORIGIN].append(base + row)
                    changes["ticket_id"].append(tid)
                    changes["at"].append(at)
                    changes["old"].append(ev.get("previous_value"))
                    changes["new"].append(ev.get("value", ev.get("priority")))
                added = ev.get("added_tags") or []
                if fname == "tags":
                    prev = {str(t).lower() for t in (ev.get("previous_value") or [])}
                    added = [t for t in (ev.get("value") or []) if str(t).lower() not in prev]
                if tag in {str(t).lower() for t in added}:
                    tags[ORIGIN].append(base + row)
                    tags["ticket_id"].append(tid)
                    tags["at"].append(at)
    label = "zendesk ticket_audits"
    ch = pd.DataFrame(changes)
    ch["at"] = ctx.times(ch["at"], label, "created_at", ch[ORIGIN])
    pm, param = ctx.params.zendesk.priority_map, "zendesk.priority_map"
    ch["old"] = ctx.map_values(ch["old"], pm, label, "previous_value", param, ch[ORIGIN])
    ch["new"] = ctx.map_values(ch["new"], pm, label, "value", param, ch[ORIGIN])
    tg = pd.DataFrame(tags)
    tg["at"] = ctx.times(tg["at"], label, "created_at", tg[ORIGIN])
    tg = tg.sort_values("at").drop_duplicates("ticket_id")
    return ch, tg


def _escalations(
    t: pd.DataFrame,
    changes: pd.DataFrame,
    tag_added: pd.DataFrame,
    audits_given: bool,
    ctx: ImportContext,
) -> pd.DataFrame:
    p = ctx.params.zendesk
    rep = ctx.report.table("escalations")
    tagged = t[t["escalation_tag"]]
    added_at = (
        tag_added.set_index("ticket_id")["at"]
        if len(tag_added)
        else pd.Series(dtype="datetime64[ns, UTC]")
    )
    opened = tagged["ticket_id"].map(added_at)
    undated = opened.isna()
    opened = opened.fillna(tagged["created_at"])
    if undated.any():
        rep.note("note_escalation_time", n=int(undated.sum()), what=message("w_ticket_audits"))
    rows = [
        {
            "ticket_id": r.ticket_id,
            "account_id": r.account_id,
            "opened_at": at,
            "kind": "hierarchical",
            "level": ctx.params.escalation_level,
            "reason": f"tag {p.escalation_tag!r}",
        }
        for r, at in zip(tagged.itertuples(index=False), opened, strict=True)
    ]
    tag_esc = escalation_frame(rows)
    frames = [tag_esc]
    if audits_given and p.priority_raise_is_escalation and len(changes):
        acct = t.set_index("ticket_id")["account_id"]
        ch = changes.assign(account_id=changes["ticket_id"].map(acct))
        unknown = ch["account_id"].isna()
        # one line for them all, the first few tickets named: not a line per ticket
        shown = ctx.examples(ch[unknown].drop_duplicates("ticket_id"), "ticket_id")
        rep.skip("skip_no_ticket", int(unknown.sum()), shown)
        frames.append(priority_escalations(ch[~unknown], ctx, "Zendesk audit"))
    rep.read = len(tagged) + sum(len(f) for f in frames[1:]) + sum(rep.skipped.values())
    combined = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else tag_esc
    )
    return dedupe_escalations(combined, rep, ctx.contract.escalation_levels)


def _organizations(paths: list[Path], ctx: ImportContext) -> pd.DataFrame:
    fields = ctx.params.zendesk.organization_fields
    rep = ctx.report.table("accounts", ", ".join(x.name for x in paths))
    rows = []
    for path in paths:
        export = Phrase("x_zendesk_organizations")
        base = ctx.origin_base(path, json_records=True)
        for row, rec in iter_json_records(path, export, ctx.on_bytes):
            rep.read += 1
            require_keys(rec, [("id",), ("name",)], export, str(path), ctx.place(base + row))
            org_fields = get(rec, "organization_fields") or {}
            out = {ORIGIN: base + row, "account_id": _id(get(rec, "id")), "name": get(rec, "name")}
            for column, key in fields.items():
                out[column] = get(org_fields, key)
            out["zendesk_created_at"] = get(rec, "created_at")
            out.update(
                scalar_extras(rec, {"id", "name", "created_at", "organization_fields"}, "zendesk_")
            )
            rows.append(out)
    df = pd.DataFrame(rows)
    if "zendesk_created_at" in df:  # stands in for a missing contract start (`first_seen`)
        df["created"] = df["zendesk_created_at"]
    before = len(df)
    # repeated ids (pages saved twice, an export run over a change): the most recently updated
    # is kept, as the report says, not the last in the file; file order otherwise
    updated = pd.to_datetime(
        df.get("zendesk_updated_at", pd.Series(None, index=df.index)),
        utc=True,
        errors="coerce",
        format="ISO8601",
    )
    latest = (
        df.assign(_updated=updated)
        .sort_values("_updated", kind="stable", na_position="first")
        .drop_duplicates("account_id", keep="last")
        .index
    )
    df = df[df.index.isin(latest)]
    # so that an error names the field as the export does
    df.attrs["columns"] = {c: f"organization_fields.{k}" for c, k in fields.items()}
    rep.merge("merge_duplicate", before - len(df))
    rep.written = len(df)
    return df


def _id(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)
