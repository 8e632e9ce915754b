"""The texts `escrisk train` and `escrisk promote` print from `training/`, in English and German.

What MLflow keeps (the gate's `reason` tag, the warnings tags, notes.txt) stays in English, a
machine-readable history whichever language the team reads: a `Said` is that English text and
carries its key and values, so the command can print it in the team's language (`shown`).
`training` may not import `serving`, so this is its own catalog, formatted as serving's are
(numbers as the language writes them, "[singular|plural]" forms). MLflow's own names (the aliases
'champion' and 'challenger', metric, window and target names) stay as MLflow shows them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from features.context import Absence
from features.errors import UserError
from features.spec import localized, number_forms

CATALOG: Mapping[str, Mapping[str, str]] = {
    "en": {
        # promote
        "no_events": "the source holds no events; nothing to evaluate on",
        "no_window": "no labelled as_of dates in the most recent window; is the data too short?",
        "no_labelled_window": "no labelled {target} snapshots in its promotion window (as_of "
        "after {start} up to {last}: its {table} table ends {end} and a {target} label needs {days} "
        "days after its as_of). Promote on a source with a longer history, or raise "
        "promotion.window_days",
        "no_table_end": "no labelled {target} snapshots: its {table} table holds no event to tell "
        "where the export ends (labels.{setting}: {rule}). If the table is empty because nothing "
        "happened, set labels.{setting} to the day it was extracted (YYYY-MM-DD) or to source",
        "no_challenger": "{model} has no 'challenger' version (`escrisk train` makes one from a "
        "source with both label tables, escalations and churn; `escrisk models` lists the "
        "versions)",
        "no_challenger_held": "{model} has no 'challenger' version; version {champion} is "
        "champion (`escrisk train` makes one from a source with both label tables, escalations "
        "and churn; `escrisk models` lists the versions)",
        "already_champion": "version {version} is already champion",
        "no_version": "{model} has no version {version} (`escrisk models` lists the versions)",
        "lacking_head": "version {version} has no head for {lacking} (trained on data without "
        "those labels, e.g. no churn table); `escrisk daily` and the service need every head of "
        "model.targets, so it cannot become champion. Train on data that has them.",
        "labels_absent": "cannot compare the versions: {absent}, so their heads for it have no "
        "labels to be scored on. Promote on a source with the escalations and churn tables",
        "unreadable_champion": "champion v{champion} replaced without comparison: an older "
        "release saved it in bundle format {found}, which this version does not read",
        "undefined_metric": "cannot compare the versions: {metric} is undefined for {blind} in "
        "the promotion window ({window}; labelled positives: {held}), e.g. no account churned in "
        "it. Promote on a source whose events reach into the window, or raise "
        "promotion.window_days in params.yaml",
        "windows": "windows {window}; metric {metric} (95% CI by account bootstrap)",
        "with_ci": "{value:.4f} [{low:.4f}, {high:.4f}]",
        "compare": "{target}: challenger v{challenger} {new} | champion {champion} {old} "
        "({positives} labelled [positive|positives])",
        "no_champion": "none",
        "few_positives": "warning: {target}: only {few} labelled positives in this window "
        "(evaluation.min_positives = {least}); the scores above are unreliable "
        "(promotion.window_days sets its length)",
        "optimistic": "warning: the window starts before {seen}, the end of the data {role} "
        "v{version} was fitted and calibrated on: its score here is optimistic. Promote on data "
        "newer than both models' training data",
        "other_feature_code": "warning: {role} v{version} was trained with other feature code "
        "({trained}) than this installation computes ({now}); scored here with values it never "
        "learnt from, its figures understate it. Train it again to compare like with like",
        "missing_features": "warning: {role} v{version} uses features this source cannot give: "
        "{gone}. It is scored here without them, so its score says little of the version. "
        "Promote on a source with every table and column both versions use",
        "difference": "challenger - champion {value:+.4f} [{low:+.4f}, {high:+.4f}] (paired: "
        "both scored on the same accounts, one bootstrap)",
        "overlap": "the 95% interval of challenger - champion holds 0 for {targets}: this window "
        "cannot tell the two apart there with confidence (a retrain with another seed may decide "
        "otherwise)",
        "promoted": "promoted v{challenger} to champion: {reason}",
        "kept": "kept champion v{champion}: {reason}",
        # the gate's reasons (training/promote.py)
        "forced": "forced: {reason}",
        "first_model": "first model: becomes champion",
        "worse_item": "{target} {metric} {new:.4f} vs champion {old:.4f}",
        "worse": "challenger worse beyond tolerance {tolerance}: {worse}",
        "not_worse_item": "{target} {new:.4f} vs {old:.4f}",
        "not_worse": "challenger not worse on {metric} ({shown})",
        "cut_short": "{reason}; but the promotion was cut short ({cause}): undone",
        # train
        "split": "split ({how}): train as_of + horizon <= {train_end} | validation {train_end} "
        ".. {validation_end} | test {validation_end} .. {test_end}",
        "split_chosen": "chosen from the data",
        "split_from": "from {source}",
        "end_of_data": "end of data",
        "no_target": "no target has labels: {missing}",
        "label_unavailable": "label unavailable: {target} ({why}); its head is not trained",
        "positives": "{target}: labelled positives {counts}",
        "unlabeled": "{target}: {n} of {rows} [snapshot|snapshots] unlabeled (neither trained "
        "nor tested on): a label needs {days} days of the {table} table after its as_of, and that "
        "table ends {end} ({rule})",
        "rule_table": "labels.{setting}: table, its latest event",
        "rule_auto": "labels.{setting}: auto, its latest event (silent since for longer than its "
        "pace of events explains)",
        "refused_label_ends": "{refusal}. Note: {ends}",
        "rule_source": "labels.{setting}: source, the latest event of any table",
        "rule_date": "labels.{setting}: {date}",
        "no_table_events": "{target}: all {rows} snapshots unlabeled: the {table} table holds no "
        "event to tell where it ends (labels.{setting}: {rule}); set it to source, or to the day "
        "the table was extracted, in {file}",
        "ends_early": "{target}: the {table} table ends {end}, before the rest of the data "
        "({data_end}), so {n} [snapshot is|snapshots are] unlabeled that the end of the data would "
        "have read as 0. If the table was extracted later than its latest event, set "
        "labels.{setting} in {file} to that day (or to source: it is exported with the rest)",
        "few_train_positives": "note: {target} trains on fewer positives than it is validated "
        "or tested on (the history is short for its horizon and the gaps between windows); the "
        "registered model is the one fitted on the train window: set split dates in {file} to "
        "give training more",
        "family_left_out": "feature family left out: {family} ({why})",
        "fold": "backtest fold {fold}: {warning}",
        "window_train": "train",
        "window_validation": "validation",
        "window_test": "test",
        "window_count": "{window} {n}",
        "unreliable": "WARNING{label}: only {n} labelled positives in this window "
        "(evaluation.min_positives = {least}); these figures are unreliable",
        "capacity": "precision_at_k and recall_at_k say nothing here: evaluation.weekly_capacity "
        "({capacity}) is at least the accounts scored in every week of this window (at most "
        "{busiest}), so every account is flagged, precision_at_k is the base rate and "
        "recall_at_k 1 whatever the model; set weekly_capacity to what the team can act on, "
        "below the portfolio's size",
        # train's warnings (training/experiment.py, training/metrics.py)
        "chance": "WARNING {target}: the model ranks no better than chance on the test window "
        "(ROC-AUC {auc}); do not promote it without a look at the data",
        "baseline_better": "WARNING {target}: the {baseline} does better than the model on the "
        "test window: {metric} model - baseline {value:+.4f} [{low:+.4f}, {high:+.4f}] (paired: "
        "both scored on the same accounts, one bootstrap; the interval lies below 0); look at "
        "the data and the features before promoting it",
        "baseline_health_score": "rules-only health score",
        "baseline_logistic": "logistic baseline",
        "thin_validation": "WARNING {target}: only {positives} labelled positives in the "
        "validation window (evaluation.min_positives = {least}); early stopping ({trees} trees) "
        "and the {kind} calibration were fitted on them, so its probabilities and the alerts "
        "they raise rest on a few events: set split dates in {file} that give validation "
        "more",
        "flat_calibration": "WARNING {target}: on the validation window the observed rate does "
        "not rise with the model's score, so its calibration is flat: every account gets about "
        "the validation rate ({rate:.4f}) whatever its score (the order among accounts is the "
        "model's own); look at the validation window and its positives",
        "leak": "WARNING {target}: alone, {named} ranks the test window at ROC-AUC near "
        "1: no feature known at as_of foretells it so well, so the value was probably written "
        "after the event (the accounts table is a snapshot of now: an ARR or seat count zeroed "
        "at churn, or a tier renamed, tells every past snapshot who will churn; "
        "docs/features.md, Known limits). Check how the source fills it before trusting or "
        "promoting this model",
        "leak_many": "WARNING {target}: alone, {named} rank the test window at ROC-AUC near "
        "1: no feature known at as_of foretells it so well, so the value was probably written "
        "after the event (the accounts table is a snapshot of now: an ARR or seat count zeroed "
        "at churn, or a tier renamed, tells every past snapshot who will churn; "
        "docs/features.md, Known limits). Check how the source fills it before trusting or "
        "promoting this model",
        "leak_item": "{name} ({auc:.3f})",
        # train's refusals (training/split.py, training/pipeline.py, training/train.py)
        "split_short": "{split}\nwindows with fewer labelled positives than "
        "split.min_positives={least}: {short}. {advice}",
        "short_window": "{target}/{window}: {n}",
        "advice_auto": "Use more history, or set split dates in {file} (split.train_end, "
        "split.validation_end), or lower split.min_positives.",
        "advice_auto_dates": "Use more history, or set split dates in {file} (split.train_end, "
        "split.validation_end).",
        "advice_dates": "The data's as_of dates run {first} .. {last} and a snapshot counts in a "
        "window only when its label horizon ({horizons}) ends inside it: move split.train_end / "
        "split.validation_end / split.test_end in {file}, or lower split.min_positives.",
        "advice_move": "The data's as_of dates run {first} .. {last} and a snapshot counts in a "
        "window only when its label horizon ({horizons}) ends inside it: move split.train_end / "
        "split.validation_end / split.test_end in {file}.",
        "horizon": "{target} {days} [day|days]",
        "target_count": "{target} {n}",
        "more_history": "use more history (train, validation and test each need a label "
        "horizon: {horizons})",
        "more_history_or_lower": "use more history (train, validation and test each need a label "
        "horizon: {horizons}) or lower split.min_positives",
        "few_dates": "need at least 3 distinct as_of dates to split, found {n}",
        "no_test_window": "not enough labelled positives for a test window (need {least} per "
        "target; totals {totals}){hint}",
        "hint_no_positive": "; {targets} have no labelled positive in all the data (is their "
        "events table empty, or are its events all too recent to label?): no setting in "
        "{file} can train a head without positives; add the events (escrisk validate SOURCE "
        "shows what the source holds)",
        "hint_test_end": "; {targets} have no labelled positive whose label horizon ends by "
        "split.test_end {end} (the snapshots run from {first} to {last}): move split.test_end in "
        "{file} later, or empty it for the end of the data",
        "hint_too_few": "; {targets} have too few in all the data (is their table missing or "
        "empty?): {more}",
        "hint_more": "; {more}",
        "no_validation_window": "not enough labelled positives for a validation window before "
        "{end} (need {least} per target; totals {totals}, of which {before} have their label "
        "horizon end by {end}, for training and validation to share): {more}",
        "backtest_k": "--backtest needs K >= 1",
        "backtest_none_fits": "--backtest {k}: the oldest fold would have no training data; this "
        "history holds only the split's own test window of {days} days, so no backtest fits: use "
        "more history, or set split dates in {file} (a later split.validation_end makes the test "
        "windows shorter)",
        "backtest_too_many": "--backtest {k}: the oldest fold would have no training data; at "
        "most {most} [test window|test windows] of {days} days fit this history",
        "backtest_oldest": "--backtest {k}: the oldest fold would have no training data "
        "(train_end {train_end}); use fewer folds",
        "backtest_fold_short": "--backtest {k}: fold {fold} of {k} (test from {start}) has too "
        "few labelled positives (need {least}): {short}; use fewer folds or more history",
        "backtest_fold_lower": "--backtest {k}: fold {fold} of {k} (test from {start}) has too "
        "few labelled positives (need {least}): {short}; use fewer folds or more history, or a "
        "lower split.min_positives",
        "no_grid": "the data spans no as_of date of the grid; nothing to train on",
        "no_label_table": "the source has no {table} table",
        "one_class": "{target}: the {window} window has only one class; cannot train",
        "no_rules": "model.health_score: none of the rules' features exist in the feature set "
        "({rules}); available: {available}",
        # why a feature family is left out (features.context.Absence, as its str() says it)
        "why_table_absent": "{table} table absent",
        "why_table_empty": "{table} table empty",
        "why_column_absent": "{table} table has no column {column!r}",
        "why_column_empty": "{table} table has no {column} values",
        "family_why": "{family} ({why})",
        # the tracking store and the registry (training/registry.py)
        "store_bad_port": "MLflow tracking store {uri}: not a valid database URL (the port must "
        "be a number: dialect://user:password@host:5432/database); check MLFLOW_TRACKING_URI",
        "store_sqlite_slashes": "MLflow tracking store {uri}: a SQLite URL takes three slashes "
        "before a relative path ({example}) and four before an absolute one "
        "(sqlite:////home/me/mlflow.db); check MLFLOW_TRACKING_URI",
        "store_no_driver": "MLflow tracking store {uri}: the database driver is not installed "
        "({driver}); SQLite and PostgreSQL (postgresql:// or postgresql+psycopg://) work out of "
        "the box; check MLFLOW_TRACKING_URI",
        "store_no_tables": "no MLflow store in the database {uri} that MLFLOW_TRACKING_URI names "
        "(it holds no MLflow tables): `escrisk train SOURCE` creates them; or point "
        "MLFLOW_TRACKING_URI at the store you trained into",
        "store_cannot_connect": "MLflow tracking store {uri}: cannot connect ({cause}); check "
        "MLFLOW_TRACKING_URI and that the database is running",
        "store_missing": "no MLflow store at {path} (MLFLOW_TRACKING_URI={uri}): `escrisk train "
        "SOURCE` creates it; or point MLFLOW_TRACKING_URI at the store you trained into",
        "store_unusable": "the MLflow store {path} (MLFLOW_TRACKING_URI={uri}) cannot be used "
        "({cause}): point MLFLOW_TRACKING_URI at the store you trained into, or move the file "
        "away and `escrisk train SOURCE` creates a new one",
        "experiment_blank": "--experiment needs a name",
        "experiment_promotions": "--experiment {name!r} is where promote records the champion "
        "history of {model}; a training run there would show as a blank decision in `escrisk "
        "models`: name another experiment",
        "experiment_deleted": "--experiment {name!r} was deleted in this MLflow store: restore "
        "it (mlflow experiments restore) or name another",
        "registry_changed": "the registry of {model} changed while promote scored challenger "
        "v{challenger} against champion {champion}: it now holds {held} (a version deleted or an "
        "alias moved meanwhile). Nothing was moved or logged; run `escrisk promote` again to "
        "compare the versions the aliases hold now",
        "no_model": "no registered model named {model!r} (run `escrisk train` first)",
        "target_why": "{target}: {why}",
        # the tracking server and the model bundles a reader loads (daily, serve, promote)
        "server_cannot_connect": "MLflow tracking server {uri}: cannot connect ({why}); check "
        "MLFLOW_TRACKING_URI and that the server is running",
        "server_no_answer": "no answer within {seconds} s",
        "server_refused": "connection failed",
        "no_finished_runs": "no finished runs in MLflow experiment {experiment!r} (run `escrisk "
        "train` first)",
        "run_unknown": "{told}: no such run in the MLflow store {uri} (`mlflow ui` lists the "
        "runs; unset, the notebook reads the latest training)",
        "run_not_training": "{told}: a run of experiment {experiment!r} without a training report "
        "(a promote decision, or a training cut short); give the id of an `escrisk train` run",
        "bundle_cannot_load": "cannot load {uri}: {cause}",
        "bundle_none_in": "{uri} holds no model bundle",
        "not_a_bundle": "{path}: not a model bundle (no bundle.json)",
        "bundle_bad_settings": "{path}: the model's feature settings do not load: {cause}",
        "bundle_format": "model bundle format {found} is not read by this version of escrisk "
        "(it reads {reads}): train a new version and promote it (escrisk train SOURCE && "
        "escrisk promote SOURCE)",
        "bundle_no_head": "model {version} has no head for {missing}",
    },
    "de": {
        "no_events": "die Quelle enthält keine Ereignisse; nichts zu bewerten",
        "no_window": "keine gelabelten as_of-Tage im jüngsten Fenster; sind die Daten zu kurz?",
        "no_labelled_window": "keine gelabelten {target}-Snapshots in seinem Promotion-Fenster "
        "(as_of nach {start} bis {last}: seine Tabelle {table} endet {end}, und ein {target}-Label "
        "braucht {days} Tage nach seinem as_of). Auf einer Quelle mit längerer Historie promoten oder "
        "promotion.window_days erhöhen",
        "no_table_end": "keine gelabelten {target}-Snapshots: seine Tabelle {table} enthält kein "
        "Ereignis, an dem sich das Ende des Exports ablesen ließe (labels.{setting}: {rule}). Ist die "
        "Tabelle leer, weil nichts geschah, labels.{setting} auf den Tag des Exports (JJJJ-MM-TT) "
        "oder auf source setzen",
        "no_challenger": "{model} hat keine 'challenger'-Version (`escrisk train` erstellt eine "
        "aus einer Quelle mit beiden Label-Tabellen, escalations und churn; `escrisk models` "
        "listet die Versionen)",
        "no_challenger_held": "{model} hat keine 'challenger'-Version; Version {champion} ist "
        "Champion (`escrisk train` erstellt eine aus einer Quelle mit beiden Label-Tabellen, "
        "escalations und churn; `escrisk models` listet die Versionen)",
        "already_champion": "Version {version} ist bereits Champion",
        "no_version": "{model} hat keine Version {version} (`escrisk models` listet die Versionen)",
        "lacking_head": "Version {version} hat keinen Kopf für {lacking} (trainiert auf Daten "
        "ohne diese Labels, z. B. ohne churn-Tabelle); `escrisk daily` und der Dienst brauchen "
        "jeden Kopf von model.targets, also kann sie nicht Champion werden. Auf Daten "
        "trainieren, die sie haben.",
        "labels_absent": "die Versionen sind nicht vergleichbar: {absent}, also haben ihre Köpfe "
        "dafür keine Labels, an denen sie bewertet werden können. Auf einer Quelle mit den "
        "Tabellen escalations und churn promoten",
        "unreadable_champion": "Champion v{champion} ohne Vergleich ersetzt: ein älteres Release "
        "hat ihn im Bundle-Format {found} gespeichert, das diese Version nicht liest",
        "undefined_metric": "die Versionen sind nicht vergleichbar: {metric} ist für {blind} im "
        "Promotion-Fenster nicht definiert ({window}; gelabelte Positive: {held}), z. B. weil "
        "darin kein Account gekündigt hat. Auf einer Quelle promoten, deren Ereignisse in das "
        "Fenster reichen, oder promotion.window_days in params.yaml erhöhen",
        "windows": "Fenster {window}; Kennzahl {metric} (95-%-Konfidenzintervall per Bootstrap "
        "über Accounts)",
        "with_ci": "{value:.4f} [{low:.4f}; {high:.4f}]",
        "compare": "{target}: challenger v{challenger} {new} | champion {champion} {old} "
        "({positives} [gelabeltes Positiv|gelabelte Positive])",
        "no_champion": "keiner",
        "few_positives": "Warnung: {target}: nur {few} gelabelte Positive in diesem Fenster "
        "(evaluation.min_positives = {least}); die Werte oben sind unzuverlässig "
        "(promotion.window_days legt seine Länge fest)",
        "optimistic": "Warnung: das Fenster beginnt vor dem {seen}, dem Ende der Daten, auf "
        "denen {role} v{version} angepasst und kalibriert wurde: sein Wert hier ist zu "
        "optimistisch. Auf Daten promoten, die neuer sind als die Trainingsdaten beider Modelle",
        "other_feature_code": "Warnung: {role} v{version} wurde mit anderem Feature-Code "
        "({trained}) trainiert, als diese Installation rechnet ({now}); hier mit Werten bewertet, "
        "die es nie gelernt hat, unterschätzen seine Zahlen es. Für einen fairen Vergleich neu "
        "trainieren",
        "missing_features": "Warnung: {role} v{version} nutzt Features, die diese Quelle nicht "
        "liefern kann: {gone}. Sie wird hier ohne sie bewertet, ihr Wert sagt also wenig über "
        "die Version. Auf einer Quelle promoten, die jede Tabelle und Spalte beider Versionen hat",
        "difference": "challenger - champion {value:+.4f} [{low:+.4f}; {high:+.4f}] (gepaart: "
        "beide auf denselben Accounts bewertet, ein Bootstrap)",
        "overlap": "das 95-%-Intervall von challenger - champion enthält 0 für {targets}: dieses "
        "Fenster kann die beiden dort nicht sicher unterscheiden (ein erneutes Training mit "
        "anderem Seed kann anders entscheiden)",
        "promoted": "v{challenger} zum Champion befördert: {reason}",
        "kept": "Champion v{champion} behalten: {reason}",
        "forced": "erzwungen: {reason}",
        "first_model": "erstes Modell: wird Champion",
        "worse_item": "{target} {metric} {new:.4f} gegen Champion {old:.4f}",
        "worse": "Challenger schlechter als die Toleranz {tolerance} erlaubt: {worse}",
        "not_worse_item": "{target} {new:.4f} gegen {old:.4f}",
        "not_worse": "Challenger nicht schlechter bei {metric} ({shown})",
        "cut_short": "{reason}; aber die Promotion wurde abgebrochen ({cause}): rückgängig gemacht",
        "split": "Aufteilung ({how}): Training as_of + Horizont <= {train_end} | Validierung "
        "{train_end} .. {validation_end} | Test {validation_end} .. {test_end}",
        "split_chosen": "aus den Daten gewählt",
        "split_from": "aus {source}",
        "end_of_data": "Datenende",
        "no_target": "kein Ziel hat Labels: {missing}",
        "label_unavailable": "Label nicht verfügbar: {target} ({why}); sein Kopf wird nicht "
        "trainiert",
        "positives": "{target}: gelabelte Positive {counts}",
        "unlabeled": "{target}: {n} von {rows} [Snapshot|Snapshots] ohne Label (weder trainiert "
        "noch getestet): ein Label braucht {days} Tage der Tabelle {table} nach seinem as_of, und "
        "diese Tabelle endet {end} ({rule})",
        "rule_table": "labels.{setting}: table, ihr letztes Ereignis",
        "rule_auto": "labels.{setting}: auto, ihr letztes Ereignis (seither länger still, als ihr "
        "Takt an Ereignissen erklärt)",
        "refused_label_ends": "{refusal}. Hinweis: {ends}",
        "rule_source": "labels.{setting}: source, das letzte Ereignis aller Tabellen",
        "rule_date": "labels.{setting}: {date}",
        "no_table_events": "{target}: alle {rows} Snapshots ohne Label: die Tabelle {table} hat "
        "kein Ereignis, an dem sich ihr Ende ablesen ließe (labels.{setting}: {rule}); in {file} "
        "auf source oder auf den Tag ihres Exports setzen",
        "ends_early": "{target}: die Tabelle {table} endet {end}, vor den übrigen Daten "
        "({data_end}), daher fehlt {n} [Snapshot|Snapshots] ein Label, das das Ende der Daten als "
        "0 gelesen hätte. Wurde die Tabelle später als ihr letztes Ereignis exportiert, "
        "labels.{setting} in {file} auf diesen Tag setzen (oder auf source: sie wird mit den "
        "übrigen exportiert)",
        "few_train_positives": "Hinweis: {target} trainiert auf weniger Positiven, als es "
        "validiert oder getestet wird (die Historie ist kurz für seinen Horizont und die Lücken "
        "zwischen den Fenstern); registriert wird das auf dem Trainingsfenster angepasste "
        "Modell: Split-Daten in {file} setzen, die dem Training mehr geben",
        "family_left_out": "Feature-Familie ausgelassen: {family} ({why})",
        "fold": "Backtest-Fold {fold}: {warning}",
        "window_train": "Training",
        "window_validation": "Validierung",
        "window_test": "Test",
        "window_count": "{window} {n}",
        "unreliable": "WARNUNG{label}: nur {n} gelabelte Positive in diesem Fenster "
        "(evaluation.min_positives = {least}); diese Werte sind unzuverlässig",
        "capacity": "precision_at_k und recall_at_k sagen hier nichts: "
        "evaluation.weekly_capacity ({capacity}) ist mindestens so groß wie die in jeder Woche "
        "dieses Fensters bewerteten Accounts (höchstens {busiest}), also wird jeder Account "
        "markiert, precision_at_k ist die Basisrate und recall_at_k 1, was auch immer das Modell "
        "tut; weekly_capacity auf das setzen, was das Team bearbeiten kann, unter der Größe des "
        "Portfolios",
        "chance": "WARNUNG {target}: das Modell ordnet im Testfenster nicht besser als der "
        "Zufall (ROC-AUC {auc}); nicht promoten, ohne die Daten anzusehen",
        "baseline_better": "WARNUNG {target}: {baseline} schneidet im Testfenster besser ab als "
        "das Modell: {metric} Modell - Baseline {value:+.4f} [{low:+.4f}; {high:+.4f}] (gepaart: "
        "beide auf denselben Accounts bewertet, ein Bootstrap; das Intervall liegt unter 0); vor "
        "dem Promoten Daten und Features ansehen",
        "baseline_health_score": "der regelbasierte Health Score",
        "baseline_logistic": "die logistische Baseline",
        "thin_validation": "WARNUNG {target}: nur {positives} gelabelte Positive im "
        "Validierungsfenster (evaluation.min_positives = {least}); Early Stopping ({trees} "
        "Bäume) und die Kalibrierung {kind} wurden darauf angepasst, seine Wahrscheinlichkeiten "
        "und die Alarme daraus beruhen also auf wenigen Ereignissen: Split-Daten in {file} "
        "setzen, die der Validierung mehr geben",
        "flat_calibration": "WARNUNG {target}: im Validierungsfenster steigt die beobachtete "
        "Rate nicht mit dem Wert des Modells, seine Kalibrierung ist also flach: jeder Account "
        "bekommt etwa die Validierungsrate ({rate:.4f}), was auch immer sein Wert ist (die "
        "Reihenfolge der Accounts ist die des Modells); Validierungsfenster und seine Positiven "
        "ansehen",
        "leak": "WARNUNG {target}: allein ordnet {named} das Testfenster mit ROC-AUC "
        "nahe 1: kein zum as_of bekanntes Feature sagt es so gut voraus, der Wert wurde also "
        "wohl nach dem Ereignis geschrieben (die Tabelle accounts ist eine Momentaufnahme von "
        "heute: ein bei Kündigung auf null gesetzter ARR oder Seat-Count oder ein umbenannter "
        "Tarif verrät jedem früheren Snapshot, wer kündigen wird; docs/features.md, Known "
        "limits). Prüfen, wie die Quelle ihn füllt, bevor diesem Modell vertraut oder es "
        "promotet wird",
        "leak_many": "WARNUNG {target}: allein ordnen {named} das Testfenster mit ROC-AUC "
        "nahe 1: kein zum as_of bekanntes Feature sagt es so gut voraus, der Wert wurde also "
        "wohl nach dem Ereignis geschrieben (die Tabelle accounts ist eine Momentaufnahme von "
        "heute: ein bei Kündigung auf null gesetzter ARR oder Seat-Count oder ein umbenannter "
        "Tarif verrät jedem früheren Snapshot, wer kündigen wird; docs/features.md, Known "
        "limits). Prüfen, wie die Quelle ihn füllt, bevor diesem Modell vertraut oder es "
        "promotet wird",
        "leak_item": "{name} ({auc:.3f})",
        "split_short": "{split}\nFenster mit weniger gelabelten Positiven als "
        "split.min_positives={least}: {short}. {advice}",
        "short_window": "{target}/{window}: {n}",
        "advice_auto": "Mehr Historie verwenden oder Split-Daten in {file} setzen "
        "(split.train_end, split.validation_end) oder split.min_positives senken.",
        "advice_auto_dates": "Mehr Historie verwenden oder Split-Daten in {file} setzen "
        "(split.train_end, split.validation_end).",
        "advice_dates": "Die as_of-Tage der Daten reichen von {first} bis {last}, und ein "
        "Snapshot zählt in einem Fenster nur, wenn sein Label-Horizont ({horizons}) darin endet: "
        "split.train_end / split.validation_end / split.test_end in {file} verschieben oder "
        "split.min_positives senken.",
        "advice_move": "Die as_of-Tage der Daten reichen von {first} bis {last}, und ein "
        "Snapshot zählt in einem Fenster nur, wenn sein Label-Horizont ({horizons}) darin endet: "
        "split.train_end / split.validation_end / split.test_end in {file} verschieben.",
        "horizon": "{target} {days} [Tag|Tage]",
        "target_count": "{target} {n}",
        "more_history": "mehr Historie verwenden (Training, Validierung und Test brauchen je "
        "einen Label-Horizont: {horizons})",
        "more_history_or_lower": "mehr Historie verwenden (Training, Validierung und Test "
        "brauchen je einen Label-Horizont: {horizons}) oder split.min_positives senken",
        "few_dates": "für eine Aufteilung braucht es mindestens 3 verschiedene as_of-Tage, "
        "gefunden: {n}",
        "no_test_window": "nicht genug gelabelte Positive für ein Testfenster ({least} je Ziel "
        "nötig; insgesamt {totals}){hint}",
        "hint_no_positive": "; {targets} haben in den gesamten Daten kein gelabeltes Positiv "
        "(ist ihre Ereignistabelle leer, oder sind ihre Ereignisse alle zu jung für ein Label?): "
        "keine Einstellung in {file} kann einen Kopf ohne Positive trainieren; die "
        "Ereignisse hinzufügen (escrisk validate QUELLE zeigt, was die Quelle enthält)",
        "hint_test_end": "; {targets} haben kein gelabeltes Positiv, dessen Label-Horizont bis "
        "split.test_end {end} endet (die Stichtage reichen von {first} bis {last}): "
        "split.test_end in {file} später setzen oder leeren für das Ende der Daten",
        "hint_too_few": "; {targets} haben in den gesamten Daten zu wenige (fehlt ihre Tabelle "
        "oder ist sie leer?): {more}",
        "hint_more": "; {more}",
        "no_validation_window": "nicht genug gelabelte Positive für ein Validierungsfenster vor "
        "dem {end} ({least} je Ziel nötig; insgesamt {totals}, davon {before} mit Ende des "
        "Label-Horizonts bis {end}, die sich Training und Validierung teilen): {more}",
        "backtest_k": "--backtest braucht K >= 1",
        "backtest_none_fits": "--backtest {k}: der älteste Fold hätte keine Trainingsdaten; "
        "diese Historie enthält nur das eigene Testfenster der Aufteilung von {days} Tagen, also "
        "passt kein Backtest: mehr Historie verwenden oder Split-Daten in {file} setzen (ein "
        "späteres split.validation_end verkürzt die Testfenster)",
        "backtest_too_many": "--backtest {k}: der älteste Fold hätte keine Trainingsdaten; "
        "höchstens {most} [Testfenster|Testfenster] von {days} Tagen passen in diese Historie",
        "backtest_oldest": "--backtest {k}: der älteste Fold hätte keine Trainingsdaten "
        "(train_end {train_end}); weniger Folds verwenden",
        "backtest_fold_short": "--backtest {k}: Fold {fold} von {k} (Test ab {start}) hat zu "
        "wenige gelabelte Positive ({least} nötig): {short}; weniger Folds oder mehr Historie "
        "verwenden",
        "backtest_fold_lower": "--backtest {k}: Fold {fold} von {k} (Test ab {start}) hat zu "
        "wenige gelabelte Positive ({least} nötig): {short}; weniger Folds oder mehr Historie "
        "verwenden oder split.min_positives senken",
        "no_grid": "die Daten umfassen keinen as_of-Tag des Rasters; nichts zu trainieren",
        "no_label_table": "die Quelle hat keine Tabelle {table}",
        "one_class": "{target}: das Fenster {window} hat nur eine Klasse; Training nicht möglich",
        "no_rules": "model.health_score: keines der Features der Regeln ist im Feature-Set "
        "({rules}); vorhanden: {available}",
        "why_table_absent": "Tabelle {table} fehlt",
        "why_table_empty": "Tabelle {table} ist leer",
        "why_column_absent": "Tabelle {table} hat keine Spalte {column!r}",
        "why_column_empty": "Tabelle {table} hat keine Werte in {column}",
        "family_why": "{family} ({why})",
        "store_bad_port": "MLflow-Tracking-Speicher {uri}: keine gültige Datenbank-URL (der "
        "Port muss eine Zahl sein: dialect://user:password@host:5432/database); "
        "MLFLOW_TRACKING_URI prüfen",
        "store_sqlite_slashes": "MLflow-Tracking-Speicher {uri}: eine SQLite-URL braucht drei "
        "Schrägstriche vor einem relativen Pfad ({example}) und vier vor einem absoluten "
        "(sqlite:////home/me/mlflow.db); MLFLOW_TRACKING_URI prüfen",
        "store_no_driver": "MLflow-Tracking-Speicher {uri}: der Datenbanktreiber ist nicht "
        "installiert ({driver}); SQLite und PostgreSQL (postgresql:// oder postgresql+psycopg://) "
        "funktionieren ohne Weiteres; MLFLOW_TRACKING_URI prüfen",
        "store_no_tables": "kein MLflow-Speicher in der Datenbank {uri}, die MLFLOW_TRACKING_URI "
        "nennt (sie hat keine MLflow-Tabellen): `escrisk train QUELLE` legt sie an; oder "
        "MLFLOW_TRACKING_URI auf den Speicher zeigen lassen, in den trainiert wurde",
        "store_cannot_connect": "MLflow-Tracking-Speicher {uri}: keine Verbindung ({cause}); "
        "MLFLOW_TRACKING_URI prüfen und ob die Datenbank läuft",
        "store_missing": "kein MLflow-Speicher unter {path} (MLFLOW_TRACKING_URI={uri}): "
        "`escrisk train QUELLE` legt ihn an; oder MLFLOW_TRACKING_URI auf den Speicher zeigen "
        "lassen, in den trainiert wurde",
        "store_unusable": "der MLflow-Speicher {path} (MLFLOW_TRACKING_URI={uri}) ist nicht "
        "nutzbar ({cause}): MLFLOW_TRACKING_URI auf den Speicher zeigen lassen, in den trainiert "
        "wurde, oder die Datei beiseitelegen, dann legt `escrisk train QUELLE` einen neuen an",
        "experiment_blank": "--experiment braucht einen Namen",
        "experiment_promotions": "--experiment {name!r} ist das Experiment, in dem promote die "
        "Champion-Historie von {model} festhält; ein Trainings-Run dort erschiene in `escrisk "
        "models` als leere Entscheidung: ein anderes Experiment nennen",
        "experiment_deleted": "--experiment {name!r} wurde in diesem MLflow-Speicher gelöscht: "
        "wiederherstellen (mlflow experiments restore) oder ein anderes nennen",
        "registry_changed": "die Registry von {model} hat sich geändert, während promote "
        "challenger v{challenger} gegen champion {champion} bewertete: sie hält jetzt {held} "
        "(inzwischen eine Version gelöscht oder ein Alias verschoben). Nichts wurde verschoben "
        "oder protokolliert; `escrisk promote` erneut ausführen, um die Versionen zu vergleichen, "
        "die die Aliase jetzt halten",
        "no_model": "kein registriertes Modell namens {model!r} (zuerst `escrisk train` ausführen)",
        "target_why": "{target}: {why}",
        "server_cannot_connect": "MLflow-Tracking-Server {uri}: keine Verbindung ({why}); "
        "MLFLOW_TRACKING_URI prüfen und ob der Server läuft",
        "server_no_answer": "keine Antwort binnen {seconds} s",
        "server_refused": "Verbindung fehlgeschlagen",
        "no_finished_runs": "keine abgeschlossenen Runs im MLflow-Experiment {experiment!r} "
        "(zuerst `escrisk train` ausführen)",
        "run_unknown": "{told}: kein solcher Run im MLflow-Store {uri} (`mlflow ui` listet die "
        "Runs; ohne die Variable liest das Notebook das letzte Training)",
        "run_not_training": "{told}: ein Run des Experiments {experiment!r} ohne Trainingsbericht "
        "(eine Promote-Entscheidung oder ein abgebrochenes Training); bitte die ID eines "
        "`escrisk train`-Runs angeben",
        "bundle_cannot_load": "{uri} lässt sich nicht laden: {cause}",
        "bundle_none_in": "{uri} enthält kein Modell-Bundle",
        "not_a_bundle": "{path}: kein Modell-Bundle (keine bundle.json)",
        "bundle_bad_settings": "{path}: die Feature-Einstellungen des Modells lassen sich nicht "
        "laden: {cause}",
        "bundle_format": "das Modell-Bundle-Format {found} liest diese Version von escrisk nicht "
        "(sie liest {reads}): eine neue Version trainieren und zum Champion machen (escrisk "
        "train QUELLE && escrisk promote QUELLE)",
        "bundle_no_head": "Modell {version} hat keinen Kopf für {missing}",
    },
}


class Said(str):
    """A text as MLflow and the tests read it (English), which `shown` tells in another language:
    it is the string itself, so whatever logs, joins or compares it is unchanged."""

    key: str
    values: Mapping[str, Any]

    def __new__(cls, key: str, values: Mapping[str, Any]) -> Said:
        text = super().__new__(cls, _told(key, "en", values))
        text.key, text.values = key, dict(values)
        return text

    def __reduce__(self) -> tuple[type[Said], tuple[str, dict[str, Any]]]:
        return Said, (self.key, dict(self.values))  # a copy or pickle keeps what it tells


class Joined:
    """Texts joined by `sep`, each told in the language of the text that names them."""

    def __init__(self, items: Iterable[Any], sep: str = ", ") -> None:
        self.items, self.sep = list(items), sep

    def told(self, language: str) -> str:
        return self.sep.join(shown(i, language) for i in self.items)


def said(key: str, **values: Any) -> Said:
    """The entry for `key` in English, kept tellable in another language."""
    return Said(key, values)


class Refusal(UserError):
    """A refusal of `escrisk train` or `promote` from this catalog: English as raised (a log, a
    script's match), told in the command's language where `escrisk` shows it."""

    def __init__(self, key: str, **values: Any) -> None:
        self.text = said(key, **values)
        super().__init__(str(self.text))

    def told(self, language: str) -> str:
        return shown(self.text, language)

    def __reduce__(self) -> tuple[Any, ...]:
        return _refusal, (self.text.key, dict(self.text.values))


def _refusal(key: str, values: Mapping[str, Any]) -> Refusal:
    return Refusal(key, **values)


def absence(why: Absence | str) -> Said | str:
    """Why a feature family is left out (`features.context.Absence`), tellable: its English is
    the Absence's own `str()`; a plain text stays as it is."""
    if isinstance(why, Absence):
        return said(f"why_{why.key}", table=why.table, column=why.column)
    return why


def t(key: str, language: str, **values: Any) -> str:
    """The entry for `key` in `language` (English when missing)."""
    return _told(key, language, values)


def shown(text: Any, language: str) -> str:
    """`text` as the team reads it: a `Said` in `language`, anything else as it is."""
    if isinstance(text, Said):
        return _told(text.key, language, text.values)
    if isinstance(text, Joined):
        return text.told(language)
    return str(text)


def as_key(text: Any) -> str | None:
    """A `Said` as language-neutral JSON (its key and values, nested texts as theirs), for MLflow
    to keep beside the English (the decision run's `reason_key` tag); None for a plain text."""
    return json.dumps(_encoded(text), ensure_ascii=False) if isinstance(text, Said) else None


def from_key(raw: str | None) -> Said | None:
    """The text `as_key` kept, or None when there is none or it is not one this catalog tells
    (a run of an older or newer release: its English tag is shown instead)."""
    if not raw:
        return None
    try:
        text = _decoded(json.loads(raw))
        str(text)  # every placeholder given, every key known
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
    return text if isinstance(text, Said) else None


def _encoded(value: Any) -> Any:
    if isinstance(value, Said):
        return {"key": value.key, "values": {k: _encoded(v) for k, v in value.values.items()}}
    if isinstance(value, Joined):
        return {"joined": [_encoded(i) for i in value.items], "sep": value.sep}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item"):  # a numpy number
        return value.item()
    return str(value)


def _decoded(value: Any) -> Any:
    if isinstance(value, dict) and "key" in value:
        return Said(str(value["key"]), {k: _decoded(v) for k, v in dict(value["values"]).items()})
    if isinstance(value, dict) and "joined" in value:
        return Joined((_decoded(i) for i in value["joined"]), str(value["sep"]))
    if isinstance(value, dict | list):
        raise ValueError("not a text")
    return value


def _told(key: str, language: str, values: Mapping[str, Any]) -> str:
    template = CATALOG.get(language, {}).get(key) or CATALOG["en"][key]
    return number_forms(template, values).format_map(_Localized(values, language))


class _Localized:
    """`values` as a text in `language` reads them: numbers localized, a nested text told in it."""

    __slots__ = ("language", "values")

    def __init__(self, values: Mapping[str, Any], language: str) -> None:
        self.values, self.language = values, language

    def __getitem__(self, key: str) -> Any:
        value = self.values[key]
        if isinstance(value, Said | Joined):
            return shown(value, self.language)
        return localized(value, self.language)
