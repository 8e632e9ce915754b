"""`escrisk simulate`: write a seeded, realistic world of account histories and its ground truth."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from features.contract import TABLES
from features.errors import UserError
from serving.cli import add_params_option

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
        "--force",
        action="store_true",
        help="write into DIR even if it holds tables that no simulation wrote (they are replaced)",
    )
    add_params_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from serving.params import load_params

    params = load_params(args.params)
    _refuse_real_data(args.out, args.force)
    world = simulate_to(args.out, args.accounts, args.months, args.seed, params, args.format)
    print(summary(world.tables, params.simulation.end_date, args.months))
    print(f"wrote {args.out} ({args.format}) and {args.out / 'truth'}")
    return 0


def _refuse_real_data(out: Path, force: bool) -> None:
    """A folder holding tables but no truth/ was not written by a simulation: maybe a user's
    own export. Writing the world there would replace them; only with --force."""
    if force or not out.is_dir() or (out / "truth").is_dir():
        return
    tables = sorted(p.name for p in out.iterdir() if p.stem in TABLES and p.is_file())
    if tables:
        raise UserError(
            f"{out} holds {', '.join(tables)}, which no simulation wrote (there is no truth/); "
            "simulating there would replace them. Choose another --out folder, or pass --force."
        )


def simulate_to(out: Path, accounts: int, months: int, seed: int, params, fmt: str = "parquet"):
    """Simulate and write the world; the function tests call to check byte-identical output."""
    from features.sources import write_tables
    from training.simulate import simulate

    world = simulate(accounts, months, seed, params.simulation, params.contract)
    write_tables(world.tables, out, fmt)
    write_truth(world.truth, Path(out) / "truth", fmt)
    return world


def write_truth(tables: Mapping[str, pd.DataFrame], folder: Path, fmt: str) -> list[Path]:
    """The truth tables are not contract tables, so `features.sources.write_tables` refuses them."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{folder}: cannot create the output folder ({exc.strerror})") from None
    written = []
    for name, df in tables.items():
        target = folder / f"{name}.{fmt}"
        try:
            if fmt == "csv":
                df.to_csv(target, index=False, encoding="utf-8")
            else:
                df.to_parquet(target, index=False)
        except OSError as exc:
            raise UserError(f"{target}: cannot write the table ({exc.strerror})") from None
        for other in FORMATS:
            stale = folder / f"{name}.{other}"
            if other != fmt and stale.exists():
                stale.unlink()
        written.append(target)
    return written


def summary(tables: Mapping[str, pd.DataFrame], end_date, months: int) -> str:
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
        return f"{sum(xs) / len(xs):.2%}" if xs else "n/a (no whole month of history)"

    return "\n".join(
        [
            f"accounts: {len(accounts)}",
            f"tickets: {len(tables['tickets'])}",
            f"escalations: {len(escalations)}",
            f"churned accounts: {len(churn)}",
            f"monthly logo churn: {mean(churn_rates)}",
            f"accounts escalating per month: {mean(esc_rates)}",
        ]
    )
