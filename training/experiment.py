"""One training experiment on a labelled feature frame: heads, baselines, test scores, metrics.

Pure: every input (frame, spec, split, events, CSM map, oracle scores) is passed in, nothing is
read or written, so the train command, the backtest, the benchmark and the tests share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.spec import FeatureSpec
from training.baselines import LogisticBaseline, fit_logistic, health_risk, usable_rules
from training.calibrate import Calibrator, fit_calibrator, is_flat
from training.leaks import telling_features
from training.matrix import model_matrix
from training.metrics import Evaluation, evaluate, paired_difference
from training.params import EvaluationParams, ModelParams
from training.split import Split, window_frames
from training.text import Joined, said
from training.train import Head, train_head

MODEL = "lightgbm"
LOGISTIC = "logistic"
HEALTH = "health_score"
ORACLE = "oracle"


@dataclass(frozen=True)
class TargetOutcome:
    target: str
    head: Head
    logistic: LogisticBaseline
    logistic_calibrator: Calibrator
    health_calibrator: Calibrator
    test: pd.DataFrame  # account_id, as_of, y, then one calibrated score column per model
    evaluations: dict[str, Evaluation]
    rows: dict[str, int]  # labelled rows per window
    positives: dict[str, int]  # labelled positives per window
    warnings: tuple[str, ...] = ()  # about the fit itself (a thin validation window)


@dataclass(frozen=True)
class Experiment:
    split: Split
    spec: FeatureSpec
    targets: dict[str, TargetOutcome]

    @property
    def warnings(self) -> list[str]:
        found = [
            w for t in self.targets.values() for e in t.evaluations.values() for w in e.warnings
        ]
        fit = [w for t in self.targets.values() for w in t.warnings]
        return found + fit + self.quality_warnings()

    def quality_warnings(self) -> list[str]:
        """A head that ranks no better than chance on its test window: said loudly, since the
        first model becomes champion without a gate (one that loses to a baseline is told by
        `baseline_warnings`, among the fit's warnings)."""
        return [w for t in self.targets for w in self.head_quality_warnings(t)]

    def head_quality_warnings(self, t: str) -> list[str]:
        out: list[str] = []
        o = self.targets[t]
        ours = o.evaluations.get("lightgbm")
        if ours is None:
            return out
        auc = ours.metrics["roc_auc"]
        if auc.value <= 0.5:
            out.append(said("chance", target=t, auc=str(auc)))
        return out

    def metrics(self) -> dict[str, float]:
        """Flat `<target>.<model>.<metric>` figures, as logged to MLflow."""
        out: dict[str, float] = {}
        for t, o in self.targets.items():
            for model, ev in o.evaluations.items():
                out.update(ev.flat(f"{t}.{model}."))
            out[f"{t}.best_iteration"] = o.head.booster.current_iteration()
            for w, n in o.positives.items():
                out[f"{t}.{w}.positives"] = n
        return out


def fit_target(
    frame: pd.DataFrame,
    spec: FeatureSpec,
    target: str,
    horizon_days: int,
    split: Split,
    model: ModelParams,
    evaluation: EvaluationParams,
    *,
    events: pd.DataFrame | None = None,
    csm_of: pd.Series | None = None,
    oracle: pd.DataFrame | None = None,
) -> TargetOutcome:
    """Train the head and both baselines for one target, score and evaluate its test window.

    `oracle`, when given, holds the simulator's true probability for `target` per (account_id,
    as_of); it is scored on the test rows it covers.
    """
    win = window_frames(frame, target, horizon_days, split)
    X = {w: model_matrix(f, spec) for w, f in win.items()}
    y = {w: f[target].to_numpy(dtype=float) for w, f in win.items()}

    head = train_head(target, X["train"], y["train"], X["validation"], y["validation"], model)

    logistic = fit_logistic(X["train"], y["train"], spec, model.logistic, model.seed)
    logistic_cal = fit_calibrator(
        _logit(logistic.predict(X["validation"])), y["validation"], model.isotonic_min_positives
    )
    rules = usable_rules(model.health_score, spec)
    health_cal = fit_calibrator(
        health_risk(X["validation"], rules), y["validation"], model.isotonic_min_positives
    )

    t = win["test"]
    test = pd.DataFrame(
        {
            "account_id": t["account_id"].to_numpy(),
            "as_of": t["as_of"].to_numpy(),
            "y": y["test"],
            MODEL: head.predict(X["test"]),
            LOGISTIC: logistic_cal(_logit(logistic.predict(X["test"]))),
            HEALTH: health_cal(health_risk(X["test"], rules)),
        }
    )
    if oracle is not None and target in oracle.columns:
        truth = oracle[["account_id", "as_of", target]].rename(columns={target: ORACLE})
        test = test.merge(truth, on=["account_id", "as_of"], how="left")

    evaluations: dict[str, Evaluation] = {}
    for name in (MODEL, LOGISTIC, HEALTH, ORACLE):
        if name not in test.columns:
            continue
        rows = test[["account_id", "as_of", "y"]].assign(p=test[name])
        rows = rows[rows["p"].notna()]
        evaluations[name] = evaluate(
            rows,
            evaluation.for_target(target),
            horizon_days=horizon_days,
            events=events,
            csm_of=csm_of,
            label=f"{target}/{name}/test",
        )
    positives = {w: int(np.nansum(v)) for w, v in y.items()}
    lost = baseline_warnings(test, evaluations, evaluation.for_target(target), target)
    return TargetOutcome(
        target,
        head,
        logistic,
        logistic_cal,
        health_cal,
        test,
        evaluations,
        {w: len(f) for w, f in win.items()},
        positives,
        fit_warnings(head, positives["validation"], evaluation.min_positives, split.source)
        + leak_warnings(target, telling_features(X["test"], y["test"], spec))
        + lost,
    )


def baseline_warnings(
    test: pd.DataFrame, evaluations: Mapping[str, Evaluation], params: EvaluationParams, target: str
) -> tuple[str, ...]:
    """A warning for each baseline that does better than the model on the test window by ROC-AUC
    or PR-AUC, beyond the bootstrap's doubt: the difference of the two on the same rows, with a
    paired interval that lies wholly below 0. Two scorers of one window err on the same accounts,
    so their own intervals overlap where the paired one does not (the health score's 0.799
    against the model's 0.757 on a helpdesk-only world went untold). Bootstrapped only where the
    baseline's point estimate is ahead: nothing is added to a model that leads."""
    ours = evaluations.get(MODEL)
    if ours is None:
        return ()
    out: list[str] = []
    model_rows = test[["account_id", "as_of", "y"]].assign(p=test[MODEL])
    for name in (HEALTH, LOGISTIC):
        theirs = evaluations.get(name)
        if theirs is None:
            continue
        base = test[["account_id", "as_of", "y"]].assign(p=test[name])
        base = base[base["p"].notna()]
        for metric in ("roc_auc", "pr_auc"):
            if not theirs.metrics[metric].value > ours.metrics[metric].value:
                continue
            d = paired_difference(base, model_rows, params, metric)
            if d.high < 0:
                words = {"value": d.value, "low": d.low, "high": d.high, "metric": metric}
                baseline = said(f"baseline_{name}")
                out.append(said("baseline_better", target=target, baseline=baseline, **words))
                break  # one warning per baseline
    return tuple(out)


def fit_warnings(
    head: Head, positives: int, least: int, file: str = "params.yaml"
) -> tuple[str, ...]:
    """Early stopping and calibration are fitted on the validation window: with fewer positives
    than a test window needs to be trusted, the head's tree count and probabilities rest on a few
    events, which the counts printed among the notes do not make plain."""
    out = []
    if positives < least:
        out.append(
            said(
                "thin_validation",
                target=head.target,
                positives=positives,
                least=least,
                trees=head.booster.current_iteration(),
                kind=head.calibrator.kind,
                file=file,
            )  # fmt: skip
        )
    if is_flat(head.calibrator):
        rate = float(head.calibrator(np.zeros(1))[0])
        out.append(said("flat_calibration", target=head.target, rate=rate))
    return tuple(out)


def leak_warnings(target: str, telling: list[tuple[str, float]]) -> tuple[str, ...]:
    """A feature that alone foretells the target on the test window (training.leaks): said
    loudly, since the figures of a model built on it hold for past snapshots only."""
    if not telling:
        return ()
    named = Joined(said("leak_item", name=name, auc=auc) for name, auc in telling)
    return (said("leak" if len(telling) == 1 else "leak_many", target=target, named=named),)


def run_experiment(
    frame: pd.DataFrame,
    spec: FeatureSpec,
    horizons: Mapping[str, int],
    split: Split,
    model: ModelParams,
    evaluation: EvaluationParams,
    *,
    events: Mapping[str, pd.DataFrame] | None = None,
    csm_of: pd.Series | None = None,
    oracle: pd.DataFrame | None = None,
) -> Experiment:
    outcomes = {
        t: fit_target(
            frame,
            spec,
            t,
            horizons[t],
            split,
            model,
            evaluation,
            events=None if events is None else events.get(t),
            csm_of=csm_of,
            oracle=oracle,
        )
        for t in model.targets
    }
    return Experiment(split, spec, outcomes)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))
