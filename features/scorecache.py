"""Ticket sentiment scores kept between runs, so a daily job or a retrain scores only new texts.

A process scores each distinct text once (`features.scorers.CachedScorer`); without this, every
`escrisk daily` or `train` would score its whole history again (a minute for a million tickets).
The scores live in one file per scorer (`sentiment-<cache_id>.npz` in
`features.sentiment.cache_dir`), keyed by `stable_key` of (language, text): no text is stored.
This is the I/O edge: commands wrap their work in `kept_scores`; the builders only see a scorer
that already knows the scores. The file is a cache: one that cannot be read is ignored with a
warning, one that cannot be written costs only the next run's time; two runs saving at once keep
the scores of the later one.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from features.scorers import CachedScorer, default_scorer

MAX_KEPT = 20_000_000  # scores per file (320 MB); the oldest go first


def cache_file(directory: str | Path, scorer: CachedScorer) -> Path:
    """The file of this scorer's scores; a scorer names itself by a `cache_id` attribute (change
    it whenever its scores change), else by its class."""
    inner = scorer.scorer
    name = (
        getattr(inner, "cache_id", None) or f"{type(inner).__module__}.{type(inner).__qualname__}"
    )
    return Path(directory) / f"sentiment-{re.sub(r'[^A-Za-z0-9_.-]+', '_', str(name))}.npz"


def read_scores(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The stored (keys, scores); empty when there is no file or it cannot be read."""
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0))
    if not path.is_file():
        return empty
    try:
        with np.load(path, allow_pickle=False) as z:
            keys, scores = z["keys"].astype(np.int64), z["scores"].astype(np.float64)
        if keys.shape != scores.shape or keys.ndim != 1:
            raise ValueError("keys and scores differ in shape")
    except (OSError, ValueError, KeyError) as exc:
        _warn(f"ignoring the sentiment score cache {path} ({exc}); texts are scored again")
        return empty
    return keys, scores


def write_scores(path: Path, keys: np.ndarray, scores: np.ndarray) -> None:
    """Merge new (keys, scores) into the file, atomically (a reader never sees half a file)."""
    old_keys, old_scores = read_scores(path)
    all_keys = np.concatenate([old_keys, keys])
    all_scores = np.concatenate([old_scores, scores])
    last = ~pd.Index(all_keys).duplicated(keep="last")  # a key scored again keeps its new score
    all_keys, all_scores = all_keys[last][-MAX_KEPT:], all_scores[last][-MAX_KEPT:]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, keys=all_keys, scores=all_scores)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def kept_scores(
    directory: str | Path | None, scorer: CachedScorer | None = None
) -> Iterator[CachedScorer]:
    """Within the block, `scorer` (the process-wide default) knows the stored scores; the texts
    it scores are added to the file at the end, also when the block fails. None: no file."""
    s = scorer if scorer is not None else default_scorer()
    if directory is None:
        yield s
        return
    path = cache_file(directory, s)
    s.remember(*read_scores(path))
    try:
        yield s
    finally:
        keys, scores = s.unsaved()
        if len(keys):
            try:
                write_scores(path, keys, scores)
            except OSError as exc:
                _warn(f"could not keep {len(keys)} sentiment scores in {path} ({exc})")


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
