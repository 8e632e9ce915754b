"""MLflow at the edge: log a training run, register the bundle, move aliases, read the history.

The tracking URI is passed in by the commands (`sqlite:///mlflow.db` unless MLFLOW_TRACKING_URI
is set). Registry aliases only (`champion`, `challenger`), never stages. Every alias move is also
recorded as a run in the `<model>-promotions` experiment, which is the champion history.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

import features
from features.sources import describe
from training.bundle import Bundle, load_bundle
from training.text import Refusal, as_key, from_key, said, shown

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
ARTIFACTS_FOLDER = "mlruns"  # a SQLite store's run artifacts: this folder beside the database
CHAMPION = "champion"
CHALLENGER = "challenger"
CANDIDATE_TAG = "challenger_candidate"  # a version a training registered to become challenger
PYFUNC_FILE = Path(__file__).with_name("pyfunc_model.py")
# the pyfunc loads the bundle with our code: the model carries the two packages it imports, so
# `mlflow.pyfunc.load_model` works in any environment with these requirements, not only ours
CODE_PATHS = [str(Path(features.__file__).parent), str(Path(__file__).parent)]
PIP_PACKAGES = ("lightgbm", "pandas", "numpy", "scikit-learn", "pyarrow", "pydantic", "mlflow")


def pip_requirements() -> list[str]:
    """The model's requirements, pinned to the versions it was trained with."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in PIP_PACKAGES]


def _not_about_pip(record: logging.LogRecord) -> bool:
    """MLflow warns at every logged model that a uv-made environment has no pip to version its
    conda.yaml entry; the model's requirements are given (pip_requirements), so it says nothing."""
    return "installed pip version" not in record.getMessage()


logging.getLogger("mlflow.utils.environment").addFilter(_not_about_pip)


def tracking_uri(env: Mapping[str, str]) -> str:
    return env.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


SERVER_BACKENDS = ("postgresql", "mysql", "mssql")


class NoStore(Refusal):
    """A reader's tracking store that is not there (`existing_store`): train creates it."""


def reachable_store(uri: str, reader: bool = False) -> None:
    """A database server MLflow cannot connect to is retried by MLflow for about 100 s, with a
    warning and the driver's error each time: one try here tells it at once (no password). A
    `reader` is also refused a database without MLflow's tables: MLflow would create its whole
    schema there (dozens of tables) to answer that nothing is registered."""
    import sqlalchemy as sa

    if uri.lower().startswith(("http://", "https://")):
        reachable_server(uri)
        return
    try:
        url = sa.engine.make_url(uri)
    except sa.exc.ArgumentError:
        return  # MLflow says what is wrong with it
    except ValueError:  # a port that is no number: MLflow's own error would be a traceback
        raise Refusal("store_bad_port", uri=describe(uri)) from None
    backend = url.get_backend_name()
    if backend == "sqlite" and url.host:  # sqlite://mlflow.db: SQLAlchemy's "Invalid SQLite URL"
        example = f"sqlite:///{url.host}{'/' + url.database if url.database else ''}"
        raise Refusal("store_sqlite_slashes", uri=uri, example=example)
    if backend == "sqlite":
        usable_sqlite_store(uri, reader)
        return
    if backend not in SERVER_BACKENDS:
        return
    timeout = {"connect_timeout": 10} if backend in ("postgresql", "mysql") else {}
    try:
        engine = sa.create_engine(url, connect_args=timeout)
    except sa.exc.ArgumentError:
        return  # MLflow says what is wrong with it
    except ImportError as exc:  # MLflow's own error would be a traceback
        raise Refusal("store_no_driver", uri=describe(uri), driver=exc.name) from None
    try:
        with engine.connect() as conn:
            if reader and not sa.inspect(conn).has_table("experiments"):
                raise NoStore("store_no_tables", uri=describe(uri))
    except sa.exc.SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise Refusal(
            "store_cannot_connect", uri=describe(uri),
            cause=cause[0] if cause else type(exc).__name__,
        ) from None  # fmt: skip
    finally:
        engine.dispose()


def usable_sqlite_store(uri: str, reader: bool = False) -> None:
    """A SQLite store file that is no database (damaged, or another file named by mistake) was
    told as the state database's fault ("check ESCRISK_DATABASE_URL"): it is told with its path
    and MLFLOW_TRACKING_URI. A `reader` is refused a database without MLflow's tables (the state
    database named by mistake), where MLflow made its whole schema to say nothing is registered."""
    import sqlalchemy as sa

    url = sa.engine.make_url(uri)
    path = url.database or ""
    if path in ("", ":memory:") or url.query or not Path(path).is_file():
        return  # not there: `existing_store` or `_create_sqlite_store`; a URI filename: MLflow's
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
    except sa.exc.SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise Refusal(
            "store_unusable", path=str(Path(path).resolve()), uri=describe(uri),
            cause=cause[0] if cause else type(exc).__name__,
        ) from None  # fmt: skip
    finally:
        engine.dispose()
    if reader and "experiments" not in tables:
        raise NoStore("store_no_tables", uri=describe(uri))


SERVER_TIMEOUT_S = 10


def reachable_server(uri: str) -> None:
    """A tracking server that is down was retried by MLflow for over four minutes (its default
    back-off) before any error, and `escrisk serve` and each of its workers waited as long before
    loading the model they keep: one try here tells it at once. Any answer counts (a 401 or 404
    behind a proxy is MLflow's to tell), and so does a TLS error (MLflow may be set to trust a
    certificate this probe does not)."""
    import requests

    try:
        requests.get(f"{uri.rstrip('/')}/health", timeout=SERVER_TIMEOUT_S)
    except requests.exceptions.SSLError:
        return
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        why = (
            said("server_no_answer", seconds=SERVER_TIMEOUT_S)
            if isinstance(exc, requests.exceptions.Timeout)
            else said("server_refused")
        )
        raise Refusal("server_cannot_connect", uri=describe(uri), why=why) from None
    except requests.exceptions.RequestException:
        return  # MLflow says what is wrong with it


def existing_store(uri: str) -> None:
    """A reader's tracking store (promote, models, daily, serve): a SQLite file that is not there
    is a wrong MLFLOW_TRACKING_URI or no training yet, not an empty store to create. So is a
    `file:` store's folder that is not there, and a database server's database without MLflow's
    tables."""
    reachable_store(uri, reader=True)
    if uri.startswith("file:"):
        from urllib.parse import urlparse

        path = urlparse(uri).path
        exists = Path(path).is_dir
    elif uri.startswith("sqlite:"):
        import sqlalchemy as sa

        try:
            path = sa.engine.make_url(uri).database or ""
        except sa.exc.ArgumentError:
            return  # MLflow says what is wrong with it
        exists = Path(path).is_file
    else:
        return
    if path and path != ":memory:" and not exists():
        raise NoStore("store_missing", path=str(Path(path).resolve()), uri=describe(uri))


def _create_sqlite_store(uri: str) -> None:
    """A new SQLite store, made whole under a temporary name and then renamed into place.
    MLflow makes its schema in some seventy migrations, not in one transaction: a Ctrl-C among
    them (seconds, on a busy machine) left a mlflow.db that every later run refused ("table
    ... already exists", "out-of-date database schema") until the user deleted it."""
    import sqlalchemy as sa
    from mlflow.tracking._tracking_service.utils import _get_store

    try:
        url = sa.engine.make_url(uri)
    except (sa.exc.ArgumentError, ValueError):
        return  # MLflow says what is wrong with it
    path = url.database or ""
    if url.get_backend_name() != "sqlite" or path in ("", ":memory:") or url.query:
        return
    target = Path(path)
    if target.exists() or not target.parent.is_dir():
        return  # MLflow opens it, or says what is wrong
    # a name of its own each time: MLflow keeps an engine per URI, one left by a run cut short
    # would still hold the removed file
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.creating-", dir=target.parent)
    except OSError:
        return  # a folder that takes no file: MLflow's own error names the store
    os.close(fd)  # an empty file is a new SQLite database
    partial = Path(name)
    try:  # MLflow's `Default` experiment is made here, with its artifact folder
        store = _get_store(f"sqlite:///{partial.resolve()}", artifact_root(uri))
        store.engine.dispose()
        # a link, not a rename: a training started at the same time that made the store first
        # keeps it (a rename would put an empty one in place of its run)
        try:
            os.link(partial, target)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not target.exists():
                partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def artifact_root(uri: str) -> str | None:
    """Where a store's run artifacts belong: the `mlruns` folder beside a SQLite database, so
    that the two stay together wherever training ran. MLflow puts them under ./mlruns of the
    working directory: a training run from elsewhere (MLFLOW_TRACKING_URI naming the project's
    store) left them in that directory, and promote or serve could not load a model whose
    folder was later cleaned away. None for other stores (MLflow's own default)."""
    import sqlalchemy as sa

    try:
        url = sa.engine.make_url(uri)
    except (sa.exc.ArgumentError, ValueError):
        return None
    path = url.database or ""
    if url.get_backend_name() != "sqlite" or path in ("", ":memory:") or path.startswith("file:"):
        return None
    return str(Path(path).resolve().parent / ARTIFACTS_FOLDER)


def use_experiment(name: str) -> None:
    """`mlflow.set_experiment` whose new experiment keeps its artifacts where the store's belong
    (`artifact_root`); an experiment already there keeps the folder it was made with."""
    from mlflow.tracking._tracking_service.utils import _get_store

    uri = mlflow.get_tracking_uri()
    root = artifact_root(uri)
    if root is not None and MlflowClient(uri).get_experiment_by_name(name) is None:
        try:
            _get_store(uri, root).create_experiment(name)
        except MlflowException as exc:  # made by a training started at the same time
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
    mlflow.set_experiment(name)


def connect(uri: str, create: bool = True) -> MlflowClient:
    """The MLflow client of `uri`; a reader (`create=False`) refuses a SQLite store that is not
    there rather than creating an empty one."""
    if create:
        reachable_store(uri)
        _create_sqlite_store(uri)
    else:
        existing_store(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def loggable_experiment(client: MlflowClient, name: str, model_name: str | None = None) -> None:
    """Refuse, before training, an experiment MLflow would refuse only when the run is logged,
    and the model's champion history, which `escrisk models` reads as promotion decisions."""
    if not name.strip():
        raise Refusal("experiment_blank")
    if model_name is not None and name == f"{model_name}-promotions":
        raise Refusal("experiment_promotions", name=name, model=model_name)
    found = client.get_experiment_by_name(name)
    if found is not None and found.lifecycle_stage == "deleted":
        raise Refusal("experiment_deleted", name=name)


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, f"{key}."))
        else:
            out[key] = json.dumps(v, default=str) if isinstance(v, list | tuple) else str(v)
    return out


def redacted(flat: Mapping[str, str]) -> dict[str, str]:
    """Params for MLflow without the webhook addresses: an incoming-webhook URL is its own
    credential (anyone who reads it can post to the team's channel)."""

    def webhook(key: str) -> bool:
        channel = key.startswith("notifications.channels.")
        return channel and (key.endswith(".url") or ".team_urls." in key)

    return {k: "***" if webhook(k) and v != "None" else v for k, v in flat.items()}


def signature(input_example: pd.DataFrame, output_example: pd.DataFrame):
    """The example's types, every column required: MLflow marks a column missing in the few
    example rows optional, yet the model needs every feature (its values may be missing)."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types.schema import ColSpec, Schema, TensorSpec

    inferred = infer_signature(input_example, output_example)
    columns: list[ColSpec | TensorSpec] = [
        ColSpec(c.type, c.name, required=True) for c in inferred.inputs.inputs
    ]
    return ModelSignature(Schema(columns), inferred.outputs)


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    version: str
    challenger: str | None = None  # the version holding `challenger` once this run claimed it


def log_training(
    *,
    experiment: str,
    model_name: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    tags: Mapping[str, str],
    report_dir: Path,
    bundle_dir: Path,
    input_example: pd.DataFrame,
    output_example: pd.DataFrame,
    extra_metrics: Mapping[str, float] | None = None,
    challenger: bool = True,
) -> LoggedRun:
    """One run with params, tags, metrics and report; the bundle registered as a new version
    that gets the `challenger` alias (unless `challenger` is false: a model that could not
    become champion leaves the pending challenger where it is)."""
    client = MlflowClient()
    use_experiment(experiment)
    with mlflow.start_run() as run:
        before = alias_version(client, model_name, CHALLENGER)
        try:
            flat = redacted(flatten(params))
            for i in range(0, len(flat), 100):
                mlflow.log_params(dict(list(flat.items())[i : i + 100]))
            mlflow.set_tags(dict(tags))
            all_metrics = {**metrics, **(extra_metrics or {})}
            names = sorted(all_metrics)
            for i in range(0, len(names), 500):
                mlflow.log_metrics({n: float(all_metrics[n]) for n in names[i : i + 500]})
            mlflow.log_dict(dict(params), "params.json")
            mlflow.log_artifacts(str(report_dir), "report")
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(PYFUNC_FILE),
                artifacts={"bundle": str(bundle_dir)},
                signature=signature(input_example, output_example),
                input_example=input_example,
                registered_model_name=model_name,
                pip_requirements=pip_requirements(),
                code_paths=CODE_PATHS,
            )
            version = str(info.registered_model_version)
            client.set_model_version_tag(model_name, version, "run_id", run.info.run_id)
            holder = claim_challenger(client, model_name, version) if challenger else None
        except BaseException as exc:  # Ctrl-C included: the run did not finish, nor its version
            _unregister(client, model_name, run.info.run_id, before)
            if isinstance(exc, KeyboardInterrupt):  # MLflow's status of a run its user stopped
                mlflow.end_run("KILLED")
            raise
    return LoggedRun(run.info.run_id, version, holder)


def _newest_candidate(client: MlflowClient, model_name: str) -> str | None:
    """The newest version a training registered for `challenger` that was never champion."""
    found = [
        int(mv.version)
        for mv in client.search_model_versions(f"name='{model_name}'")
        if mv.tags.get(CANDIDATE_TAG) and not mv.tags.get("champion_since")
    ]
    return str(max(found)) if found else None


def claim_challenger(client: MlflowClient, model_name: str, version: str) -> str:
    """Give `challenger` to the newest pending version, which is `version` unless a training
    running at the same time registered a newer one: two trainings on one store no longer leave
    the alias to whichever moved it last. Returns the version that holds it.

    Each claim moves the alias, then reads it back with the candidates: whoever moves it last
    also sees every candidate, and moves it again until the newest holds it."""
    client.set_model_version_tag(model_name, version, CANDIDATE_TAG, "yes")
    newest = version
    for _ in range(10):
        newest = _newest_candidate(client, model_name) or version
        client.set_registered_model_alias(model_name, CHALLENGER, newest)
        if (
            alias_version(client, model_name, CHALLENGER)
            == newest
            == _newest_candidate(client, model_name)
        ):
            break
    return newest


def _unregister(client: MlflowClient, model_name: str, run_id: str, challenger: str | None) -> None:
    """Undo a registration its run did not finish: a version without the challenger alias (or
    with it, over the pending one) was left behind by a Ctrl-C or a failed alias move, listed by
    `escrisk models` as if it were a model of its own."""
    for mv in client.search_model_versions(f"name='{model_name}' and run_id='{run_id}'"):
        client.delete_model_version(model_name, mv.version)
    if challenger is not None and alias_version(client, model_name, CHALLENGER) is None:
        client.set_registered_model_alias(model_name, CHALLENGER, challenger)


def not_found(exc: MlflowException) -> bool:
    """MLflow's answer for a model, version or alias that does not exist; anything else (a
    store that cannot be reached or used) is not an absence and must not be told as one."""
    if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
        return True
    # a missing alias is INVALID_PARAMETER_VALUE "... alias champion not found"; so is an
    # unsupported URI scheme, which is not an absence
    return exc.error_code == "INVALID_PARAMETER_VALUE" and "not found" in str(exc.message).lower()


def alias_version(client: MlflowClient, model_name: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(model_name, alias).version)
    except MlflowException as exc:
        if not not_found(exc):
            raise
        return None


def registered(client: MlflowClient, model_name: str, version: str) -> bool:
    """Whether `version` of `model_name` is in the registry (a version asked for by number)."""
    try:
        client.get_model_version(model_name, version)
    except MlflowException as exc:
        if not not_found(exc):
            raise
        return False
    return True


def fitted_until(client: MlflowClient, model_name: str, version: str) -> pd.Timestamp | None:
    """The end of the data a version was fitted and calibrated on (its run's validation_end):
    scores on snapshots before it are optimistic. None when the run does not say."""
    try:
        mv = client.get_model_version(model_name, version)
        tag = client.get_run(mv.run_id).data.tags.get("split.validation_end") if mv.run_id else None
    except MlflowException:
        return None
    return None if not tag else pd.Timestamp(tag, tz="UTC")


def download_bundle(model_name: str, ref: str, dest: Path | None = None) -> Bundle:
    """The plain-Python bundle of `models:/<name>/<version>` or `models:/<name>@<alias>`."""
    uri = f"models:/{model_name}@{ref}" if not ref.isdigit() else f"models:/{model_name}/{ref}"
    return bundle_from_uri(uri, dest)


def bundle_from_uri(uri: str, dest: Path | None = None) -> Bundle:
    """The plain-Python bundle of any model URI (`models:/...`, `runs:/<run_id>/model`)."""
    if dest is None:  # the bundle is read into memory: its download is not kept
        with tempfile.TemporaryDirectory(prefix="escrisk-model-") as tmp:
            return bundle_from_uri(uri, Path(tmp))
    target = dest
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(target)))
    except MlflowException as exc:
        raise Refusal("bundle_cannot_load", uri=uri, cause=exc.message) from None
    found = sorted(local.rglob("bundle.json"))
    if not found:
        raise Refusal("bundle_none_in", uri=uri)
    return load_bundle(found[0].parent)


def latest_run_id(experiment: str) -> str:
    exp = mlflow.get_experiment_by_name(experiment)
    runs: Any = (
        []
        if exp is None
        else mlflow.search_runs(
            [exp.experiment_id],
            filter_string="attributes.status = 'FINISHED'",  # not a run that failed midway
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
    )
    if len(runs) == 0:
        raise Refusal("no_finished_runs", experiment=experiment)
    return str(runs["run_id"].iloc[0])


def training_run(run_id: str, uri: str) -> Any:
    """The `escrisk train` run the evaluation notebook reads (ESCRISK_RUN_ID): a mistyped id, or
    that of a run which is no training (a promote decision, MLflow lists both), is named with the
    store, where MLflow said 'Run ... not found', 'Invalid value' or 'Failed to download'."""
    told = f"ESCRISK_RUN_ID={run_id}"
    try:
        run = mlflow.get_run(run_id)
    except MlflowException as exc:
        if exc.error_code not in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise
        raise Refusal("run_unknown", told=told, uri=describe(uri)) from None
    if not any(a.path == "report" for a in MlflowClient().list_artifacts(run_id)):
        experiment = mlflow.get_experiment(run.info.experiment_id).name
        raise Refusal("run_not_training", told=told, experiment=experiment)
    return run


def set_champion(
    client: MlflowClient,
    model_name: str,
    version: str,
    *,
    previous: str | None,
    when: pd.Timestamp,
) -> None:
    """Move `champion`; the version tags champion_since/until keep who was champion when. A
    version champion again (a roll-back) loses the `champion_until` of its earlier term: kept, it
    lay before its new `champion_since` and `escrisk models` told a serving champion as ended."""
    client.set_registered_model_alias(model_name, CHAMPION, version)
    stamp = when.isoformat()
    client.set_model_version_tag(model_name, version, "champion_since", stamp)
    if client.get_model_version(model_name, version).tags.get("champion_until") is not None:
        client.delete_model_version_tag(model_name, version, "champion_until")
    if previous and previous != version:
        client.set_model_version_tag(model_name, previous, "champion_until", stamp)
    if alias_version(client, model_name, CHALLENGER) == version:
        client.delete_registered_model_alias(model_name, CHALLENGER)


def log_promotion(
    *,
    model_name: str,
    challenger: str,
    champion: str | None,
    promoted: bool,
    reason: str,
    forced: bool,
    scores: Mapping[str, float],
    window: str,
    when: pd.Timestamp,
    warnings: Sequence[str] = (),
) -> str:
    """One FINISHED run per decision; a run cut short (Ctrl-C) ends KILLED, out of the history.
    The caveats promote printed (`warnings`) are kept as its tag `warnings`, one a line."""
    use_experiment(f"{model_name}-promotions")
    with mlflow.start_run(run_name=f"promote v{challenger}") as run:
        try:
            mlflow.log_params(
                {
                    "challenger_version": challenger,
                    "champion_version": champion or "none",
                    "promoted": promoted,
                    "forced": forced,
                    "window": window,
                    "decided_at": when.isoformat(),
                }
            )
            mlflow.set_tag("reason", reason[:5000])
            key = as_key(reason)  # the reason in any language (`escrisk models` tells it)
            if key is not None and len(key) <= 5000:
                mlflow.set_tag("reason_key", key)
            if warnings:
                mlflow.set_tag("warnings", "\n".join(warnings)[:5000])
            mlflow.log_metrics({k: float(v) for k, v in scores.items()})
        except KeyboardInterrupt:  # MLflow's status of a run its user stopped
            mlflow.end_run("KILLED")
            raise
    return run.info.run_id


def _champion_tags(
    client: MlflowClient, model_name: str, version: str, previous: str | None
) -> dict[tuple[str, str], str | None]:
    """The tags `set_champion` writes, as they are now: what to put back if it is cut short."""
    out: dict[tuple[str, str], str | None] = {}
    for v, tag in (
        (version, "champion_since"),
        (version, "champion_until"),
        (previous, "champion_until"),
    ):
        if v:
            out[(v, tag)] = client.get_model_version(model_name, v).tags.get(tag)
    return out


def _undo_champion(
    client: MlflowClient,
    model_name: str,
    version: str,
    *,
    previous: str | None,
    tags: Mapping[tuple[str, str], str | None],
    pending: str | None,
) -> None:
    """Put back what a `set_champion` cut short may have changed (the aliases and tags), so the
    registry says again that `previous` is champion and `pending` (`version`, unless another was
    asked for by number) challenger."""
    if previous:
        client.set_registered_model_alias(model_name, CHAMPION, previous)
    elif alias_version(client, model_name, CHAMPION) == version:
        client.delete_registered_model_alias(model_name, CHAMPION)
    for (v, tag), value in tags.items():
        if value is None:
            client.delete_model_version_tag(model_name, v, tag)
        else:
            client.set_model_version_tag(model_name, v, tag, value)
    if pending is not None and alias_version(client, model_name, CHALLENGER) is None:
        client.set_registered_model_alias(model_name, CHALLENGER, pending)


def _unchanged(
    client: MlflowClient,
    model_name: str,
    challenger: str,
    champion: str | None,
    aliases: Mapping[str, str | None],
) -> None:
    """Refuse to decide on a registry that changed while promote scored its versions (a version
    deleted or an alias moved in the MLflow UI, or by another train or promote): the scores are
    of versions that no longer hold their aliases. `aliases`: what they held when it began."""
    now = {role: alias_version(client, model_name, role) for role in (CHALLENGER, CHAMPION)}
    if now == dict(aliases) and registered(client, model_name, challenger):
        return
    held = ", ".join(f"'{r}' {'v' + v if v else 'none'}" for r, v in now.items())
    raise Refusal(
        "registry_changed", model=model_name, challenger=challenger,
        champion="v" + champion if champion else "none", held=held,
    )  # fmt: skip


def apply_promotion(
    client: MlflowClient,
    *,
    model_name: str,
    challenger: str,
    champion: str | None,
    promote: bool,
    reason: str,
    forced: bool,
    scores: Mapping[str, float],
    window: str,
    when: pd.Timestamp,
    warnings: Sequence[str] = (),
    aliases: Mapping[str, str | None] | None = None,
) -> None:
    """Move `champion` if the gate says so, then log the decision as it came out. `aliases`:
    what 'challenger' and 'champion' held when promote began, where `challenger` was asked for
    by number (`escrisk promote --version`); else `challenger` and `champion` hold them.

    The alias moves first: a decision logged before it said "promoted" for a move that a Ctrl-C
    or a store error then kept from happening. A move cut short is undone and logged as not
    promoted, with why, before the error goes on; at worst (the store gone) the history lacks
    the decision, it never claims a move that did not happen. A registry changed since the
    versions were scored (a version deleted, an alias moved) is told, and nothing is moved."""
    held = dict(aliases) if aliases is not None else {CHALLENGER: challenger, CHAMPION: champion}
    _unchanged(client, model_name, challenger, champion, held)
    if promote:
        try:
            tags = _champion_tags(client, model_name, challenger, champion)
        except MlflowException as exc:  # deleted right after the check above
            if not_found(exc):
                _unchanged(client, model_name, challenger, champion, held)
            raise
        try:
            set_champion(client, model_name, challenger, previous=champion, when=when)
            log_promotion(  # cut short, it leaves a run that is not FINISHED: the move is undone
                model_name=model_name,
                challenger=challenger,
                champion=champion,
                promoted=True,
                reason=reason,
                forced=forced,
                scores=scores,
                window=window,
                when=when,
                warnings=warnings,
            )
            return
        except BaseException as exc:  # Ctrl-C included
            cause = str(getattr(exc, "message", "") or exc) or type(exc).__name__
            try:
                _undo_champion(
                    client, model_name, challenger, previous=champion, tags=tags,
                    pending=held[CHALLENGER],
                )  # fmt: skip
                log_promotion(
                    model_name=model_name,
                    challenger=challenger,
                    champion=champion,
                    promoted=alias_version(client, model_name, CHAMPION) == challenger,
                    reason=said("cut_short", reason=reason, cause=cause),
                    forced=forced,
                    scores=scores,
                    window=window,
                    when=when,
                    warnings=warnings,
                )
            except Exception:  # the store that failed the move: the move's error is the one told
                pass
            if isinstance(exc, MlflowException) and not_found(exc):
                _unchanged(client, model_name, challenger, champion, held)
            raise
    log_promotion(
        model_name=model_name,
        challenger=challenger,
        champion=champion,
        promoted=promote,
        reason=reason,
        forced=forced,
        scores=scores,
        window=window,
        when=when,
        warnings=warnings,
    )


def _test_window(tags: Mapping[str, str]) -> str:
    """`2025-12-29..` (to the end of its data) or `2025-12-29..2026-03-01`; empty when unknown."""
    start = tags.get("split.validation_end", "")
    end = tags.get("split.test_end", "")
    return "" if not start else f"{start}..{'' if end in ('', 'None') else end}"


def versions_table(client: MlflowClient, model_name: str, metric_names: list[str]) -> pd.DataFrame:
    try:
        rm = client.get_registered_model(model_name)
    except MlflowException as exc:
        if not not_found(exc):
            raise
        raise Refusal("no_model", model=model_name) from None
    aliases: dict[str, list[str]] = {}
    for alias, v in (rm.aliases or {}).items():
        aliases.setdefault(str(v), []).append(alias)
    rows = []
    for mv in client.search_model_versions(f"name='{model_name}'"):
        run = client.get_run(mv.run_id) if mv.run_id else None
        m = run.data.metrics if run else {}
        row = {
            "version": int(mv.version),
            "aliases": ",".join(sorted(aliases.get(str(mv.version), []))),
            "created": pd.Timestamp(mv.creation_timestamp, unit="ms", tz="UTC").strftime(
                "%Y-%m-%d %H:%M"
            ),
            "champion_since": mv.tags.get("champion_since", ""),
            "champion_until": mv.tags.get("champion_until", ""),
            # where its test window began: figures of versions tested from other days (another
            # source, other split dates) are not on the same rows
            "test_window": _test_window(run.data.tags if run else {}),
        }
        for name in metric_names:
            row[name] = m.get(name, float("nan"))
        rows.append(row)
    # no versions: every one was deleted (in the MLflow UI, or a first training cut short)
    columns = [
        "version",
        "aliases",
        "created",
        "champion_since",
        "champion_until",
        "test_window",
        *metric_names,
    ]
    return pd.DataFrame(rows, columns=columns).sort_values("version").reset_index(drop=True)


def promotion_history(model_name: str, language: str = "en") -> pd.DataFrame:
    """The decisions, oldest first, each `reason` in `language` where its run keeps the reason's
    key (`reason_key`), else its English `reason` tag (a run logged before there was one)."""
    exp = mlflow.get_experiment_by_name(f"{model_name}-promotions")
    if exp is None:
        return pd.DataFrame(
            columns=["decided_at", "challenger", "champion", "promoted", "forced", "reason"]
        )
    runs = mlflow.search_runs(  # a decision whose logging was cut short is no decision
        [exp.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        order_by=["attributes.start_time ASC"],
    )
    if "params.decided_at" in runs:  # a run someone else logged there (a training) decided nothing
        runs = runs[runs["params.decided_at"].notna()]
    if runs.empty or "params.decided_at" not in runs:
        return pd.DataFrame(
            columns=["decided_at", "challenger", "champion", "promoted", "forced", "reason"]
        )
    return pd.DataFrame(
        {
            "decided_at": runs["params.decided_at"],
            "challenger": runs["params.challenger_version"],
            "champion": runs["params.champion_version"],
            "promoted": runs["params.promoted"],
            "forced": runs["params.forced"],
            "reason": [
                _reason(tag, runs.get("tags.reason_key", pd.Series(dtype=object)).get(i), language)
                for i, tag in runs["tags.reason"].items()
            ],
        }
    )


def _reason(tag: Any, key: Any, language: str) -> Any:
    """A decision's reason in `language` from its key; its English tag when it has none."""
    told = from_key(key) if isinstance(key, str) else None
    return tag if told is None else shown(told, language)
