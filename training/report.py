"""Pictures and tables of an experiment, written into a folder that is logged to MLflow.

The plot functions take an axis so the evaluation notebook draws the same figures from a run's
logged test scores. Importing this module leaves matplotlib's backend alone (a notebook keeps its
inline figures); the `escrisk` commands run with MPLBACKEND=Agg (`serving.cli.main`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from training.experiment import MODEL, Experiment, TargetOutcome
from training.matrix import model_matrix
from training.metrics import METRICS

SHAP_SAMPLE = 2000


def score_columns(test: pd.DataFrame) -> list[str]:
    return [c for c in test.columns if c not in ("account_id", "as_of", "y", "tier")]


def plot_roc(ax, test: pd.DataFrame, title: str = "") -> None:
    for m in score_columns(test):
        ok = test[m].notna()
        fpr, tpr, _ = roc_curve(test.loc[ok, "y"], test.loc[ok, m])
        ax.plot(fpr, tpr, label=m)
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC {title}")
    ax.legend()


def plot_pr(ax, test: pd.DataFrame, title: str = "") -> None:
    for m in score_columns(test):
        ok = test[m].notna()
        prec, rec, _ = precision_recall_curve(test.loc[ok, "y"], test.loc[ok, m])
        # in steps, as PR-AUC (average precision) sums them: a straight line between two far
        # thresholds (tied isotonic scores) drew an area of 0.19 under a logged PR-AUC of 0.16
        ax.plot(rec, prec, drawstyle="steps-post", label=m)
    ax.axhline(test["y"].mean(), ls=":", color="grey")
    ax.set(xlabel="recall", ylabel="precision", title=f"Precision-recall {title}")
    ax.legend()


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted and observed rate, and rows (account snapshots), per equal-width bin of
    the score: the bins the run's ECE is computed on (`evaluation.ece_bins`)."""
    b = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
    df = pd.DataFrame({"bin": b, "y": y, "p": p})
    return df.groupby("bin").agg(predicted=("p", "mean"), observed=("y", "mean"), n=("y", "size"))


def plot_calibration(ax, test: pd.DataFrame, title: str = "", bins: int = 10) -> None:
    """Observed against predicted rate per score bin, in the run's `evaluation.ece_bins` bins
    (the notebook reads them from the run). A marker's area grows with the rows it holds, and
    the rows per bin are written under the plot: the top bins of a calibrated head hold a few
    dozen accounts, whose observed rate is far from the diagonal by chance alone."""
    counts = []
    for m in score_columns(test):
        ok = test[m].notna()
        t = calibration_table(test.loc[ok, "y"].to_numpy(), test.loc[ok, m].to_numpy(), bins)
        (line,) = ax.plot(t["predicted"], t["observed"], "-", label=m)
        size = 8 + 240 * t["n"] / max(int(ok.sum()), 1)
        ax.scatter(t["predicted"], t["observed"], s=size, color=line.get_color(), zorder=3)
        per_bin = ", ".join(f"{n:,}" for n in t["n"].reindex(range(bins), fill_value=0))
        counts.append(f"{m}: {per_bin}")
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set(xlabel="predicted probability", ylabel="observed rate", title=f"Calibration {title}")
    ax.legend()
    caption = f"rows per bin (of {bins}, lowest scores first; marker area ~ rows)\n"
    ax.annotate(
        caption + "\n".join(counts), xy=(0, 0), xycoords="axes fraction", xytext=(0, -36),
        textcoords="offset points", va="top", fontsize=7, annotation_clip=False,
    )  # fmt: skip


def lift_table(y: np.ndarray, p: np.ndarray, groups: int = 10) -> pd.DataFrame:
    """Positive rate per score decile (1 = highest scores) divided by the overall rate. A block of
    tied scores (an isotonic step) straddling a decile edge counts in each decile by the share of
    its rows that falls there, as `lift_top_decile` counts it: cut by the rows' order, decile 1
    drew 2.83 (2.53 with the rows shuffled) where the run's lift_top_decile said 2.73."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if not len(p):
        return pd.DataFrame({"rate": [], "lift": []}, index=pd.Index([], name="decile"))
    _, block = np.unique(-p, return_inverse=True)  # blocks of tied scores, riskiest first
    n = np.bincount(block).astype(float)
    rate_of = np.bincount(block, weights=y) / n
    end = np.cumsum(n)
    edges = np.linspace(0, len(p), groups + 1)
    # rows of each block (columns) inside each decile (rows)
    inside = np.clip(
        np.minimum(end, edges[1:, None]) - np.maximum(end - n, edges[:-1, None]), 0, None
    )
    rate = inside @ rate_of / inside.sum(axis=1)
    index = pd.Index(np.arange(1, groups + 1), name="decile")
    return pd.DataFrame({"rate": rate, "lift": rate / max(float(np.mean(y)), 1e-12)}, index=index)


def plot_lift(ax, test: pd.DataFrame, title: str = "") -> None:
    for m in score_columns(test):
        ok = test[m].notna()
        t = lift_table(test.loc[ok, "y"].to_numpy(), test.loc[ok, m].to_numpy())
        ax.plot(t.index, t["lift"], "o-", label=m)
    ax.axhline(1, ls=":", color="grey")
    ax.set(xlabel="score decile (1 = riskiest)", ylabel="lift", title=f"Lift {title}")
    ax.legend()


def metrics_markdown(ex: Experiment) -> str:
    lines = [f"# Test-window metrics\n\n{ex.split.describe()}\n"]
    for t, o in ex.targets.items():
        lines.append(f"## {t}\n")
        lines.append(
            f"Rows train/validation/test: {o.rows['train']}/{o.rows['validation']}/{o.rows['test']}; "
            f"positives {o.positives['train']}/{o.positives['validation']}/{o.positives['test']}; "
            f"calibration: {o.head.calibrator.kind}; trees: {o.head.booster.current_iteration()}\n"
        )
        models = list(o.evaluations)
        lines.append("| metric | " + " | ".join(models) + " |")
        lines.append("|---|" + "---|" * len(models))
        for m in METRICS:
            cells = []
            for model in models:
                e = o.evaluations[model].metrics[m]
                cells.append(
                    "n/a" if np.isnan(e.value) else f"{e.value:.4f} [{e.low:.4f}, {e.high:.4f}]"
                )
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        lines.append("")
        for ev in o.evaluations.values():
            lines += [f"> {w}" for w in ev.warnings]
        lines += [f"> {w}" for w in [*o.warnings, *ex.head_quality_warnings(t)]]
        note = o.evaluations[MODEL].capacity_note if MODEL in o.evaluations else None
        if note:
            lines.append(f"> note: {note}")
    return "\n".join(lines) + "\n"


def shap_sample(frame_test: pd.DataFrame, seed: int) -> pd.DataFrame:
    n = min(SHAP_SAMPLE, len(frame_test))
    return frame_test.sample(n=n, random_state=seed) if n else frame_test


def plot_shap_beeswarm(
    path: Path, o: TargetOutcome, X: pd.DataFrame, max_display: int = 20
) -> None:
    import shap

    contrib = np.asarray(o.head.booster.predict(X, pred_contrib=True))[:, :-1]
    shown = X.apply(
        lambda s: s.cat.codes.where(s.notna()) if isinstance(s.dtype, pd.CategoricalDtype) else s
    )
    plt.figure()
    shap.summary_plot(contrib, shown, max_display=max_display, show=False)
    plt.title(f"SHAP {o.target}")
    plt.savefig(path, bbox_inches="tight", dpi=90)
    plt.close("all")


def plot_importance(ax, o: TargetOutcome, top: int = 25) -> None:
    gain = (
        pd.Series(
            o.head.booster.feature_importance(importance_type="gain"),
            index=o.head.booster.feature_name(),
        )
        .sort_values(ascending=True)
        .tail(top)
    )
    ax.barh(gain.index, gain.to_numpy())
    ax.set(xlabel="total gain", title=f"Feature importance {o.target}")


def errors_by_group(
    test: pd.DataFrame, group_of: str | pd.Series, model: str = MODEL
) -> pd.DataFrame:
    """Per group: rows, positives, mean predicted vs observed rate, Brier score, and how well the
    score ranks within the group (ROC-AUC, PR-AUC; empty for a group of one class). `group_of`
    is a column of the scores (e.g. "tier", as of each row) or a Series mapping account_id to a
    group. Calibration alone hid a segment the model cannot rank: a tier's rate matched while
    its accounts were ordered at chance."""
    group = test[group_of] if isinstance(group_of, str) else test["account_id"].map(group_of)
    df = test.assign(group=group, p=test[model])
    df = df.assign(sq=(df["p"] - df["y"]) ** 2)
    out = df.groupby("group").agg(
        rows=("y", "size"),
        positives=("y", "sum"),
        predicted=("p", "mean"),
        observed=("y", "mean"),
        brier=("sq", "mean"),
    )
    out["positives"] = out["positives"].round().astype(int)  # y is a float column: 97, not 97.0
    ranked = {
        g: (roc_auc_score(d["y"], d["p"]), average_precision_score(d["y"], d["p"]))
        for g, d in df.groupby("group")
        if 0 < d["y"].sum() < len(d)
    }
    out["roc_auc"] = [ranked.get(g, (np.nan, np.nan))[0] for g in out.index]
    out["pr_auc"] = [ranked.get(g, (np.nan, np.nan))[1] for g in out.index]
    return out


COMPARED = ("roc_auc", "pr_auc", "brier", "ece")


def compared_metrics(
    runs: Mapping[str, Mapping[str, float]], targets: Sequence[str], metrics=COMPARED
) -> pd.DataFrame:
    """The LightGBM test figures with their 95% intervals as each run logged them (`runs`: a
    label -> the run's metrics), one column per run, one row per head and metric: a challenger
    beside the champion in the evaluation notebook."""
    rows = []
    for target in targets:
        for m in metrics:
            row: dict[str, str] = {"head": target, "metric": m}
            for label, logged in runs.items():
                key = f"{target}.{MODEL}.{m}"
                value = logged.get(key, np.nan)
                low, high = logged.get(f"{key}_low", np.nan), logged.get(f"{key}_high", np.nan)
                row[label] = "-" if np.isnan(value) else f"{value:.4f} [{low:.4f}, {high:.4f}]"
            rows.append(row)
    return pd.DataFrame(rows).set_index(["head", "metric"])


def on_same_rows(tests: Mapping[str, pd.DataFrame]) -> pd.DataFrame | None:
    """Several runs' LightGBM test scores of one head side by side (a column per label, for the
    plots above) when every run was tested on the same rows with the same labels (the same
    source and split); None when not: curves of other rows do not compare two models."""
    keys = ["account_id", "as_of"]
    out: pd.DataFrame | None = None
    for label, test in tests.items():
        part = test[[*keys, "y", MODEL]].rename(columns={MODEL: label})
        part = part.sort_values(keys).reset_index(drop=True)
        if out is None:
            out = part
        elif len(part) != len(out) or not part[[*keys, "y"]].equals(out[[*keys, "y"]]):
            return None
        else:
            out[label] = part[label].to_numpy()
    return out


def write_report(
    directory: Path,
    ex: Experiment,
    test_frames: dict[str, pd.DataFrame],
    seed: int,
    ece_bins: int = 10,
) -> Path:
    """All artifacts of a run: curves, calibration, lift, SHAP, importance, metrics table, samples.

    `test_frames` holds each target's test rows with features (for the SHAP sample); the
    calibration plot bins the scores as the run's ECE does (`ece_bins`).
    """
    directory.mkdir(parents=True, exist_ok=True)
    for t, o in ex.targets.items():
        for name, fn in (
            ("roc", plot_roc),
            ("pr", plot_pr),
            ("calibration", partial(plot_calibration, bins=ece_bins)),
            ("lift", plot_lift),
        ):
            fig, ax = plt.subplots(figsize=(6, 5))
            fn(ax, o.test, t)
            fig.savefig(directory / f"{name}_{t}.png", bbox_inches="tight", dpi=90)
            plt.close(fig)
        fig, ax = plt.subplots(figsize=(7, 8))
        plot_importance(ax, o)
        fig.savefig(directory / f"importance_{t}.png", bbox_inches="tight", dpi=90)
        plt.close(fig)
        sample = shap_sample(test_frames[t], seed)
        if len(sample):
            plot_shap_beeswarm(directory / f"shap_{t}.png", o, model_matrix(sample, ex.spec))
            sample.to_parquet(directory / f"sample_{t}.parquet")
        scores = o.test
        if "tier" in test_frames[t].columns:  # errors by tier, read from the run alone
            tiers = test_frames[t][["account_id", "as_of", "tier"]].astype({"tier": str})
            scores = scores.merge(tiers, on=["account_id", "as_of"], how="left")
        scores.to_parquet(directory / f"test_scores_{t}.parquet")
    (directory / "metrics.md").write_text(metrics_markdown(ex), encoding="utf-8")
    return directory


__all__ = ["MODEL", "write_report"]
