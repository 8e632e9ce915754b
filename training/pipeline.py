"""From a validated history to a labelled feature frame and the inputs evaluation needs.

Pure glue shared by `escrisk train`, `escrisk promote`, the benchmark and the notebooks: features
through the one `build_features` path, labels, horizons, events for lead times, CSM owners, and
the data fingerprint logged with a run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features.build import FeatureSet, as_of_grid, build_features
from features.contract import History
from features.params import FeatureParams
from features.pointintime import data_end
from features.spec import FeatureSpec
from training.labels import LabelEnd, add_labels, label_ends
from training.params import LabelParams
from training.text import Refusal, Said, absence, said


@dataclass(frozen=True)
class Labelled:
    frame: pd.DataFrame  # account_id, as_of, features, escalation_30d, churn_90d
    spec: FeatureSpec
    unavailable: dict[str, Said | str]  # family -> why it is left out (English, tellable)
    data_end: pd.Timestamp | None
    # target -> where its events table ends: its labels stop a horizon before (training/labels.py)
    ends: dict[str, LabelEnd] = field(default_factory=dict)


def horizons(params: LabelParams) -> dict[str, int]:
    return {"escalation_30d": params.escalation_days, "churn_90d": params.churn_days}


def labelled_features(
    history: History,
    params,
    as_of: pd.DatetimeIndex | None = None,
    spec: FeatureSpec | None = None,
    features: FeatureParams | None = None,
) -> Labelled:
    """Weekly grid (params.features.grid) unless `as_of` is given; `params` is the root Params,
    `features` the feature settings to build with when not its own (a model's, to score it)."""
    grid = as_of_grid(history, params.features) if as_of is None else as_of
    if len(grid) == 0:
        raise Refusal("no_grid")
    fs: FeatureSet = build_features(history, grid, features or params.features, spec=spec)
    ends = label_ends(history, params.labels)
    frame = add_labels(fs.frame, history, params.labels, ends)
    unavailable = {k: absence(v) for k, v in fs.unavailable.items()}
    return Labelled(frame, fs.spec, unavailable, data_end(history), ends)


def unavailable_labels(history: History) -> dict[str, Said]:
    """target -> why it has no labels: the source lacks the table its events come from."""
    tables = {"escalation_30d": "escalations", "churn_90d": "churn"}
    return {
        t: said("no_label_table", table=n) for t, n in tables.items() if history.table(n) is None
    }


def trained_horizons(history: History, params) -> dict[str, int]:
    """target -> label horizon of the heads `escrisk train` fits on this source: model.targets
    whose events table the source has (the split serves these only); `params` is the root Params."""
    missing = unavailable_labels(history)
    return {
        t: h
        for t, h in horizons(params.labels).items()
        if t in params.model.targets and t not in missing
    }


def target_events(history: History) -> dict[str, pd.DataFrame]:
    """The events each target predicts, as (account_id, event_at), for warning lead times."""
    out = {}
    if history.escalations is not None:
        e = history.escalations
        out["escalation_30d"] = pd.DataFrame(
            {"account_id": e["account_id"], "event_at": e["opened_at"]}
        )
    if history.churn is not None:
        c = history.churn
        out["churn_90d"] = pd.DataFrame(
            {"account_id": c["account_id"], "event_at": c["churned_at"]}
        )
    return out


def csm_of(history: History) -> pd.Series:
    a = history.accounts
    return pd.Series(a["csm_owner"].to_numpy(), index=a["account_id"].to_numpy())


def fingerprint(history: History) -> str:
    """sha256 over the content of every table (row order matters, as it does for a source file)."""
    h = hashlib.sha256()
    for name in ("accounts", "tickets", "usage", "escalations", "churn"):
        df = history.table(name)
        h.update(name.encode())
        if df is not None:
            h.update(",".join(map(str, df.columns)).encode())
            h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def read_oracle(source: str, targets: tuple[str, ...] | list[str]) -> pd.DataFrame | None:
    """The simulator's true probabilities (`truth/risk.*` next to the tables), when present.

    Read only by evaluation, to show how close a model gets to the best possible score.
    Returns account_id, as_of and one probability column per target the truth has.
    """
    folder = Path(source) / "truth"
    files = [f for f in (folder / "risk.parquet", folder / "risk.csv") if f.is_file()]
    if not files:
        return None
    f = files[0]
    df = pd.read_parquet(f) if f.suffix == ".parquet" else pd.read_csv(f)
    cols = [t for t in targets if t in df.columns]
    if not cols or not {"account_id", "as_of"} <= set(df.columns):
        return None
    out = df[["account_id", "as_of", *cols]].copy()
    out["account_id"] = out["account_id"].astype(str).astype(object)
    out["as_of"] = pd.to_datetime(out["as_of"], utc=True).astype("datetime64[ns, UTC]")
    return out
