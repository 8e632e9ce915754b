"""The trained world as raw tables, its champion's store, and a real `bentoml serve` process.

World and model come from the `trained` fixture of tests/conftest.py (the real `escrisk train`
and `escrisk promote` on a small simulated world)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from features.contract import TABLES

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-0123456789"
FILE_TOKEN = "file-token-abcdef"


def raw_tables(tables: dict[str, pd.DataFrame | None]) -> dict[str, pd.DataFrame | None]:
    """Typed contract tables as a caller sends them: ISO text for times, NaN for missing numbers."""
    out: dict[str, pd.DataFrame | None] = {}
    for name, df in tables.items():
        if df is None:
            out[name] = None
            continue
        cols = {}
        for col in TABLES[name].columns:
            if col.optional and col.name not in df.columns:
                continue
            s = df[col.name]
            if col.kind == "date":
                cols[col.name] = s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), None)
            elif col.kind == "timestamp":
                cols[col.name] = s.map(lambda t: None if pd.isna(t) else t.isoformat())
            elif col.kind == "int":
                cols[col.name] = s.astype("float64") if s.isna().any() else s.astype("int64")
            else:
                cols[col.name] = s
        out[name] = pd.DataFrame(cols)
    return out


def request_body(
    raw: dict[str, pd.DataFrame], account_ids: list[str], as_of: str | None = None
) -> dict:
    """The POST /score body for some accounts of a raw world (JSON values, contract field names)."""

    def records(df: pd.DataFrame, aid: str) -> list[dict]:
        sub = df[df["account_id"] == aid].drop(columns=["account_id"])
        ints = {"csat", "reopen_count", "active_users", "events"}
        return [
            {
                k: None if isinstance(v, float) and np.isnan(v) else int(v) if k in ints else v
                for k, v in r.items()
            }
            for r in sub.to_dict("records")
        ]

    acc = raw["accounts"].set_index("account_id", drop=False)
    body: dict = {
        "accounts": [
            {
                "account": {
                    k: (v.item() if hasattr(v, "item") else v)
                    for k, v in acc.loc[aid].to_dict().items()
                },
                "tickets": records(raw["tickets"], aid),
                "usage": records(raw["usage"], aid),
                "escalations": records(raw["escalations"], aid),
            }
            for aid in account_ids
        ]
    }
    if as_of is not None:
        body["as_of"] = as_of
    return body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pg_schema_and_role() -> Iterator[tuple[Any, str, str, str, str]]:
    """(admin engine, schema, role, owner's URL, role's URL) on the test PostgreSQL server: a
    schema of its own and a login role with no rights in it yet, both URLs searching the
    schema; both dropped afterwards. For a store as a service role without DDL rights sees it."""
    import uuid

    import sqlalchemy as sa

    schema, role = f"nd{uuid.uuid4().hex[:10]}", f"nd_{uuid.uuid4().hex[:8]}"
    base = sa.engine.make_url(str(os.environ["ESCRISK_TEST_POSTGRES_URL"]))
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
    owner, reader = (
        base.set(username=user)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
        for user in (base.username, role)
    )
    try:
        yield admin, schema, role, owner, reader
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
            conn.execute(sa.text(f"DROP ROLE {role}"))
        admin.dispose()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (just freed)."""
    return free_port()


@pytest.fixture(autouse=True)
def own_model_cache(tmp_path_factory, monkeypatch) -> None:
    """`escrisk serve` keeps the champion's bundle in ESCRISK_MODEL_CACHE: a test's run of it
    must not write to the user's own cache."""
    monkeypatch.setenv("ESCRISK_MODEL_CACHE", str(tmp_path_factory.mktemp("models")))


@pytest.fixture(scope="session")
def world(trained) -> dict[str, pd.DataFrame | None]:
    """The trained model's world (tests/conftest.py `trained`) as raw tables."""
    return raw_tables(trained.tables)


@pytest.fixture(scope="session")
def model_store(trained) -> str:
    """The MLflow store whose champion `escrisk train` and `escrisk promote` made."""
    return trained.tracking_uri


@contextmanager
def serving(d: Path, *, escrisk_serve: bool = False, **env_vars: str) -> Iterator[str]:
    """A real `bentoml serve` (with `escrisk_serve`: as `escrisk serve` starts it, one worker)
    on a free loopback port with `env_vars` in its environment; yields its base URL once /readyz
    answers; always stopped. Its log is `d / "server.log"`."""
    env = {**os.environ, "ESCRISK_PARAMS": str(ROOT / "params.yaml"), **env_vars}
    env.setdefault("BENTOML_HOME", str(d / "bentoml"))
    # not the user's own cache, nor another test's
    env["ESCRISK_MODEL_CACHE"] = env_vars.get("ESCRISK_MODEL_CACHE", str(d / "models"))
    port = free_port()
    log = open(d / "server.log", "wb")  # noqa: SIM115 - closed below
    cmd = (
        [sys.executable, "-m", "serving.cli", "serve", "--workers", "1"]
        if escrisk_serve
        else [sys.executable, "-m", "bentoml", "serve", "serving.service:EscalationRisk"]
    ) + ["--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"service exited early:\n{(d / 'server.log').read_text()[-4000:]}"
                )
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"service not ready in time:\n{(d / 'server.log').read_text()[-4000:]}"
                )
            time.sleep(0.5)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@pytest.fixture(scope="session")
def server(model_store, trained, tmp_path_factory):
    """The service as deployed after a first daily run (its database exists); yields its URL,
    log, database URL and source."""
    from serving.dailystore import DailyStore
    from serving.store import Store

    d = tmp_path_factory.mktemp("service")
    source = trained.source  # the world as the daily job reads it (the CSM page's timelines)
    token_file = d / "tokens.txt"
    token_file.write_text(f"# comment\n{FILE_TOKEN}\n", encoding="utf-8")
    database_url = f"sqlite:///{d / 'escrisk.db'}"
    store = Store(database_url)
    DailyStore(store)  # the service reads the tables the daily job creates
    store.close()
    with serving(
        d,
        MLFLOW_TRACKING_URI=model_store,
        ESCRISK_API_TOKENS=f"other,{TOKEN}",
        ESCRISK_API_TOKENS_FILE=str(token_file),
        ESCRISK_DATABASE_URL=database_url,
        ESCRISK_SOURCE=str(source),
        ESCRISK_SERVICE_WORKERS="1",
        ESCRISK_FORWARDED_PREFIX="1",  # as behind docs/ui.md's nginx, which sets it
    ) as base:
        yield {
            "url": base,
            "log": d / "server.log",
            "database_url": database_url,
            "source": source,
            "token_file": token_file,
        }


@pytest.fixture(scope="session")
def start_service():
    """start_service(dir, **env) -> a context manager running one more real service (`serving`)."""
    return serving


@pytest.fixture(scope="session")
def client(server):
    with httpx.Client(base_url=server["url"], timeout=60) as c:
        yield c


@pytest.fixture(scope="session")
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="session")
def body_for(world):
    """body_for(account_ids, as_of=None) -> a POST /score body from the world."""
    return lambda ids, as_of=None: request_body(world, ids, as_of)


# The ladder's unit tests pin their own policy, so that tuning the thresholds in params.yaml (a
# product decision) never changes what those tests mean. Values: the policy the tests were written for.
CLASSIC_LADDER = {
    "L1": {"escalation_risk": 0.35, "churn_risk": 0.40},
    "L2": {"escalation_risk": 0.55, "churn_risk": 0.60},
    "L3": {"escalation_risk": 0.75, "churn_risk": 0.80},
}
CLASSIC_RULES = {"renewal_at_risk": {"churn_risk": 0.5}}  # rule -> score -> threshold
CLASSIC_URGENCY = {
    "high": {"escalation_risk": 0.7, "churn_risk": 0.7},
    "medium": {"escalation_risk": 0.45, "churn_risk": 0.5},
}


def _set_scores(conditions: list[dict], values: dict[str, float]) -> None:
    for cond in conditions:
        if cond.get("score") in values:
            cond["value"] = values[cond["score"]]


def _classic(params):  # type: ignore[no-untyped-def]
    data = params.ladder.model_dump(mode="json")
    for level, entry in CLASSIC_LADDER.items():
        data["levels"][level]["entry"] = entry
    for rule in data["rules"]:
        _set_scores(rule["when"], CLASSIC_RULES.get(rule["name"], {}))
    for cls in data["priority"]["urgency"]:
        _set_scores(cls["any"], CLASSIC_URGENCY.get(cls["name"], {}))
    return params.model_copy(update={"ladder": type(params.ladder).model_validate(data)})


@pytest.fixture(scope="session")
def classic_ladder():
    """`classic_ladder(params)`: params with the ladder policy the ladder's unit tests pin."""
    return _classic
