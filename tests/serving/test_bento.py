"""`bentoml build` makes a bento of the service from a plain checkout, and the bento's pinned
requirements are the lock file's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.slow
def test_bentoml_build_makes_a_bento_without_uv_on_the_path(tmp_path):
    """BentoML locks the bento's requirements with uv: the project's environment has it, so the
    build works with nothing but the environment's own `bentoml` (no pip to install uv with)."""
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        [str(BIN / "bentoml"), "build", "--output", "tag"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    bentos = list((tmp_path / "home" / "bentos" / "escalation-risk").glob("*/bento.yaml"))
    assert len(bentos) == 1, done.stdout[-2000:]
    bento = bentos[0].parent
    assert (bento / "src" / "serving" / "service.py").is_file()
    assert (bento / "src" / "params.yaml").is_file()
    assert not (bento / "src" / "tests").exists()
    assert "service: serving.service:EscalationRisk" in bentos[0].read_text()


def test_the_bentos_requirements_are_the_lock_files():
    """requirements-serve.txt is `uv export` of uv.lock without the dev tools: regenerate it
    with that command after changing a dependency."""
    uv = shutil.which("uv", path=str(BIN)) or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    cmd = [uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project"]
    exported = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert exported == (ROOT / "requirements-serve.txt").read_text(), " ".join(cmd[1:])
