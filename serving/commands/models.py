"""`escrisk models`: registered versions, their aliases and metrics, and the champion history."""

from __future__ import annotations

import argparse
import os

from serving.cli import add_params_option


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
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from serving.params import load_params
    from training.registry import connect, promotion_history, tracking_uri, versions_table

    params = load_params(args.params)
    client = connect(tracking_uri(os.environ), create=False)
    name = params.promotion.model_name
    metric = params.promotion.primary_metric
    cols = [f"{t}.lightgbm.{metric}" for t in params.model.targets]
    table = versions_table(client, name, cols)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"Model {name} (primary metric on each run's test window: {metric})")
        if table.empty:
            print("  no versions (every one was deleted); `escrisk train SOURCE` registers one")
        else:
            print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="-"))
            if table[cols].isna().any().any():  # a version trained without a head's labels
                print("  -: no figure (the version has no head for that target)")
        hist = promotion_history(name)
        print("\nPromotion decisions (oldest first):")
        print("  none yet" if hist.empty else hist.to_string(index=False))
    return 0
