"""`escrisk audit [ACCOUNT_ID]`: the ladder's audit trail as a table, optionally with the KPIs."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from serving.cli import add_params_option, output_console, positive_int, team_language, utc_now
from serving.ladder_cli import add_language_option, open_store
from serving.ladder_cli_text import say

if TYPE_CHECKING:
    from serving.params import LadderParams


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
        # stripped as ack, resolve and feedback strip it: " A-1" pasted was an unknown account
        "account_id",
        nargs="?",
        type=str.strip,
        metavar="ACCOUNT_ID",
        help="only this account (default: all)",
    )
    parser.add_argument(
        "--last", type=positive_int, metavar="N", help="only the N most recent events (N >= 1)"
    )
    parser.add_argument("--kpis", action="store_true", help="also print the escalation KPIs")
    parser.add_argument(
        "--messages",
        choices=("all", "failed", "pending"),
        help="also print the notification outbox: every message, those that failed for good "
        "(refused, out of attempts or expired; escrisk notify --requeue sends them again), or "
        "those still to send",
    )
    add_language_option(parser)
    add_params_option(parser)
    parser.set_defaults(run=run)


def describe(
    e: dict[str, Any],
    lang: str = "en",
    features: Mapping[str, Any] | None = None,
    ladder: LadderParams | None = None,
) -> tuple[str, str, str]:
    """(event, detail, by) of one trail event, in `lang`; a level change's reasons told again in
    it from their `features` (name -> FeatureInfo): stored in the account's language, they were
    English under a German team. With `ladder`, what moved the level is told as the CSM page
    tells it ("not acknowledged in time", a hard rule by its title, an action by its playbook
    text), not as its stored code."""
    from serving.daily_text import time_text
    from serving.ladder_text import pick
    from serving.reasons import retold
    from serving.ui_text import by_text, rule

    kind = e["kind"]
    if kind == "level_changes":
        why = rule(e["rule"], lang, ladder) if ladder is not None else e["rule"]
        detail = say(
            "change", lang, old=e["old_level"] or "-", new=e["new_level"], rule=why,
            esc=e["escalation_risk"], churn=e["churn_risk"], priority=e["priority"], team=e["team"],
        )  # fmt: skip
        if e["due_at"] is not None:
            detail += say("due", lang, at=time_text(e["due_at"], lang))
        told = retold(e["reasons"][:3], features, lang) if features else e["reasons"][:3]
        reasons = "; ".join(str(r.get("text", r)) for r in told)
        if reasons:
            detail += f"\n{reasons}"
        return (
            say(f"ev_{e['direction']}", lang),
            detail,
            say("model", lang, version=e["model_version"] or "-"),
        )
    if kind == "acknowledgements":
        return (say("ev_acknowledged", lang), e["note"] or "", by_text(e["by"], lang))
    if kind == "resolutions":
        from serving.ui_text import outcome

        detail = outcome(e["outcome"], lang) + (f": {e['note']}" if e["note"] else "")
        return (say("ev_resolved", lang), detail, by_text(e["by"], lang))
    if kind == "feedback":
        verdict = say("ev_agree" if e["agree"] else "ev_disagree", lang)
        return (verdict, e["comment"] or "", by_text(e["by"], lang))
    # the playbook's text in the language, as the CSM page tells it; a key params no longer
    # defines as recorded
    texts = ladder.actions.get(e["action"]) if ladder is not None else None
    action = pick(texts, lang) if texts else str(e["action"])
    action += f": {e['note']}" if e["note"] else ""
    return (say("ev_action", lang), action, by_text(e["by"], lang))


def run(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from serving.daily_text import figure, time_text
    from serving.params import load_params
    from serving.reasons import feature_specs, features_of

    params = load_params(args.params)
    lang = team_language(args, params)
    store = open_store(lang)
    told_with = feature_specs(store.model_settings(), features_of(params.features))
    events = store.trail(args.account_id)
    if args.last:
        events = events[-args.last :]
    # piped or redirected (`escrisk audit > trail.txt`) rich would fit 80 columns and split
    # words ("acknowledge d"): one line per event reads better, as the daily list does
    console = output_console()
    account = escape(str(args.account_id))
    title = say("trail_of", lang, account=account) if args.account_id else say("trail", lang)
    table = Table(title=title)
    for col in ("time", "account", "event", "detail", "by", "decision"):
        table.add_column(say(f"col_{col}", lang), overflow="fold")
    for e in events:
        features = told_with(e.get("model_version"))
        event, detail, by = describe(e, lang, features, params.ladder)
        # ids, reasons, names and notes are people's text: shown as typed, never read as rich
        # markup (a note "see [/x]" stopped the command)
        table.add_row(
            time_text(e["at"], lang),
            escape(str(e["account_id"])),
            event,
            escape(detail),
            escape(str(by)),
            (e["decision_id"] or "-")[:8],
        )
    if events:
        console.print(table)
    else:
        console.print(say("no_records", lang))
    if args.messages:
        _print_messages(console, store, args.account_id, args.messages, lang)
    if args.kpis:
        from serving.kpis import window_kpis

        k = window_kpis(store, now=utc_now().to_pydatetime())
        kt = Table(title=say("kpis", lang))
        kt.add_column(say("kpi", lang))
        kt.add_column(say("value", lang), justify="right")
        for key, value, spec in (
            ("escalations", k.escalations, ","),
            ("rate", k.escalation_rate, ".2%"),
            ("first_flags", k.first_flags, ","),
            ("per_account", k.escalations_per_account, ",.2f"),
            ("ack", k.median_hours_to_acknowledge, ",.1f"),  # as the HTML report writes them
            ("resolve", k.median_hours_to_resolve, ",.1f"),
            ("acked", k.acknowledged_share, ".0%"),
            ("confirmed", k.confirmed_share, ".0%"),
        ):
            kt.add_row(say(f"kpi_{key}", lang), figure(value, spec, lang, missing="-"))
        console.print(kt)
    return 0


STATUSES = {"failed": ("failed",), "pending": ("pending", "sending")}


def _print_messages(
    console: Any, store: Any, account_id: str | None, which: str, lang: str = "en"
) -> None:
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
    from serving.daily_text import time_text
    from serving.ladder_cli_text import CATALOG
    from serving.notify import shown_recipient

    def status(key: str) -> str:
        return say(f"msg_{key}", lang) if f"msg_{key}" in CATALOG["en"] else key

    table = Table(title=say("messages", lang, which=status(which)))
    for col in ("created", "account", "channel", "recipient", "status", "tries", "error"):
        table.add_column(say(f"col_{col}", lang), overflow="fold")
    for m in sorted(rows, key=lambda m: (m["created_at"], m["id"])):
        table.add_row(
            time_text(m["created_at"], lang), escape(str(m["account_id"])), m["channel"],
            escape(shown_recipient(m["notifier"], str(m["recipient"]))), status(m["status"]),
            str(m["attempts"]),
            escape(str(m["last_error"] or "")),
        )  # fmt: skip
    console.print(table if rows else say("no_messages", lang, which=status(which)))
