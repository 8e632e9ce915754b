"""Run every benchmark (benchmarks/bench_*.py) in turn, each in its own process (`make bench`).

    uv run --frozen python benchmarks/run_all.py [--quick] [--only daily,service] [--timeout S]

`--quick` passes `--quick` to the scripts that accept it and small sizes to the others (QUICK_ARGS):
a smoke test of the benchmarks, not figures to record. A script that fails or runs out of time is reported and
the others still run; the exit status is non-zero if any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Small sizes for the scripts that have no --quick of their own (their own options).
QUICK_ARGS = {
    "bench_contract.py": ["--accounts", "500", "--tickets", "20000", "--repeats", "1"],
    "bench_features.py": ["--sizes", "1000", "--api-runs", "20"],
    "bench_simulate.py": ["--sizes", "1000", "--months", "6", "--repeat", "1"],
    "bench_train.py": ["--repeats", "1"],
    "bench_textcache.py": ["--cached", "100000", "--calls", "500"],
}


def scripts(only: list[str] | None) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if only:
        found = [p for p in found if p.stem.removeprefix("bench_") in only]
    return found


def accepts_quick(path: Path) -> bool:
    return "--quick" in path.read_text(encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and short runs")
    ap.add_argument("--only", default="", help="comma-separated topics, e.g. daily,service")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per script")
    args = ap.parse_args()
    todo = scripts([s.strip() for s in args.only.split(",") if s.strip()] or None)
    if not todo:
        print("no benchmark matches", args.only, file=sys.stderr)
        return 2
    results: list[tuple[str, str, float]] = []
    for path in todo:
        cmd = [sys.executable, str(path)]
        if args.quick:
            cmd += ["--quick"] if accepts_quick(path) else QUICK_ARGS.get(path.name, [])
        print(f"=== {path.name} ({' '.join(cmd[2:]) or 'full size'})", flush=True)
        t0 = time.perf_counter()
        try:
            rc = subprocess.run(cmd, cwd=HERE.parent, timeout=args.timeout).returncode
            status = "ok" if rc == 0 else f"failed (exit {rc})"
        except subprocess.TimeoutExpired:
            status = f"timed out after {args.timeout:.0f} s"
        results.append((path.name, status, time.perf_counter() - t0))
        print(flush=True)
    print("=== summary")
    for name, status, seconds in results:
        print(f"{name:28s} {status:28s} {seconds:7.0f} s")
    return 0 if all(s == "ok" for _, s, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
