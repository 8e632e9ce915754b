"""What a process learnt about ticket texts, kept between runs, so a job handles only new texts.

A process scores each distinct text once and matches the notice phrases once
(`features.scorers.CachedScorer`); without this, every `escrisk daily` or `train` would score its
whole history again (a minute for a million tickets). What it learnt lives in one file per scorer
(`texts-<cache_id>.npz` in `features.sentiment.cache_dir`): the texts' stable keys
(`features.texts.ticket_keys`), their scores and each named test's results; no text is stored.
This is the I/O edge: commands wrap their work in `kept_scores`; the builders only see a scorer
that already knows. The file is a cache: one that cannot be read is ignored with a warning, one
that cannot be written costs only the next run's time; two runs saving at once keep the scores of
the later one.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from features.scorers import CachedScorer, default_scorer

MAX_KEPT = 20_000_000  # texts per file (about 400 MB); the oldest go first
FLAG = "flag_"  # prefix of a test's results in the file


def cache_file(directory: str | Path, scorer: CachedScorer) -> Path:
    """The file of this scorer's texts; a scorer names itself by a `cache_id` attribute (change
    it whenever its scores change), else by its class."""
    inner = scorer.scorer
    name = (
        getattr(inner, "cache_id", None) or f"{type(inner).__module__}.{type(inner).__qualname__}"
    )
    return Path(directory) / f"texts-{re.sub(r'[^A-Za-z0-9_.-]+', '_', str(name))}.npz"


def read_scores(path: Path) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The stored keys, scores and test results; empty when there is no file or it cannot be
    read."""
    empty: tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]] = (
        np.zeros(0, dtype=np.int64),
        np.zeros(0),
        {},
    )
    if not path.is_file():
        return empty
    try:
        with np.load(path, allow_pickle=False) as z:
            keys, scores = z["keys"].astype(np.int64), z["scores"].astype(np.float64)
            flags = {n[len(FLAG) :]: z[n].astype(np.int8) for n in z.files if n.startswith(FLAG)}
        if keys.ndim != 1 or any(a.shape != keys.shape for a in (scores, *flags.values())):
            raise ValueError("keys, scores and test results differ in shape")
    except (OSError, ValueError, KeyError) as exc:
        _warn(f"ignoring the text cache {path} ({exc}); texts are scored again")
        return empty
    return keys, scores, flags


def write_scores(
    path: Path, keys: np.ndarray, scores: np.ndarray, flags: Mapping[str, np.ndarray]
) -> None:
    """Merge new keys, scores and test results into the file, atomically (a reader never sees
    half a file). A key known before keeps what it had where the new entry knows nothing."""
    old_keys, old_scores, old_flags = read_scores(path)
    columns = {"scores": np.concatenate([old_scores, scores])}
    for test in sorted({*old_flags, *flags}):
        old = old_flags.get(test, np.full(len(old_keys), -1, np.int8))
        both = np.concatenate([old, flags.get(test, np.full(len(keys), -1, np.int8))])
        columns[FLAG + test] = np.where(both < 0, np.nan, both)  # NaN: not tested
    merged = (
        pd.DataFrame(columns, index=np.concatenate([old_keys, keys]))
        .groupby(level=0, sort=False)
        .last()  # per key, the last entry that knows something (NaN is skipped)
        .iloc[-MAX_KEPT:]
    )
    arrays = {"keys": merged.index.to_numpy(dtype=np.int64), "scores": merged["scores"].to_numpy()}
    for name in merged.columns.drop("scores"):
        arrays[name] = merged[name].fillna(-1).to_numpy().astype(np.int8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, allow_pickle=False, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def kept_scores(
    directory: str | Path | None, scorer: CachedScorer | None = None
) -> Iterator[CachedScorer]:
    """Within the block, `scorer` (the process-wide default) knows what earlier runs learnt;
    what it learns is added to the file at the end, also when the block fails. None: no file."""
    s = scorer if scorer is not None else default_scorer()
    if directory is None:
        yield s
        return
    path = cache_file(directory, s)
    # session-5 files (keyed by Python's per-process text hashes) can never match, nor can an
    # earlier version's of the same scorer ("texts-lexicon-v1-..." once "-v2-" scores): drop them
    with contextlib.suppress(OSError):
        path.with_name(path.name.replace("texts-", "sentiment-", 1)).unlink(missing_ok=True)
        family = re.match(r"(texts-.+?-v)\d+-", path.name)
        stem = family.group(1) if family else ""
        for old in path.parent.glob(f"{stem}*.npz") if stem else ():
            if old != path and re.match(rf"{re.escape(stem)}\d+-", old.name):
                old.unlink(missing_ok=True)
    s.remember(*read_scores(path))
    try:
        yield s
    finally:
        keys, scores, flags = s.unsaved()
        if len(keys):
            try:
                write_scores(path, keys, scores, flags)
            except OSError as exc:
                _warn(f"could not keep {len(keys)} sentiment scores in {path} ({exc})")


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
