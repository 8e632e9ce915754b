"""Labels of feature snapshots: did the account escalate (30 days) or churn (90 days) after as_of?

`escalation_30d` is 1 when an escalation was opened in [as_of, as_of + escalation_days), and
`churn_90d` when the account churned in [as_of, as_of + churn_days). A snapshot is unlabeled (NaN:
kept for scoring, excluded from training and evaluation) when its source has no escalations /
churn table, or when its horizon runs past where that table is known to be complete (`label_ends`):
an escalations export that ends weeks before the tickets says nothing of those weeks, and reading
its silence as "no escalation" would teach and test the model on wrong negatives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.contract import History
from features.pointintime import data_end
from features.windows import seconds
from training.params import LabelParams
from training.text import Said, said

__all__ = [
    "LABELS",
    "LabelEnd",
    "add_labels",
    "data_end",
    "label_ends",
    "label_notes",
    "labeled",
    "new_escalations",
    "table_end",
]

LABELS = ("escalation_30d", "churn_90d")
DAY = 86_400
# each label's events table and the params.yaml `labels:` key saying where that table ends
TABLE = {"escalation_30d": "escalations", "churn_90d": "churn"}
SETTING = {"escalation_30d": "escalations_until", "churn_90d": "churn_until"}
_TIMES = {"escalations": ("opened_at", "acknowledged_at", "closed_at"), "churn": ("churned_at",)}


@dataclass(frozen=True)
class LabelEnd:
    """Where one label's events table is known to be complete: a horizon past `end` is unlabeled.

    `end` is None when the source lacks the table, or it holds no event to tell its end by
    (rule "table"). `rule` is the setting as params.yaml gives it: "table", "source" or a date.
    """

    target: str
    table: str
    setting: str  # the params.yaml key under `labels:`
    rule: str
    present: bool  # the source has the table
    end: pd.Timestamp | None
    data_end: pd.Timestamp | None  # the latest event of any table, for telling an early end


def table_end(history: History, table: str) -> pd.Timestamp | None:
    """The latest event time in one label table: a lower bound of where its export ends."""
    df = history.table(table)
    if df is None:
        return None
    latest = [df[c].max() for c in _TIMES[table] if c in df and df[c].notna().any()]
    return max(latest) if latest else None


def label_ends(history: History, params: LabelParams) -> dict[str, LabelEnd]:
    """target -> where its table ends, by `labels.escalations_until` / `labels.churn_until`.

    "table": the table's own latest event (sound whatever the export: the quiet days after it stay
    unlabeled); "source": the latest event of any table (the table is exported with the rest); a
    date: the table covers everything before its midnight UTC (its extraction day), never less
    than its own latest event and never past the data's end.
    """
    everything = data_end(history)
    out = {}
    for target, table in TABLE.items():
        rule: str | dt.date = getattr(params, SETTING[target])
        present = history.table(table) is not None
        own = table_end(history, table)
        end: pd.Timestamp | None
        if not present:
            end = None
        elif rule == "auto":
            end = _auto_end(history, table, own, everything)
        elif rule == "table":
            end = own
        elif rule == "source":
            end = everything
        else:
            declared = pd.Timestamp(rule, tz="UTC")
            end = declared if own is None else max(declared, own)
            end = end if everything is None else min(end, everything)
        shown = rule if isinstance(rule, str) else rule.isoformat()
        out[target] = LabelEnd(target, table, SETTING[target], shown, present, end, everything)
    return out


# "auto" takes a table as cut when its own pace makes the quiet after its latest event this
# unlikely: P(no event in the gap) = exp(-expected) below 1 %
CUT_EXPECTED = float(np.log(100))


def _auto_end(
    history: History, table: str, own: pd.Timestamp | None, everything: pd.Timestamp | None
) -> pd.Timestamp | None:
    """Rule "auto": the data's end, unless the table falls silent before it for longer than its
    own pace of events explains (an export cut short: a frequent escalations table ending weeks
    before the tickets), then its latest event. A rare table (churn) is quiet for weeks without
    being cut, and its newest labels are the ones the model learns the latest churn from; a
    table with fewer than two events tells no pace, and nothing to tell its end by: its own."""
    if own is None or everything is None or own >= everything:
        return own
    df = history.table(table)
    assert df is not None  # it has an event (own)
    times = df[_TIMES[table][0]].dropna()  # the events the label counts
    span = (own - times.min()).total_seconds()
    if times.nunique() < 2 or span <= 0:
        return own
    expected = (times.nunique() - 1) / span * (everything - own).total_seconds()
    return own if expected > CUT_EXPECTED else everything


def add_labels(
    frame: pd.DataFrame,
    history: History,
    params: LabelParams,
    ends: dict[str, LabelEnd] | None = None,
) -> pd.DataFrame:
    """A copy of `frame` (account_id, as_of, ...) with float label columns: 1, 0 or NaN."""
    ends = label_ends(history, params) if ends is None else ends
    out = frame.copy()
    as_of = seconds(out["as_of"]) if len(out) else np.zeros(0, np.int64)
    esc = history.escalations
    out["escalation_30d"] = _label(
        out["account_id"], as_of, None if esc is None else new_escalations(esc),
        params.escalation_days, _seconds(ends["escalation_30d"].end),
    )  # fmt: skip
    churn = history.churn
    out["churn_90d"] = _label(
        out["account_id"], as_of, None if churn is None else churn[["account_id", "churned_at"]],
        params.churn_days, _seconds(ends["churn_90d"].end),
    )  # fmt: skip
    return out


def new_escalations(esc: pd.DataFrame) -> pd.DataFrame:
    """The escalations that start one (account_id, opened_at): not those raised on a ticket while
    an earlier escalation of it is still open (an importer writes every priority raise or
    reassignment to a higher level as a row of its own). Such a raise continues an escalation
    already open, not one a snapshot between the two could foresee: counted, it made an open
    escalation look like a coming one. Rows without a ticket cannot be told apart: each counts."""
    cols = ["account_id", "opened_at"]
    if "ticket_id" not in esc or not esc["ticket_id"].notna().any():
        return esc[cols]
    on = esc[esc["ticket_id"].notna() & esc["opened_at"].notna()]
    on = on.sort_values(["ticket_id", "opened_at"], kind="stable")
    # when each escalation stops being open, as ns: never closed stays open for good
    closed = on["closed_at"] if "closed_at" in on else pd.Series(pd.NaT, index=on.index)
    until = pd.Series(np.where(closed.notna(), _ns(closed), np.iinfo(np.int64).max), index=on.index)
    ticket = on["ticket_id"].astype(str)
    before = until.groupby(ticket, sort=False).cummax().groupby(ticket, sort=False).shift(1)
    continues = before.notna() & (before > _ns(on["opened_at"]))
    return esc.drop(index=on.index[continues.to_numpy()])[cols]


def _ns(times: pd.Series) -> np.ndarray:
    return times.dt.tz_convert("UTC").astype("int64").to_numpy()


def labeled(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """The rows usable for training or evaluating one target (its label is known)."""
    return frame[frame[target].notna()]


def past_end(frame: pd.DataFrame, end: LabelEnd, horizon_days: int) -> int:
    """The snapshots of `frame` left unlabeled because their horizon runs past the table's end
    (all of them when nothing tells where it ends); 0 when the source lacks the table."""
    if not end.present:
        return 0
    if end.end is None:
        return len(frame)
    return int((frame["as_of"] + pd.Timedelta(days=horizon_days) > end.end).sum())


def _seconds(end: pd.Timestamp | None) -> np.int64 | None:
    return None if end is None else np.int64(seconds(pd.Series([end]))[0])


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


def label_notes(
    frame: pd.DataFrame, ends: dict[str, LabelEnd], horizons: dict[str, int], file: str
) -> list[Said]:
    """What `escrisk train` tells of each trained label's end: how many snapshots its table's end
    leaves unlabeled and, when the table ends before the rest of the data, how to say it goes on."""
    notes: list[Said] = []
    for target, days in horizons.items():
        end = ends.get(target)
        if end is None or not end.present:
            continue
        n = past_end(frame, end, days)
        rows = len(frame)
        if end.end is None:
            notes.append(said("no_table_events", target=target, rows=rows, table=end.table,
                              setting=end.setting, rule=end.rule, file=file))  # fmt: skip
            continue
        if not n:
            continue
        notes.append(
            said("unlabeled", target=target, n=n, rows=rows, days=days, table=end.table,
                 end=_when(end.end), rule=_rule(end))
        )  # fmt: skip
        if end.rule in ("table", "auto") and end.data_end is not None and end.end < end.data_end:
            horizon_end = frame["as_of"] + pd.Timedelta(days=days)
            early = int(((horizon_end > end.end) & (horizon_end <= end.data_end)).sum())
            if early:
                notes.append(
                    said("ends_early", target=target, table=end.table, end=_when(end.end),
                         data_end=_when(end.data_end), n=early, setting=end.setting, file=file)
                )  # fmt: skip
    return notes


def _when(t: pd.Timestamp) -> str:
    return f"{t:%Y-%m-%d %H:%M} UTC"


def _rule(end: LabelEnd) -> Said:
    if end.rule in ("table", "source", "auto"):
        return said(f"rule_{end.rule}", setting=end.setting)
    return said("rule_date", setting=end.setting, date=end.rule)
