"""Finding and loading the registered `champion` for scoring (an edge: talks to MLflow).

The registered pyfunc carries the model bundle as its one artifact; we download it once and load it
with the plain-Python loader, keeping the boosters for SHAP contributions and the calibrators.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import filecmp
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from features.errors import UserError
from features.sources import describe
from serving.daily_text import t
from serving.params import head_of
from serving.scoring import Head, ScoringModel

if TYPE_CHECKING:
    from training.bundle import Bundle

logger = logging.getLogger("escrisk.model")

ALIAS = "champion"
KEPT_VERSIONS = 3  # local copies kept per model (ESCRISK_MODEL_CACHE): the newest used
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"  # when MLFLOW_TRACKING_URI is unset
HOW_TO_TRAIN = (
    "train and promote one first, e.g. `escrisk train SOURCE && escrisk promote SOURCE` "
    "(or `make demo`, which does so on a simulated world)"
)


def use_store(tracking_uri: str, language: str = "en") -> str:
    """Point MLflow at an existing store (a mistyped URL or a server down is a UserError);
    the store as shown, a database server's URL without its password."""
    import mlflow

    from training.registry import NoStore, existing_store

    shown = describe(tracking_uri)
    try:
        existing_store(tracking_uri)
    except NoStore:  # only the store not there: a mistyped URL or a server down say so
        if language == "en":
            raise
        raise UserError(t("no_mlflow_store", language, uri=shown)) from None
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    return shown


class NoChampion(UserError):
    """The registry answered, and it has no champion: nothing to fall back on (a champion taken
    away is not to be served from a copy)."""


def champion_version(tracking_uri: str, model_name: str, language: str = "en") -> str:
    """The champion's version number, or a UserError saying how to get one (in `language`:
    `escrisk daily` and `replay` under a German team)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from training.registry import not_found

    shown = use_store(tracking_uri, language)
    try:
        mv = mlflow.MlflowClient().get_model_version_by_alias(model_name, ALIAS)
    except MlflowException as exc:
        if not not_found(exc):
            raise
        if language != "en":
            said = t("no_champion", language, alias=ALIAS, model=model_name, uri=shown)
            raise NoChampion(said) from None
        raise NoChampion(
            f"no {ALIAS!r} version of model {model_name!r} in the MLflow registry at "
            f"{shown}; {HOW_TO_TRAIN}"
        ) from None
    return str(mv.version)


def scoring_model(bundle, version: str) -> ScoringModel:
    """Adapt a training bundle to what scoring needs: one booster and calibrator per head."""
    from training.text import Refusal

    heads = {head_of(t): Head(h.booster, h.calibrator) for t, h in bundle.heads.items()}
    missing = {"escalation", "churn"} - set(heads)
    if missing:
        raise Refusal("bundle_no_head", version=version, missing=", ".join(sorted(missing)))
    return ScoringModel(
        spec=bundle.spec,
        heads=heads,
        version=version,
        feature_params=getattr(bundle, "feature_params", None),
        feature_code=getattr(bundle, "feature_code", None),
    )


def feature_code_warning(model: ScoringModel, language: str = "en") -> str | None:
    """What to tell when the model was trained on features computed by other code than this
    installation's (an upgrade since: it is fed values it never learnt from), or by code it did
    not record; None when they agree."""
    from features.version import differs, stamp, stamp_text

    now = stamp()
    if model.feature_code is None:
        return t("feature_code_unknown", language, model=model.version, now=stamp_text(now))
    if not differs(model.feature_code, now):
        return None
    trained = stamp_text(model.feature_code)
    return t("feature_code_changed", language, model=model.version, trained=trained,
             now=stamp_text(now))  # fmt: skip


def champion_bundle(
    tracking_uri: str, model_name: str, language: str = "en", version: str | None = None
) -> tuple[str, Path]:
    """The champion's version (or `version`, pinned) and the folder of its downloaded bundle; a
    version without one (logged by hand, not by `escrisk train`) is refused in `language`.
    Downloaded by its number, not by the alias: a promotion in between would load another model
    under the version read."""
    import mlflow

    if version is None:
        version = champion_version(tracking_uri, model_name, language)
    else:
        use_store(tracking_uri, language)
    uri = f"models:/{model_name}/{version}"
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    found = sorted(local.rglob("bundle.json"))
    if not found:
        raise UserError(t("no_bundle", language, model=model_name, version=version))
    return version, found[0].parent


def read_champion(directory: Path, model_name: str, version: str, language: str = "en") -> Bundle:
    """The champion's bundle; one an older release wrote in a format this version does not
    read is refused naming the version and what to do, in `language`."""
    from training.bundle import SCHEMA_VERSION, UnsupportedBundle, load_bundle

    try:
        return load_bundle(directory)
    except UnsupportedBundle as exc:
        said = t("old_bundle", language, model=model_name, version=version, found=exc.found,
                 reads=SCHEMA_VERSION)  # fmt: skip
        raise UserError(said) from None


def load_champion(
    tracking_uri: str,
    model_name: str,
    language: str = "en",
    version: str | None = None,
    cache: Path | None = None,
) -> ScoringModel:
    """Download the champion's bundle (or pinned `version`'s) and load it; the version reads
    `escalation-risk/3`. With `cache` (the service's ESCRISK_MODEL_CACHE), a downloaded bundle
    is kept there, and a pinned version kept there is loaded when the tracking server cannot
    be reached: a worker restarted while MLflow was down had no model, and the service none."""
    try:
        version, directory = champion_bundle(tracking_uri, model_name, language, version)
    except Exception as exc:
        kept = cached_bundle(cache, tracking_uri, model_name, version)
        if kept is None or version is None:
            raise
        cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        logger.warning(
            "the model registry %s cannot be used (%s): loading %s/%s from its local copy %s",
            describe(tracking_uri), cause, model_name, version, kept,
        )  # fmt: skip
        directory = kept
    else:
        if cache is not None:
            keep_bundle(directory, cache, tracking_uri, model_name, version)
    bundle = read_champion(directory, model_name, version, language)
    return scoring_model(bundle, f"{model_name}/{version}")


def _cached(cache: Path, tracking_uri: str, model_name: str) -> Path:
    """The folder of a model's copies, by registry: version 3 of another registry's model of
    the same name (a staging server's) is another model."""
    registry = hashlib.sha256(_registry(tracking_uri).encode("utf-8")).hexdigest()[:16]
    return cache / registry / quote(model_name, safe="")


def _registry(tracking_uri: str) -> str:
    """The registry a tracking URI names, wherever the service was started: the default
    sqlite:///mlflow.db of two installations (a staging and a production folder) are two."""
    scheme, sep, rest = tracking_uri.partition(":")
    if not sep or len(scheme) == 1:  # a plain path (a Windows drive letter too)
        return Path(tracking_uri).resolve().as_uri()
    if scheme == "file" and not rest.startswith("//"):  # file:./mlruns
        return Path(rest).resolve().as_uri()
    if scheme.split("+")[0] == "sqlite" and rest.startswith("///") and not rest.startswith("////"):
        path, query, args = rest[3:].partition("?")
        if path and path != ":memory:":
            return f"{scheme}:///{Path(path).resolve()}{query}{args}"
    return tracking_uri


CHAMPION_SEEN = "champion.json"  # beside a model's copies: the champion last seen, and when


def note_champion(
    cache: Path, tracking_uri: str, model_name: str, version: str, seen_at: dt.datetime
) -> None:
    """Record `version` as the champion the registry named at `seen_at` (written whole, under a
    temporary name): what `escrisk serve` serves while the registry cannot be reached. A cache
    that cannot be written is logged, never a reason not to serve."""
    folder = _cached(cache, tracking_uri, model_name)
    record = {"version": version, "seen_at": seen_at.astimezone(dt.UTC).isoformat()}
    partial = folder / f".{CHAMPION_SEEN}.partial-{os.getpid()}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial.write_text(json.dumps(record), encoding="utf-8")
        partial.replace(folder / CHAMPION_SEEN)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        logger.warning("cannot record the champion %s/%s in %s: %s", model_name, version,
                       cache, exc.strerror or exc)  # fmt: skip


def last_champion(
    cache: Path, tracking_uri: str, model_name: str
) -> tuple[str, dt.datetime, Path] | None:
    """The champion last seen in the registry (`note_champion`), when it was seen, and its kept
    bundle; None without a record or a bundle to load."""
    record = _champion_record(_cached(cache, tracking_uri, model_name))
    if record is None:
        return None
    version, seen_at = record
    kept = cached_bundle(cache, tracking_uri, model_name, version)
    return None if kept is None else (version, seen_at, kept)


def _champion_record(folder: Path) -> tuple[str, dt.datetime] | None:
    """The version and time `note_champion` recorded in a model's copies folder, if readable."""
    try:
        record = json.loads((folder / CHAMPION_SEEN).read_text())
        return str(record["version"]), dt.datetime.fromisoformat(record["seen_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _noted_version(folder: Path) -> str | None:
    """The folder name of the champion's copy that `note_champion` recorded, if any."""
    record = _champion_record(folder)
    return None if record is None else quote(record[0], safe="")


def cached_bundle(
    cache: Path | None, tracking_uri: str, model_name: str, version: str | None
) -> Path | None:
    """The local copy of `version`'s bundle, if kept (never for an unpinned champion: which
    version that is, only the registry knows)."""
    if cache is None or version is None:
        return None
    found = _cached(cache, tracking_uri, model_name) / quote(version, safe="")
    return found if (found / "bundle.json").is_file() else None


def keep_bundle(
    directory: Path, cache: Path, tracking_uri: str, model_name: str, version: str
) -> None:
    """Copy a downloaded bundle into the cache (whole, or not at all: copied under a temporary
    name, then renamed), and drop all but the KEPT_VERSIONS newest. The cache is the owner's
    only (the bundle decides every score). A cache that cannot be written is logged, never
    a reason not to serve."""
    folder = _cached(cache, tracking_uri, model_name)
    target = folder / quote(version, safe="")
    try:
        cache.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        there = (target / "bundle.json").is_file()
        if not there or not _same_files(directory, target):
            # a copy of another model under the same number (the registry was set up anew, its
            # versions counting from 1 again) is replaced: it would be loaded in this one's place
            partial = folder / f".{target.name}.partial-{os.getpid()}"
            stale = folder / f".{target.name}.stale-{os.getpid()}"
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(directory, partial)
            try:
                if there:
                    target.rename(stale)
                partial.rename(target)
            except OSError:  # another worker kept it first
                shutil.rmtree(partial, ignore_errors=True)
            shutil.rmtree(stale, ignore_errors=True)
        os.utime(target)  # the newest used is kept longest (a copy has its download's time)
        # the champion last seen stays whatever else was loaded since (pinned challengers, a
        # rollback's try): it is what `escrisk serve` falls back on while the registry is down
        noted = _noted_version(folder)
        copies = [d for d in folder.iterdir() if not d.name.startswith(".") and d.is_dir()]
        others = sorted(
            (d for d in copies if d.name != noted), key=lambda d: d.stat().st_mtime, reverse=True
        )
        room = KEPT_VERSIONS - (len(copies) - len(others))  # the champion's copy counts
        for old in others[room:]:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        logger.warning("cannot keep a local copy of %s/%s in %s: %s", model_name, version,
                       cache, exc.strerror or exc)  # fmt: skip


def _same_files(a: Path, b: Path) -> bool:
    """Whether two bundle folders hold the same files with the same bytes."""
    files = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    if files != {p.relative_to(b) for p in b.rglob("*") if p.is_file()}:
        return False
    return all(filecmp.cmp(a / f, b / f, shallow=False) for f in files)
