"""`escrisk replay`: the champion model, thresholds and ladder run day by day over history.

Data scientists tune the ladder before go-live with it: how many alerts a week would the CSMs get,
which share of the real escalations and churns would have been flagged, how early, how many flags
led nowhere and how often levels flap. The core is pure: `replay_levels` carries the ladder state
day by day in memory (the same `serving.ladder.decide` the daily job uses, never the user's audit
store, never a notification) and `replay_report` computes the figures from a frame of daily levels
and a frame of events. `run_replay` is the edge (source, MLflow model); `log_replay` logs a run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.contract import History
from features.errors import UserError
from serving.daily_text import day_text, figure, t
from serving.ladder import AccountFacts, LadderState, Signals, decide
from serving.params import LadderParams, Params, ReplayParams
from serving.scoring import ScoringModel
from training.labels import label_ends, new_escalations
from training.params import LabelParams

DAY = pd.Timedelta(days=1)
OVERALL = "overall"
EVENT_KINDS = ("escalation", "churn")

# The report's columns, in order (one row per CSM plus the overall row).
COLUMNS = (
    "group",
    "accounts",
    "account_days",
    "alerts",
    "alerts_per_week",
    "initial_flags",
    "escalations",
    "escalations_flagged",
    "escalation_recall",
    "escalation_lead_days",
    "churns",
    "churns_flagged",
    "churn_recall",
    "churn_lead_days",
    "alerts_judged",
    "alerts_nowhere",
    "nowhere_share",
    "level_changes",
    "flaps",
    "flap_share",
)


# --- scoring all days at once ------------------------------------------------------------------


def daily_risks(model: ScoringModel, frame: pd.DataFrame) -> pd.DataFrame:
    """Calibrated risks of every (account, day) row in one batch per head.

    Replay needs no reasons, so it predicts the raw margin instead of computing SHAP
    contributions; `serving.scoring.score_rows` gives the same risks (tested) because the
    contributions plus the bias are the raw margin.
    """
    X = frame[model.spec.names]
    out = frame[["account_id", "as_of"]].reset_index(drop=True).copy()
    for name, col in (("escalation", "escalation_risk"), ("churn", "churn_risk")):
        head = model.heads[name]
        raw = np.asarray(head.booster.predict(X, raw_score=True), dtype=np.float64)
        out[col] = np.asarray(head.calibrate(raw), dtype=np.float64)
    return out


def rule_features(ladder: LadderParams) -> list[str]:
    """The features the ladder's rules and priority classes name (the only ones it reads)."""
    conds = [c for r in ladder.rules for c in r.when]
    conds += [c for cls in (*ladder.priority.impact, *ladder.priority.urgency) for c in cls.any]
    return sorted({c.feature for c in conds if c.feature is not None})


# --- the ladder, day by day (pure) ---------------------------------------------------------------


def replay_levels(
    scores: pd.DataFrame,
    features: pd.DataFrame,
    facts: Mapping[pd.Timestamp, Mapping[str, AccountFacts]],
    ladder: LadderParams,
    assume_acknowledged: bool,
) -> pd.DataFrame:
    """The ladder's level per (account, day), its state carried from day to day in memory.

    `scores`: account_id, as_of (UTC midnights), escalation_risk, churn_risk; `features`: the
    feature columns the rules read, row-aligned with `scores`; `facts`: day -> account -> facts.
    Each day is evaluated at its midnight, like a back-dated `escrisk daily`. With
    `assume_acknowledged`, a level with a response target counts as acknowledged at its due time
    (the team meets its targets), so only risk, rules and cool-downs move levels.
    """
    names = list(ladder.levels)
    scores = scores.reset_index(drop=True)
    feats = features.reset_index(drop=True)
    order = np.lexsort((scores["account_id"].to_numpy(dtype=object), scores["as_of"].to_numpy()))
    states: dict[str, LadderState] = {}
    esc = scores["escalation_risk"].to_numpy(dtype=np.float64)
    churn = scores["churn_risk"].to_numpy(dtype=np.float64)
    ids = scores["account_id"].to_numpy(dtype=object)
    days: list[pd.Timestamp] = list(pd.DatetimeIndex(scores["as_of"]))
    feat_rows = feats.to_dict("records") if len(feats.columns) else [{}] * len(scores)
    level_idx = np.zeros(len(scores), dtype=np.int64)
    rules = np.empty(len(scores), dtype=object)
    for i in order:
        aid = ids[i]
        day = days[i]
        signals = Signals(
            account_id=aid,
            escalation_risk=float(esc[i]),
            churn_risk=float(churn[i]),
            features=feat_rows[i],
            reason_family=None,
            facts=facts[day][aid],
        )
        previous = states.get(aid)
        if (
            assume_acknowledged
            and previous is not None
            and previous.due_at is not None
            and previous.acknowledged_at is None
        ):
            previous = dataclasses.replace(previous, acknowledged_at=previous.due_at)
        state, decision = decide(signals, previous, ladder, day.to_pydatetime())
        states[aid] = state
        level_idx[i] = names.index(decision.new_level)
        rules[i] = decision.rule
    return pd.DataFrame(
        {
            "account_id": ids,
            "day": pd.DatetimeIndex(days),
            "level": [names[j] for j in level_idx],
            "level_index": level_idx,
            "rule": rules,
            "escalation_risk": esc,
            "churn_risk": churn,
        }
    )


# --- the figures (pure) --------------------------------------------------------------------------


def history_events(history: History) -> pd.DataFrame:
    """Escalations (opened_at) and churns (churned_at) as one frame: account_id, kind, at. A raise
    of a ticket's escalation still open is no escalation of its own, as for the labels
    (`training.labels.new_escalations`): counted, it was one more event to flag in time."""
    parts = []
    if history.escalations is not None:
        e = new_escalations(history.escalations.dropna(subset=["opened_at"]))
        parts.append(
            pd.DataFrame(
                {"account_id": e["account_id"], "kind": "escalation", "at": e["opened_at"]}
            )
        )
    if history.churn is not None:
        c = history.churn.dropna(subset=["churned_at"])
        parts.append(
            pd.DataFrame({"account_id": c["account_id"], "kind": "churn", "at": c["churned_at"]})
        )
    if not parts:
        return pd.DataFrame(
            {
                "account_id": pd.Series(dtype=object),
                "kind": pd.Series(dtype=object),
                "at": pd.Series(dtype="datetime64[ns, UTC]"),
            }
        )
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class ReportSettings:
    """What `replay_report` needs besides the data (from params and the data's extent)."""

    flag_index: int  # levels at this index or above count as flagged
    horizons: Mapping[str, int]  # event kind -> label horizon in days (escalation 30, churn 90)
    flap_days: int
    observed_until: pd.Timestamp  # data end: alerts whose horizon runs past it are not judged
    kinds: tuple[str, ...] = EVENT_KINDS  # event kinds the source records (others are unknown)
    language: str = "en"  # of a refusal


def replay_report(
    levels: pd.DataFrame,
    events: pd.DataFrame,
    owners: Mapping[str, str],
    settings: ReportSettings,
) -> pd.DataFrame:
    """Per CSM and overall: alerts per week, share of events flagged and lead time, flags that led
    nowhere, and flapping. See docs/ladder.md ("Replay") for the exact definitions.

    `levels`: account_id, day (UTC midnights, one row per account and replayed day), level_index.
    `events`: account_id, kind ("escalation" | "churn"), at. `owners`: account id -> CSM.
    """
    lv = levels[["account_id", "day", "level_index"]].sort_values(
        ["account_id", "day"], kind="stable"
    )
    lv = lv.reset_index(drop=True)
    days = pd.DatetimeIndex(lv["day"].unique()).sort_values()
    if not len(days):
        raise UserError(t("replay_no_days", settings.language))
    first, last = days[0], days[-1]
    flag = settings.flag_index

    # level changes after each account's first replayed day
    prev = lv.groupby("account_id", sort=False)["level_index"].shift()
    moved = prev.notna() & (prev != lv["level_index"])
    changes = lv[moved].assign(prev=prev[moved].astype(np.int64))
    changes = changes.assign(direction=np.sign(changes["level_index"] - changes["prev"]))
    alerts = changes[(changes["direction"] > 0) & (changes["level_index"] >= flag)]
    first_day = lv.groupby("account_id", sort=False)["day"].transform("min")
    initial = lv[(lv["day"] == first_day) & (lv["level_index"] >= flag)]

    # flapping: a change followed by the opposite change within flap_days
    nxt_dir = changes.groupby("account_id", sort=False)["direction"].shift(-1)
    nxt_day = changes.groupby("account_id", sort=False)["day"].shift(-1)
    flapped = (
        nxt_dir.notna()
        & (nxt_dir == -changes["direction"])
        & ((nxt_day - changes["day"]) <= pd.Timedelta(days=settings.flap_days))
    )
    changes = changes.assign(flap=flapped.to_numpy())

    # events that the replayed days could have flagged: at in [first day, last day + 1 day)
    active = set(lv["account_id"])
    ev = events[
        events["account_id"].isin(active)
        & events["kind"].isin(settings.kinds)
        & (events["at"] >= first)
        & (events["at"] < last + DAY)
    ].reset_index(drop=True)
    flagged = lv[lv["level_index"] >= flag]
    flagged_days = {aid: _naive(g["day"]) for aid, g in flagged.groupby("account_id", sort=False)}
    hit, lead = [], []
    for aid, kind, at in zip(ev["account_id"], ev["kind"], _naive(ev["at"]), strict=True):
        fd = flagged_days.get(aid)
        lo = at - np.timedelta64(settings.horizons[kind], "D")
        within = None if fd is None else fd[(fd <= at) & (fd > lo)]
        if within is not None and len(within):
            hit.append(True)
            lead.append((at - within.min()) / np.timedelta64(1, "D"))
        else:
            hit.append(False)
            lead.append(np.nan)
    ev = ev.assign(flagged=hit, lead_days=lead)

    # alerts that led nowhere: no event of a known kind within its horizon after the alert
    by_account = {
        aid: g
        for aid, g in events[events["kind"].isin(settings.kinds)].groupby("account_id", sort=False)
    }
    judged, nowhere = [], []
    for aid, alert_day in zip(alerts["account_id"], pd.DatetimeIndex(alerts["day"]), strict=True):
        g = by_account.get(aid)
        followed = False
        complete = True
        for kind in settings.kinds:
            end = alert_day + pd.Timedelta(days=settings.horizons[kind])
            if g is not None:
                times = g.loc[g["kind"] == kind, "at"]
                if ((times >= alert_day) & (times < end)).any():
                    followed = True
            if end > settings.observed_until:
                complete = False
        # judged once its whole horizon is observed, followed or not: judging the alerts an
        # event already followed and not the others left only hits among the recent ones (a
        # replay ending within 90 days of the data said "led nowhere 0%" for every CSM)
        judged.append(complete)
        nowhere.append(complete and not followed)
    alerts = alerts.assign(judged=judged, nowhere=nowhere)

    def owner_of(frame: pd.DataFrame) -> pd.Series:
        return frame["account_id"].map(lambda a: owners.get(a) or "unassigned")

    groups: dict[str, pd.Series] = {
        "lv": owner_of(lv),
        "changes": owner_of(changes),
        "alerts": owner_of(alerts),
        "initial": owner_of(initial),
        "ev": owner_of(ev),
    }
    weeks = len(days) / 7.0
    rows = []
    for name in [*sorted(set(groups["lv"])), OVERALL]:

        def pick(frame: pd.DataFrame, key: str, name: str = name) -> pd.DataFrame:
            return frame if name == OVERALL else frame[(groups[key] == name).to_numpy()]

        g_lv, g_ch, g_al = pick(lv, "lv"), pick(changes, "changes"), pick(alerts, "alerts")
        g_ev = pick(ev, "ev")
        row: dict[str, Any] = {
            "group": name,
            "accounts": int(g_lv["account_id"].nunique()),
            "account_days": len(g_lv),
            "alerts": len(g_al),
            "alerts_per_week": len(g_al) / weeks,
            "initial_flags": len(pick(initial, "initial")),
        }
        for kind, plural in (("escalation", "escalations"), ("churn", "churns")):
            k = g_ev[g_ev["kind"] == kind]
            known = kind in settings.kinds
            row[plural] = len(k) if known else np.nan
            row[f"{plural}_flagged"] = int(k["flagged"].sum()) if known else np.nan
            row[f"{kind}_recall"] = _share(int(k["flagged"].sum()), len(k))
            row[f"{kind}_lead_days"] = (
                float(k["lead_days"].median()) if k["flagged"].any() else np.nan
            )
        row["alerts_judged"] = int(g_al["judged"].sum())
        row["alerts_nowhere"] = int(g_al["nowhere"].sum())
        row["nowhere_share"] = _share(row["alerts_nowhere"], row["alerts_judged"])
        row["level_changes"] = len(g_ch)
        row["flaps"] = int(g_ch["flap"].sum())
        row["flap_share"] = _share(row["flaps"], len(g_ch))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _naive(days: pd.Series) -> np.ndarray:
    """UTC times as naive datetime64[ns], for fast comparisons."""
    return pd.to_datetime(days, utc=True).dt.tz_localize(None).to_numpy("datetime64[ns]")


def _share(part: int, whole: int) -> float:
    return part / whole if whole else np.nan


# --- rendering ----------------------------------------------------------------------------------


def fmt(column: str, value: Any, language: str = "en") -> str:
    """A report cell as text: shares as percentages, days and rates with one decimal, as
    `language` writes them (the markdown artifact keeps English: runs are compared as such)."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if column.endswith(("recall", "share")):
        return figure(value, ".0%", language)
    if column.endswith(("lead_days", "per_week")):
        return figure(value, ".1f", language)
    return f"{int(value)}"


def to_markdown(report: pd.DataFrame, meta: Mapping[str, Any]) -> str:
    """The report as a markdown document: settings first, then one table row per group."""
    lines = ["# Ladder replay", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()]
    lines += ["", "| " + " | ".join(report.columns) + " |", "|" + "---|" * len(report.columns)]
    for r in report.itertuples(index=False):
        lines.append(
            "| " + " | ".join(fmt(c, v) for c, v in zip(report.columns, r, strict=True)) + " |"
        )
    return "\n".join(lines) + "\n"


# --- the edge ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayResult:
    start: dt.date
    end: dt.date
    model_version: str
    levels: pd.DataFrame  # account_id, day, level, level_index, rule, risks
    report: pd.DataFrame  # COLUMNS, one row per CSM then "overall"
    meta: dict[str, Any]


def replay_days(
    start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp, language: str = "en"
) -> pd.DatetimeIndex:
    """The UTC midnights from `start` to `end` (inclusive), checked against the clock; refused
    in `language`."""
    day = day_text(end.date(), language)
    if end < start:
        raise UserError(
            t("replay_to_before", language, day=day, start=day_text(start.date(), language))
        )
    if end > now.normalize():
        raise UserError(
            t("replay_to_future", language, day=day, today=day_text(now.date(), language))
        )
    return pd.date_range(start, end, freq="D")


def covered(
    history: History,
    start: pd.Timestamp,
    end: pd.Timestamp,
    max_lag_days: int | None,
    language: str = "en",
) -> None:
    """UserError when the range reaches beyond the source's data: a day before its oldest row,
    or after its newest one by more whole empty days than `escrisk daily` accepts
    (`daily.max_source_lag_days`; None: not checked), would be replayed as if nothing had
    happened (no tickets read as calm accounts) and skew alerts, recall and flapping."""
    from features.pointintime import empty_days, newest_event

    firsts = [history.tickets["created_at"].min()]
    if history.usage is not None:
        firsts.append(history.usage["date"].min())
    known = [f for f in firsts if pd.notna(f)]
    if known:
        oldest = pd.Timestamp(min(known)).tz_convert("UTC").normalize()
        if start <= oldest:  # a day reads only what is known before its midnight
            words = {"oldest": day_text(oldest.date(), language)}
            words["first"] = day_text((oldest + DAY).date(), language)
            words["day"] = day_text(start.date(), language)
            raise UserError(t("replay_from_before_data", language, **words))
    newest = newest_event(history)
    if max_lag_days is None or newest is None:
        return
    lag = empty_days(newest, end)
    if lag > max_lag_days:
        newest_day = pd.Timestamp(newest).tz_convert("UTC").normalize()
        last = newest_day + pd.Timedelta(days=1 + max_lag_days)
        said: dict[str, Any] = {
            "day": day_text(end.date(), language),
            "newest": day_text(newest_day.date(), language),
            "lag": lag,
            "max_lag": max_lag_days,
            "last": day_text(last.date(), language),
        }
        raise UserError(t("replay_to_after_data", language, **said))


def judged_until(
    history: History, labels: LabelParams, kinds: tuple[str, ...], start: pd.Timestamp
) -> pd.Timestamp:
    """Until when the events of every kind the source records are known: an alert is judged only
    when its horizons end by then. The earliest end of those label tables (`label_ends`, as the
    labels of `escrisk train` have it): an escalations export ending before the tickets says
    nothing of the weeks after it, and an alert there was read as led nowhere. A table without an
    event to tell its end by leaves nothing judged (`start`)."""
    ends = label_ends(history, labels)
    tables = {"escalation": ends["escalation_30d"], "churn": ends["churn_90d"]}
    found = [tables[k].end for k in kinds if k in tables and tables[k].present]
    if not found or any(e is None for e in found):
        return start
    return min(e for e in found if e is not None)


def run_replay(
    history: History,
    model: ScoringModel,
    params: Params,
    start: pd.Timestamp,
    end: pd.Timestamp,
    now: pd.Timestamp,
    source: str = "",
) -> ReplayResult:
    """Features for every day in one `build_features` call, one batch prediction per head, then
    the ladder day by day in memory and the report. Writes nothing anywhere. Refusals in the
    team's language (daily.language): replay has no language option of its own."""
    from features.build import build_features
    from features.pointintime import data_end
    from serving.facts import account_facts
    from serving.ladder import validate_against

    rp: ReplayParams = params.replay
    lang = params.daily.language
    levels_known = list(params.ladder.levels)
    if rp.flag_level not in levels_known:
        words = {"given": rp.flag_level, "levels": levels_known}
        raise UserError(t("replay_flag_level", lang, **words))
    validate_against(params.ladder, model.spec.names)
    days = replay_days(start, end, now, lang)
    covered(history, start, end, params.daily.max_source_lag_days, lang)
    fs = build_features(history, days, model.features(params.features), spec=model.spec)
    frame = fs.frame.reset_index(drop=True)
    if not len(frame):
        span = {"start": day_text(start.date(), lang), "end": day_text(end.date(), lang)}
        raise UserError(t("replay_no_active", lang, source=source or "source", **span))
    scores = daily_risks(model, frame)
    facts = {d: account_facts(history, d, params.features) for d in days}
    levels = replay_levels(
        scores, frame[rule_features(params.ladder)], facts, params.ladder, rp.assume_acknowledged
    )
    events = history_events(history)
    kinds = tuple(
        k
        for k, table in (("escalation", history.escalations), ("churn", history.churn))
        if table is not None
    )
    observed = data_end(history)
    settings = ReportSettings(
        flag_index=levels_known.index(rp.flag_level),
        horizons={"escalation": params.labels.escalation_days, "churn": params.labels.churn_days},
        flap_days=rp.flap_days,
        observed_until=judged_until(history, params.labels, kinds, start),
        kinds=kinds,
        language=lang,
    )
    acc = history.accounts.drop_duplicates("account_id")
    owners = {
        str(a): o if isinstance(o, str) else ""
        for a, o in zip(acc["account_id"], acc["csm_owner"], strict=True)
    }
    report = replay_report(levels, events, owners, settings)
    meta = {
        "source": source,
        "from": start.date().isoformat(),
        "to": end.date().isoformat(),
        "days": len(days),
        "model_version": model.version,
        "flag_level": rp.flag_level,
        "flap_days": rp.flap_days,
        "assume_acknowledged": rp.assume_acknowledged,
        "escalation_horizon_days": params.labels.escalation_days,
        "churn_horizon_days": params.labels.churn_days,
        "event_kinds": ",".join(kinds) or "none",
        "data_end": None if observed is None else observed.isoformat(),
        # the contract keeps no history of them: past days read today's (docs/ladder.md)
        "account_attributes": "as exported, not as of each day",
    }
    return ReplayResult(start.date(), end.date(), model.version, levels, report, meta)


def ladder_settings(ladder: LadderParams) -> dict[str, str]:
    """The ladder's tunables as flat MLflow params (entry thresholds, hysteresis, timeouts, rules)."""
    out: dict[str, str] = {}
    for name, level in ladder.levels.items():
        if level.entry is not None:
            out[f"ladder.{name}.escalation_risk"] = str(level.entry.escalation_risk)
            out[f"ladder.{name}.churn_risk"] = str(level.entry.churn_risk)
        # when a level times out (replay.assume_acknowledged: false): runs differing only in
        # these must not look alike
        out[f"ladder.{name}.response_hours"] = str(level.response_hours)
        out[f"ladder.{name}.business_hours"] = str(level.business_hours)
    out["ladder.hysteresis.margin"] = str(ladder.hysteresis.margin)
    out["ladder.hysteresis.cooldown_days"] = str(ladder.hysteresis.cooldown_days)
    out["ladder.timeout.max_repeats"] = str(ladder.timeout.max_repeats)
    out["ladder.timeout.while_cooling_down"] = str(ladder.timeout.while_cooling_down)
    for rule in ladder.rules:
        conds = "; ".join(f"{c.subject} {c.op} {c.value}" for c in rule.when)
        out[f"ladder.rule.{rule.name}"] = f"{conds} -> {rule.min_level}"[:500]
    return out


def overall_metrics(report: pd.DataFrame) -> dict[str, float]:
    """The overall row's figures as MLflow metrics (unknown ones, NaN, are left out)."""
    row = report[report["group"] == OVERALL].iloc[0]
    out = {}
    for col in COLUMNS[1:]:
        v = row[col]
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            out[col] = float(v)
    return out


def log_replay(
    result: ReplayResult,
    ladder: LadderParams,
    experiment: str,
    tracking_uri: str,
    params_file: str | None = None,
) -> str:
    """One MLflow run: params (replay and ladder settings, and the params file they came from:
    `--params tuned.yaml` is how a threshold is tried), the overall figures as metrics, and
    the report as markdown and CSV plus the level changes as CSV. Returns the run id."""
    import tempfile
    from pathlib import Path

    import mlflow

    from training.registry import use_experiment

    mlflow.set_tracking_uri(tracking_uri)
    use_experiment(experiment)  # its artifacts beside a SQLite store, not in the working folder
    name = f"replay {result.start}..{result.end}"
    with mlflow.start_run(run_name=name) as run, tempfile.TemporaryDirectory() as tmp:
        told = {k: str(v) for k, v in result.meta.items()}
        if params_file is not None:
            told["params_file"] = params_file[:500]  # MLflow's longest param value
        mlflow.log_params({**told, **ladder_settings(ladder)})
        mlflow.set_tag("kind", "replay")
        mlflow.log_metrics(overall_metrics(result.report))
        d = Path(tmp)
        (d / "replay.md").write_text(to_markdown(result.report, result.meta), encoding="utf-8")
        result.report.to_csv(d / "replay_by_csm.csv", index=False)
        lv = result.levels.sort_values(["account_id", "day"], kind="stable")
        prev = lv.groupby("account_id", sort=False)["level"].shift()
        changes = lv[prev.notna() & (prev != lv["level"])].assign(previous=prev)
        changes[
            ["account_id", "day", "previous", "level", "rule", "escalation_risk", "churn_risk"]
        ].to_csv(d / "level_changes.csv", index=False)
        mlflow.log_artifacts(str(d), "replay")
    return str(run.info.run_id)


def report_rows(
    report: pd.DataFrame, columns: Sequence[str], language: str = "en"
) -> list[list[str]]:
    """The report's cells as text in `language`, for the terminal table."""
    return [[fmt(c, r[c], language) for c in columns] for _, r in report.iterrows()]
