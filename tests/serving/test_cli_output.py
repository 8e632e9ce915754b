"""What every `escrisk` command prints: sensible --help, and no MLflow chatter in the output."""

from __future__ import annotations

import argparse
import logging

import pytest

from serving.cli import build_parser, quiet_mlflow


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_command_explains_itself_and_each_argument(name, capsys):
    parser = _subcommands()[name]
    assert (parser.description or "").strip(), f"escrisk {name} --help has no description"
    undocumented = [
        a.dest
        for a in parser._actions
        if not isinstance(a, argparse._HelpAction) and not (a.help or "").strip()
    ]
    assert not undocumented, f"escrisk {name}: arguments without help: {undocumented}"
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([name, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: escrisk {name}")


def test_mlflow_is_quiet_below_warning_unless_the_user_asks():
    import mlflow  # noqa: F401 - imported first, as in-process callers do

    logger = logging.getLogger("mlflow")
    before = logger.level
    try:
        env: dict[str, str] = {}
        quiet_mlflow(env)
        assert env == {
            "MLFLOW_LOGGING_LEVEL": "WARNING",
            "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        }
        child = logging.getLogger("mlflow.store.db.utils")
        assert not child.isEnabledFor(logging.INFO) and child.isEnabledFor(logging.WARNING)
        mine = {"MLFLOW_LOGGING_LEVEL": "info", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "true"}
        quiet_mlflow(mine)
        assert mine["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] == "true"
        assert child.isEnabledFor(logging.INFO)
    finally:
        logger.setLevel(before)


def test_tune_memory_turns_numpys_huge_pages_off():
    """The batch commands' memory settings (serving.cli.tune_memory) take effect in process."""
    import numpy as np

    from serving.cli import tune_memory

    multiarray = np._core.multiarray
    before = multiarray._get_madvise_hugepage()
    try:
        tune_memory()
        assert multiarray._get_madvise_hugepage() is False
    finally:
        multiarray._set_madvise_hugepage(before)
