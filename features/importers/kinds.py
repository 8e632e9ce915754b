"""The import kinds and the one function that runs any of them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from types import ModuleType

from features.errors import UserError
from features.importers import hubspot, jira, salesforce, servicenow, usage_events, zendesk
from features.importers.common import ImportContext, ImportResult, NothingToImport, split_origins
from features.importers.readers import OnBytes, assign_inputs
from features.importers.report import ImportReport
from features.params import ContractParams, ImporterParams, importer_problems

KINDS: dict[str, ModuleType] = {
    "zendesk": zendesk,
    "salesforce": salesforce,
    "jira": jira,
    "servicenow": servicenow,
    "hubspot": hubspot,
    "usage-events": usage_events,
}


# the part of each helpdesk export its tickets come from
TICKET_PARTS = {
    "zendesk": "tickets",
    "salesforce": "cases",
    "jira": "issues",
    "servicenow": "incidents",
    "hubspot": "tickets",
}


def _has_tickets(
    kind: str, built: dict, assigned: dict[str, list[Path]], ctx: ImportContext
) -> None:
    """A helpdesk export that leaves no ticket (only a header, every record skipped) is refused:
    written, it replaced the folder's tickets with none and was called valid."""
    tickets = built.get("tickets")
    if kind not in TICKET_PARTS or tickets is None or len(tickets):
        return
    # every ticket skipped as of no account, as an account id a spreadsheet mangled matches
    # none: those ids are the cause to tell, not "no tickets"
    if any(v.said is not None and v.said[0] == "spreadsheet_id" for v in ctx.violations):
        ctx.raise_if_violations()
    raise NothingToImport(
        "no_tickets_to_import", assigned[TICKET_PARTS[kind]], ctx.report, "tickets"
    )


def run_import(
    kind: str,
    inputs: Sequence[str],
    params: ImporterParams,
    contract: ContractParams,
    on_bytes: OnBytes = None,
    numeric_fields: Sequence[str] = (),
    known_accounts: Collection[str] | None = None,
) -> ImportResult:
    """Read one system's export into the contract's tables (not yet validated against each other).

    `numeric_fields`: accounts columns declared numeric custom fields (`features.custom_fields`),
    read in the notation of the export as the contract's numbers are. `known_accounts`: the
    account ids of the folder a usage import goes into (None: it has none yet)."""
    if kind not in KINDS:
        raise UserError(f"unknown import kind {kind!r}; known: {', '.join(KINDS)}")
    problems = importer_problems(params, contract)
    if problems:
        raise UserError("importer settings do not match the contract:\n  " + "\n  ".join(problems))
    module = KINDS[kind]
    assigned = assign_inputs(inputs, module.ROLES, module.REQUIRED, kind, module.DESCRIBE)
    ctx = ImportContext(
        kind=kind,
        params=params,
        contract=contract,
        report=ImportReport(kind),
        on_bytes=on_bytes,
        numeric_fields=frozenset(numeric_fields),
        known_accounts=None if known_accounts is None else frozenset(known_accounts),
    )
    try:
        built = module.run(assigned, ctx)
    except Exception:
        # a step after a refused value may not cope with the gap it left: the refusals then
        if ctx.violations:
            ctx.raise_if_violations()
        raise
    _has_tickets(kind, built, assigned, ctx)
    tables, origins = split_origins(built, ctx.files)
    for name, df in tables.items():
        if df is not None:
            ctx.report.table(name).written = len(df)
    # the importer's own violations go with the tables, so that the contract check of what it
    # built is told in the same run, not only after the user fixed these
    return ImportResult(
        tables=tables, report=ctx.report, origins=origins, violations=ctx.violations
    )
