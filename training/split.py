"""Time-based train / validation / test windows by as_of, and rolling-origin backtest folds.

A snapshot belongs to a window only when its whole label horizon [as_of, as_of + horizon) lies
inside the window, so no label peeks across a cut point and consecutive windows are separated by
a gap of at least the horizon. The same cut points serve every target; each target's own horizon
decides which of its snapshots fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from features.errors import UserError
from training.params import SplitParams
from training.text import Joined, Refusal, Said, said

WINDOWS = ("train", "validation", "test")


@dataclass(frozen=True)
class Split:
    """Cut points (midnight UTC). test_end None means the end of the data."""

    train_end: pd.Timestamp
    validation_end: pd.Timestamp
    test_end: pd.Timestamp | None
    chosen_automatically: bool
    source: str = "params.yaml"  # the settings file read (--params), told where it is meant

    def describe(self) -> Said:
        end = said("end_of_data") if self.test_end is None else f"{self.test_end:%Y-%m-%d}"
        how = (
            said("split_chosen")
            if self.chosen_automatically
            else said("split_from", source=self.source)
        )
        return said(
            "split", how=how, train_end=f"{self.train_end:%Y-%m-%d}",
            validation_end=f"{self.validation_end:%Y-%m-%d}", test_end=end,
        )  # fmt: skip

    def to_dict(self) -> dict[str, str | None | bool]:
        return {
            "train_end": self.train_end.strftime("%Y-%m-%d"),
            "validation_end": self.validation_end.strftime("%Y-%m-%d"),
            "test_end": None if self.test_end is None else self.test_end.strftime("%Y-%m-%d"),
            "chosen_automatically": self.chosen_automatically,
        }


def _ts(d: Any) -> pd.Timestamp:
    t = pd.Timestamp(d)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def window_of(as_of: pd.Series, horizon_days: int, split: Split) -> pd.Series:
    """'train', 'validation', 'test' or None (in a gap) for each snapshot."""
    h = pd.Timedelta(days=horizon_days)
    end = as_of + h
    out = pd.Series(np.full(len(as_of), None, dtype=object), index=as_of.index)
    out[end <= split.train_end] = "train"
    out[(as_of >= split.train_end) & (end <= split.validation_end)] = "validation"
    test = as_of >= split.validation_end
    if split.test_end is not None:
        test &= end <= split.test_end
    out[test] = "test"
    return out


def window_frames(
    frame: pd.DataFrame, target: str, horizon_days: int, split: Split
) -> dict[str, pd.DataFrame]:
    """The labelled rows of `target` in each window (unlabelled snapshots never train or score)."""
    labelled = frame[frame[target].notna()]
    where = window_of(labelled["as_of"], horizon_days, split)
    return {w: labelled[where == w] for w in WINDOWS}


def seen_rows(frame: pd.DataFrame, horizons: Mapping[str, int], split: Split) -> pd.DataFrame:
    """The snapshots some head was fitted on or calibrated on: labelled rows in the train or
    validation window of their target. The test window's rows are never among them."""
    seen = pd.Series(False, index=frame.index)
    for target, days in horizons.items():
        where = window_of(frame["as_of"], days, split)
        seen |= frame[target].notna() & where.isin(("train", "validation"))
    return frame[seen]


def positives_per_window(
    frame: pd.DataFrame, horizons: Mapping[str, int], split: Split
) -> dict[str, dict[str, int]]:
    """target -> window -> labelled positives: what a reader checks first in a thin export."""
    return {
        t: {w: int((f[t] == 1).sum()) for w, f in window_frames(frame, t, h, split).items()}
        for t, h in horizons.items()
    }


def short_windows(
    frame: pd.DataFrame, horizons: Mapping[str, int], split: Split, min_positives: int
) -> list[Said]:
    """ "target/window: n" for every window holding fewer than `min_positives` labelled positives."""
    return [
        said("short_window", target=t, window=said(f"window_{w}"), n=n)
        for t, per in positives_per_window(frame, horizons, split).items()
        for w, n in per.items()
        if n < min_positives
    ]


def split_from_params(params: SplitParams, source: str = "params.yaml") -> Split | None:
    if params.train_end is None or params.validation_end is None:
        return None
    return Split(
        train_end=_ts(params.train_end),
        validation_end=_ts(params.validation_end),
        test_end=None if params.test_end is None else _ts(params.test_end),
        chosen_automatically=False,
        source=source,
    )


def choose_split(
    frame: pd.DataFrame,
    horizons: Mapping[str, int],
    params: SplitParams,
    source: str = "params.yaml",
) -> Split:
    """Cut points from the settings file `source`, else the latest ones that leave every window enough positives.

    The test window is the most recent stretch holding `test_share` of each target's positives
    (at least `min_positives`); validation is the stretch before it holding `validation_share`;
    training gets the rest. Raises a UserError naming the target and window that fall short.
    """
    split = split_from_params(params, source)
    if split is None:
        try:
            shares: Split | None = _automatic_split(frame, horizons, params, True, source)
        except UserError:  # the shares leave no room for validation (or test) at all
            shares = None
        if shares is not None and not short_windows(frame, horizons, shares, params.min_positives):
            split = shares
        else:
            # the shares left training short: test and validation get only the minimum
            split = _automatic_split(frame, horizons, params, False, source)
        split = replace(split, source=source)
    short = short_windows(frame, horizons, split, params.min_positives)
    if short:
        raise Refusal(
            "split_short", split=split.describe(), least=params.min_positives, short=Joined(short),
            advice=_advice(frame, horizons, split, _lowering_helps(frame, horizons, split, params)),
        )  # fmt: skip
    return split


def _lowering_helps(
    frame: pd.DataFrame, horizons: Mapping[str, int], split: Split, params: SplitParams
) -> bool:
    """Lowering split.min_positives helps only while it is above 1 (its least) and no window is
    empty: a window without a positive (dates past the data) needs other dates."""
    counts = positives_per_window(frame, horizons, split)
    return params.min_positives > 1 and all(n > 0 for per in counts.values() for n in per.values())


def _advice(
    frame: pd.DataFrame, horizons: Mapping[str, int], split: Split, lowering_helps: bool = True
) -> Said:
    """What to change: dates the user set are moved within the data, not set (they are)."""
    if split.chosen_automatically:
        return said("advice_auto" if lowering_helps else "advice_auto_dates", file=split.source)
    return said(
        "advice_dates" if lowering_helps else "advice_move",
        first=f"{frame['as_of'].min():%Y-%m-%d}", last=f"{frame['as_of'].max():%Y-%m-%d}",
        horizons=_horizons(horizons), file=split.source,
    )  # fmt: skip


def _horizons(horizons: Mapping[str, int]) -> Joined:
    """ "escalation_30d 30 days, churn_90d 90 days", told in the text's language."""
    return Joined(said("horizon", target=t, days=h) for t, h in horizons.items())


def _counts(counts: Mapping[str, int]) -> Joined:
    """ "escalation_30d 12, churn_90d 0": positives per target."""
    return Joined(said("target_count", target=t, n=n) for t, n in counts.items())


def _more_history(horizons: Mapping[str, int], params: SplitParams) -> Said:
    """The advice when the automatic cuts find too few positives: split.min_positives is at least
    1, so at 1 only a longer history helps (each window needs its label horizon after it)."""
    key = "more_history" if params.min_positives <= 1 else "more_history_or_lower"
    return said(key, horizons=_horizons(horizons))


def _automatic_split(
    frame: pd.DataFrame,
    horizons: Mapping[str, int],
    params: SplitParams,
    proportional: bool,
    source: str = "params.yaml",
) -> Split:
    """The latest cuts leaving test and validation their share of the positives (at least
    split.min_positives), or with `proportional` False only split.min_positives each."""
    dates = np.sort(frame["as_of"].unique())
    if len(dates) < 3:
        raise Refusal("few_dates", n=len(dates))
    cuts = pd.DatetimeIndex(dates)
    test_end = None if params.test_end is None else _ts(params.test_end)

    def positives(t: str, h: int, start: pd.Timestamp | None, end: pd.Timestamp | None) -> int:
        lab = frame[frame[t] == 1]
        m = np.ones(len(lab), dtype=bool)
        if start is not None:
            m &= (lab["as_of"] >= start).to_numpy()
        if end is not None:
            m &= (lab["as_of"] + pd.Timedelta(days=h) <= end).to_numpy()
        return int(m.sum())

    totals = {t: positives(t, h, None, test_end) for t, h in horizons.items()}

    def need(t: str, share: float) -> float:
        return max(params.min_positives, share * totals[t] if proportional else 0.0)

    validation_end = None
    for c in cuts[::-1]:
        if all(
            positives(t, h, c, test_end) >= need(t, params.test_share) for t, h in horizons.items()
        ):
            validation_end = c
            break
    if validation_end is None:
        none = [t for t in horizons if totals[t] == 0]
        short = [t for t in horizons if totals[t] < 2 * params.min_positives]
        cut = [t for t in none if test_end is not None and positives(t, horizons[t], None, None)]
        if cut:  # the data has them: split.test_end (given alone) lies before them
            hint = said(
                "hint_test_end", targets=", ".join(cut), end=f"{test_end:%Y-%m-%d}",
                first=f"{cuts[0]:%Y-%m-%d}", last=f"{cuts[-1]:%Y-%m-%d}", file=source,
            )  # fmt: skip
        elif none:  # no setting helps: a head cannot learn events its data never shows
            hint = said("hint_no_positive", targets=", ".join(none), file=source)
        elif short:
            more = _more_history(horizons, params)
            hint = said("hint_too_few", targets=", ".join(short), more=more)
        else:
            hint = said("hint_more", more=_more_history(horizons, params))
        raise Refusal(
            "no_test_window", least=params.min_positives, totals=_counts(totals), hint=hint
        )
    train_end = None
    for c in cuts[cuts < validation_end][::-1]:
        if all(
            positives(t, h, c, validation_end) >= need(t, params.validation_share)
            for t, h in horizons.items()
        ):
            train_end = c
            break
    if train_end is None:
        before = {t: positives(t, h, None, validation_end) for t, h in horizons.items()}
        raise Refusal(
            "no_validation_window", end=f"{validation_end:%Y-%m-%d}", least=params.min_positives,
            totals=_counts(totals), before=_counts(before), more=_more_history(horizons, params),
        )  # fmt: skip
    return Split(train_end, validation_end, test_end, chosen_automatically=True)


def backtest_splits(
    frame: pd.DataFrame,
    split: Split,
    k: int,
    horizons: Mapping[str, int] | None = None,
    min_positives: int = 1,
) -> list[Split]:
    """k rolling-origin folds, oldest first, the last being `split` itself.

    Each earlier fold moves all cut points back by the length of the test window (rounded up to
    whole weeks), so the test windows tile the recent past and training always expands. With
    `horizons`, every earlier fold's windows are checked for `min_positives` labelled positives
    per target before anything is trained, so a fold that cannot be trained is named at once.
    """
    if k < 1:
        raise Refusal("backtest_k")
    end = (
        split.test_end
        if split.test_end is not None
        else frame["as_of"].max() + pd.Timedelta(days=1)
    )
    step = pd.Timedelta(days=7 * int(np.ceil((end - split.validation_end).days / 7)))
    longest = pd.Timedelta(days=max(horizons.values(), default=0)) if horizons else pd.Timedelta(0)
    # a fold trains on snapshots whose label horizon ends by its train_end: with none, it has no
    # training data, so the folds that fit are those whose train_end lies a horizon past the start
    room = split.train_end - longest - frame["as_of"].min()
    most = int(np.floor(room / step)) + 1 if horizons else int(np.ceil(room / step))
    if k > max(most, 1):
        if most <= 1:
            raise Refusal("backtest_none_fits", k=k, days=step.days, file=split.source)
        raise Refusal("backtest_too_many", k=k, most=most, days=step.days)
    folds = []
    for i in range(k - 1, 0, -1):
        shift = step * i
        folds.append(
            replace(
                split,
                train_end=split.train_end - shift,
                validation_end=split.validation_end - shift,
                test_end=split.validation_end - shift + step,
            )
        )
    folds.append(split)
    if folds[0].train_end <= frame["as_of"].min():
        raise Refusal("backtest_oldest", k=k, train_end=f"{folds[0].train_end:%Y-%m-%d}")
    for i, fold in enumerate(folds[:-1], start=1):
        short = short_windows(frame, horizons or {}, fold, min_positives)
        if short:
            # a lower minimum helps only above 1 and when no window is empty (as choose_split)
            counts = positives_per_window(frame, horizons or {}, fold)
            empty = any(n == 0 for per in counts.values() for n in per.values())
            lower = min_positives > 1 and not empty
            raise Refusal(
                "backtest_fold_lower" if lower else "backtest_fold_short", k=k, fold=i,
                start=f"{fold.validation_end:%Y-%m-%d}", least=min_positives, short=Joined(short),
            )  # fmt: skip
    return folds
