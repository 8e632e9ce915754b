"""A feature's label: its reason sentence without the value, for every feature, in both
languages."""

from __future__ import annotations

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
