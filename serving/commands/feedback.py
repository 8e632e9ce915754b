"""`escrisk feedback ACCOUNT_ID --agree|--disagree`: a CSM's verdict on the account's latest flag."""

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
        "feedback",
        help="agree or disagree with an account's latest flag",
        description="Record whether the CSM confirms the account's latest escalation flag.",
    )
    parser.add_argument(
        "account_id", type=str.strip, metavar="ACCOUNT_ID", help="the account, as in the risk list"
    )
    verdict = parser.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--agree", dest="agree", action="store_true", help="the flag was right")
    verdict.add_argument(
        "--disagree", dest="agree", action="store_false", help="the flag was wrong"
    )
    parser.add_argument("--comment", help="why (kept in the audit trail)")
    add_by_option(parser)
    add_language_option(parser)
    add_params_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from serving.ladder_cli_text import say
    from serving.params import load_params

    lang = team_language(args, load_params(args.params))
    now, by = utc_now().to_pydatetime(), who(args, lang)
    decision = open_store(lang).feedback(
        args.account_id, now, by, args.agree, typed_note(args.comment)
    )
    verdict = "agrees" if args.agree else "disagrees"
    print(say(verdict, lang, account=args.account_id, by=by, decision=decision[:8]))
    return 0
