"""Point-in-time properties of build_features, over generated small histories."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from unittest import mock

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from features import windows
from features.build import FeatureSpec, _frame, as_of_grid, build_features, full_spec
from features.pointintime import history_at

SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: keeps a failing run short
)

FEW = settings(SETTINGS, max_examples=5)


def _build(history, as_of, params, spec=None):
    return build_features(history, as_of, params.features, spec=spec or full_spec(params.features))


@SETTINGS
@given(data=st.data())
def test_features_equal_on_history_as_it_stood(data, params, history_strategy, as_of_strategy):
    history = data.draw(history_strategy)
    as_of = data.draw(as_of_strategy)
    full = _build(history, [as_of], params).frame
    then = _build(history_at(history, as_of), [as_of], params).frame
    pdt.assert_frame_equal(full, then, check_exact=True)


@SETTINGS
@given(data=st.data())
def test_appending_later_events_changes_nothing(data, params, history_strategy, as_of_strategy):
    history = data.draw(history_strategy)
    as_of = data.draw(as_of_strategy)
    later = data.draw(history_strategy)  # its events are shifted to at/after as_of
    shift = as_of - later.tickets["created_at"].min() if len(later.tickets) else pd.Timedelta(0)
    ids = history.accounts["account_id"].tolist()
    t = later.tickets.assign(
        ticket_id="X" + later.tickets["ticket_id"],
        account_id=[ids[i % len(ids)] for i in range(len(later.tickets))],
        created_at=later.tickets["created_at"] + shift,
        first_response_at=later.tickets["first_response_at"] + shift,
        resolved_at=later.tickets["resolved_at"] + shift,
    )
    u = later.usage.assign(account_id=[ids[i % len(ids)] for i in range(len(later.usage))])
    u = u.assign(
        date=as_of.normalize() + (u["date"] - u["date"].min() if len(u) else pd.Timedelta(0))
    )
    u = u[
        ~u.set_index(["account_id", "date"]).index.isin(
            history.usage.set_index(["account_id", "date"]).index
        )
    ]
    e = later.escalations.assign(
        escalation_id="X" + later.escalations["escalation_id"],
        account_id=[ids[i % len(ids)] for i in range(len(later.escalations))],
        opened_at=as_of + pd.Timedelta(hours=1),
    )
    grown = replace(
        history,
        tickets=pd.concat([history.tickets, t], ignore_index=True),
        usage=pd.concat(
            [history.usage, u.drop_duplicates(["account_id", "date"])], ignore_index=True
        ),
        escalations=pd.concat(
            [
                history.escalations,
                e.assign(
                    acknowledged_at=pd.Series(pd.NaT, index=e.index, dtype="datetime64[ns, UTC]"),
                    closed_at=pd.Series(pd.NaT, index=e.index, dtype="datetime64[ns, UTC]"),
                ),
            ],
            ignore_index=True,
        ),
    )
    pdt.assert_frame_equal(
        _build(history, [as_of], params).frame,
        _build(grown, [as_of], params).frame,
        check_exact=True,
    )


@SETTINGS
@given(data=st.data())
def test_events_settled_before_the_long_memory_change_nothing(
    data, params, history_strategy, as_of_strategy
):
    """No feature counts from the start of the data: a ticket resolved and an escalation closed
    (every time of theirs) more than features.long_window_days before as_of, added to any
    history, leave every feature as it was. (Counted since the data began, the values grew with
    the export's length: the training weeks never showed the scoring day's values.)"""
    history = data.draw(history_strategy)
    as_of = data.draw(as_of_strategy)
    older = data.draw(history_strategy)
    edge = as_of - pd.Timedelta(days=params.features.long_window_days)
    ids = history.accounts["account_id"].tolist()

    def moved(df: pd.DataFrame, key: str, cols: list[str]) -> pd.DataFrame:
        """`df`'s settled rows moved back to end a second before the edge, onto our accounts."""
        df = df.dropna(subset=cols)
        back = (
            df[cols].max(axis=None) - edge + pd.Timedelta(seconds=1) if len(df) else pd.Timedelta(0)
        )
        return df.assign(
            **{key: "OLD" + df[key].astype(str)},
            account_id=[ids[i % len(ids)] for i in range(len(df))],
            **{c: df[c] - back for c in cols},
        )

    t = moved(older.tickets, "ticket_id", ["created_at", "first_response_at", "resolved_at"])
    t = t.assign(subject=None, body=None)  # no text: a notice counts as long as it is known
    e = moved(older.escalations, "escalation_id", ["opened_at", "acknowledged_at", "closed_at"])
    grown = replace(
        history,
        tickets=pd.concat([history.tickets, t], ignore_index=True),
        escalations=pd.concat([history.escalations, e], ignore_index=True),
    )
    pdt.assert_frame_equal(
        _build(history, [as_of], params).frame,
        _build(grown, [as_of], params).frame,
        check_exact=True,
    )


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_row_order_never_matters(data, seed, params, history_strategy, shuffle):
    history = data.draw(history_strategy)
    grid = pd.date_range("2024-02-26", periods=10, freq="7D", tz="UTC")
    a = _build(history, grid, params).frame
    b = _build(shuffle(history, seed), grid[::-1], params).frame
    pdt.assert_frame_equal(a, b, check_exact=True)


@SETTINGS
@given(data=st.data())
def test_one_account_alone_equals_its_batch_row(data, params, history_strategy):
    """The API path (one account's history) and the batch agree to the bit."""
    history = data.draw(history_strategy)
    grid = pd.date_range("2024-02-26", periods=10, freq="7D", tz="UTC")
    batch = _build(history, grid, params)
    for aid in history.accounts["account_id"]:
        alone = _build(history.for_accounts([aid]), grid, params, spec=batch.spec).frame
        mine = batch.frame[batch.frame["account_id"] == aid].reset_index(drop=True)
        pdt.assert_frame_equal(alone, mine, check_exact=True)
        one = _build(history.for_accounts([aid]), grid[5:6], params, spec=batch.spec).frame
        pdt.assert_frame_equal(
            one, mine[mine["as_of"] == grid[5]].reset_index(drop=True), check_exact=True
        )


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**16), parts=st.integers(2, 4), business=st.booleans())
def test_the_parts_of_any_partition_equal_the_whole(
    data, seed, parts, business, params, portfolio_strategy, policy_marked
):
    """Builders run per partition of accounts (docs/features.md, Rows): the parts of a random
    partition, built with a fixed spec and put together, equal the whole build to the bit, the
    policy's SLA targets in business hours or not."""
    history, f = policy_marked(data.draw(portfolio_strategy), seed, params, business)
    grid = pd.date_range("2024-02-19", periods=12, freq="7D", tz="UTC")
    spec = full_spec(f)
    whole = build_features(history, grid, f, spec=spec).frame
    ids = history.accounts["account_id"].to_numpy(dtype=object)
    part = np.random.default_rng(seed).integers(0, parts, len(ids))
    pieces = [
        build_features(history.for_accounts(list(ids[part == k])), grid, f, spec=spec).frame
        for k in range(parts)
    ]
    together = pd.concat(pieces, ignore_index=True)
    together = together.sort_values(["account_id", "as_of"], kind="stable").reset_index(drop=True)
    pdt.assert_frame_equal(together, whole, check_exact=True)


@SETTINGS
@given(data=st.data())
def test_rows_are_the_active_accounts(data, params, history_strategy, as_of_strategy):
    history = data.draw(history_strategy)
    as_of = data.draw(as_of_strategy)
    frame = _build(history, [as_of], params).frame
    acc = history.accounts.set_index("account_id")
    churned = history.churn.set_index("account_id")["churned_at"]
    expected = sorted(
        a for a in acc.index
        if acc.loc[a, "contract_start"] <= as_of and not (a in churned.index and churned[a] < as_of)
    )  # fmt: skip
    assert frame["account_id"].tolist() == expected
    assert (frame["as_of"] == as_of).all()


@SETTINGS
@given(data=st.data())
def test_counts_match_a_plain_per_snapshot_computation(
    data, params, history_strategy, as_of_strategy
):
    """An independent, slow oracle for a few features of each family; the long memory short
    enough (91 days), and some as_of late enough, for events to fall beyond it too."""
    long = data.draw(st.sampled_from([params.features.long_window_days, 91]))
    short = params.model_copy(
        update={"features": params.features.model_copy(update={"long_window_days": long})}
    )
    later = as_of_strategy.map(lambda d: d + pd.Timedelta(days=100))  # after most events
    as_of = data.draw(st.one_of(as_of_strategy, later))
    _agree_with_the_oracle(data.draw(history_strategy), as_of, short)


# moments around a midnight: the cut-off "strictly before D" must hold to the microsecond,
# whatever whole second the build reads an event in
NEAR_MIDNIGHT = [pd.Timedelta(v) for v in ("-500ms", "-1ms", "-1us", "0s", "1us", "500ms")]


@SETTINGS
@given(data=st.data())
def test_counts_match_the_oracle_a_moment_from_midnight(
    data, params, history_strategy, as_of_strategy
):
    """Exports keep milliseconds: event times a moment before or after a midnight (the generated
    ones are whole seconds) count exactly when the oracle says, not at the nearest second."""
    history = data.draw(history_strategy)
    moved = {}
    for name, cols in (
        ("tickets", ["created_at", "first_response_at", "resolved_at"]),
        ("escalations", ["opened_at", "acknowledged_at", "closed_at"]),
    ):
        df = history.table(name)
        jitter = data.draw(
            st.lists(st.sampled_from(NEAR_MIDNIGHT), min_size=len(df), max_size=len(df))
        )
        shift = pd.to_timedelta(pd.Series(jitter, index=df.index, dtype="timedelta64[ns]"))
        # the first time moves to a moment from its midnight, the row's later ones with it
        first = df[cols[0]].dt.floor("D") + shift
        moved[name] = df.assign(**{c: df[c] - df[cols[0]] + first for c in cols})
    # as of one of those midnights, so that some event lies a moment before or after the cut-off
    days = pd.concat([moved["tickets"]["created_at"], moved["escalations"]["opened_at"]])
    midnights = sorted(set(days.dt.round("D")))
    as_of = data.draw(st.sampled_from(midnights) if midnights else as_of_strategy)
    _agree_with_the_oracle(replace(history, **moved), as_of, params)


def _agree_with_the_oracle(history, as_of, params) -> None:
    frame = _build(history, [as_of], params).frame.set_index("account_id")
    t = history.tickets
    for aid, row in frame.iterrows():
        mine = t[t["account_id"] == aid]
        before = mine[mine["created_at"] < as_of]
        for w in (7, 30, 90):
            assert (
                row[f"tickets_{w}d"] == (before["created_at"] >= as_of - pd.Timedelta(days=w)).sum()
            )
        open_ = before[before["resolved_at"].isna() | (before["resolved_at"] >= as_of)]
        assert row["tickets_open"] == len(open_)
        deadline = mine["created_at"] + pd.to_timedelta(mine["sla_resolution_hours"], unit="h")
        res = mine["resolved_at"].where(mine["resolved_at"] < as_of)  # as known at as_of
        breached = (
            (deadline < as_of)
            & (deadline >= as_of - pd.Timedelta(days=30))
            & (res.isna() | (res > deadline))
        )
        assert row["sla_resolution_breaches_30d"] == breached.sum()
        long = params.features.long_window_days
        year = as_of - pd.Timedelta(days=long)
        resolved = mine["resolved_at"]
        rated = mine[(resolved < as_of) & (resolved >= year) & mine["csat"].notna()]
        expect = rated["csat"].astype(float).mean() if len(rated) else np.nan
        np.testing.assert_allclose(row[f"csat_mean_{long}d"], expect, equal_nan=True)
        text = (before["subject"].fillna("") + "\n" + before["body"].fillna("")).str.lower()
        notice = before[text.str.contains("cancellation of our|kündigung", regex=True)]
        recent = notice["created_at"] >= as_of - pd.Timedelta(days=90)
        assert row["notice_tickets_90d"] == recent.sum()
        crm = history.accounts.set_index("account_id").loc[aid, "notice_at"]
        given = list(notice["created_at"]) + ([crm] if crm < as_of else [])  # NaT: False
        last = (as_of - max(given)) / pd.Timedelta(days=1) if given else np.nan
        # days counted in whole seconds of the event's time
        np.testing.assert_allclose(row["notice_days_since"], last, atol=1 / 86_400, equal_nan=True)
        esc = history.escalations
        opened = esc.loc[esc["account_id"] == aid, "opened_at"]
        opened = opened[(opened < as_of) & (opened >= year)]
        assert row[f"escalations_{long}d"] == len(opened)
        last = (as_of - opened.max()) / pd.Timedelta(days=1) if len(opened) else np.nan
        np.testing.assert_allclose(
            row["escalations_days_since_last"], last, atol=1 / 86_400, equal_nan=True
        )


@FEW
@given(data=st.data())
def test_families_with_absent_or_empty_tables_are_left_out(data, params, history_strategy):
    history = data.draw(history_strategy)
    no_usage = replace(history, usage=None, escalations=history.escalations.iloc[0:0])
    fs = build_features(no_usage, [pd.Timestamp("2024-04-01", tz="UTC")], params.features)
    assert str(fs.unavailable["usage"]) == "usage table absent"
    assert str(fs.unavailable["escalations"]) == "escalations table empty"
    assert not any(c.startswith(("usage_", "escalations_")) for c in fs.frame.columns)
    # with a model's spec the columns stay, NaN for the absent table, counts for the empty one
    fixed = build_features(
        no_usage,
        [pd.Timestamp("2024-04-01", tz="UTC")],
        params.features,
        spec=full_spec(params.features),
    )
    assert fixed.frame["usage_active_users_mean_7d"].isna().all()
    assert (fixed.frame["escalations_365d"] == 0).all()
    assert "escalations" not in fixed.unavailable


@FEW
@given(data=st.data())
def test_frame_types_follow_the_spec(data, params, history_strategy):
    history = data.draw(history_strategy)
    fs = _build(history, pd.date_range("2024-03-04", periods=4, freq="7D", tz="UTC"), params)
    assert list(fs.frame.columns) == ["account_id", "as_of", *fs.spec.names]
    assert str(fs.frame["as_of"].dtype) == "datetime64[ns, UTC]"
    for info in fs.spec.features:
        col = fs.frame[info.name]
        if info.dtype == "category":
            assert list(col.cat.categories) == list(info.levels)
            assert info.levels[-1] == "__unknown__"
        else:
            assert col.dtype == np.float64
        assert info.template_en.format(value=1.0) and info.template_de.format(value=1.0)


def test_spec_round_trips_through_json(params):
    spec = full_spec(params.features)
    again = FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert spec.by_name("tier").levels == ("enterprise", "business", "starter", "__unknown__")


@FEW
@given(data=st.data())
def test_unknown_tier_maps_to_the_explicit_level(data, params, history_strategy):
    history = data.draw(history_strategy)
    acc = history.accounts.assign(tier="platinum")
    fs = _build(replace(history, accounts=acc), [pd.Timestamp("2024-04-15", tz="UTC")], params)
    assert (fs.frame["tier"] == "__unknown__").all()


@pytest.mark.parametrize(
    "tiers",
    [("enterprise", "business", "starter", "premium"), ("starter", "business", "enterprise")],
)
def test_a_models_tier_levels_hold_when_params_list_other_tiers(tiers, params, make_history):
    """A model trained on three tiers, served after params.yaml added a tier (or reordered them):
    its spec's levels are kept, a new tier is the explicit unknown level (as the model matrix
    makes it), not an AssertionError in the daily run nor a missing value on the API."""
    history = make_history(12, 3)
    acc = history.accounts.assign(tier=["premium", *history.accounts["tier"][1:]])
    day = as_of_grid(history, params.features)[-1]
    spec = full_spec(params.features)
    now = params.features.model_copy(update={"tiers": tiers})
    fs = build_features(replace(history, accounts=acc), [day], now, spec=spec)
    frame = fs.frame.set_index("account_id")
    assert list(frame["tier"].cat.categories) == list(spec.by_name("tier").levels)
    first = acc["account_id"][0]
    assert frame.loc[first, "tier"] == "__unknown__"  # premium: no level of the model's
    others = frame.index[frame.index != first]
    assert (
        frame.loc[others, "tier"].astype(str) == acc.set_index("account_id")["tier"][others]
    ).all()
    assert list(fs.columns["tier"].astype(str)) == list(fs.frame["tier"].astype(str))


@FEW
@given(data=st.data())
def test_grid_is_weekly_utc_midnights_within_the_data(data, params, history_strategy):
    history = data.draw(history_strategy)
    grid = as_of_grid(history, params.features)
    if len(grid):
        assert (grid.dayofweek == params.features.grid.weekday).all()
        assert (grid == grid.normalize()).all() and str(grid.tz) == "UTC"
        assert (np.diff(grid.asi8) == 7 * 86_400 * 10**9).all()


def test_simulated_world_one_account_equals_batch(params, make_history):
    """The API path on a realistic world: every account alone equals its batch rows, to the bit."""
    history = make_history(12, 3)
    grid = as_of_grid(history, params.features)[-8:]
    batch = build_features(history, grid, params.features)
    assert not batch.unavailable
    for aid in history.accounts["account_id"]:
        alone = build_features(
            history.for_accounts([aid]), grid[-1:], params.features, spec=batch.spec
        )
        mine = batch.frame[(batch.frame["account_id"] == aid) & (batch.frame["as_of"] == grid[-1])]
        pdt.assert_frame_equal(alone.frame, mine.reset_index(drop=True), check_exact=True)


def test_small_and_large_frame_assembly_agree(params, make_history):
    """The output frame is built in place for few rows and by inserting columns for many: the
    two must give the same frame."""
    history = make_history(8, 4)
    grid = as_of_grid(history, params.features)[-3:]
    fs = build_features(history, grid, params.features)
    n = len(fs.frame)
    small = _frame(fs.columns, fs.spec, n, small=True)
    large = _frame(fs.columns, fs.spec, n, small=False)
    built = _frame(fs.columns, fs.spec, n, small=False, block=fs.block)  # the build's own block
    pdt.assert_frame_equal(small, fs.frame, check_exact=True)
    pdt.assert_frame_equal(large, fs.frame, check_exact=True)
    pdt.assert_frame_equal(built, fs.frame, check_exact=True)
    assert fs.block is not None and np.shares_memory(built["tickets_30d"].to_numpy(), fs.block)


def test_families_built_beside_the_others_give_the_same_frame(params, make_history):
    """A large build computes the usage family on a second thread (`features.build.BESIDE`);
    forced on a small world, it does run there and the frame is the same to the bit."""
    import threading

    from features import build, usage

    history = make_history(30, 4)
    grid = as_of_grid(history, params.features)[-12:]
    alone = _build(history, grid, params).frame
    threads: list[threading.Thread] = []
    compute = usage.compute

    def recorded(ctx):
        threads.append(threading.current_thread())
        return compute(ctx)

    with mock.patch.object(build, "BESIDE_ROWS", 0), mock.patch.object(usage, "compute", recorded):
        beside = _build(history, grid, params).frame
    assert threads and threads[0] is not threading.main_thread()
    pdt.assert_frame_equal(beside, alone, check_exact=True)


@pytest.mark.parametrize("weeks", [range(12), [0, 1, 2, 5, 6, 11]])  # a regular grid, or not
def test_window_edges_counted_per_cell_equal_searched_ones(params, make_history, weeks):
    """Large builds count events per (account, as_of) cell instead of binary-searching window
    edges (`features.windows`); forced on a small world, the frame is the same to the bit."""
    history = make_history(30, 4)
    grid = as_of_grid(history, params.features)
    as_of = grid[[len(grid) - 12 + w for w in weeks]]
    searched = _build(history, as_of, params).frame
    with (
        mock.patch.object(windows, "GRID_ROWS", 0),
        mock.patch.object(windows, "CELL_EVENTS_PER_ROW", 10**9),
    ):
        counted = _build(history, as_of, params).frame
    pdt.assert_frame_equal(counted, searched, check_exact=True)


def test_text_with_combining_marks_reads_as_its_composed_form(params, make_history):
    """ "Kündigung" typed as u + combining diaeresis (macOS, some exports) is the same word for
    the notice phrases and for sentiment as the composed form."""
    import unicodedata

    history = make_history(4, 3)
    grid = as_of_grid(history, params.features)[-2:]
    t = history.tickets.copy()
    recent = t.index[
        (t["created_at"] < grid[-1]) & (t["created_at"] >= grid[-1] - pd.Timedelta(days=60))
    ]
    t.loc[recent[0], "body"] = "Hiermit erfolgt die Kündigung unseres Vertrags."
    composed = replace(history, tickets=t)
    t2 = t.copy()
    t2.loc[recent[0], "body"] = unicodedata.normalize("NFD", t.loc[recent[0], "body"])
    decomposed = replace(history, tickets=t2)
    assert t2.loc[recent[0], "body"] != t.loc[recent[0], "body"]
    a = build_features(composed, grid, params.features).frame
    b = build_features(decomposed, grid, params.features).frame
    pdt.assert_frame_equal(a, b, check_exact=True)
    assert a["notice_tickets_90d"].sum() > 0


@pytest.mark.parametrize(
    "value, en, de",
    [
        (1.0, "1 ticket open; 1 day", "1 offenes Ticket; 1 Tag"),
        (0.6, "1 ticket open; 1 day", "1 offenes Ticket; 1 Tag"),  # shows as 1
        (2.0, "2 tickets open; 2 days", "2 offene Tickets; 2 Tagen"),
        (0.0, "0 tickets open; 0 days", "0 offene Tickets; 0 Tagen"),
        (float("nan"), "nan tickets open; nan days", "nan offene Tickets; nan Tagen"),
    ],
)
def test_reason_templates_use_singular_when_the_value_shows_as_one(value, en, de):
    from features.spec import number

    info = number(
        "x", "tickets", "", "x",
        "{value:.0f} [ticket|tickets] open; {value:.0f} [day|days]",
        "{value:.0f} [offenes Ticket|offene Tickets]; {value:.0f} [Tag|Tagen]",
    )  # fmt: skip
    assert info.render(value, "en") == en and info.render(value, "de") == de


@pytest.mark.parametrize(
    "value, en, de",
    [
        (5.0, "Renewal in 5 days", "Verlängerung in 5 Tagen"),
        (0.0, "Renewal today", "Verlängerung heute"),
        (-1.0, "Renewal date passed 1 day ago", "Verlängerungstermin seit 1 Tag überschritten"),
        (
            -56.0,
            "Renewal date passed 56 days ago",
            "Verlängerungstermin seit 56 Tagen überschritten",
        ),
    ],
)
def test_a_value_below_zero_is_told_by_its_own_sentence(params, value, en, de):
    """A stale export's renewal date is in the past: never "Renewal in -56 days"."""
    info = full_spec(params.features).by_name("days_to_renewal")
    assert info.render(value, "en") == en and info.render(value, "de") == de


def test_every_count_template_reads_well_for_one(params):
    """No shipped reason says "1 tickets" or "1 Tagen"."""
    for f in full_spec(params.features).features:
        for lang in ("en", "de"):
            text = f.render(1.0, lang) if "{value:.0f}" in f.template_en else ""
            assert not re.search(
                r"\b1 (\w+ )?(tickets|days|escalations|Tagen|Tickets|Eskalationen)\b", text
            ), text


def _outside_ranges(frame: pd.DataFrame, spec: FeatureSpec) -> dict[str, list[float]]:
    from features.spec import value_range

    out = {}
    for info in spec.features:
        bounds = value_range(info)
        if bounds is None:
            continue
        col = frame[info.name].dropna()
        bad = col[(col < bounds[0]) | (col > bounds[1])]
        if len(bad):
            out[info.name] = bad.head(3).tolist()
    return out


@FEW
@given(data=st.data())
def test_built_features_lie_within_their_ranges(data, params, history_strategy):
    """/score_features refuses values outside `value_range`: real rows must never be refused."""
    history = data.draw(history_strategy)
    fs = _build(history, pd.date_range("2024-03-04", periods=4, freq="7D", tz="UTC"), params)
    assert not _outside_ranges(fs.frame, fs.spec)


def test_a_simulated_worlds_features_lie_within_their_ranges(params, make_history):
    history = make_history(12, 3)
    fs = build_features(history, as_of_grid(history, params.features), params.features)
    assert not _outside_ranges(fs.frame, fs.spec)
    every = {info.name for info in fs.spec.features if info.dtype == "float"}
    from features.spec import value_range

    assert {n for n in every if value_range(fs.spec.by_name(n)) is not None} == every


def _at_midnights(history, step: str):
    """The history with every event time floored to `step` (a day, an hour): many events then
    fall exactly on as_of's midnight, the edge "strictly before D" is about."""

    def floor(df, cols):
        if df is None:
            return None
        return df.assign(**{c: df[c].dt.floor(step) for c in cols if c in df})

    return replace(
        history,
        tickets=floor(history.tickets, ["created_at", "first_response_at", "resolved_at"]),
        escalations=floor(history.escalations, ["opened_at", "acknowledged_at", "closed_at"]),
        churn=floor(history.churn, ["churned_at"]),
    )


@SETTINGS
@given(data=st.data(), step=st.sampled_from(["D", "h"]))
def test_events_exactly_at_as_of_are_not_known_yet(
    data, step, params, history_strategy, as_of_strategy
):
    """Events, responses, resolutions, acknowledgements, closures and churn at exactly midnight
    D (the generated times almost never are): features as of D equal those on the history as it
    stood at D, which holds none of them."""
    history = _at_midnights(data.draw(history_strategy), step)
    as_of = data.draw(as_of_strategy)
    full = _build(history, [as_of], params).frame
    then = _build(history_at(history, as_of), [as_of], params).frame
    pdt.assert_frame_equal(full, then, check_exact=True)
