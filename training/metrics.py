"""How good a risk score is on one window, each figure with a bootstrap 95% CI over accounts.

Rows of one account are correlated (weekly snapshots of the same customer), so the bootstrap
resamples accounts with replacement and keeps all of an account's rows. A resample is expressed as
a weight per account (how often it was drawn), which lets every metric run on arrays sorted once.
With all weights 1 the figures equal scikit-learn's (tested).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from training.params import EvaluationParams
from training.text import said

METRICS = (
    "roc_auc",
    "pr_auc",
    "brier",
    "log_loss",
    "ece",
    "precision_at_k",
    "recall_at_k",
    "lift_top_decile",
    "alerts_per_csm_week",
    "median_lead_days",
    "share_warned",
)
HIGHER_IS_BETTER = {
    "roc_auc": True,
    "pr_auc": True,
    "brier": False,
    "log_loss": False,
    "ece": False,
    "precision_at_k": True,
    "recall_at_k": True,
    "lift_top_decile": True,
    "median_lead_days": True,
    "share_warned": True,
}
LOGLOSS_EPS = 1e-15


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.4f} [{self.low:.4f}, {self.high:.4f}]"


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, Estimate]
    n_rows: int
    n_positives: int
    n_accounts: int
    warnings: tuple[str, ...] = field(default=())
    weekly_capacity: int = 0  # k of precision_at_k / recall_at_k
    busiest_week: int = 0  # the most accounts scored in one week of the window

    @property
    def capacity_note(self) -> str | None:
        """With k at least every week's accounts, every account is flagged: P@k is the base rate
        and R@k 1 whatever the scores, figures that look like results but say nothing."""
        if self.n_rows == 0 or self.weekly_capacity < self.busiest_week:
            return None
        return said("capacity", capacity=self.weekly_capacity, busiest=self.busiest_week)

    def flat(self, prefix: str = "") -> dict[str, float]:
        """metric, metric_low, metric_high and counts as one flat mapping (for MLflow)."""
        out: dict[str, float] = {
            f"{prefix}n_rows": self.n_rows,
            f"{prefix}n_positives": self.n_positives,
            f"{prefix}n_accounts": self.n_accounts,
        }
        for name, e in self.metrics.items():
            out[f"{prefix}{name}"] = e.value
            out[f"{prefix}{name}_low"] = e.low
            out[f"{prefix}{name}_high"] = e.high
        return out


class _Prepared:
    """Everything that does not depend on the resample weights, computed once."""

    def __init__(
        self,
        rows: pd.DataFrame,
        events: pd.DataFrame | None,
        horizon_days: int,
        csm_of: pd.Series | None,
        params: EvaluationParams,
    ):
        if params.alert_threshold is None:
            raise ValueError("evaluate needs one alert threshold: pass params.for_target(target)")
        self.params = params
        self.threshold = params.alert_threshold
        self.y = rows["y"].to_numpy(dtype=float)
        self.p = rows["p"].to_numpy(dtype=float)
        self.codes, self.accounts = pd.factorize(rows["account_id"], sort=True)
        week_codes, weeks = pd.factorize(rows["as_of"], sort=True)
        self.week = week_codes
        self.n_weeks = len(weeks)

        self.desc = np.argsort(-self.p, kind="mergesort")
        ps = self.p[self.desc]
        self.thr_idx = np.r_[np.flatnonzero(np.diff(ps)), len(ps) - 1]

        # top-k per week: rows sorted by week, then by descending score, in blocks of tied
        # scores (calibrated scores tie in isotonic steps): a block straddling the capacity counts
        # by the share that fits, so the figure does not depend on the order of the rows
        self.by_week = np.lexsort((-self.p, self.week))
        wk_sorted = self.week[self.by_week]
        new = np.r_[True, (np.diff(wk_sorted) != 0) | (np.diff(self.p[self.by_week]) != 0)]
        self.block = np.cumsum(new) - 1
        block_week = wk_sorted[new]
        starts = np.r_[0, np.flatnonzero(np.diff(block_week)) + 1]
        self.week_first_block = np.repeat(starts, np.diff(np.r_[starts, len(block_week)]))

        bins = params.ece_bins
        self.bin = np.minimum((self.p * bins).astype(int), bins - 1)
        self.alert = self.p >= self.threshold
        self.n_csm: np.ndarray | None = None
        if csm_of is not None:
            csm = rows["account_id"].map(csm_of)
            n_csm = pd.DataFrame({"w": self.week, "c": csm}).groupby("w")["c"].nunique()
            self.n_csm = n_csm.reindex(range(self.n_weeks)).to_numpy(dtype=float)

        self.lead_days, self.lead_account, self.lead_warned = _lead_times(
            rows, events, horizon_days, self.threshold, self.accounts
        )

    def compute(self, acc_w: np.ndarray) -> dict[str, float]:
        w = acc_w[self.codes].astype(float)
        y, p = self.y, self.p
        W = w.sum()
        wy = w * y
        P = wy.sum()
        out = dict.fromkeys(METRICS, np.nan)
        if W <= 0:
            return out
        out["brier"] = float(np.sum(w * (p - y) ** 2) / W)
        pc = np.clip(p, LOGLOSS_EPS, 1 - LOGLOSS_EPS)
        out["log_loss"] = float(-np.sum(w * (y * np.log(pc) + (1 - y) * np.log(1 - pc))) / W)
        by = np.bincount(self.bin, weights=wy, minlength=self.params.ece_bins)
        bp = np.bincount(self.bin, weights=w * p, minlength=self.params.ece_bins)
        out["ece"] = float(np.sum(np.abs(by - bp)) / W)

        ws, ys = w[self.desc], y[self.desc]
        tps = np.cumsum(ws * ys)[self.thr_idx]
        fps = np.cumsum(ws * (1 - ys))[self.thr_idx]
        if P > 0 and fps[-1] > 0:
            tpr = np.r_[0.0, tps / tps[-1]]
            fpr = np.r_[0.0, fps / fps[-1]]
            out["roc_auc"] = float(np.trapezoid(tpr, fpr))
        if P > 0:
            recall = tps / tps[-1]
            denom = tps + fps
            precision = np.divide(tps, denom, out=np.zeros_like(tps), where=denom > 0)
            out["pr_auc"] = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
            # lift in the top decile (by weight); the block of tied scores at the boundary
            # counts by the share of its weight inside
            g = np.diff(np.r_[0.0, np.cumsum(ws)[self.thr_idx]])
            top = np.clip(0.1 * W - (np.cumsum(g) - g), 0, g)
            if top.sum() > 0:
                rate = np.divide(tps - np.r_[0.0, tps[:-1]], g, out=np.zeros_like(g), where=g > 0)
                out["lift_top_decile"] = float((np.sum(top * rate) / top.sum()) / (P / W))

        # precision and recall at weekly capacity k, by blocks of tied scores
        wk = w[self.by_week]
        gw = np.bincount(self.block, weights=wk)
        gy = np.bincount(self.block, weights=wk * y[self.by_week])
        cg = np.cumsum(gw)
        within = cg - gw - np.r_[0.0, cg][self.week_first_block]
        flagged = np.clip(self.params.weekly_capacity - within, 0, gw)
        hits = np.sum(np.divide(flagged, gw, out=np.zeros_like(gw), where=gw > 0) * gy)
        if flagged.sum() > 0:
            out["precision_at_k"] = float(hits / flagged.sum())
        if P > 0:
            out["recall_at_k"] = float(hits / P)

        if self.n_csm is not None:
            alerts = np.bincount(self.week, weights=w * self.alert, minlength=self.n_weeks)
            ok = self.n_csm > 0
            if ok.any():
                out["alerts_per_csm_week"] = float(np.mean(alerts[ok] / self.n_csm[ok]))

        if len(self.lead_account):
            ew = acc_w[self.lead_account].astype(float)
            if ew.sum() > 0:
                out["share_warned"] = float(np.sum(ew * self.lead_warned) / ew.sum())
            warned = self.lead_warned & (ew > 0)
            if warned.any():
                out["median_lead_days"] = _weighted_median(self.lead_days[warned], ew[warned])
        return out


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values, kind="mergesort")
    v, cw = values[order], np.cumsum(weights[order])
    half = cw[-1] / 2
    i = int(np.searchsorted(cw, half))
    # an exact split between two values takes their mean, like np.median with integer weights
    if np.isclose(cw[i], half) and i + 1 < len(v):
        return float((v[i] + v[i + 1]) / 2)
    return float(v[i])


def _lead_times(
    rows: pd.DataFrame,
    events: pd.DataFrame | None,
    horizon_days: int,
    threshold: float,
    accounts: pd.Index,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per event covered by the window: days from the first alert to the event, account, warned?

    An event at E is covered by the snapshots with as_of <= E < as_of + horizon; the lead time is
    E minus the earliest of those snapshots whose score reached the threshold, so it is at most
    the horizon.
    """
    empty = (np.zeros(0), np.zeros(0, dtype=int), np.zeros(0, dtype=bool))
    if events is None or events.empty:
        return empty
    ev = events[["account_id", "event_at"]].reset_index(drop=True)
    ev = ev.assign(event=np.arange(len(ev)))
    m = rows[["account_id", "as_of", "p"]].merge(ev, on="account_id")
    m = m[
        (m["as_of"] <= m["event_at"])
        & (m["event_at"] < m["as_of"] + pd.Timedelta(days=horizon_days))
    ]
    if m.empty:
        return empty
    covered = m.groupby("event").agg(
        account_id=("account_id", "first"), event_at=("event_at", "first")
    )
    first_alert = m[m["p"] >= threshold].groupby("event")["as_of"].min()
    covered = covered.join(first_alert.rename("first_alert"))
    lead = (covered["event_at"] - covered["first_alert"]).dt.total_seconds() / 86400.0
    warned = covered["first_alert"].notna().to_numpy()
    account = accounts.get_indexer(pd.Index(covered["account_id"]))
    return lead.fillna(0.0).to_numpy(), account, warned


def evaluate(
    rows: pd.DataFrame,
    params: EvaluationParams,
    *,
    horizon_days: int,
    events: pd.DataFrame | None = None,
    csm_of: pd.Series | None = None,
    label: str = "",
) -> Evaluation:
    """All metrics for scores `p` against labels `y` on rows (account_id, as_of, y, p).

    `events` (account_id, event_at) are the target's events, for the lead time; `csm_of` maps
    account_id to its CSM, for alert volume per CSM. Missing inputs give NaN for those metrics.
    """
    prep = _Prepared(rows, events, horizon_days, csm_of, params)
    n_acc = len(prep.accounts)
    point = prep.compute(np.ones(n_acc))
    rng = np.random.default_rng(params.bootstrap_seed)
    draws = np.empty((params.bootstrap_samples, len(METRICS)))
    for b in range(params.bootstrap_samples):
        acc_w = (
            np.bincount(rng.integers(0, n_acc, n_acc), minlength=n_acc) if n_acc else np.zeros(0)
        )
        r = prep.compute(acc_w)
        draws[b] = [r[m] for m in METRICS]
    with warnings.catch_warnings():  # a metric undefined in every resample stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        low = np.nanpercentile(draws, 2.5, axis=0)
        high = np.nanpercentile(draws, 97.5, axis=0)
        mid = np.nanmedian(draws, axis=0)
    # ECE is biased upwards, the more so the smaller the sample: a resample's duplicated accounts
    # add miscalibration of their own, so its percentiles can lie wholly above the point. Its
    # interval is the resamples' spread around their median, placed at the point (the bootstrap's
    # bias taken out) and clipped at 0: it always holds the point, as the estimate's error
    i = METRICS.index("ece")
    shift = point["ece"] - mid[i]
    low[i], high[i] = np.maximum(0.0, low[i] + shift), high[i] + shift  # NaN stays NaN
    metrics = {
        m: Estimate(float(point[m]), float(low[i]), float(high[i])) for i, m in enumerate(METRICS)
    }
    n_pos = int(rows["y"].sum())
    warns = []
    if n_pos < params.min_positives:
        warns.append(
            said(
                "unreliable",
                label=" " + label if label else "",
                n=n_pos,
                least=params.min_positives,
            )
        )
    busiest = int(np.bincount(prep.week).max()) if len(rows) else 0
    return Evaluation(
        metrics, len(rows), n_pos, n_acc, tuple(warns), params.weekly_capacity, busiest
    )


def paired_difference(
    base: pd.DataFrame, other: pd.DataFrame, params: EvaluationParams, metric: str
) -> Estimate:
    """`metric` of `other`'s scores minus `base`'s on the rows both score (account_id, as_of, y,
    p), with a 95% CI from one account bootstrap that resamples both alike. Two versions scored on
    one window err on the same accounts, so their own intervals overlap where this one, the
    interval of the difference, may lie wholly on one side of 0."""
    rows = base.merge(other[["account_id", "as_of", "p"]], on=["account_id", "as_of"])
    preps = [_Prepared(rows.assign(p=rows[col]), None, 0, None, params) for col in ("p_x", "p_y")]
    n_acc = len(preps[0].accounts)
    ones = np.ones(n_acc)
    point = preps[1].compute(ones)[metric] - preps[0].compute(ones)[metric]
    rng = np.random.default_rng(params.bootstrap_seed)
    draws = np.empty(params.bootstrap_samples)
    for b in range(params.bootstrap_samples):
        acc_w = np.bincount(rng.integers(0, n_acc, n_acc), minlength=n_acc)
        draws[b] = preps[1].compute(acc_w)[metric] - preps[0].compute(acc_w)[metric]
    with warnings.catch_warnings():  # undefined in every resample: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(draws, [2.5, 97.5]) if n_acc else (np.nan, np.nan)
    return Estimate(float(point), float(low), float(high))
