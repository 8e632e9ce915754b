"""Time splits: no label window crosses a cut point; automatic cuts leave enough positives."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.errors import UserError
from training.split import (
    Split,
    backtest_splits,
    choose_split,
    positives_per_window,
    window_frames,
    window_of,
)

T0 = pd.Timestamp("2023-01-02", tz="UTC")


@settings(max_examples=60, deadline=None)
@given(
    horizon=st.integers(1, 120),
    a=st.integers(0, 400),
    b=st.integers(1, 400),
    weeks=st.integers(5, 120),
)
def test_gap_is_at_least_the_horizon(horizon, a, b, weeks):
    as_of = pd.Series(T0 + pd.to_timedelta(range(0, 7 * weeks, 7), unit="D"))
    split = Split(T0 + pd.Timedelta(days=a), T0 + pd.Timedelta(days=a + b), None, False)
    w = window_of(as_of, horizon, split)
    h = pd.Timedelta(days=horizon)
    for earlier, later in (("train", "validation"), ("validation", "test"), ("train", "test")):
        if (w == earlier).any() and (w == later).any():
            # every label window of the earlier split ends before the later split starts
            assert (as_of[w == earlier] + h).max() <= as_of[w == later].min()
            assert as_of[w == later].min() - as_of[w == earlier].max() >= h


def test_split_dates_from_params(synthetic, params, horizons):
    frame, _ = synthetic
    sp = params.split.model_copy(
        update={"train_end": dt.date(2023, 9, 1), "validation_end": dt.date(2024, 1, 1)}
    )
    split = choose_split(frame, horizons, sp)
    assert not split.chosen_automatically
    assert split.train_end == pd.Timestamp("2023-09-01", tz="UTC")
    win = window_frames(frame, "churn_90d", 90, split)
    assert (win["train"]["as_of"] + pd.Timedelta(days=90)).max() <= split.train_end
    assert win["test"]["as_of"].min() >= split.validation_end
    assert win["test"]["churn_90d"].notna().all()


def test_split_names_the_settings_file_it_was_read_from(synthetic, params, horizons):
    """`escrisk train --params other.yaml` said "split (from params.yaml)" and advised setting
    dates in params.yaml, a file it had not read."""
    frame, _ = synthetic
    sp = params.split.model_copy(
        update={"train_end": dt.date(2023, 9, 1), "validation_end": dt.date(2024, 1, 1)}
    )
    split = choose_split(frame, horizons, sp, "conf/other.yaml")
    assert split.describe().startswith("split (from conf/other.yaml): ")
    with pytest.raises(UserError, match=r"split\.test_end in conf/other\.yaml") as err:
        choose_split(
            frame, horizons, sp.model_copy(update={"min_positives": 10_000}), "conf/other.yaml"
        )
    assert "params.yaml" not in str(err.value)


def test_automatic_split_leaves_each_window_enough_positives(synthetic, params, horizons):
    frame, _ = synthetic
    split = choose_split(frame, horizons, params.split)
    assert split.chosen_automatically and "chosen from the data" in split.describe()
    counts = positives_per_window(frame, horizons, split)
    for per in counts.values():
        assert min(per.values()) >= params.split.min_positives


def test_too_few_positives_is_a_user_error(synthetic, params, horizons):
    frame, _ = synthetic
    with pytest.raises(UserError, match="positives"):
        choose_split(frame, horizons, params.split.model_copy(update={"min_positives": 10_000}))


def test_backtest_folds_roll_back_in_time(synthetic, params, horizons):
    frame, _ = synthetic
    split = choose_split(frame, horizons, params.split)
    folds = backtest_splits(frame, split, 2)
    assert folds[-1] == split
    ends = [f.validation_end for f in folds]
    assert ends == sorted(ends)
    for older, newer in zip(folds, folds[1:], strict=False):
        assert older.test_end == newer.validation_end  # test windows tile the recent past
    for k in (50, 10**20):  # far too many: said, not an overflow
        with pytest.raises(UserError, match=r"no training data; at most \d+ test windows?"):
            backtest_splits(frame, split, k)
    # a fold whose windows hold too few positives is named before anything is trained
    day = pd.Timedelta(days=1)
    roomy = Split(T0 + 400 * day, T0 + 500 * day, T0 + 605 * day, False)
    with pytest.raises(UserError, match=r"fold 1 of 2 \(test from .*too few labelled positives"):
        backtest_splits(frame, roomy, 2, horizons, min_positives=10**6)


def test_when_the_shares_leave_training_short_test_and_validation_get_the_minimum(params):
    """A short history: 20% of the positives for test and validation each, and a 90-day gap after
    each, left training none; the advice (lower min_positives) could not help."""
    weeks = pd.date_range(T0, periods=40, freq="7D")
    frame = pd.DataFrame(
        {
            "account_id": [f"A{i}" for _ in weeks for i in range(20)],
            "as_of": [w for w in weeks for _ in range(20)],
            "churn_90d": [float(i < 10) for _ in weeks for i in range(20)],
        }
    )
    sp = params.split.model_copy(
        update={"min_positives": 30, "train_end": None, "validation_end": None}
    )
    split = choose_split(frame, {"churn_90d": 90}, sp)
    per = positives_per_window(frame, {"churn_90d": 90}, split)["churn_90d"]
    assert min(per.values()) >= 30  # the shares (80 each) left training none


def test_split_dates_that_leave_a_window_empty_are_told_with_the_datas_range(
    synthetic, params, horizons
):
    """Dates the user set: the advice is where the data lies, not to set the dates they set."""
    frame, _ = synthetic
    sp = params.split.model_copy(
        update={"train_end": dt.date(2030, 1, 1), "validation_end": dt.date(2030, 6, 1)}
    )
    with pytest.raises(UserError) as e:
        choose_split(frame, horizons, sp)
    text = str(e.value)
    assert "set split dates" not in text
    assert f"run {frame['as_of'].min():%Y-%m-%d} .. {frame['as_of'].max():%Y-%m-%d}" in text
    assert "churn_90d 90 days" in text


def test_a_history_too_short_for_a_validation_window_counts_what_lies_before_the_test(
    synthetic, params
):
    """'need 1 per target; totals 374' read as a contradiction: the error names the window that
    falls short and what it holds."""
    frame, _ = synthetic
    short = frame[frame["as_of"] < frame["as_of"].min() + pd.Timedelta(weeks=20)]
    sp = params.split.model_copy(update={"min_positives": 1})
    with pytest.raises(UserError) as e:
        choose_split(short, {"churn_90d": 90}, sp)
    text = str(e.value)
    assert "churn_90d/train: 0" in text, text
    assert "Use more history" in text


def test_when_the_shares_leave_no_validation_window_test_and_validation_get_the_minimum(params):
    """Positives crowded into the last weeks (a burst of churn): 20% of them for validation
    cannot lie before the test window, yet split.min_positives each can. The split fell over with
    'need 3 per target ... 12 for training and validation to share' instead of taking the minimum."""
    weeks = pd.date_range(T0, periods=60, freq="7D")
    frame = pd.DataFrame(
        [
            (f"A{i}", w, float((k % 4 == 0 and i == 0) or (k >= 50 and i < 8)))
            for k, w in enumerate(weeks)
            for i in range(10)
        ],
        columns=["account_id", "as_of", "churn_90d"],
    )
    sp = params.split.model_copy(
        update={"min_positives": 3, "train_end": None, "validation_end": None}
    )
    split = choose_split(frame, {"churn_90d": 90}, sp)
    per = positives_per_window(frame, {"churn_90d": 90}, split)["churn_90d"]
    assert split.chosen_automatically and min(per.values()) >= 3, per


def test_backtest_counts_only_folds_whose_training_window_holds_a_label(synthetic, horizons):
    """`--backtest K` too many said "at most N fit", yet N then failed with 0 training positives:
    a fold trains only on snapshots whose label horizon (churn: 90 days) ends by its train_end."""
    frame, _ = synthetic
    day = pd.Timedelta(days=1)
    split = Split(T0 + 400 * day, T0 + 500 * day, T0 + 605 * day, False)  # 105-day test windows
    with pytest.raises(UserError, match=r"at most 3 test windows of 105 days"):
        backtest_splits(frame, split, 5, horizons, min_positives=1)
    with pytest.raises(UserError, match=r"at most 3 test windows?"):
        backtest_splits(frame, split, 4, horizons, min_positives=1)
    folds = backtest_splits(frame, split, 3, horizons, min_positives=1)
    assert positives_per_window(frame, horizons, folds[0])["churn_90d"]["train"] > 0
    # a history that holds the split's own test window only says so, and what to change
    late = Split(T0 + 150 * day, T0 + 250 * day, None, False)
    with pytest.raises(UserError, match=r"no backtest fits.*split\.validation_end"):
        backtest_splits(frame, late, 2, horizons, min_positives=1)


def test_a_target_without_any_positive_is_not_told_to_lower_min_positives(params, horizons):
    """An empty churn table: "lower split.min_positives" could not help (it is at least 1)."""
    weeks = pd.date_range(T0, periods=60, freq="7D")
    frame = pd.DataFrame(
        {
            "account_id": [f"A{i}" for _ in weeks for i in range(20)],
            "as_of": [w for w in weeks for _ in range(20)],
            "escalation_30d": [float(i < 5) for _ in weeks for i in range(20)],
            "churn_90d": 0.0,
        }
    )
    one = params.split.model_copy(update={"min_positives": 1})
    with pytest.raises(UserError) as caught:
        choose_split(frame, horizons, one, "conf/p.yaml")
    said = str(caught.value)
    assert "; churn_90d have no labelled positive in all the data" in said, said
    assert "lower split.min_positives" not in said and "add the events" in said
    # the settings file named is the one read (--params), in English and German
    assert "no setting in conf/p.yaml can train a head" in said, said
    assert "keine Einstellung in conf/p.yaml kann" in caught.value.told("de")


def test_a_history_too_short_at_one_positive_is_not_told_to_lower_min_positives(params, horizons):
    """Six months against churn's 90-day horizon with split.min_positives already 1: the advice
    "or lower split.min_positives" could not help; the horizons that need the history can."""
    weeks = pd.date_range(T0, periods=26, freq="7D")
    frame = pd.DataFrame(
        {
            "account_id": [f"A{i}" for _ in weeks for i in range(20)],
            "as_of": [w for w in weeks for _ in range(20)],
            "escalation_30d": [float(i < 5) for _ in weeks for i in range(20)],
            "churn_90d": [float(i < 2 and w > weeks[12]) for w in weeks for i in range(20)],
        }
    )
    for least, lower in ((1, False), (30, True)):
        with pytest.raises(UserError) as caught:
            choose_split(frame, horizons, params.split.model_copy(update={"min_positives": least}))
        said = str(caught.value)
        assert "use more history (train, validation and test each need a label horizon" in said
        assert ("lower split.min_positives" in said) is lower, said


def test_split_dates_leaving_a_window_empty_at_one_positive_name_only_the_dates(
    synthetic, params, horizons
):
    """split.validation_end past the data (an empty test window): the advice named lowering
    split.min_positives too, which cannot fill an empty window (nor go below 1)."""
    frame, _ = synthetic
    sp = params.split.model_copy(
        update={
            "train_end": dt.date(2023, 9, 1),
            "validation_end": dt.date(2030, 1, 1),
            "min_positives": 1,
        }
    )
    for least in (1, 30):  # nor at 30: no setting fills a window the dates leave empty
        with pytest.raises(UserError) as caught:
            choose_split(frame, horizons, sp.model_copy(update={"min_positives": least}))
        said = str(caught.value)
        assert "churn_90d/test: 0" in said and "move split.train_end" in said, said
        assert "lower split.min_positives" not in said


def test_a_backtest_fold_with_an_empty_window_is_not_told_to_lower_the_minimum(synthetic, horizons):
    """split.min_positives 1 and a fold's validation with no churn positive: the refusal still
    advised "a lower split.min_positives", which cannot go below 1 nor fill an empty window."""
    frame, _ = synthetic
    day = pd.Timedelta(days=1)
    roomy = Split(T0 + 400 * day, T0 + 500 * day, T0 + 605 * day, False)
    fold1 = Split(T0 + 295 * day, T0 + 395 * day, T0 + 500 * day, False)  # backtest fold 1
    v = (frame["as_of"] >= fold1.train_end) & (frame["as_of"] < fold1.validation_end)
    empty = frame.assign(churn_90d=frame["churn_90d"].where(~v, 0.0))
    for data, least in ((empty, 1), (empty, 5), (frame, 1)):
        if data is frame:  # every window holds positives: lowering a high minimum does help
            with pytest.raises(UserError, match="lower split.min_positives"):
                backtest_splits(data, roomy, 2, horizons, min_positives=10**6)
            continue
        with pytest.raises(UserError, match="too few") as said:
            backtest_splits(data, roomy, 2, horizons, min_positives=least)
        assert "lower split.min_positives" not in str(said.value), said.value


def test_the_splits_refusals_are_told_in_german_and_raised_in_english(synthetic, params, horizons):
    """A DACH team read train's refusals in English (too few positives, a backtest that does not
    fit): each is told in the command's language, its English kept for logs and scripts."""
    frame, _ = synthetic
    with pytest.raises(UserError) as err:
        choose_split(frame, horizons, params.split.model_copy(update={"min_positives": 10_000}))
    assert str(err.value).startswith("not enough labelled positives for a test window")
    de = err.value.told("de")
    assert de.startswith("nicht genug gelabelte Positive für ein Testfenster (10000 je Ziel")
    assert "escalation_30d 30 Tage, churn_90d 90 Tage) oder split.min_positives senken" in de
    split = choose_split(frame, horizons, params.split)
    sp = params.split.model_copy(update={"train_end": dt.date(2023, 9, 1)})
    sp = sp.model_copy(update={"validation_end": dt.date(2024, 3, 1), "min_positives": 10_000})
    with pytest.raises(UserError) as err:
        choose_split(frame, horizons, sp, "conf/p.yaml")
    de = err.value.told("de")
    assert de.startswith("Aufteilung (aus conf/p.yaml): Training as_of")
    assert "\nFenster mit weniger gelabelten Positiven als split.min_positives=10000: " in de
    assert "churn_90d/Validierung: " in de and "in conf/p.yaml verschieben oder split.min" in de
    roomy = Split(T0 + 400 * pd.Timedelta(days=1), T0 + 500 * pd.Timedelta(days=1), None, False)
    with pytest.raises(UserError) as err:
        backtest_splits(frame, roomy, 50, horizons)
    assert "höchstens 6 Testfenster von 56 Tagen passen" in err.value.told("de")
    with pytest.raises(UserError) as err:
        backtest_splits(frame, split, 0)
    assert err.value.told("de") == "--backtest braucht K >= 1"


def test_test_end_alone_before_the_data_names_the_setting_not_the_data(synthetic, params, horizons):
    """split.test_end alone is honoured (the cuts are chosen before it); set before the data's
    positives it was told "no labelled positive in all the data ... no setting can train",
    sending the user to the events instead of to the date."""
    frame, _ = synthetic
    first = frame["as_of"].min()
    early = params.split.model_copy(update={"test_end": (first - pd.Timedelta(days=7)).date()})
    with pytest.raises(UserError) as caught:
        choose_split(frame, horizons, early, "conf/p.yaml")
    said = str(caught.value)
    assert "in all the data" not in said and "split.test_end" in said, said
    assert f"{early.test_end:%Y-%m-%d}" in said and "conf/p.yaml" in said
    assert "split.test_end" in caught.value.told("de")
    fine = params.split.model_copy(update={"test_end": (first + pd.Timedelta(weeks=60)).date()})
    split = choose_split(frame, horizons, fine)
    assert split.test_end == pd.Timestamp(fine.test_end, tz="UTC")
