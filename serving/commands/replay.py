"""`escrisk replay SOURCE --from DATE --to DATE`: the ladder run day by day over history."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from serving.cli import add_params_option, output_console, parse_day, team_language, utc_now
from serving.daily_text import day_text, t
from serving.ladder_cli import add_language_option

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

# Terminal columns (the CSV and markdown artifacts hold every column of the report), with the
# daily_text key of each heading: the table is read in the team's language (daily.language).
SHOWN = (
    ("group", "replay_col_group"),
    ("accounts", "replay_col_accounts"),
    ("alerts_per_week", "replay_col_alerts"),
    ("escalation_recall", "replay_col_escalations"),
    ("escalation_lead_days", "replay_col_lead"),
    ("churn_recall", "replay_col_churns"),
    ("churn_lead_days", "replay_col_lead"),
    ("nowhere_share", "replay_col_nowhere"),
    ("flap_share", "replay_col_flapping"),
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
    add_language_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from features.scorecache import kept_scores
    from features.sources import describe, load_history
    from serving.daily_text import t
    from serving.model import feature_code_warning, load_champion
    from serving.params import load_params
    from serving.replay import log_replay, replay_days, run_replay
    from serving.settings import Settings
    from training.registry import tracking_uri

    params = load_params(args.params)
    # as `run_replay` says its refusals; as `args.lang` for `serving.cli.main` to tell errors in
    lang = team_language(args, params)
    start, end = parse_day(args.start, "--from", lang), parse_day(args.end, "--to", lang)
    now = utc_now()
    replay_days(start, end, now, lang)  # bad dates fail before the data is read
    uri = Settings.from_env().mlflow_tracking_uri or tracking_uri(os.environ)
    err = Console(stderr=True)
    with err.status(t("replay_reading", lang)):
        history = load_history(args.source, params.contract, now)
    with err.status(t("replay_loading", lang)):
        model = load_champion(uri, params.promotion.model_name, lang)
    stale = feature_code_warning(model, lang)
    if stale:  # an upgrade changed the features under the champion: the replay shows that
        err.print(f"[bold yellow]{escape(stale)}[/]")
    span = {"start": day_text(start.date(), lang), "end": day_text(end.date(), lang)}
    with (
        err.status(t("replay_running", lang, **span)),
        kept_scores(params.features.sentiment.cache_dir),
    ):
        # as shown and logged: a database URL without its password (MLflow params, replay.md)
        result = run_replay(history, model, params, start, end, now, source=describe(args.source))
    console = output_console()
    m = result.meta
    console.print(replay_table(result.report, m, lang))
    console.print(replay_summary(result.report.iloc[-1], m, lang))
    # the accounts table has no history: say so with every result, not only in the docs
    console.print(f"[yellow]{t('replay_attributes_now', lang)}[/]")
    if args.log:
        experiment = f"{params.promotion.model_name}-replay"
        run_id = log_replay(result, params.ladder, experiment, uri, str(args.params))
        words = {"experiment": f"{params.promotion.model_name}-replay", "run": run_id}
        console.print(t("replay_logged", lang, **words))
    return 0


def replay_summary(overall: pd.Series, meta: Mapping[str, Any], language: str = "en") -> str:
    """The line under the table: what "flagged" means and the overall counts, in `language`."""
    m = meta
    return t(
        "replay_summary", language, level=m["flag_level"],
        esc_days=m["escalation_horizon_days"], churn_days=m["churn_horizon_days"],
        alerts=int(overall["alerts"]), initial=int(overall["initial_flags"]),
        changes=int(overall["level_changes"]), flaps=int(overall["flaps"]),
        flap_days=m["flap_days"], kinds=m["event_kinds"],
    )  # fmt: skip


def replay_table(report: pd.DataFrame, meta: Mapping[str, Any], language: str = "en") -> Table:
    """The report as the terminal's table, one row per CSM and the overall row in bold, headed
    in `language`. The CSM names come from the accounts table: shown as written, never read as
    rich markup (an owner "Team [EMEA] [/x]" stopped the command)."""
    from rich.markup import escape
    from rich.table import Table

    from serving.replay import report_rows

    m = meta
    span = {
        k: day_text(dt.date.fromisoformat(m[f]), language)
        for k, f in (("start", "from"), ("end", "to"))
    }
    table = Table(
        title=t("replay_title", language, days=m["days"], model=m["model_version"], **span)
    )
    for i, (_, key) in enumerate(SHOWN):
        title = t(key, language)
        table.add_column(title, justify="left" if i == 0 else "right", no_wrap=i == 0)
    rows = report_rows(report, [c for c, _ in SHOWN], language)
    if rows:  # the last row is every CSM's together: its name in the team's language
        rows[-1] = [t("replay_overall", language), *rows[-1][1:]]
    for i, cells in enumerate(rows):
        table.add_row(*map(escape, cells), style="bold" if i == len(rows) - 1 else None)
    return table
