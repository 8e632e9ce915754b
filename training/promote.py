"""The promotion gate: a challenger replaces the champion only if it is not worse.

Pure: scores in, decision out. "Not worse" means, for every head, the challenger's primary metric
is no more than `tolerance` worse than the champion's, in the metric's own direction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from training.metrics import HIGHER_IS_BETTER
from training.params import PromotionParams
from training.text import Joined, said


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str  # English, as MLflow's `reason` tag keeps it; a `Said` tells it in German too


def decide(
    challenger: Mapping[str, float],
    champion: Mapping[str, float] | None,
    params: PromotionParams,
    *,
    force: bool = False,
    force_reason: str | None = None,
) -> Decision:
    """`challenger`/`champion`: target -> primary metric on the same window; champion None = none yet."""
    if force:
        return Decision(True, said("forced", reason=force_reason))
    if champion is None:
        return Decision(True, said("first_model"))
    higher = HIGHER_IS_BETTER[params.primary_metric]
    worse = []
    for target, c in challenger.items():
        old = champion[target]
        if math.isnan(old) and not math.isnan(c):
            continue  # the champion cannot score this head (no head, no labels): not worse
        delta = (c - old) if higher else (old - c)
        if not delta >= -params.tolerance:  # a challenger's NaN counts as worse
            worse.append(
                said("worse_item", target=target, metric=params.primary_metric, new=c, old=old)
            )
    if worse:
        return Decision(False, said("worse", tolerance=params.tolerance, worse=Joined(worse, "; ")))
    shown = Joined(
        said("not_worse_item", target=t, new=challenger[t], old=champion[t]) for t in challenger
    )  # (a champion's nan: it had no score for that head)
    return Decision(True, said("not_worse", metric=params.primary_metric, shown=shown))
