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
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for name in ("01-explore-data.ipynb", "02-evaluate-model.ipynb"):
        nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
            f"{name}: strip outputs"
        )
        NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
