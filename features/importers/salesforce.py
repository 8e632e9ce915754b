"""Salesforce: Case and Account CSV exports (Data Loader API names or report labels), optional
CaseMilestone (entitlements) and CaseHistory exports.

An escalation is a case with IsEscalated set (dated by CaseHistory when given) or, with
CaseHistory, a raise of the case's priority.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.contract_text import Phrase
from features.errors import refusal
from features.importers.common import (
    ORIGIN,
    ImportContext,
    close_escalations,
    dedupe_escalations,
    escalation_frame,
    finish_accounts,
    finish_tickets,
    first_priorities,
    first_seen,
    mapped_fields,
    merge_repeated,
    priority_as_opened,
    priority_escalations,
    tabular,
    truthy,
)
from features.importers.report import message

ROLES = {
    "milestones": ("milestone",),
    "case_history": ("history",),
    "accounts": ("account",),
    "cases": ("case",),
}
REQUIRED = ("cases", "accounts")
# what each required part is, for an import that lacks it
DESCRIBE = {part: Phrase(f"p_sf_{part}") for part in REQUIRED}
CASE_FIELDS = {
    "case_id": ("Id", "Case ID", "sf_Id"),  # sf_Id: as the tickets table keeps it
    "ticket_id": ("CaseNumber", "Case Number"),
    "account_id": ("AccountId", "Account ID"),
    "created_at": ("CreatedDate", "Date/Time Opened", "Opened Date", "Created Date"),
    "resolved_at": ("ClosedDate", "Date/Time Closed", "Closed Date"),
    "priority": ("Priority",),
    "status": ("Status",),
    "channel": ("Origin", "Case Origin"),
    "subject": ("Subject",),
    "body": ("Description",),
    "escalated": ("IsEscalated", "Escalated"),
}


def run(inputs: dict[str, list[Path]], ctx: ImportContext) -> dict[str, pd.DataFrame | None]:
    p = ctx.params.salesforce
    label = "salesforce cases"
    rep = ctx.report.table("tickets", ", ".join(x.name for x in inputs["cases"]))
    cases = tabular(
        inputs["cases"],
        Phrase("x_sf_cases"),
        mapped_fields(CASE_FIELDS, p.case_fields),
        ("ticket_id", "account_id", "created_at", "priority", "status"),
        "sf_",
        ctx,
        rep,
    )
    named = {**{k: v[0] for k, v in CASE_FIELDS.items()}, **cases.attrs["columns"]}
    cases = _without_footer(cases, rep)
    no_account = cases["account_id"].isna() | (cases["account_id"].astype(str).str.strip() == "")
    shown = ctx.examples(cases[no_account], "ticket_id")
    rep.skip("skip_no_account", int(no_account.sum()), shown, field=named["account_id"])
    cases = cases[~no_account].reset_index(drop=True)
    for col in ("account_id", "case_id"):
        cases[col] = cases[col].map(id18)
    accounts = _accounts(inputs["accounts"], ctx)
    if len(accounts):  # an empty Account export is told as such, not as every case skipped
        cases = _of_known_accounts(cases, accounts, ctx, named["account_id"])
    for col in ("created_at", "resolved_at"):
        cases[col] = ctx.times(cases[col], label, named[col], cases[ORIGIN])
    cases["priority"] = ctx.map_values(
        cases["priority"],
        p.priority_map,
        label,
        named["priority"],
        "salesforce.priority_map",
        cases[ORIGIN],
    )
    cases["status"] = ctx.map_values(
        cases["status"],
        p.status_map,
        label,
        named["status"],
        "salesforce.status_map",
        cases[ORIGIN],
    )
    # without an Id column, milestones and history can only match cases by their number
    has_id = "case_id" in cases.attrs["columns"]
    if not has_id:
        cases["case_id"] = cases["ticket_id"]
    without_id = None if has_id else ", ".join(x.name for x in inputs["cases"])
    cases = _milestones(cases, inputs.get("milestones", []), ctx, without_id)
    if len(cases) and cases["first_response_at"].isna().all():
        # the SLA features would read every ticket as a first-response breach: told, and left out
        rep.note("note_no_first_response", milestone=p.first_response_milestone)
    history = _history(inputs.get("case_history", []), cases, ctx, without_id)

    escalated = cases["escalated"].map(truthy)
    esc_rep = ctx.report.table(
        "escalations", "IsEscalated" + (" + CaseHistory" if inputs.get("case_history") else "")
    )
    flag_at = history["flagged"]
    opened = (
        cases.loc[escalated, "case_id"].map(flag_at)
        if len(flag_at)
        else pd.Series(pd.NaT, index=cases.index[escalated], dtype="datetime64[ns, UTC]")
    )
    undated = opened.isna()
    # no flag time known (no CaseHistory, or none matches): the case's creation
    opened = pd.to_datetime(opened, utc=True).fillna(cases.loc[escalated, "created_at"])
    if undated.any():
        esc_rep.note(
            "note_escalation_time", n=int(undated.sum()), what=message("w_case_history_flag")
        )
    rows = [
        {
            "ticket_id": r.ticket_id,
            "account_id": r.account_id,
            "opened_at": at,
            "kind": "hierarchical",
            "level": ctx.params.escalation_level,
            "reason": "IsEscalated",
        }
        for r, at in zip(cases[escalated].itertuples(index=False), opened, strict=True)
    ]
    frames = [
        escalation_frame(rows),
        priority_escalations(history["changes"], ctx, "Salesforce CaseHistory"),
    ]
    esc_rep.read = sum(len(f) for f in frames)
    esc = (
        dedupe_escalations(
            pd.concat([f for f in frames if len(f)], ignore_index=True),
            esc_rep,
            ctx.contract.escalation_levels,
        )
        if esc_rep.read
        else frames[0]
    )
    # the Id as sf_Id; a Case export without one has no sf_Id (not its case numbers again)
    cases = cases.drop(columns=["escalated"] if has_id else ["escalated", "case_id"])
    cases = priority_as_opened(cases, first_priorities(history["changes"]), ctx)
    tickets = finish_tickets(cases.rename(columns={"case_id": "sf_Id"}), ctx)
    esc = close_escalations(esc, tickets)
    rep.written = len(tickets)
    seen = first_seen(tickets, accounts, ctx, "salesforce accounts")
    as_of = tickets["created_at"].max() if len(tickets) else None
    return {
        "accounts": finish_accounts(accounts, ctx, seen, as_of),
        "tickets": tickets,
        "escalations": esc,
    }


def _of_known_accounts(
    cases: pd.DataFrame, accounts: pd.DataFrame, ctx: ImportContext, column: str
) -> pd.DataFrame:
    """Cases of accounts the Account export holds. Another account's (deleted since, or left
    out of a filtered report: prospects, another owner's) belong to no account the import
    knows: kept out, counted and the first few named, as Zendesk's and HubSpot's are; the
    whole import was refused for them."""
    known = cases["account_id"].isin(accounts["account_id"])
    if known.all():
        return cases
    stray = cases[~known]
    shown = ctx.examples(stray, "ticket_id", "account_id")
    ctx.report.table("tickets").skip("skip_unknown_account", len(stray), shown, field=column)
    return cases[known].reset_index(drop=True)


# what a Salesforce report (rather than a data export) calls the account fields
ACCOUNT_REPORT_LABELS: dict[str, tuple[str, ...]] = {
    "name": ("Account Name",),
    "csm_owner": ("Account Owner",),
    "region": ("Billing Country",),
    "tier": ("Tier",),
    "arr": ("ARR",),
    "seats": ("Seats",),
    "contract_start": ("Contract Start Date",),
    "renewal_date": ("Renewal Date",),
    "language": ("Language",),
}


def _accounts(paths: list[Path], ctx: ImportContext) -> pd.DataFrame:
    rep = ctx.report.table("accounts", ", ".join(x.name for x in paths))
    fields: dict[str, tuple[str, ...]] = {"account_id": ("Id", "Account ID")}
    fields["created"] = ("CreatedDate", "Created Date")
    fields["_updated"] = ("LastModifiedDate", "Last Modified Date")
    for column, source in ctx.params.salesforce.account_fields.items():
        # the API name from params.yaml, else the label a report export writes
        fields[column] = (source, *fields.get(column, ()), *ACCOUNT_REPORT_LABELS.get(column, ()))
    df = tabular(paths, Phrase("x_sf_accounts"), fields, ("account_id",), "sf_", ctx, rep)
    df = _without_footer(df, rep)
    df["account_id"] = df["account_id"].map(id18)
    # an account in two exports (overlapping reports): one account, its latest record
    updated = ctx.times(df["_updated"], "salesforce accounts", "LastModifiedDate", df[ORIGIN])
    df = merge_repeated(df, "account_id", rep, updated).drop(columns="_updated")
    rep.written = len(df)
    return df


_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id18(value: object) -> object:
    """A record id in its 18-character form. A report writes 15-character ids, the API and
    Data Loader 18-character ones (the 15 plus a checksum of where its capitals are), so a Case
    report and an Account export had no account in common: every case broke the foreign key."""
    if not (isinstance(value, str) and len(value) == 15 and value.isascii() and value.isalnum()):
        return value
    chunks = (value[i : i + 5] for i in range(0, 15, 5))
    bits = (sum(1 << j for j, c in enumerate(chunk) if "A" <= c <= "Z") for chunk in chunks)
    return value + "".join(_SUFFIX[b] for b in bits)


# the lines a Salesforce report's CSV ends with, after a blank line: not records
_FOOTER = (
    r"(Confidential Information - Do Not Distribute|Copyright \(c\) \d{4}-\d{4} salesforce\.com.*)"
)


def _without_footer(df: pd.DataFrame, rep) -> pd.DataFrame:
    """Rows with no value, and the report footer's one-value lines, skipped and counted: the
    footer's text in the first column became an account named 'Confidential Information ...'."""
    cells = df.drop(columns=[ORIGIN]).astype(object)
    filled = cells.notna() & (cells.astype(str).map(str.strip) != "")
    count = filled.sum(axis=1)
    one = cells[count == 1].where(filled[count == 1]).stack().astype(str).str.strip()
    footer = df.index.isin(one[one.str.fullmatch(_FOOTER)].index.get_level_values(0))
    if footer.any():
        # a report in German says "Vertraulich ..." instead: a one-value row after the last
        # record, in a tail holding the copyright line, is the footer too, not an account
        records = np.flatnonzero((count >= 2).to_numpy())
        after = np.arange(len(df)) > (records.max() if len(records) else -1)
        footer |= after & (count == 1).to_numpy()
    blank = (count == 0).to_numpy()
    rep.skip("skip_blank_row", int(blank.sum()))
    rep.skip("skip_report_footer", int(footer.sum()))
    return df[~(blank | footer)].reset_index(drop=True)


def _milestones(
    cases: pd.DataFrame, paths: list[Path], ctx: ImportContext, without_id: str | None
) -> pd.DataFrame:
    """First response and resolution times and targets from entitlement milestones, when exported."""
    out = cases.copy()
    if not paths:
        out["first_response_at"] = pd.NaT
        return out
    p = ctx.params.salesforce
    rep = ctx.report.table("milestones", ", ".join(x.name for x in paths))
    fields = {
        "case": ("CaseId", "Case ID", "Case.CaseNumber", "Case Number"),
        "name": ("MilestoneType.Name", "MilestoneTypeName", "Milestone", "Milestone Name"),
        "start": ("StartDate", "Start Date"),
        "target": ("TargetDate", "Target Date"),
        "completed": ("CompletionDate", "Completion Date"),
        "minutes": ("TargetResponseInMins", "Target Response (Mins)"),
    }
    ms = tabular(paths, Phrase("x_sf_milestones"), fields, ("case", "name"), "ms_", ctx, rep)
    raw = ms["case"]  # as the file writes it, to name a row by
    ms["case"] = ms["case"].map(id18)
    label = "salesforce milestones"
    for col in ("start", "target", "completed"):
        ms[col] = ctx.times(ms[col], label, col, ms[ORIGIN])
    named = ms.attrs["columns"].get("minutes", "TargetResponseInMins")
    minutes, _ = ctx.numbers(ms["minutes"], label, named, ms[ORIGIN], table="milestones")
    # TargetDate is the deadline Salesforce computed in the milestone's business hours (nights,
    # weekends, holidays, DST): its distance from the start is the target in clock hours, which
    # the SLA features count; TargetResponseInMins is in business minutes (480 for a working day)
    # without both (a report leaving them out) the minutes are no clock hours to a deadline:
    # read as such, a working day (480) was due 8 clock hours on, breached overnight. The
    # target is left to the contract's SLA policy (business hours when features.sla.
    # business_hours is set), and the report names the cases
    span = (ms["target"] - ms["start"]).dt.total_seconds() / 3600
    ms["hours"] = span.where(span > 0)
    ms["goal_only"] = ms["hours"].isna() & minutes.notna()
    key = "case_id" if ms["case"].isin(out["case_id"]).any() else "ticket_id"
    unknown = ~ms["case"].isin(out[key])
    _matched(unknown, paths, ms.attrs["columns"]["case"], without_id)
    # one line for them all, the first few cases named: not a line per case
    shown = ctx.examples(ms[unknown].assign(case=raw).drop_duplicates("case"), "case")
    rep.skip("skip_no_ticket", int(unknown.sum()), shown)
    ms = ms[~unknown]
    # a recurring milestone (recursIndependently, recursChained) or one the entitlement process
    # started again has one CaseMilestone per instance, in no order an export promises: the
    # case's first instance (earliest StartDate; the file's order among equals) is its target
    ms = ms.sort_values("start", kind="stable", na_position="last")
    name = ms["name"].astype(str).str.strip().str.lower()
    fr = ms[name == p.first_response_milestone.lower()]
    res = ms[name == p.resolution_milestone.lower()]
    later = int(fr["case"].duplicated().sum() + res["case"].duplicated().sum())
    fr, res = fr.drop_duplicates("case"), res.drop_duplicates("case")
    used = pd.concat([fr, res])
    goal_only = raw.loc[used.index[used["goal_only"].to_numpy()]].drop_duplicates()
    if len(goal_only):
        ids = ", ".join(map(str, goal_only.head(3))) + (", ..." if len(goal_only) > 3 else "")
        ctx.report.table("tickets").note(
            "note_sla_goal_only",
            n=len(goal_only),
            field=named,
            need="StartDate/TargetDate",
            ids=ids,
        )
    fr, res = fr.set_index("case"), res.set_index("case")
    out["first_response_at"] = out[key].map(fr["completed"]).astype("datetime64[ns, UTC]")
    out["sla_first_response_hours"] = out[key].map(fr["hours"])
    out["sla_resolution_hours"] = out[key].map(res["hours"])
    rep.written = int(len(fr) + len(res))
    rep.skip("skip_not_used", later, what=message("w_later_milestones"))
    other = int(len(ms) - len(fr) - len(res) - later)
    rep.skip("skip_not_used", other, what=message("w_other_milestones"))
    return out


def _matched(unknown: pd.Series, paths: list[Path], column: str, without_id: str | None) -> None:
    """Rows of which none matches a case, from a Case export without Id (`without_id`: its
    files), are refused: they name cases by Id, and all of them were skipped as "of a ticket not
    imported" though every case was imported."""
    if without_id is not None and len(unknown) and bool(unknown.all()):
        names = ", ".join(str(p) for p in paths)
        raise refusal("sf_needs_case_id", path=names, column=column, cases=without_id)


def _history(
    paths: list[Path], cases: pd.DataFrame, ctx: ImportContext, without_id: str | None
) -> dict:
    """From CaseHistory: when IsEscalated was set, and every priority change."""
    empty = pd.DataFrame(columns=["ticket_id", "account_id", "at", "old", "new"])
    if not paths:
        return {"flagged": pd.Series(dtype="datetime64[ns, UTC]"), "changes": empty}
    rep = ctx.report.table("case_history", ", ".join(x.name for x in paths))
    fields = {
        "case": ("CaseId", "Case ID"),
        "field": ("Field", "Field / Event"),
        "old": ("OldValue", "Old Value"),
        "new": ("NewValue", "New Value"),
        "at": ("CreatedDate", "Edit Date", "Created Date"),
    }
    h = tabular(
        paths,
        Phrase("x_sf_history"),
        fields,
        ("case", "field", "at"),
        "h_",
        ctx,
        rep,
    )
    h["at"] = ctx.times(h["at"], "salesforce case_history", "CreatedDate", h[ORIGIN])
    raw = h["case"]  # as the file writes it, to name a row by
    h["case"] = h["case"].map(id18)
    # changes of cases not imported (not in the Case export, or skipped there): counted as
    # such, not as "changes of other fields"
    unknown = ~h["case"].isin(cases["case_id"])
    _matched(unknown, paths, h.attrs["columns"]["case"], without_id)
    shown = ctx.examples(h[unknown].assign(case=raw).drop_duplicates("case"), "case")
    rep.skip("skip_no_ticket", int(unknown.sum()), shown)
    h = h[~unknown]
    field = h["field"].astype(str).str.strip().str.lower()
    flagged = (
        h[(field.isin(["isescalated", "escalated"])) & h["new"].map(truthy)]
        .sort_values("at")
        .drop_duplicates("case")
    )
    ch = h[field == "priority"].copy()
    pm = ctx.params.salesforce.priority_map
    ch["old"] = ctx.map_values(
        ch["old"], pm, "salesforce case_history", "OldValue", "salesforce.priority_map", ch[ORIGIN]
    )
    ch["new"] = ctx.map_values(
        ch["new"], pm, "salesforce case_history", "NewValue", "salesforce.priority_map", ch[ORIGIN]
    )
    by_id = cases.set_index("case_id")
    ch = ch.assign(
        ticket_id=ch["case"].map(by_id["ticket_id"]), account_id=ch["case"].map(by_id["account_id"])
    )
    rep.written = len(flagged) + len(ch)
    rep.skip("skip_not_used", len(h) - len(flagged) - len(ch), what=message("w_other_fields"))
    return {
        "flagged": flagged.set_index("case")["at"],
        "changes": ch[["ticket_id", "account_id", "at", "old", "new"]],
    }
