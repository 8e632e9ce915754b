"""`escrisk promote SOURCE`: champion vs challenger on the most recent labelled window, then the gate."""

from __future__ import annotations

import argparse
import os

from serving.cli import add_params_option, positive_int, team_language, utc_now
from serving.ladder_cli import add_language_option
from serving.model_cli_text import say


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "promote",
        help="move the 'champion' alias to the challenger if it is not worse on the newest labelled data",
        description=(
            "Score challenger and champion on the same, most recent labelled window of SOURCE and move "
            "'champion' only when the challenger is not worse on promotion.primary_metric beyond "
            "promotion.tolerance (for every head). The first model becomes champion. The decision and "
            "both scores are logged to MLflow. Exit status 0 when it decided (promoted or kept), 1 "
            "when it could not. To roll back, compare an earlier version: --version N."
        ),
    )
    parser.add_argument("source", metavar="SOURCE", help="folder of table files or a database URL")
    add_params_option(parser)
    parser.add_argument(
        "--version",
        type=positive_int,
        metavar="N",
        help="compare registered version N (e.g. an earlier champion, to roll back) in place of "
        "the 'challenger' version, which keeps its alias; `escrisk models` lists the versions",
    )
    parser.add_argument("--force", action="store_true", help="promote regardless of the scores")
    parser.add_argument("--reason", help="why (required with --force; logged)")
    add_language_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from features.errors import UserError
    from features.scorecache import kept_scores
    from features.sources import load_history
    from serving.params import load_params
    from training.promotion_job import contenders, promote
    from training.registry import connect, tracking_uri

    params = load_params(args.params)
    lang = team_language(args, params)
    if args.force and not (args.reason and args.reason.strip()):
        raise UserError(say("force_needs_reason", lang))
    if args.reason is not None and not args.force:
        raise UserError(say("reason_needs_force", lang))
    now = utc_now()
    client = connect(tracking_uri(os.environ), create=False)
    version = None if args.version is None else str(args.version)
    # the registry first: a version that is not there is told before the source is read
    chosen = contenders(client, params.promotion.model_name, version, lang)
    history = load_history(args.source, params.contract, now)
    with kept_scores(params.features.sentiment.cache_dir):
        result = promote(
            client,
            history,
            params,
            now=now,
            force=args.force,
            reason=args.reason,
            language=lang,
            version=version,
            chosen=chosen,
        )
    for line in result.lines:
        print(line)
    if result.decision.promote:  # each worker pins the version it started with (docs/api.md)
        print(say("restart", lang))
    return 0
