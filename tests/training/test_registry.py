"""The bundle through a real SQLite MLflow store: log, register, alias, load by alias, gate."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from features.errors import UserError
from training.bundle import load_bundle, write_bundle
from training.experiment import run_experiment
from training.job import input_example
from training.matrix import model_matrix
from training.registry import (
    CHALLENGER,
    CHAMPION,
    alias_version,
    apply_promotion,
    connect,
    download_bundle,
    log_training,
    promotion_history,
    set_champion,
    versions_table,
)
from training.split import choose_split


@pytest.fixture(scope="module")
def experiment(synthetic, params, horizons, model_params, small_eval):
    frame, spec = synthetic
    split = choose_split(frame, horizons, params.split)
    return run_experiment(frame, spec, horizons, split, model_params, small_eval)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One SQLite store per module: creating MLflow's tables takes seconds. In its own folder,
    with its artifacts beside it (mlruns/)."""
    root = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        client = connect(f"sqlite:///{root / 'mlflow.db'}")
        client.search_experiments()  # the store (and its artifact root) is made when first used
    return root, client


def _log(tmp_path, ex, frame, name):
    heads = {t: o.head for t, o in ex.targets.items()}
    bundle_dir = write_bundle(tmp_path / "bundle", heads, ex.spec)
    report = tmp_path / "report"
    report.mkdir(parents=True, exist_ok=True)
    (report / "metrics.md").write_text("# m\n")
    example = input_example(frame, ex)
    return log_training(
        experiment="test",
        model_name=name,
        params={"model": {"seed": 1}},
        metrics=ex.metrics(),
        tags={"git_commit": "abc"},
        report_dir=report,
        bundle_dir=bundle_dir,
        input_example=example,
        output_example=load_bundle(bundle_dir).predict(example),
    )


def _promote(client, name, challenger, champion, reason="better", when="2024-02-01"):
    """`apply_promotion` of `challenger` over `champion`, as the gate decided to promote it."""
    apply_promotion(
        client,
        model_name=name,
        challenger=challenger,
        champion=champion,
        promote=True,
        reason=reason,
        forced=False,
        scores={"challenger.churn_90d": 0.5},
        window="w",
        when=pd.Timestamp(when, tz="UTC"),
    )


def test_pyfunc_round_trip_by_alias(tmp_path, monkeypatch, store, experiment, synthetic):
    root, client = store
    monkeypatch.chdir(root)
    frame, _ = synthetic
    logged = _log(tmp_path, experiment, frame, "escalation-risk")
    assert alias_version(client, "escalation-risk", CHALLENGER) == logged.version
    set_champion(
        client,
        "escalation-risk",
        logged.version,
        previous=None,
        when=pd.Timestamp("2024-01-01", tz="UTC"),
    )

    model = mlflow.pyfunc.load_model("models:/escalation-risk@champion")
    rows = frame.iloc[:50]
    got = model.predict(input_example(rows, experiment, n=50))
    want = experiment.targets["escalation_30d"].head.predict(model_matrix(rows, experiment.spec))
    np.testing.assert_allclose(got["escalation_30d"].to_numpy(), want, rtol=0, atol=1e-12)
    assert list(got.columns) == ["escalation_30d", "churn_90d"]
    assert model.metadata.signature is not None

    plain = download_bundle("escalation-risk", CHAMPION, tmp_path / "dl")
    contrib = plain.contributions(rows, "churn_90d")
    raw = plain.heads["churn_90d"].raw(plain.matrix(rows))
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy(), raw, atol=1e-9)  # SHAP additivity


def test_the_champion_loads_where_the_project_is_not_installed(
    tmp_path, monkeypatch, store, experiment, synthetic
):
    """ "Loadable with mlflow.pyfunc.load_model and nothing else": a process that cannot import
    our packages (another environment, `mlflow models serve`) loads and predicts with the code
    the model carries, and its requirements are pinned."""
    import json
    import subprocess
    import sys
    import sysconfig
    from pathlib import Path

    root, client = store
    monkeypatch.chdir(root)
    frame, _ = synthetic
    name = "portable"
    logged = _log(tmp_path, experiment, frame, name)
    set_champion(
        client, name, logged.version, previous=None, when=pd.Timestamp("2024-01-01", tz="UTC")
    )
    rows = input_example(frame.iloc[:20], experiment, n=20)
    rows.to_parquet(tmp_path / "rows.parquet")
    # -S: no .pth files, so not the project's editable install; the packages it needs are found
    site = sysconfig.get_paths()["purelib"]
    script = f"""
import json, sys
sys.path.append({site!r})
import importlib.util
assert importlib.util.find_spec("training") is None and importlib.util.find_spec("features") is None
import mlflow, pandas as pd
mlflow.set_tracking_uri({client.tracking_uri!r})
model = mlflow.pyfunc.load_model("models:/{name}@champion")
got = model.predict(pd.read_parquet({str(tmp_path / "rows.parquet")!r}))
print(json.dumps(got["escalation_30d"].tolist()))
"""
    other = tmp_path / "elsewhere"
    other.mkdir()
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-S", "-c", script], cwd=other, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    want = experiment.targets["escalation_30d"].head.predict(
        model_matrix(frame.iloc[:20], experiment.spec)
    )
    np.testing.assert_allclose(json.loads(done.stdout.splitlines()[-1]), want, atol=1e-12)
    reqs = (
        Path(mlflow.artifacts.download_artifacts(f"models:/{name}@champion")) / "requirements.txt"
    )
    pinned = reqs.read_text().split()
    assert any(r.startswith("lightgbm==") for r in pinned) and all(
        "==" in r for r in pinned if not r.startswith("-")
    )


def test_alias_history_in_versions_table(tmp_path, monkeypatch, store, experiment, synthetic):
    root, client = store
    monkeypatch.chdir(root)
    frame, _ = synthetic
    name = "history-test"
    v1 = _log(tmp_path / "1", experiment, frame, name).version
    set_champion(client, name, v1, previous=None, when=pd.Timestamp("2024-01-01", tz="UTC"))
    v2 = _log(tmp_path / "2", experiment, frame, name).version
    assert alias_version(client, name, CHALLENGER) == v2
    set_champion(client, name, v2, previous=v1, when=pd.Timestamp("2024-02-01", tz="UTC"))
    assert alias_version(client, name, CHALLENGER) is None  # the challenger became champion
    t = versions_table(client, name, ["escalation_30d.lightgbm.pr_auc"])
    assert t["aliases"].tolist() == ["", "champion"]
    assert t.loc[0, "champion_until"].startswith("2024-02-01")
    assert t.loc[1, "champion_since"].startswith("2024-02-01")
    assert t["escalation_30d.lightgbm.pr_auc"].notna().all()
    assert t["test_window"].tolist() == ["", ""]  # runs logged without a split
    for v, end in ((v1, "None"), (v2, "2024-08-05")):  # to the end of the data; a split's end
        run_of = client.get_model_version(name, v).run_id
        client.set_tag(run_of, "split.validation_end", "2024-05-06")
        client.set_tag(run_of, "split.test_end", end)
    t = versions_table(client, name, [])
    assert t["test_window"].tolist() == ["2024-05-06..", "2024-05-06..2024-08-05"]
    # rolled back: v1 serves again, and its earlier term's end no longer says it stopped
    set_champion(client, name, v1, previous=v2, when=pd.Timestamp("2024-03-01", tz="UTC"))
    t = versions_table(client, name, ["escalation_30d.lightgbm.pr_auc"])
    assert t["aliases"].tolist() == ["champion", ""]
    assert t.loc[0, "champion_since"].startswith("2024-03-01") and t.loc[0, "champion_until"] == ""
    assert t.loc[1, "champion_until"].startswith("2024-03-01")


def test_a_registration_cut_short_leaves_no_version_behind(
    tmp_path, monkeypatch, store, experiment, synthetic
):
    """Ctrl-C between the registration and the alias move left a version of a FAILED run with
    no alias, listed by `escrisk models`; the pending challenger stays where it was and the run
    is KILLED, MLflow's status of a run its user stopped."""
    root, client = store
    monkeypatch.chdir(root)
    frame, _ = synthetic
    name = "interrupted-test"
    v1 = _log(tmp_path / "1", experiment, frame, name).version
    move = MlflowClient.set_registered_model_alias

    def interrupted(self, *args, **kwargs):
        monkeypatch.setattr(MlflowClient, "set_registered_model_alias", move)
        raise KeyboardInterrupt

    monkeypatch.setattr(MlflowClient, "set_registered_model_alias", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _log(tmp_path / "2", experiment, frame, name)
    assert [str(mv.version) for mv in client.search_model_versions(f"name='{name}'")] == [v1]
    assert alias_version(client, name, CHALLENGER) == v1
    stopped = mlflow.search_runs(experiment_names=["test"], filter_string="status = 'KILLED'")
    assert len(stopped) == 1  # not FAILED: nothing went wrong, the user stopped it


@pytest.mark.parametrize("cut", ["interrupted", "version deleted", "alias moved"])
def test_a_promotion_cut_short_is_not_logged_as_promoted(
    tmp_path, monkeypatch, store, experiment, synthetic, cut
):
    """The decision was logged before the alias moved: a Ctrl-C or a store error in between left
    the history saying "promoted True" while `champion` had not moved. The alias moves first; a
    move cut short is undone and logged as not promoted (a Ctrl-C after the alias moved, injected
    at MLflow's client; or the version deleted meanwhile, a real cause: nothing is logged).
    A version deleted or an alias moved while the gate scored was told as MLflow's raw "Model
    Version ... not found" (or not at all): now as the registry having changed, nothing moved."""
    root, client = store
    monkeypatch.chdir(root)
    frame, _ = synthetic
    name = f"cut-promotion-{cut.split()[0]}"
    v1 = _log(tmp_path / "1", experiment, frame, name).version
    set_champion(client, name, v1, previous=None, when=pd.Timestamp("2024-01-01", tz="UTC"))
    v2 = _log(tmp_path / "2", experiment, frame, name).version
    if cut == "interrupted":  # the alias has moved, its tags are not written yet
        tag = MlflowClient.set_model_version_tag

        def interrupted(self, *args, **kwargs):
            monkeypatch.setattr(MlflowClient, "set_model_version_tag", tag)
            raise KeyboardInterrupt

        monkeypatch.setattr(MlflowClient, "set_model_version_tag", interrupted)
        error: type[BaseException] = KeyboardInterrupt
    elif cut == "version deleted":  # deleted in the MLflow UI while the gate scored it
        client.delete_model_version(name, v2)
        error = UserError
    else:  # another promote, or the MLflow UI, moved the alias while the gate scored
        client.delete_registered_model_alias(name, CHALLENGER)
        error = UserError
    with pytest.raises(error) as raised:
        _promote(client, name, v2, v1)
    assert alias_version(client, name, CHAMPION) == v1
    if error is UserError:
        told = str(raised.value)
        assert "changed while promote scored challenger" in told, told
        assert f"'challenger' none, 'champion' v{v1}" in told and "promote` again" in told
    history = promotion_history(name)
    assert "True" not in history["promoted"].tolist()
    t = versions_table(client, name, [])
    assert t.loc[0, "champion_since"].startswith("2024-01-01") and t.loc[0, "champion_until"] == ""
    if cut == "interrupted":
        assert history["promoted"].tolist() == ["False"]
        assert "cut short (KeyboardInterrupt): undone" in history["reason"].iloc[0]
        assert alias_version(client, name, CHALLENGER) == v2
        assert t.loc[1, "champion_since"] == ""
        _promote(client, name, v2, v1, "again", "2024-03-01")  # not cut short: moved, logged
        assert alias_version(client, name, CHAMPION) == v2
        assert promotion_history(name)["promoted"].tolist() == ["False", "True"]


def test_a_promotion_whose_logging_is_cut_short_leaves_no_blank_decision(
    tmp_path, monkeypatch, store, experiment, synthetic
):
    """Ctrl-C while the decision was being logged (after the alias moved) left a run without
    params, a blank row in `escrisk models`' champion history, and the champion moved with no
    decision for it. Now the move is undone and logged as cut short; the blank run is KILLED and
    not in the history."""
    root, client = store
    monkeypatch.chdir(root)
    frame, _ = synthetic
    name = "cut-logging"
    v1 = _log(tmp_path / "1", experiment, frame, name).version
    set_champion(client, name, v1, previous=None, when=pd.Timestamp("2024-01-01", tz="UTC"))
    v2 = _log(tmp_path / "2", experiment, frame, name).version
    batch = MlflowClient.log_batch

    def interrupted(self, *args, **kwargs):  # the decision's params, as the run logs them
        monkeypatch.setattr(MlflowClient, "log_batch", batch)
        raise KeyboardInterrupt

    monkeypatch.setattr(MlflowClient, "log_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _promote(client, name, v2, v1)
    history = promotion_history(name)
    assert history.notna().all().all(), history
    assert history["promoted"].tolist() == ["False"], history
    assert "cut short (KeyboardInterrupt): undone" in history["reason"].iloc[0]
    assert alias_version(client, name, CHAMPION) == v1
    assert alias_version(client, name, CHALLENGER) == v2


def _params_naming(root, name: str):
    """The project's params.yaml, written in `root` with `name` as promotion.model_name."""
    from pathlib import Path

    p = root / "params.yaml"
    text = (Path(__file__).resolve().parents[2] / "params.yaml").read_text(encoding="utf-8")
    p.write_text(text.replace("model_name: escalation-risk", f"model_name: {name}"), "utf-8")
    return p


def test_models_lists_a_registered_model_without_versions(store, monkeypatch, capsys):
    """Every version deleted (in the MLflow UI, or a first training cut short): `escrisk models`
    was an internal error (KeyError: 'version')."""

    from serving.cli import main

    root, client = store
    name = "no-versions-test"
    client.create_registered_model(name)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    assert main(["models", "--params", str(_params_naming(root, name))]) == 0
    out = capsys.readouterr().out
    assert "no versions" in out and "escrisk train SOURCE" in out, out


def test_models_and_promote_answer_a_german_team_in_german(store, monkeypatch, capsys):
    """`escrisk models` and `promote` printed English only while `daily`, `validate` and the
    ladder's commands follow daily.language; MLflow's own names stay as MLflow shows them."""
    from serving.cli import main

    root, client = store
    name = "german-team-test"
    client.create_registered_model(name)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    english = _params_naming(root, name)
    german = root / "params-de.yaml"
    text = english.read_text(encoding="utf-8")
    assert "\n  language: en\n" in text
    german.write_text(text.replace("\n  language: en\n", "\n  language: de\n", 1), "utf-8")
    assert main(["models", "--params", str(german)]) == 0
    out = capsys.readouterr().out
    assert f"Modell {name} (Hauptkennzahl" in out and "keine Versionen" in out, out
    assert "Promotion-Entscheidungen (älteste zuerst):\n  noch keine" in out, out
    assert main(["models", "--params", str(english), "--language", "de"]) == 0
    assert "keine Versionen" in capsys.readouterr().out
    assert main(["models", "--params", str(german), "--language", "en"]) == 0
    assert "no versions" in capsys.readouterr().out
    assert main(["promote", str(root), "--force", "--params", str(german)]) == 1
    err = capsys.readouterr().err
    assert "--force braucht --reason TEXT" in err, err


def test_the_signature_requires_every_feature_the_model_needs(
    tmp_path, monkeypatch, store, experiment, synthetic
):
    """A column that happened to be missing in the input example was declared optional, so a
    caller trusting the signature left it out and the model refused the call; every feature is
    required (its values may be missing)."""
    root, _ = store
    monkeypatch.chdir(root)
    frame, _ = synthetic
    heads = {t: o.head for t, o in experiment.targets.items()}
    bundle_dir = write_bundle(tmp_path / "bundle", heads, experiment.spec)
    (tmp_path / "report").mkdir()
    example = input_example(frame, experiment).assign(sentiment_mean_30d=np.nan)
    logged = log_training(
        experiment="test",
        model_name="signature-test",
        params={"model": {"seed": 1}},
        metrics={},
        tags={},
        report_dir=tmp_path / "report",
        bundle_dir=bundle_dir,
        input_example=example,
        output_example=load_bundle(bundle_dir).predict(example),
    )
    model = mlflow.pyfunc.load_model(f"models:/signature-test/{logged.version}")
    inputs = model.metadata.get_input_schema().inputs
    assert [c.name for c in inputs] == experiment.spec.names
    assert all(c.required for c in inputs), [c.name for c in inputs if not c.required]
    got = model.predict(example)  # its missing values are still accepted
    assert got["escalation_30d"].notna().all()


def test_a_downloaded_bundle_leaves_no_folder_behind(
    tmp_path, monkeypatch, store, experiment, synthetic
):
    """`escrisk promote` downloads two versions each time: their folders stayed in the temp dir."""
    import tempfile

    root, _ = store
    monkeypatch.chdir(root)
    frame, _ = synthetic
    logged = _log(tmp_path / "log", experiment, frame, "tidy")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    bundle = download_bundle("tidy", logged.version)
    assert bundle.targets == list(experiment.targets)
    assert bundle.predict(frame.head(3)).notna().all().all()
    assert list(scratch.iterdir()) == []


def test_a_database_store_that_cannot_be_reached_is_told_at_once():
    """MLflow retries a database it cannot connect to for about 100 s, printing a warning with
    the driver's error ten times; the reader and the trainer now say so after one try, without
    the password."""
    import socket
    import time

    from features.errors import UserError
    from serving.model import champion_version

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # a driver takes the password in the query too: the error names the store without either
    uri = f"postgresql://escrisk:secret@127.0.0.1:{port}/mlflow?password=secret2"
    started = time.monotonic()
    for reach in (lambda: connect(uri), lambda: champion_version(uri, "escalation-risk")):
        with pytest.raises(UserError, match=rf"MLflow tracking store .*127\.0\.0\.1:{port}") as err:
            reach()
        assert "secret" not in str(err.value)
    assert time.monotonic() - started < 10


def test_two_trainings_at_once_leave_challenger_to_the_newest(
    tmp_path, monkeypatch, store, experiment, synthetic
):
    """Two `escrisk train` on one store: each moved `challenger` to its own version, so the one
    that finished last held it, even when it was the older. The newest registered version holds
    it whatever the order, and the other run is told which version does."""
    import threading

    root, client = store
    monkeypatch.chdir(root)
    frame, _ = synthetic
    name = "concurrent-test"
    tag = MlflowClient.set_model_version_tag
    other: list = []

    def meanwhile(self, *args, **kwargs):  # the other training registers and claims now
        monkeypatch.setattr(MlflowClient, "set_model_version_tag", tag)
        tag(self, *args, **kwargs)
        work = threading.Thread(
            target=lambda: other.append(_log(tmp_path / "b", experiment, frame, name))
        )
        work.start()
        work.join()

    monkeypatch.setattr(MlflowClient, "set_model_version_tag", meanwhile)
    first = _log(tmp_path / "a", experiment, frame, name)  # registered first, finished last
    second = other[0]
    assert int(second.version) > int(first.version)
    assert alias_version(client, name, CHALLENGER) == second.version
    assert first.challenger == second.challenger == second.version


def test_a_sqlite_uri_with_two_slashes_is_told_with_the_right_form(tmp_path, monkeypatch, capsys):
    """MLFLOW_TRACKING_URI=sqlite://mlflow.db (two slashes, a common slip) was an internal error
    ("ArgumentError: Invalid SQLite URL ... This is a bug") from train, promote and models."""
    from pathlib import Path

    from serving.cli import main

    params = Path(__file__).resolve().parents[2] / "params.yaml"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite://mlflow.db")
    for argv in (["models"], ["promote", "world"], ["train", "world"]):
        assert main([*argv, "--params", str(params)]) == 1, argv
        told = capsys.readouterr().err
        assert "sqlite:///mlflow.db" in told and "internal error" not in told, told
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgres
@pytest.mark.skipif(
    not __import__("os").environ.get("ESCRISK_TEST_POSTGRES_URL"),
    reason="ESCRISK_TEST_POSTGRES_URL not set",
)
def test_readers_of_a_database_without_mlflow_tables_create_none(monkeypatch, capsys):
    """`escrisk models` (or promote, serve) on a PostgreSQL database MLflow never used created
    MLflow's whole schema there to say "no registered model"; `escrisk daily` then named the
    store with its password. In a schema of its own, dropped afterwards."""
    import os
    import uuid
    from pathlib import Path

    import sqlalchemy as sa

    from serving.cli import main
    from serving.model import champion_version

    base = sa.engine.make_url(os.environ["ESCRISK_TEST_POSTGRES_URL"])
    if base.password is None:  # a password the server does not ask for, to see it is not shown
        base = base.set(password="s3cret")
    schema = f"escrisk_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        uri = url.render_as_string(hide_password=False)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        params = ["--params", str(Path(__file__).resolve().parents[2] / "params.yaml")]
        for argv in (["models", *params], ["promote", "src", *params], ["serve", *params]):
            assert main(argv) == 1
            err = capsys.readouterr().err
            assert "no MLflow store in the database" in err and "escrisk train SOURCE" in err
            assert base.password not in err and len(err.strip().splitlines()) == 1, err
        assert sa.inspect(admin).get_table_names(schema=schema) == []
        MlflowClient(tracking_uri=uri).search_experiments()  # MLflow's tables, no model
        for language, said in (("en", "no 'champion' version"), ("de", "keine 'champion'")):
            with pytest.raises(UserError, match=said) as caught:
                champion_version(uri, "escalation-risk", language)
            assert base.password not in str(caught.value)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_models_shows_a_missing_head_as_no_figure_not_nan(store, monkeypatch, capsys):
    """A version trained without a churn table has no churn figure: `escrisk models` printed NaN
    in its column as if it were a score."""

    from serving.cli import main

    root, client = store
    monkeypatch.chdir(root)
    name = "one-head-test"
    client.create_registered_model(name)
    run = client.create_run(client.create_experiment("one-head-test")).info.run_id
    client.log_metric(run, "escalation_30d.lightgbm.pr_auc", 0.25)
    client.set_terminated(run)
    client.create_model_version(name, f"runs:/{run}/model", run_id=run)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    assert main(["models", "--params", str(_params_naming(root, name))]) == 0
    out = capsys.readouterr().out
    assert "NaN" not in out and "0.2500" in out, out
    assert "no figure (the version has no head for that target)" in out, out


def test_a_run_that_is_no_decision_is_left_out_of_the_champion_history(store):
    """A training logged into `<model>-promotions` (train --experiment took it): `escrisk models`
    listed it as a decision with every field None, or, with no decision yet, stopped with an
    internal error (KeyError: 'params.decided_at')."""
    import mlflow

    from training.registry import promotion_history

    name = "stray-run-test"
    mlflow.set_experiment(f"{name}-promotions")
    with mlflow.start_run():
        mlflow.log_param("model.seed", 42)
    assert promotion_history(name).empty
    with mlflow.start_run():
        mlflow.log_params({"decided_at": "2026-01-01T00:00:00+00:00", "challenger_version": "2",
                           "champion_version": "1", "promoted": "True", "forced": "False"})  # fmt: skip
        mlflow.set_tag("reason", "r")
    history = promotion_history(name)
    assert history["challenger"].tolist() == ["2"]


def test_a_bundle_keeps_the_feature_settings_it_was_trained_with(tmp_path, experiment, params):
    """Scoring builds a model's features as it was trained (a changed usage baseline in
    params.yaml would feed it other values under the same names); where this installation
    caches its texts stays its own, and a bundle written before carries none (params.yaml's)."""
    from features.params import as_trained

    heads = {t: o.head for t, o in experiment.targets.items()}
    f = params.features
    trained = f.model_copy(update={"usage": f.usage.model_copy(update={"baseline_days": 60})})
    kept = load_bundle(write_bundle(tmp_path / "b", heads, experiment.spec, trained))
    assert kept.feature_params == trained
    here = f.model_copy(update={"sentiment": f.sentiment.model_copy(update={"cache_dir": "x"})})
    used = as_trained(kept.feature_params, here)
    assert used.usage.baseline_days == 60 and used.sentiment.cache_dir == "x"
    old = load_bundle(write_bundle(tmp_path / "old", heads, experiment.spec))
    assert old.feature_params is None and as_trained(old.feature_params, here) == here
    (tmp_path / "b" / "feature_params.json").write_text('{"windows_days": "x"}')
    with pytest.raises(UserError, match="feature settings do not load"):
        load_bundle(tmp_path / "b")


def test_a_store_whose_creation_is_interrupted_can_be_created_again(tmp_path, monkeypatch):
    """MLflow makes a new store's schema in many migrations: a Ctrl-C among them left a
    mlflow.db that every later `escrisk train` refused ("table ... already exists")."""
    import mlflow.store.db.utils as db_utils
    import sqlalchemy as sa

    upgrade = db_utils._upgrade_db

    def cut_short(engine):
        with engine.begin() as conn:  # one migration's table made, then the Ctrl-C
            conn.execute(sa.text("CREATE TABLE evaluation_datasets (id INTEGER)"))
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setattr(db_utils, "_upgrade_db", cut_short)
    with pytest.raises(KeyboardInterrupt):
        connect(uri).search_experiments()
    assert [p.name for p in tmp_path.iterdir()] == []
    monkeypatch.setattr(db_utils, "_upgrade_db", upgrade)
    assert [e.name for e in connect(uri).search_experiments()] == ["Default"]


def test_models_tells_each_decisions_reason_in_the_teams_language(
    store, monkeypatch, capsys, params
):
    """`escrisk models --language de` printed the decisions' English `reason` tags: a decision
    now keeps its reason's key beside them (`reason_key`) and is told in the team's language; a
    decision logged before keeps its English tag."""
    import json

    import mlflow

    from serving.cli import main
    from training.promote import decide
    from training.registry import log_promotion

    root, _ = store
    monkeypatch.chdir(root)
    client = connect(f"sqlite:///{root / 'mlflow.db'}")  # mlflow's own calls log there too
    name = "told-reasons-test"
    client.create_registered_model(name)
    run = client.create_run(client.create_experiment(name)).info.run_id
    client.log_metric(run, "escalation_30d.lightgbm.pr_auc", 0.25)
    client.set_terminated(run)
    client.create_model_version(name, f"runs:/{run}/model", run_id=run)
    mlflow.set_experiment(f"{name}-promotions")
    with mlflow.start_run():  # as an earlier release logged a decision: no reason_key
        mlflow.log_params({"decided_at": "2026-01-01T00:00:00+00:00", "challenger_version": "1",
                           "champion_version": "none", "promoted": "True", "forced": "False"})  # fmt: skip
        mlflow.set_tag("reason", "first model: becomes champion")
    gate = params.promotion.model_copy(update={"primary_metric": "pr_auc", "tolerance": 0.0})
    reason = decide({"escalation_30d": 0.3}, {"escalation_30d": 0.5}, gate).reason
    for when, why in (("2026-02-01", reason), ("2026-03-01", "by hand")):
        log_promotion(model_name=name, challenger="2", champion="1", promoted=False, reason=why,
                      forced=False, scores={}, window="w", when=pd.Timestamp(when, tz="UTC"))  # fmt: skip
    runs = mlflow.search_runs(experiment_names=[f"{name}-promotions"], order_by=["start_time"])
    english = (
        "challenger worse beyond tolerance 0.0: escalation_30d pr_auc 0.3000 vs champion 0.5000"
    )
    assert runs["tags.reason"].tolist() == ["first model: becomes champion", english, "by hand"]
    assert json.loads(runs["tags.reason_key"].iloc[1])["key"] == "worse"  # MLflow keeps English
    assert runs["tags.reason_key"].isna().tolist() == [True, False, True]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    argv = ["models", "--params", str(_params_naming(root, name))]
    assert main([*argv, "--language", "de"]) == 0
    out = capsys.readouterr().out
    assert (
        "Challenger schlechter als die Toleranz 0,0 erlaubt: escalation_30d pr_auc 0,3000 " in out
    )
    assert "first model: becomes champion" in out and "by hand" in out  # no key: the English tag
    assert "0,2500" in out and "0.2500" not in out, out
    # the history's cells as the team reads them: MLflow's True / False, 'none' and ISO times
    # with microseconds were printed as kept
    assert "2026-01-01 00:00 1 - ja nein" in " ".join(out.split()), out
    assert "True" not in out and "T00:00:00" not in out, out
    # the columns too: "decided_at challenger champion promoted forced reason" read English
    heads = "entschieden am Herausforderer Champion befördert erzwungen Grund"
    assert heads in " ".join(out.split()), out
    assert "Version Aliasse angelegt Champion seit Champion bis Testfenster" in " ".join(
        out.split()
    )
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert english in out and "2026-02-01 00:00 2 1 no no" in " ".join(out.split()), out


@pytest.mark.postgres
@pytest.mark.skipif(
    not __import__("os").environ.get("ESCRISK_TEST_POSTGRES_URL"),
    reason="ESCRISK_TEST_POSTGRES_URL not set",
)
def test_training_into_postgresql_warns_of_nothing_mlflow_handled(
    tmp_path, monkeypatch, caplog, experiment, synthetic
):
    """Every `escrisk train` into a PostgreSQL store printed psycopg's "error ignored terminating
    <psycopg.Pipeline ...>: pipeline aborted": MLflow's duplicate insert of the logged model's
    metrics, which it handles. In a schema of its own, dropped afterwards."""
    import logging
    import os
    import uuid

    import sqlalchemy as sa

    from serving.cli import quiet_mlflow

    base = sa.engine.make_url(os.environ["ESCRISK_TEST_POSTGRES_URL"])
    schema = f"escrisk_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    pg_log = logging.getLogger("psycopg")
    filters = list(pg_log.filters)
    try:
        quiet_mlflow({})
        monkeypatch.chdir(tmp_path)
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        connect(url.render_as_string(hide_password=False))
        frame, _ = synthetic
        with caplog.at_level(logging.WARNING):
            logged = _log(tmp_path / "1", experiment, frame, "pg-quiet-test")
        assert logged.version == "1"
        said = [r.getMessage() for r in caplog.records if r.name.startswith("psycopg")]
        assert not said, said
    finally:
        pg_log.filters[:] = filters
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_run_artifacts_stay_beside_the_sqlite_store_wherever_training_ran(
    tmp_path, monkeypatch, experiment, synthetic
):
    """MLflow put a run's artifacts (its report, the model) under ./mlruns of the directory the
    training ran in: a training from elsewhere (MLFLOW_TRACKING_URI naming the project's store)
    left them there, and once that folder was gone nothing could load the model. They now go to
    mlruns/ beside mlflow.db, the Default experiment's and the promotion history's too."""
    import shutil

    from training.registry import log_promotion

    home, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    client = connect(f"sqlite:///{home / 'mlflow.db'}")
    frame, _ = synthetic
    logged = _log(tmp_path / "1", experiment, frame, "beside-the-store")
    log_promotion(model_name="beside-the-store", challenger=logged.version, champion=None,
                  promoted=False, reason="by hand", forced=False, scores={}, window="w",
                  when=pd.Timestamp("2026-01-01", tz="UTC"))  # fmt: skip
    kept = home / "mlruns"
    for e in client.search_experiments():
        assert e.artifact_location.startswith(str(kept)), (e.name, e.artifact_location)
    assert client.get_run(logged.run_id).info.artifact_uri.startswith(str(kept))
    assert list(elsewhere.iterdir()) == []
    shutil.rmtree(elsewhere)
    monkeypatch.chdir(tmp_path)
    bundle = download_bundle("beside-the-store", logged.version)
    assert set(bundle.heads) == set(experiment.targets)


def test_a_sqlite_store_that_is_no_mlflow_store_is_told_as_the_mlflow_store(
    tmp_path, monkeypatch, capsys
):
    """A mlflow.db that is no database (damaged, or another file) was told by train, promote
    and models as "check ESCRISK_DATABASE_URL (the state database) ..."; it is told with the
    store's path and MLFLOW_TRACKING_URI. The state database named as the store by mistake got
    MLflow's whole schema (66 tables) from `escrisk models`: readers refuse it, as on PostgreSQL."""
    import sqlite3
    from pathlib import Path

    from serving.cli import main

    params = Path(__file__).resolve().parents[2] / "params.yaml"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlflow.db").write_bytes(b"not a database, nor anything else " * 20)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
    for argv in (["models"], ["promote", "world", "--version", "2"], ["train", "world"]):
        assert main([*argv, "--params", str(params)]) == 1, argv
        told = capsys.readouterr().err
        assert str(tmp_path / "mlflow.db") in told and "MLFLOW_TRACKING_URI" in told, told
        assert "ESCRISK_DATABASE_URL" not in told and "file is not a database" in told, told
    assert main(["models", "--params", str(params), "--language", "de"]) == 1
    assert "ist nicht nutzbar" in capsys.readouterr().err
    with sqlite3.connect(tmp_path / "escrisk.db") as db:
        db.execute("CREATE TABLE ladder_state (account_id TEXT)")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///escrisk.db")
    for argv in (["models"], ["promote", "world"]):
        assert main([*argv, "--params", str(params)]) == 1, argv
        assert "no MLflow store in the database" in capsys.readouterr().err
    with sqlite3.connect(tmp_path / "escrisk.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["ladder_state"]


def test_promote_checks_the_registry_before_it_reads_the_source(store, monkeypatch, capsys):
    """`escrisk promote SOURCE --version 9`, a version that is not there, was told only after the
    whole source was read (minutes for a large one), and so were a model without a challenger
    and a challenger that is champion already; the source here cannot even be read."""
    from serving.cli import main

    root, _ = store
    monkeypatch.chdir(root)
    client = connect(f"sqlite:///{root / 'mlflow.db'}")
    name = "registry-first-test"
    client.create_registered_model(name)
    run = client.create_run(client.create_experiment(name)).info.run_id
    client.set_terminated(run)
    client.create_model_version(name, f"runs:/{run}/model", run_id=run)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    argv = ["promote", str(root / "no-such-source"), "--params", str(_params_naming(root, name))]
    assert main([*argv, "--version", "9"]) == 1
    assert f"{name} has no version 9" in capsys.readouterr().err
    assert main(argv) == 1
    assert f"{name} has no 'challenger' version" in capsys.readouterr().err
    client.set_registered_model_alias(name, CHAMPION, "1")
    assert main([*argv, "--version", "1"]) == 1
    assert "already" in capsys.readouterr().err
