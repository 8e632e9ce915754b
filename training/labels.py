"""Labels of feature snapshots: did the account escalate (30 days) or churn (90 days) after as_of?

`escalation_30d` is 1 when an escalation was opened in [as_of, as_of + escalation_days), and
`churn_90d` when the account churned in [as_of, as_of + churn_days). A snapshot whose horizon runs
past the end of the data (or whose source has no escalations / churn table) is unlabeled: NaN,
kept for scoring, excluded from training and evaluation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.contract import History
from features.pointintime import data_end
from features.windows import seconds
from training.params import LabelParams

__all__ = ["LABELS", "add_labels", "data_end", "labeled"]

LABELS = ("escalation_30d", "churn_90d")
DAY = 86_400


def add_labels(
    frame: pd.DataFrame, history: History, params: LabelParams, data_end: pd.Timestamp | None
) -> pd.DataFrame:
    """A copy of `frame` (account_id, as_of, ...) with float label columns: 1, 0 or NaN."""
    out = frame.copy()
    as_of = seconds(out["as_of"]) if len(out) else np.zeros(0, np.int64)
    end = np.int64(seconds(pd.Series([data_end]))[0]) if data_end is not None else None
    esc = history.escalations
    out["escalation_30d"] = _label(
        out["account_id"], as_of, None if esc is None else esc[["account_id", "opened_at"]],
        params.escalation_days, end,
    )  # fmt: skip
    churn = history.churn
    out["churn_90d"] = _label(
        out["account_id"], as_of, None if churn is None else churn[["account_id", "churned_at"]],
        params.churn_days, end,
    )  # fmt: skip
    return out


def labeled(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """The rows usable for training or evaluating one target (its label is known)."""
    return frame[frame[target].notna()]


def _label(
    account_id: pd.Series,
    as_of: np.ndarray,
    events: pd.DataFrame | None,
    horizon_days: int,
    end: np.int64 | None,
) -> np.ndarray:
    n = len(as_of)
    if events is None or end is None:
        return np.full(n, np.nan)
    ev = events.dropna()
    ids = pd.Index(pd.unique(account_id.astype(object)))
    codes = ids.get_indexer(pd.Index(ev.iloc[:, 0].astype(object)))
    keep = codes >= 0
    span = np.int64(1) << 34
    key = np.sort(codes[keep].astype(np.int64) * span + seconds(ev.iloc[:, 1])[keep])
    row_code = ids.get_indexer(pd.Index(account_id.astype(object))).astype(np.int64)
    lo = np.searchsorted(key, row_code * span + as_of, side="left")
    hi = np.searchsorted(key, row_code * span + as_of + horizon_days * DAY, side="left")
    out = (hi > lo).astype(np.float64)
    out[as_of + horizon_days * DAY > end] = np.nan
    return out
