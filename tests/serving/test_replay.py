"""`escrisk replay`: the report's figures on a hand-checkable table, and a replay of a small world
with a model trained into a throwaway MLflow store (the `model_store` fixture of conftest.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.build import build_features
from features.contract import validated
from serving.facts import account_facts
from serving.replay import (
    COLUMNS,
    OVERALL,
    ReportSettings,
    daily_risks,
    replay_levels,
    replay_report,
    rule_features,
    to_markdown,
)
from serving.scoring import score_rows

ROOT = Path(__file__).resolve().parents[2]
D0 = pd.Timestamp("2026-01-01", tz="UTC")


def day(n: int) -> pd.Timestamp:
    """Day n of the hand-made replay (1-based)."""
    return D0 + pd.Timedelta(days=n - 1)


def levels_table(paths: dict[str, list[int]]) -> pd.DataFrame:
    rows = [
        {"account_id": aid, "day": day(i + 1), "level_index": lv}
        for aid, seq in paths.items()
        for i, lv in enumerate(seq)
    ]
    return pd.DataFrame(rows)


# 14 days = 2 weeks. A: up on day 4, down on day 7 (a flap within 3 days); B: at L2 from day 1;
# C: up on day 10 and again on day 11, nothing follows.
PATHS = {
    "A": [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    "B": [2] * 14,
    "C": [0] * 9 + [1, 2, 2, 2, 2],
}
EVENTS = pd.DataFrame(
    [
        ("A", "escalation", day(6) + pd.Timedelta(hours=10)),  # flagged since day 4: 2.42 days
        ("B", "churn", day(12)),  # window (day 2, day 12]: flagged from day 3: 9 days
        ("C", "escalation", day(3)),  # before C's flags: missed
        (
            "C",
            "escalation",
            day(20),
        ),  # after the replay: not counted, and outside C's alert horizon
        ("Z", "escalation", day(5)),  # not a replayed account
    ],
    columns=["account_id", "kind", "at"],
)
OWNERS = {"A": "Xena", "B": "Xena", "C": "Yves"}


def settings(**kw) -> ReportSettings:
    base = {
        "flag_index": 1,
        "horizons": {"escalation": 5, "churn": 10},
        "flap_days": 3,
        "observed_until": pd.Timestamp("2026-02-01", tz="UTC"),
    }
    return ReportSettings(**(base | kw))


def row(report: pd.DataFrame, group: str) -> dict:
    return report[report["group"] == group].iloc[0].to_dict()


def test_report_on_a_hand_checked_table():
    report = replay_report(levels_table(PATHS), EVENTS, OWNERS, settings())
    assert list(report.columns) == list(COLUMNS)
    assert list(report["group"]) == ["Xena", "Yves", OVERALL]
    lead_a = (pd.Timedelta(hours=2 * 24 + 10)) / pd.Timedelta(days=1)
    expected = {
        OVERALL: dict(
            accounts=3, account_days=42, alerts=3, alerts_per_week=1.5, initial_flags=1,
            escalations=2, escalations_flagged=1, escalation_recall=0.5, escalation_lead_days=lead_a,
            churns=1, churns_flagged=1, churn_recall=1.0, churn_lead_days=9.0,
            alerts_judged=3, alerts_nowhere=2, nowhere_share=2 / 3,
            level_changes=4, flaps=1, flap_share=0.25,
        ),
        "Xena": dict(
            accounts=2, account_days=28, alerts=1, alerts_per_week=0.5, initial_flags=1,
            escalations=1, escalations_flagged=1, escalation_recall=1.0, escalation_lead_days=lead_a,
            churns=1, churns_flagged=1, churn_recall=1.0, churn_lead_days=9.0,
            alerts_judged=1, alerts_nowhere=0, nowhere_share=0.0,
            level_changes=2, flaps=1, flap_share=0.5,
        ),
        "Yves": dict(
            accounts=1, account_days=14, alerts=2, alerts_per_week=1.0, initial_flags=0,
            escalations=1, escalations_flagged=0, escalation_recall=0.0, escalation_lead_days=np.nan,
            churns=0, churns_flagged=0, churn_recall=np.nan, churn_lead_days=np.nan,
            alerts_judged=2, alerts_nowhere=2, nowhere_share=1.0,
            level_changes=2, flaps=0, flap_share=0.0,
        ),
    }  # fmt: skip
    for group, want in expected.items():
        got = row(report, group)
        for key, value in want.items():
            assert got[key] == pytest.approx(value, nan_ok=True), (group, key)


def test_terminal_table_shows_csm_names_with_brackets_as_written():
    """An owner "Team [EMEA] [/x]" was read as rich markup: `escrisk replay` stopped with an
    internal error after replaying every day."""
    from rich.console import Console

    from serving.commands.replay import replay_table

    owners = {"A": "Team [EMEA] [/x]", "B": "Xena", "C": "[bold]Yves[/]"}
    report = replay_report(levels_table(PATHS), EVENTS, owners, settings())
    meta = {"from": "2026-01-01", "to": "2026-01-14", "days": 14, "model_version": "m/1"}
    console = Console(record=True, width=200)
    console.print(replay_table(report, meta))
    text = console.export_text()
    assert "Team [EMEA] [/x]" in text and "[bold]Yves[/]" in text


def test_alerts_whose_horizon_is_not_yet_observed_are_not_judged():
    report = replay_report(
        levels_table(PATHS),
        EVENTS,
        OWNERS,
        settings(observed_until=pd.Timestamp("2026-01-12", tz="UTC")),
    )
    overall = row(report, OVERALL)
    # A's alert was followed by an escalation, C's was not yet: both horizons run past the data,
    # so neither is judged (judging A's alone made the share led nowhere 0%, hits only)
    assert (overall["alerts_judged"], overall["alerts_nowhere"]) == (0, 0)
    assert np.isnan(overall["nowhere_share"])


def test_kinds_the_source_does_not_record_are_unknown_not_zero():
    report = replay_report(levels_table(PATHS), EVENTS, OWNERS, settings(kinds=("escalation",)))
    overall = row(report, OVERALL)
    assert np.isnan(overall["churns"]) and np.isnan(overall["churn_recall"])
    assert overall["escalations"] == 2


def test_flapping_counts_reversals_within_the_window_only():
    paths = {"A": [0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0]}
    # changes: d2 up, d3 down (reverses d2 within 1 day), d7 up (reverses d3 after 4 days), d12 down
    report = replay_report(levels_table(paths), EVENTS.iloc[:0], {"A": "Xena"}, settings())
    overall = row(report, OVERALL)
    assert (overall["level_changes"], overall["flaps"]) == (4, 1)
    wide = replay_report(levels_table(paths), EVENTS.iloc[:0], {"A": "Xena"}, settings(flap_days=5))
    assert row(wide, OVERALL)["flaps"] == 3


def test_markdown_has_one_line_per_group():
    report = replay_report(levels_table(PATHS), EVENTS, OWNERS, settings())
    md = to_markdown(report, {"from": "2026-01-01"})
    assert "| overall | 3 | 42 | 3 | 1.5 |" in md
    assert md.count("\n| ") == 4  # header and three groups


# --- a replay of a small world ----------------------------------------------------------------


@pytest.fixture(scope="module")
def replayed(world, model_store, params):
    from serving.model import load_champion
    from serving.replay import run_replay

    now = pd.Timestamp.now(tz="UTC")
    history = validated(world, params.contract, now)
    model = load_champion(model_store, params.promotion.model_name)
    end = now.normalize() - pd.Timedelta(days=8)
    start = end - pd.Timedelta(days=20)
    result = run_replay(history, model, params, start, end, now, source="world")
    return history, model, result, start, end


def test_replay_covers_every_active_account_every_day(replayed):
    history, _, result, start, end = replayed
    lv = result.levels
    assert lv["day"].min() == start and lv["day"].max() == end
    per_day = lv.groupby("day")["account_id"].nunique()
    acc = history.accounts
    churned = acc["account_id"].map(history.churn.groupby("account_id")["churned_at"].min())
    active = [int(((acc["contract_start"] <= d) & ~(churned < d)).sum()) for d in per_day.index]
    assert per_day.tolist() == active  # started and not churned before the day
    assert not lv.duplicated(["account_id", "day"]).any()
    report = result.report
    per_csm, overall = report[report["group"] != OVERALL], row(report, OVERALL)
    for col in ("accounts", "account_days", "alerts", "alerts_nowhere", "level_changes", "flaps"):
        assert per_csm[col].sum() == overall[col], col
    for plural, at in (
        ("escalations", history.escalations["opened_at"]),
        ("churns", history.churn["churned_at"]),
    ):
        assert overall[plural] == ((at >= start) & (at < end + pd.Timedelta(days=1))).sum(), plural


def test_replay_scores_and_first_day_levels_match_score_rows(replayed, params):
    history, model, result, start, _ = replayed
    fs = build_features(history, [start], params.features, spec=model.spec)
    frame = fs.frame
    facts = account_facts(history, start, params.features)
    served = pd.DataFrame(score_rows(model, frame, facts, params.ladder, start, top_k=1))
    first = result.levels[result.levels["day"] == start].set_index("account_id")
    served = served.set_index("account_id").loc[first.index]
    np.testing.assert_allclose(first["escalation_risk"], served["escalation_risk"], atol=1e-9)
    np.testing.assert_allclose(first["churn_risk"], served["churn_risk"], atol=1e-9)
    assert (first["level"] == served["level"]).all()
    assert (daily_risks(model, frame)["escalation_risk"].to_numpy() >= 0).all()


def test_ladder_state_is_carried_from_day_to_day(params):
    """Hysteresis only works if yesterday's state is remembered: a risk just below the L1 entry
    (inside the margin) holds L1 instead of dropping back."""
    from serving.ladder import AccountFacts

    entry = params.ladder.levels["L1"].entry.escalation_risk
    days = pd.date_range("2026-03-02", periods=3, freq="D", tz="UTC")
    scores = pd.DataFrame(
        {
            "account_id": ["A"] * 3,
            "as_of": days,
            "escalation_risk": [entry + 0.01, entry - 0.01, entry - 0.01],
            "churn_risk": [0.0] * 3,
        }
    )
    fact = AccountFacts(
        arr=1000.0, tier="starter", seats=3, days_to_renewal=300,
        open_p1=0, open_p2=0, open_p1_past_sla=0, open_p2_past_sla=0,
    )  # fmt: skip
    facts = {d: {"A": fact} for d in days}
    features = pd.DataFrame(index=range(3))
    lv = replay_levels(scores, features, facts, params.ladder, assume_acknowledged=True)
    assert list(lv["level"]) == ["L1", "L1", "L1"]


def test_unacknowledged_levels_time_out_only_when_not_assumed_acknowledged(params):
    from serving.ladder import AccountFacts

    entry = params.ladder.levels["L1"].entry.escalation_risk
    days = pd.date_range("2026-03-02", periods=6, freq="D", tz="UTC")  # Monday..Saturday
    scores = pd.DataFrame(
        {
            "account_id": ["A"] * 6,
            "as_of": days,
            "escalation_risk": [entry + 0.01] * 6,
            "churn_risk": [0.0] * 6,
        }
    )
    fact = AccountFacts(
        arr=1000.0, tier="starter", seats=3, days_to_renewal=300,
        open_p1=0, open_p2=0, open_p1_past_sla=0, open_p2_past_sla=0,
    )  # fmt: skip
    facts = {d: {"A": fact} for d in days}
    features = pd.DataFrame(index=range(6))
    acked = replay_levels(scores, features, facts, params.ladder, assume_acknowledged=True)
    assert set(acked["level"]) == {"L1"}
    ignored = replay_levels(scores, features, facts, params.ladder, assume_acknowledged=False)
    assert ignored["level"].iloc[-1] != "L1"  # L1's 16 business hours passed unacknowledged


def test_rule_features_lists_the_features_rules_name(params):
    from serving.params import Condition, RuleParams

    rule = RuleParams(
        name="x", when=(Condition(feature="tickets_30d", op=">=", value=9),), min_level="L1"
    )
    ladder = params.ladder.model_copy(update={"rules": (*params.ladder.rules, rule)})
    assert rule_features(ladder) == ["tickets_30d"]
    assert rule_features(params.ladder) == []


@pytest.mark.slow
def test_cli_replay_prints_logs_to_mlflow_and_never_touches_the_store(
    world, model_store, params, tmp_path, monkeypatch, capsys
):
    import mlflow

    from serving.cli import main
    from serving.ladder import AccountFacts, Signals
    from serving.store import Store

    src = tmp_path / "source"
    src.mkdir()
    for name, df in world.items():
        if df is not None:
            df.to_csv(src / f"{name}.csv", index=False)
    db = tmp_path / "real.db"
    url = f"sqlite:///{db}"
    store = Store(url)
    fact = AccountFacts(
        arr=1000.0, tier="starter", seats=3, days_to_renewal=300,
        open_p1=0, open_p2=0, open_p1_past_sla=0, open_p2_past_sla=0,
    )  # fmt: skip
    store.evaluate(
        Signals("ACC-000", 0.9, 0.9, {}, None, fact),
        params.ladder,
        pd.Timestamp("2026-01-05", tz="UTC").to_pydatetime(),
        "escalation-risk/0",
    )
    before = {t: len(store.rows(t)) for t in ("level_changes", "outbox", "daily_scores")}
    store.close()
    digest = hashlib.sha256(db.read_bytes()).hexdigest()

    monkeypatch.setenv("ESCRISK_DATABASE_URL", url)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", model_store)
    monkeypatch.delenv("COLUMNS", raising=False)
    end = pd.Timestamp.now(tz="UTC").normalize() - pd.Timedelta(days=8)
    start = end - pd.Timedelta(days=13)
    argv = ["replay", str(src), "--from", str(start.date()), "--to", str(end.date())]
    assert main([*argv, "--params", str(ROOT / "params.yaml")]) == 0
    out = capsys.readouterr().out
    assert "Ladder replay" in out and "overall" in out and "Logged to MLflow" in out
    # captured, as piped: the headings whole, not cut to rich's 80 columns ("Esca…")
    assert "Escalations flagged" in out and "…" not in out
    # the accounts table has no history: the result says it used today's attributes
    said = " ".join(out.split())
    assert (
        "ARR, seats, tier, renewal date and CSM owner are the accounts table's as exported" in said
    )

    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    store = Store(url)
    assert {t: len(store.rows(t)) for t in before} == before
    store.close()

    mlflow.set_tracking_uri(model_store)
    exp = mlflow.get_experiment_by_name(f"{params.promotion.model_name}-replay")
    runs = mlflow.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"])
    latest = runs.iloc[0]
    assert latest["params.from"] == str(start.date()) and latest["params.days"] == "14"
    assert latest["params.account_attributes"] == "as exported, not as of each day"
    assert latest["params.params_file"] == str(ROOT / "params.yaml")  # which file's thresholds
    assert "metrics.alerts_per_week" in runs.columns and latest["metrics.account_days"] > 0
    assert latest["params.ladder.L1.escalation_risk"] == str(
        params.ladder.levels["L1"].entry.escalation_risk
    )
    files = {a.path for a in mlflow.MlflowClient().list_artifacts(latest["run_id"], "replay")}
    assert files == {"replay/replay.md", "replay/replay_by_csm.csv", "replay/level_changes.csv"}


def test_cli_replay_refuses_bad_dates(tmp_path, capsys):
    from serving.cli import main

    rc = main(
        ["replay", str(tmp_path), "--from", "2026-02-10", "--to", "2026-02-01",
         "--params", str(ROOT / "params.yaml")]
    )  # fmt: skip
    assert rc == 1
    assert "before --from" in capsys.readouterr().err
    assert main(["replay", str(tmp_path), "--from", "yesterday-ish", "--to", "2026-02-01",
                 "--params", str(ROOT / "params.yaml")]) == 1  # fmt: skip


def test_unknown_flag_level_is_a_user_error(params):
    from features.errors import UserError
    from serving.replay import run_replay

    bad = params.model_copy(
        update={"replay": params.replay.model_copy(update={"flag_level": "L9"})}
    )
    day = pd.Timestamp("2026-01-05", tz="UTC")
    with pytest.raises(UserError, match=r"replay.flag_level: unknown level 'L9'"):
        run_replay(None, None, bad, day, day, day)  # type: ignore[arg-type]


def test_replay_refusals_follow_the_teams_language(tmp_path, capsys):
    """`escrisk replay` has no language option: its refusals were English for a team whose
    daily.language is German. Now they follow daily.language, as its daily list does."""
    from features.errors import UserError
    from serving.cli import main
    from serving.params import load_params
    from serving.replay import run_replay

    lines = (ROOT / "params.yaml").read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("daily:"))
    at = next(i for i in range(start, len(lines)) if lines[i] == "  language: en\n")
    lines[at] = "  language: de\n"
    german = tmp_path / "params.yaml"
    german.write_text("".join(lines))
    argv = ["replay", str(tmp_path), "--from", "2026-01-01", "--params", str(german)]
    assert main([*argv, "--to", "2999-01-01"]) == 1
    assert "--to 01.01.2999 liegt in der Zukunft (heute ist der " in capsys.readouterr().err
    # --language, as the other commands take it, wins over the file's (and gives German to a
    # team whose file says English)
    assert main([*argv, "--to", "2999-01-01", "--language", "en"]) == 1
    assert "--to 2999-01-01 lies in the future" in capsys.readouterr().err
    english = ["replay", str(tmp_path), "--from", "2026-01-01", "--to", "2999-01-01"]
    assert main([*english, "--params", str(ROOT / "params.yaml"), "--language", "de"]) == 1
    assert "--to 01.01.2999 liegt in der Zukunft" in capsys.readouterr().err
    params = load_params(german)
    bad = params.model_copy(
        update={"replay": params.replay.model_copy(update={"flag_level": "L9"})}
    )
    day = pd.Timestamp("2026-01-05", tz="UTC")
    with pytest.raises(UserError, match=r"replay.flag_level: unbekannte Stufe 'L9'; bekannt sind"):
        run_replay(None, None, bad, day, day, day)  # type: ignore[arg-type]


def test_a_german_teams_replay_table_and_summary_are_german():
    """The refusals and the note on the accounts table followed daily.language, the table and
    the line under it stayed English ("Alerts/week", "Flagged = at L1 or above ...")."""
    from rich.console import Console

    from serving.commands.replay import replay_summary, replay_table

    owners = {"A": "Xena", "B": "Xena", "C": "Yves"}
    report = replay_report(levels_table(PATHS), EVENTS, owners, settings())
    meta = {
        "from": "2026-01-01", "to": "2026-01-14", "days": 14, "model_version": "m/1",
        "flag_level": "L1", "escalation_horizon_days": 30, "churn_horizon_days": 90,
        "flap_days": 14, "event_kinds": "escalation,churn",
    }  # fmt: skip
    console = Console(record=True, width=200)
    console.print(replay_table(report, meta, "de"))
    console.print(replay_summary(report.iloc[-1], meta, "de"))
    text = " ".join(console.export_text().split())
    assert "Nachgespielte Stufen 01.01.2026 bis 14.01.2026 (14 Tage), Modell m/1" in text
    assert "Meldungen/Woche" in text and "Eskalationen erkannt" in text
    assert "Erkannt = auf L1 oder höher innerhalb von 30 Tagen vor einer Eskalation" in text
    assert "Alerts/week" not in text and "Flagged" not in text
    assert "│ gesamt │ 3 │" in text and "overall" not in text  # the last row, every CSM


def test_a_german_teams_replay_table_writes_numbers_the_german_way():
    """The headings were German but the figures English ("0.5", "50%"): the terminal table
    writes them as daily.language does (0,5 and 50 %); the markdown artifact stays English."""
    from rich.console import Console

    from serving.commands.replay import replay_table
    from serving.replay import to_markdown

    report = replay_report(levels_table(PATHS), EVENTS, {"A": "X", "B": "X", "C": "Y"}, settings())
    report.loc[:, "alerts_per_week"] = 2.5
    report.loc[:, "escalation_recall"] = 0.5
    meta = {"from": "2026-01-01", "to": "2026-01-14", "days": 14, "model_version": "m/1"}
    console = Console(record=True, width=200)
    console.print(replay_table(report, meta, "de"))
    text = console.export_text()
    assert "2,5" in text and "50\u00a0%" in text
    assert "2.5" not in text and "50%" not in text
    assert "| 2.5 |" in to_markdown(report, meta) and "| 50% |" in to_markdown(report, meta)


def test_mlflow_params_tell_apart_runs_that_differ_only_in_what_times_out(params):
    """Replays differing only in a level's response_hours or timeout.while_cooling_down logged
    the same params, so runs tried for timeouts could not be told apart in MLflow."""
    from serving.replay import ladder_settings

    ladder = params.ladder
    l1 = ladder.levels["L1"]
    slower = ladder.model_copy(
        update={"levels": {**ladder.levels, "L1": l1.model_copy(update={"response_hours": 99.0})}}
    )
    climbing = ladder.model_copy(
        update={"timeout": ladder.timeout.model_copy(update={"while_cooling_down": True})}
    )
    base = ladder_settings(ladder)
    assert ladder_settings(slower) != base
    assert ladder_settings(slower)["ladder.L1.response_hours"] == "99.0"
    assert ladder_settings(climbing)["ladder.timeout.while_cooling_down"] == "True"
    assert base["ladder.timeout.while_cooling_down"] == "False"


@pytest.mark.slow
def test_cli_replay_logs_a_database_source_without_its_password(
    world, model_store, tmp_path, monkeypatch, capsys
):
    """The source went into the MLflow params and replay.md as typed: a database URL with its
    password (`escrisk train` logs it without). Now both show it as `escrisk validate` does."""
    import mlflow

    from features.sources import write_database
    from serving.cli import main

    url = f"sqlite:///{tmp_path / 'source.db'}?password=s3cret"
    write_database(world, url)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", model_store)
    end = pd.Timestamp.now(tz="UTC").normalize() - pd.Timedelta(days=8)
    argv = ["replay", url, "--from", str((end - pd.Timedelta(days=2)).date())]
    assert main([*argv, "--to", str(end.date()), "--params", str(ROOT / "params.yaml")]) == 0
    capsys.readouterr()
    mlflow.set_tracking_uri(model_store)
    exp = mlflow.get_experiment_by_name("escalation-risk-replay")
    latest = mlflow.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"])
    run_id = latest.iloc[0]["run_id"]
    assert latest.iloc[0]["params.source"] == f"sqlite:///{tmp_path / 'source.db'}"
    md = mlflow.artifacts.load_text(f"runs:/{run_id}/replay/replay.md")
    assert "s3cret" not in md


def test_days_beyond_the_sources_data_are_refused(replayed, params):
    """Replay ran days after the source's newest row (and before its oldest) as if nothing had
    happened there: no tickets read as calm accounts, and the calm days diluted alerts per week
    and recall. It now refuses such a range, as `escrisk daily` refuses such a day."""
    from features.errors import UserError
    from features.pointintime import newest_event
    from serving.replay import run_replay

    history, model, _, _, _ = replayed
    newest = newest_event(history).tz_convert("UTC").normalize()
    lag = params.daily.max_source_lag_days
    later = newest + pd.Timedelta(days=lag + 2)
    now = later + pd.Timedelta(days=1)
    with pytest.raises(UserError, match=r"lies after the source's data: its newest row is of"):
        run_replay(history, model, params, later - pd.Timedelta(days=3), later, now)
    oldest = history.tickets["created_at"].min().tz_convert("UTC").normalize()
    with pytest.raises(UserError, match=r"lies before the source's data: its oldest"):
        run_replay(history, model, params, oldest, oldest + pd.Timedelta(days=3), now)


def test_alerts_are_judged_only_while_every_label_table_is_known(params):
    """The escalations export ends on Feb 1, the tickets run to Jun 1: an alert in March had its
    30 days after the export and was read as led nowhere. Alerts are judged up to the earliest
    end of the label tables the source records, as the labels of `escrisk train` end."""
    from features.contract import History
    from serving.replay import judged_until

    def ts(*days: str) -> pd.Series:
        return pd.Series(pd.to_datetime(list(days), utc=True), dtype="datetime64[ns, UTC]")

    tickets = pd.DataFrame(
        {"account_id": ["A"], "created_at": ts("2026-01-01"), "first_response_at": ts("2026-01-02"),
         "resolved_at": ts("2026-06-01")}
    )  # fmt: skip
    esc = pd.DataFrame(
        {"escalation_id": ["E1"], "account_id": ["A"], "opened_at": ts("2026-01-20"),
         "acknowledged_at": ts("2026-01-21"), "closed_at": ts("2026-02-01")}
    )  # fmt: skip
    churn = pd.DataFrame({"account_id": ["B"], "churned_at": ts("2026-05-01")})
    history = History(
        pd.DataFrame({"account_id": ["A", "B"]}), tickets, escalations=esc, churn=churn
    )
    start = pd.Timestamp("2026-01-05", tz="UTC")
    both = judged_until(history, params.labels, ("escalation", "churn"), start)
    assert both == pd.Timestamp("2026-02-01", tz="UTC")
    assert judged_until(history, params.labels, ("churn",), start) == pd.Timestamp(
        "2026-05-01", tz="UTC"
    )
    source = params.labels.model_copy(
        update={"escalations_until": "source", "churn_until": "source"}
    )
    assert judged_until(history, source, ("escalation", "churn"), start) == pd.Timestamp(
        "2026-06-01", tz="UTC"
    )
    # a table without an event says nothing of where it ends: no alert is judged
    silent = History(history.accounts, tickets, escalations=esc.iloc[:0], churn=churn)
    assert judged_until(silent, params.labels, ("escalation", "churn"), start) == start


def test_a_raise_of_an_open_escalation_is_no_event_of_its_own():
    """T-1 escalated on Jan 5 and raised again on Jan 9 while open: one escalation to flag in
    time, not two (the second, unflagged, halved the recall); T-2's raise after its close counts."""
    from features.contract import History
    from serving.replay import history_events

    def ts(*days: str | None) -> pd.Series:
        return pd.Series(pd.to_datetime(list(days), utc=True), dtype="datetime64[ns, UTC]")

    esc = pd.DataFrame(
        {"escalation_id": ["E1", "E2", "E3", "E4"], "account_id": ["A", "A", "B", "B"],
         "opened_at": ts("2026-01-05", "2026-01-09", "2026-01-02", "2026-01-20"),
         "closed_at": ts("2026-01-30", "2026-01-30", "2026-01-10", None),
         "ticket_id": ["T-1", "T-1", "T-2", "T-2"]}
    )  # fmt: skip
    history = History(pd.DataFrame({"account_id": ["A", "B"]}), pd.DataFrame(), escalations=esc)
    events = history_events(history)
    assert list(zip(events["account_id"], events["at"].dt.day, strict=True)) == [
        ("A", 5), ("B", 2), ("B", 20)
    ]  # fmt: skip
