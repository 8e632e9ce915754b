"""The training job: labelled features -> split -> experiment (+ backtest) -> report -> MLflow.

`train` is pure (a history and params in, an outcome out); `log_outcome` writes the report and the
bundle to a temporary folder and logs them to MLflow. The command prints; this module does not.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from features.contract import History
from features.errors import UserError
from features.params import FeatureParams
from features.version import stamp
from training.bundle import (
    Bundle,
    latest_weeks,
    reference_distribution,
    write_bundle,
    write_reference,
)
from training.experiment import MODEL, Experiment, run_experiment
from training.labels import label_notes
from training.metrics import METRICS
from training.pipeline import (
    Labelled,
    csm_of,
    labelled_features,
    target_events,
    trained_horizons,
    unavailable_labels,
)
from training.registry import LoggedRun, log_training
from training.report import write_report
from training.split import (
    Split,
    backtest_splits,
    choose_split,
    positives_per_window,
    seen_rows,
    window_frames,
)
from training.text import Joined, Refusal, said, t

BACKTEST_METRICS = ("roc_auc", "pr_auc", "brier", "ece", "precision_at_k", "recall_at_k")


@dataclass(frozen=True)
class TrainOutcome:
    labelled: Labelled
    experiment: Experiment
    horizons: dict[str, int]
    backtest: pd.DataFrame | None = None  # fold, target, model, metric columns
    notes: tuple[str, ...] = field(default=())  # English (notes.txt); `text.shown` tells them
    feature_params: FeatureParams | None = None  # the settings the features were built with

    @property
    def bundle(self) -> Bundle:
        ex = self.experiment
        heads = {t: o.head for t, o in ex.targets.items()}
        return Bundle(ex.spec, heads, feature_params=self.feature_params, feature_code=stamp())


def train(
    history: History,
    params,
    *,
    oracle: pd.DataFrame | None = None,
    backtest: int = 1,
    labelled: Labelled | None = None,
    params_file: str = "params.yaml",
    language: str = "en",
) -> TrainOutcome:
    """Everything `escrisk train` computes, nothing it writes. `params` is the root Params, read
    from `params_file` (named where the notes point to a setting)."""
    lab = labelled or labelled_features(history, params)
    missing = {t: w for t, w in unavailable_labels(history).items() if t in params.model.targets}
    heads = params.model.model_copy(
        update={"targets": tuple(t for t in params.model.targets if t not in missing)}
    )
    if not heads.targets:
        told = Joined((said("target_why", target=tg, why=w) for tg, w in missing.items()), "; ")
        raise UserError(t("no_target", language, missing=told))
    hz = trained_horizons(history, params)
    ends_told = label_notes(lab.frame, lab.ends, hz, params_file)
    try:
        split = choose_split(lab.frame, hz, params.split, params_file)
    except Refusal as refused:  # too few positives: a label table ending early may be why
        early = [n for n in ends_told if n.key in ("ends_early", "no_table_events")]
        if not early:
            raise
        raise Refusal(
            "refused_label_ends", refusal=refused.text, ends=Joined(early, "; ")
        ) from None
    notes: list[str] = [split.describe()]
    for target, lacks in missing.items():
        notes.append(said("label_unavailable", target=target, why=lacks))
    notes.extend(ends_told)
    for target, per in positives_per_window(lab.frame, hz, split).items():
        counts = Joined(
            said("window_count", window=said(f"window_{w}"), n=n) for w, n in per.items()
        )
        notes.append(said("positives", target=target, counts=counts))
        if per.get("train", 0) < max(per.get("validation", 0), per.get("test", 0)):
            notes.append(said("few_train_positives", target=target, file=params_file))
    for fam, why in lab.unavailable.items():
        notes.append(said("family_left_out", family=fam, why=why))
    kw: dict[str, Any] = {
        "events": target_events(history),
        "csm_of": csm_of(history),
        "oracle": oracle,
    }
    # the folds are checked before anything is trained: one that cannot be is told at once
    folds = (
        backtest_splits(lab.frame, split, backtest, hz, params.split.min_positives)
        if backtest > 1
        else []
    )
    ex = run_experiment(lab.frame, lab.spec, hz, split, heads, params.evaluation, **kw)
    bt = None
    if folds:
        rows = []
        for i, fold in enumerate(folds, start=1):
            fx = (
                ex
                if fold == split
                else run_experiment(lab.frame, lab.spec, hz, fold, heads, params.evaluation, **kw)
            )
            if fx is not ex:  # the last fold's warnings are the run's own, told by the command
                notes.extend(said("fold", fold=i, warning=w) for w in fx.warnings)
            for target, o in fx.targets.items():
                for model, ev in o.evaluations.items():
                    until = "end" if fold.test_end is None else f"{fold.test_end:%Y-%m-%d}"
                    row = {"fold": i, "test_from": f"{fold.validation_end:%Y-%m-%d}",
                           "test_until": until, "target": target, "model": model}  # fmt: skip
                    row.update({m: ev.metrics[m].value for m in BACKTEST_METRICS})
                    rows.append(row)
        bt = pd.DataFrame(rows)
    return TrainOutcome(lab, ex, dict(hz), bt, tuple(notes), params.features)


def backtest_metrics(bt: pd.DataFrame) -> dict[str, float]:
    out = {}
    for r in bt.itertuples(index=False):
        for m in BACKTEST_METRICS:
            out[f"backtest.fold{r.fold}.{r.target}.{r.model}.{m}"] = float(getattr(r, m))
    return out


def log_outcome(
    outcome: TrainOutcome,
    *,
    experiment: str,
    params_dict: Mapping,
    tags: Mapping[str, str],
    model_name: str,
    seed: int,
    challenger: bool = True,
) -> LoggedRun:
    ex = outcome.experiment
    lab = outcome.labelled
    hz = outcome.horizons
    with tempfile.TemporaryDirectory(prefix="escrisk-train-") as tmp:
        tmpd = Path(tmp)
        test_frames = {t: window_frames(lab.frame, t, hz[t], ex.split)["test"] for t in ex.targets}
        bins = int(params_dict["evaluation"]["ece_bins"])  # the bins of the run's ECE
        report = write_report(tmpd / "report", ex, test_frames, seed, bins)
        if outcome.backtest is not None:
            text = outcome.backtest.to_string(index=False)
            (report / "backtest.md").write_text(
                f"# Rolling-origin backtest\n\n```\n{text}\n```\n", encoding="utf-8"
            )
        (report / "notes.txt").write_text("\n".join(outcome.notes) + "\n", encoding="utf-8")
        bundle_dir = write_bundle(
            tmpd / "bundle", outcome.bundle.heads, ex.spec, outcome.feature_params
        )
        drift = params_dict["daily"]["drift"]
        write_reference(
            bundle_dir,
            drift_reference(outcome, int(drift["bins"]), int(drift["reference_weeks"])),
        )  # drift reference (escrisk daily)
        first = next(iter(test_frames.values()))
        example = input_example(first if len(first) else lab.frame, ex)
        out_example = outcome.bundle.predict(example)
        extra = backtest_metrics(outcome.backtest) if outcome.backtest is not None else None
        return log_training(
            experiment=experiment,
            model_name=model_name,
            params=params_dict,
            metrics=ex.metrics(),
            tags={
                **tags,
                **{f"split.{k}": str(v) for k, v in ex.split.to_dict().items()},
                # what train printed on stderr, as promote keeps its own: a column in the run list
                **({"warnings": "\n".join(ex.warnings)[:5000]} if ex.warnings else {}),
            },
            report_dir=report,
            bundle_dir=bundle_dir,
            input_example=example,
            output_example=out_example,
            extra_metrics=extra,
            challenger=challenger,
        )


def drift_reference(outcome: TrainOutcome, bins: int, weeks: int) -> dict:
    """The distribution `escrisk daily` compares a day's features and scores with: the latest
    weeks of what the heads saw (train and validation windows), never the test window."""
    ex = outcome.experiment
    seen = seen_rows(outcome.labelled.frame, {t: outcome.horizons[t] for t in ex.targets}, ex.split)
    return reference_distribution(outcome.bundle, latest_weeks(seen, weeks), bins)


def input_example(frame: pd.DataFrame, ex: Experiment, n: int = 5) -> pd.DataFrame:
    """A few feature rows as plain types (categories as strings), as a caller would send them."""
    return Bundle(ex.spec, {}).plain(frame.head(n))


__all__ = ["MODEL", "METRICS", "Split", "TrainOutcome", "log_outcome", "train"]
