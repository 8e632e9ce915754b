"""How long `features.contract.check` takes on 10,000 accounts with about 1M tickets.

Two shapes of input: text in every column (as read from CSV) and typed columns (as read from
Parquet or a database). Run: `uv run --frozen python benchmarks/bench_contract.py [--tickets N]`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from features.contract import check
from serving.params import load_params

ROOT = Path(__file__).resolve().parents[1]


def world(n_accounts: int, n_tickets: int, seed: int) -> dict[str, pd.DataFrame]:
    """A synthetic, valid world (not realistic: only its shape and size matter here)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"A-{i}" for i in range(n_accounts)], dtype=object)
    start = pd.Timestamp("2022-01-01", tz="UTC")
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "name": [f"Account {i}" for i in range(n_accounts)],
            "tier": rng.choice(["enterprise", "business", "starter"], n_accounts),
            "arr": rng.gamma(2.0, 20000.0, n_accounts).round(2),
            "seats": rng.integers(1, 500, n_accounts),
            "contract_start": start,
            "renewal_date": start + pd.Timedelta(days=730),
            "csm_owner": rng.choice(["maria", "tom", "li"], n_accounts),
            "region": rng.choice(["EMEA", "NA", "APAC"], n_accounts),
            "language": rng.choice(["en", "de"], n_accounts),
        }
    )
    created = start + pd.to_timedelta(rng.integers(0, 700 * 86400, n_tickets), unit="s")
    first = created + pd.to_timedelta(rng.integers(60, 86400, n_tickets), unit="s")
    resolved = first + pd.to_timedelta(rng.integers(60, 5 * 86400, n_tickets), unit="s")
    open_ = rng.random(n_tickets) < 0.1
    tickets = pd.DataFrame(
        {
            "ticket_id": [f"T-{i}" for i in range(n_tickets)],
            "account_id": ids[rng.integers(0, n_accounts, n_tickets)],
            "created_at": created,
            "priority": rng.choice(["P1", "P2", "P3", "P4"], n_tickets),
            "channel": rng.choice(["email", "phone", "chat"], n_tickets),
            "subject": "Something is broken",
            "body": "It stopped working this morning and we need help.",
            "first_response_at": first,
            "resolved_at": pd.Series(resolved).where(~open_),
            "status": np.where(open_, "open", "solved"),
            "reopen_count": rng.integers(0, 3, n_tickets),
            "csat": pd.array(
                np.where(rng.random(n_tickets) < 0.3, rng.integers(1, 6, n_tickets), 0),
                dtype="Int64",
            ),
            "sla_first_response_hours": np.nan,
            "sla_resolution_hours": np.nan,
        }
    )
    tickets["csat"] = tickets["csat"].where(tickets["csat"] > 0)
    return {"accounts": accounts, "tickets": tickets}


def as_text(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every column as text, the way `features.sources` reads a CSV file."""
    out = {}
    for name, df in tables.items():
        text = {}
        for col in df.columns:
            s = df[col]
            if isinstance(s.dtype, pd.DatetimeTZDtype):
                text[col] = s.dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("").astype(object)
            else:
                text[col] = s.astype("string").fillna("").astype(object)
        out[name] = pd.DataFrame(text)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    contract = load_params(ROOT / "params.yaml").contract
    now = pd.Timestamp("2024-06-01", tz="UTC")
    typed = world(args.accounts, args.tickets, seed=1)
    text = as_text(typed)
    for label, raw in (("typed (Parquet/SQL)", typed), ("text (CSV)", text)):
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            _, violations = check(raw, contract, now)
            times.append(time.perf_counter() - t0)
            assert not violations, violations[:5]
        print(
            f"check {label:<20} {args.accounts:,} accounts, {args.tickets:,} tickets: median {statistics.median(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})"
        )


if __name__ == "__main__":
    main()
