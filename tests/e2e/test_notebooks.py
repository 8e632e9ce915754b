"""Both notebooks run top to bottom on the suite's trained world and its real MLflow run."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_notebooks_execute(trained, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained.tracking_uri)
    monkeypatch.setenv("ESCRISK_EXPERIMENT", trained.experiment)
    monkeypatch.setenv("ESCRISK_SOURCE", str(trained.source))
    monkeypatch.setenv("ESCRISK_PARAMS", str(trained.params_file))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own inline figures
    for quieted in ("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "MLFLOW_LOGGING_LEVEL"):  # by escrisk
        monkeypatch.delenv(quieted, raising=False)  # as in a data scientist's own shell
    for name in ("01-explore-data.ipynb", "02-evaluate-model.ipynb"):
        nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
            f"{name}: strip outputs"
        )
        NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
        # every figure cell shows its figures (importing training.report must not turn the
        # notebook's inline backend into Agg, which draws nothing)
        if name.startswith("02"):  # which run and version it reads, as escrisk names them
            import mlflow

            mlflow.set_tracking_uri(trained.tracking_uri)
            run_id = mlflow.search_runs(experiment_names=[trained.experiment]).iloc[0]["run_id"]
            first = next(c for c in nb.cells if c.cell_type == "code")
            said = "".join(str(o.get("text", "")) for o in first.outputs)
            assert f"MLflow run {run_id} ({trained.experiment})" in said, said
            assert "escalation-risk version 1 (champion)" in said, said
        if name.startswith("02"):  # errors by tier, from the run's own test scores
            last = nb.cells[-1].outputs[0]["data"]["text/plain"]
            assert "tier" in last or "group" in last, last
            assert "brier" in last and "roc_auc" in last  # how well each tier is ranked
        # MLflow's progress bar per downloaded file filled the evaluation with ~150 lines
        told = "".join(str(o.get("text", "")) for c in nb.cells for o in c.get("outputs", []))
        assert "Downloading artifacts" not in told, told[:500]
        # shap's tqdm asked for ipywidgets in a stderr block above the run's name
        assert "IProgress not found" not in told, told[:500]
        for cell in nb.cells:
            alone = "".join(str(o.get("text", "")) for o in cell.get("outputs", []))
            if "this run is the champion's" in alone:  # nothing to set beside it
                continue
            if cell.cell_type == "code" and ("plt." in cell.source or ".plot(" in cell.source):
                shown = [o for o in cell.outputs if "image/png" in o.get("data", {})]
                assert shown, f"{name}: no figure shown by\n{cell.source[:200]}"


@pytest.mark.slow
def test_the_evaluation_notebook_sets_a_challenger_beside_the_champion(
    trained, tmp_path, monkeypatch, fast_params_file
):
    """Retrained with a changed setting, the evaluation showed the new run alone: whether it
    beats the version serving was for `escrisk promote` to say. Both runs' test figures now
    stand side by side, and their curves on the test rows they share."""
    import shutil

    from serving.cli import main
    from training.registry import connect

    db = tmp_path / "mlflow.db"
    shutil.copyfile(trained.tracking_uri.removeprefix("sqlite:///"), db)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    monkeypatch.setenv("ESCRISK_EXPERIMENT", trained.experiment)
    changed = fast_params_file(tmp_path / "p.yaml", num_boost_round=30, early_stopping_rounds=10)
    train = ["train", str(trained.source), "--experiment", trained.experiment]
    try:
        assert main([*train, "--params", str(changed)]) == 0  # version 2, the challenger
        monkeypatch.delenv("MPLBACKEND", raising=False)  # (set by escrisk) the kernel's figures
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
        nb = nbformat.read(ROOT / "notebooks" / "02-evaluate-model.ipynb", as_version=4)
        NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
    finally:
        connect(trained.tracking_uri)  # the process's MLflow URIs back on the suite's store
    cell = next(c for c in nb.cells if "compared_metrics(" in c.source)
    told = [o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in cell.outputs]
    table = told[0]
    assert "v2 (this run)" in table and "v1 (champion)" in table and "pr_auc" in table, table
    drawn = [o for o in cell.outputs if "image/png" in o.get("data", {})]
    assert len(drawn) == 2, told  # one figure per head: the same rows, both scored
    cell = next(c for c in nb.cells if "promotion_history(" in c.source)
    told = [o.get("text", "") for o in cell.outputs]
    assert "no `escrisk promote` decision on v2 yet" in told[-1], told


def test_the_evaluation_notebook_shows_promotes_decisions_as_the_team_reads_them(
    tmp_path, monkeypatch
):
    """The decisions on this run's version were MLflow's search as kept: ISO times with
    microseconds, True / False, 'none', keys for column names, the search's row numbers and each
    reason cut at 50 characters. Labelled columns, times to the minute, yes / no, '-' and whole
    reasons now; decisions on other versions are left out."""
    import pandas as pd

    from training.registry import connect, log_promotion

    nb = nbformat.read(ROOT / "notebooks" / "02-evaluate-model.ipynb", as_version=4)
    first = next(c.source for c in nb.cells if c.cell_type == "code")
    cell = next(c.source for c in nb.cells if "promotion_history(" in c.source)
    monkeypatch.chdir(tmp_path)
    connect(f"sqlite:///{tmp_path / 'mlflow.db'}")
    why = "first model: becomes champion, as nothing served before it in this registry at all"
    for challenger, champion, promoted, reason in (
        ("1", None, True, why),
        ("2", "1", False, "by hand"),
        ("3", "1", False, "kept"),
    ):
        log_promotion(model_name="told", challenger=challenger, champion=champion,
                      promoted=promoted, reason=reason, forced=False, scores={}, window="w",
                      when=pd.Timestamp("2026-03-01 09:30:15.123456", tz="UTC"))  # fmt: skip
    ns: dict = {"model_name": "told", "mine": ["1", "3"]}
    exec("\n".join(x for x in first.splitlines() if x.startswith(("import", "from"))), ns)
    shown: list = []
    ns["display"] = lambda table: shown.append((table, table._repr_html_()))
    exec(cell, ns)
    ((table, html),) = shown
    assert list(table.columns) == [
        "decided (UTC)", "version compared", "champion then", "promoted", "forced", "reason"
    ]  # fmt: skip
    assert table.index.tolist() == [1, 2]
    assert table.iloc[0].tolist() == ["2026-03-01 09:30", "1", "-", "yes", "no", why]
    assert table.iloc[1, :5].tolist() == ["2026-03-01 09:30", "3", "1", "no", "no"]
    assert why in html


def test_the_evaluation_notebook_tells_a_store_that_is_not_there(tmp_path, monkeypatch):
    """A relative MLFLOW_TRACKING_URI is read from notebooks/: a store missing there is named,
    not created empty and then reported as 'no finished runs, run escrisk train first'."""
    from features.errors import UserError

    nb = nbformat.read(ROOT / "notebooks" / "02-evaluate-model.ipynb", as_version=4)
    first = next(c.source for c in nb.cells if c.cell_type == "code")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
    with pytest.raises(UserError, match="no MLflow store at"):
        exec(first, {})
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.parametrize("given", ["0123456789abcdef0123456789abcdef", "not a run", "decision"])
def test_the_evaluation_notebook_names_a_run_id_that_is_no_training(
    trained, given, tmp_path, monkeypatch
):
    """ESCRISK_RUN_ID mistyped, or the id of a promote decision (MLflow lists both kinds of
    run): the notebook stopped on MLflow's 'Run with id=... not found', 'Invalid value' or
    'Failed to download artifacts from path report'."""
    import mlflow

    from features.errors import UserError

    if given == "decision":
        mlflow.set_tracking_uri(trained.tracking_uri)
        given = mlflow.search_runs(experiment_names=["escalation-risk-promotions"]).run_id[0]
    nb = nbformat.read(ROOT / "notebooks" / "02-evaluate-model.ipynb", as_version=4)
    first = next(c.source for c in nb.cells if c.cell_type == "code")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained.tracking_uri)
    monkeypatch.setenv("ESCRISK_RUN_ID", given)
    with pytest.raises(UserError, match=r"^ESCRISK_RUN_ID=") as told:
        exec(first, {})
    assert given in str(told.value)


@pytest.mark.slow
def test_the_exploration_notebook_splits_a_source_without_churn_as_train_does(
    make_world, fast_params_file, tmp_path, monkeypatch
):
    """Without a churn table train fits the escalation head alone; the notebook's 'split training
    would use' demanded churn positives and stopped with an error."""
    from features.sources import write_tables

    tables = {k: v for k, v in make_world(150, 5, 18).tables.items() if k != "churn"}
    write_tables(tables, tmp_path / "world", fmt="csv")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ESCRISK_SOURCE", str(tmp_path / "world"))
    monkeypatch.setenv("ESCRISK_PARAMS", str(fast_params_file(tmp_path / "fast.yaml")))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(ROOT / "notebooks" / "01-explore-data.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    said = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "split (chosen from the data)" in said, said


def test_the_exploration_notebook_tells_why_training_would_refuse(params):
    """A source where nobody churned (or too few accounts): the notebook meant to show why
    stopped at its last cell with a traceback, and nbconvert wrote no HTML at all. It now says
    what `escrisk train` would say and shows the labelled positives per quarter."""
    import contextlib
    import io
    import types

    import pandas as pd

    from features.contract import History

    nb = nbformat.read(ROOT / "notebooks" / "01-explore-data.ipynb", as_version=4)
    first = next(c.source for c in nb.cells if c.cell_type == "code")
    ns: dict = {}
    exec("\n".join(x for x in first.splitlines() if x.startswith(("import", "from"))), ns)
    weeks = pd.date_range("2025-01-06", periods=40, freq="7D", tz="UTC")
    frame = pd.DataFrame({"account_id": "A-1", "as_of": weeks})
    frame["escalation_30d"] = [float(i % 3 == 0) for i in range(len(weeks))]
    frame["churn_90d"] = 0.0  # nobody churned
    events = pd.DataFrame({"account_id": pd.Series(dtype=object)})
    history = History(accounts=events, tickets=events, escalations=events, churn=events)
    shown: list = []
    ns.update(history=history, params=params, lab=types.SimpleNamespace(frame=frame))
    ns["display"] = shown.append
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(nb.cells[-1].source, ns)
    assert "escrisk train would refuse this data: " in out.getvalue()
    assert "churn_90d" in out.getvalue(), out.getvalue()
    assert shown[0]["churn_90d"].sum() == 0 and shown[0]["escalation_30d"].sum() == 14


def test_the_exploration_notebook_plots_volumes_of_a_source_without_tickets(params):
    """A source whose tickets table is empty (accounts without tickets, or only CRM data): the
    volumes cell stopped with "zero-size array to reduction operation" and no HTML was written."""
    import matplotlib
    import pandas as pd

    from features.contract import History

    matplotlib.use("Agg")
    nb = nbformat.read(ROOT / "notebooks" / "01-explore-data.ipynb", as_version=4)
    first = next(c.source for c in nb.cells if c.cell_type == "code")
    cell = next(c.source for c in nb.cells if "tickets per week" in c.source)
    ns: dict = {}
    exec("\n".join(x for x in first.splitlines() if x.startswith(("import", "from"))), ns)
    empty = pd.DataFrame({"account_id": pd.Series(dtype=object)})
    tickets = empty.assign(created_at=pd.Series(dtype="datetime64[ns, UTC]"))
    ns["history"] = History(accounts=empty, tickets=tickets, escalations=None, churn=None)
    exec(cell, ns)
    titles = [ax.get_title() for ax in ns["axes"]]
    assert titles == [
        "tickets per week: none in the source",
        "escalations per week: none in the source",
    ]
    ns["plt"].close("all")
