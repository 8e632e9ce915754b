"""`escrisk train SOURCE`: features, labels, split, both heads and baselines, MLflow run and version."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from serving.cli import add_params_option, positive_int, team_language, utc_now
from serving.ladder_cli import add_language_option
from serving.model_cli_text import say


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        help="train the risk heads and the baselines, evaluate, log to MLflow, register a challenger",
        description=(
            "Build features and labels from SOURCE (a folder or a database URL), split by time, train "
            "the escalation and churn heads with calibration and the two baselines (a head whose "
            "events table is absent, e.g. churn, is left out and said so), evaluate them on the "
            "test window, log everything to MLflow (sqlite:///mlflow.db unless MLFLOW_TRACKING_URI is "
            "set) and register a new version of the model with the alias 'challenger'."
        ),
    )
    parser.add_argument("source", metavar="SOURCE", help="folder of table files or a database URL")
    add_params_option(parser)
    parser.add_argument(
        "--experiment",
        default="escalation-risk",
        help="MLflow experiment name (default: escalation-risk)",
    )
    parser.add_argument(
        "--backtest",
        type=positive_int,
        default=1,
        metavar="K",
        help="rolling-origin backtest over K test windows (default: 1, none)",
    )
    add_language_option(parser)
    parser.set_defaults(run=run)


def git_commit(code: Path = Path(__file__).parent) -> str:
    """The commit of the code that trains, asked where the code lives: the working directory is
    wherever the user stands (no repository: 'unknown'; another one: that project's commit)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=code
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], capture_output=True, text=True, check=True, cwd=code
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty.strip() else "")


def run(args: argparse.Namespace) -> int:
    from features.scorecache import kept_scores
    from features.sources import describe, is_url, load_history
    from serving.params import load_params
    from training.job import log_outcome, train
    from training.pipeline import fingerprint, read_oracle, unavailable_labels
    from training.registry import connect, loggable_experiment, tracking_uri
    from training.text import Joined, shown

    params = load_params(args.params)
    lang = team_language(args, params)
    # the tracking store first: one that cannot be used is told before minutes of training
    uri = tracking_uri(os.environ)
    loggable_experiment(connect(uri), args.experiment, params.promotion.model_name)
    now = utc_now()
    history = load_history(args.source, params.contract, now)
    oracle = None if is_url(args.source) else read_oracle(args.source, params.model.targets)
    with kept_scores(params.features.sentiment.cache_dir):
        outcome = train(
            history, params, oracle=oracle, backtest=args.backtest, params_file=str(args.params),
            language=lang,
        )  # fmt: skip
    for note in outcome.notes:  # MLflow keeps them in English (notes.txt, the warnings tag)
        print(shown(note, lang))
    for w in outcome.experiment.warnings:
        print(f"!!! {shown(w, lang)}", file=sys.stderr)
    print(_summary(outcome, lang))
    if outcome.backtest is not None:
        print("\n" + say("backtest", lang))
        print(outcome.backtest.to_string(index=False, float_format=decimals(".4f", lang)))

    trained = list(outcome.experiment.targets)
    lacking = [t for t in params.model.targets if t not in trained]
    logged = log_outcome(
        outcome,
        experiment=args.experiment,
        params_dict=params.model_dump(mode="json"),
        tags={
            "git_commit": git_commit(),
            "data_fingerprint": fingerprint(history),
            "source": source_tag(args.source),
            "oracle": "yes" if oracle is not None else "no",
        },
        model_name=params.promotion.model_name,
        seed=params.model.seed,
        challenger=not lacking,
    )
    where = "\n" + say(
        "registered", lang, run=logged.run_id, uri=describe(uri),
        model=params.promotion.model_name, version=str(logged.version),
    )  # fmt: skip
    if lacking:
        absent = Joined((w for t, w in unavailable_labels(history).items() if t in lacking), "; ")
        told = shown(absent, lang)
        print(say("lacking_heads", lang, where=where, lacking=", ".join(lacking), absent=told))
        return 1  # a script running train, promote and daily stops here, where the cause is
    if logged.challenger != logged.version:  # another training on this store registered later
        print(say("newer_challenger", lang, where=where, newer=str(logged.challenger)))
        return 1  # `train && promote` would otherwise promote a model this run did not train
    # promote must read the same settings (the model's name, the labels, the gate)
    print(
        say("as_challenger", lang, where=where, source=promote_arguments(args.source, args.params))
    )
    return 0


def source_tag(source: str) -> str:
    """The run's `source` tag: a folder as its absolute path (as typed, 'data' or '../data' named
    no folder in the MLflow UI, nor in the notebook, which runs in notebooks/), a database URL
    without its password."""
    from features.sources import describe, is_url

    return describe(source) if is_url(source) else str(Path(source).resolve())


def promote_arguments(source: str, params: Path) -> str:
    """What `escrisk promote` is to be given after this run: its source, a database URL's
    password masked (the hint lands in terminals' scrollback and cron's mails; the run's tag
    already hides it), and the params file when not the default one (promote must read the same
    settings: the model's name, the labels, the gate)."""
    from features.sources import is_url, without_password

    own = [] if params == Path("params.yaml") else ["--params", str(params)]
    return shlex.join([without_password(source) if is_url(source) else source, *own])


def decimals(spec: str, lang: str):
    """A table's float format as `lang` writes numbers (0,4123 in German)."""
    from serving.daily_text import figure

    return lambda v: figure(v, spec, lang, missing="nan")


def _summary(outcome, lang: str = "en") -> str:
    from serving.daily_text import figure
    from training.text import shown
    from training.text import t as tell

    def ci(e) -> str:  # a metric and its bootstrap interval: 0,6989 [0,6106; 0,7480]
        return tell("with_ci", lang, value=e.value, low=e.low, high=e.high)

    lines = ["", say("test_window", lang)]
    for t, o in outcome.experiment.targets.items():
        trees = str(o.head.booster.current_iteration())
        lines.append("  " + say("head", lang, target=t, kind=o.head.calibrator.kind, trees=trees))
        note = o.evaluations["lightgbm"].capacity_note if "lightgbm" in o.evaluations else None
        for model, ev in o.evaluations.items():
            m = ev.metrics
            lines.append(
                f"    {model:<13} ROC-AUC {ci(m['roc_auc'])}  PR-AUC {ci(m['pr_auc'])}  "
                f"ECE {figure(m['ece'].value, '.4f', lang, 'nan')}  "
                f"P@k {figure(m['precision_at_k'].value, '.3f', lang, 'nan')}{'*' if note else ''}"
            )
        if note:
            lines.append(f"    * {shown(note, lang)}")
    return "\n".join(lines)
