"""The texts train and promote print from training/: English and German, the same placeholders,
and MLflow's copy kept in English whatever the team reads."""

from __future__ import annotations

import re
import string

import pytest

from training.promote import decide
from training.text import CATALOG, Joined, said, shown, t


def fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_every_text_has_both_languages_with_the_same_placeholders():
    assert set(CATALOG) == {"en", "de"}
    assert set(CATALOG["en"]) == set(CATALOG["de"])
    for key, en in CATALOG["en"].items():
        de = CATALOG["de"][key]
        assert fields(en) == fields(de), key
        forms = re.compile(r"\[[^\[\]|]*\|[^\[\]|]*\]")
        assert len(forms.findall(en)) == len(forms.findall(de)), key


def test_a_said_text_is_english_and_tells_its_german_with_german_numbers():
    text = said("worse_item", target="churn_90d", metric="pr_auc", new=0.41234, old=0.5)
    assert text == "churn_90d pr_auc 0.4123 vs champion 0.5000"
    assert shown(text, "de") == "churn_90d pr_auc 0,4123 gegen Champion 0,5000"
    joined = said("worse", tolerance=0.01, worse=Joined([text, text], "; "))
    assert joined.startswith("challenger worse beyond tolerance 0.01: churn_90d")
    assert shown(joined, "de").startswith("Challenger schlechter als die Toleranz 0,01 erlaubt")
    assert shown(joined, "de").count("gegen Champion 0,5000") == 2
    assert shown("plain", "de") == "plain"


@pytest.mark.parametrize(
    ("challenger", "champion", "en", "de"),
    [
        ({"e": 0.6}, {"e": 0.5}, "challenger not worse on pr_auc (e 0.6000 vs 0.5000)",
         "Challenger nicht schlechter bei pr_auc (e 0,6000 gegen 0,5000)"),
        ({"e": 0.3}, {"e": 0.5}, "challenger worse beyond tolerance 0.0: e pr_auc 0.3000 vs champion 0.5000",
         "Challenger schlechter als die Toleranz 0,0 erlaubt: e pr_auc 0,3000 gegen Champion 0,5000"),
        ({"e": 0.3}, None, "first model: becomes champion", "erstes Modell: wird Champion"),
    ],
)  # fmt: skip
def test_the_gates_reason_stays_english_for_mlflow_and_is_told_in_german(
    params, challenger, champion, en, de
):
    gate = params.promotion.model_copy(update={"primary_metric": "pr_auc", "tolerance": 0.0})
    reason = decide(challenger, champion, gate).reason
    assert reason == en  # the `reason` tag MLflow keeps
    assert shown(reason, "de") == de


def test_a_text_missing_in_german_falls_back_to_english():
    assert t("no_champion", "fr") == "none"
    assert t("no_champion", "de") == "keiner"


def test_a_said_text_survives_a_copy_and_a_pickle():
    import copy
    import pickle

    text = said("fold", fold=2, warning=said("first_model"))
    for again in (copy.deepcopy(text), pickle.loads(pickle.dumps(text))):
        assert again == "backtest fold 2: first model: becomes champion"
        assert shown(again, "de") == "Backtest-Fold 2: erstes Modell: wird Champion"


def test_a_said_text_kept_as_its_key_is_told_again_and_a_foreign_key_is_not():
    """The gate's reason kept as JSON (`reason_key`) tells the same text in either language;
    a key this catalog lacks, or no JSON, gives None (the English tag is shown instead)."""
    from training.text import as_key, from_key

    text = said("worse", tolerance=0.01, worse=Joined([said("worse_item", target="e",
                metric="pr_auc", new=0.3, old=0.5)], "; "))  # fmt: skip
    again = from_key(as_key(text))
    assert again == text and shown(again, "de") == shown(text, "de")
    assert as_key("plain") is None
    for raw in (None, "", "not json", '{"key": "nope", "values": {}}', '{"key": "worse"}', "[1]"):
        assert from_key(raw) is None, raw


def test_a_model_bundle_that_cannot_be_read_is_refused_in_the_teams_language(tmp_path):
    """Loading a model bundle refused in English only (no bundle.json, an older format, a head
    missing, unreadable feature settings), though daily, serve and promote speak German."""
    import json
    import pickle

    from features.errors import UserError
    from serving.model import scoring_model
    from training.bundle import UnsupportedBundle, load_bundle

    with pytest.raises(UserError) as got:
        load_bundle(tmp_path)
    assert got.value.told("de") == f"{tmp_path}: kein Modell-Bundle (keine bundle.json)"
    assert str(got.value) == f"{tmp_path}: not a model bundle (no bundle.json)"
    (tmp_path / "bundle.json").write_text(json.dumps({"schema_version": 1}), encoding="utf-8")
    with pytest.raises(UnsupportedBundle) as old:
        load_bundle(tmp_path)
    assert old.value.told("de").startswith("das Modell-Bundle-Format 1 liest diese Version")
    again = pickle.loads(pickle.dumps(old.value))
    assert again.found == 1 and again.told("de") == old.value.told("de")

    class NoHeads:
        heads: dict = {}

    with pytest.raises(UserError) as headless:
        scoring_model(NoHeads(), "escalation-risk/3")
    told = headless.value.told("de")
    assert told == "Modell escalation-risk/3 hat keinen Kopf für churn, escalation", told
