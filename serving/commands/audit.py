"""`escrisk audit [ACCOUNT_ID]`: the ladder's audit trail as a table, optionally with the KPIs."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from serving.cli import positive_int
from serving.ladder_cli import open_store


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "audit",
        help="print the escalation audit trail (all accounts or one)",
        description=(
            "Level changes, acknowledgements, resolutions, feedback and actions, oldest first."
            " The audit store is ESCRISK_DATABASE_URL (default sqlite:///escrisk.db)."
        ),
    )
    parser.add_argument(
        "account_id", nargs="?", metavar="ACCOUNT_ID", help="only this account (default: all)"
    )
    parser.add_argument(
        "--last", type=positive_int, metavar="N", help="only the N most recent events (N >= 1)"
    )
    parser.add_argument("--kpis", action="store_true", help="also print the escalation KPIs")
    parser.add_argument(
        "--messages",
        choices=("all", "failed", "pending"),
        help="also print the notification outbox: every message, those that failed for good "
        "(retries spent), or those still to send",
    )
    parser.set_defaults(run=run)


def describe(e: dict[str, Any]) -> tuple[str, str, str]:
    """(event, detail, by) of one trail event."""
    kind = e["kind"]
    if kind == "level_changes":
        detail = (
            f"{e['old_level'] or '-'} -> {e['new_level']} ({e['rule']}); esc {e['escalation_risk']:.2f} "
            f"churn {e['churn_risk']:.2f}; {e['priority']}, team {e['team']}"
        )
        if e["due_at"] is not None:
            detail += f", due {e['due_at']:%Y-%m-%d %H:%M} UTC"
        reasons = "; ".join(str(r.get("text", r)) for r in e["reasons"][:3])
        if reasons:
            detail += f"\n{reasons}"
        return (f"level {e['direction']}", detail, f"model {e['model_version'] or '-'}")
    if kind == "acknowledgements":
        return ("acknowledged", e["note"] or "", e["by"])
    if kind == "resolutions":
        return ("resolved", e["outcome"] + (f": {e['note']}" if e["note"] else ""), e["by"])
    if kind == "feedback":
        return ("agree" if e["agree"] else "disagree", e["comment"] or "", e["by"])
    return ("action", e["action"] + (f": {e['note']}" if e["note"] else ""), e["by"])


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    store = open_store()
    events = store.trail(args.account_id)
    if args.last:
        events = events[-args.last :]
    # piped or redirected (`escrisk audit > trail.txt`) rich would fit 80 columns and split
    # words ("acknowledge d"): one line per event reads better, as the daily list does
    console = (
        Console() if sys.stdout.isatty() else Console(width=int(os.environ.get("COLUMNS", 200)))
    )
    title = f"Audit trail of {escape(args.account_id)}" if args.account_id else "Audit trail"
    table = Table(title=title)
    for col in ("time (UTC)", "account", "event", "detail", "by", "decision"):
        table.add_column(col, overflow="fold")
    for e in events:
        event, detail, by = describe(e)
        # ids, reasons, names and notes are people's text: shown as typed, never read as rich
        # markup (a note "see [/x]" stopped the command)
        table.add_row(
            f"{e['at']:%Y-%m-%d %H:%M}",
            escape(str(e["account_id"])),
            event,
            escape(detail),
            escape(str(by)),
            (e["decision_id"] or "-")[:8],
        )
    if events:
        console.print(table)
    else:
        console.print("No audit records yet.")
    if args.messages:
        _print_messages(console, store, args.account_id, args.messages)
    if args.kpis:
        from serving.kpis import window_kpis

        k = window_kpis(store)
        kt = Table(title="Escalation KPIs")
        kt.add_column("KPI")
        kt.add_column("value", justify="right")

        def fmt(v: float | None, pattern: str) -> str:
            return "-" if v is None else pattern.format(v)

        kt.add_row("escalations", str(k.escalations))
        kt.add_row("escalation rate (per scored account-day)", fmt(k.escalation_rate, "{:.2%}"))
        kt.add_row(
            "accounts flagged on their first evaluation (not escalations)", str(k.first_flags)
        )
        kt.add_row("escalations per scored account", fmt(k.escalations_per_account, "{:.2f}"))
        kt.add_row("median time to acknowledge (h)", fmt(k.median_hours_to_acknowledge, "{:.1f}"))
        kt.add_row("median time to resolve (h)", fmt(k.median_hours_to_resolve, "{:.1f}"))
        kt.add_row("escalations acknowledged", fmt(k.acknowledged_share, "{:.0%}"))
        kt.add_row("flags confirmed by CSMs, of those judged", fmt(k.confirmed_share, "{:.0%}"))
        console.print(kt)
    return 0


STATUSES = {"failed": ("failed",), "pending": ("pending", "sending")}


def _print_messages(console: Any, store: Any, account_id: str | None, which: str) -> None:
    """The outbox: what was sent, what waits, what failed for good and why (messages that
    failed are otherwise seen only as a count in the run that gave up on them)."""
    from rich.markup import escape
    from rich.table import Table

    rows = [
        m
        for m in store.rows("outbox")
        if (account_id is None or m["account_id"] == account_id)
        and (which == "all" or m["status"] in STATUSES[which])
    ]
    table = Table(title=f"Messages ({which})")
    for col in (
        "created (UTC)",
        "account",
        "channel",
        "recipient",
        "status",
        "tries",
        "last error",
    ):
        table.add_column(col, overflow="fold")
    for m in sorted(rows, key=lambda m: (m["created_at"], m["id"])):
        table.add_row(
            f"{m['created_at']:%Y-%m-%d %H:%M}", escape(str(m["account_id"])), m["channel"],
            escape(str(m["recipient"])), m["status"], str(m["attempts"]),
            escape(str(m["last_error"] or "")),
        )  # fmt: skip
    console.print(table if rows else f"No messages ({which}).")
