"""`escrisk resolve ACCOUNT_ID --outcome OUTCOME`: close an account's current flag."""

from __future__ import annotations

import argparse

from serving.cli import add_params_option, utc_now
from serving.ladder_cli import add_by_option, open_store, who


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
    add_params_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from features.errors import UserError
    from serving.params import load_params

    params = load_params(args.params)
    if args.outcome not in params.ladder.outcomes:
        raise UserError(
            f"unknown outcome {args.outcome!r}; one of: {', '.join(params.ladder.outcomes)}"
        )
    now, by = utc_now().to_pydatetime(), who(args)
    state = open_store().resolve(args.account_id, now, by, args.outcome, args.note)
    print(f"{args.account_id}: flag at {state.level} resolved ({args.outcome}) by {by}")
    return 0
