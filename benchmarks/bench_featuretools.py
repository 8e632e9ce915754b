"""Our feature build against featuretools' deep feature synthesis on the same data and cutoffs.

    uv run --frozen python benchmarks/bench_featuretools.py [--accounts 10000] [--weeks 104]

The world is simulated once (24 months, seed 11, cached under --cache, shared with
bench_features.py). The cutoff table (account, as_of) is exactly the rows our `build_features`
returns for the last `--weeks` weekly as_of dates. featuretools runs in its own throwaway
environment (`uv run --isolated --with featuretools ...`: its pins clash with ours) on the same
Parquet files and cutoffs, with a 90-day training window and a few count and mean aggregations
(see `featuretools_side.py`); our side builds the full feature set. Both are timed in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

FEATURETOOLS = ["featuretools==1.31.0", "pandas<3", "pyarrow", "setuptools<81"]


def uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        raise SystemExit("uv not found: run `make env` first")
    return found


def main() -> int:
    from bench_features import scaled, world

    from features.build import as_of_grid, build_features
    from features.scorers import CachedScorer, LexiconScorer
    from features.sentiment import ticket_scores

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=10_000)
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/escrisk-bench"))
    ap.add_argument("--quick", action="store_true", help="500 accounts x 26 weeks")
    args = ap.parse_args()
    if args.quick:
        args.accounts, args.weeks = 500, 26
    args.cache.mkdir(parents=True, exist_ok=True)
    params, base = world(args.cache)
    history = scaled(base, args.accounts)
    grid = as_of_grid(history, params.features)[-args.weeks :]

    scorer = CachedScorer(LexiconScorer())
    ticket_scores(history, scorer)  # sentiment is cached per ticket in the product too
    t, c = time.perf_counter(), time.process_time()
    fs = build_features(history, grid, params.features, scorer)
    ours, ours_cpu = time.perf_counter() - t, time.process_time() - c

    work = args.cache / f"featuretools_{args.accounts}_{args.weeks}"
    work.mkdir(parents=True, exist_ok=True)
    history.accounts[["account_id", "contract_start"]].to_parquet(work / "accounts.parquet")
    history.tickets[["ticket_id", "account_id", "created_at", "resolved_at", "reopen_count", "csat", "priority"]].to_parquet(work / "tickets.parquet")  # fmt: skip
    assert history.usage is not None
    history.usage[["account_id", "date", "active_users", "events"]].to_parquet(
        work / "usage.parquet"
    )
    cutoffs = fs.frame[["account_id", "as_of"]].rename(columns={"as_of": "time"})
    cutoffs.to_parquet(work / "cutoffs.parquet")

    cmd = [uv(), "run", "--isolated", "--no-project", "--python", "3.11"]
    for req in FEATURETOOLS:
        cmd += ["--with", req]
    cmd += ["python", str(ROOT / "benchmarks" / "featuretools_side.py"), str(work)]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return 1
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    out = {
        "accounts": args.accounts,
        "weeks": len(grid),
        "rows": len(fs.frame),
        "ours_features": len(fs.spec.features),
        "ours_s": round(ours, 2),
        "ours_cpu_s": round(ours_cpu, 2),
        "featuretools_features": theirs["features"],
        "featuretools_s": theirs["seconds"],
        "featuretools_cpu_s": theirs["cpu_seconds"],
        "featuretools_version": theirs["version"],
        "ratio_wall": round(theirs["seconds"] / ours, 1),
        "load_avg": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(out))
    print(
        f"\nfeaturetools {out['featuretools_version']}: {out['featuretools_features']} features in "
        f"{out['featuretools_s']} s; ours: {out['ours_features']} features in {out['ours_s']} s "
        f"({out['rows']:,} rows) -> {out['ratio_wall']}x faster"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
