"""`escrisk daily`: score every active account with the champion, explain, apply the ladder, store
the day, and write the ranked risk list (CSV) and the HTML report.

The job's edges are here (the source, MLflow, the database, the output folder, the clock passed in
by the command); the computing is in pure modules: `features.build` (the one feature path),
`serving.reasons`, `serving.ladder`, `serving.risklist`, `serving.drift`,
`serving.historykpis`, `serving.kpis` and `serving.report_html`.

Idempotent: a second run of the same day decides against the state the first run left, so it
records no second level change and queues no second message; the day's stored scores and list
are replaced, not duplicated.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.build import build_features
from features.context import Absence
from features.errors import UserError
from features.params import FeatureParams, changed_settings
from features.pointintime import newest_event
from serving.daily_text import day_text, t
from serving.dailystore import DailyStore
from serving.drift import DriftReport, drift_report, main_features
from serving.facts import account_facts
from serving.historykpis import history_kpis
from serving.kpis import window_kpis
from serving.ladder import Signals, as_utc, validate_against
from serving.ladder_text import next_action
from serving.ladderbatch import LadderOutcome, evaluate_many, subject_columns
from serving.model import feature_code_warning
from serving.params import Params
from serving.reasons import (
    Reasons,
    RowReasons,
    change_attribution,
    chosen_reasons,
    known_and_display,
    margin_shares,
    render_change,
    retold,
    split_contrib,
    to_probability,
    why_changed,
)
from serving.risklist import (
    csv_frame,
    deltas,
    filter_tag,
    filtered,
    level_changed,
    priority,
    rank,
    reasons_cell,
    reasons_cells,
    write_csv,
)
from serving.runlock import daily_lock
from serving.scoring import ScoringModel, contributions, frame_rows
from serving.sourcecheck import column_gaps, source_gaps, usage_reach, used_families
from serving.store import JsonText, existing_tables, open_for_writing

CHUNK = 20_000  # rows per predict/contribution call: bounded memory, visible progress


@dataclass(frozen=True)
class Champion:
    model: ScoringModel
    reference: dict[str, Any] | None  # the training distribution (None: bundle predates it)


@dataclass
class DailyResult:
    day: dt.date
    evaluated_at: dt.datetime
    ranked: (
        pd.DataFrame
    )  # every scored account, ranked, with tier/arr/priority beside the CSV columns
    shown: pd.DataFrame  # after the filters (texts in each account's language, as the CSV)
    printed: pd.DataFrame  # the terminal's rows of `shown`, told in the run's language
    csv_path: Path
    html_path: Path
    ladder: LadderOutcome
    drift: DriftReport | None
    delivery: Any = None
    seconds: dict[str, float] = field(default_factory=dict)
    unavailable: dict[str, Absence] = field(default_factory=dict)  # feature families left out
    newest_event: pd.Timestamp | None = None  # the source's latest event (a usage day at its start)
    pruned: int = 0  # stored run days deleted as older than daily.keep_days
    # what the source lacked (--allow-incomplete), in the run's language
    gaps: list[str] = field(default_factory=list)
    not_yet: int = 0  # accounts of the source whose contract starts after the day: not scored
    gone: int = 0  # accounts of the source that churned before the day: not scored
    # accounts on the previous run's list that the source no longer has (their levels stay)
    vanished: list[str] = field(default_factory=list)
    # features.* settings of params.yaml the champion was not trained with (its own are used)
    not_trained: list[str] = field(default_factory=list)
    # the champion trained on features of other code than this installation's (or of unrecorded
    # code): the warning, in the run's language; None when they agree
    feature_code: str | None = None
    # feature -> what it means, in the run's language (the report's and terminal's names)
    labels: dict[str, str] = field(default_factory=dict)


# --- the champion ------------------------------------------------------------------------------


def load_champion(tracking_uri: str, model_name: str, language: str = "en") -> Champion:
    """The champion's bundle with its training reference (from the bundle, else from the run's
    `reference/` artifacts); refusals in `language`."""
    import mlflow

    from serving.model import champion_bundle, read_champion, scoring_model
    from training.bundle import REFERENCE_FILE, read_reference

    version, directory = champion_bundle(tracking_uri, model_name, language)
    bundle = read_champion(directory, model_name, version, language)
    model = scoring_model(bundle, f"{model_name}/{version}")
    reference = read_reference(directory)
    if reference is None:
        mv = mlflow.MlflowClient().get_model_version(model_name, version)
        if mv.run_id:
            try:
                path = mlflow.artifacts.download_artifacts(
                    run_id=mv.run_id, artifact_path=f"reference/{REFERENCE_FILE}"
                )
                reference = read_reference(Path(path).parent)
            except Exception:  # noqa: BLE001 (no such artifact: the report says drift is unknown)
                reference = None
    return Champion(model, reference)


# --- scoring and explaining (pure) -----------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    escalation_risk: np.ndarray
    churn_risk: np.ndarray
    contributions: np.ndarray  # escalation head, probability scale, rows x features
    ranked: Reasons  # both heads' top reasons per row, as arrays (`Reasons.dicts` for dicts)


def score_and_explain(
    model: ScoringModel,
    frame: pd.DataFrame,
    languages: list[str],
    top_k: int,
    advance: Callable[[int], None] = lambda n: None,
) -> Scored:
    """Calibrated risks, probability-scale contributions and rendered reasons, in chunks."""
    X = frame[model.spec.names]
    n = len(X)
    risks = {h: np.empty(n) for h in ("escalation", "churn")}
    esc_contrib = np.empty((n, len(model.spec.names)))
    chunks: list[Reasons] = []
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        part = X.iloc[lo:hi]
        display = known_and_display(part, model.spec)  # read once for both heads
        heads = []
        for name in ("escalation", "churn"):
            head = model.heads[name]
            raw, bias = split_contrib(contributions(head.booster, part))
            c = to_probability(raw, bias, head.calibrate)
            risks[name][lo:hi] = c.risk
            if name == "escalation":
                esc_contrib[lo:hi] = c.prob
            heads.append(chosen_reasons(name, c.prob, display, model.spec, languages[lo:hi], top_k))
        chunks.append(Reasons.joined(heads, axis=1))
        advance(hi - lo)
    reasons = Reasons.joined(chunks, axis=0) if chunks else Reasons.none(model.spec, 0)
    return Scored(risks["escalation"], risks["churn"], esc_contrib, reasons)


def evaluation_time(as_of: pd.Timestamp, now: pd.Timestamp) -> pd.Timestamp:
    """The ladder's clock: now during the as_of day (the normal daily run), else the as_of
    midnight (a back-dated run replays that day, and a rerun gives the same decisions)."""
    if as_of <= now < as_of + pd.Timedelta(days=1):
        return now
    return as_of


# --- the job ---------------------------------------------------------------------------------


class _Steps:
    """Rich progress: one bar per step, advanced by rows where a step works in chunks."""

    def __init__(self, progress: Any, language: str) -> None:
        self.progress = progress
        self.language = language
        self.seconds: dict[str, float] = {}
        self.frozen = False  # inside _frozen_heap: each step first freezes what is alive

    @contextmanager
    def step(self, key: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        if self.frozen:
            gc.freeze()
        task = None
        if self.progress is not None:
            task = self.progress.add_task(t(key, self.language), total=total)
        start = time.perf_counter()

        def advance(n: int) -> None:
            if task is not None:
                self.progress.advance(task, n)

        yield advance
        self.seconds[key.removeprefix("step_")] = time.perf_counter() - start
        if task is not None:
            self.progress.update(task, total=total or 1, completed=total or 1)


@contextmanager
def _frozen_heap(steps: _Steps) -> Iterator[None]:
    """The objects alive when a step starts (the history, the day's frames, reasons, signals) are
    not garbage: keep the cyclic collector from rescanning them at each of its many collections
    while the steps after the features allocate a few objects per account (5-20% of those
    steps' time), and off within the steps, whose records (signals, states, decisions: several
    per account) hold no cycles but set off its full collections (0.7-1.1 s of the ladder step
    at 100,000 accounts). What the steps leave as garbage waits for the end of the job. The
    features step is left as the floor measures it."""
    steps.frozen = True
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        steps.frozen = False
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def _owners_json(decisions: list[Any]) -> list[JsonText]:
    """Each decision's owners as a JSON list, rendered once per distinct owner list."""
    seen: dict[tuple[str, ...], JsonText] = {}
    return [
        seen.get(d.owners) or seen.setdefault(d.owners, JsonText(json.dumps(list(d.owners))))
        for d in decisions
    ]


def level_named(given: str, levels: list[str], language: str = "en") -> str:
    """The ladder level `--min-level` names: typed as listed, else in any case when that names
    just one (`l2` for L2); UserError listing the levels otherwise, in `language`."""
    if given in levels:
        return given
    same = [lv for lv in levels if lv.casefold() == given.casefold()]
    if len(same) != 1:
        raise UserError(t("unknown_level", language, given=given, levels=", ".join(levels)))
    return same[0]


def run_daily(
    source: str, params: Params, *, database_url: str, language: str | None = None, **rest: Any
) -> DailyResult:
    """Everything `escrisk daily` does (`_run_daily`'s arguments), one run at a time per
    database: the check that refuses a day before the latest run is made at the start, so a run
    started while another was still working passed it and could store its day after a later
    one. A RunBusy (a UserError) at once, nothing done, while another run holds the lock."""
    lang = language or params.daily.language
    with daily_lock(database_url, lang):
        return _run_daily(source, params, database_url=database_url, language=language, **rest)


def _run_daily(
    source: str,
    params: Params,
    *,
    database_url: str,
    tracking_uri: str,
    now: pd.Timestamp,
    as_of: pd.Timestamp | None = None,
    out: Path = Path("reports"),
    owner: str | None = None,
    min_level: str | None = None,
    top: int | None = None,
    language: str | None = None,
    send: bool = False,
    notifiers: Any = None,
    smtp_password: str | None = None,
    progress: Any = None,
    champion: Champion | None = None,
    history: Any = None,
    allow_incomplete: bool = False,
) -> DailyResult:
    """Everything `escrisk daily` does. `now` is the run's clock; `as_of` defaults to its day."""
    from features.sources import load_history

    started = time.monotonic()

    def wall_clock() -> dt.datetime:
        """`now` moved on by the time the run has taken: delivery claims each message when it
        reaches it (stamped `now`, taken before scoring, a claim looked stale at once)."""
        return (now + pd.Timedelta(seconds=time.monotonic() - started)).to_pydatetime()

    p = params.daily
    lang = language or p.language
    levels = list(params.ladder.levels)
    if min_level is not None:
        min_level = level_named(min_level, levels, lang)
    as_of = (as_of if as_of is not None else now).tz_convert("UTC").normalize()
    # not even tomorrow (which /score allows, as it keeps nothing): the ladder would record its
    # decisions at a midnight still to come, acknowledgements would come before them, and today's
    # run would be refused as a day before the latest
    if as_of > now.normalize():
        today = day_text(now.tz_convert("UTC").date(), lang)
        raise UserError(t("as_of_future", lang, day=day_text(as_of.date(), lang), today=today))
    day = as_of.date()
    out = Path(out)
    # before anything is stored or sent: a failed run must leave nothing behind
    _writable(out, lang)
    _drop_stale_partials(out)
    steps = _Steps(progress, lang)
    # read without creating anything: a run refused below must not leave an empty store behind
    probe = open_for_writing(database_url, create=False)
    try:
        runs = DailyStore(probe)  # a store that may not create creates nothing
        tables = existing_tables(probe)
        last = runs.runs(limit=1) if runs.t["daily_runs"].name in tables else []
        latest = last[0]["day"] if last else None
        # what the latest run decided stays: a rerun at (or before) its moment adds nothing
        settled = last[0]["evaluated_at"] if last else None
        lost = _unknown_levels(probe, levels) if probe.t["ladder_state"].name in tables else {}
    finally:
        probe.close()
    if latest is not None and day < latest:
        words = {"day": day_text(day, lang), "latest": day_text(latest, lang)}
        raise UserError(t("as_of_before_latest", lang, **words))
    if lost:
        found = ", ".join(f"{lv!r}: {n}" for lv, n in sorted(lost.items()))
        raise UserError(t("unknown_stored_levels", lang, found=found, levels=levels))
    if tables:  # a store of an older version is brought up to date now, or refused (a role
        # without DDL rights: StoreOutdated) before the minutes of loading and scoring
        open_for_writing(database_url).close()

    with steps.step("step_load"):
        history = history if history is not None else load_history(source, params.contract, now)
    with steps.step("step_model"):
        champ = champion or load_champion(tracking_uri, params.promotion.model_name, lang)
    model = champ.model
    # a rule on a feature the model lacks would never fire: refuse before anything is stored
    validate_against(params.ladder, model.spec.names)
    with steps.step("step_features"):
        # timed with the features: the check reads the same history
        used = used_families(model)
        built_with = model.features(params.features)  # the champion's own settings
        reach = usage_reach(built_with) if p.max_source_lag_days is not None else 0
        gaps = source_gaps(history, as_of, used, p.max_source_lag_days, lang, reach)
        gaps += column_gaps(history, model, built_with, lang)
        if gaps and not allow_incomplete:
            words = {"source": source, "day": day_text(day, lang), "gaps": "\n  ".join(gaps)}
            raise UserError(t("source_incomplete", lang, **words))
        fs = build_features(history, [as_of], built_with, spec=model.spec)
        frame = fs.frame.reset_index(drop=True)
    with _frozen_heap(steps):
        if not len(frame):
            raise UserError(t("no_active", lang, source=source, day=day_text(day, lang)))
        store = open_for_writing(database_url)  # the checks that may refuse the run passed
        daily = DailyStore(store)
        # `escrisk audit` tells the reasons of the level changes below with these settings
        settings = built_with.model_dump(mode="json")
        store.keep_model_settings(model.version, settings, now.to_pydatetime())
        accounts = history.accounts.drop_duplicates("account_id").set_index("account_id")
        not_yet = int((accounts["contract_start"] > as_of).sum())
        ids = frame["account_id"].tolist()
        acc = accounts.loc[ids]
        langs = [lv if lv in ("en", "de") else "en" for lv in acc["language"].astype(str)]
        with steps.step("step_score", total=len(frame)) as advance:
            scored = score_and_explain(model, frame, langs, p.top_reasons, advance)

        X = frame[model.spec.names]
        at = evaluation_time(as_of, now).to_pydatetime()
        with steps.step("step_ladder", total=len(frame)) as advance:
            # the ladder's inputs (facts, signals) are part of its cost: timed with it
            facts = account_facts(history, as_of, params.features)
            fact_rows = [facts[aid] for aid in ids]
            feature_columns, feature_rows = frame_rows(X)
            esc_list, churn_list = scored.escalation_risk.tolist(), scored.churn_risk.tolist()
            families = scored.ranked.families()
            signals = [
                Signals(
                    account_id=aid,
                    escalation_risk=esc_list[i],
                    churn_risk=churn_list[i],
                    features=feature_rows[i],
                    reason_family=families[i],
                    facts=fact_rows[i],
                    reasons=RowReasons(scored.ranked, i),  # dicts only where read
                )
                for i, aid in enumerate(ids)
            ]
            # what the ladder's conditions read, as columns: no per-account attribute access
            subjects = subject_columns(
                params.ladder,
                {"escalation_risk": scored.escalation_risk, "churn_risk": scored.churn_risk},
                fact_rows,
                feature_columns.get,
            )
            outcome = evaluate_many(
                store,
                signals,
                params.ladder,
                params.notifications,
                at,
                model.version,
                advance=advance,
                subjects=subjects,
                settled=settled,
            )

        with steps.step("step_store", total=len(frame)):
            previous = daily.runs(before=day, limit=1)
            prev = previous[0] if previous else None
            week = daily.run_on_or_before(day - dt.timedelta(days=p.delta_days))
            same_model = (
                prev is not None
                and prev["model_version"] == model.version
                and list(prev["feature_names"]) == model.spec.names
            )
            # the previous run's scores and (same model only) contributions, in one read
            prev_scores, prev_contrib = (
                daily.scores_and_contributions(
                    prev["day"], len(model.spec.names) if same_model else None
                )
                if prev
                else (None, {})
            )
            if week is not None and prev is not None and week["day"] == prev["day"]:
                week_scores = prev_scores  # the last run is also the one a week back
            else:
                week_scores = daily.scores(week["day"]) if week else None
            esc = pd.Series(scored.escalation_risk, index=ids)
            d_prev = deltas(esc, None if prev_scores is None else prev_scores["escalation_risk"])
            d_7d = deltas(esc, None if week_scores is None else week_scores["escalation_risk"])
            prev_levels = {} if prev_scores is None else prev_scores["level"].to_dict()
            vanished = (
                []
                if prev_scores is None
                else sorted(set(prev_scores.index.astype(str)) - set(accounts.index.astype(str)))
            )
            d_prev_values = d_prev.to_numpy(dtype=float)
            n = len(ids)
            # why it changed: only where the change is large enough to be told (why_changed
            # returns "" below min_delta), and with the same model only where yesterday's
            # contributions are known
            whys = [""] * n
            told = ~np.isnan(d_prev_values) & (np.abs(d_prev_values) >= p.why_changed_min_delta)
            values = {c: frame[c].to_numpy() for c in model.spec.names} if told.any() else {}
            moved: dict[str, np.ndarray] = {}
            margins: dict[str, np.ndarray] = {}  # per account, each feature's margin change
            if prev is not None and same_model and told.any():
                now_rows, then_rows = features_before(
                    history, frame, np.flatnonzero(told), prev["day"], built_with, model
                )
                moved = moved_features(now_rows, then_rows)
                margins = margin_changes(model, now_rows, then_rows)
            # the previous run's day, as each language writes it
            since_day = {lg: day_text(prev["day"], lg) for lg in {*langs, lang}} if prev else {}

            # what each told change was made of, for the CSM page to tell it in its own language
            why_parts: list[str | None] = [None] * n

            def change_told(i: int, lg: str) -> str:
                """Why account `i`'s risk changed, in `lg` ("" where it is not told)."""
                aid, delta = ids[i], float(d_prev_values[i])
                assert prev is not None  # a delta needs a previous run
                told_as: dict[str, Any] = {"delta": delta, "since": prev["day"].isoformat()}
                if not same_model:
                    old, new = prev["model_version"], model.version
                    why_parts[i] = json.dumps({**told_as, "old": old, "new": new})
                    return t("why_model", lg, delta=delta, since=since_day[lg], old=old, new=new)
                # split as the margin moved; else (no rebuilt previous day) as the stored
                # probability-scale contributions moved
                change = margin_shares(margins[aid], delta) if aid in margins else None
                if change is None:
                    if aid not in prev_contrib:
                        return ""
                    change = change_attribution(prev_contrib[aid], scored.contributions[i])
                today = {c: v[i] for c, v in values.items()}
                parts = why_changed(
                    change, today, model.spec, lg, p.why_changed_features, moved.get(aid)
                )
                kept = [{k: q[k] for k in ("feature", "change", "value")} for q in parts]
                why_parts[i] = json.dumps({**told_as, "parts": kept})
                return render_change(delta, since_day[lg], parts, lg)

            for i in np.flatnonzero(told).tolist():
                whys[i] = change_told(i, langs[i])
            levels_now = [d.new_level for d in outcome.decisions]
            flag: dict[tuple[str | None, str], str] = {}
            changed_flags = []
            for aid, lv in zip(ids, levels_now, strict=True):
                key = (prev_levels.get(aid), lv)
                if key not in flag:
                    flag[key] = level_changed(key[0], lv, levels)
                changed_flags.append(flag[key])
            action_text = {
                key: next_action(params.ladder, *key)
                for key in set(zip(levels_now, langs, strict=True))
            }
            next_actions = [action_text[key] for key in zip(levels_now, langs, strict=True)]
            states_now = [outcome.states[aid] for aid in ids]
            dues = [
                st.due_at if st.acknowledged_at is None and st.resolved_at is None else None
                for st in states_now
            ]
            reasons_txt = reasons_cells(scored.ranked, p.top_reasons)
            level_of = {lv: i for i, lv in enumerate(levels)}
            # a flag handled before the run has no due time: the terminal and report say how
            handled = [
                ""
                if level_of[lv] == 0
                else "resolved"
                if st.resolved_at is not None
                else "acknowledged"
                if st.acknowledged_at is not None
                else ""
                for st, lv in zip(states_now, levels_now, strict=True)
            ]
            table = pd.DataFrame(
                {
                    "account_id": ids,
                    "account_name": acc["name"].astype(str).to_numpy(),
                    "csm_owner": acc["csm_owner"].to_numpy(),
                    "tier": acc["tier"].astype(str).to_numpy(),
                    "arr": acc["arr"].astype(float).to_numpy(),
                    "escalation_risk": scored.escalation_risk,
                    "churn_risk": scored.churn_risk,
                    "delta_prev": d_prev.to_numpy(),
                    "delta_7d": d_7d.to_numpy(),
                    "why_changed": whys,
                    "why_parts": why_parts,
                    "level": levels_now,
                    "level_index": [level_of[lv] for lv in levels_now],
                    "level_changed": changed_flags,
                    "reasons": reasons_txt,
                    "next_action": next_actions,
                    "due_at": pd.to_datetime(pd.Series(dues, dtype=object), utc=True).to_numpy(),
                    "handled": handled,  # not a column of the CSV (nor of the stored list)
                    "model_version": model.version,
                }
            )
            table["priority"] = priority(
                table["escalation_risk"].to_numpy(),
                table["churn_risk"].to_numpy(),
                table["arr"].to_numpy(),
                p.priority,
            )
            order = rank(table.assign(_row=np.arange(len(table))))
            contrib_ranked = scored.contributions[order["_row"].to_numpy()]
            ranked = order.drop(columns="_row")
            ranked.insert(1, "rank", np.arange(1, len(ranked) + 1))
            html_path = out / f"report-{day.isoformat()}.html"
            # a rerun later the same day keeps the day's first moment: the ladder times out
            # only what was due by then (decide), and a third run must not take the second's
            held = at
            if settled is not None and as_utc(settled).date() == as_utc(at).date():
                held = min(at, as_utc(settled))
            run_record = {
                "ran_at": now.to_pydatetime(),
                "evaluated_at": held,
                "model_version": model.version,
                "accounts": len(ranked),
                "report": str(html_path),
            }
            shown = filtered(ranked, levels, owner, min_level, top, language=lang)
            # the database drivers let go of the GIL while they write (about half of the step
            # at 100,000 accounts): the stored reasons, the list's CSV files and the report's
            # figures from the history are made meanwhile, the files under temporary names
            # until the day is stored. The list and the scores go in one transaction (the list
            # drops the day's scores of accounts no longer on it; the scores, made meanwhile,
            # follow it), then what is pruned.
            written: list[tuple[Path, Path]] = []
            scores: Future[Any] = Future()
            try:
                with ThreadPoolExecutor(1, thread_name_prefix="escrisk-store") as pool:
                    saved: list[Future[Any]] = []
                    try:
                        saved.append(
                            pool.submit(
                                daily.save_day,
                                day,
                                ranked,
                                contrib_ranked,
                                model.spec.names,
                                run_record,
                                scores,
                                now.to_pydatetime(),
                            )
                        )
                        score_columns = {
                            "account_id": ids,
                            "day": [day] * n,
                            "escalation_risk": esc_list,
                            "churn_risk": churn_list,
                            "level": levels_now,
                            "reasons": [JsonText(r) for r in scored.ranked.json_texts()],
                            "model_version": [model.version] * n,
                            # what /account answers beside the scores: the day's decision
                            "owners": _owners_json(outcome.decisions),
                            "team": [d.team for d in outcome.decisions],
                            "priority": [d.priority for d in outcome.decisions],
                        }
                        scores.set_result(score_columns)
                        if p.keep_days is not None:
                            saved.append(
                                pool.submit(daily.prune, day - dt.timedelta(days=p.keep_days))
                            )
                        failed = _write_lists(
                            out, day, ranked, shown, filter_tag(owner, min_level, top), written
                        )
                        drift = _drift(champ, model, X, scored, p)
                        hk = history_kpis(
                            history, as_of, p.kpi_window_days, p.csat_after_days, p.benchmark_hours
                        )
                        results = [f.result() for f in saved]  # the first error is the run's
                    except BaseException:
                        # the list's transaction waits for the scores: whatever stopped the run
                        # before they were handed over (an error making them, a Ctrl-C just after
                        # the submit) gives it up, or the pool's shutdown would wait forever
                        scores.cancel()
                        # a failed write stops the writes after it; any other failure (or
                        # Ctrl-C) lets those submitted finish, so that the day is stored whole
                        # (the list with its scores)
                        if any(f.done() and not f.cancelled() and f.exception() for f in saved):
                            for f in saved:
                                f.cancel()  # what has not started yet
                        raise
                pruned = int(results[1]) if p.keep_days is not None else 0
                if failed is not None:
                    raise failed
                for temporary, final in written:
                    temporary.replace(final)
            except OSError as exc:  # the list's files (the database's errors are its own)
                _discard(written)
                done = _already_done(outcome, None, lang)
                raise UserError(
                    t("cannot_write_list", lang, path=out, why=exc.strerror, done=done)
                ) from None
            except BaseException:
                _discard(written)  # nothing partial stays, whatever stopped the run
                raise
            csv_path = written[-1][1]

        delivery = None
        if send:
            from serving.notify import deliver, notifiers_from

            with steps.step("step_notify"):
                delivery = deliver(
                    store,
                    notifiers or notifiers_from(params.notifications, smtp_password),
                    params.notifications.retry,
                    now.to_pydatetime(),
                    clock=wall_clock,
                )

        # the CSV and the stored list keep the account's language (notifications, the record);
        # the terminal and the report are read in the run's: their rows are told again in it
        row_of = {a: i for i, a in enumerate(ids)}

        def why_in_run_language(aid: str) -> str:
            """The account's change told in `lang`: worked out again only for rows read."""
            i = row_of[aid]
            return whys[i] if not whys[i] or langs[i] == lang else change_told(i, lang)

        def in_run_language(rows: pd.DataFrame) -> pd.DataFrame:
            """`rows` of the list with their reasons, next action and change told in `lang`."""
            features_of = {f.name: f for f in model.spec.features}
            aids = rows["account_id"]
            return rows.assign(
                reasons=[
                    reasons_cell(
                        retold(RowReasons(scored.ranked, row_of[a]), features_of, lang),
                        p.top_reasons,
                    )
                    for a in aids
                ],
                next_action=[next_action(params.ladder, lv, lang) for lv in rows["level"]],
                why_changed=[why_in_run_language(a) for a in aids],
            )

        # only the rows a person reads are told again (all of them cost seconds at 100,000)
        # (--top N asks for N rows; daily.terminal_rows cuts only an unbounded view)
        printed = in_run_language(shown.head(top if top is not None else p.terminal_rows))
        with steps.step("step_report"):
            # the day and the kpi_window_days - 1 before it: as_of - kpi_window_days on counted
            # one day more than the "last N days" the report says (and the history KPIs read)
            until = as_of + pd.Timedelta(days=1)
            lk = window_kpis(
                store,
                since=(until - pd.Timedelta(days=p.kpi_window_days)).to_pydatetime(),
                until=until.to_pydatetime(),
                now=at,
            )
            from serving.report_html import ReportData, needs_attention, render_report

            head = in_run_language(ranked.head(p.terminal_rows))
            labels = {f.name: f.label(lang) for f in model.spec.features}
            below = ranked.iloc[p.terminal_rows :]
            pinned = in_run_language(needs_attention(below, len(levels) - 1, at))

            report = render_report(
                ReportData(
                    day=day,
                    evaluated_at=at,
                    model_version=model.version,
                    language=lang,
                    levels=levels,
                    today=ranked[["escalation_risk", "churn_risk", "level"]],
                    trend=daily.trend(day, p.trend_runs),
                    top=csv_frame(head).assign(handled=head["handled"].to_numpy()),
                    history=hk,
                    ladder=lk,
                    drift=drift,
                    labels=labels,
                    params=p,
                    time_zone=params.ladder.business_calendar.time_zone,
                    pinned=csv_frame(pinned).assign(handled=pinned["handled"].to_numpy()),
                )
            )
            # under a temporary name until whole: a full disk left a cut report (or cut the
            # day's earlier one) under the final name
            partial = out / f".{html_path.name}.partial"
            try:
                partial.write_text(report, encoding="utf-8")
                partial.replace(html_path)
            except BaseException as exc:  # a Ctrl-C or SIGTERM too: nothing partial stays
                with suppress(OSError):  # a read-only folder refuses even this
                    partial.unlink(missing_ok=True)
                if not isinstance(exc, OSError):
                    raise
                done = _already_done(outcome, delivery, lang)
                raise UserError(
                    t("cannot_write_report", lang, path=html_path, why=exc.strerror, done=done)
                ) from None
        store.close()
        return DailyResult(
            day, at, ranked, shown, printed, csv_path, html_path, outcome, drift, delivery, steps.seconds,
            unavailable=dict(fs.unavailable), newest_event=newest_event(history), pruned=pruned,
            gaps=gaps, not_trained=changed_settings(model.feature_params, params.features),
            feature_code=feature_code_warning(model, lang),
            not_yet=not_yet, gone=len(accounts) - len(frame) - not_yet, vanished=vanished,
            labels=labels,
        )  # fmt: skip


def features_before(
    history: Any,
    frame: pd.DataFrame,
    rows: np.ndarray,
    since: dt.date,
    built_with: FeatureParams,
    model: ScoringModel,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`frame`'s `rows` and the same accounts' features as of `since` (the previous run's day),
    both indexed by account id in the same order: built again for those accounts only (the
    changes told are few), by the same code and settings (`built_with`, the model's), from the
    same history. An account without a row as of `since` is left out (nothing to compare)."""
    names = model.spec.names
    today = frame.iloc[rows].set_index("account_id")[names]
    then = build_features(
        history.for_accounts(today.index),
        [pd.Timestamp(since, tz="UTC")],
        built_with,
        spec=model.spec,
    ).frame.set_index("account_id")[names]
    then = then.reindex(today.index[today.index.isin(then.index)])
    return today.loc[then.index], then


def moved_features(now: pd.DataFrame, then: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per account (`features_before`'s frames), which features had another value then."""
    same = np.column_stack(
        [
            (now[c] == then[c]).fillna(False).to_numpy(bool)
            | (now[c].isna() & then[c].isna()).to_numpy()
            for c in now.columns
        ]
    )
    return dict(zip(then.index.tolist(), ~same, strict=True))


def margin_changes(
    model: ScoringModel, now: pd.DataFrame, then: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Per account (`features_before`'s frames), how each feature's contribution to the
    escalation head's raw margin changed: what `margin_shares` splits a change of risk by."""
    if not len(now):
        return {}
    booster = model.heads["escalation"].booster
    after, _ = split_contrib(contributions(booster, now))
    before, _ = split_contrib(contributions(booster, then))
    return dict(zip(now.index.tolist(), after - before, strict=True))


def _unknown_levels(store: Any, levels: list[str]) -> dict[str, int]:
    """Accounts per level of the stored ladder state that `levels` does not name (a level renamed
    or removed in params after earlier runs): the ladder stopped at the first such account,
    after the chunks before it were recorded."""
    import sqlalchemy as sa

    ls = store.t["ladder_state"]
    q = sa.select(ls.c.level, sa.func.count()).where(ls.c.level.not_in(levels)).group_by(ls.c.level)
    return store._run(lambda c: {str(lv): int(n) for lv, n in c.execute(q).all()})


def _already_done(outcome: LadderOutcome, delivery: Any, language: str) -> str:
    """What a run that fails at its files has already done, and how to finish it, in the
    run's language."""
    changes, queued = outcome.changes, outcome.queued
    if delivery is None:
        return t("already_done", language, changes=changes, queued=queued)
    return t("already_done_sent", language, changes=changes, queued=queued, sent=delivery.sent)


def _write_lists(
    out: Path,
    day: dt.date,
    ranked: pd.DataFrame,
    shown: pd.DataFrame,
    tag: str,
    written: list[tuple[Path, Path]],
) -> OSError | None:
    """The day's whole list as CSV and, for a filtered run, its view in a file of its own
    beside it, each under a temporary name (appended to `written` with its final one); the
    error that stopped the writing, if any."""
    names = [(f"risk-list-{day.isoformat()}.csv", ranked)]
    if tag:
        names.append((f"risk-list-{day.isoformat()}-{tag}.csv", shown))
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, rows in names:
            written.append((out / f".{name}.partial", out / name))
            write_csv(csv_frame(rows), written[-1][0])
    except OSError as exc:
        return exc
    return None


STALE_PARTIAL_SECONDS = 3600  # older temporaries are no running job's: a killed one's


def _drop_stale_partials(out: Path) -> None:
    """Remove the list's and report's temporaries a run killed outright (SIGKILL, a power cut)
    left in `out`: hidden, they stayed for good unless that day was run again. Only those an
    hour old: a run on another database writing to the same folder may be making its own."""
    import time

    if not out.is_dir():
        return
    before = time.time() - STALE_PARTIAL_SECONDS
    for pattern in (".risk-list-*.csv.partial", ".report-*.html.partial"):
        for path in out.glob(pattern):
            with suppress(OSError):
                if path.lstat().st_mtime < before:
                    path.unlink()


def _discard(written: list[tuple[Path, Path]]) -> None:
    for temporary, _ in written:
        temporary.unlink(missing_ok=True)


def _drift(
    champ: Champion, model: ScoringModel, X: pd.DataFrame, scored: Scored, p: Any
) -> DriftReport | None:
    """The day's inputs and scores against the champion's training data (None: no reference)."""
    if champ.reference is None:
        return None
    mains = main_features(
        [h.booster for h in model.heads.values()], model.spec.names, p.drift.main_features
    )
    scores = {
        _target(champ.reference, "escalation"): pd.Series(scored.escalation_risk),
        _target(champ.reference, "churn"): pd.Series(scored.churn_risk),
    }
    return drift_report(champ.reference, X, scores, mains, p.drift)


def _writable(out: Path, language: str) -> None:
    """The output folder takes a file, or could be made where it goes, or a UserError. Nothing
    is made: a run refused after this check must leave nothing behind (the lists make it)."""
    import tempfile

    # the folder, or the nearest folder on its way that exists: where a file must be creatable
    there = next((d for d in (out, *out.parents) if d.exists()), Path("."))
    try:
        if not there.is_dir():
            raise NotADirectoryError
        with tempfile.NamedTemporaryFile(dir=there, prefix=".escrisk-write-check-"):
            pass
    except (FileExistsError, NotADirectoryError):
        # the system's words ("File exists") read as if the folder were fine
        raise UserError(
            t("cannot_write_folder", language, path=out, why=t("not_a_folder", language))
        ) from None
    except OSError as exc:
        raise UserError(t("cannot_write_folder", language, path=out, why=exc.strerror)) from None


def _target(reference: dict[str, Any], head: str) -> str:
    """The reference's score key of a head (escalation -> escalation_30d)."""
    for k in reference["scores"]:
        if k.startswith(head):
            return k
    return head
