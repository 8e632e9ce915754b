"""HubSpot: companies and tickets CSV exports (as the CRM's export button writes them).

HubSpot has no escalation field, so no escalations table is written: escalation labels are then
unavailable unless another source provides them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.contract_text import Phrase
from features.importers.common import (
    ORIGIN,
    ImportContext,
    NothingToImport,
    finish_accounts,
    finish_tickets,
    first_seen,
    mapped_fields,
    merge_repeated,
    tabular,
)

ROLES = {"companies": ("compan",), "tickets": ("ticket",)}
REQUIRED = ("companies", "tickets")
# what each required part is, for an import that lacks it
DESCRIBE = {part: Phrase(f"p_hs_{part}") for part in REQUIRED}
TICKET_FIELDS = {
    "ticket_id": ("Ticket ID", "Record ID", "hs_object_id"),
    "account_id": (
        "Associated Company IDs",
        "Associated Company ID",
        "Associated Company IDs (Primary)",
        "Company ID",
        "associatedcompanyid",
    ),
    "created_at": ("Create date", "Created date", "createdate"),
    "resolved_at": ("Close date", "closed_date"),
    "updated_at": ("Last modified date", "hs_lastmodifieddate"),  # resolved_at where it is empty
    "first_response_at": (
        "First agent reply date",
        "first_agent_reply_date",
        "hs_first_agent_message_sent_at",
    ),
    "priority": ("Priority", "hs_ticket_priority"),
    "status": ("Ticket status", "Pipeline stage", "hs_pipeline_stage"),
    "channel": ("Source", "source_type"),
    "subject": ("Ticket name", "subject"),
    "body": ("Ticket description", "content"),
}


def run(inputs: dict[str, list[Path]], ctx: ImportContext) -> dict[str, pd.DataFrame | None]:
    p = ctx.params.hubspot
    rep = ctx.report.table("tickets", ", ".join(x.name for x in inputs["tickets"]))
    df = tabular(
        inputs["tickets"],
        Phrase("x_hs_tickets"),
        mapped_fields(TICKET_FIELDS, p.ticket_fields),
        ("ticket_id", "account_id", "created_at", "status"),
        "hs_",
        ctx,
        rep,
    )
    named = {**{k: v[0] for k, v in TICKET_FIELDS.items()}, **df.attrs["columns"]}
    df = df.rename(columns={"updated_at": "_updated"})
    arep = ctx.report.table("accounts", ", ".join(x.name for x in inputs["companies"]))
    fields: dict[str, tuple[str, ...]] = {"account_id": ("Record ID", "Company ID", "hs_object_id")}
    fields["created"] = ("Create Date", "Create date", "createdate")
    fields["_updated"] = ("Last Modified Date", "Last modified date", "hs_lastmodifieddate")
    for column, source in p.company_fields.items():  # created: in the exporting user's language
        fields[column] = (source, *fields.get(column, ()))
    accounts = tabular(
        inputs["companies"],
        Phrase("x_hs_companies"),
        fields,
        ("account_id",),
        "hs_",
        ctx,
        arep,
    )
    if accounts.empty:  # said, not as every ticket of no exported company
        raise NothingToImport("no_companies_to_import", inputs["companies"], ctx.report, "accounts")
    # a company in two exports (overlapping views): one account, its latest record
    updated = ctx.times(
        accounts["_updated"], "hubspot companies", "Last Modified Date", accounts[ORIGIN]
    )
    accounts = merge_repeated(accounts, "account_id", arep, updated).drop(columns="_updated")
    # a ticket of several companies (a parent and its subsidiary) is the first one the companies
    # export holds: the first of all may be one it lacks, which refused the whole import
    known = set(accounts["account_id"].dropna().astype(str).str.strip())
    listed = df["account_id"].astype(object).map(_company_ids)
    company = listed.map(lambda ids: next((x for x in ids if x in known), None))
    no_account = listed.map(len) == 0
    shown = ctx.examples(df[no_account], "ticket_id")
    rep.skip("skip_no_account", int(no_account.sum()), shown, field=named["account_id"])
    # none of its companies in the companies export (deleted since, or out of the exported
    # view): no account the import knows, so skipped and named as Zendesk's are; it refused
    # the whole import as an account not in accounts
    unknown = ~no_account & company.isna()
    stray = df[unknown].assign(company_ids=listed[unknown].map(";".join))
    shown = ctx.examples(stray, "ticket_id", "company_ids")
    rep.skip("skip_unknown_company", int(unknown.sum()), shown, field=named["account_id"])
    df["account_id"] = company
    df = df[company.notna()].reset_index(drop=True)
    label = "hubspot tickets"
    for col, field in (
        ("created_at", "created_at"),
        ("resolved_at", "resolved_at"),
        ("first_response_at", "first_response_at"),
        ("_updated", "updated_at"),
    ):
        df[col] = ctx.times(df[col], label, named[field], df[ORIGIN])
    # a ticket in two exports (overlapping views or date ranges): its latest record, as for
    # Zendesk and Jira; refused as a repeated ticket id, nothing could be imported
    before = len(df)
    df = (
        df.sort_values("_updated", kind="stable", na_position="first")
        .drop_duplicates("ticket_id", keep="last")
        .sort_index()
        .reset_index(drop=True)
    )
    rep.merge("merge_duplicate", before - len(df))
    df["priority"] = ctx.map_values(
        df["priority"], p.priority_map, label, named["priority"], "hubspot.priority_map", df[ORIGIN]
    )
    df["status"] = ctx.map_values(
        df["status"], p.stage_map, label, named["status"], "hubspot.stage_map", df[ORIGIN]
    )
    df["channel"] = df["channel"].map(lambda v: str(v).strip().lower() if isinstance(v, str) else v)
    tickets = finish_tickets(df, ctx, named["resolved_at"])

    ctx.report.notes.append(("note_no_escalations", ()))
    seen = first_seen(tickets, accounts, ctx, "hubspot companies")
    as_of = tickets["created_at"].max() if len(tickets) else None
    accounts_out = finish_accounts(accounts, ctx, seen, as_of)
    return {"accounts": accounts_out, "tickets": tickets, "escalations": None}


def _company_ids(value: object) -> list[str]:
    """A ticket's associated companies as the export lists them (`5101;5102`), none if empty."""
    if value is None or value != value:
        return []
    return [x.strip() for x in str(value).split(";") if x.strip()]
