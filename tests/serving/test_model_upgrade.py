"""A champion an older release saved in a bundle format this version does not read: refused
naming the version and what to do (`escrisk promote` replacing it: tests/e2e/test_promote_window.py)."""

from __future__ import annotations

import json

import pytest

from features.errors import UserError
from serving.model import read_champion
from training.bundle import SCHEMA_VERSION, UnsupportedBundle, load_bundle


def old_bundle(tmp_path):
    (tmp_path / "bundle.json").write_text(
        json.dumps({"schema_version": SCHEMA_VERSION - 1, "targets": [], "features": []})
    )
    return tmp_path


def test_an_older_bundle_format_says_to_train_and_promote(tmp_path):
    with pytest.raises(UnsupportedBundle) as err:
        load_bundle(old_bundle(tmp_path))
    assert err.value.found == SCHEMA_VERSION - 1
    assert "escrisk train SOURCE && escrisk promote SOURCE" in str(err.value)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "the champion, model escalation-risk version 3, was saved by an older release"),
        ("de", "der Champion, Modell escalation-risk Version 3, wurde von einer älteren Version"),
    ],
)
def test_the_champion_in_an_older_format_is_refused_naming_its_version(tmp_path, language, said):
    # the refusal named a temporary download folder and said "retrain or upgrade"; a retrained
    # version is only a challenger, and promote could not replace the old one (next test)
    with pytest.raises(UserError) as err:
        read_champion(old_bundle(tmp_path), "escalation-risk", "3", language)
    assert said in str(err.value)
    assert str(tmp_path) not in str(err.value)
