"""Wall time and peak memory of `training.simulate.simulate` for 1k/10k/50k accounts x 24 months.

Every run happens in a fresh Python process, so its peak memory (ru_maxrss of that child, read
with os.wait4) is its own. Small sizes report the median of several runs.
Run: `uv run --frozen python benchmarks/bench_simulate.py [--sizes 1000 10000 50000] [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
from serving.params import load_params
from training.simulate import simulate
params = load_params(sys.argv[1])
n, months, seed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t0 = time.perf_counter()
world = simulate(n, months, seed, params.simulation, params.contract)
seconds = time.perf_counter() - t0
rows = {k: len(v) for k, v in world.tables.items()}
print(json.dumps({"seconds": seconds, "rows": rows}))
"""


def run_once(n: int, months: int, seed: int) -> dict:
    """One simulate in a fresh interpreter: its wall seconds, its rows and its own peak RSS."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ROOT / "params.yaml"), str(n), str(months), str(seed)],
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"simulate {n} accounts failed with exit status {proc.returncode}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["peak_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3, help="runs per size below 50,000 accounts")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"{'accounts':>9} {'months':>6} {'runs':>4} {'median s':>9} {'peak MiB':>9} {'tickets':>9} {'usage rows':>11} {'s / 1k acc':>10}"
    )
    for n in args.sizes:
        runs = [run_once(n, args.months, seed) for seed in range(args.repeat if n < 50000 else 1)]
        secs = statistics.median(r["seconds"] for r in runs)
        peak = max(r["peak_mib"] for r in runs)
        rows = runs[0]["rows"]
        print(
            f"{n:>9,} {args.months:>6} {len(runs):>4} {secs:>9.1f} {peak:>9.0f} "
            f"{rows['tickets']:>9,} {rows['usage']:>11,} {secs / n * 1000:>10.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
