"""The feature code a champion was trained with (features.version): after an upgrade that computes
features otherwise (the ticket-tone scorer, a rule), the champion was fed values it never learnt
from without a word. Its bundle now carries the stamp; daily, serve and replay warn (en, de) when
it is not this installation's, and once for a bundle saved before the stamp, which still loads."""

from __future__ import annotations

import json
import shutil
import socket

import pandas as pd
import pytest

from serving.cli import main
from serving.model import feature_code_warning, read_champion, scoring_model
from training.bundle import SCHEMA_VERSION, load_bundle
from training.registry import download_bundle

UPGRADED = "features.version.FEATURE_CODE_VERSION"


@pytest.fixture(scope="module")
def bundle_dir(model_store, params, tmp_path_factory):
    """The champion's downloaded bundle folder."""
    import mlflow

    mlflow.set_tracking_uri(model_store)
    mlflow.set_registry_uri(model_store)
    d = tmp_path_factory.mktemp("champion")
    download_bundle(params.promotion.model_name, "champion", d)
    return next(d.rglob("bundle.json")).parent


def test_a_trained_bundle_carries_this_installations_feature_code(bundle_dir):
    from features.version import FEATURE_CODE_VERSION, stamp

    meta = json.loads((bundle_dir / "bundle.json").read_text(encoding="utf-8"))
    assert meta["feature_code"] == stamp() and meta["schema_version"] == SCHEMA_VERSION
    assert stamp()["version"] == FEATURE_CODE_VERSION
    assert stamp()["sentiment"].startswith("lexicon-v")  # the scorer's own cache id
    model = scoring_model(load_bundle(bundle_dir), "escalation-risk/1")
    assert feature_code_warning(model) is None


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "WARNING: the champion escalation-risk/1 was trained on features computed by other "
         "code (features v1, sentiment lexicon-v"),
        ("de", "WARNUNG: der Champion escalation-risk/1 wurde mit Merkmalen trainiert, die anderer "
         "Code berechnet hat (features v1, sentiment lexicon-v"),
    ],
)  # fmt: skip
def test_a_champion_of_other_feature_code_is_warned_about(bundle_dir, monkeypatch, language, said):
    monkeypatch.setattr(UPGRADED, 2)  # the upgrade: feature code v2 since the champion's training
    model = scoring_model(load_bundle(bundle_dir), "escalation-risk/1")
    told = feature_code_warning(model, language)
    assert told is not None and said in told and "features v2" in told
    assert "escrisk train" in told and "promote" in told


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "WARNING: the champion escalation-risk/1 was saved before models recorded the "
         "feature code"),
        ("de", "WARNUNG: der Champion escalation-risk/1 wurde gespeichert, bevor Modelle "
         "festhielten"),
    ],
)  # fmt: skip
def test_a_bundle_saved_before_the_stamp_loads_and_is_warned_about(
    bundle_dir, tmp_path, language, said
):
    old = tmp_path / "old"
    shutil.copytree(bundle_dir, old)
    meta = json.loads((old / "bundle.json").read_text(encoding="utf-8"))
    del meta["feature_code"]
    (old / "bundle.json").write_text(json.dumps(meta), encoding="utf-8")
    bundle = read_champion(old, "escalation-risk", "1", language)  # loads as it did
    assert bundle.feature_code is None
    model = scoring_model(bundle, "escalation-risk/1")
    told = feature_code_warning(model, language)
    assert told is not None and said in told and "features v1" in told


def test_daily_serve_and_replay_warn_after_an_upgrade(
    model_store, trained, params, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", model_store)
    monkeypatch.setenv("ESCRISK_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("ESCRISK_API_TOKENS", "k" * 43)
    monkeypatch.delenv("ESCRISK_API_TOKENS_FILE", raising=False)
    monkeypatch.setattr("os.execvpe", lambda cmd, argv, env: None)  # the checks, not the server
    settings = ["--params", str(trained.params_file)]
    day = pd.Timestamp.now(tz="UTC").date().isoformat()
    daily = ["daily", str(trained.source), "--as-of", day, "--out", str(tmp_path / "reports")]

    def serve() -> str:
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        assert main(["serve", "--port", str(port), *settings]) == 0
        return capsys.readouterr().err

    warned = "was trained on features computed by other code"
    assert warned not in serve()  # the champion's own feature code: nothing to say
    monkeypatch.setattr(UPGRADED, 2)
    assert warned in serve()
    assert main([*daily, "--no-send", "--language", "de", *settings]) == 0
    said = capsys.readouterr()
    told = " ".join((said.out + said.err).split())  # rich wraps the line
    assert "mit Merkmalen trainiert, die anderer Code berechnet hat" in told
    then = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=9)).date().isoformat()
    assert main(["replay", str(trained.source), "--from", then, "--to", then, *settings]) == 0
    said = capsys.readouterr()
    assert warned in " ".join((said.out + said.err).split())
