"""`escrisk replay SOURCE --from DATE --to DATE`: the ladder run day by day over history."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from serving.cli import add_params_option, parse_day, utc_now

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

# Terminal columns (the CSV and markdown artifacts hold every column of the report).
SHOWN = (
    ("group", "CSM"),
    ("accounts", "Accounts"),
    ("alerts_per_week", "Alerts/week"),
    ("escalation_recall", "Escalations flagged"),
    ("escalation_lead_days", "Lead (d)"),
    ("churn_recall", "Churns flagged"),
    ("churn_lead_days", "Lead (d)"),
    ("nowhere_share", "Led nowhere"),
    ("flap_share", "Flapping"),
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "replay",
        help="run the champion model, thresholds and ladder day by day over history and report",
        description=(
            "Replays the champion model (MLFLOW_TRACKING_URI), the ladder thresholds and rules of "
            "the params file day by day over SOURCE's history and reports, per CSM and overall: "
            "alerts per week, the share of real escalations and churns flagged (at "
            "replay.flag_level or above within the label horizon before them), the median lead "
            "time, alerts that led nowhere and level flapping. The ladder state lives in memory: "
            "nothing is written to the audit store and nothing is sent. The result is logged to "
            "MLflow (experiment <model>-replay) so threshold settings can be compared."
        ),
    )
    parser.add_argument("source", metavar="SOURCE", help="folder of table files or a database URL")
    parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD (inclusive)")
    parser.add_argument(
        "--no-mlflow", dest="log", action="store_false", help="do not log the result to MLflow"
    )
    add_params_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from features.scorecache import kept_scores
    from features.sources import load_history
    from serving.daily_text import t
    from serving.model import load_champion
    from serving.params import load_params
    from serving.replay import log_replay, replay_days, run_replay
    from serving.settings import Settings
    from training.registry import tracking_uri

    params = load_params(args.params)
    start, end = parse_day(args.start, "--from"), parse_day(args.end, "--to")
    now = utc_now()
    lang = params.daily.language  # as `run_replay` says its refusals
    replay_days(start, end, now, lang)  # bad dates fail before the data is read
    uri = Settings.from_env().mlflow_tracking_uri or tracking_uri(os.environ)
    err = Console(stderr=True)
    with err.status("Reading and validating the source"):
        history = load_history(args.source, params.contract, now)
    with err.status("Loading the champion model"):
        model = load_champion(uri, params.promotion.model_name, lang)
    with (
        err.status(f"Replaying {start.date()} .. {end.date()}"),
        kept_scores(params.features.sentiment.cache_dir),
    ):
        result = run_replay(history, model, params, start, end, now, source=args.source)
    console = Console()
    m = result.meta
    console.print(replay_table(result.report, m))
    overall = result.report.iloc[-1]
    console.print(
        f"Flagged = at {m['flag_level']} or above within {m['escalation_horizon_days']} days "
        f"before an escalation / {m['churn_horizon_days']} days before a churn. "
        f"{int(overall['alerts'])} alerts, {int(overall['initial_flags'])} accounts flagged on the "
        f"first day, {int(overall['level_changes'])} level changes, {int(overall['flaps'])} reversed "
        f"within {m['flap_days']} days. Event kinds in the source: {m['event_kinds']}."
    )
    # the accounts table has no history: say so with every result, not only in the docs
    console.print(f"[yellow]{t('replay_attributes_now', lang)}[/]")
    if args.log:
        run_id = log_replay(result, params.ladder, f"{params.promotion.model_name}-replay", uri)
        console.print(
            f"Logged to MLflow: experiment {params.promotion.model_name}-replay, run {run_id}"
        )
    return 0


def replay_table(report: pd.DataFrame, meta: Mapping[str, Any]) -> Table:
    """The report as the terminal's table, one row per CSM and the overall row in bold. The CSM
    names come from the accounts table: shown as written, never read as rich markup (an owner
    "Team [EMEA] [/x]" stopped the command)."""
    from rich.markup import escape
    from rich.table import Table

    from serving.replay import report_rows

    m = meta
    table = Table(
        title=f"Ladder replay {m['from']} .. {m['to']} ({m['days']} days), model {m['model_version']}"
    )
    for i, (_, title) in enumerate(SHOWN):
        table.add_column(title, justify="left" if i == 0 else "right", no_wrap=i == 0)
    rows = report_rows(report, [c for c, _ in SHOWN])
    for i, cells in enumerate(rows):
        table.add_row(*map(escape, cells), style="bold" if i == len(rows) - 1 else None)
    return table
