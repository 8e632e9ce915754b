"""One LightGBM binary head per target, early-stopped on validation, then calibrated on it.

Class imbalance is left to the data (scale_pos_weight 1 in params.yaml): reweighting positives
would inflate the raw scores, and the calibrator fitted on validation maps them to honest
probabilities either way. Training is deterministic: fixed threads, seeds and LightGBM's
deterministic mode, so the same data, params and seed give the same model text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from training.calibrate import Calibrator, fit_calibrator
from training.params import ModelParams
from training.text import Refusal, said


@dataclass(frozen=True)
class Head:
    """A trained target: booster (trimmed to its best iteration) and its calibrator."""

    target: str
    booster: lgb.Booster
    calibrator: Calibrator

    def raw(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster.predict(X, raw_score=True))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.calibrator(self.raw(X))


def lightgbm_params(params: ModelParams) -> dict[str, Any]:
    g = params.lightgbm
    return {
        "objective": "binary",
        "metric": ["binary_logloss"],
        "learning_rate": g.learning_rate,
        "num_leaves": g.num_leaves,
        "max_depth": g.max_depth,
        "min_child_samples": g.min_child_samples,
        "min_sum_hessian_in_leaf": g.min_sum_hessian_in_leaf,
        "feature_fraction": g.feature_fraction,
        "bagging_fraction": g.bagging_fraction,
        "bagging_freq": g.bagging_freq,
        "lambda_l2": g.lambda_l2,
        "max_bin": g.max_bin,
        "max_cat_to_onehot": g.max_cat_to_onehot,
        "cat_smooth": g.cat_smooth,
        "scale_pos_weight": g.scale_pos_weight,
        "seed": params.seed,
        "bagging_seed": params.seed + 1,
        "feature_fraction_seed": params.seed + 2,
        "data_random_seed": params.seed + 3,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": params.num_threads,
        "verbosity": -1,
    }


def monotone(columns, params: ModelParams) -> list[int]:
    """LightGBM's per-column constraint: +1 / -1 for the features params.yaml names, else 0."""
    return [params.monotone.get(str(c), 0) for c in columns]


def train_head(
    target: str,
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_val: pd.DataFrame,
    y_val: np.ndarray,
    params: ModelParams,
) -> Head:
    """Boost with early stopping on validation log loss, keep the best trees, calibrate on validation."""
    for name, y in (("train", y_train), ("validation", y_val)):
        if len(np.unique(y)) < 2:
            raise Refusal("one_class", target=target, window=said(f"window_{name}"))
    dtrain = lgb.Dataset(X_train, label=y_train, free_raw_data=True)
    dval = lgb.Dataset(X_val, label=y_val, reference=dtrain, free_raw_data=True)
    booster = lgb.train(
        {**lightgbm_params(params), "monotone_constraints": monotone(X_train.columns, params)},
        dtrain,
        num_boost_round=params.num_boost_round,
        valid_sets=[dval],
        valid_names=["validation"],
        callbacks=[lgb.early_stopping(params.early_stopping_rounds, verbose=False)],
    )
    best = booster.best_iteration or booster.current_iteration()
    trimmed = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    raw_val = np.asarray(trimmed.predict(X_val, raw_score=True))
    calibrator = fit_calibrator(raw_val, y_val, params.isotonic_min_positives)
    return Head(target, trimmed, calibrator)
