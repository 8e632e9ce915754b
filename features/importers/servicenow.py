"""ServiceNow: an incident table export with its audit trail (one row per update), CSV or Parquet.

Each incident becomes one ticket (its latest row); a priority raised after opening is a
hierarchical escalation and a reassignment to a group of a higher level a functional one (both
configurable).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from features.contract_text import Phrase
from features.importers.common import (
    ORIGIN,
    ImportContext,
    close_escalations,
    dedupe_escalations,
    escalation_frame,
    finish_accounts,
    finish_tickets,
    first_seen,
    mapped_fields,
    priority_as_opened,
    priority_escalations,
    tabular,
)
from features.importers.report import message

ROLES = {
    "slas": ("task_sla", "_sla", "sla_"),
    "companies": ("compan", "account"),
    "incidents": ("incident", "audit", "task"),
}
REQUIRED = ("incidents",)
# what each required part is, for an import that lacks it
DESCRIBE = {part: Phrase(f"p_sn_{part}") for part in REQUIRED}
EXPORT = Phrase("x_sn_incidents")
# field -> columns: the API names a CSV list export writes, then the labels of an Excel export
# (in English; another language's through servicenow.incident_fields)
FIELDS = {
    "ticket_id": ("number",),
    "company": ("company", "company.name", "company_name"),
    "caller": ("caller_id", "caller_id.name", "caller"),
    "created_at": ("opened_at", "opened"),
    "updated_at": ("sys_updated_on", "sys_updated_at", "updated"),
    "resolved_at": ("resolved_at", "resolved"),
    "closed_at": ("closed_at", "closed"),
    "priority": ("priority",),
    "impact": ("impact",),
    "urgency": ("urgency",),
    "state": ("incident_state", "state", "incident state"),
    "reassignment_count": ("reassignment_count", "reassignment count"),
    "reopen_count": ("reopen_count", "reopen count"),
    "made_sla": ("made_sla", "made sla"),
    "group": ("assignment_group", "assignment_group.name", "assignment group"),
    "channel": ("contact_type", "contact type", "channel"),
    "subject": ("short_description", "short description"),
    "body": ("description",),
}


def run(inputs: dict[str, list[Path]], ctx: ImportContext) -> dict[str, pd.DataFrame | None]:
    p = ctx.params.servicenow
    rep = ctx.report.table("tickets", ", ".join(x.name for x in inputs["incidents"]))
    df = tabular(
        inputs["incidents"],
        EXPORT,
        mapped_fields(FIELDS, p.incident_fields),
        ("ticket_id", "created_at", "priority", "state"),
        "sn_",
        ctx,
        rep,
    )
    named = {**{k: v[0] for k, v in FIELDS.items()}, **df.attrs["columns"]}
    df = _references(df, ("created_at", "updated_at", "resolved_at", "closed_at"))
    if len(df) and df["company"].isna().all() and df["caller"].isna().all():
        from features.importers.fields import missing_field

        raise missing_field(
            ("company", "caller_id"),
            EXPORT,
            ", ".join(map(str, inputs["incidents"])),
            field="company",
        )
    label = "servicenow incidents"
    for col in ("created_at", "updated_at", "resolved_at", "closed_at"):
        df[col] = ctx.times(df[col], label, named[col], df[ORIGIN])
    df["priority"] = ctx.map_values(
        df["priority"],
        p.priority_map,
        label,
        named["priority"],
        "servicenow.priority_map",
        df[ORIGIN],
    )
    df["status"] = ctx.map_values(
        df.pop("state"), p.state_map, label, named["state"], "servicenow.state_map", df[ORIGIN]
    )
    has_company = df["company"].notna() & (df["company"].astype(str).str.strip() != "")
    df["account_id"] = df["company"].where(has_company, df["caller"])
    by_caller = df.loc[~has_company & df["caller"].notna(), "ticket_id"].drop_duplicates()
    by_caller = by_caller[~by_caller.isin(df.loc[has_company, "ticket_id"])]
    if has_company.any() and len(by_caller):  # a person as a customer: said, not done unseen
        ids = ", ".join(map(str, by_caller[:3])) + (", ..." if len(by_caller) > 3 else "")
        rep.note("note_caller_account", n=len(by_caller), ids=ids)
    comp = None
    if inputs.get("companies"):
        ctx.report.table("escalations", message("src_audit_rows"))  # the report's table order
        comp = _read_companies(inputs["companies"], ctx)
        df["account_id"] = _by_name(df["account_id"], comp)
    df = df.sort_values(
        ["ticket_id", "updated_at", ORIGIN], kind="stable", na_position="first"
    ).reset_index(drop=True)
    account = df.groupby("ticket_id")["account_id"].transform(
        lambda s: s.ffill().bfill().iloc[-1] if s.notna().any() else None
    )
    df["account_id"] = account
    no_account = df["account_id"].isna()
    # an incident's audit rows are skipped together: name a few incidents, in file order
    gone = df[no_account].sort_values(ORIGIN, kind="stable").drop_duplicates("ticket_id")
    shown = ctx.examples(gone, "ticket_id")
    rep.skip("skip_no_account", int(no_account.sum()), shown, field="company/caller_id")
    df = df[~no_account].reset_index(drop=True)

    esc = _escalations(df, ctx)
    last = df.groupby("ticket_id", sort=False).tail(1)
    rep.merge("merge_updates", len(df) - len(last))
    t = last.drop(
        columns=[
            "company",
            "caller",
            "updated_at",
            "group",
            "impact",
            "urgency",
            "made_sla",
            "reassignment_count",
        ]
    ).copy()
    t["resolved_at"] = t["resolved_at"].fillna(t["closed_at"])
    for col in ("group", "impact", "urgency", "made_sla", "reassignment_count", "closed_at"):
        t[f"sn_{col}"] = last[col].values if col in last else None
    t = t.drop(columns=["closed_at"])
    opened = df.groupby("ticket_id", sort=False)["priority"].first()  # its first update's
    if inputs.get("slas"):
        at_open = t["ticket_id"].map(opened)
        t = _slas(t, inputs["slas"], ctx, at_open.notna() & (at_open != t["priority"]))
    tickets = finish_tickets(priority_as_opened(t, opened, ctx), ctx, named["resolved_at"])
    if len(tickets) and tickets["first_response_at"].isna().all():
        rep.note("note_sn_no_first_response", words=", ".join(p.response_slas))
    esc = close_escalations(esc, tickets)

    accounts = pd.DataFrame({"account_id": tickets["account_id"].drop_duplicates().tolist()})
    accounts["name"] = accounts["account_id"]
    if comp is not None:
        accounts = _companies(accounts, comp, ctx)
    source = (
        ", ".join(x.name for x in inputs["companies"])
        if inputs.get("companies")
        else message("src_incident_companies")
    )
    ctx.report.table("accounts", source).read = len(accounts)
    seen = first_seen(tickets, accounts, ctx, "servicenow core_company")
    as_of = tickets["created_at"].max() if len(tickets) else None
    accounts_out = finish_accounts(accounts, ctx, seen, as_of)
    return {"accounts": accounts_out, "tickets": tickets, "escalations": esc}


def _slas(
    t: pd.DataFrame, paths: list[Path], ctx: ImportContext, raised: pd.Series
) -> pd.DataFrame:
    """First response times and SLA targets from a task_sla export: an incident's first
    response SLA (by its name, `servicenow.response_slas`) that was not cancelled ends at the
    first response; the targets are planned_end_time less start_time in clock hours (the
    deadline ServiceNow computed over its schedule), as Salesforce's milestones are read. An
    incident `raised` since it was opened is written with its opening priority: its targets
    are those of the SLAs in force then (cancelled by the raise), not the raised priority's,
    which a snapshot before the raise would see breached."""
    p = ctx.params.servicenow
    rep = ctx.report.table("slas", ", ".join(x.name for x in paths))
    fields = {
        "task": ("task", "task.number", "inc_number"),
        "sla": ("sla", "sla.name"),
        "stage": ("stage",),
        "start": ("start_time",),
        "end": ("end_time",),
        "planned": ("planned_end_time", "original_breach_time"),
    }
    s = _references(
        tabular(paths, Phrase("x_sn_slas"), fields, ("task", "sla", "start"), "sla_", ctx, rep),
        ("start", "end", "planned"),
    )
    label = "servicenow task_sla"
    for col in ("start", "end", "planned"):
        s[col] = ctx.times(s[col], label, s.attrs["columns"].get(col, fields[col][0]), s[ORIGIN])
    if "sn_sys_id" in t:  # exported with values, not display values: the incident's sys_id
        ids = dict(zip(t["sn_sys_id"].astype(str), t["ticket_id"], strict=True))
        s["task"] = s["task"].map(lambda v: ids.get(str(v), v))
    unknown = ~s["task"].isin(t["ticket_id"])
    shown = ctx.examples(s[unknown].drop_duplicates("task"), "task")
    rep.skip("skip_no_ticket", int(unknown.sum()), shown)
    s = s[~unknown].sort_values(["task", "start"], kind="stable")
    known = len(s)
    stage = s["stage"].astype(str).str.strip().str.lower()
    span = (s["planned"] - s["start"]).dt.total_seconds() / 3600
    cancelled = stage.isin([x.lower() for x in p.cancelled_sla_stages])
    # at opening: the earliest, a cancelled one first where both started then (retroactive)
    every = s.assign(hours=span.where(span > 0), live=~cancelled)
    every = every.sort_values(["task", "start", "live"], kind="stable")
    s = every[every["live"]]

    def first(rows: pd.DataFrame, words: tuple[str, ...]) -> pd.DataFrame:
        name = rows["sla"].astype(str).str.lower()
        hit = name.map(lambda n: any(w.lower() in n for w in words))
        return rows[hit].drop_duplicates("task").set_index("task")

    fr, res = first(s, p.response_slas), first(s, p.resolution_slas)
    out = t.copy()
    out["first_response_at"] = out["ticket_id"].map(fr["end"]).astype("datetime64[ns, UTC]")
    tid = out["ticket_id"]
    for col, words, live in (
        ("sla_first_response_hours", p.response_slas, fr),
        ("sla_resolution_hours", p.resolution_slas, res),
    ):
        opening = first(every, words)["hours"]
        out[col] = tid.map(live["hours"]).where(~raised, tid.map(opening))
    rep.written = int(len(fr) + len(res))
    rep.skip("skip_not_used", int(known - len(fr) - len(res)), what=message("w_other_slas"))
    return out


def _escalations(df: pd.DataFrame, ctx: ImportContext) -> pd.DataFrame:
    p = ctx.params.servicenow
    frames = []
    by = df.groupby("ticket_id", sort=False)
    when = df["updated_at"].fillna(df["created_at"])
    if p.priority_raise_is_escalation:
        ch = pd.DataFrame(
            {
                "ticket_id": df["ticket_id"],
                "account_id": df["account_id"],
                "at": when,
                "old": by["priority"].shift(),
                "new": df["priority"],
            }
        )
        frames.append(priority_escalations(ch[ch["old"].notna()], ctx, "ServiceNow audit"))
    if p.reassignment_is_escalation:
        levels = {k.strip().lower(): v for k, v in p.group_levels.items()}
        rank = {lv: i for i, lv in enumerate(ctx.contract.escalation_levels)}
        level = df["group"].map(
            lambda g: levels.get(str(g).strip().lower()) if g is not None and g == g else None
        )
        groups = df["group"].dropna().astype(str).str.strip()
        if len(groups[groups != ""]) and level.isna().all():  # sys_ids, or other names: said
            shown = ", ".join(map(repr, groups[groups != ""].unique()[:3]))
            ctx.report.table("escalations").note("note_no_group_level", groups=shown)
        lvl_rank = level.map(rank)
        prev = lvl_rank.groupby(df["ticket_id"]).transform(lambda s: s.ffill().shift())
        up = lvl_rank.notna() & prev.notna() & (lvl_rank > prev)
        rows = [
            {
                "ticket_id": df.at[i, "ticket_id"],
                "account_id": df.at[i, "account_id"],
                "opened_at": when.at[i],
                "kind": "functional",
                "level": level.at[i],
                "reason": f"reassigned to {df.at[i, 'group']!s}",
            }
            for i in up[up].index
        ]
        frames.append(escalation_frame(rows))
    rep = ctx.report.table("escalations", message("src_audit_rows"))
    rep.read = sum(len(f) for f in frames)
    if not rep.read:
        return escalation_frame([])
    return dedupe_escalations(
        pd.concat([f for f in frames if len(f)], ignore_index=True),
        rep,
        ctx.contract.escalation_levels,
    )


def _read_companies(paths: list[Path], ctx: ImportContext) -> pd.DataFrame:
    """The core_company export; its `sys_id` column (kept as `sn_sys_id`) resolves incidents
    exported with values instead of display values."""
    rep = ctx.report.table("accounts")
    cols = (
        "tier",
        "arr",
        "seats",
        "contract_start",
        "renewal_date",
        "csm_owner",
        "region",
        "language",
    )
    fields = {"name": ("name",), **{c: (c, f"u_{c}") for c in cols}}
    fields["region"] = ("region", "u_region", "country")
    fields["created"] = ("sys_created_on", "created")
    fields["sn_sys_id"] = ("sys_id",)
    comp = _references(
        tabular(paths, Phrase("x_sn_companies"), fields, ("name",), "sn_", ctx, rep),
        ("created", "contract_start", "renewal_date"),
    )
    rep.read = 0
    return comp


def _by_name(account: pd.Series, comp: pd.DataFrame) -> pd.Series:
    """Incidents' accounts as the companies name them: a company referenced by its sys_id (a
    list exported with values, the Table API without display values) is the company of that
    sys_id, not an account of its own beside it (which doubled every customer, the named one
    without incidents)."""
    known = comp[comp["sn_sys_id"].notna()]
    ids = dict(zip(known["sn_sys_id"].astype(str).str.strip(), known["name"], strict=True))
    return account.map(lambda v: ids.get(str(v).strip(), v) if v is not None and v == v else v)


def _companies(accounts: pd.DataFrame, comp: pd.DataFrame, ctx: ImportContext) -> pd.DataFrame:
    rep = ctx.report.table("accounts")
    if comp["sn_sys_id"].isna().all():  # an export without sys_id: no column of nothing
        comp = comp.drop(columns="sn_sys_id")
    before = len(comp)
    comp = comp.drop_duplicates("name").rename(columns={"name": "account_id"})
    rep.merge("merge_duplicate_row", before - len(comp))  # counted, not dropped unseen
    # every company is an account, also one that never opened an incident (a calm customer)
    out = accounts.merge(comp, on="account_id", how="outer")
    out["name"] = out["name"].fillna(out["account_id"])
    return out


def _references(df: pd.DataFrame, times: tuple[str, ...] = ()) -> pd.DataFrame:
    """Reference and choice fields as the Table API returns them, kept as objects in a Parquet
    file made from its JSON: {"display_value": "Acme", "value": "<sys_id>"} (with
    sysparm_display_value=all) is its display value, as a list export shows it, and
    {"link": ..., "value": "<sys_id>"} its value. Left as objects, a company was read as no
    account and a priority stopped the import with an internal error. Of a time column
    (`times`) the value: the display value is the wall time of the user who called the API,
    the value the time in UTC, and read in naive_time_zone the display value can be hours off."""
    out = df.copy()
    for col in out.select_dtypes(include="object").columns:
        is_ref = out[col].map(lambda v: isinstance(v, dict))
        if is_ref.any():
            read = _utc_value if col in times else _reference
            out[col] = out[col].where(~is_ref, out[col][is_ref].map(read))
    return out


def _reference(v: dict) -> object:
    shown = v.get("display_value")
    return shown if shown is not None and shown != "" else v.get("value")


# a date-time's value as the Table API writes it: in UTC, without an offset
_API_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def _utc_value(v: dict) -> object:
    """A time's value in UTC, said so ("2026-12-07 09:15:00Z"), so that naive_time_zone (the
    list exports' wall times) does not move it; a date's value (2026-12-07) as it is."""
    value = v.get("value")
    if isinstance(value, str) and _API_TIME.fullmatch(value.strip()):
        return value.strip() + "Z"
    return value if value is not None and value != "" else _reference(v)
