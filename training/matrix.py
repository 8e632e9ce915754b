"""The model's input matrix: exactly the spec's columns, in order, with the spec's dtypes.

Categories are re-typed with the spec's declared levels and values outside them become the
explicit unknown level, because LightGBM would otherwise silently remap unseen pandas categories.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.errors import UserError
from features.spec import UNKNOWN, FeatureSpec


def model_matrix(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    missing = [n for n in spec.names if n not in frame.columns]
    if missing:
        raise UserError(f"input lacks feature columns the model needs: {missing}")
    cols: dict[str, object] = {}
    for info in spec.features:
        s = frame[info.name]
        if info.dtype == "category":
            levels = list(info.levels or (UNKNOWN,))
            values = s.astype(object)
            known = values.isin(levels) | values.isna()
            cols[info.name] = pd.Categorical(values.where(known, UNKNOWN), categories=levels)
        else:
            try:
                cols[info.name] = pd.to_numeric(s, errors="raise").astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise UserError(f"feature {info.name!r} must be numeric: {exc}") from None
    return pd.DataFrame(cols, index=frame.index)
