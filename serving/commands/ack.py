"""`escrisk ack ACCOUNT_ID`: acknowledge an account's current ladder level (stops its timer)."""

from __future__ import annotations

import argparse

from serving.cli import add_params_option, utc_now
from serving.ladder_cli import add_by_option, open_store, who


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "ack",
        help="acknowledge an account's escalation (stops the time-based escalation)",
        description="Record that the owner has seen the account's current ladder level.",
    )
    parser.add_argument(
        "account_id", type=str.strip, metavar="ACCOUNT_ID", help="the account, as in the risk list"
    )
    add_by_option(parser)
    parser.add_argument("--note", help="free text kept in the audit trail")
    parser.add_argument(
        "--action",
        action="append",
        default=[],
        metavar="KEY",
        help="a playbook action taken (a key of ladder.actions); repeatable",
    )
    add_params_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from features.errors import UserError
    from serving.params import load_params

    params = load_params(args.params)
    unknown = [a for a in args.action if a not in params.ladder.actions]
    if unknown:
        raise UserError(
            f"unknown playbook action(s) {unknown}; known: {sorted(params.ladder.actions)}"
        )
    now, by = utc_now().to_pydatetime(), who(args)
    store = open_store()
    state = store.acknowledge(args.account_id, now, by, args.note)
    for action in args.action:
        store.record_action(args.account_id, now, by, action, args.note)
    print(f"{args.account_id}: {state.level} acknowledged by {by} at {now:%Y-%m-%d %H:%M} UTC")
    return 0
