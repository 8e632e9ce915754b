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
from features.version import differs, stamp, stamp_text
from training.bundle import Bundle, UnsupportedBundle, used_families
from training.labels import label_ends
from training.metrics import evaluate, paired_difference
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
    registered,
)
from training.text import Joined, Said, absence, said, shown, t


@dataclass(frozen=True)
class PromotionResult:
    decision: Decision
    challenger: str
    champion: str | None
    scores: dict[str, float]
    lines: list[str]  # in the language asked for; MLflow keeps the English


def window_dates(history: History, params, lang: str = "en") -> tuple[pd.DatetimeIndex, str]:
    if data_end(history) is None:
        raise UserError(t("no_events", lang))
    grid = as_of_grid(history, params.features)
    hz = horizons(params.labels)
    ends = label_ends(history, params.labels)
    keep = pd.Series(False, index=range(len(grid)))
    told = []
    for target, h in hz.items():
        end = ends[target].end
        if end is None:  # no table, or no event in it: the head has no labels (told when scored)
            continue
        last = end - pd.Timedelta(days=h)
        mine = (grid <= last) & (grid > last - pd.Timedelta(days=params.promotion.window_days))
        keep |= pd.Series(mine)
        if mine.any():  # each head is scored on its own window: its labels end at its table's end
            told.append(f"{target} {grid[mine].min():%Y-%m-%d}..{grid[mine].max():%Y-%m-%d}")
    dates = grid[keep.to_numpy()]
    if len(dates) == 0:
        raise UserError(t("no_window", lang))
    return dates, ", ".join(told)


def score_version(
    bundle: Bundle,
    history: History,
    dates: pd.DatetimeIndex,
    params,
    lang: str = "en",
    scored: dict[str, pd.DataFrame] | None = None,
) -> dict[str, float]:
    """target -> primary metric of this bundle on the window (plus CI bounds for the log);
    `scored`, when given, receives each head's rows (account_id, as_of, y, p) for the paired
    comparison."""
    own = as_trained(bundle.feature_params, params.features)  # each version as it was trained
    lab = labelled_features(history, params, as_of=dates, spec=bundle.spec, features=own)
    if lab.data_end is None:
        raise UserError(t("no_events", lang))
    probs = bundle.predict(lab.frame)
    out: dict[str, float] = {}
    events = target_events(history)
    metric = params.promotion.primary_metric
    for target, h in horizons(params.labels).items():
        if target not in bundle.heads:
            continue
        label_end = lab.ends[target]
        end = label_end.end if label_end.end is not None else lab.data_end
        last = end - pd.Timedelta(days=h)
        m = (lab.frame["as_of"] <= last) & (
            lab.frame["as_of"] > last - pd.Timedelta(days=params.promotion.window_days)
        )
        m &= lab.frame[target].notna()
        if (
            label_end.present and label_end.end is None
        ):  # rule "table" or "auto", and no event in it
            raise UserError(
                t("no_table_end", lang, target=target, table=label_end.table,
                  setting=label_end.setting, rule=label_end.rule)
            )  # fmt: skip
        if not m.any():  # the window's as_of dates serve the other head only
            start = last - pd.Timedelta(days=params.promotion.window_days)
            raise UserError(
                t(
                    "no_labelled_window",
                    lang,
                    target=target,
                    start=f"{start:%Y-%m-%d}",
                    last=f"{last:%Y-%m-%d}",
                    end=f"{end:%Y-%m-%d}",
                    table=label_end.table,
                    days=h,
                )  # fmt: skip
            )
        rows = pd.DataFrame(
            {
                "account_id": lab.frame.loc[m, "account_id"],
                "as_of": lab.frame.loc[m, "as_of"],
                "y": lab.frame.loc[m, target],
                "p": probs.loc[m, target],
            }
        )
        if scored is not None:
            scored[target] = rows
        ev = evaluate(
            rows,
            params.evaluation.for_target(target),
            horizon_days=h,
            events=events.get(target),
            csm_of=csm_of(history),
            label=f"promotion {target}",
        )
        e = ev.metrics[metric]
        out[target] = e.value
        out[f"{target}_low"] = e.low
        out[f"{target}_high"] = e.high
        out[f"{target}_positives"] = ev.n_positives
    return out


def missing_families(bundle: Bundle, history: History, params) -> list[Said]:
    """The feature families a version's heads split on that the source cannot give (a table
    absent or empty, a column without values, e.g. usage or CSAT in a helpdesk import): scored
    without them, its features read as missing, so its score is not its own."""
    used = used_families(bundle.spec, (h.booster for h in bundle.heads.values()))
    gaps = unavailable_families(history, as_trained(bundle.feature_params, params.features))
    return [
        said("family_why", family=k, why=absence(why))
        for k, why in sorted(gaps.items())
        if k.split(".")[0] in used
    ]


def _with_ci(scores: dict[str, float], target: str, lang: str = "en") -> str:
    """The score and its interval; '-' where there is none (no positives, no such head)."""
    value = scores.get(target, float("nan"))
    if math.isnan(value):
        return "-"
    low = scores.get(f"{target}_low", float("nan"))
    high = scores.get(f"{target}_high", float("nan"))
    return t("with_ci", lang, value=value, low=low, high=high)


@dataclass(frozen=True)
class Contenders:
    challenger: str  # the version compared: 'challenger', or the one asked for by number
    champion: str | None
    aliases: dict[str, str | None]  # what the aliases held when read: a change meanwhile is told


def contenders(
    client: MlflowClient, name: str, version: str | None = None, lang: str = "en"
) -> Contenders:
    """The versions promote compares, read from the registry alone: the command asks before it
    reads the source, which took minutes to load before a version that is not there (`--version
    9`), a missing challenger or one that is champion already was told."""
    challenger = alias_version(client, name, CHALLENGER)
    champion = alias_version(client, name, CHAMPION)
    aliases = {CHALLENGER: challenger, CHAMPION: champion}
    if version is not None:
        if not registered(client, name, version):
            raise UserError(t("no_version", lang, model=name, version=version))
        challenger = version
    if challenger is None:
        if champion is None:
            raise UserError(t("no_challenger", lang, model=name))
        raise UserError(t("no_challenger_held", lang, model=name, champion=champion))
    if challenger == champion:
        raise UserError(t("already_champion", lang, version=challenger))
    return Contenders(challenger, champion, aliases)


def promote(
    client: MlflowClient,
    history: History,
    params,
    *,
    now: pd.Timestamp,
    force: bool = False,
    reason: str | None = None,
    language: str = "en",
    version: str | None = None,
    chosen: Contenders | None = None,
) -> PromotionResult:
    """The gate's decision, logged to MLflow in English; `lines` and errors in `language`.
    `version` is compared in place of the 'challenger' version (`--version`: a roll-back to an
    earlier champion), which keeps its alias. `chosen`: the `contenders` read already (from
    `version`), else they are read here."""
    lang = language
    name = params.promotion.model_name
    chosen = chosen or contenders(client, name, version, lang)
    challenger, champion, aliases = chosen.challenger, chosen.champion, chosen.aliases
    # what the version lacks first: no source can make it champion
    ch_bundle = download_bundle(name, challenger)
    lacking = [t for t in params.model.targets if t not in ch_bundle.heads]
    if lacking:  # the daily run and the service score every head: such a model cannot serve
        raise UserError(t("lacking_head", lang, version=challenger, lacking=str(lacking)))
    absent = [why for t, why in unavailable_labels(history).items() if t in params.model.targets]
    if absent:  # the gate compares every head of model.targets on this source's labels
        raise UserError(t("labels_absent", lang, absent=Joined(absent, "; ")))
    dates, window = window_dates(history, params, lang)
    metric = params.promotion.primary_metric
    ch_rows: dict[str, pd.DataFrame] = {}
    cp_rows: dict[str, pd.DataFrame] = {}
    ch_scores = score_version(ch_bundle, history, dates, params, lang, ch_rows)
    cp_bundle: Bundle | None = None
    unreadable: Said | None = None
    if champion is not None:
        try:
            cp_bundle = download_bundle(name, champion)
        except UnsupportedBundle as exc:  # an older release's: it cannot serve, nor be scored
            unreadable = said("unreadable_champion", champion=champion, found=exc.found)
    cp_scores = (
        None
        if cp_bundle is None
        else score_version(cp_bundle, history, dates, params, lang, cp_rows)
    )
    targets = [t for t in params.model.targets if t in ch_scores]
    blind = [t for t in targets if math.isnan(ch_scores[t])]
    if blind and cp_scores is not None and not force:  # "worse: nan vs nan" decided nothing
        held = ", ".join(f"{t} {int(ch_scores.get(f'{t}_positives', 0))}" for t in blind)
        raise UserError(
            t("undefined_metric", lang, metric=metric, blind=str(blind), window=window, held=held)
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
    lines = [t("windows", lang, window=window, metric=metric)]
    cautions: list[str] = []  # also logged with the decision, for whoever reads it in MLflow

    def caution(key: str, **values) -> None:  # printed in the language, logged in English
        lines.append("  " + t(key, lang, **values))
        cautions.append(t(key, "en", **values))

    tied: list[str] = []  # heads whose difference's interval holds 0
    for target in targets:
        old = "-" if cp_scores is None else _with_ci(cp_scores, target, lang)
        held_by = f"v{champion}" if champion else t("no_champion", lang)
        few, least = int(ch_scores.get(f"{target}_positives", 0)), params.evaluation.min_positives
        new = _with_ci(ch_scores, target, lang)
        lines.append(
            "  " + t(
                "compare", lang, target=target, challenger=challenger, new=new,
                champion=held_by, old=old, positives=few,
            )
        )  # fmt: skip
        theirs = math.nan if cp_scores is None else cp_scores.get(target, math.nan)
        if target in cp_rows and not math.isnan(theirs):
            # both versions err on the same accounts: their own intervals overlap where the
            # difference's, from one bootstrap of both, can lie wholly on one side of 0
            diff = paired_difference(
                cp_rows[target], ch_rows[target], params.evaluation.for_target(target), metric
            )
            scores[f"difference.{target}"] = diff.value
            scores[f"difference.{target}_low"] = diff.low
            scores[f"difference.{target}_high"] = diff.high
            lines.append(
                "    " + t("difference", lang, value=diff.value, low=diff.low, high=diff.high)
            )
            if diff.low <= 0 <= diff.high and diff.low < diff.high:
                tied.append(target)
        if few < least:  # as train says of its windows
            caution("few_positives", target=target, few=few, least=least)
    for role, version in (("challenger", challenger), ("champion", champion)):
        seen = None if version is None else fitted_until(client, name, version)
        if seen is not None and dates.min() < seen:
            caution("optimistic", seen=f"{seen:%Y-%m-%d}", role=role, version=version)
    this_code = stamp_text(stamp())
    for role, version, bundle in (
        ("challenger", challenger, ch_bundle),
        ("champion", champion, cp_bundle),
    ):
        gone = [] if bundle is None else missing_families(bundle, history, params)
        if gone:  # `escrisk daily` refuses such a source; the gate scored it all the same
            caution("missing_features", role=role, version=version, gone=Joined(gone, "; "))
        if bundle is not None and other_feature_code(bundle):
            # scored here with features it never learnt from: its figures are low for that
            trained = stamp_text(bundle.feature_code or {})
            caution(
                "other_feature_code", role=role, version=version, trained=trained, now=this_code
            )
    if tied:
        caution("overlap", targets=Joined(tied, ", "))
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
        aliases=aliases,
    )
    told = shown(decision.reason, lang)  # MLflow's `reason` tag above stays in English
    lines.append(
        t("promoted", lang, challenger=challenger, reason=told)
        if decision.promote
        else t("kept", lang, champion=champion, reason=told)
    )
    return PromotionResult(decision, challenger, champion, scores, lines)


def other_feature_code(bundle: Bundle) -> bool:
    """Whether `bundle` was trained on features this installation computes otherwise (an upgrade
    since), or did not record which: scored by promote with today's code, its figures understate
    it, and the comparison leans to the other version."""
    return bundle.feature_code is None or differs(bundle.feature_code, stamp())
