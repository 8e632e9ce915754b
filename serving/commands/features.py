"""`escrisk features SOURCE --out FILE.parquet`: the feature table, with labels where they are known."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import pandas as pd

from features.errors import UserError
from serving.cli import add_params_option, parse_day, utc_now


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
    parser.set_defaults(run=run)


def _check_out(out: Path) -> None:
    """Fail before the work: the output must be a .parquet or .csv file, not a folder."""
    if out.is_dir():
        raise UserError(f"--out {out}: is a folder; name a file, e.g. {out / 'features.parquet'}")
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise UserError(f"--out {out}: name a .parquet or .csv file")


def _write(frame: pd.DataFrame, out: Path) -> None:
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
        raise UserError(f"--out {out}: cannot write the features ({exc.strerror})") from None
    finally:
        with contextlib.suppress(OSError):  # a read-only folder refuses even this
            partial.unlink(missing_ok=True)


def as_of_dates(args: argparse.Namespace, grid: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The as_of dates the flags ask for: one date, the grid between two dates, or the whole grid."""
    if args.end and not args.start:
        raise UserError("--to needs --from")
    if args.as_of:
        return pd.DatetimeIndex([parse_day(args.as_of, "--as-of")])
    if args.start:
        lo = parse_day(args.start, "--from")
        hi = parse_day(args.end, "--to") if args.end else grid.max() if len(grid) else lo
        if hi < lo and args.end:
            raise UserError("--to is before --from")
        if hi < lo:  # no --to: the grid runs to the end of the data, which lies before --from
            raise UserError(
                f"--from {lo:%Y-%m-%d} is after the training grid's last as_of {hi:%Y-%m-%d} "
                "(the end of the data); give an earlier --from, or --as-of for one day"
            )
        return grid[(grid >= lo) & (grid <= hi)]
    return grid


def run(args: argparse.Namespace) -> int:
    from features.build import as_of_grid, build_features
    from features.pointintime import newest_event
    from features.scorecache import kept_scores
    from features.sources import load_history
    from serving.params import load_params
    from training.labels import add_labels, data_end

    _check_out(args.out)
    params = load_params(args.params)
    history = load_history(args.source, params.contract, utc_now())
    grid = as_of_grid(history, params.features)
    dates = as_of_dates(args, grid)
    if len(dates) == 0:
        raise UserError(
            "no as_of dates: the data is empty or the --from/--to range holds no grid date"
        )
    with kept_scores(params.features.sentiment.cache_dir):
        fs = build_features(history, dates, params.features)
    end = data_end(history)
    frame = add_labels(fs.frame, history, params.labels, end)
    out: Path = args.out
    _write(frame, out)
    known = {t: int(frame[t].notna().sum()) for t in ("escalation_30d", "churn_90d")}
    print(
        f"{len(frame)} rows ({frame['account_id'].nunique()} accounts x {len(dates)} as_of dates), "
        f"{len(fs.spec.features)} features -> {out}"
    )
    print(f"data ends {end}; labelled rows: " + ", ".join(f"{k} {v}" for k, v in known.items()))
    if fs.unavailable:
        print("unavailable feature families:", file=sys.stderr)
        for family, why in sorted(fs.unavailable.items()):
            print(f"  {family}: {why}", file=sys.stderr)
    else:
        print("all feature families available")
    for line in date_warnings(dates, newest_event(history), history.accounts, len(frame)):
        print(f"warning: {line}", file=sys.stderr)
    return 0


def date_warnings(
    dates: pd.DatetimeIndex, newest: pd.Timestamp | None, accounts: pd.DataFrame, rows: int
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
                f"as_of {late.max().date()} is {days:,} day{'s' if days != 1 else ''} after the data's last day "
                f"({last_day.date()}): windows after that day hold no tickets or usage, so "
                f"{'its' if len(late) == 1 else f'these {len(late)} dates’'} rows read as quiet "
                "accounts, not as known ones"
            )
    if rows == 0 and len(accounts):
        first = accounts["contract_start"].min()
        out.append(
            f"no account is active on the as_of dates asked for: the first contract starts "
            f"{first.date()}, and accounts that churned before an as_of have no row for it"
        )
    return out
