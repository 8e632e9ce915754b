"""Benchmark: training both heads with calibration and evaluation on 10k accounts x 104 weeks.

    uv run --frozen python benchmarks/bench_train.py [--source DIR] [--repeats N]

Without --source, a world is simulated (`escrisk simulate --accounts 10000 --months 24 --seed 1`).
Feature building is timed separately (its own benchmark is bench_features.py); the figure that
matters here is `train`: split, both LightGBM heads with early stopping and calibration, both
baselines, scoring and every metric with its bootstrap CI, plus the oracle comparison.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", type=Path)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    args = ap.parse_args()
    from serving.cli import tune_memory

    tune_memory()  # as the escrisk command does (serving.cli.tune_memory)

    from features.sources import load_history
    from serving.cli import main as escrisk
    from serving.params import load_params
    from training.job import train
    from training.pipeline import labelled_features, read_oracle

    params = load_params(args.params)
    source = args.source
    if source is None:
        source = Path(tempfile.mkdtemp(prefix="bench-train-")) / "world"
        escrisk(
            [
                "simulate",
                "--accounts",
                "10000",
                "--months",
                "24",
                "--seed",
                "1",
                "--out",
                str(source),
                "--params",
                str(args.params),
            ]
        )
    history = load_history(
        str(source), params.contract, pd.Timestamp(params.simulation.end_date, tz="UTC")
    )
    oracle = read_oracle(str(source), params.model.targets)

    t = time.perf_counter()
    lab = labelled_features(history, params)
    t_features = time.perf_counter() - t
    n_acc, n_weeks = lab.frame["account_id"].nunique(), lab.frame["as_of"].nunique()
    print(
        f"features: {len(lab.frame)} rows ({n_acc} accounts x {n_weeks} weeks), {len(lab.spec.names)} features, {t_features:.1f} s"
    )

    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        out = train(history, params, oracle=oracle, labelled=lab)
        times.append(time.perf_counter() - t)
    print(
        f"train (both heads, calibration, baselines, evaluation with {params.evaluation.bootstrap_samples} bootstrap samples): "
        f"median {statistics.median(times):.1f} s over {len(times)} run(s); budget 180 s -> {180 / statistics.median(times):.1f}x headroom"
    )
    for t_, o in out.experiment.targets.items():
        for m, ev in o.evaluations.items():
            e = ev.metrics
            print(
                f"  {t_:<15} {m:<13} ROC-AUC {e['roc_auc']}  PR-AUC {e['pr_auc']}  ECE {e['ece']}  trees {o.head.booster.current_iteration() if m == 'lightgbm' else ''}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
