"""`escrisk promote` as a function: score champion and challenger on the same newest window, gate.

Both versions are scored on the most recent labelled snapshots (the last `promotion.window_days`
of as_of dates whose label horizon is fully observed), each through its own feature spec.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from mlflow import MlflowClient

from features.build import as_of_grid, unavailable_families
from features.contract import History
from features.errors import UserError
from features.params import as_trained
from features.pointintime import data_end
from training.bundle import Bundle, UnsupportedBundle, used_families
from training.metrics import evaluate
from training.pipeline import (
    csm_of,
    horizons,
    labelled_features,
    target_events,
    unavailable_labels,
)
from training.promote import Decision, decide
from training.registry import (
    CHALLENGER,
    CHAMPION,
    alias_version,
    apply_promotion,
    download_bundle,
    fitted_until,
)


@dataclass(frozen=True)
class PromotionResult:
    decision: Decision
    challenger: str
    champion: str | None
    scores: dict[str, float]
    lines: list[str]


def window_dates(history: History, params) -> tuple[pd.DatetimeIndex, str]:
    end = data_end(history)
    if end is None:
        raise UserError("the source holds no events; nothing to evaluate on")
    grid = as_of_grid(history, params.features)
    hz = horizons(params.labels)
    keep = pd.Series(False, index=range(len(grid)))
    told = []
    for target, h in hz.items():
        last = end - pd.Timedelta(days=h)
        mine = (grid <= last) & (grid > last - pd.Timedelta(days=params.promotion.window_days))
        keep |= pd.Series(mine)
        if mine.any():  # each head is scored on its own window: its labels end at the data's end
            told.append(f"{target} {grid[mine].min():%Y-%m-%d}..{grid[mine].max():%Y-%m-%d}")
    dates = grid[keep.to_numpy()]
    if len(dates) == 0:
        raise UserError("no labelled as_of dates in the most recent window; is the data too short?")
    return dates, ", ".join(told)


def score_version(
    bundle: Bundle, history: History, dates: pd.DatetimeIndex, params
) -> dict[str, float]:
    """target -> primary metric of this bundle on the window (plus CI bounds for the log)."""
    own = as_trained(bundle.feature_params, params.features)  # each version as it was trained
    lab = labelled_features(history, params, as_of=dates, spec=bundle.spec, features=own)
    end = lab.data_end
    if end is None:
        raise UserError("the source holds no events; nothing to evaluate on")
    probs = bundle.predict(lab.frame)
    out: dict[str, float] = {}
    events = target_events(history)
    metric = params.promotion.primary_metric
    for t, h in horizons(params.labels).items():
        if t not in bundle.heads:
            continue
        last = end - pd.Timedelta(days=h)
        m = (lab.frame["as_of"] <= last) & (
            lab.frame["as_of"] > last - pd.Timedelta(days=params.promotion.window_days)
        )
        m &= lab.frame[t].notna()
        if not m.any():  # the window's as_of dates serve the other head only
            raise UserError(
                f"no labelled {t} snapshots in its promotion window (as_of after "
                f"{last - pd.Timedelta(days=params.promotion.window_days):%Y-%m-%d} up to "
                f"{last:%Y-%m-%d}: the data ends {end:%Y-%m-%d} and a {t} label needs {h} days "
                "after its as_of). Promote on a source with a longer history, or raise "
                "promotion.window_days"
            )
        rows = pd.DataFrame(
            {
                "account_id": lab.frame.loc[m, "account_id"],
                "as_of": lab.frame.loc[m, "as_of"],
                "y": lab.frame.loc[m, t],
                "p": probs.loc[m, t],
            }
        )
        ev = evaluate(
            rows,
            params.evaluation.for_target(t),
            horizon_days=h,
            events=events.get(t),
            csm_of=csm_of(history),
            label=f"promotion {t}",
        )
        e = ev.metrics[metric]
        out[t] = e.value
        out[f"{t}_low"] = e.low
        out[f"{t}_high"] = e.high
        out[f"{t}_positives"] = ev.n_positives
    return out


def missing_families(bundle: Bundle, history: History, params) -> list[str]:
    """The feature families a version's heads split on that the source cannot give (a table
    absent or empty, a column without values, e.g. usage or CSAT in a helpdesk import): scored
    without them, its features read as missing, so its score is not its own."""
    used = used_families(bundle.spec, (h.booster for h in bundle.heads.values()))
    gaps = unavailable_families(history, as_trained(bundle.feature_params, params.features))
    return [f"{k} ({why})" for k, why in sorted(gaps.items()) if k.split(".")[0] in used]


def _with_ci(scores: dict[str, float], t: str) -> str:
    """The score and its interval; '-' where there is none (no positives, no such head)."""
    value = scores.get(t, float("nan"))
    if math.isnan(value):
        return "-"
    low, high = scores.get(f"{t}_low", float("nan")), scores.get(f"{t}_high", float("nan"))
    return f"{value:.4f} [{low:.4f}, {high:.4f}]"


def promote(
    client: MlflowClient,
    history: History,
    params,
    *,
    now: pd.Timestamp,
    force: bool = False,
    reason: str | None = None,
) -> PromotionResult:
    name = params.promotion.model_name
    challenger = alias_version(client, name, CHALLENGER)
    champion = alias_version(client, name, CHAMPION)
    if challenger is None:
        held = f"; version {champion} is champion" if champion is not None else ""
        raise UserError(
            f"{name} has no 'challenger' version{held} (`escrisk train` makes one from a "
            "source with both label tables, escalations and churn; `escrisk models` lists the "
            "versions)"
        )
    if challenger == champion:
        raise UserError(f"version {challenger} is already champion")
    # what the version lacks first: no source can make it champion
    ch_bundle = download_bundle(name, challenger)
    lacking = [t for t in params.model.targets if t not in ch_bundle.heads]
    if lacking:  # the daily run and the service score every head: such a model cannot serve
        raise UserError(
            f"version {challenger} has no head for {lacking} (trained on data without those "
            "labels, e.g. no churn table); `escrisk daily` and the service need every head of "
            "model.targets, so it cannot become champion. Train on data that has them."
        )
    absent = [why for t, why in unavailable_labels(history).items() if t in params.model.targets]
    if absent:  # the gate compares every head of model.targets on this source's labels
        raise UserError(
            f"cannot compare the versions: {'; '.join(absent)}, so their heads for it have no "
            "labels to be scored on. Promote on a source with the escalations and churn tables"
        )
    dates, window = window_dates(history, params)
    metric = params.promotion.primary_metric
    ch_scores = score_version(ch_bundle, history, dates, params)
    cp_bundle, unreadable = None, None
    if champion is not None:
        try:
            cp_bundle = download_bundle(name, champion)
        except UnsupportedBundle as exc:  # an older release's: it cannot serve, nor be scored
            unreadable = (
                f"champion v{champion} replaced without comparison: an older release saved it "
                f"in bundle format {exc.found}, which this version does not read"
            )
    cp_scores = None if cp_bundle is None else score_version(cp_bundle, history, dates, params)
    targets = [t for t in params.model.targets if t in ch_scores]
    blind = [t for t in targets if math.isnan(ch_scores[t])]
    if blind and cp_scores is not None and not force:  # "worse: nan vs nan" decided nothing
        held = ", ".join(f"{t} {int(ch_scores.get(f'{t}_positives', 0))}" for t in blind)
        raise UserError(
            f"cannot compare the versions: {metric} is undefined for {blind} in the promotion "
            f"window ({window}; labelled positives: {held}), e.g. no account churned in it. "
            "Promote on a source whose events reach into the window, or raise "
            "promotion.window_days in params.yaml"
        )
    decision = decide(
        {t: ch_scores[t] for t in targets},
        None if cp_scores is None else {t: cp_scores.get(t, float("nan")) for t in targets},
        params.promotion,
        force=force,
        force_reason=reason,
    )
    if unreadable is not None and not force:  # "first model" would hide the version replaced
        decision = Decision(True, unreadable)
    scores = {f"challenger.{k}": v for k, v in ch_scores.items()}
    if cp_scores:
        scores.update({f"champion.{k}": v for k, v in cp_scores.items()})
    lines = [f"windows {window}; metric {metric} (95% CI by account bootstrap)"]
    cautions: list[str] = []  # also logged with the decision, for whoever reads it in MLflow

    def caution(text: str) -> None:
        lines.append(f"  {text}")
        cautions.append(text)

    overlap = False
    for t in targets:
        old = "-" if cp_scores is None else _with_ci(cp_scores, t)
        lines.append(
            f"  {t}: challenger v{challenger} {_with_ci(ch_scores, t)} | champion "
            f"{('v' + champion) if champion else 'none'} {old} "
            f"({int(ch_scores.get(f'{t}_positives', 0))} labelled positives)"
        )
        if cp_scores is not None and t in cp_scores and cp_scores[t] != ch_scores[t]:
            overlap |= ch_scores[f"{t}_low"] <= cp_scores[t] <= ch_scores[f"{t}_high"]
        few, least = int(ch_scores.get(f"{t}_positives", 0)), params.evaluation.min_positives
        if few < least:  # as train says of its windows
            caution(
                f"warning: {t}: only {few} labelled positives in this window (evaluation."
                f"min_positives = {least}); the scores above are unreliable (promotion.window_days "
                "sets its length)"
            )
    for role, version in (("challenger", challenger), ("champion", champion)):
        seen = None if version is None else fitted_until(client, name, version)
        if seen is not None and dates.min() < seen:
            caution(
                f"warning: the window starts before {seen:%Y-%m-%d}, the end of the data "
                f"{role} v{version} was fitted and calibrated on: its score here is optimistic. "
                "Promote on data newer than both models' training data"
            )
    for role, version, bundle in (
        ("challenger", challenger, ch_bundle),
        ("champion", champion, cp_bundle),
    ):
        gone = [] if bundle is None else missing_families(bundle, history, params)
        if gone:  # `escrisk daily` refuses such a source; the gate scored it all the same
            caution(
                f"warning: {role} v{version} uses features this source cannot give: "
                f"{'; '.join(gone)}. It is scored here without them, so its score says little "
                "of the version. Promote on a source with every table and column both versions use"
            )
    if overlap:
        caution(
            "the champion's score lies within the challenger's 95% interval: this window cannot "
            "tell the two apart with confidence (a retrain with another seed may decide otherwise)"
        )
    # the caveats go into the decision's run too: whoever reads the history there sees them
    apply_promotion(
        client,
        model_name=name,
        challenger=challenger,
        champion=champion,
        promote=decision.promote,
        reason=decision.reason,
        forced=force,
        scores=scores,
        window=window,
        when=now,
        warnings=cautions,
    )
    verdict = (
        f"promoted v{challenger} to champion" if decision.promote else f"kept champion v{champion}"
    )
    lines.append(f"{verdict}: {decision.reason}")
    return PromotionResult(decision, challenger, champion, scores, lines)
