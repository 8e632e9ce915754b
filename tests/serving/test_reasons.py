"""SHAP reasons: LightGBM's native contributions against shap's TreeExplainer, additivity on the
raw margin and on the probability scale, readable reasons in English and German, and why a risk
changed between two dates. Uses the champion trained into a throwaway MLflow store
(`model_store` in conftest.py) and the world it was trained on."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from features.build import build_features
from features.contract import validated
from serving.facts import account_facts
from serving.reasons import (
    change_attribution,
    margin_shares,
    render_change,
    retold,
    split_contrib,
    to_probability,
    top_reasons,
    why_changed,
)
from serving.scoring import HEADS, score_rows
from training.calibrate import Calibrator

TOL = 1e-6  # shap's own tests: |sum(phi) + expected_value - margin| < 1e-6


@pytest.fixture(scope="module")
def champion(model_store, params):
    from serving.model import load_champion

    return load_champion(model_store, params.promotion.model_name)


@pytest.fixture(scope="module")
def dates():
    today = pd.Timestamp.now(tz="UTC").normalize()
    return today - pd.Timedelta(days=21), today - pd.Timedelta(days=7)


@pytest.fixture(scope="module")
def scored(world, params, champion, dates):
    """History and features of every account on two dates, in one build_features call."""
    history = validated(world, params.contract, pd.Timestamp.now(tz="UTC"))
    fs = build_features(history, list(dates), params.features, spec=champion.spec)
    return history, fs.frame.reset_index(drop=True)


def numeric(X: pd.DataFrame) -> pd.DataFrame:
    """Categories as LightGBM sees them (their codes), for shap's own tree walker."""
    out = X.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].cat.codes.astype(float).where(out[c].notna())
    return out.astype(float)


@pytest.mark.parametrize("head", HEADS)
def test_native_contributions_agree_with_shap_tree_explainer(champion, scored, head):
    import shap

    _, frame = scored
    X = frame[champion.spec.names]
    booster = champion.heads[head].booster
    native = np.asarray(booster.predict(X, pred_contrib=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.TreeExplainer(booster)
        phi = explainer.shap_values(X)
    np.testing.assert_allclose(phi, native[:, :-1], atol=TOL, rtol=0)
    assert explainer.expected_value == pytest.approx(native[0, -1], abs=TOL)
    # TreeExplainer hands LightGBM models to LightGBM's own TreeSHAP; shap's independent C++
    # implementation walks the parsed trees instead (possible without categorical splits).
    if explainer.model.trees is None:
        pytest.skip("the model has categorical splits; shap's own tree walker cannot parse them")
    explainer.model.model_type = "internal"
    own = explainer.shap_values(numeric(X))
    np.testing.assert_allclose(own, native[:, :-1], atol=TOL, rtol=0)


@pytest.mark.parametrize("head", HEADS)
def test_contributions_plus_expected_value_equal_the_raw_score(champion, scored, head):
    _, frame = scored
    X = frame[champion.spec.names]
    booster = champion.heads[head].booster
    raw, bias = split_contrib(np.asarray(booster.predict(X, pred_contrib=True)))
    margin = np.asarray(booster.predict(X, raw_score=True))
    assert np.abs(raw.sum(axis=1) + bias - margin).max() < TOL
    assert np.ptp(bias) == 0  # one expected value per model


@pytest.mark.parametrize("head", HEADS)
def test_probability_contributions_add_up_to_risk_minus_base_risk(champion, scored, head):
    _, frame = scored
    X = frame[champion.spec.names]
    h = champion.heads[head]
    raw, bias = split_contrib(np.asarray(h.booster.predict(X, pred_contrib=True)))
    c = to_probability(raw, bias, h.calibrate)
    risk = h.calibrate(np.asarray(h.booster.predict(X, raw_score=True)))
    np.testing.assert_allclose(c.risk, risk, atol=TOL, rtol=0)
    np.testing.assert_allclose(c.prob.sum(axis=1), c.risk - h.calibrate(bias), atol=TOL, rtol=0)


CALIBRATORS = [
    Calibrator("sigmoid", a=1.3, b=-0.4),
    Calibrator("isotonic", x=(-3.0, -1.0, 0.0, 0.5, 2.0), y=(0.01, 0.05, 0.05, 0.4, 0.9)),
]


@settings(max_examples=60, deadline=None)
@given(
    raw=arrays(np.float64, (4, 5), elements=st.floats(-2, 2)),
    bias=st.floats(-3, 1),
    which=st.sampled_from([0, 1]),
)
def test_probability_scale_keeps_sums_and_signs(raw, bias, which):
    cal = CALIBRATORS[which]
    c = to_probability(raw, np.full(4, bias), cal)
    np.testing.assert_allclose(
        c.prob.sum(axis=1), c.risk - cal(np.full(4, bias)), atol=1e-12, rtol=0
    )
    # a monotone calibrator never flips a contribution's sign (flat stretches give zero)
    assert np.all(c.prob * raw >= -1e-15)


def test_every_reason_names_feature_value_family_direction_and_size(
    world, champion, scored, params
):
    history, frame = scored
    day = frame["as_of"].max()
    today = frame[frame["as_of"] == day].reset_index(drop=True)
    facts = account_facts(history, day, params.features)
    rows = score_rows(champion, today, facts, params.ladder, day, top_k=3)
    X = today[champion.spec.names]
    n_reasons = 0
    for i, answer in enumerate(rows):
        lang = facts[answer["account_id"]].language
        for r in answer["reasons"]:
            n_reasons += 1
            assert {
                "head",
                "feature",
                "family",
                "direction",
                "value",
                "contribution",
                "text",
            } <= set(r)
            info = champion.spec.by_name(r["feature"])
            assert r["family"] == info.family and r["direction"] == "up"
            assert r["contribution"] > 0
            actual = X.at[i, info.name]
            assert r["value"] == (
                pytest.approx(float(actual)) if info.dtype == "float" else str(actual)
            )
            assert r["text"] == info.render(r["value"], lang)
            assert "{" not in r["text"] and r["text"].strip()
        for head in HEADS:
            sizes = [r["contribution"] for r in answer["reasons"] if r["head"] == head]
            assert sizes == sorted(sizes, reverse=True) and len(sizes) <= 3
    assert n_reasons > 0


def test_reasons_render_in_english_and_german_with_real_values(champion, scored):
    _, frame = scored
    X = frame[champion.spec.names].iloc[:10]
    h = champion.heads["escalation"]
    raw, bias = split_contrib(np.asarray(h.booster.predict(X, pred_contrib=True)))
    c = to_probability(raw, bias, h.calibrate)
    en = top_reasons("escalation", c.prob, X, champion.spec, ["en"] * 10, 3)
    de = top_reasons("escalation", c.prob, X, champion.spec, ["de"] * 10, 3)
    pairs = [(a, b) for ra, rb in zip(en, de, strict=True) for a, b in zip(ra, rb, strict=True)]
    assert pairs
    for a, b in pairs:
        info = champion.spec.by_name(a["feature"])
        assert a["feature"] == b["feature"] and a["value"] == b["value"]
        assert a["text"] == info.render(a["value"], "en") and "[" not in a["text"]
        assert b["text"] == info.render(b["value"], "de") and "[" not in b["text"]
        if info.template_en != info.template_de:
            assert a["text"] != b["text"]


def test_reasons_skip_unknown_values():
    from features.spec import FeatureSpec, number

    spec = FeatureSpec(
        (
            number("a", "tickets", "", "a", "{value:.0f} tickets", "{value:.0f} Tickets"),
            number("b", "usage", "", "b", "{value:.0%} drop", "{value:.0%} Rückgang"),
        )
    )
    values = pd.DataFrame({"a": [np.nan], "b": [0.46]})
    out = top_reasons("churn", np.array([[0.3, 0.1]]), values, spec, ["de"], 2)
    assert [r["feature"] for r in out[0]] == ["b"]
    assert out[0][0]["text"] == "46\u00a0% Rückgang"  # German: a space before %


def test_why_changed_attributes_the_change_in_risk_to_features(champion, scored):
    _, frame = scored
    first, last = sorted(frame["as_of"].unique())
    a = frame[frame["as_of"] == first].set_index("account_id")
    b = frame[frame["as_of"] == last].set_index("account_id")
    ids = a.index.intersection(b.index)
    h = champion.heads["escalation"]

    def contrib(f: pd.DataFrame):
        raw, bias = split_contrib(
            np.asarray(h.booster.predict(f.loc[ids, champion.spec.names], pred_contrib=True))
        )
        return to_probability(raw, bias, h.calibrate)

    before, after = contrib(a), contrib(b)
    change = change_attribution(before.prob, after.prob)
    np.testing.assert_allclose(change.sum(axis=1), after.risk - before.risk, atol=TOL, rtol=0)

    i = int(np.argmax(np.abs(after.risk - before.risk)))
    delta = float(after.risk[i] - before.risk[i])
    assert abs(delta) > 0
    values = b.loc[ids[i], champion.spec.names]
    parts = why_changed(change[i], values, champion.spec, "en", 3)
    assert parts and all(np.sign(p["change"]) == np.sign(delta) for p in parts)
    sizes = [abs(p["change"]) for p in parts]
    assert sizes == sorted(sizes, reverse=True)
    for p in parts:
        j = champion.spec.names.index(p["feature"])
        assert p["change"] == pytest.approx(change[i, j])
        assert p["family"] == champion.spec.features[j].family
    everything = why_changed(change[i], values, champion.spec, "en", len(champion.spec.names))
    opposite = change[i][np.sign(change[i]) == -np.sign(delta)].sum()
    assert sum(p["change"] for p in everything) + opposite == pytest.approx(delta, abs=TOL)

    en = render_change(delta, str(first.date()), parts, "en")
    de = render_change(delta, str(first.date()), why_changed(
        change[i], values, champion.spec, "de", 3), "de")  # fmt: skip
    assert en.startswith(f"Risk {delta:+.2f} since {first.date()}: ")
    assert de.startswith(f"Risiko {delta:+.2f} seit {first.date()}: ".replace(".", ",", 1))
    assert f"{parts[0]['change']:+.2f} ({parts[0]['text']})" in en


def test_why_changed_on_a_hand_made_example():
    from features.spec import FeatureSpec, number

    spec = FeatureSpec(
        (
            number("sla", "sla", "", "SLA near-misses", "{value:.0f} SLA near-misses", "{value:.0f} knappe SLAs"),
            number("usage", "usage", "", "usage drop", "Usage down {value:.0%}", "Nutzung {value:.0%} niedriger"),
            number("tickets", "tickets", "", "tickets", "{value:.0f} tickets", "{value:.0f} Tickets"),
        )
    )  # fmt: skip
    before, after = np.array([0.01, 0.02, 0.03]), np.array([0.09, 0.07, 0.02])
    parts = why_changed(after - before, {"sla": 3.0, "usage": 0.46, "tickets": 4.0}, spec, "en", 2)
    assert [(p["feature"], round(p["change"], 2)) for p in parts] == [
        ("sla", 0.08),
        ("usage", 0.05),
    ]
    assert render_change(0.12, "2026-06-20", parts, "en") == (
        "Risk +0.12 since 2026-06-20: +0.08 (3 SLA near-misses), +0.05 (Usage down 46%)"
    )
    de = why_changed(after - before, {"sla": 3.0, "usage": 0.46, "tickets": 4.0}, spec, "de", 2)
    assert render_change(0.12, "2026-06-20", de, "de") == (
        "Risiko +0,12 seit 2026-06-20: +0,08 (3 knappe SLAs), +0,05 (Nutzung 46\u00a0% niedriger)"
    )  # German numbers: decimal comma, a space before %


def test_a_change_is_split_as_the_margin_moved_not_as_each_days_probability_shares():
    """Where the calibration steps (isotonic), one feature nudging the margin over a step moved
    the risk +0.04, and each day's probability-scale contributions, scaled by that day's own
    ratio, shifted every feature: told "+0.01 (3 P1 tickets)" beside a +0.04 change, the rest
    spread over features whose value stayed. Split as the margin moved, the feature that moved
    carries the whole change."""
    from features.spec import FeatureSpec, number

    spec = FeatureSpec(
        (
            number("seats", "usage", "", "seats", "{value:.0%} of seats in use", "{value:.0%} der Plätze genutzt"),
            number("csat", "csat", "", "csat", "CSAT {value:.1f}", "CSAT {value:.1f}"),
            number("p1", "tickets", "", "p1", "{value:.0f} P1 tickets", "{value:.0f} P1-Tickets"),
        )
    )  # fmt: skip

    def calibrate(score: np.ndarray) -> np.ndarray:  # isotonic: steps
        return np.select([score < 0.0, score < 0.95], [0.05, 0.25], 0.29)

    bias = np.array([-1.0])
    raw_before, raw_after = np.array([[1.2, 0.6, 0.1]]), np.array([[1.2, 0.6, 0.2]])
    before = to_probability(raw_before, bias, calibrate)
    after = to_probability(raw_after, bias, calibrate)
    delta = float(after.risk[0] - before.risk[0])
    assert delta == pytest.approx(0.04)
    spread = change_attribution(before.prob[0], after.prob[0])
    assert round(spread[2], 2) == 0.01 and spread[:2].sum() > 0.02  # the old telling

    shares = margin_shares(raw_after[0] - raw_before[0], delta)
    assert shares is not None
    np.testing.assert_allclose(shares, [0.0, 0.0, 0.04], atol=1e-12)
    values = {"seats": 0.3, "csat": 4.1, "p1": 3.0}
    parts = why_changed(shares, values, spec, "en", 2)
    assert render_change(delta, "2026-06-27", parts, "en") == (
        "Risk +0.04 since 2026-06-27: +0.04 (3 P1 tickets)"
    )


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float64, 6, elements=st.floats(-2, 2)),
    st.floats(-0.5, 0.5).filter(lambda d: abs(d) > 1e-9),
)
def test_margin_shares_sum_to_the_change_or_are_not_given(change, delta):
    """Shares always add up to the change they split and point its way overall; a margin that
    did not move, or moved against the risk, is not split (None)."""
    shares = margin_shares(change, delta)
    total = change.sum()
    if abs(total) < 1e-12 or (total > 0) != (delta > 0):
        assert shares is None
    else:
        assert shares is not None
        assert shares.sum() == pytest.approx(delta, rel=1e-9, abs=1e-12)
        assert np.all(shares * change >= 0)  # each feature keeps the way its margin moved


def test_why_changed_names_features_that_moved_before_ones_whose_value_stayed():
    """Of two features whose contributions rose, the one with the same value on both days is
    not named when one that moved pushed the risk the same way; when none did, the rest are."""
    from features.spec import FeatureSpec, number

    spec = FeatureSpec(
        (
            number("sla", "sla", "", "SLA", "{value:.0f} SLA near-misses", "{value:.0f} knappe SLAs"),
            number("tickets", "tickets", "", "tickets", "{value:.0f} tickets", "{value:.0f} Tickets"),
            number("seats", "usage", "", "seats", "{value:.0f} seats", "{value:.0f} Plätze"),
        )
    )  # fmt: skip
    before, after = np.array([0.01, 0.02, 0.03]), np.array([0.09, 0.05, 0.01])
    values = {"sla": 3.0, "tickets": 5.0, "seats": 10.0}
    moved = np.array([False, True, True])
    assert [p["feature"] for p in why_changed(after - before, values, spec, "en", 2, moved)] == [
        "tickets"
    ]
    assert [p["feature"] for p in why_changed(after - before, values, spec, "en", 2)] == [
        "sla",
        "tickets",
    ]
    only_seats = np.array([False, False, True])  # moved, but against the rise
    assert [
        p["feature"] for p in why_changed(after - before, values, spec, "en", 2, only_seats)
    ] == [
        "sla",
        "tickets",
    ]


def test_why_changed_leaves_out_a_part_too_small_to_show():
    """A fall of 0.04 was told "-0.01 (...), +0.00 (...)": the second feature moved the risk by
    -0.004, written with a plus (no minus on a zero) beside a fall, explaining nothing."""
    from features.spec import FeatureSpec, number

    spec = FeatureSpec(
        (
            number("sla", "sla", "", "SLA", "{value:.0f} P1 SLA breaches", "{value:.0f} P1-SLA-Verletzungen"),
            number("res", "sla", "", "res", "{value:.0f} resolution breaches", "{value:.0f} Lösungs-SLA-Verletzungen"),
        )
    )  # fmt: skip
    before, after = np.array([0.02, 0.01]), np.array([0.008, 0.006])
    values = {"sla": 0.0, "res": 0.0}
    parts = why_changed(after - before, values, spec, "en", 2)
    assert [p["feature"] for p in parts] == ["sla", "res"]
    assert render_change(-0.04, "2026-06-28", parts, "en") == (
        "Risk -0.04 since 2026-06-28: -0.01 (0 P1 SLA breaches)"
    )
    de = why_changed(after - before, values, spec, "de", 2)
    assert render_change(-0.04, "28.06.2026", de, "de") == (
        "Risiko -0,04 seit 28.06.2026: -0,01 (0 P1-SLA-Verletzungen)"
    )


def test_why_changed_names_a_feature_gone_missing_in_the_accounts_language():
    """A German account whose usage stopped was told "-0,05 (Mean daily active users over the
    last 28 days per licensed seat.)": the English description stood in for the missing value."""
    from features.spec import FeatureSpec, number

    spec = FeatureSpec(
        (
            number("seats", "usage", "", "Mean daily active users per licensed seat.",
                   "{value:.0%} of seats in use", "{value:.0%} der Plätze genutzt"),
            number("tickets", "tickets", "", "tickets", "{value:.0f} tickets", "{value:.0f} Tickets"),
        )
    )  # fmt: skip
    before, after = np.array([0.06, 0.01]), np.array([0.0, 0.01])
    de = why_changed(after - before, {"seats": np.nan, "tickets": 4.0}, spec, "de", 2)
    assert [p["text"] for p in de] == ["\u2026\u00a0% der Plätze genutzt"]
    en = why_changed(after - before, {"seats": None, "tickets": 4.0}, spec, "en", 2)
    assert [p["text"] for p in en] == ["\u2026% of seats in use"]


def test_stored_reasons_are_retold_in_another_language(params):
    """A reason is rendered again from its feature's template and value; what cannot be (a
    feature the params no longer define, no value) keeps the text it was stored with."""
    from features.build import full_spec

    spec = {f.name: f for f in full_spec(params.features).features}
    stored = [
        {"feature": "tickets_30d", "value": 1.0, "text": "1 ticket in the last 30 days"},
        {"feature": "gone_field", "value": 3.0, "text": "as stored"},
        {"feature": "tickets_30d", "value": None, "text": "no value"},
    ]
    got = retold(stored, spec, "de")
    assert [r["text"] for r in got] == [
        spec["tickets_30d"].render(1.0, "de"),
        "as stored",
        "no value",
    ]
    assert got[0]["text"].startswith("1 Ticket ") and stored[0]["text"].startswith("1 ticket ")


@pytest.mark.parametrize("rows", [1, 40])  # one by one, and a batch's arrays (> FEW_CELLS)
def test_a_zero_that_raises_risk_is_a_reason_said_in_words(params, rows):
    """No SLA breach at all can raise a risk (a quiet account): the reason keeps its value 0
    and its shape, and reads "No P3 ... SLA breaches", not "0 P3 ... SLA breaches"."""
    from features.build import full_spec

    spec = full_spec(params.features).select(["sla_resolution_breaches_p3_30d", "tickets_30d"])
    values = pd.DataFrame({"sla_resolution_breaches_p3_30d": [0.0] * rows, "tickets_30d": 4.0})
    contributions = np.tile([0.2, 0.1], (rows, 1))
    langs = ["en", "de"] * (rows // 2) or ["en"]
    got = top_reasons("churn", contributions, values, spec, langs, 2)
    first = got[0][0]
    assert set(first) == {"head", "feature", "family", "direction", "value", "contribution", "text"}
    assert first["value"] == 0.0 and first["direction"] == "up"
    assert first["text"] == "No P3 resolution SLA breaches in the last 30 days"
    assert got[0][1]["text"] == "4 tickets in the last 30 days"
    if rows > 1:
        assert got[1][0]["text"] == (
            "Keine verletzten Lösungs-SLAs bei P3-Tickets in den letzten 30 Tagen"
        )
