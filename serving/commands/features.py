"""`escrisk features SOURCE --out FILE.parquet`: the feature table, with labels where they are known."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import pandas as pd

from features.errors import UserError
from serving.cli import add_params_option, parse_day, team_language, utc_now
from serving.ladder_cli import add_language_option
from serving.model_cli_text import say


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "features",
        help="build point-in-time features (and labels) for every active account",
        description=(
            "Read and validate SOURCE (a folder of tables or a database URL), build one row per "
            "active account and as_of date from data known before that date, add the labels "
            "escalation_30d and churn_90d where their horizon lies inside the data, and write "
            "Parquet. Without --as-of/--from the weekly training grid of params.yaml is used. "
            "Every feature is described in docs/features.md."
        ),
    )
    parser.add_argument("source", metavar="SOURCE", help="folder of tables or database URL")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE.parquet",
        help="output file (.parquet, or .csv)",
    )
    when = parser.add_mutually_exclusive_group()
    when.add_argument(
        "--as-of", metavar="DATE", help="one as_of date (UTC midnight), e.g. 2024-06-03"
    )
    when.add_argument("--from", dest="start", metavar="DATE", help="first as_of of the weekly grid")
    parser.add_argument(
        "--to", dest="end", metavar="DATE", help="last as_of of the weekly grid (with --from)"
    )
    add_params_option(parser)
    add_language_option(parser)
    parser.set_defaults(run=run)


def _check_out(out: Path, lang: str = "en") -> None:
    """Fail before the work: the output must be a .parquet or .csv file, not a folder."""
    if out.is_dir():
        raise UserError(say("feat_out_folder", lang, out=out, example=out / "features.parquet"))
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise UserError(say("feat_out_kind", lang, out=out))


def _write(frame: pd.DataFrame, out: Path, lang: str = "en") -> None:
    """The table under a temporary name, renamed once whole: a full disk (or a Ctrl-C) was an
    "internal error" and could leave a cut file, or cut an earlier run's, under the name."""
    partial = out.with_name(f".{out.name}.partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".csv":
            frame.to_csv(partial, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
        else:
            frame.to_parquet(partial, index=False)
        partial.replace(out)
    except OSError as exc:
        raise UserError(say("feat_no_write", lang, out=out, why=exc.strerror)) from None
    finally:
        with contextlib.suppress(OSError):  # a read-only folder refuses even this
            partial.unlink(missing_ok=True)


def as_of_dates(
    args: argparse.Namespace, grid: pd.DatetimeIndex, lang: str = "en"
) -> pd.DatetimeIndex:
    """The as_of dates the flags ask for: one date, the grid between two dates, or the whole grid."""
    if args.end and not args.start:
        raise UserError(say("feat_to_needs_from", lang))
    if args.as_of:
        return pd.DatetimeIndex([parse_day(args.as_of, "--as-of", lang)])
    if args.start:
        lo = parse_day(args.start, "--from", lang)
        hi = parse_day(args.end, "--to", lang) if args.end else grid.max() if len(grid) else lo
        if hi < lo and args.end:
            raise UserError(say("feat_to_before_from", lang))
        if hi < lo:  # no --to: the grid runs to the end of the data, which lies before --from
            raise UserError(
                say("feat_from_late", lang, start=f"{lo:%Y-%m-%d}", last=f"{hi:%Y-%m-%d}")
            )
        return grid[(grid >= lo) & (grid <= hi)]
    return grid


def run(args: argparse.Namespace) -> int:
    from features.build import as_of_grid, build_features
    from features.pointintime import newest_event
    from features.scorecache import kept_scores
    from features.sources import load_history
    from serving.daily_text import day_text, t
    from serving.params import load_params
    from training.labels import add_labels, data_end, label_ends

    params = load_params(args.params)
    lang = team_language(args, params)
    _check_out(args.out, lang)
    history = load_history(args.source, params.contract, utc_now())
    grid = as_of_grid(history, params.features)
    dates = as_of_dates(args, grid, lang)
    if len(dates) == 0:
        raise UserError(say("feat_no_dates", lang))
    with kept_scores(params.features.sentiment.cache_dir):
        fs = build_features(history, dates, params.features)
    end = data_end(history)
    ends = label_ends(history, params.labels)
    frame = add_labels(fs.frame, history, params.labels, ends)
    out: Path = args.out
    _write(frame, out, lang)
    print(
        say(
            "feat_rows", lang, rows=len(frame), accounts=frame["account_id"].nunique(),
            dates=len(dates), features=len(fs.spec.features), out=out,
        )
    )  # fmt: skip

    def instant(t: pd.Timestamp) -> str:  # a usage day counts until its end: usually a midnight
        return f"{day_text(t.date(), lang)} {t:%H:%M} UTC"

    counts = ", ".join(
        say(
            "feat_label_end" if e.end is not None else
            "feat_label_no_end" if e.present else "feat_label_no_table",
            lang, target=k, n=int(frame[k].notna().sum()), table=e.table,
            end="" if e.end is None else instant(e.end),
        )
        for k, e in ends.items()
    )  # fmt: skip
    ended = "-" if end is None else instant(end)
    print(say("feat_labelled", lang, end=ended, counts=counts))
    if fs.unavailable:
        print(say("feat_unavailable", lang), file=sys.stderr)
        for family, why in sorted(fs.unavailable.items()):
            told = t(f"why_{why.key}", lang, table=why.table, column=why.column)
            print(f"  {family}: {told}", file=sys.stderr)
    else:
        print(say("feat_all_available", lang))
    for line in date_warnings(dates, newest_event(history), history.accounts, len(frame), lang):
        print(say("feat_warning", lang, line=line), file=sys.stderr)
    return 0


def date_warnings(
    dates: pd.DatetimeIndex,
    newest: pd.Timestamp | None,
    accounts: pd.DataFrame,
    rows: int,
    lang: str = "en",
) -> list[str]:
    """What makes rows misleading or absent: an as_of days after the newest event reads every
    window as quiet (no tickets, no usage) although nothing is known; no rows at all is said
    with the contracts' span, so that an as_of before the portfolio is not taken for a bug."""
    out = []
    if newest is not None:
        last_day = newest.normalize()
        late = dates[dates > last_day + pd.Timedelta(days=1)]
        if len(late):
            days = (late.max() - last_day).days - 1
            out.append(
                say(
                    "feat_late" if len(late) == 1 else "feat_late_many", lang,
                    day=late.max().date(), days=days, last=last_day.date(), n=len(late),
                )
            )  # fmt: skip
    if rows == 0 and len(accounts):
        first = accounts["contract_start"].min()
        out.append(say("feat_none_active", lang, first=first.date()))
    return out
