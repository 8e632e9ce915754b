"""The service's local copies of the champion's bundle (ESCRISK_MODEL_CACHE): a worker restarted
while the model registry cannot be reached loads the pinned version from its copy."""

from __future__ import annotations

import datetime as dt
import logging
import shutil

import numpy as np
import pytest
import sqlalchemy as sa

from features.errors import UserError
from serving.model import (
    KEPT_VERSIONS,
    cached_bundle,
    champion_version,
    keep_bundle,
    last_champion,
    load_champion,
    note_champion,
)
from serving.settings import Settings


def test_a_worker_restarted_while_mlflow_is_down_loads_the_pinned_version_it_kept(
    model_store, params, tmp_path, unused_port, caplog
):
    """Without a local copy a worker restarted while the registry was down had no model (and a
    service of one worker none at all). The first load keeps a copy; with the registry gone
    (here a PostgreSQL tracking store nothing answers for) the pinned version loads from it,
    the same model, and the log says so. An unpinned champion is not guessed from the cache,
    and without a copy the registry's error stands."""
    name = params.promotion.model_name
    version = champion_version(model_store, name)
    cache = tmp_path / "cache"
    # a registry of its own (a copy of the store's database; the artifacts stay where they are)
    store = tmp_path / "mlflow.db"
    shutil.copy(sa.engine.make_url(model_store).database, store)
    uri = f"sqlite:///{store}"
    first = load_champion(uri, name, version=version, cache=cache)
    assert len(list(cache.glob(f"*/{name}/{version}/bundle.json"))) == 1
    assert oct(cache.stat().st_mode & 0o777) == "0o700"

    store.unlink()  # the registry gone
    with caplog.at_level(logging.WARNING, logger="escrisk.model"):
        again = load_champion(uri, name, version=version, cache=cache)
    assert again.version == first.version == f"{name}/{version}"
    assert again.spec.names == first.spec.names
    head, same = again.heads["escalation"].booster, first.heads["escalation"].booster
    X = np.zeros((1, len(first.spec.names)))
    assert head.predict(X, raw_score=True) == pytest.approx(same.predict(X, raw_score=True))
    assert f"loading {name}/{version} from its local copy" in caplog.text
    assert "no MLflow store at" in caplog.text

    with pytest.raises(UserError):  # the champion of the moment: only the registry knows
        load_champion(uri, name, cache=cache)
    with pytest.raises(UserError):  # no copy kept
        load_champion(uri, name, version=version, cache=tmp_path / "empty")
    # another registry's model of the same name and version is another model
    down = f"postgresql+psycopg://postgres@127.0.0.1:{unused_port}/mlflow"
    with pytest.raises(UserError, match="127.0.0.1"):
        load_champion(down, name, version=version, cache=cache)


def test_the_cache_keeps_the_newest_versions_only(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "bundle.json").write_text("{}")
    cache = tmp_path / "cache"
    for v in range(1, KEPT_VERSIONS + 3):
        keep_bundle(bundle, cache, "sqlite:///mlflow.db", "m", str(v))
    left = sorted(int(d.name) for d in cache.glob("*/m/*"))
    assert left == list(range(3, KEPT_VERSIONS + 3))


def test_the_cache_never_drops_the_champion_serve_falls_back_on(tmp_path):
    """The newest used were kept, the champion `escrisk serve` noted among the rest: loading a
    few pinned challengers after it dropped its copy, and a restart while the registry was down
    then had no model to fall back on. Its copy stays, counted among those kept."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "bundle.json").write_text("{}")
    cache, uri = tmp_path / "cache", "sqlite:///mlflow.db"
    keep_bundle(bundle, cache, uri, "m", "1")
    note_champion(cache, uri, "m", "1", dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    for v in range(2, KEPT_VERSIONS + 4):
        keep_bundle(bundle, cache, uri, "m", str(v))
    left = sorted(int(d.name) for d in cache.glob("*/m/*") if d.is_dir())
    assert left == [1, *range(5, KEPT_VERSIONS + 4)]  # the champion and the newest others
    found = last_champion(cache, uri, "m")
    assert found is not None and found[0] == "1"


def test_the_cache_lies_in_the_users_cache_folder_unless_set():
    assert Settings.from_env({"HOME": "/home/ann"}).model_cache == (
        "/home/ann/.cache/escalation-risk/models"
    )
    assert Settings.from_env({"XDG_CACHE_HOME": "/c"}).model_cache == "/c/escalation-risk/models"
    assert Settings.from_env({"ESCRISK_MODEL_CACHE": "/srv/m"}).model_cache == "/srv/m"


def _bundle(folder, text):
    folder.mkdir(parents=True)
    (folder / "bundle.json").write_text("{}")
    (folder / "heads").mkdir()
    (folder / "heads" / "escalation.txt").write_text(text)
    return folder


def test_a_copy_of_another_model_under_the_same_version_is_replaced(tmp_path):
    """A copy once kept was never replaced: after the registry was set up anew (versions count
    from 1 again) or its model version re-registered, a worker restarted while it was down loaded
    the old model's booster under the new one's version. The copy now follows the download."""
    cache, uri = tmp_path / "cache", "http://mlflow.internal:5000"
    keep_bundle(_bundle(tmp_path / "old", "trees of the old v1"), cache, uri, "m", "1")
    keep_bundle(_bundle(tmp_path / "new", "trees of the new v1"), cache, uri, "m", "1")
    kept = cached_bundle(cache, uri, "m", "1")
    assert kept is not None and (kept / "heads" / "escalation.txt").read_text() == (
        "trees of the new v1"
    )
    assert [d.name for d in kept.parent.iterdir()] == ["1"]  # nothing partial or stale left


def test_the_default_registry_of_two_folders_is_two_registries(tmp_path, monkeypatch):
    """The cache was keyed by the tracking URI's text: two installations on one host with the
    default sqlite:///mlflow.db (staging and production folders) shared their copies, and one's
    version 3 stood in for the other's."""
    cache, uri = tmp_path / "cache", "sqlite:///mlflow.db"
    for place in ("staging", "production"):
        (tmp_path / place).mkdir()
        monkeypatch.chdir(tmp_path / place)
        keep_bundle(_bundle(tmp_path / f"b-{place}", f"{place} trees"), cache, uri, "m", "3")
    for place in ("staging", "production"):
        monkeypatch.chdir(tmp_path / place)
        kept = cached_bundle(cache, uri, "m", "3")
        assert kept is not None and (kept / "heads" / "escalation.txt").read_text() == (
            f"{place} trees"
        )
    # the same registry however it is named
    absolute = f"sqlite:///{tmp_path / 'production' / 'mlflow.db'}"
    assert cached_bundle(cache, absolute, "m", "3") == cached_bundle(cache, uri, "m", "3")


def test_serve_starts_with_the_champion_last_seen_while_the_registry_is_down(
    model_store, params, tmp_path, body_for, auth, unused_port, capsys, monkeypatch, start_service
):
    """`escrisk serve` asked the registry before it started: with MLflow down a restart failed,
    though its workers load a pinned version from their local copy. It now serves the champion
    it last saw there, saying loudly which and when; with none kept it refuses in one line."""
    import datetime as dt
    from urllib.parse import urlsplit

    import httpx
    import mlflow

    from serving.cli import main
    from serving.commands.serve import model_to_serve

    name = params.promotion.model_name
    store = tmp_path / "mlflow.db"
    shutil.copy(sa.engine.make_url(model_store).database, store)
    uri, cache = f"sqlite:///{store}", tmp_path / "models"
    seen = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)
    version, _, warning = model_to_serve(uri, params, cache, seen)  # the registry up: noted, kept
    assert warning is None and version == champion_version(model_store, name)
    # a registry that answers without a champion: a champion taken away is not served from a copy
    mlflow.MlflowClient(uri, uri).delete_registered_model_alias(name, "champion")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("ESCRISK_MODEL_CACHE", str(cache))
    assert main(["serve", "--port", str(unused_port)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert f"no 'champion' version of model '{name}' in the MLflow registry" in err, err
    assert "last seen" not in err
    store.unlink()  # the registry gone

    with start_service(
        tmp_path,
        escrisk_serve=True,
        MLFLOW_TRACKING_URI=uri,
        ESCRISK_MODEL_CACHE=str(cache),
        ESCRISK_API_TOKENS=auth["Authorization"].removeprefix("Bearer "),
        ESCRISK_DATABASE_URL=f"sqlite:///{tmp_path / 'escrisk.db'}",
    ) as base:
        r = httpx.post(f"{base}/score", json=body_for(["ACC-001"]), headers=auth, timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["scores"][0]["model_version"] == f"{name}/{version}"
    port = urlsplit(base).port
    said = " ".join((tmp_path / "server.log").read_text().split())
    assert f"WARNING: the model registry {uri} cannot be used (no MLflow store at" in said, said
    told = f"serving {name} version {version}, the 'champion' version last seen there, at "
    assert f"{told}2026-12-01 08:30 UTC" in said, said
    assert f"serving {name} version {version} on http://127.0.0.1:{port}" in said

    # nothing kept to serve: one line, at once, and no service
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("ESCRISK_MODEL_CACHE", str(tmp_path / "empty"))
    assert main(["serve", "--port", str(port)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert f"escrisk serve: the model registry {uri} cannot be used (no MLflow store at" in err
    assert f"no 'champion' version of model '{name}' seen there before is kept in" in err, err


def test_serve_falls_back_at_once_when_the_tracking_server_is_down(
    model_store, params, tmp_path, unused_port, monkeypatch, capsys
):
    """With an MLflow tracking server down (nothing listens), MLflow retried for over four
    minutes before any error: `escrisk serve`, then each of its workers, waited that long before
    loading the model they kept. One try tells it now: serve pins the champion last seen (noted
    while the server was up) at once, and refuses at once with nothing noted."""
    import datetime as dt
    import os
    import time

    from serving.cli import main
    from serving.model import note_champion

    name = params.promotion.model_name
    version = champion_version(model_store, name)
    down, cache = f"http://127.0.0.1:{unused_port}", tmp_path / "models"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", down)
    monkeypatch.setenv("ESCRISK_MODEL_CACHE", str(cache))
    started: list[dict[str, str]] = []
    monkeypatch.setattr(os, "execvpe", lambda cmd, argv, env: started.append(env))
    began = time.monotonic()
    assert main(["serve", "--port", str(unused_port)]) == 1  # nothing noted for that server
    err = " ".join(capsys.readouterr().err.split())
    said = (
        f"the model registry {down} cannot be used (MLflow tracking server {down}: cannot connect"
    )
    assert said in err and "seen there before is kept in" in err, err

    # what serve keeps while the server is up: the bundle, and the champion it named
    load_champion(model_store, name, version=version, cache=tmp_path / "up")
    kept = cached_bundle(tmp_path / "up", model_store, name, version)
    assert kept is not None
    keep_bundle(kept, cache, down, name, version)
    note_champion(cache, down, name, version, dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC))
    assert main(["serve", "--port", str(unused_port)]) == 0
    assert started and started[0]["ESCRISK_MODEL_VERSION"] == version
    err = " ".join(capsys.readouterr().err.split())
    said = f"serving {name} version {version}, the 'champion' version last seen there, at 2026-12"
    assert f"{said}-07 06:00 UTC" in err, err
    assert time.monotonic() - began < 90  # MLflow's own retries: over 240 s
