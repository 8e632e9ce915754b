"""simulate -> train -> promote -> load by alias, through the CLI, on a small world.

Also walks the promotion gate through a real SQLite store: the first model becomes champion, a
worse challenger is kept out, --force overrides, and `escrisk models` shows the history.
"""

from __future__ import annotations

import re

import mlflow
import pandas as pd
import pytest

from features.sources import load_history
from serving.cli import main
from serving.params import load_params
from training.pipeline import labelled_features
from training.registry import (
    CHALLENGER,
    CHAMPION,
    alias_version,
    connect,
    download_bundle,
    promotion_history,
)


@pytest.mark.slow
def test_simulate_train_promote_load(tmp_path, monkeypatch, capsys, fast_params_file):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    world = tmp_path / "world"
    good = fast_params_file(tmp_path / "good.yaml")
    bad = fast_params_file(tmp_path / "bad.yaml", num_boost_round=1, early_stopping_rounds=1)
    sim = ["simulate", "--accounts", "250", "--months", "15", "--seed", "5", "--out", str(world)]
    assert main([*sim, "--params", str(good)]) == 0

    assert main(["train", str(world), "--params", str(good)]) == 0
    printed = capsys.readouterr().out
    # a target trained on fewer positives than it is validated or tested on is told so
    counts = re.findall(
        r"(\w+): labelled positives train (\d+), validation (\d+), test (\d+)", printed
    )
    assert [t for t, *_ in counts] == ["escalation_30d", "churn_90d"], printed
    for t, a, b, c in counts:
        told = f"note: {t} trains on fewer positives" in printed
        assert told == (int(a) < max(int(b), int(c))), printed
    # the next step reads the same settings file: its model name, labels and gate
    assert f"Next: escrisk promote {world} --params {good}" in printed, printed
    assert (tmp_path / "mlflow.db").exists()  # the default store, in the working directory
    client = connect("sqlite:///mlflow.db")
    assert alias_version(client, "escalation-risk", CHALLENGER) == "1"
    assert main(["promote", str(world), "--params", str(good)]) == 0
    assert alias_version(client, "escalation-risk", CHAMPION) == "1"

    # a one-tree model is worse: it stays challenger
    assert main(["train", str(world), "--params", str(bad)]) == 0
    assert main(["promote", str(world), "--params", str(good)]) == 0
    assert alias_version(client, "escalation-risk", CHAMPION) == "1"
    said = capsys.readouterr().out
    assert "kept champion v1" in said
    # each head's score with its bootstrap interval and the positives it rests on
    assert re.search(r"challenger v2 [\d.]+ \[[\d.]+, [\d.]+\] \| champion v1 [\d.]+ \[", said)
    assert "labelled positives)" in said
    # a window with fewer positives than evaluation.min_positives is warned about, as in train
    least = load_params(good).evaluation.min_positives
    for t, n in re.findall(r"  (\w+): challenger v2 .*\((\d+) labelled positives\)", said):
        assert (f"warning: {t}: only {n} labelled positives" in said) == (int(n) < least), said
    # each head's own window (churn's labels need 90 days, so its window ends earlier)
    found = re.search(r"windows escalation_30d (\S+)\.\.(\S+), churn_90d (\S+)\.\.(\S+);", said)
    assert found and found.group(4) < found.group(2), said

    assert main(["promote", str(world), "--params", str(good), "--force"]) == 1  # needs --reason
    assert main(["promote", str(world), "--params", str(good), "--reason", "x"]) == 1  # no --force
    assert "--reason goes with --force" in capsys.readouterr().err
    assert main(["promote", str(world), "--params", str(good), "--force", "--reason", "test"]) == 0
    assert alias_version(client, "escalation-risk", CHAMPION) == "2"
    assert main(["promote", str(world), "--params", str(good)]) == 1  # nothing pending
    assert "no 'challenger' version; version 2 is champion" in capsys.readouterr().err

    # a model trained without churn labels cannot serve (daily and the service score both heads)
    nochurn = tmp_path / "nochurn"
    nochurn.mkdir()
    for f in world.glob("*.parquet"):
        if f.stem != "churn":
            (nochurn / f.name).write_bytes(f.read_bytes())
    pending = alias_version(client, "escalation-risk", CHALLENGER)
    # (a German team: the notes training/ writes are told in its language, as the command's own)
    de = ["--params", str(good), "--language", "de"]
    assert main(["train", str(nochurn), *de]) == 1  # a script stops here
    out = capsys.readouterr().out
    assert (
        out.startswith("Aufteilung (aus ") and "escalation_30d: gelabelte Positive Training " in out
    )
    assert "Label nicht verfügbar: churn_90d (die Quelle hat keine Tabelle churn)" in out
    assert "Version 3 registriert" in out and "nicht als 'challenger'" in out
    assert "labelled" not in out and "split (" not in out
    assert alias_version(client, "escalation-risk", CHALLENGER) == pending  # not moved
    client.set_registered_model_alias("escalation-risk", CHALLENGER, "3")  # moved by hand
    assert main(["promote", str(nochurn), *de, "--force", "--reason", "x"]) == 1
    assert "Version 3 hat keinen Kopf für ['churn_90d']" in capsys.readouterr().err
    assert alias_version(client, "escalation-risk", CHAMPION) == "2"

    hist = promotion_history("escalation-risk")
    assert hist["promoted"].tolist() == ["True", "False", "True"]
    assert main(["models", "--params", str(good)]) == 0
    out = capsys.readouterr().out
    assert "champion" in out and "forced: test" in out

    # the champion loads by alias alone and scores fresh features
    model = mlflow.pyfunc.load_model("models:/escalation-risk@champion")
    params = load_params(good)
    history = load_history(
        str(world), params.contract, pd.Timestamp(params.simulation.end_date, tz="UTC")
    )
    lab = labelled_features(history, params)
    bundle = download_bundle("escalation-risk", CHAMPION, tmp_path / "champion")
    pred = model.predict(bundle.plain(lab.frame.head(30)))  # categories as strings, as over JSON
    assert list(pred.columns) == ["escalation_30d", "churn_90d"]
    assert pred.to_numpy().min() > 0 and pred.to_numpy().max() < 1
    want = bundle.predict(lab.frame.head(30)).to_numpy()
    assert abs(pred.to_numpy() - want).max() < 1e-12

    run = client.search_runs(client.get_experiment_by_name("escalation-risk").experiment_id)[0]
    arts = {a.path for a in client.list_artifacts(run.info.run_id, "report")}
    for name in ("roc", "pr", "calibration", "lift", "shap", "importance"):
        assert f"report/{name}_escalation_30d.png" in arts
    assert "report/metrics.md" in arts
    assert {"git_commit", "data_fingerprint"} <= set(run.data.tags)
