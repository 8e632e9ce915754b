"""Shared by the benchmarks: a simulated world with a short horizon and a champion trained on a
small simulated world, both from the repository's params.yaml (model size = params `model:`).

Not a benchmark itself (run_all.py runs only bench_*.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from features.contract import History, validated  # noqa: E402
from training.bundle import Bundle, reference_distribution  # noqa: E402
from training.labels import labeled  # noqa: E402
from training.matrix import model_matrix  # noqa: E402
from training.pipeline import labelled_features  # noqa: E402
from training.simulate import simulate  # noqa: E402
from training.train import train_head  # noqa: E402


def world_end(params) -> pd.Timestamp:
    """The simulated world ends here (exclusive): the benchmarks score as of this day."""
    return pd.Timestamp(params.simulation.end_date, tz="UTC")


def simulated_history(params, accounts: int, months: int, seed: int) -> History:
    """`escrisk simulate`'s world, validated by the data contract as `escrisk daily` would."""
    w = simulate(accounts, months, seed, params.simulation, params.contract)
    return validated(w.tables, params.contract, world_end(params), source="benchmark world")


def train_bundle(
    params, accounts: int = 2000, months: int = 15, seed: int = 3
) -> tuple[Bundle, dict]:
    """Both heads trained on a small simulated world (weekly grid, last quarter of the dates
    for early stopping and calibration), with the training reference for drift."""
    history = simulated_history(params, accounts, months, seed)
    lab = labelled_features(history, params)
    heads = {}
    for target in params.model.targets:
        f = labeled(lab.frame, target)
        dates = np.sort(f["as_of"].unique())
        cut = dates[int(len(dates) * 0.75)]
        tr, va = f[f["as_of"] < cut], f[f["as_of"] >= cut]
        heads[target] = train_head(
            target,
            model_matrix(tr, lab.spec),
            tr[target].to_numpy(dtype=float),
            model_matrix(va, lab.spec),
            va[target].to_numpy(dtype=float),
            params.model,
        )
    bundle = Bundle(lab.spec, heads)
    return bundle, reference_distribution(bundle, lab.frame, params.daily.drift.bins)


def model_size(bundle: Bundle) -> str:
    """'2 heads: 61 + 67 trees, 15 leaves max (1,520 leaves in all), 85 features'."""
    trees, leaves = [], 0
    for head in bundle.heads.values():
        info = head.booster.dump_model()["tree_info"]
        trees.append(len(info))
        leaves += sum(t["num_leaves"] for t in info)
    max_leaves = max(
        t["num_leaves"] for h in bundle.heads.values() for t in h.booster.dump_model()["tree_info"]
    )
    return (
        f"{len(trees)} heads: {' + '.join(map(str, trees))} trees, {max_leaves} leaves max "
        f"({leaves:,} leaves in all), {len(bundle.spec.names)} features"
    )
