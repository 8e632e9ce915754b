"""`escrisk simulate`: write a seeded, realistic world of account histories and its ground truth."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from features.contract import TABLES
from features.errors import UserError
from serving.cli import add_params_option, parse_day, team_language
from serving.ladder_cli import add_language_option
from serving.model_cli_text import say

FORMATS = ("parquet", "csv")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "simulate",
        help="write a simulated world (five tables plus truth/) for demos and tests",
        description=(
            "Simulate N accounts over M months ending at simulation.end_date in params.yaml and write "
            "one file per table into DIR, plus DIR/truth/ (latent health, true risks, ticket tone) "
            "that no other command reads. The same seed gives byte-identical files."
        ),
    )
    parser.add_argument(
        "--accounts", type=int, required=True, metavar="N", help="number of accounts"
    )
    parser.add_argument("--months", type=int, required=True, metavar="M", help="months of history")
    parser.add_argument("--seed", type=int, required=True, metavar="S", help="random seed")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--format", choices=FORMATS, default="parquet", help="file format (default: parquet)"
    )
    parser.add_argument(
        "--end-date",
        metavar="DATE",
        help=(
            "the world ends at this date's midnight UTC (exclusive), YYYY-MM-DD or 'today' (its "
            "last day is yesterday: a live demo); default simulation.end_date in params.yaml, "
            "which never reads the clock"
        ),
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into DIR even if it holds tables that no simulation wrote (they are replaced)",
    )
    add_params_option(parser)
    add_language_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from serving.params import load_params

    params = load_params(args.params)
    lang = team_language(args, params)
    if args.end_date is not None:
        sim = params.simulation.model_copy(update={"end_date": end_date(args.end_date, lang)})
        params = params.model_copy(update={"simulation": sim})
    _refuse_real_data(args.out, args.force, lang)
    end_from = "simulation.end_date" if args.end_date is None else "--end-date"
    world = simulate_to(
        args.out, args.accounts, args.months, args.seed, params, args.format, lang, end_from
    )
    print(summary(world.tables, params.simulation.end_date, args.months, lang))
    print(say("sim_wrote", lang, out=args.out, fmt=args.format, truth=args.out / "truth"))
    return 0


def end_date(value: str, lang: str = "en") -> dt.date:
    """`--end-date`: a date, or 'today' (UTC) for a world that ends now, as the demo's does, so
    that its list is today's and its due times lie ahead rather than months past."""
    if value.strip().lower() == "today":
        return dt.datetime.now(dt.UTC).date()
    try:  # a day as every command takes one (serving.cli.parse_day), told with 'today' beside
        return parse_day(value, "--end-date", lang).date()
    except UserError:
        raise UserError(say("sim_bad_end", lang, value=value)) from None


def _refuse_real_data(out: Path, force: bool, lang: str = "en") -> None:
    """A folder holding tables but no truth/ was not written by a simulation: maybe a user's
    own export. Writing the world there would replace them; only with --force."""
    if force or not out.is_dir() or (out / "truth").is_dir():
        return
    tables = sorted(p.name for p in out.iterdir() if p.stem in TABLES and p.is_file())
    if tables:
        raise UserError(say("sim_real_data", lang, out=out, tables=", ".join(tables)))


def simulate_to(
    out: Path,
    accounts: int,
    months: int,
    seed: int,
    params,
    fmt: str = "parquet",
    lang: str = "en",
    end_from: str = "simulation.end_date",
):
    """Simulate and write the world; the function tests call to check byte-identical output."""
    from features.sources import write_tables
    from training.simulate import simulate

    world = simulate(accounts, months, seed, params.simulation, params.contract, end_from)
    write_tables(world.tables, out, fmt)
    write_truth(world.truth, Path(out) / "truth", fmt, lang)
    return world


def write_truth(
    tables: Mapping[str, pd.DataFrame], folder: Path, fmt: str, lang: str = "en"
) -> list[Path]:
    """The truth tables are not contract tables, so `features.sources.write_tables` refuses them."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(say("sim_no_folder", lang, folder=folder, why=exc.strerror)) from None
    written = []
    for name, df in tables.items():
        target = folder / f"{name}.{fmt}"
        try:
            if fmt == "csv":
                df.to_csv(target, index=False, encoding="utf-8")
            else:
                df.to_parquet(target, index=False)
        except OSError as exc:
            raise UserError(say("sim_no_write", lang, target=target, why=exc.strerror)) from None
        for other in FORMATS:
            stale = folder / f"{name}.{other}"
            if other != fmt and stale.exists():
                stale.unlink()
        written.append(target)
    return written


def summary(tables: Mapping[str, pd.DataFrame], end_date, months: int, lang: str = "en") -> str:
    """Accounts, tickets, escalations, churned accounts and the average monthly rates."""
    accounts, escalations, churn = tables["accounts"], tables["escalations"], tables["churn"]
    end = pd.Timestamp(end_date, tz="UTC")
    starts = pd.date_range(end - pd.DateOffset(months=months), end, freq="MS", tz="UTC")
    churned_at = accounts["account_id"].map(churn.set_index("account_id")["churned_at"])
    churn_rates, esc_rates = [], []
    for lo, hi in zip(starts[:-1], starts[1:], strict=True):
        active = (accounts["contract_start"] <= lo) & ~(churned_at <= lo)
        n = int(active.sum())
        if n == 0:
            continue
        churn_rates.append(float(((churned_at >= lo) & (churned_at < hi)).sum()) / n)
        opened = escalations["opened_at"]
        esc_rates.append(
            escalations.loc[(opened >= lo) & (opened < hi), "account_id"].nunique() / n
        )

    def mean(xs: list[float]) -> str:
        """The average monthly rate; none when no whole month lies in the history."""
        return say("sim_rate", lang, rate=sum(xs) / len(xs)) if xs else say("sim_no_month", lang)

    return "\n".join(
        [
            say("sim_accounts", lang, n=len(accounts)),
            say("sim_tickets", lang, n=len(tables["tickets"])),
            say("sim_escalations", lang, n=len(escalations)),
            say("sim_churned", lang, n=len(churn)),
            say("sim_churn_rate", lang, rate=mean(churn_rates)),
            say("sim_escalating", lang, rate=mean(esc_rates)),
        ]
    )
