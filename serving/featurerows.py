"""Precomputed feature rows (POST /score_features) checked against a model's feature spec.

Every feature of the spec must be present (null means missing, as NaN is to the model); unknown
names, numbers for categories, strings for numbers and levels outside the spec are refused, each
error naming `rows.<i>.features.<name>`. Categories get exactly the spec's levels, as in training.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.params import ContractParams
from features.spec import FeatureSpec, value_range
from serving.guard import shown_name
from serving.intake import Details, RequestError, finite_number
from serving.ladder import AccountFacts
from serving.schemas import ScoreFeaturesRequest


def feature_frame(
    req: ScoreFeaturesRequest, spec: FeatureSpec, as_of: pd.Timestamp, contract: ContractParams
) -> tuple[pd.DataFrame, dict[str, AccountFacts]]:
    """The typed frame (account_id, as_of, spec features) and the ladder facts, or a 422."""
    errors = Details()
    known = set(spec.names)
    seen: dict[str, int] = {}
    for i, row in enumerate(req.rows):
        if row.account_id in seen:
            errors.add(
                loc=["rows", i, "account_id"],
                msg=f"duplicate of rows.{seen[row.account_id]}",
                type="unique",
            )
        seen.setdefault(row.account_id, i)
        for name in row.features:
            if name not in known:
                errors.add(
                    # a name of a megabyte came back whole: no feature name is this long
                    loc=["rows", i, "features", shown_name(name)],
                    msg="not a feature of the model",
                    type="unknown_feature",
                )
        for info in spec.features:
            loc: list[str | int] = ["rows", i, "features", info.name]
            if info.name not in row.features:
                errors.add(loc=loc, msg="missing (send null for an unknown value)", type="missing")
                continue
            v = row.features[info.name]
            if v is None:
                continue
            if info.dtype == "category":
                if not isinstance(v, str) or v not in (info.levels or ()):
                    errors.add(
                        loc=loc,
                        msg=f"must be one of {list(info.levels or ())} or null",
                        type="category",
                    )
            elif not finite_number(v):
                errors.add(loc=loc, msg="must be a finite number or null", type="float_type")
            elif (bounds := value_range(info)) is not None and not (
                bounds[0] <= float(v) <= bounds[1]
            ):
                errors.add(
                    loc=loc,
                    msg=f"must be between {bounds[0]:g} and {bounds[1]:g}"
                    f" ({info.unit or 'number'}) or null",
                    type="range",
                )
        for p in ("p1", "p2"):  # the ladder's rule on tickets past their SLA fired for none
            past, open_ = getattr(row.facts, f"open_{p}_past_sla"), getattr(row.facts, f"open_{p}")
            if past > open_:
                errors.add(
                    loc=["rows", i, "facts", f"open_{p}_past_sla"],
                    msg=f"must not exceed open_{p} ({open_}): these are open tickets too",
                    type="range",
                )
        for field, allowed in (("tier", contract.tiers), ("language", contract.languages)):
            if getattr(row.facts, field) not in allowed:
                errors.add(
                    loc=["rows", i, "facts", field],
                    msg=f"must be one of {list(allowed)}",
                    type="allowed_values",
                )
    if errors:
        raise RequestError(
            422, errors.message("field(s) do not match the model's feature spec"), errors
        )
    columns: dict[str, object] = {
        "account_id": pd.Series([r.account_id for r in req.rows], dtype=object),
        "as_of": pd.Series([as_of] * len(req.rows), dtype="datetime64[ns, UTC]"),
    }
    for info in spec.features:
        values = [r.features[info.name] for r in req.rows]
        if info.dtype == "category":
            columns[info.name] = pd.Categorical(values, categories=list(info.levels or ()))
        else:
            columns[info.name] = np.array(
                [np.nan if v is None else float(v) for v in values], dtype=float
            )
    frame = pd.DataFrame(columns)
    facts = {r.account_id: AccountFacts(**r.facts.model_dump()) for r in req.rows}
    return frame, facts
