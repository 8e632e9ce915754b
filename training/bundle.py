"""The model bundle: everything that must change together with the model, in plain files.

    bundle.json            schema version, targets, feature names, the feature code's stamp
                           (features.version: which code computed the features it learnt from)
    feature_spec.json      FeatureSpec.to_dict(): dtypes, category levels, reason templates
    heads/<target>.txt     each head's booster in LightGBM's text format
    calibrators.json       target -> calibrator (JSON, no pickle)
    feature_params.json    params.yaml's `features:` the model was trained with (windows,
                           baselines, thresholds, phrases): scoring builds features with them

`load_bundle` is the plain-Python loader the service and the daily job use (boosters for SHAP
contributions, calibrators); the MLflow pyfunc in `training/pyfunc_model.py` wraps the same loader.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from pydantic import ValidationError

from features.params import FeatureParams
from features.spec import FeatureSpec
from features.version import stamp
from training.calibrate import Calibrator
from training.matrix import model_matrix
from training.text import Refusal
from training.train import Head

# 2: the long-memory escalation and CSAT features count `features.long_window_days` back, where
# version 1's counted from the start of the data (escalations_count, csat_mean, ...): a version 1
# model cannot be fed what it learnt from
SCHEMA_VERSION = 2


class UnsupportedBundle(Refusal):
    """A bundle written in a format this version does not read (an older release's): its
    version can only be replaced, by a new one trained and promoted."""

    def __init__(self, found: object):
        self.found = found
        super().__init__("bundle_format", found=found, reads=SCHEMA_VERSION)

    def __reduce__(self) -> tuple[Any, ...]:
        return UnsupportedBundle, (self.found,)


@dataclass(frozen=True)
class Bundle:
    spec: FeatureSpec
    heads: dict[str, Head]
    schema_version: int = SCHEMA_VERSION
    feature_params: FeatureParams | None = None  # None: a bundle written before they were kept
    # features.version.stamp() at training; None: a bundle written before it was kept
    feature_code: dict[str, Any] | None = None

    @property
    def targets(self) -> list[str]:
        return list(self.heads)

    def matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        return model_matrix(frame, self.spec)

    def plain(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's input columns as plain types (categories as strings, missing as None):
        what the MLflow pyfunc's signature accepts, e.g. from `build_features(...).frame`."""
        X = self.matrix(frame).reset_index(drop=True)
        for c in X.columns:
            if isinstance(X[c].dtype, pd.CategoricalDtype):
                X[c] = X[c].astype(object).where(X[c].notna(), None)
        return X

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Calibrated probability per target, one row per input row (same index)."""
        X = self.matrix(frame)
        return pd.DataFrame({t: h.predict(X) for t, h in self.heads.items()}, index=frame.index)

    def contributions(self, frame: pd.DataFrame, target: str) -> pd.DataFrame:
        """SHAP values on the raw (log-odds) scale per feature, plus `expected_value`."""
        X = self.matrix(frame)
        c = np.asarray(self.heads[target].booster.predict(X, pred_contrib=True))
        return pd.DataFrame(c, columns=[*self.spec.names, "expected_value"], index=frame.index)


def used_features(boosters: Iterable[lgb.Booster]) -> set[str]:
    """The features some head's booster splits on."""
    used: set[str] = set()
    for booster in boosters:
        names = booster.feature_name()
        splits = booster.feature_importance("split")
        used |= {n for n, k in zip(names, splits, strict=True) if k > 0}
    return used


def used_families(spec: FeatureSpec, boosters: Iterable[lgb.Booster]) -> set[str]:
    """The feature families some head's booster splits on: what the model misses without their
    table."""
    family = {f.name: f.family for f in spec.features}
    return {family[n] for n in used_features(boosters) if n in family}


def write_bundle(
    directory: Path,
    heads: Mapping[str, Head],
    spec: FeatureSpec,
    feature_params: FeatureParams | None = None,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "heads").mkdir(exist_ok=True)
    for target, head in heads.items():
        if head.booster.feature_name() != spec.names:
            raise ValueError(f"{target}: booster features differ from the feature spec")
        (directory / "heads" / f"{target}.txt").write_text(
            head.booster.model_to_string(), encoding="utf-8"
        )
    cal = {t: h.calibrator.to_dict() for t, h in heads.items()}
    (directory / "calibrators.json").write_text(json.dumps(cal, indent=1), encoding="utf-8")
    (directory / "feature_spec.json").write_text(
        json.dumps(spec.to_dict(), indent=1), encoding="utf-8"
    )
    if feature_params is not None:
        (directory / "feature_params.json").write_text(
            json.dumps(feature_params.model_dump(mode="json"), indent=1), encoding="utf-8"
        )
    # an optional key: a bundle without it still loads (SCHEMA_VERSION unchanged), as unknown
    meta = {
        "schema_version": SCHEMA_VERSION,
        "targets": list(heads),
        "features": spec.names,
        "feature_code": stamp(),
    }
    (directory / "bundle.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return directory


def load_bundle(directory: str | Path) -> Bundle:
    d = Path(directory)
    try:
        meta = json.loads((d / "bundle.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Refusal("not_a_bundle", path=str(d)) from None
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise UnsupportedBundle(meta.get("schema_version"))
    spec = FeatureSpec.from_dict(json.loads((d / "feature_spec.json").read_text(encoding="utf-8")))
    cals = json.loads((d / "calibrators.json").read_text(encoding="utf-8"))
    heads = {}
    for t in meta["targets"]:
        booster = lgb.Booster(model_str=(d / "heads" / f"{t}.txt").read_text(encoding="utf-8"))
        heads[t] = Head(t, booster, Calibrator.from_dict(cals[t]))
    code = meta.get("feature_code")
    code = dict(code) if isinstance(code, dict) else None
    return Bundle(spec, heads, meta["schema_version"], _feature_params(d), code)


def _feature_params(d: Path) -> FeatureParams | None:
    """The feature settings the bundle was trained with; None for a bundle without them."""
    path = d / "feature_params.json"
    if not path.is_file():
        return None
    try:
        return FeatureParams.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise Refusal("bundle_bad_settings", path=str(path), cause=str(exc)) from None


# --- the training reference for drift (read by `escrisk daily`'s report) ------------------------

REFERENCE_FILE = "reference.json"


def reference_distribution(bundle: Bundle, frame: pd.DataFrame, bins: int) -> dict:
    """The training data's distribution, for PSI drift checks after deployment.

    Per numeric feature: inner quantile edges (`bins` quantile bins, duplicates merged) and the
    share of rows in each bin plus a last share for missing values; per category: the share per
    level (plus missing); per head: the same for the calibrated scores. Computed once, at training
    time, on the latest weeks (`latest_weeks`) of the rows the model was fitted and calibrated on
    (never the test window), and stored next to the model as plain JSON.
    """
    X = bundle.matrix(frame)
    features = {
        info.name: _reference_column(X[info.name], info.dtype, bins)
        for info in bundle.spec.features
    }
    scores = bundle.predict(frame)
    return {
        "bins": bins,
        "rows": len(frame),
        "features": features,
        "scores": {t: _reference_column(scores[t], "float", bins) for t in scores.columns},
    }


def latest_weeks(frame: pd.DataFrame, weeks: int) -> pd.DataFrame:
    """The snapshots of the frame's last `weeks` weeks: the drift reference.

    The whole training grid mixes every account age since the data began, while a daily run scores
    today's portfolio; lifetime features (tenure, lifetime CSAT) and the scores they drive would
    look drifted against it on the day after training. The latest weeks are the closest population.
    """
    start = frame["as_of"].max() - pd.Timedelta(weeks=weeks)
    return frame[frame["as_of"] > start]


def _reference_column(s: pd.Series, dtype: str, bins: int) -> dict:
    if dtype == "category":
        levels = [str(v) for v in s.cat.categories]
        counts = [int((s == lv).sum()) for lv in levels] + [int(s.isna().sum())]
        return {"kind": "category", "levels": levels, "shares": _shares(counts)}
    v = s.to_numpy(dtype=np.float64)
    known = v[~np.isnan(v)]
    q = np.linspace(0, 1, bins + 1)[1:-1]
    qs = np.quantile(known, q) if len(known) else np.zeros(0)
    # an edge interpolated a rounding error off a value many rows share (1/3, a count) is that
    # value: here those rows fell below an edge just above them, while the daily job (`bin_of`,
    # serving.drift.EDGE_RTOL) counts a value that close below an edge above it (PSI 4 on the
    # training data itself)
    for method in ("lower", "higher") if len(known) else ():
        value = np.quantile(known, q, method=method)
        qs = np.where(np.isclose(qs, value, rtol=1e-9, atol=0.0), value, qs)
    edges = np.unique(qs)
    counts = list(
        np.bincount(np.searchsorted(edges, known, side="right"), minlength=len(edges) + 1)
    )
    counts.append(int(np.isnan(v).sum()))
    return {"kind": "float", "edges": [float(e) for e in edges], "shares": _shares(counts)}


def _shares(counts: list) -> list[float]:
    total = float(sum(counts))
    return [float(c) / total if total else 0.0 for c in counts]


def write_reference(directory: str | Path, reference: dict) -> Path:
    path = Path(directory) / REFERENCE_FILE
    path.write_text(json.dumps(reference, indent=1), encoding="utf-8")
    return path


def read_reference(directory: str | Path) -> dict | None:
    """The bundle's training reference, or None for a bundle trained before it was stored."""
    path = Path(directory) / REFERENCE_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
