"""The gate's window against the data the models were fitted on: a warning when it overlaps."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from features.contract import validated
from features.pointintime import data_start, history_at
from serving.params import load_params
from training.promotion_job import promote
from training.registry import CHALLENGER, connect, fitted_until


@pytest.mark.slow
def test_a_window_inside_the_models_training_data_is_called_optimistic(trained, tmp_path):
    """Promote on an export that ends early: its newest labelled window lies inside the data
    both versions were fitted and calibrated on, so their scores there say little."""
    client, v1, v2 = champion_and_challenger(trained, tmp_path)
    seen = fitted_until(client, "escalation-risk", v1.version)
    assert seen is not None
    params = load_params(trained.params_file)
    now = pd.Timestamp.now(tz="UTC")
    history = validated(trained.tables, params.contract, now)
    early = history_at(history, seen + pd.Timedelta(days=100))  # churn labels need 90 days
    result = promote(client, early, params, now=now)
    said = "\n".join(result.lines)
    assert f"the window starts before {seen:%Y-%m-%d}" in said
    assert "challenger v2" in said and "champion v1 was fitted" in said and "optimistic" in said
    fresh = promote_lines_on_whole(client, history, params, now, v1, v2)
    assert "optimistic" not in fresh
    connect(trained.tracking_uri)  # the process's MLflow URIs back on the suite's store


def champion_and_challenger(trained, tmp_path):
    """A copy of the suite's store (which stays as it is) whose champion is registered again as
    the challenger: the client and both versions."""
    db = tmp_path / "mlflow.db"
    shutil.copyfile(trained.tracking_uri.removeprefix("sqlite:///"), db)
    client = connect(f"sqlite:///{db}")
    v1 = client.get_model_version_by_alias("escalation-risk", "champion")
    v2 = client.create_model_version("escalation-risk", v1.source, run_id=v1.run_id)
    client.set_registered_model_alias("escalation-risk", CHALLENGER, v2.version)
    return client, v1, v2


def promote_lines_on_whole(client, history, params, now, v1, v2) -> str:
    """The same gate on the whole export: its window lies after both models' training data."""
    client.set_registered_model_alias("escalation-risk", "champion", v1.version)
    client.set_registered_model_alias("escalation-risk", CHALLENGER, v2.version)
    return "\n".join(promote(client, history, params, now=now).lines)


@pytest.mark.slow
def test_a_source_without_a_heads_labels_is_refused_before_any_decision(trained, tmp_path):
    """Promote on an export without the churn table (or too short for churn's 90-day horizon)
    was an internal error (IndexError in the metrics); nothing is decided or logged."""
    from features.errors import UserError

    client, v1, v2 = champion_and_challenger(trained, tmp_path)
    params = load_params(trained.params_file)
    now = pd.Timestamp.now(tz="UTC")
    no_churn = validated({**trained.tables, "churn": None}, params.contract, now)
    with pytest.raises(UserError, match="the source has no churn table") as e:
        promote(client, no_churn, params, now=now)
    assert "escalations and churn tables" in str(e.value)
    history = validated(trained.tables, params.contract, now)
    start = data_start(history)
    assert start is not None
    short = history_at(history, start + pd.Timedelta(days=60))
    with pytest.raises(UserError, match="no labelled churn_90d snapshots in its promotion window"):
        promote(client, short, params, now=now)
    assert client.get_model_version_by_alias("escalation-risk", CHALLENGER).version == v2.version
    connect(trained.tracking_uri)  # the process's MLflow URIs back on the suite's store


@pytest.mark.slow
def test_a_version_scored_without_a_table_it_was_trained_with_is_called_out(trained, tmp_path):
    """Promote on an export without the usage table (a helpdesk import): a version whose heads
    split on usage features was scored with them all missing, and the gate decided on that
    score without a word, where `escrisk daily` refuses such a source for that version."""
    client, v1, v2 = champion_and_challenger(trained, tmp_path)
    params = load_params(trained.params_file)
    now = pd.Timestamp.now(tz="UTC")
    no_usage = validated({**trained.tables, "usage": None}, params.contract, now)
    said = "\n".join(promote(client, no_usage, params, now=now).lines)
    for role, v in (("challenger", v2.version), ("champion", v1.version)):
        assert f"warning: {role} v{v} uses features this source cannot give: " in said
    assert "usage (usage table absent)" in said
    # a column without any value (a helpdesk export without satisfaction ratings): the same
    tickets = trained.tables["tickets"].assign(csat=float("nan"))
    no_csat = validated({**trained.tables, "tickets": tickets}, params.contract, now)
    said = promote_lines_on_whole(client, no_csat, params, now, v1, v2)
    assert (
        f"champion v{v1.version} uses features this source cannot give: csat (tickets table" in said
    )
    fresh = promote_lines_on_whole(client, validated(trained.tables, params.contract, now),
                                   params, now, v1, v2)  # fmt: skip
    assert "features this source cannot give" not in fresh
    assert "other feature code" not in fresh  # both trained by this installation's code
    connect(trained.tracking_uri)  # the process's MLflow URIs back on the suite's store


@pytest.mark.slow
def test_a_version_trained_with_other_feature_code_is_called_out(trained, tmp_path, monkeypatch):
    """After an upgrade that computes features otherwise, promote scored the champion with values
    it never learnt from and compared on that without a word, while daily and serve warn."""
    import training.promotion_job as job
    from features.version import stamp

    client, v1, v2 = champion_and_challenger(trained, tmp_path)
    params = load_params(trained.params_file)
    now = pd.Timestamp.now(tz="UTC")
    upgraded = {**stamp(), "version": 999}
    monkeypatch.setattr(job, "stamp", lambda: upgraded)
    said = promote_lines_on_whole(
        client, validated(trained.tables, params.contract, now), params, now, v1, v2
    )
    for role, v in (("challenger", v2.version), ("champion", v1.version)):
        assert f"warning: {role} v{v} was trained with other feature code (features v1, " in said
    assert "than this installation computes (features v999, " in said
    connect(trained.tracking_uri)  # the process's MLflow URIs back on the suite's store


@pytest.mark.slow
def test_the_decisions_run_keeps_the_caveats_promote_printed(trained, tmp_path):
    """The promotions experiment is the champion history a reviewer reads in MLflow: a decision
    taken on a window promote called unreliable or unfair kept only its reason there."""
    import mlflow

    client, v1, v2 = champion_and_challenger(trained, tmp_path)
    params = load_params(trained.params_file)
    now = pd.Timestamp.now(tz="UTC")
    no_usage = validated({**trained.tables, "usage": None}, params.contract, now)
    lines = promote(client, no_usage, params, now=now).lines
    printed = [line.strip() for line in lines if line.strip().startswith("warning:")]
    assert printed
    runs = mlflow.search_runs(
        experiment_names=["escalation-risk-promotions"],
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    kept = runs.iloc[0]["tags.warnings"].splitlines()
    assert all(w in kept for w in printed), (printed, kept)
    connect(trained.tracking_uri)  # the process's MLflow URIs back on the suite's store


@pytest.mark.slow
def test_a_window_without_a_positive_decides_nothing(trained, tmp_path):
    """An export where nobody churned: both versions scored nan, and the gate "kept champion:
    challenger worse beyond tolerance: churn_90d pr_auc nan vs champion nan", exit 0."""
    from features.errors import UserError

    client, v1, v2 = champion_and_challenger(trained, tmp_path)
    params = load_params(trained.params_file)
    now = pd.Timestamp.now(tz="UTC")
    nobody = validated({**trained.tables, "churn": trained.tables["churn"].iloc[0:0]},
                       params.contract, now)  # fmt: skip
    # an empty churn table tells no end of its export (labels.churn_until: table, the default)
    with pytest.raises(UserError, match=r"its churn table holds no event to tell where") as e:
        promote(client, nobody, params, now=now)
    assert "labels.churn_until to the day it was extracted" in str(e.value)
    # said to run to the rest of the source's end: nobody churned, so no pr_auc
    labels = params.labels.model_copy(update={"churn_until": "source"})
    params = params.model_copy(update={"labels": labels})
    with pytest.raises(UserError, match=r"pr_auc is undefined for \['churn_90d'\]") as e:
        promote(client, nobody, params, now=now)
    assert "churn_90d 0)" in str(e.value) and "promotion.window_days" in str(e.value)
    assert client.get_model_version_by_alias("escalation-risk", CHALLENGER).version == v2.version
    forced = promote(client, nobody, params, now=now, force=True, reason="pilot")
    assert forced.decision.promote
    said = "\n".join(forced.lines)  # an undefined score is no figure, not "nan [nan, nan]"
    assert "nan" not in said and "churn_90d: challenger v2 - | champion v1 -" in said, said
    connect(trained.tracking_uri)  # the process's MLflow URIs back on the suite's store


@pytest.mark.slow
def test_promote_replaces_a_champion_in_an_older_format(trained, tmp_path, monkeypatch):
    # promote scored the champion first: its bundle raised, with or without --force, so a
    # store whose champion an older release wrote could get no champion at all
    import training.promotion_job as job
    from training.bundle import SCHEMA_VERSION, UnsupportedBundle

    client, v1, v2 = champion_and_challenger(trained, tmp_path)
    download = job.download_bundle

    def older_champion(name, version):
        if str(version) == str(v1.version):
            raise UnsupportedBundle(SCHEMA_VERSION - 1)
        return download(name, version)

    monkeypatch.setattr(job, "download_bundle", older_champion)
    params = load_params(trained.params_file)
    now = pd.Timestamp.now(tz="UTC")
    result = promote(client, validated(trained.tables, params.contract, now), params, now=now)
    assert result.decision.promote
    assert f"champion v{v1.version} replaced without comparison" in result.decision.reason
    assert client.get_model_version_by_alias("escalation-risk", "champion").version == v2.version
    connect(trained.tracking_uri)  # the process's MLflow URIs back on the suite's store


@pytest.mark.slow
def test_promote_answers_in_german_and_logs_in_english(trained, tmp_path, monkeypatch, capsys):
    """A DACH team (--language de) read the windows, the comparison, the warnings and the
    verdict in English; the history MLflow keeps (the `reason` and `warnings` tags) stays in
    English, machine-readable whatever the team reads."""
    import re

    import mlflow

    from serving.cli import main

    client, v1, v2 = champion_and_challenger(trained, tmp_path)
    params = load_params(trained.params_file)
    now = pd.Timestamp.now(tz="UTC")
    no_usage = validated({**trained.tables, "usage": None}, params.contract, now)
    result = promote(client, no_usage, params, now=now, language="de")
    said = "\n".join(result.lines)
    assert said.startswith("Fenster ") and "Kennzahl pr_auc (95-%-Konfidenzintervall" in said
    assert re.search(r"challenger v2 \d,\d{4} \[\d,\d{4}; \d,\d{4}\] \| champion v1 \d,\d{4}", said)
    assert "gelabelte Positive)" in said and "labelled" not in said
    assert "Warnung: challenger v2 nutzt Features, die diese Quelle nicht liefern kann" in said
    assert result.lines[-1].startswith("v2 zum Champion befördert: Challenger nicht schlechter")
    run = mlflow.search_runs(
        experiment_names=["escalation-risk-promotions"],
        order_by=["attributes.start_time DESC"],
        max_results=1,
    ).iloc[0]
    assert run["tags.reason"] == result.decision.reason
    assert run["tags.reason"].startswith("challenger not worse on pr_auc (")
    assert all(w.startswith("warning: ") for w in run["tags.warnings"].splitlines())
    # the command passes its language down: the gate's refusal is told in German
    client.set_registered_model_alias("escalation-risk", CHALLENGER, v2.version)  # = champion
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    argv = ["promote", str(trained.source), "--params", str(trained.params_file)]
    assert main([*argv, "--language", "de"]) == 1
    assert "Version 2 ist bereits Champion" in capsys.readouterr().err
    connect(trained.tracking_uri)  # the process's MLflow URIs back on the suite's store


@pytest.mark.slow
def test_promote_version_rolls_back_to_an_earlier_version(trained, tmp_path, monkeypatch, capsys):
    """Rolling back took Python (moving 'challenger' by hand with MlflowClient), and took the
    alias from the version trained since: `--version N` compares N with the champion instead,
    and 'challenger' stays where it is."""
    from serving.cli import main
    from training.registry import CHAMPION, alias_version, promotion_history

    client, *both = champion_and_challenger(trained, tmp_path)
    v1, v2 = (str(v.version) for v in both)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    run = ["promote", str(trained.source), "--params", str(trained.params_file)]
    assert main([*run, "--force", "--reason", "try v2"]) == 0
    first = both[0]
    v3 = str(
        client.create_model_version("escalation-risk", first.source, run_id=first.run_id).version
    )
    client.set_registered_model_alias("escalation-risk", CHALLENGER, v3)  # trained since
    capsys.readouterr()
    assert main([*run, "--version", "9"]) == 1
    assert "escalation-risk has no version 9 (`escrisk models`" in capsys.readouterr().err
    assert main([*run, "--version", v2, "--language", "de"]) == 1
    assert f"Version {v2} ist bereits Champion" in capsys.readouterr().err
    assert main([*run, "--version", v1]) == 0  # the same model: not worse
    said = capsys.readouterr().out
    assert f"challenger v{v1} " in said and f"promoted v{v1} to champion" in said
    assert alias_version(client, "escalation-risk", CHAMPION) == v1
    assert alias_version(client, "escalation-risk", CHALLENGER) == v3
    last = promotion_history("escalation-risk").iloc[-1]
    assert (last["challenger"], last["champion"], last["promoted"]) == (v1, v2, "True")
    connect(trained.tracking_uri)  # the process's MLflow URIs back on the suite's store
