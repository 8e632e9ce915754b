"""Training is deterministic, calibrated, and beats the baselines when the signal is non-linear."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from training.baselines import LogisticBaseline, health_risk
from training.experiment import run_experiment
from training.split import choose_split


def test_same_data_params_seed_give_same_metrics(
    synthetic, params, horizons, model_params, small_eval
):
    frame, spec = synthetic
    split = choose_split(frame, horizons, params.split)
    a = run_experiment(frame, spec, horizons, split, model_params, small_eval).metrics()
    b = run_experiment(frame, spec, horizons, split, model_params, small_eval).metrics()
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], abs=1e-9, nan_ok=True), k


def test_heads_are_calibrated_and_baselines_serialise(
    synthetic, params, horizons, model_params, small_eval
):
    frame, spec = synthetic
    split = choose_split(frame, horizons, params.split)
    ex = run_experiment(frame, spec, horizons, split, model_params, small_eval)
    for o in ex.targets.values():
        m = o.evaluations["lightgbm"].metrics
        assert m["roc_auc"].value > 0.75
        assert m["ece"].value < 0.03
        assert abs(o.test["lightgbm"].mean() - o.test["y"].mean()) < 0.02
        back = LogisticBaseline.from_dict(o.logistic.to_dict())
        X = frame.head(20)
        np.testing.assert_array_equal(back.predict(X), o.logistic.predict(X))
        assert o.head.booster.current_iteration() <= params.model.num_boost_round


def test_health_score_bands(params):
    import pandas as pd

    from training.params import HealthRule

    rules = (
        HealthRule(feature="a", risk_when="high", yellow=1, red=2, weight=1),
        HealthRule(feature="b", risk_when="low", yellow=0, red=-1, weight=3),
    )
    X = pd.DataFrame({"a": [0, 1, 2, np.nan], "b": [1, 0, -1, -5]})
    np.testing.assert_allclose(health_risk(X, rules), [0, (0.5 + 1.5) / 4, 1, 1])


def test_importing_the_report_leaves_matplotlibs_backend_alone():
    """The evaluation notebook imports training.report; a backend forced at import (Agg) would
    keep its figures from showing. The escrisk commands choose Agg themselves."""
    import subprocess
    import sys

    code = (
        "import matplotlib; matplotlib.use('svg'); import training.report; "
        "print(matplotlib.get_backend())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert out.stdout.strip() == "svg"


def _accounts_only(frame):
    """A history of the synthetic frame's accounts and nothing else: the labels come with the
    frame, the features are given."""
    import pandas as pd

    from features.contract import History

    accounts = pd.DataFrame({"account_id": frame["account_id"].unique(), "csm_owner": "csm"})
    empty = {"account_id": pd.Series(dtype=object)}
    return History(
        accounts=accounts,
        tickets=pd.DataFrame(),
        escalations=pd.DataFrame({**empty, "opened_at": pd.Series(dtype="datetime64[ns, UTC]")}),
        churn=pd.DataFrame({**empty, "churned_at": pd.Series(dtype="datetime64[ns, UTC]")}),
    )


def test_a_backtest_folds_thin_test_window_is_warned_about(
    synthetic, params, horizons, model_params, small_eval
):
    """Every fold's figures are printed and logged, so an unreliable one is said, as the last's is."""
    import datetime as dt

    from training.job import train
    from training.pipeline import Labelled

    frame, spec = synthetic
    history = _accounts_only(frame)
    root = params.model_copy(
        update={
            "model": model_params,
            "evaluation": small_eval.model_copy(update={"min_positives": 10**6}),
            "split": params.split.model_copy(
                update={
                    "min_positives": 1,
                    "train_end": dt.date(2023, 9, 1),
                    "validation_end": dt.date(2024, 1, 1),
                    "test_end": dt.date(2024, 4, 1),
                }
            ),
        }
    )
    lab = Labelled(frame, spec, {}, frame["as_of"].max())
    out = train(history, root, backtest=2, labelled=lab)
    fold1 = [n for n in out.notes if n.startswith("backtest fold 1") and "unreliable" in n]
    assert len(fold1) == len(horizons) * 3, out.notes  # lightgbm, logistic, health score


def test_a_thin_validation_window_is_warned_about(
    synthetic, params, horizons, model_params, small_eval
):
    """Early stopping and calibration rest on validation: with fewer positives there than
    evaluation.min_positives, train says so loudly (and the metrics table), not only in counts."""
    from training.report import metrics_markdown

    frame, spec = synthetic
    split = choose_split(frame, horizons, params.split)
    ex = run_experiment(frame, spec, horizons, split, model_params, small_eval)
    least = min(o.positives["validation"] for o in ex.targets.values())
    assert not any("validation window" in w for w in ex.warnings)
    thin = small_eval.model_copy(update={"min_positives": least + 1})
    ex = run_experiment(frame, spec, horizons, split, model_params, thin)
    said = [w for w in ex.warnings if "in the validation window" in w]
    assert said and all(w.startswith("WARNING") for w in said)
    assert any(f"only {least} labelled positives" in w and "calibration" in w for w in said)
    assert all(f"> {w}" in metrics_markdown(ex) for w in said)


def test_a_flat_calibration_is_warned_about(synthetic, params, horizons, model_params, small_eval):
    """A validation window whose positives scored low leaves the calibration flat (every account
    at the base rate): the head then raises no alert its ranking would, so train says why."""
    from dataclasses import replace

    from training.calibrate import Calibrator
    from training.experiment import fit_warnings

    frame, spec = synthetic
    split = choose_split(frame, horizons, params.split)
    ex = run_experiment(frame, spec, horizons, split, model_params, small_eval)
    head = ex.targets["churn_90d"].head
    assert fit_warnings(head, 100, 30) == ()
    flat = replace(head, calibrator=Calibrator("sigmoid", a=1e-6, b=-3.0))
    (said,) = fit_warnings(flat, 100, 30)
    assert said.startswith("WARNING churn_90d") and "flat" in said and "0.0474" in said


def test_a_head_worse_than_chance_is_said_in_the_mlflow_run(
    synthetic, params, horizons, model_params, small_eval, monkeypatch
):
    """Train printed 'ranks no better than chance' on stderr only: whoever compares runs in MLflow
    later saw neither it in metrics.md nor any trace on the run. Both carry it now."""
    import datetime as dt

    import pandas as pd

    import training.job as job
    from training.pipeline import Labelled

    frame, spec = synthetic
    test = frame["as_of"] >= pd.Timestamp("2024-03-01", tz="UTC")
    flipped = frame.assign(churn_90d=frame["churn_90d"].where(~test, 1 - frame["churn_90d"]))
    history = _accounts_only(frame)
    root = params.model_copy(
        update={
            "model": model_params,
            "evaluation": small_eval,
            "split": params.split.model_copy(
                update={"train_end": dt.date(2023, 9, 1), "validation_end": dt.date(2024, 3, 1)}
            ),
        }
    )
    out = job.train(history, root, labelled=Labelled(flipped, spec, {}, frame["as_of"].max()))
    said = [w for w in out.experiment.warnings if "no better than chance" in w]
    assert said and said[0].startswith("WARNING churn_90d")
    logged = {}
    monkeypatch.setattr(job, "log_training", lambda **kw: logged.update(kw))
    monkeypatch.setattr(job, "write_reference", lambda *a: None)
    job.log_outcome(out, experiment="x", params_dict=root.model_dump(mode="json"), tags={},
                    model_name="m", seed=1)  # fmt: skip
    assert said[0] in logged["tags"]["warnings"].splitlines()
    from training.report import metrics_markdown

    assert f"> {said[0]}" in metrics_markdown(out.experiment)


def test_an_account_value_written_at_churn_is_warned_about_as_a_leak(params, make_history):
    """The accounts table is a snapshot of now: a CRM that zeroes a churned account's ARR tells
    every past snapshot who will churn, and the churn head's test figures look superb. Train
    names the feature that alone foretells the target, and stays quiet on honest data, whose
    strongest single feature reaches about 0.75."""
    from dataclasses import replace

    from training.job import train
    from training.pipeline import labelled_features

    history = make_history(120, 11, 18)
    p = params.model_copy(
        update={
            "split": params.split.model_copy(update={"min_positives": 5}),
            "model": params.model.model_copy(update={"num_threads": 1, "num_boost_round": 30}),
            "evaluation": params.evaluation.model_copy(update={"bootstrap_samples": 5}),
        }
    )
    lab = labelled_features(history, p)
    honest = train(history, p, labelled=lab)
    assert not any("near 1" in w for w in honest.experiment.warnings)
    gone = lab.frame["account_id"].isin(set(history.churn["account_id"]))
    zeroed = replace(lab, frame=lab.frame.assign(arr=lab.frame["arr"].where(~gone, 0.0)))
    leaky = train(history, p, labelled=zeroed)
    (said,) = [w for w in leaky.experiment.warnings if "near 1" in w]
    assert said.startswith("WARNING churn_90d: alone, arr (0.9") and "snapshot" in said


def test_the_calibration_plot_uses_the_runs_bins_and_shows_what_each_holds():
    """The plot drew 10 bins whatever `evaluation.ece_bins` said (the run's ECE used those), and
    did not show that its top bins held a handful of rows: marker areas grow with a bin's rows,
    and the rows per bin are written under it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from training.report import plot_calibration

    rng = np.random.default_rng(3)
    p = rng.beta(1, 8, 600)
    test = pd.DataFrame({"account_id": np.arange(600), "y": rng.random(600) < p, "lightgbm": p})
    fig, ax = plt.subplots()
    plot_calibration(ax, test, "escalation_30d", bins=4)
    [points] = ax.collections
    assert len(points.get_offsets()) == len(np.unique(np.minimum((p * 4).astype(int), 3)))
    per_bin = np.bincount(np.minimum((p * 4).astype(int), 3), minlength=4)
    sizes = points.get_sizes()
    assert sizes[0] > sizes[-1] and per_bin[0] > per_bin[-1]  # the crowded bin shows larger
    [caption] = [t.get_text() for t in ax.texts]
    assert "of 4" in caption
    assert f"lightgbm: {', '.join(f'{n:,}' for n in per_bin)}" in caption
    plt.close(fig)


def test_trains_notes_and_warnings_are_told_in_german_and_kept_in_english(
    synthetic, params, horizons, model_params, small_eval
):
    """A DACH team read train's split, counts, notes and "!!!" warnings in English: each is now
    told in the command's language, while MLflow keeps the English (notes.txt, warnings tag)."""
    import datetime as dt

    import training.job as job
    from features.context import Absence
    from training.pipeline import Labelled
    from training.text import absence, shown

    frame, spec = synthetic
    test = frame["as_of"] >= pd.Timestamp("2024-03-01", tz="UTC")
    flipped = frame.assign(churn_90d=frame["churn_90d"].where(~test, 1 - frame["churn_90d"]))
    root = params.model_copy(
        update={
            "model": model_params,
            "evaluation": small_eval.model_copy(update={"min_positives": 10_000}),
            "split": params.split.model_copy(
                update={"train_end": dt.date(2023, 9, 1), "validation_end": dt.date(2024, 3, 1)}
            ),
        }
    )
    usage = absence(Absence("table_absent", "usage"))
    lab = Labelled(flipped, spec, {"usage": usage}, frame["as_of"].max())
    out = job.train(_accounts_only(frame), root, labelled=lab, params_file="conf/p.yaml")
    english = "\n".join(out.notes)
    german = "\n".join(shown(n, "de") for n in out.notes)
    assert english.startswith("split (from conf/p.yaml): train as_of + horizon <= 2023-09-01")
    assert german.startswith(
        "Aufteilung (aus conf/p.yaml): Training as_of + Horizont <= 2023-09-01"
    )
    assert "churn_90d: gelabelte Positive Training " in german and ", Validierung " in german
    assert "feature family left out: usage (usage table absent)" in english
    assert "Feature-Familie ausgelassen: usage (Tabelle usage fehlt)" in german
    warned = out.experiment.warnings
    said = [shown(w, "de") for w in warned]
    assert any(w.startswith("WARNUNG churn_90d: das Modell ordnet im Testfenster") for w in said)
    assert any("gelabelte Positive im Validierungsfenster" in w for w in said)
    # the settings file named is the one train read (--params), not always params.yaml
    assert any("set split dates in conf/p.yaml that give validation more" in w for w in warned)
    assert any("Split-Daten in conf/p.yaml setzen, die der Validierung" in w for w in said)
    assert any(w.startswith("WARNUNG churn_90d/lightgbm/test: nur ") for w in said)
    assert all(w.startswith("WARNING") for w in warned)  # the warnings tag stays English
    assert not any("WARNING" in w or "labelled" in w for w in said), said
    from dataclasses import replace

    from features.errors import UserError

    no_churn = replace(_accounts_only(frame), churn=None)
    churn_only = root.model_copy(
        update={"model": model_params.model_copy(update={"targets": ("churn_90d",)})}
    )
    with pytest.raises(UserError, match="kein Ziel hat Labels: churn_90d: "):
        job.train(no_churn, churn_only, labelled=lab, language="de")


def test_train_refuses_in_the_teams_language(
    tiny_world, fast_params_file, tmp_path, monkeypatch, capsys
):
    """`escrisk train --language de` on a history too short to split was refused in English."""
    from features.sources import write_tables
    from serving.cli import main

    source = tmp_path / "tiny"
    write_tables(tiny_world.tables, source, fmt="csv")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    # its one churn is weeks before the data's end: the churn table is taken to go on to the end
    params_file = fast_params_file(tmp_path / "p.yaml")
    data = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    data["labels"]["churn_until"] = "source"
    params_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    argv = ["train", str(source), "--params", str(params_file)]
    assert main([*argv, "--language", "de"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("escrisk train: nicht genug gelabelte Positive für ein "), err
    assert "mehr Historie verwenden (Training, Validierung und Test" in err, err
    assert "labelled" not in err and "history" not in err, err


def test_a_refusal_for_want_of_positives_names_a_label_table_ending_early(
    tiny_world, fast_params_file, tmp_path, monkeypatch, capsys
):
    """The tiny world's one churn lies weeks before the data's end. Its table is taken to end
    there (labels.churn_until: table), which leaves no churn positive: the refusal says so and
    names the setting, in the team's language, before anything is trained."""
    from features.sources import write_tables
    from serving.cli import main

    source = tmp_path / "tiny"
    write_tables(tiny_world.tables, source, fmt="csv")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    params_file = fast_params_file(tmp_path / "p.yaml")
    argv = ["train", str(source), "--params", str(params_file), "--language", "de"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("escrisk train: nicht genug gelabelte Positive für ein "), err
    assert "Hinweis: churn_90d: die Tabelle churn endet 2026-05-26 00:00 UTC, vor den" in err, err
    assert f"labels.churn_until in {params_file} auf diesen Tag setzen" in err, err


def test_why_a_family_or_a_label_is_missing_is_told_in_german(tiny_world, params):
    """The absences training builds (a family's table, a label's table) read "usage table
    absent" inside German lines: each is told in the line's language, English as before."""
    from features.contract import validated
    from training.pipeline import labelled_features, unavailable_labels
    from training.text import shown

    tables = {**tiny_world.tables, "usage": None, "churn": None}
    now = pd.Timestamp(params.simulation.end_date, tz="UTC")
    history = validated(tables, params.contract, now, source="tiny")
    why = labelled_features(history, params).unavailable["usage"]
    assert (why, shown(why, "de")) == ("usage table absent", "Tabelle usage fehlt")
    label = unavailable_labels(history)["churn_90d"]
    assert label == "the source has no churn table"
    assert shown(label, "de") == "die Quelle hat keine Tabelle churn"
