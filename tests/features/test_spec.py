"""A feature's label: its reason sentence without the value, for every feature, in both
languages."""

from __future__ import annotations

import re

import numpy as np
import pytest

from features.build import full_spec
from features.spec import FeatureInfo, number


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_feature_has_a_label_without_digits_or_braces(params, language):
    for info in full_spec(params.features).features:
        label = info.label(language)
        assert "…" in label and "{" not in label and "|" not in label, (info.name, label)


def test_label_takes_the_plural_the_sentence_above_zero_and_the_percent_sign():
    f = number(
        "x", "fam", "days", "d",
        "Renewal in {value:.0f} [day|days] || Renewal passed {value:.0f} [day|days] ago",
        "Noch {value:.0%} || vorbei",
    )  # fmt: skip
    assert f.label("en") == "Renewal in … days"
    assert f.label("de") == "Noch …\u00a0%"


def test_a_template_of_another_shape_is_labelled_by_its_name():
    f = FeatureInfo("odd_one", "float", "fam", "", "d", "{other} and {value}", "{0}")
    assert f.label("en") == "odd one" and f.label("de") == "odd one"


def test_german_numbers_keep_whole_numbers_whole():
    """A count told in German: 253, not 253,0; decimals and percents as German writes them."""
    import numpy as np

    from features.spec import localized

    text = "{n} {m} {r:.1f} {big:,} {p:.0%}".format(
        n=localized(253, "de"), m=localized(np.int64(8), "de"), r=localized(1234.5, "de"),
        big=localized(1234567, "de"), p=localized(0.12, "de"),
    )  # fmt: skip
    assert text == "253 8 1234,5 1.234.567 12\u00a0%"
    assert "{n}".format(n=localized(2.0, "de")) == "2,0"  # a float stays a float


def test_usage_reasons_tell_a_rise_as_a_rise_and_group_thousands(params):
    """A negative drop is usage above its baseline: "up 4%", not "down -4%" ("-4 % unter")."""
    spec = {f.name: f for f in full_spec(params.features).features}
    drop = spec["usage_events_pct_drop"]
    assert drop.render(-0.04, "en") == "Events up 4% against the 90-day baseline"
    assert drop.render(-0.04, "de") == "Ereignisse 4\u00a0% über dem 90-Tage-Mittel"
    assert drop.render(0.12, "en") == "Events down 12% against the 90-day baseline"
    base = spec["usage_events_baseline"]
    assert base.render(28936.4, "de") == "28.936,4 Ereignisse pro Tag im Mittel davor"
    assert base.render(28936.4, "en") == "28,936.4 events per day at baseline"


def test_number_forms_follow_the_number_before_each_choice():
    """Several counts in one sentence: each "[singular|plural]" takes the form of the number
    placed before it; one placed before every number takes the first number's."""
    from features.spec import number_forms

    template = "{n} [account|accounts]; {changed} level [change|changes], {queued:,} [note|notes]"
    assert number_forms(template, {"n": 1, "changed": 2, "queued": 1}) == (
        "{n} account; {changed} level changes, {queued:,} note"
    )
    assert number_forms("[letzter|letzte] {days} [Tag|Tage]", {"days": 1}) == "letzter {days} Tag"
    assert number_forms("[letzter|letzte] {days} [Tag|Tage]", {"days": 90}) == "letzte {days} Tage"
    assert number_forms("{who} [x|y]", {"who": "Ann"}) == "{who} y"  # not a number: plural
    assert number_forms("[{priority}] {who}", {"priority": 1}) == "[{priority}] {who}"


def test_a_tier_is_told_as_the_source_writes_it_in_every_language(params):
    """Tier values are the data's own (contract.tiers), not words to translate (docs/ui.md)."""
    tier = {f.name: f for f in full_spec(params.features).features}["tier"]
    assert tier.render("business", "de") == "Tarif business"
    assert tier.render("business", "en") == "Tier business"


def test_sla_reasons_read_as_german_and_english_write_them(params):
    """ "verletzte Lösung-SLAs" lacked its linking s; "1 open ticket close to their ... SLA"."""
    spec = {f.name: f for f in full_spec(params.features).features}
    breaches = spec["sla_resolution_breaches_30d"]
    assert breaches.render(3, "de") == "3 verletzte Lösungs-SLAs in den letzten 30 Tagen"
    by_priority = spec["sla_resolution_breaches_p1_30d"]
    assert (
        by_priority.render(1, "de")
        == "1 verletzte Lösungs-SLA bei P1-Tickets in den letzten 30 Tagen"
    )
    at_risk = spec["sla_resolution_at_risk"]
    assert at_risk.render(1, "en") == "1 open ticket close to its resolution SLA"
    assert at_risk.render(1, "de") == "1 offenes Ticket kurz vor Ablauf der Lösungs-SLA"
    assert spec["sla_first_response_at_risk"].render(2, "en") == (
        "2 open tickets close to their first response SLA"
    )


EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, 1.5, -0.5, -1.5, 0.9999, 1.4999, 2.0, -2.0, 1234567.891]
EDGES += [1e-9, -1e-9, 1e300, float("inf"), float("-inf"), float("nan"), 0.46, -56.0]
EDGES += [0.004, -0.004, 0.005, 0.00500001, 0.995, 0.99499999, 0.9999, -0.997, 1.004, 0.3]


@pytest.mark.parametrize("language", ["en", "de"])
def test_rendering_many_values_renders_each_as_render_does(params, language):
    """The daily job renders a column's values at once: each as `render` renders it, with the
    number forms, the sentence below zero, German digits and values that are not finite."""
    rng = np.random.default_rng(7)
    values = np.array(EDGES + rng.uniform(-3, 3, 200).tolist() + rng.normal(0, 1e4, 50).tolist())
    values = np.concatenate([values, rng.uniform(-0.01, 0.01, 50), rng.uniform(0.99, 1.01, 50)])
    odd = number(
        "x", "f", "", "d", "[One|Many] of {value:,.1%} |0| None: {value:+.0f}",
        "{value:.0f} [Tag|Tage] || [ein|viele] |0| Kein {value:.1f}",
    )  # fmt: skip
    for info in (*full_spec(params.features).features, odd):
        got = info.render_many(values, language)
        assert got.tolist() == [info.render(v, language) for v in values.tolist()], info.name
    tiers = np.array(["gold", "Ü", "1"], dtype=object)
    tier = full_spec(params.features).by_name("tier")
    assert tier.render_many(tiers, language).tolist() == [tier.render(v, language) for v in tiers]


def _windows_of(params, days: int):
    """The feature params with every look-back window `days` long (1 is the shortest allowed)."""
    from features.params import FeatureParams

    f = params.features.model_dump()
    f["windows_days"] = [days]
    for family in ("tickets", "sla"):
        f[family]["by_priority_windows"] = [days]
    f["escalations"]["window_days"] = f["notice"]["window_days"] = days
    f["tickets"]["trend"]["recent_days"] = f["sentiment"]["trend"]["recent_days"] = days
    f["usage"]["short_days"] = days
    return FeatureParams.model_validate(f)


@pytest.mark.parametrize(
    ("days", "en", "de", "de_of"),
    [
        (1, "in the last day", "am letzten Tag", "des letzten Tages"),
        (7, "in the last 7 days", "in den letzten 7 Tagen", "der letzten 7 Tage"),
    ],
)
def test_a_window_reads_in_the_number_of_its_days(params, days, en, de, de_of):
    """A window of 1 day read "in the last 1 days" / "in den letzten 1 Tagen"."""
    spec = full_spec(_windows_of(params, days)).features
    by = {f.name: f for f in spec}
    assert by[f"tickets_{days}d"].render(3, "en") == f"3 tickets {en}"
    assert by[f"tickets_{days}d"].render(3, "de") == f"3 Tickets {de}"
    share = by[f"sentiment_negative_share_{days}d"]
    assert share.render(0.5, "de") == f"50\u00a0% der Tickets {de_of} waren negativ"
    drop = by[f"usage_active_users_pct_drop_{days}d"]
    assert drop.render(0.1, "en") == f"Active users {en} down 10% against the baseline"
    wrong = re.compile(r"\b1 (days|Tagen|Tage)\b|last 1 day|letzten 1 Tag")
    for f in spec:
        assert not wrong.search(f.description), f.description
        for lang in ("en", "de"):
            for value in (0.0, 0.5, 3.0, -2.0):
                text = f.render(value, lang) if f.dtype == "float" else ""
                assert not wrong.search(text), (f.name, text)


def test_a_count_of_none_is_said_in_words(params):
    """A quiet account's zero can raise a risk: it reads "no P3 SLA breaches", not "0 P3 SLA
    breaches", and "none of the tickets were negative", not "0% of tickets were negative"."""
    by = {f.name: f for f in full_spec(params.features).features}
    breaches = by["sla_resolution_breaches_p3_30d"]
    assert breaches.render(0.0, "en") == "No P3 resolution SLA breaches in the last 30 days"
    assert breaches.render(0, "de") == (
        "Keine verletzten Lösungs-SLAs bei P3-Tickets in den letzten 30 Tagen"
    )
    assert breaches.render(2.0, "en") == "2 P3 resolution SLA breaches in the last 30 days"
    assert breaches.label("en") == "… P3 resolution SLA breaches in the last 30 days"
    share = by["sentiment_negative_share_30d"]
    assert share.render(0.0, "en") == "None of the tickets in the last 30 days were negative"
    assert share.render(-0.0, "de") == "Keines der Tickets der letzten 30 Tage war negativ"
    assert share.render(0.004, "en") == "Under 1% of tickets in the last 30 days were negative"
    values = np.array([0.0, 2.0, np.nan, -0.0])
    assert share.render_many(values, "de").tolist() == [share.render(v, "de") for v in values]
    counts = [f for f in by.values() if f.unit in ("tickets", "escalations", "ratings")]
    assert len(counts) > 20
    for f in counts:
        for lang in ("en", "de"):
            assert not f.render(0.0, lang).startswith("0 "), (f.name, lang)


@pytest.mark.parametrize(
    ("name", "en", "de"),
    [
        ("days_to_renewal", "Renewal today", "Verlängerung heute"),
        ("tenure_days", "Customer since today", "Seit heute Kunde"),
        ("escalations_days_since_last", "Last escalation less than a day ago",
         "Letzte Eskalation vor weniger als einem Tag"),
        ("notice_days_since", "Cancellation notice received less than a day ago",
         "Kündigung vor weniger als einem Tag eingegangen"),
        ("usage_days_since_active", "Last active yesterday", "Zuletzt gestern aktiv"),
    ],
)  # fmt: skip
def test_a_day_count_that_shows_as_zero_is_said_in_words(params, name, en, de):
    """ "Renewal in 0 days", "Last escalation 0 days ago" (0.3 days, written whole) read oddly."""
    info = full_spec(params.features).by_name(name)
    for value in (0.0, 0.3, -0.2, 0.5):
        assert info.render(value, "en") == en and info.render(value, "de") == de
        assert info.render_many(np.array([value]), "de").tolist() == [de]
    assert info.render(0.6, "en").endswith(("1 day", "1 day ago"))  # rounds to 1: a day


def test_every_day_count_has_words_for_zero(params):
    days = [f for f in full_spec(params.features).features if f.unit == "days"]
    assert len(days) >= 5
    for f in days:
        for lang in ("en", "de"):
            assert not re.search(r"\b0 (days?|Tagen?)\b", f.render(0.2, lang)), (f.name, lang)


@pytest.mark.parametrize(
    ("value", "en", "de"),
    [
        (0.004, "Under 1% of tickets in the last 30 days were negative",
         "Unter 1\u00a0% der Tickets der letzten 30 Tage waren negativ"),
        (0.996, "Over 99% of tickets in the last 30 days were negative",
         "Über 99\u00a0% der Tickets der letzten 30 Tage waren negativ"),
        (0.006, "1% of tickets in the last 30 days were negative",
         "1\u00a0% der Tickets der letzten 30 Tage waren negativ"),
        (1.0, "100% of tickets in the last 30 days were negative",
         "100\u00a0% der Tickets der letzten 30 Tage waren negativ"),
    ],
)  # fmt: skip
def test_a_share_near_none_or_all_is_not_told_as_none_or_all(params, value, en, de):
    """0.4% read "0% of tickets ... were negative", 99.6% "100%": neither is true."""
    info = full_spec(params.features).by_name("sentiment_negative_share_30d")
    assert info.render(value, "en") == en and info.render(value, "de") == de
    assert info.render_many(np.array([value, 0.0]), "en").tolist()[0] == en
    drop = full_spec(params.features).by_name("usage_events_pct_drop")
    assert drop.render(-0.003, "en") == "Events up under 1% against the 90-day baseline"
