"""`escrisk ack ACCOUNT_ID`: acknowledge an account's current ladder level (stops its timer)."""

from __future__ import annotations

import argparse

from serving.cli import add_params_option, team_language, utc_now
from serving.ladder_cli import (
    add_by_option,
    add_language_option,
    open_store,
    who,
)
from serving.store import LadderConflict, typed_note


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
        help=(
            "a playbook action taken (a key of ladder.actions); repeatable; on a flag acknowledged "
            "already, only the actions are recorded"
        ),
    )
    add_language_option(parser)
    add_params_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from features.errors import UserError
    from serving.daily_text import time_text
    from serving.ladder_cli_text import say
    from serving.params import load_params

    params = load_params(args.params)
    lang = team_language(args, params)
    unknown = [a for a in args.action if a not in params.ladder.actions]
    if unknown:
        known = sorted(params.ladder.actions)
        raise UserError(say("unknown_actions", lang, n=len(unknown), unknown=unknown, known=known))
    now, by = utc_now().to_pydatetime(), who(args, lang)
    store = open_store(lang)
    note = typed_note(args.note)
    at = time_text(now, lang)
    try:
        state = store.acknowledge(args.account_id, now, by, note, args.action)
    except LadderConflict as exc:
        if exc.key != "already_acknowledged" or not args.action:
            raise
        # a playbook step taken after the acknowledgement: recorded for the same flag
        state = store.record_actions(args.account_id, now, by, args.action, note)
        acked = time_text(state.acknowledged_at, lang) if state.acknowledged_at else at
        words = {"account": args.account_id, "level": state.level, "by": by, "at": at}
        print(say("actions_recorded", lang, actions=", ".join(args.action), acked=acked, **words))
        return 0
    print(say("acknowledged", lang, account=args.account_id, level=state.level, by=by, at=at))
    return 0
