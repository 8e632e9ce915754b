"""Shared fixtures: the repo's params, small seeded worlds, and the suite's one trained model."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from features.contract import History, validated
from serving.params import Params, load_params
from training.simulate import World, simulate

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    """`make test` runs the suite in several processes (pytest-xdist): each worker gets a
    PostgreSQL database of its own, made afresh from ESCRISK_TEST_POSTGRES_URL's, so that the
    PostgreSQL tests (fixed table names, advisory locks) of two workers never meet. Set before
    the test modules are imported: they read the variable at import."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = os.environ.get("ESCRISK_TEST_POSTGRES_URL")
    if not worker or not base:
        return
    import sqlalchemy as sa

    url = sa.engine.make_url(base)
    name = f"{url.database}_{worker}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    os.environ["ESCRISK_TEST_POSTGRES_URL"] = url.set(database=name).render_as_string(
        hide_password=False
    )


TRAINED_WORLD = (120, 11, 18)  # accounts, seed, months: >= 27 positives per window and head


@pytest.fixture(scope="session")
def params() -> Params:
    return load_params(ROOT / "params.yaml")


@pytest.fixture(scope="session")
def make_world(params):
    """`make_world(n_accounts, seed, months=6)`: a simulated World (tables and truth), cached per arguments."""
    cache: dict[tuple[int, int, int], World] = {}

    def make(n_accounts: int, seed: int, months: int = 6) -> World:
        key = (n_accounts, seed, months)
        if key not in cache:
            cache[key] = simulate(n_accounts, months, seed, params.simulation, params.contract)
        return cache[key]

    return make


@pytest.fixture(scope="session")
def make_history(params, make_world):
    """`make_history(n_accounts, seed, months=6)`: the validated History of a small simulated world."""
    cache: dict[tuple[int, int, int], History] = {}
    now = pd.Timestamp(params.simulation.end_date, tz="UTC")

    def make(n_accounts: int, seed: int, months: int = 6) -> History:
        key = (n_accounts, seed, months)
        if key not in cache:
            world = make_world(n_accounts, seed, months)
            cache[key] = validated(
                world.tables, params.contract, now, source=f"simulated world {key}"
            )
        return cache[key]

    return make


@pytest.fixture(scope="session")
def tiny_world(make_world) -> World:
    """30 accounts over 6 months: enough rows of every table for fast tests."""
    return make_world(30, 1, 6)


@pytest.fixture(scope="session")
def fast_params_file():
    """`fast_params_file(path, **model)`: the repo's params.yaml made quick for small worlds.

    Few labelled positives per window suffice, the bootstrap is short, LightGBM uses one thread
    (OpenMP threads crawl on a busy test machine); `model` overrides more `model:` keys."""

    def write(path: Path, **model) -> Path:
        data = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
        data["split"]["min_positives"] = 5
        data["evaluation"]["bootstrap_samples"] = 20
        data["model"]["num_threads"] = 1
        data["model"].update(model)
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        return path

    return write


@dataclass(frozen=True)
class Trained:
    """A simulated world that ends today and its champion, trained and promoted by the CLI."""

    tables: dict[str, pd.DataFrame | None]  # typed contract tables; accounts ACC-000, ACC-001, ...
    source: Path  # the same tables as CSV files: what `escrisk train`, the service and daily read
    params_file: Path  # the params the model was trained with (fast_params_file)
    tracking_uri: str  # the throwaway MLflow store holding the champion
    experiment: str


def ending_today(tables: dict, end: pd.Timestamp, today: pd.Timestamp) -> dict:
    """The world moved forward by whole weeks to end at most a week before `today` (weekdays and
    the Monday grid keep their meaning), its accounts renamed ACC-000, ACC-001, ..., the
    customers who churned numbered last (tests address live customers by number).

    The service, the daily job and the ladder read the clock, so a world in the past would score
    stale snapshots only."""
    shift = pd.Timedelta(days=7 * ((today - end).days // 7))
    churn = tables.get("churn")
    gone = set() if churn is None else set(churn["account_id"])
    order = sorted(tables["accounts"]["account_id"], key=lambda a: a in gone)  # stable
    ids = {a: f"ACC-{i:03d}" for i, a in enumerate(order)}
    out: dict = {}
    for name, df in tables.items():
        if df is None:
            out[name] = None
            continue
        moved = df.assign(account_id=df["account_id"].map(ids).astype(object))
        for col in moved.columns:
            if isinstance(moved[col].dtype, pd.DatetimeTZDtype):
                moved[col] = moved[col] + shift
        out[name] = moved
    return out


@pytest.fixture(scope="session")
def trained(params, make_world, fast_params_file, tmp_path_factory) -> Trained:
    """The suite's one trained model: `escrisk train` then `escrisk promote`, run in-process on a
    small simulated world into a throwaway SQLite MLflow store. Service, daily, replay, reasons,
    UI and notebook tests share it; tests that need their own registry history train their own."""
    from features.sources import write_tables
    from serving.cli import main

    root = tmp_path_factory.mktemp("trained")
    end = pd.Timestamp(params.simulation.end_date, tz="UTC")
    today = pd.Timestamp.now(tz="UTC").normalize()
    tables = ending_today(make_world(*TRAINED_WORLD).tables, end, today)
    source = root / "world"
    write_tables(tables, source, fmt="csv")
    params_file = fast_params_file(
        root / "params.yaml", num_boost_round=80, early_stopping_rounds=10
    )
    uri = f"sqlite:///{root / 'mlflow.db'}"
    experiment = "escalation-risk"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        for argv in (["train", str(source), "--experiment", experiment], ["promote", str(source)]):
            assert main([*argv, "--params", str(params_file)]) == 0, f"escrisk {argv[0]} failed"
    return Trained(tables, source, params_file, uri, experiment)
