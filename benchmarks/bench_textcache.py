"""Benchmark of the ticket-text cache as a long-running service uses it: a call with a request's
few texts (10 new, 20 known) once the cache holds N texts. Before session 10 each such call
copied and rehashed the whole key index, so the service slowed down as it learnt texts.

    uv run --frozen python benchmarks/bench_textcache.py [--cached 500000] [--calls 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.scorers import CachedScorer  # noqa: E402


class Constant:
    """A scorer that costs nothing: only the cache's own work is timed."""

    cache_id = "constant"

    def score(self, text: str, language: str) -> float:
        return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cached", type=int, default=500_000)
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args()
    cache = CachedScorer(Constant())
    keys = np.random.default_rng(1).integers(-(2**62), 2**62, size=args.cached + 10 * args.calls)

    def texts(items: np.ndarray) -> tuple[list[str], list[str]]:
        return ["t"] * len(items), ["en"] * len(items)

    cache.scores_keyed(keys[: args.cached], texts)
    times = []
    for i in range(args.calls):
        start = args.cached + 10 * i
        request = np.concatenate([keys[start : start + 10], keys[:20]])
        t0 = time.perf_counter()
        cache.scores_keyed(request, texts)
        times.append(time.perf_counter() - t0)
    print(
        f"{args.cached:,} texts cached, {args.calls} calls of 10 new + 20 known texts: "
        f"median {statistics.median(times) * 1000:.3f} ms, p99 {np.percentile(times, 99) * 1000:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
