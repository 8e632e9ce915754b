"""`escrisk train --backtest K`: K test windows tiling the recent past, printed and logged."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import nbformat
import pandas as pd
import pytest
import yaml
from nbclient import NotebookClient

from serving.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_train_with_a_backtest_prints_and_logs_every_fold(
    params, make_world, fast_params_file, tmp_path, monkeypatch, capsys
):
    from features.sources import write_tables

    source = tmp_path / "world"
    write_tables(make_world(150, 5, 30).tables, source, fmt="csv")
    # split dates of its own (windows longer than the 90-day churn horizon): two folds fit
    data = yaml.safe_load(fast_params_file(tmp_path / "fast.yaml").read_text(encoding="utf-8"))
    end = pd.Timestamp(params.simulation.end_date)
    for key, days in (("train_end", 390), ("validation_end", 260), ("test_end", 130)):
        data["split"][key] = str((end - pd.Timedelta(days=days)).date())
    data["model"]["num_boost_round"] = 40
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    argv = ["train", str(source), "--params", str(params_file), "--experiment", "bt"]
    assert main([*argv, "--backtest", "2"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    table = out[out.index("Rolling-origin backtest") :]
    # each fold's test window as dates; the older one ends where the newer one starts
    windows = set(re.findall(r"^\s*(\d)\s+(\d{4}-\d\d-\d\d)\s+(\S+)\s", table, flags=re.M))
    assert {f for f, _, _ in windows} == {"1", "2"}, table
    [(_, first_from, first_until)] = [w for w in windows if w[0] == "1"]
    [(_, second_from, second_until)] = [w for w in windows if w[0] == "2"]
    assert first_from < second_from and first_until == second_from
    assert second_until == data["split"]["test_end"]
    mlflow.set_tracking_uri(uri)
    run = mlflow.search_runs(experiment_names=["bt"]).iloc[0]
    logged = [c for c in run.index if c.startswith("metrics.backtest.fold")]
    assert any(".fold1." in c for c in logged) and any(".fold2." in c for c in logged)
    # the evaluation notebook on this run shows every fold, not only the last one's figures
    monkeypatch.setenv("ESCRISK_RUN_ID", run["run_id"])
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(ROOT / "notebooks" / "02-evaluate-model.ipynb", as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    shown = [o.get("data", {}).get("text/markdown", "") for o in nb.cells[1].outputs]
    assert any("Rolling-origin backtest" in t for t in shown), shown
