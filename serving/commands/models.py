"""`escrisk models`: registered versions, their aliases and metrics, and the champion history."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from serving.cli import add_params_option, team_language
from serving.ladder_cli import add_language_option
from serving.model_cli_text import say

if TYPE_CHECKING:
    import pandas as pd


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "models",
        help="list model versions, aliases, metrics and which version was champion when",
        description=(
            "List every registered version of promotion.model_name with its aliases (champion, "
            "challenger), test metrics and when it was champion, then the promotion history. "
            "Registry: MLFLOW_TRACKING_URI (default sqlite:///mlflow.db)."
        ),
    )
    add_params_option(parser)
    add_language_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from serving.commands.train import decimals
    from serving.params import load_params
    from training.registry import connect, promotion_history, tracking_uri, versions_table

    params = load_params(args.params)
    lang = team_language(args, params)
    client = connect(tracking_uri(os.environ), create=False)
    name = params.promotion.model_name
    metric = params.promotion.primary_metric
    cols = [f"{t}.lightgbm.{metric}" for t in params.model.targets]
    table = versions_table(client, name, cols)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(say("models_title", lang, model=name, metric=metric))
        if table.empty:
            print(say("no_versions", lang))
        else:
            terms = {
                c: [_minute(v) for v in table[c]] for c in ("champion_since", "champion_until")
            }
            shown = table.assign(**terms)
            shown = _headed(shown, lang)
            print(shown.to_string(index=False, float_format=decimals(".4f", lang), na_rep="-"))
            if table[cols].isna().any().any():  # a version trained without a head's labels
                print(say("no_figure", lang))
        hist = promotion_history(name, lang)  # each reason in the team's language
        print("\n" + say("decisions", lang))
        readable = None if hist.empty else _headed(readable_history(hist, lang), lang)
        print(say("none_yet", lang) if readable is None else readable.to_string(index=False))
    return 0


def _headed(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The table's columns named in the team's language (a German team read "decided_at",
    "promoted", "forced"); a metric's column keeps its name, as MLflow logs it."""
    from serving.model_cli_text import CATALOG

    return table.rename(
        columns={c: say(f"col_{c}", lang) for c in table.columns if f"col_{c}" in CATALOG["en"]}
    )


def _minute(value: Any) -> str:
    """A time MLflow keeps as ISO text (a tag, a param) as `created` shows times: to the minute,
    UTC; what does not read as a time, as it is."""
    import pandas as pd

    if not isinstance(value, str) or not value.strip():
        return ""
    try:
        at = pd.Timestamp(value)
    except ValueError:
        return value
    at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
    return at.strftime("%Y-%m-%d %H:%M")


def readable_history(history: pd.DataFrame, lang: str, labelled: bool = False) -> pd.DataFrame:
    """The decisions (`promotion_history`) as the team reads them: times to the minute, yes / no
    in its language (MLflow keeps Python's True / False), no champion as '-' (kept as 'none').
    `labelled`: the columns named in `lang` and numbered from 1 (the evaluation notebook, which
    showed MLflow's keys, ISO times with microseconds and its search's row numbers); the command
    names them as `_headed` does."""
    import pandas as pd

    flags = {"True": say("cell_yes", lang), "False": say("cell_no", lang)}
    out = history.assign(
        decided_at=[_minute(v) for v in history["decided_at"]],
        champion=["-" if v in (None, "none") else v for v in history["champion"]],
        promoted=[flags.get(str(v), v) for v in history["promoted"]],
        forced=[flags.get(str(v), v) for v in history["forced"]],
    )
    if not labelled:
        return out
    out.index = pd.RangeIndex(1, len(out) + 1)
    return out.rename(columns={c: say(f"history_{c}", lang) for c in out.columns})
