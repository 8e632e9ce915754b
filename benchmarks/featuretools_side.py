"""The featuretools half of bench_featuretools.py; runs in featuretools' own environment.

    python featuretools_side.py WORKDIR   (WORKDIR holds accounts/tickets/usage/cutoffs.parquet)

Deep feature synthesis with cutoff times (one per account and as_of) and a 90-day training window:
counts and means over tickets and usage, no trends. Prints one JSON line: features, seconds.
Imports nothing of ours: it must run where only featuretools and pandas are installed.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import featuretools as ft
import pandas as pd


def main(work: Path) -> None:
    warnings.filterwarnings("ignore")
    accounts = pd.read_parquet(work / "accounts.parquet")
    tickets = pd.read_parquet(work / "tickets.parquet")
    usage = pd.read_parquet(work / "usage.parquet").reset_index(drop=True)
    cutoffs = pd.read_parquet(work / "cutoffs.parquet")
    # featuretools wants naive times; everything here is UTC
    for df, cols in ((accounts, ["contract_start"]), (tickets, ["created_at", "resolved_at"]),
                     (usage, ["date"]), (cutoffs, ["time"])):  # fmt: skip
        for c in cols:
            df[c] = pd.to_datetime(df[c], utc=True).dt.tz_localize(None)
    tickets["resolution_hours"] = (
        tickets["resolved_at"] - tickets["created_at"]
    ).dt.total_seconds() / 3600
    tickets = tickets.drop(columns=["resolved_at"])
    usage["usage_id"] = range(len(usage))

    es = ft.EntitySet("accounts")
    es = es.add_dataframe(dataframe_name="accounts", dataframe=accounts, index="account_id")
    es = es.add_dataframe(
        dataframe_name="tickets", dataframe=tickets, index="ticket_id", time_index="created_at",
        logical_types={"priority": "Categorical"},
    )  # fmt: skip
    es = es.add_dataframe(
        dataframe_name="usage", dataframe=usage, index="usage_id", time_index="date"
    )
    es = es.add_relationship("accounts", "account_id", "tickets", "account_id")
    es = es.add_relationship("accounts", "account_id", "usage", "account_id")
    es.add_interesting_values(
        dataframe_name="tickets", values={"priority": ["P1", "P2", "P3", "P4"]}
    )

    t, c = time.perf_counter(), time.process_time()
    matrix, defs = ft.dfs(
        entityset=es,
        target_dataframe_name="accounts",
        agg_primitives=["count", "mean"],
        trans_primitives=[],
        where_primitives=["count"],
        cutoff_time=cutoffs,
        training_window="90 days",
        max_depth=1,
        n_jobs=1,
        verbose=False,
    )
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    print(
        json.dumps(
            {
                "features": len(defs),
                "rows": len(matrix),
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 2),
                "version": ft.__version__,
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
