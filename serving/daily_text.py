"""The texts of `escrisk daily`'s terminal table and HTML report, in English and German.

A missing key in a language falls back to English; to add a language, add a mapping.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from features.context import Absence
from features.errors import CatalogRefusal
from features.spec import localized, number_forms

CATALOG: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Daily risk list {day}",
        "report_title": "Escalation risk report {day}",
        "generated": "Model {model}; {accounts} active [account|accounts] scored; evaluated at {at}.",
        "col_rank": "#",
        "col_account": "Account",
        "col_owner": "CSM",
        "col_escalation": "Escalation",
        "col_churn": "Churn",
        "col_delta": "Δ prev / {delta_days}d",
        "col_level": "Level",
        "col_reasons": "Top reason",
        "col_top_reasons": "Top reasons",
        "col_next": "Next action (due)",
        "col_why": "Why it changed",
        "no_rows": "No account matches the filters.",
        "why_heading": "Why the escalation risk changed:",
        "more_rows": "Showing the first {shown} of {n} rows; the CSV has them all.",
        "more_rows_one": "Showing the first row of {n}; the CSV has them all.",
        "pinned_below": "{n} more open [flag|flags] overdue or at the highest level below "
        "the rows shown (the report lists [it|them]): {ids}",
        "unknown_owner": "No scored account has the CSM owner {owner!r}; the owners are: {owners}",
        "step_load": "Reading and validating the source",
        "step_model": "Loading the champion model",
        "step_features": "Building features",
        "step_score": "Scoring and explaining",
        "step_ladder": "Applying the escalation ladder",
        "step_store": "Storing the day's scores and writing the list",
        "step_notify": "Sending notifications",
        "step_report": "Writing the report",
        "why_model": "Risk {delta:+.2f} since {since}; model changed ({old} → {new}), not attributed",
        "unavailable": "Left out: the {family} features ({why}).",
        "unavailable_custom": "Left out: the custom feature {name} ({why}).",
        "why_table_absent": "{table} table absent",
        "why_table_empty": "{table} table empty",
        "why_column_absent": "{table} table has no column {column!r}",
        "why_column_empty": "{table} table has no {column} values",
        "family_account": "account",
        "family_tickets": "ticket",
        "family_sentiment": "sentiment",
        "family_sla": "SLA",
        "family_sla.first_response": "first response SLA",
        "family_usage": "usage",
        "family_csat": "CSAT",
        "family_escalations": "escalation",
        "family_notice": "notice",
        "gap_absent": "{table}: absent, but the model's {families} features are built from it",
        "gap_empty": "{table}: no rows, but the model's {families} features are built from it",
        "gap_column_empty": "{table}: no value in column {column}, but the model's {families} "
        "features are built from it",
        "gap_none_before": "{table}: no rows before {day}",
        "gap_stale": "{table}: the newest row is from {newest}, then none for {lag} [day|days] until {day} "
        "(daily.max_source_lag_days: {max_lag})",
        "gap_hole_day": "{table}: no rows on {first}, amid days that have them: the model's "
        "usage features read the {reach} days before {day}, and a lost day reads as no usage",
        "gap_holes": "{table}: no rows on {n} days from {first} to {last}, amid days that have "
        "them: the model's usage features read the {reach} days before {day}, and a lost day "
        "reads as no usage",
        "incomplete": "Scored although the source is incomplete (--allow-incomplete): {gap}",
        "stale": "The source's newest event is from {end}, then none for {days} [day|days] until {day}: recent weeks read as no tickets and no usage. Export fresh data, or pass --as-of.",
        "changed_new": "new",
        "overdue": "overdue",
        "narrow": "The terminal is {width} columns wide: {columns} left out (the CSV and the report have them).",
        "handled_acknowledged": "acknowledged",
        "handled_resolved": "resolved",
        "changed_up": "up",
        "changed_down": "down",
        "sec_list": "Top of today's list",
        "sec_pinned": "{n} more open [flag|flags] overdue or at {level}",
        "pinned_caption": "Below the top {top} by priority: every flag at {level}, or past its "
        "due time, that nobody has acknowledged or resolved yet.",
        "sec_distribution": "Portfolio risk",
        "sec_trend": "Trend over the last {n} runs",
        "sec_kpis": "Escalation KPIs (last {days} [day|days])",
        "sec_drift": "Drift against the training data (PSI)",
        "drift_kind": "input",
        "drift_name": "name",
        "drift_band": "verdict",
        "drift_feature": "feature",
        "drift_score": "score",
        "dist_caption": "Distribution of calibrated risks across active accounts today.",
        "trend_caption": "Median and 90th percentile of escalation risk, and accounts at level {level} or above, per run.",
        "trend_one": "Only one run so far; the trend appears from the second run on.",
        "kpi_escalations": "Escalations (history)",
        "kpi_rate": "Escalation rate (share of accounts, window)",
        "kpi_per_account": "Escalations per escalated account",
        "kpi_flags_per_account": "Upward flags per scored account",
        "kpi_flags": "Ladder flags (audit store)",
        "kpi_flag_rate": "Ladder escalation rate (per account-day)",
        "kpi_confirmed": "Flags confirmed by CSMs, of those they judged",
        "kpi_ack": "Median hours to acknowledge a flag",
        "kpi_acked": "Flags acknowledged",
        "kpi_resolve": "Median hours to resolve a flag",
        "kpi_csat_after": "CSAT after escalation",
        "kpi_csat_all": "CSAT, all tickets",
        "kpi_first_flags": "{n} [account|accounts] flagged when the ladder started (on their first evaluation): not counted in the ladder's escalations, rate and times above (the CSMs' verdicts on them are).",
        "times_caption": "Hours from escalation to first response and to resolution; dashed lines: the {fr:.0f} h / {res:.0f} h benchmarks.",
        "first_response": "first response",
        "resolution": "resolution",
        "within": "within benchmark",
        "weekly_caption": "Escalations opened per week over the last {n} whole [week|weeks] (history; the tiles count {days} days).",
        "csat_caption": "Mean CSAT of tickets opened within {days} [day|days] after an escalation, against all tickets.",
        "after_escalation": "after escalation",
        "all_tickets": "all tickets",
        "none": "n/a",
        "drift_caption": "PSI of the main features and of the scores; below {warn} stable, {warn}–{retrain} moderate, from {retrain} major.",
        "drift_missing": "The champion model carries no training reference distribution, so drift cannot be measured. Retrain with the current version to store one.",
        "retrain": "Retrain advised: major drift in {what}.",
        "not_trained": "params.yaml's {keys} differ from the settings the champion was trained with: its features are built with its own, so the change reaches the scores with the next model trained and promoted.",
        "no_retrain": "No retraining needed: no score and fewer than {n} main [feature|features] drifted majorly.",
        "stable": "stable",
        "moderate": "moderate",
        "major": "major",
        "noise": "within sampling noise (up to {noise:.3f} for this many accounts)",
        "unjudged": "not judged",
        "drift_unjudged": "Drift is not judged: {n} [account|accounts] scored, fewer than {min} (daily.drift.min_accounts). A PSI over so few values is mostly sampling noise; the values below are for information only.",
        "accounts": "accounts",
        "risk": "risk",
        "escalation_risk": "escalation risk",
        "churn_risk": "churn risk",
        "median": "median",
        "p90": "90th percentile",
        "hours": "hours",
        "week": "week",
        "summary": "{n} [account|accounts] scored; {flagged} at {first} or above; {changed} level [change|changes] recorded, {queued} [notification|notifications] queued.",
        "not_scored": "Not scored, as not active on {day}: {not_yet} whose contract starts later, {gone} that churned before it.",
        "vanished": "{n} [account|accounts] of the previous run's list [is|are] not in the "
        "source, so not scored and not listed; [its|their] ladder [level stays|levels stay] as "
        "[it was|they were]: {ids}. Check the export (an account that left is a row of the churn "
        "table).",
        "written": "Wrote {csv} and {html}",
        "written_view": "Wrote {whole} (the whole list), {csv} (this view) and {html}",
        "pruned": "Deleted the stored lists and scores of {days} run [day|days] older than {keep} "
        "[day|days] (daily.keep_days); the audit trail is kept",
        "sent": "Notifications: {sent} sent, {retrying} to retry, {failed} failed.",
        "waiting": "{n} [notification|notifications] of earlier runs still [waits|wait] after a failed "
        "send (the next attempt from {at}); escrisk notify (or a later escrisk daily run) sends "
        "[it|them] when due; escrisk audit --messages pending lists [it|them]",
        "not_sent": "{n} [notification is|notifications are] queued, not sent (--no-send): "
        "escrisk notify sends [it|them] (as does the next escrisk daily run without --no-send)",
        "not_sent_within": "{n} [notification is|notifications are] queued, not sent (--no-send): "
        "escrisk notify (or the next escrisk daily run without --no-send) sends "
        "[it|them] if within {hours} h (notifications.retry.max_age_hours); later [it expires|they expire]",
        "not_sent_stale": "{n} [notification is|notifications are] queued, not sent (--no-send); "
        "decided for a day more than {hours} h ago (notifications.retry.max_age_hours), [it|they] "
        "will expire unsent",
        "expired": "{n} [notification was|notifications were] not sent: queued more than {hours} h "
        "ago (notifications.retry.max_age_hours); escrisk audit --messages lists them",
        "failed_requeue": "{n} [notification|notifications] failed: once the cause is fixed, "
        "escrisk notify --requeue sends [it|them] again (escrisk audit --messages failed lists "
        "[it|them])",
        "since_without_requeue": "--since chooses the failed messages --requeue puts back: give "
        "--requeue too",
        "requeued": "{n} failed [notification|notifications] put back to send (by {by})",
        "requeue_too_old": "{n} failed [notification stays|notifications stay] failed, [it|they] "
        "would only expire: queued more than {hours} h ago (notifications.retry.max_age_hours); "
        "escrisk audit --messages failed lists them",
        "cannot_write_folder": "{path}: cannot write the risk list and report there ({why}); "
        "nothing was scored, stored or sent",
        "not_a_folder": "a file is there, or on its way, where a folder is needed",
        "cannot_write_list": "{path}: cannot write the risk list ({why}); {done}",
        "cannot_write_report": "{path}: cannot write the report ({why}); {done}",
        "already_done": "the day's scores and {changes} level [change|changes] are stored and "
        "{queued} [notification|notifications] queued: run the same day again to write the files "
        "(nothing is recorded or sent twice)",
        "already_done_sent": "the day's scores and {changes} level [change|changes] are stored and "
        "{queued} [notification|notifications] queued, {sent} sent: run the same day again to "
        "write the files (nothing is recorded or sent twice)",
        "unknown_level": "--min-level {given!r}: unknown level; known: {levels}",
        "negative_top": "--top {top}: must be 0 or more",
        "bad_sort": "cannot sort by {sort!r}; sortable: {sortable}",
        "never_scored": "account {account!r} has never been scored by the daily run",
        "validate_hint": "Run `escrisk validate SOURCE` for the full list.",
        "not_a_day": "{option} {value!r}: not a day; use YYYY-MM-DD, e.g. 2026-06-03",
        "blank_owner": "--owner is blank: give a CSM's name, or leave the option out for every account",
        "as_of_future": "--as-of {day} lies in the future (today is {today} UTC)",
        "daily_busy": "another `escrisk daily` run is working on the database {where}; nothing "
        "was scored, stored or sent. Runs must follow one another: a day stored while another "
        "runs could land after a later day (its deltas, ladder decisions and audit trail out of "
        "order). Run again when the other run has finished.",
        "daily_lock_file": "cannot create the daily job's lock file {path} beside the database "
        "({why}); nothing was scored, stored or sent.",
        "as_of_before_latest": "--as-of {day}: the ladder's state and audit trail are at {latest} "
        "(the latest run); a run for an earlier day would rewrite them with the wrong history. "
        "Run today's day, or see past days with `escrisk replay SOURCE --from DAY --to DAY` "
        "(nothing stored).",
        "source_incomplete": "{source}: the source looks incomplete for {day}; nothing was "
        "scored, stored or sent:\n  {gaps}\nFix the export, or run with --allow-incomplete to "
        "score it as it is.",
        "no_active": "{source}: no account is active on {day} (contract started and not churned)",
        "unknown_stored_levels": "the ladder's stored state has accounts at levels that params "
        "ladder.levels {levels} does not name (accounts per level: {found}), a level renamed or "
        "removed after earlier runs. Keep those names in ladder.levels (rename only the title), or "
        "start a new database (ESCRISK_DATABASE_URL); nothing was scored, stored or sent",
        "no_bundle": "model {model} version {version} holds no bundle (no bundle.json)",
        "old_bundle": "the champion, model {model} version {version}, was saved by an older "
        "release in bundle format {found}, which this version does not read (it reads {reads}): "
        "train a new version and promote it (escrisk train SOURCE && escrisk promote SOURCE)",
        "feature_code_changed": "WARNING: the champion {model} was trained on features computed "
        "by other code ({trained}) than this installation's ({now}), an upgrade since: it is now "
        "fed values it never learnt from, so its scores may be off without any error. Train a new "
        "version and promote it (escrisk train SOURCE && escrisk promote SOURCE).",
        "feature_code_unknown": "WARNING: the champion {model} was saved before models recorded "
        "the feature code they were trained with; if escrisk was upgraded since it was trained, "
        "it is fed values computed otherwise than it learnt from (this installation: {now}), and "
        "its scores may be off without any error. Train a new version and promote it (escrisk "
        "train SOURCE && escrisk promote SOURCE).",
        "no_mlflow_store": "no MLflow store at MLFLOW_TRACKING_URI={uri}: `escrisk train SOURCE` "
        "creates it; or point MLFLOW_TRACKING_URI at the store you trained into",
        "no_champion": "no {alias!r} version of model {model!r} in the MLflow registry at {uri}; "
        "train and promote one first: `escrisk train SOURCE && escrisk promote SOURCE`",
        "registry_down_serving_seen": "WARNING: the model registry {uri} cannot be used ({why}); "
        "serving {model} version {version}, the {alias!r} version last seen there, at {seen} UTC, "
        "from its local copy in {cache}. A version promoted since is served only after a restart "
        "of `escrisk serve` with the registry back",
        "registry_down_nothing_seen": "the model registry {uri} cannot be used ({why}), and no "
        "{alias!r} version of model {model!r} seen there before is kept in {cache} "
        "(ESCRISK_MODEL_CACHE) to serve meanwhile: start the service once the registry is back",
        "replay_to_future": "--to {day} lies in the future (today is {today} UTC)",
        "replay_to_before": "--to {day} lies before --from {start}",
        "replay_from_before_data": "--from {day} lies before the source's data: its oldest "
        "ticket or usage row is of {oldest}, and a day reads only what was known before it. "
        "Replay from {first} on",
        "replay_to_after_data": "--to {day} lies after the source's data: its newest row is of "
        "{newest}, {lag} whole [day|days] without any row before {day} "
        "(daily.max_source_lag_days: {max_lag}); those days would be replayed as if nothing had "
        "happened. Replay up to {last}",
        "replay_flag_level": "replay.flag_level: unknown level {given!r}; known: {levels}",
        "replay_no_active": "{source}: no account is active between {start} and {end}",
        "replay_no_days": "replay: no account was active on any replayed day",
        "replay_col_group": "CSM",
        "replay_overall": "overall",
        "replay_col_accounts": "Accounts",
        "replay_col_alerts": "Alerts/week",
        "replay_col_escalations": "Escalations flagged",
        "replay_col_lead": "Lead (d)",
        "replay_col_churns": "Churns flagged",
        "replay_col_nowhere": "Led nowhere",
        "replay_col_flapping": "Flapping",
        "replay_title": "Ladder replay {start} .. {end} ({days} [day|days]), model {model}",
        "replay_summary": "Flagged = at {level} or above within {esc_days} days before an "
        "escalation / {churn_days} days before a churn. {alerts} [alert|alerts], {initial} "
        "[account|accounts] flagged on the first day, {changes} level [change|changes], {flaps} "
        "reversed within {flap_days} days. Event kinds in the source: {kinds}.",
        "replay_logged": "Logged to MLflow: experiment {experiment}, run {run}",
        "replay_reading": "Reading and validating the source",
        "replay_loading": "Loading the champion model",
        "replay_running": "Replaying {start} .. {end}",
        "replay_attributes_now": "Note: ARR, seats, tier, renewal date and CSM owner are the "
        "accounts table's as exported (the data contract keeps no history of them): every past "
        "day was scored, ruled and grouped by CSM with today's values, not those known then.",
    },
    "de": {
        "title": "Tägliche Risikoliste {day}",
        "report_title": "Eskalationsrisiko-Bericht {day}",
        "generated": "Modell {model}; {accounts} [aktiver Account|aktive Accounts] bewertet; ausgewertet am {at}.",
        "col_rank": "#",
        "col_account": "Account",
        "col_owner": "CSM",
        "col_escalation": "Eskalation",
        "col_churn": "Abwanderung",
        "col_delta": "Δ vorher / {delta_days} T",
        "col_level": "Stufe",
        "col_reasons": "Wichtigster Grund",
        "col_top_reasons": "Wichtigste Gründe",
        "col_next": "Nächster Schritt (fällig)",
        "col_why": "Warum verändert",
        "no_rows": "Kein Account passt zu den Filtern.",
        "why_heading": "Warum sich das Eskalationsrisiko geändert hat:",
        "more_rows": "Die ersten {shown} von {n} Zeilen; die CSV enthält alle.",
        "more_rows_one": "Die erste Zeile von {n}; die CSV enthält alle.",
        "pinned_below": "{n} weitere offene [Stufenmeldung|Stufenmeldungen] überfällig oder "
        "auf der höchsten Stufe unterhalb der gezeigten Zeilen (der Bericht listet [sie|sie]): "
        "{ids}",
        "unknown_owner": "Kein bewerteter Account hat den CSM {owner!r}; die CSMs sind: {owners}",
        "step_load": "Quelle lesen und prüfen",
        "step_model": "Champion-Modell laden",
        "step_features": "Merkmale berechnen",
        "step_score": "Bewerten und erklären",
        "step_ladder": "Eskalationsstufen anwenden",
        "step_store": "Tageswerte speichern und Liste schreiben",
        "step_notify": "Benachrichtigungen senden",
        "step_report": "Bericht schreiben",
        "why_model": "Risiko {delta:+.2f} seit {since}; Modell gewechselt ({old} → {new}), nicht zugeordnet",
        "unavailable": "Ausgelassen: die {family} ({why}).",
        "unavailable_custom": "Ausgelassen: das eigene Merkmal {name} ({why}).",
        "why_table_absent": "Tabelle {table} fehlt",
        "why_table_empty": "Tabelle {table} ist leer",
        "why_column_absent": "Tabelle {table} hat keine Spalte {column!r}",
        "why_column_empty": "Tabelle {table} hat keine Werte in {column}",
        "family_account": "Account-Merkmale",
        "family_tickets": "Ticket-Merkmale",
        "family_sentiment": "Tonfall-Merkmale",
        "family_sla": "SLA-Merkmale",
        "family_sla.first_response": "Erstantwort-SLA-Merkmale",
        "family_usage": "Nutzungsmerkmale",
        "family_csat": "CSAT-Merkmale",
        "family_escalations": "Eskalationsmerkmale",
        "family_notice": "Kündigungsmerkmale",
        "gap_absent": "{table}: fehlt, aber die {families} des Modells beruhen darauf",
        "gap_empty": "{table}: keine Zeilen, aber die {families} des Modells beruhen darauf",
        "gap_column_empty": "{table}: kein Wert in der Spalte {column}, aber die {families} des "
        "Modells beruhen darauf",
        "gap_none_before": "{table}: keine Zeilen vor dem {day}",
        "gap_stale": "{table}: die neueste Zeile ist vom {newest}, danach {lag} [Tag|Tage] ohne Zeilen bis zum {day} "
        "(daily.max_source_lag_days: {max_lag})",
        "gap_hole_day": "{table}: keine Zeilen am {first}, zwischen Tagen mit Zeilen: die "
        "Nutzungsmerkmale des Modells lesen die {reach} Tage vor dem {day}, und ein fehlender Tag "
        "erscheint als keine Nutzung",
        "gap_holes": "{table}: keine Zeilen an {n} Tagen vom {first} bis zum {last}, zwischen "
        "Tagen mit Zeilen: die Nutzungsmerkmale des Modells lesen die {reach} Tage vor dem {day}, "
        "und ein fehlender Tag erscheint als keine Nutzung",
        "incomplete": "Bewertet, obwohl die Quelle unvollständig ist (--allow-incomplete): {gap}",
        "stale": "Das neueste Ereignis der Quelle ist vom {end}, danach {days} [Tag|Tage] keines bis zum {day}: die letzten Wochen erscheinen ohne Tickets und Nutzung. Frische Daten exportieren oder --as-of angeben.",
        "changed_new": "neu",
        "overdue": "überfällig",
        "narrow": "Das Terminal ist {width} Spalten breit: {columns} ausgelassen (CSV und Bericht enthalten sie).",
        "handled_acknowledged": "bestätigt",
        "handled_resolved": "gelöst",
        "changed_up": "höher",
        "changed_down": "tiefer",
        "sec_list": "Anfang der heutigen Liste",
        "sec_pinned": "{n} weitere offene [Stufenmeldung|Stufenmeldungen] überfällig oder auf {level}",
        "pinned_caption": "Unterhalb der ersten {top} nach Priorität: jede Stufenmeldung auf "
        "{level} oder nach ihrer Fälligkeit, die noch niemand bestätigt oder gelöst hat.",
        "sec_distribution": "Risiko im Portfolio",
        "sec_trend": "Verlauf der letzten {n} Läufe",
        "sec_kpis": "Eskalations-Kennzahlen ([letzter|letzte] {days} [Tag|Tage])",
        "sec_drift": "Drift gegenüber den Trainingsdaten (PSI)",
        "drift_kind": "Eingabe",
        "drift_name": "Name",
        "drift_band": "Urteil",
        "drift_feature": "Merkmal",
        "drift_score": "Score",
        "dist_caption": "Verteilung der kalibrierten Risiken über die heute aktiven Accounts.",
        "trend_caption": "Median und 90. Perzentil des Eskalationsrisikos und Accounts ab Stufe {level}, je Lauf.",
        "trend_one": "Bisher nur ein Lauf; der Verlauf erscheint ab dem zweiten Lauf.",
        "kpi_escalations": "Eskalationen (Historie)",
        "kpi_rate": "Eskalationsrate (Anteil der Accounts, Zeitraum)",
        "kpi_per_account": "Eskalationen je eskaliertem Account",
        "kpi_flags_per_account": "Hochstufungen je bewertetem Account",
        "kpi_flags": "Stufenmeldungen (Audit-Speicher)",
        "kpi_flag_rate": "Eskalationsrate der Stufen (je Account-Tag)",
        "kpi_confirmed": "Meldungen, denen CSMs zustimmten, unter den beurteilten",
        "kpi_ack": "Stunden bis zur Bestätigung (Median)",
        "kpi_acked": "Bestätigte Stufenmeldungen",
        "kpi_resolve": "Stunden bis zur Lösung (Median)",
        "kpi_csat_after": "CSAT nach Eskalation",
        "kpi_csat_all": "CSAT, alle Tickets",
        "kpi_first_flags": "{n} [Account|Accounts] beim Start der Stufen gemeldet (bei der ersten Bewertung): nicht in Eskalationen, Rate und Zeiten der Stufen oben gezählt (die Urteile der CSMs dazu schon).",
        "times_caption": "Stunden von der Eskalation bis zur ersten Antwort und bis zur Lösung; gestrichelt: die Richtwerte {fr:.0f} h / {res:.0f} h.",
        "first_response": "erste Antwort",
        "resolution": "Lösung",
        "within": "innerhalb des Richtwerts",
        "weekly_caption": "Eröffnete Eskalationen je Woche in den letzten {n} vollen [Woche|Wochen] (Historie; die Kacheln zählen {days} Tage).",
        "csat_caption": "Mittlerer CSAT-Wert der Tickets, die bis {days} [Tag|Tage] nach einer Eskalation eröffnet wurden, gegenüber allen Tickets.",
        "after_escalation": "nach Eskalation",
        "all_tickets": "alle Tickets",
        "none": "k. A.",
        "drift_caption": "PSI der wichtigsten Merkmale und der Scores; unter {warn} stabil, {warn}–{retrain} mäßig, ab {retrain} stark.",
        "drift_missing": "Das Champion-Modell enthält keine Referenzverteilung der Trainingsdaten; Drift ist nicht messbar. Mit der aktuellen Version neu trainieren, um sie zu speichern.",
        "retrain": "Neutraining empfohlen: starke Drift bei {what}.",
        "not_trained": "{keys} in params.yaml weichen von den Einstellungen ab, mit denen der Champion trainiert wurde: seine Merkmale werden mit seinen eigenen berechnet, die Änderung wirkt also erst mit dem nächsten trainierten und beförderten Modell.",
        "no_retrain": "Kein Neutraining nötig: kein Score und weniger als {n} [wichtiges Merkmal|wichtige Merkmale] mit starker Drift.",
        "stable": "stabil",
        "moderate": "mäßig",
        "major": "stark",
        "noise": "im Rauschen der Stichprobe (bis {noise:.3f} bei dieser Zahl von Accounts)",
        "unjudged": "nicht beurteilt",
        "drift_unjudged": "Drift wird nicht beurteilt: {n} [Account|Accounts] bewertet, weniger als {min} (daily.drift.min_accounts). Ein PSI über so wenige Werte ist vor allem Stichprobenrauschen; die Werte unten dienen nur der Information.",
        "accounts": "Accounts",
        "risk": "Risiko",
        "escalation_risk": "Eskalationsrisiko",
        "churn_risk": "Abwanderungsrisiko",
        "median": "Median",
        "p90": "90. Perzentil",
        "hours": "Stunden",
        "week": "Woche",
        "summary": "{n} [Account|Accounts] bewertet; {flagged} ab Stufe {first}; {changed} Stufenwechsel erfasst, {queued} [Benachrichtigung|Benachrichtigungen] eingereiht.",
        "not_scored": "Nicht bewertet, da am {day} nicht aktiv: {not_yet} mit späterem Vertragsbeginn, {gone} vorher abgewandert.",
        "vanished": "{n} [Account|Accounts] der Liste des vorigen Laufs [fehlt|fehlen] in der "
        "Quelle, also nicht bewertet und nicht gelistet; [seine|ihre] [Stufe bleibt|Stufen "
        "bleiben], wie [sie war|sie waren]: {ids}. Den Export prüfen (ein abgewanderter Account "
        "ist eine Zeile der Tabelle churn).",
        "written": "Geschrieben: {csv} und {html}",
        "written_view": "Geschrieben: {whole} (die ganze Liste), {csv} (diese Ansicht) und {html}",
        "pruned": "Gespeicherte Listen und Scores von {days} [Lauftag|Lauftagen] gelöscht, älter als "
        "{keep} [Tag|Tage] (daily.keep_days); der Audit-Trail bleibt erhalten",
        "sent": "Benachrichtigungen: {sent} gesendet, {retrying} erneut zu versuchen, {failed} fehlgeschlagen.",
        "waiting": "{n} [Benachrichtigung|Benachrichtigungen] früherer Läufe [wartet|warten] nach "
        "einem fehlgeschlagenen Versand (nächster Versuch ab {at}); escrisk notify (oder ein "
        "späterer Lauf von escrisk daily) sendet [sie|sie], sobald fällig; escrisk audit "
        "--messages pending listet [sie|sie]",
        "not_sent": "{n} [Benachrichtigung ist|Benachrichtigungen sind] eingereiht, nicht gesendet "
        "(--no-send): escrisk notify sendet [sie|sie] (ebenso der nächste Lauf von escrisk daily "
        "ohne --no-send)",
        "not_sent_within": "{n} [Benachrichtigung ist|Benachrichtigungen sind] eingereiht, nicht "
        "gesendet (--no-send): escrisk notify (oder der nächste Lauf von escrisk daily ohne "
        "--no-send) sendet [sie|sie] innerhalb von {hours} h "
        "(notifications.retry.max_age_hours); danach [verfällt sie|verfallen sie]",
        "not_sent_stale": "{n} [Benachrichtigung ist|Benachrichtigungen sind] eingereiht, nicht "
        "gesendet (--no-send); für einen Tag vor mehr als {hours} h entschieden "
        "(notifications.retry.max_age_hours), [verfällt sie|verfallen sie] ungesendet",
        "expired": "{n} [Benachrichtigung wurde|Benachrichtigungen wurden] nicht gesendet: vor mehr "
        "als {hours} h eingereiht (notifications.retry.max_age_hours); escrisk audit --messages "
        "listet sie",
        "failed_requeue": "{n} [Benachrichtigung|Benachrichtigungen] fehlgeschlagen: ist die "
        "Ursache behoben, sendet escrisk notify --requeue [sie|sie] erneut (escrisk audit "
        "--messages failed listet [sie|sie])",
        "since_without_requeue": "--since wählt die fehlgeschlagenen Nachrichten, die --requeue "
        "wieder einreiht: auch --requeue angeben",
        "requeued": "{n} [fehlgeschlagene Benachrichtigung|fehlgeschlagene Benachrichtigungen] "
        "wieder zum Versand eingereiht (von {by})",
        "requeue_too_old": "{n} [fehlgeschlagene Benachrichtigung bleibt|fehlgeschlagene "
        "Benachrichtigungen bleiben] fehlgeschlagen, [sie würde|sie würden] nur verfallen: vor "
        "mehr als {hours} h eingereiht (notifications.retry.max_age_hours); escrisk audit "
        "--messages failed listet sie",
        "cannot_write_folder": "{path}: Risikoliste und Bericht können dort nicht geschrieben "
        "werden ({why}); nichts wurde bewertet, gespeichert oder gesendet",
        "not_a_folder": "dort oder auf dem Weg dorthin liegt eine Datei, wo ein Ordner nötig ist",
        "cannot_write_list": "{path}: Die Risikoliste kann nicht geschrieben werden ({why}); {done}",
        "cannot_write_report": "{path}: Der Bericht kann nicht geschrieben werden ({why}); {done}",
        "already_done": "die Scores des Tages und {changes} Stufenwechsel sind gespeichert, "
        "{queued} [Benachrichtigung|Benachrichtigungen] eingereiht: denselben Tag erneut laufen "
        "lassen, um die Dateien zu schreiben (nichts wird doppelt erfasst oder gesendet)",
        "already_done_sent": "die Scores des Tages und {changes} Stufenwechsel sind gespeichert, "
        "{queued} [Benachrichtigung|Benachrichtigungen] eingereiht, {sent} gesendet: denselben Tag "
        "erneut laufen lassen, um die Dateien zu schreiben (nichts wird doppelt erfasst oder "
        "gesendet)",
        "unknown_level": "--min-level {given!r}: unbekannte Stufe; bekannt sind {levels}",
        "negative_top": "--top {top}: muss 0 oder mehr sein",
        "bad_sort": "nach {sort!r} kann nicht sortiert werden; sortierbar: {sortable}",
        "never_scored": "der Account {account!r} wurde vom täglichen Lauf noch nie bewertet",
        "validate_hint": "Die ganze Liste zeigt `escrisk validate QUELLE --lang de`.",
        "not_a_day": "{option} {value!r}: kein Tag; bitte JJJJ-MM-TT angeben, z. B. 2026-06-03",
        "blank_owner": "--owner ist leer: Geben Sie den Namen eines CSM an, oder lassen Sie die Option für alle Accounts weg",
        "as_of_future": "--as-of {day} liegt in der Zukunft (heute ist der {today} UTC)",
        "daily_busy": "Ein anderer Lauf von `escrisk daily` arbeitet an der Datenbank {where}; "
        "nichts wurde bewertet, gespeichert oder gesendet. Läufe müssen nacheinander kommen: "
        "ein Tag, der gespeichert wird, während ein anderer läuft, könnte nach einem späteren "
        "Tag landen (Veränderungen, Stufenentscheidungen und Audit-Trail in falscher "
        "Reihenfolge). Erneut starten, wenn der andere Lauf fertig ist.",
        "daily_lock_file": "Die Sperrdatei {path} des täglichen Laufs kann neben der Datenbank "
        "nicht angelegt werden ({why}); nichts wurde bewertet, gespeichert oder gesendet.",
        "as_of_before_latest": "--as-of {day}: Stand und Audit-Trail der Eskalationsstufen sind "
        "beim {latest} (dem letzten Lauf); ein Lauf für einen früheren Tag würde sie mit der "
        "falschen Vorgeschichte überschreiben. Den heutigen Tag laufen lassen, oder vergangene "
        "Tage mit `escrisk replay SOURCE --from DAY --to DAY` ansehen (nichts wird gespeichert).",
        "source_incomplete": "{source}: Die Quelle scheint für den {day} unvollständig; nichts "
        "wurde bewertet, gespeichert oder gesendet:\n  {gaps}\nDen Export korrigieren oder mit "
        "--allow-incomplete laufen lassen, um sie so zu bewerten.",
        "no_active": "{source}: Am {day} ist kein Account aktiv (Vertrag begonnen und nicht "
        "abgewandert)",
        "unknown_stored_levels": "Der gespeicherte Stand der Eskalationsstufen hat Accounts auf "
        "Stufen, die params ladder.levels {levels} nicht nennt (Accounts je Stufe: {found}); eine "
        "Stufe wurde nach früheren Läufen umbenannt oder entfernt. Diese Namen in ladder.levels "
        "behalten (nur den Titel ändern) oder eine neue Datenbank beginnen "
        "(ESCRISK_DATABASE_URL); nichts wurde bewertet, gespeichert oder gesendet",
        "no_bundle": "Modell {model} Version {version} enthält kein Bundle (keine bundle.json)",
        "old_bundle": "der Champion, Modell {model} Version {version}, wurde von einer älteren "
        "Version im Bundle-Format {found} gespeichert, das diese Version nicht liest (sie liest "
        "{reads}): eine neue Version trainieren und befördern (escrisk train QUELLE && escrisk "
        "promote QUELLE)",
        "feature_code_changed": "WARNUNG: der Champion {model} wurde mit Merkmalen trainiert, die "
        "anderer Code berechnet hat ({trained}) als der dieser Installation ({now}), seitdem "
        "aktualisiert: er bekommt nun Werte, aus denen er nicht gelernt hat, und seine Werte "
        "können ohne jeden Fehler danebenliegen. Eine neue Version trainieren und befördern "
        "(escrisk train QUELLE && escrisk promote QUELLE).",
        "feature_code_unknown": "WARNUNG: der Champion {model} wurde gespeichert, bevor Modelle "
        "festhielten, mit welchem Merkmals-Code sie trainiert wurden; wurde escrisk seit seinem "
        "Training aktualisiert, bekommt er anders berechnete Werte, als er gelernt hat (diese "
        "Installation: {now}), und seine Werte können ohne jeden Fehler danebenliegen. Eine neue "
        "Version trainieren und befördern (escrisk train QUELLE && escrisk promote QUELLE).",
        "no_mlflow_store": "kein MLflow-Speicher unter MLFLOW_TRACKING_URI={uri}: `escrisk train "
        "QUELLE` legt ihn an; oder MLFLOW_TRACKING_URI auf den Speicher richten, in den trainiert "
        "wurde",
        "no_champion": "keine {alias!r}-Version des Modells {model!r} in der MLflow-Registry unter "
        "{uri}; zuerst eines trainieren und übernehmen: `escrisk train QUELLE && escrisk promote "
        "QUELLE`",
        "registry_down_serving_seen": "WARNUNG: die Modell-Registry {uri} ist nicht nutzbar ({why}); "
        "bereitgestellt wird {model} Version {version}, die dort zuletzt gesehene {alias!r}-Version "
        "(am {seen} UTC), aus ihrer lokalen Kopie in {cache}. Eine seither übernommene Version wird "
        "erst nach einem Neustart von `escrisk serve` mit erreichbarer Registry bereitgestellt",
        "registry_down_nothing_seen": "die Modell-Registry {uri} ist nicht nutzbar ({why}), und in "
        "{cache} (ESCRISK_MODEL_CACHE) liegt keine dort zuvor gesehene {alias!r}-Version des "
        "Modells {model!r}, die bis dahin bereitgestellt werden könnte: den Dienst starten, sobald "
        "die Registry wieder erreichbar ist",
        "replay_to_future": "--to {day} liegt in der Zukunft (heute ist der {today} UTC)",
        "replay_to_before": "--to {day} liegt vor --from {start}",
        "replay_from_before_data": "--from {day} liegt vor den Daten der Quelle: ihre älteste "
        "Ticket- oder Nutzungszeile ist vom {oldest}, und ein Tag liest nur, was vor ihm bekannt "
        "war. Ab {first} nachspielen",
        "replay_to_after_data": "--to {day} liegt nach den Daten der Quelle: ihre neueste Zeile "
        "ist vom {newest}, {lag} ganze [Tag|Tage] ohne Zeile vor dem {day} "
        "(daily.max_source_lag_days: {max_lag}); diese Tage würden nachgespielt, als sei nichts "
        "geschehen. Bis höchstens {last} nachspielen",
        "replay_flag_level": "replay.flag_level: unbekannte Stufe {given!r}; bekannt sind {levels}",
        "replay_no_active": "{source}: Zwischen {start} und {end} ist kein Account aktiv",
        "replay_no_days": "replay: an keinem der nachgespielten Tage war ein Account aktiv",
        "replay_col_group": "CSM",
        "replay_overall": "gesamt",
        "replay_col_accounts": "Accounts",
        "replay_col_alerts": "Meldungen/Woche",
        "replay_col_escalations": "Eskalationen erkannt",
        "replay_col_lead": "Vorlauf (T)",
        "replay_col_churns": "Abwanderungen erkannt",
        "replay_col_nowhere": "Folgenlos",
        "replay_col_flapping": "Hin und her",
        "replay_title": "Nachgespielte Stufen {start} bis {end} ({days} [Tag|Tage]), Modell {model}",
        "replay_summary": "Erkannt = auf {level} oder höher innerhalb von {esc_days} Tagen vor "
        "einer Eskalation / {churn_days} Tagen vor einer Abwanderung. {alerts} "
        "[Meldung|Meldungen], {initial} [Account|Accounts] am ersten Tag markiert, {changes} "
        "[Stufenwechsel|Stufenwechsel], {flaps} innerhalb von {flap_days} Tagen umgekehrt. "
        "Ereignisarten in der Quelle: {kinds}.",
        "replay_logged": "In MLflow protokolliert: Experiment {experiment}, Lauf {run}",
        "replay_reading": "Quelle lesen und prüfen",
        "replay_loading": "Champion-Modell laden",
        "replay_running": "Nachspielen {start} bis {end}",
        "replay_attributes_now": "Hinweis: ARR, Plätze, Tarif, Verlängerungsdatum und CSM stammen "
        "aus der Accounts-Tabelle, wie sie exportiert wurde (der Datenvertrag hält keinen Verlauf "
        "davon): jeder vergangene Tag wurde mit den heutigen Werten bewertet, nach Regeln geprüft "
        "und nach CSM gruppiert, nicht mit den damals bekannten.",
    },
}
LANGUAGES = tuple(CATALOG)


# how each language writes a day, whole and without the year; English keeps ISO 8601, as the
# CSV, the command line and the API do
DAY_FORMATS: Mapping[str, tuple[str, str]] = {
    "en": ("%Y-%m-%d", "%m-%d"),
    "de": ("%d.%m.%Y", "%d.%m."),
}


def day_text(day: dt.date, language: str, short: bool = False) -> str:
    """A day as `language` writes it: 2026-06-28 in English, 28.06.2026 in German; `short`
    (the due column, a chart's axis) leaves the year out: 06-28, 28.06. (a German reader takes
    "06-30" for the 6th of a month)."""
    whole, brief = DAY_FORMATS.get(language, DAY_FORMATS["en"])
    return day.strftime(brief if short else whole)


def time_text(moment: dt.datetime, language: str, short: bool = False) -> str:
    """A moment as `language` writes it, in the time zone it carries: 2026-06-28 15:00,
    28.06.2026 15:00 (`short`: 06-28 15:00, 28.06. 15:00)."""
    return f"{day_text(moment, language, short)} {moment:%H:%M}"


def family(name: str, language: str) -> str:
    """A feature family as people read it ("usage", "Nutzungsmerkmale"); one the catalog does
    not know by its name."""
    key = f"family_{name}"
    return t(key, language) if key in CATALOG["en"] else name


def left_out(name: str, why: Absence, language: str) -> str:
    """Why a family (or a custom field, "custom.<field>") was left out, in `language`: "Left
    out: the usage features (usage table absent).", "Ausgelassen: die Nutzungsmerkmale
    (Tabelle usage fehlt)."."""
    reason = t(f"why_{why.key}", language, table=why.table, column=why.column)
    if name.startswith("custom."):
        return t("unavailable_custom", language, name=name.removeprefix("custom."), why=reason)
    return t("unavailable", language, family=family(name, language), why=reason)


def figure(value: Any, spec: str, language: str, missing: str = "–") -> str:
    """A number formatted by `spec` as `language` writes it; `missing` for None or NaN. A value
    that rounds to zero has no minus ("-0.00" read as a fall where nothing moved)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    out = format(localized(value, language), spec)
    if out.startswith("-") and not any(c in "123456789" for c in out):
        out = ("+" if spec.startswith("+") else "") + out[1:]
    return out


def flagged_level(level: str, changed: str, language: str) -> str:
    """A list row's level with what changed since the previous run: "L2 (up)", "L2 (höher)"."""
    return f"{level} ({t('changed_' + changed, language)})" if changed else level


class DailyRefusal(CatalogRefusal):
    """A refusal from this catalog: English as raised, told in the command's or page's language
    (the stored list's refusals stayed English for a German team)."""

    @staticmethod
    def say(key: str, language: str, **values: Any) -> str:
        return t(key, language, **values)


def t(key: str, language: str, **values: Any) -> str:
    """This catalog's entry for `key` (`told`)."""
    return told(CATALOG, key, language, values)


def told(
    catalog: Mapping[str, Mapping[str, str]], key: str, language: str, values: Mapping[str, Any]
) -> str:
    """A catalog's entry in `language` (English when missing), formatted with `values`, numbers
    as the language writes them (19 % and 0,05 in German); a "[singular|plural]" takes the form
    of the number before it (`features.spec.number_forms`)."""
    template = number_forms(catalog.get(language, {}).get(key) or catalog["en"][key], values)
    return template.format_map(_Localized(values, language))


class _Localized:
    """`values` as a text in `language` reads them: a number is localized when the text names
    it, not before (a message's lines each name a few of the same ten values)."""

    __slots__ = ("language", "values")

    def __init__(self, values: Mapping[str, Any], language: str) -> None:
        self.values, self.language = values, language

    def __getitem__(self, key: str) -> Any:
        return localized(self.values[key], self.language)
