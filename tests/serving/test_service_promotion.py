"""What `escrisk serve` hands its workers: the version it announced (a promotion while it runs
changes nothing until a restart), and its settings checked before they start."""

from __future__ import annotations

import os
import shutil
import socket

import httpx
import pytest

TOKEN = "promotion-test-token"


def promoted_store(trained, tmp_path) -> tuple[str, str, str]:
    """A copy of the suite's store whose champion moved on to a new version (the same model
    registered again): the store's URI, the old champion's version and the new one's."""
    from training.registry import connect

    db = tmp_path / "mlflow.db"
    shutil.copyfile(trained.tracking_uri.removeprefix("sqlite:///"), db)
    uri = f"sqlite:///{db}"
    client = connect(uri)
    v1 = client.get_model_version_by_alias("escalation-risk", "champion")
    v2 = client.create_model_version("escalation-risk", v1.source, run_id=v1.run_id)
    client.set_registered_model_alias("escalation-risk", "champion", v2.version)
    connect(trained.tracking_uri)  # the process's MLflow URIs back on the suite's store
    return uri, str(v1.version), str(v2.version)


def test_serve_pins_the_workers_to_the_champion_it_announced(trained, monkeypatch, capsys):
    """A worker BentoML starts after a promotion (a crashed one's replacement) loaded the new
    champion while the others kept the old: /score answered with two models at once."""
    from serving.cli import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained.tracking_uri)
    monkeypatch.setenv("ESCRISK_API_TOKENS", "t")
    monkeypatch.setenv("ESCRISK_MODEL_VERSION", "999")  # left in the shell: serve sets its own
    started: list[dict[str, str]] = []
    monkeypatch.setattr(os, "execvpe", lambda cmd, argv, env: started.append(env))
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert main(["serve", "--port", str(port)]) == 0
    version = started[0]["ESCRISK_MODEL_VERSION"]
    assert f"version {version} on" in capsys.readouterr().err


@pytest.mark.slow
def test_a_pinned_service_answers_with_its_version_after_a_promotion(
    trained, tmp_path, start_service, body_for
):
    uri, old, new = promoted_store(trained, tmp_path)
    with start_service(
        tmp_path, MLFLOW_TRACKING_URI=uri, ESCRISK_API_TOKENS=TOKEN, ESCRISK_MODEL_VERSION=old
    ) as base:
        r = httpx.post(
            f"{base}/score",
            json=body_for(["ACC-001"]),
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=60,
        )
    assert r.status_code == 200, r.text
    assert r.json()["model_version"] == f"escalation-risk/{old}" != f"escalation-risk/{new}"


def test_serve_warns_of_a_source_folder_that_is_not_there(trained, tmp_path, monkeypatch, capsys):
    """A mistyped ESCRISK_SOURCE was told on each account page only, never in the log."""
    from serving.cli import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained.tracking_uri)
    monkeypatch.setenv("ESCRISK_API_TOKENS", "t")
    monkeypatch.setattr(os, "execvpe", lambda cmd, argv, env: None)
    for source, warned in ((tmp_path / "nope", True), (trained.source, False)):
        monkeypatch.setenv("ESCRISK_SOURCE", str(source))
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 0
        err = capsys.readouterr().err
        assert (f"warning: ESCRISK_SOURCE={source}: no such folder" in err) is warned, err
