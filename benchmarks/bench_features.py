"""Feature build speed and memory: N accounts x 104 weekly snapshots, and the one-account API path.

    uv run --frozen python benchmarks/bench_features.py [--sizes 1000 10000 50000] [--api-runs 200]

The world is simulated once (10,000 accounts over 24 months, cached under --cache); 1k is its first
1,000 accounts and 50k is five renamed copies of it. Each size runs in its own process so its peak
resident memory is its own. Ticket sentiment is scored, and the notice phrases matched, once per
ticket text before the timed build, into the file the product keeps between runs
(features.scorecache); that cold work is timed separately. The timed build is the first of its
process and knows the texts only from that file, as a new `escrisk features` does; a second build
in the same process (everything in memory) is timed too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASE_ACCOUNTS, MONTHS, SEED, WEEKS = 10_000, 24, 11, 104


def world(cache: Path):
    from features.sources import load_history
    from serving.params import load_params

    params = load_params(ROOT / "params.yaml")
    folder = cache / f"world_{BASE_ACCOUNTS}_{MONTHS}_{SEED}"
    if not (folder / "tickets.parquet").exists():
        from features.sources import write_tables
        from training.simulate import simulate

        t = time.perf_counter()
        w = simulate(BASE_ACCOUNTS, MONTHS, SEED, params.simulation, params.contract)
        write_tables(w.tables, folder)
        print(
            f"simulated {BASE_ACCOUNTS} accounts x {MONTHS} months in {time.perf_counter() - t:.0f} s",
            file=sys.stderr,
        )
    now = pd.Timestamp(params.simulation.end_date, tz="UTC") + pd.Timedelta(days=1)
    return params, load_history(str(folder), params.contract, now)


def scaled(history, n: int):
    """The first n accounts, or whole renamed copies of the world up to n accounts."""
    ids = history.accounts["account_id"].sort_values().tolist()
    if n <= len(ids):
        return history.for_accounts(ids[:n])
    copies = []
    for k in range(-(-n // len(ids))):
        tables = {}
        for name in ("accounts", "tickets", "usage", "escalations", "churn"):
            df = history.table(name)
            if df is None:
                continue
            df = df.assign(account_id=df["account_id"] + f"~{k}")
            for key in ("ticket_id", "escalation_id"):
                if key in df.columns:
                    df[key] = df[key].where(df[key].isna(), df[key] + f"~{k}")
            tables[name] = df
        copies.append(tables)
    merged = {name: pd.concat([c[name] for c in copies], ignore_index=True) for name in copies[0]}
    return replace(history, **merged)


def kept_texts(history, params, directory: Path) -> tuple[Path, float, float]:
    """A fresh kept-text file (features.scorecache) for this history: every ticket scored and
    matched against the notice phrases once, as the first run over a history leaves it. Returns
    the directory and the cold scoring and matching times (s)."""
    import shutil

    from features.notice import notice_flags
    from features.scorecache import kept_scores
    from features.scorers import CachedScorer, LexiconScorer
    from features.sentiment import ticket_scores

    shutil.rmtree(directory, ignore_errors=True)
    scorer = CachedScorer(LexiconScorer())
    with kept_scores(directory, scorer):
        t = time.perf_counter()
        ticket_scores(history, scorer)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        notice_flags(history, params.features.notice.phrases, scorer)
        notice_cold = time.perf_counter() - t
    return directory, cold, notice_cold


def _cpu_since(before: resource.struct_rusage) -> tuple[float, float]:
    """User and system CPU seconds since `before`."""
    now = resource.getrusage(resource.RUSAGE_SELF)
    return now.ru_utime - before.ru_utime, now.ru_stime - before.ru_stime


def run_size(n: int, cache: Path, api_runs: int) -> dict:
    from features.build import as_of_grid, build_features
    from features.scorecache import kept_scores
    from features.scorers import CachedScorer, LexiconScorer

    params, base = world(cache)
    history = scaled(base, n)
    grid = as_of_grid(history, params.features)[-WEEKS:]
    texts, cold, notice_cold = kept_texts(history, params, cache / f"texts_{n}")
    # timed as `escrisk features` runs it in a new process: the texts known only from the file
    scorer = CachedScorer(LexiconScorer())
    t, r = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    with kept_scores(texts, scorer):
        fs = build_features(history, grid, params.features, scorer)
    frame = fs.frame  # the batch's consumers (training, the daily job) read the assembled frame
    build, (user, system) = time.perf_counter() - t, _cpu_since(r)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # the first build's peak
    out = {
        "accounts": n,
        "snapshots": len(grid),
        "rows": len(frame),
        "features": len(fs.spec.features),
        "tickets": len(history.tickets),
        "usage_rows": 0 if history.usage is None else len(history.usage),
        "sentiment_cold_s": round(cold, 2),
        "notice_cold_s": round(notice_cold, 2),
        "build_s": round(build, 2),
        "build_cpu_s": round(user + system, 2),  # CPU time: the build's cost on a busy machine
        "build_user_s": round(user, 2),
        "build_system_s": round(system, 2),  # the kernel: mostly fresh memory's page faults
        "load_avg": round(os.getloadavg()[0], 1),
        "peak_rss_gib": round(peak, 2),
    }
    as_of = grid[-1:]
    # the middle one of the accounts active on the last as_of (a churned one builds no row)
    active = sorted(frame.loc[frame["as_of"] == as_of[0], "account_id"])
    spec = fs.spec
    del fs, frame
    t, r = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    build_features(history, grid, params.features, scorer).frame  # noqa: B018  # all in memory
    out["warm_s"] = round(time.perf_counter() - t, 2)
    out["warm_user_s"], out["warm_system_s"] = (round(x, 2) for x in _cpu_since(r))
    if api_runs:
        aid = active[len(active) // 2]
        one = history.for_accounts([aid])
        times, cpu = [], []
        for _ in range(api_runs):
            t, c = time.perf_counter(), time.process_time()
            build_features(one, as_of, params.features, scorer, spec=spec)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        out["api_rows"] = len(build_features(one, as_of, params.features, scorer, spec=spec).frame)
        out["api_tickets"] = len(one.tickets)
        out["api_usage_days"] = 0 if one.usage is None else len(one.usage)
        out["api_median_ms"] = round(statistics.median(times) * 1000, 2)
        out["api_cpu_median_ms"] = round(statistics.median(cpu) * 1000, 2)
        out["api_p95_ms"] = round(sorted(times)[int(0.95 * len(times))] * 1000, 2)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    ap.add_argument("--api-runs", type=int, default=200)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/escrisk-bench"))
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    from serving.cli import tune_memory

    tune_memory()  # as the escrisk command does (serving.cli.tune_memory)
    if args.one:
        print(json.dumps(run_size(args.one, args.cache, args.api_runs)))
        return 0
    args.cache.mkdir(parents=True, exist_ok=True)
    world(args.cache)  # simulate once, outside the timed runs
    results = []
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--one", str(n), "--cache", str(args.cache), "--api-runs",
               str(args.api_runs if n == 10_000 else 0)]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    print(
        "\n| accounts | rows | tickets | build wall (s) | user / system CPU (s) | again: wall, user / system (s) | sentiment, cold (s) | peak RSS (GiB) | load avg |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['accounts']:,} | {r['rows']:,} | {r['tickets']:,} | {r['build_s']} "
            f"| {r['build_user_s']} / {r['build_system_s']} "
            f"| {r['warm_s']}, {r['warm_user_s']} / {r['warm_system_s']} | {r['sentiment_cold_s']} | {r['peak_rss_gib']} | {r['load_avg']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
