"""Our feature build against featuretools' deep feature synthesis on the same data and cutoffs.

    uv run --frozen python benchmarks/bench_featuretools.py [--accounts 10000] [--weeks 104]
        [--configs subset families]

The world is simulated once (24 months, seed 11, cached under --cache, shared with
bench_features.py). The cutoff table (account, as_of) is exactly the rows our `build_features`
returns for the last `--weeks` weekly as_of dates. featuretools runs in its own throwaway
environment (`uv run --isolated --with featuretools ...`: its pins clash with ours) on Parquet
copies of the tables, in two configurations (see `featuretools_side.py`):

- subset: the issue's reading, a few count and mean features in one 90-day window;
- families: our families as far as DFS can express them, one call per window; its matrix is then
  compared with ours, feature by feature, so the counterparts counted are the ones that agree.

Our side always builds the full feature set. Both sides are timed in this run (wall and CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

FEATURETOOLS = ["featuretools==1.31.0", "pandas<3", "pyarrow", "setuptools<81"]
CONFIGS = ("subset", "families")
NAT = np.iinfo(np.int64).min


def uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        raise SystemExit("uv not found: run `make env` first")
    return found


def _ns(col: pd.Series) -> np.ndarray:
    """UTC times as int64 ns (NaT as NAT)."""
    return pd.DatetimeIndex(pd.to_datetime(col, utc=True)).as_unit("ns").asi8


def sla_event_times(tickets: pd.DataFrame, near_miss_share: float) -> dict[str, pd.Series]:
    """When each ticket's SLA breach or near-miss became known (NaT: none), per features/sla.py.

    DFS has no primitive for "deadline passed unmet", so it gets these per-ticket times ready-made.
    """
    created = _ns(tickets["created_at"])
    out = {}
    for kind, done_col in (("first_response", "first_response_at"), ("resolution", "resolved_at")):
        hours = tickets[f"sla_{kind}_hours"].to_numpy(dtype=np.float64, na_value=np.nan)
        known = (created != NAT) & np.isfinite(hours)
        target = np.where(known, np.rint(np.nan_to_num(hours) * 3.6e12), 0).astype(np.int64)
        deadline = np.where(known, created + target, NAT)
        done = _ns(tickets[done_col])
        has_done = done != NAT
        breached = known & (~has_done | (done > deadline))
        margin = np.rint(target * near_miss_share).astype(np.int64)
        near = known & has_done & (done <= deadline) & (done > deadline - margin)
        for event, keep, at in (("breach", breached, deadline), ("near_miss", near, done)):
            out[f"sla_{kind}_{event}_at"] = pd.Series(
                pd.to_datetime(np.where(keep, at, NAT), utc=True), index=tickets.index
            )
    return out


def write_tables(history, fs, params, scores: np.ndarray, work: Path) -> None:
    """The Parquet copies featuretools reads, with the per-ticket inputs DFS cannot derive."""
    from features.notice import gives_notice

    work.mkdir(parents=True, exist_ok=True)
    t = history.tickets
    cols = ["account_id", "contract_start", "arr", "seats", "tier"]
    history.accounts[cols].to_parquet(work / "accounts.parquet")
    found = gives_notice(
        t["subject"].to_numpy(dtype=object), t["body"].to_numpy(dtype=object), params.notice.phrases
    )
    tickets = t[
        [
            "ticket_id",
            "account_id",
            "created_at",
            "first_response_at",
            "resolved_at",
            "reopen_count",
            "csat",
            "priority",
        ]
    ].assign(  # fmt: skip
        sentiment=scores,
        negative=(scores < params.sentiment.negative_below).astype(float),
        notice=found,
        csat_low=(t["csat"].astype(float) <= params.csat.low_at_most).astype(float),
        **sla_event_times(t, params.sla.near_miss_share),
    )
    tickets.to_parquet(work / "tickets.parquet")
    assert history.usage is not None and history.escalations is not None
    history.usage[["account_id", "date", "active_users", "events"]].to_parquet(
        work / "usage.parquet"
    )
    history.escalations[["escalation_id", "account_id", "opened_at"]].to_parquet(
        work / "escalations.parquet"
    )
    cutoffs = fs.frame[["account_id", "as_of"]].rename(columns={"as_of": "time"})
    cutoffs.to_parquet(work / "cutoffs.parquet")


def run_side(work: Path, config: str) -> dict:
    cmd = [uv(), "run", "--isolated", "--no-project", "--python", "3.11"]
    for req in FEATURETOOLS:
        cmd += ["--with", req]
    cmd += ["python", str(ROOT / "benchmarks" / "featuretools_side.py"), str(work), config]
    from serving.cli import MEMORY_ENV

    # featuretools' process gets the memory settings ours runs with (serving.cli.tune_memory)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"} | MEMORY_ENV
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"featuretools ({config}) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> dict[str, float]:
    """Per DFS feature: the largest relative difference to ours over all rows (0: identical;
    NaN must sit where ours has NaN, else inf)."""
    theirs = theirs.rename(columns={"time": "as_of"})
    theirs["as_of"] = pd.to_datetime(theirs["as_of"]).dt.tz_localize("UTC")
    ours = ours.assign(as_of=ours["as_of"].dt.as_unit("ns"))
    theirs["as_of"] = theirs["as_of"].dt.as_unit("ns")
    both = ours.merge(theirs, on=["account_id", "as_of"], how="outer", suffixes=("", "_ft"),
                      indicator=True, validate="one_to_one")  # fmt: skip
    if (both["_merge"] != "both").any():
        raise SystemExit("featuretools and ours returned different (account, as_of) rows")
    out = {}
    for name in theirs.columns.drop(["account_id", "as_of"]):
        a, b = both[name], both[f"{name}_ft"]
        if not pd.api.types.is_numeric_dtype(a.dtype):
            out[name] = 0.0 if (a.astype(str) == b.astype(str)).all() else float("inf")
            continue
        a, b = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
        if (np.isnan(a) != np.isnan(b)).any():
            out[name] = float("inf")
            continue
        ok = ~np.isnan(a)
        diff = np.abs(a[ok] - b[ok]) / np.maximum(np.abs(a[ok]), 1.0)
        out[name] = float(diff.max()) if diff.size else 0.0
    return out


def main() -> int:
    from bench_features import kept_texts, scaled, world

    from features.build import as_of_grid, build_features
    from features.scorecache import kept_scores
    from features.scorers import CachedScorer, LexiconScorer
    from features.sentiment import ticket_scores

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=10_000)
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--configs", nargs="+", choices=CONFIGS, default=list(CONFIGS))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/escrisk-bench"))
    ap.add_argument("--quick", action="store_true", help="500 accounts x 26 weeks")
    args = ap.parse_args()
    from serving.cli import tune_memory

    tune_memory()  # as the escrisk command does (serving.cli.tune_memory)
    if args.quick:
        args.accounts, args.weeks = 500, 26
    args.cache.mkdir(parents=True, exist_ok=True)
    params, base = world(args.cache)
    history = scaled(base, args.accounts)
    grid = as_of_grid(history, params.features)[-args.weeks :]

    # each ticket's text is scored and matched once, kept between runs in the product too
    texts, _, _ = kept_texts(history, params, args.cache / f"texts_{args.accounts}")
    scorer = CachedScorer(LexiconScorer())  # as in a new process: the texts known from the file
    t, c, r = time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_SELF)
    with kept_scores(texts, scorer):
        fs = build_features(history, grid, params.features, scorer)
    frame = fs.frame  # assembled, as the batch's consumers read it
    ours, ours_cpu = time.perf_counter() - t, time.process_time() - c
    after = resource.getrusage(resource.RUSAGE_SELF)
    ours_user, ours_system = after.ru_utime - r.ru_utime, after.ru_stime - r.ru_stime
    load_start = os.getloadavg()[0]

    work = args.cache / f"featuretools_{args.accounts}_{args.weeks}"
    write_tables(history, fs, params.features, ticket_scores(history, scorer), work)
    out: dict = {
        "accounts": args.accounts,
        "weeks": len(grid),
        "rows": len(frame),
        "ours_features": len(fs.spec.features),
        "ours_s": round(ours, 2),
        "ours_cpu_s": round(ours_cpu, 2),
        "ours_user_s": round(ours_user, 2),
        "ours_system_s": round(ours_system, 2),
    }
    for config in args.configs:
        side = run_side(work, config)
        out[config] = {
            **side,
            "ratio_wall": round(side["seconds"] / ours, 1),
            "ratio_cpu": round(side["cpu_seconds"] / ours_cpu, 1),
            # without the kernel's time, which on a VM moves with how fresh its memory is
            "ratio_user": round(side["user_seconds"] / ours_user, 1),
        }
        if config == "families":
            diffs = compare(fs.frame, pd.read_parquet(work / "featuretools_families.parquet"))
            agree = sorted(n for n, d in diffs.items() if d <= 1e-9)
            out[config]["agree_with_ours"] = len(agree)
            out[config]["disagree"] = {n: d for n, d in diffs.items() if n not in agree}
            out[config]["not_expressed"] = [n for n in fs.spec.names if n not in diffs]
    out["load_avg"] = [round(load_start, 1), round(os.getloadavg()[0], 1)]
    print(json.dumps(out))
    print(f"\n{out['accounts']:,} accounts x {out['weeks']} weeks = {out['rows']:,} cutoffs; "
          f"load average {out['load_avg'][0]} at the start, {out['load_avg'][1]} at the end")  # fmt: skip
    print(
        "| | features | wall (s) | CPU (s) | user / system CPU (s) | ours faster (wall / CPU / user) |\n"
        "|---|---:|---:|---:|---:|---:|"
    )
    for config in args.configs:
        r = out[config]
        print(f"| featuretools {r['version']}, {config} | {r['features']} | {r['seconds']} "
              f"| {r['cpu_seconds']} | {r['user_seconds']} / {r['system_seconds']} "
              f"| {r['ratio_wall']}x / {r['ratio_cpu']}x / {r['ratio_user']}x |")  # fmt: skip
    print(f"| ours (`build_features`) | {out['ours_features']} | {out['ours_s']} "
          f"| {out['ours_cpu_s']} | {out['ours_user_s']} / {out['ours_system_s']} | |")  # fmt: skip
    if "families" in out:
        r = out["families"]
        print(f"\nfamilies: {r['agree_with_ours']} of {out['ours_features']} features have a DFS "
              f"counterpart equal to ours (rel. diff <= 1e-9); disagreeing: {r['disagree'] or 'none'}; "
              f"not expressed: {', '.join(r['not_expressed'])}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
