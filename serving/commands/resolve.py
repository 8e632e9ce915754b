"""`escrisk resolve ACCOUNT_ID --outcome OUTCOME`: close an account's current flag."""

from __future__ import annotations

import argparse

from serving.cli import add_params_option, team_language, utc_now
from serving.ladder_cli import (
    add_by_option,
    add_language_option,
    open_store,
    who,
)
from serving.store import typed_note


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "resolve",
        help="resolve an account's escalation with an outcome",
        description="Record how the account's current flag ended (outcomes: ladder.outcomes in params.yaml).",
    )
    parser.add_argument(
        "account_id", type=str.strip, metavar="ACCOUNT_ID", help="the account, as in the risk list"
    )
    parser.add_argument(
        "--outcome", required=True, help="one of ladder.outcomes, e.g. saved, churned"
    )
    add_by_option(parser)
    parser.add_argument("--note", help="free text kept in the audit trail")
    add_language_option(parser)
    add_params_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from features.errors import UserError
    from serving.ladder_cli_text import say
    from serving.params import load_params
    from serving.ui_text import outcome

    params = load_params(args.params)
    lang = team_language(args, params)
    if args.outcome not in params.ladder.outcomes:
        known = ", ".join(params.ladder.outcomes)
        raise UserError(say("unknown_outcome", lang, outcome=args.outcome, outcomes=known))
    now, by = utc_now().to_pydatetime(), who(args, lang)
    state = open_store(lang).resolve(args.account_id, now, by, args.outcome, typed_note(args.note))
    words = {"account": args.account_id, "level": state.level, "by": by}
    print(say("resolved", lang, outcome=outcome(args.outcome, lang), **words))
    return 0
