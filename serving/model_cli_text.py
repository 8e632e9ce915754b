"""The texts of the model commands (`escrisk train / promote / models`, and `simulate` and
`features`, which make and show their data, and `serve`) and of a run stopped by Ctrl-C, in English and German:
they answer in the team's language (params daily.language, or --language), as `escrisk daily`
does. MLflow's own names (runs, versions, the aliases 'champion' and 'challenger', metric and
column names) stay as MLflow shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from features.errors import CatalogRefusal
from serving.daily_text import told

CATALOG: Mapping[str, Mapping[str, str]] = {
    "en": {
        "interrupted": "interrupted",
        "terminated": "terminated (SIGTERM)",
        # what `escrisk` tells of an error no command told (serving.cli)
        "mlflow_store_error": "MLflow tracking store {uri}: {message}",
        "mlflow_default_store": "sqlite:///mlflow.db (the default)",
        "database_error": "the database cannot be used ({cause}); check ESCRISK_DATABASE_URL "
        "(the state database), MLFLOW_TRACKING_URI (the model registry) or the source's URL, and "
        "that the database is running and the folder of a SQLite file exists",
        "internal_error": "internal error ({cause}).\nThis is a bug; re-run with ESCRISK_DEBUG=1 "
        "to see the traceback and report it.",
        "test_window": "Test window (95% CI by account bootstrap):",
        "head": "{target} ({kind} calibration, {trees} trees)",
        "backtest": "Rolling-origin backtest (test windows oldest first):",
        "registered": "MLflow run {run} ({uri}); registered {model} version {version}",
        "as_challenger": "{where} as 'challenger'. Next: escrisk promote {source}",
        "lacking_heads": "{where}, not as 'challenger': it has no head for {lacking} (this data "
        "has no labels for them), and the daily run and the service score every head, so it "
        "could not become champion. Its metrics are in MLflow; to train a model that can serve, "
        "add the missing table to the source ({absent}).",
        "newer_challenger": "{where}, not as 'challenger': version {newer}, registered by another "
        "`escrisk train` on this MLflow store while this one ran, is newer and holds "
        "'challenger' (the newest training is the one promote compares). Its metrics are in "
        "MLflow; train again to make a version of this data the challenger.",
        "force_needs_reason": "--force needs --reason TEXT (it is logged with the decision)",
        "reason_needs_force": "--reason goes with --force (the gate's own decision logs its "
        "scores)",
        "restart": "a running `escrisk serve` serves it once restarted; `escrisk daily` from its "
        "next run",
        "models_title": "Model {model} (primary metric on each run's test_window, '..' to the end "
        "of its data: {metric}; versions with other test windows were not measured on the same "
        "rows, `escrisk promote` compares two on one window)",
        "no_versions": "  no versions (every one was deleted); `escrisk train SOURCE` registers "
        "one",
        "no_figure": "  -: no figure (the version has no head for that target)",
        "decisions": "Promotion decisions (oldest first):",
        "none_yet": "  none yet",
        # the decisions' columns where they are labelled (the evaluation notebook)
        "history_decided_at": "decided (UTC)",
        "history_challenger": "version compared",
        "history_champion": "champion then",
        "history_promoted": "promoted",
        "history_forced": "forced",
        "history_reason": "reason",
        # simulate
        "sim_accounts": "accounts: {n}",
        "sim_tickets": "tickets: {n}",
        "sim_escalations": "escalations: {n}",
        "sim_churned": "churned accounts: {n}",
        "sim_churn_rate": "monthly logo churn: {rate}",
        "sim_escalating": "accounts escalating per month: {rate}",
        "sim_rate": "{rate:.2%}",
        "sim_no_month": "n/a (no whole month of history)",
        "cell_yes": "yes",
        "cell_no": "no",
        "col_version": "version",
        "col_aliases": "aliases",
        "col_created": "created",
        "col_champion_since": "champion_since",
        "col_champion_until": "champion_until",
        "col_test_window": "test_window",
        "col_decided_at": "decided_at",
        "col_challenger": "challenger",
        "col_champion": "champion",
        "col_promoted": "promoted",
        "col_forced": "forced",
        "col_reason": "reason",
        "sim_bad_end": "--end-date {value!r}: not a date; give YYYY-MM-DD or 'today'",
        "sim_wrote": "wrote {out} ({fmt}) and {truth}",
        "sim_real_data": "{out} holds {tables}, which no simulation wrote (there is no truth/); "
        "simulating there would replace them. Choose another --out folder, or pass --force.",
        "sim_no_folder": "{folder}: cannot create the output folder ({why})",
        "sim_no_write": "{target}: cannot write the table ({why})",
        # features
        "feat_out_folder": "--out {out}: is a folder; name a file, e.g. {example}",
        "feat_out_kind": "--out {out}: name a .parquet or .csv file",
        "feat_no_write": "--out {out}: cannot write the features ({why})",
        "feat_to_needs_from": "--to needs --from",
        "feat_to_before_from": "--to is before --from",
        "feat_from_late": "--from {start} is after the training grid's last as_of {last} (the "
        "end of the data); give an earlier --from, or --as-of for one day",
        "feat_no_dates": "no as_of dates: the data is empty or the --from/--to range holds no "
        "grid date",
        "feat_rows": "{rows} [row|rows] ({accounts} [account|accounts] x {dates} as_of "
        "[date|dates]), {features} features -> {out}",
        "feat_labelled": "data ends {end}; labelled rows: {counts}",
        "feat_label_end": "{target} {n} (its {table} table ends {end})",
        "feat_label_no_table": "{target} 0 (no {table} table)",
        "feat_label_no_end": "{target} 0 (the {table} table holds no event to tell its end by)",
        "feat_unavailable": "unavailable feature families:",
        "feat_all_available": "all feature families available",
        "feat_warning": "warning: {line}",
        "feat_late": "as_of {day} is {days:,} [day|days] after the data's last day ({last}): "
        "windows after that day hold no tickets or usage, so its rows read as quiet accounts, "
        "not as known ones",
        "feat_late_many": "as_of {day} is {days:,} [day|days] after the data's last day "
        "({last}): windows after that day hold no tickets or usage, so these {n} dates' rows "
        "read as quiet accounts, not as known ones",
        "feat_none_active": "no account is active on the as_of dates asked for: the first "
        "contract starts {first}, and accounts that churned before an as_of have no row for it",
        # serve
        "serve_warning": "warning: {line}",
        "serve_no_tokens": "no API tokens (ESCRISK_API_TOKENS, or ESCRISK_API_TOKENS_FILE "
        "without a token in it): every scoring call will get 401",
        "serve_short_tokens": "{n} API [token|tokens] shorter than {least} characters (key "
        "{keys}): a short token can be guessed through the API; use long random ones, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))'",
        "serve_exposed": "ESCRISK_API_TOKENS_FILE={path} can be read by other users of this host "
        "(mode {mode}): whoever reads it can call the API and sign in to the CSM page; chmod 600 "
        "{path}",
        "serve_no_source": "ESCRISK_SOURCE={source}: no such folder (from {cwd}): the CSM page "
        "shows no ticket or usage timelines until it is there",
        "serve_no_host": "--host {host}: no such address ({why})",
        "serve_port_in_use": "port {port} on {host} is in use (another service, or one still "
        "running): stop it or choose another with --port",
        "serve_cannot_listen": "cannot listen on {host}:{port} ({why}): check --host and --port",
        "serve_serving": "serving {model} version {version} on http://{host}:{port}",
        "not_a_switch": "{name}={value}: not a switch; set it to 1 (on) or 0 (off)",
        "tokens_file_missing": "ESCRISK_API_TOKENS_FILE={path}: file not found",
        "tokens_file_not_utf8": "ESCRISK_API_TOKENS_FILE={path}: not UTF-8 text (byte {byte})",
        "tokens_file_unreadable": "ESCRISK_API_TOKENS_FILE={path}: cannot read it ({why})",
    },
    "de": {
        "interrupted": "abgebrochen",
        "terminated": "beendet (SIGTERM)",
        "mlflow_store_error": "MLflow-Tracking-Speicher {uri}: {message}",
        "mlflow_default_store": "sqlite:///mlflow.db (die Voreinstellung)",
        "database_error": "die Datenbank ist nicht nutzbar ({cause}); ESCRISK_DATABASE_URL (die "
        "Zustandsdatenbank), MLFLOW_TRACKING_URI (die Modell-Registry) oder die URL der Quelle "
        "prüfen, und ob die Datenbank läuft und der Ordner einer SQLite-Datei existiert",
        "internal_error": "interner Fehler ({cause}).\nDas ist ein Fehler in escrisk; mit "
        "ESCRISK_DEBUG=1 erneut ausführen, um den Traceback zu sehen, und ihn melden.",
        "test_window": "Testfenster (95-%-Konfidenzintervall per Bootstrap über Accounts):",
        "head": "{target} (Kalibrierung {kind}, {trees} Bäume)",
        "backtest": "Backtest mit rollierendem Ursprung (Testfenster, älteste zuerst):",
        "registered": "MLflow-Run {run} ({uri}); {model} Version {version} registriert",
        "as_challenger": "{where}, als 'challenger'. Weiter mit: escrisk promote {source}",
        "lacking_heads": "{where}, nicht als 'challenger': Ihr fehlt ein Kopf für {lacking} "
        "(diese Daten haben dafür keine Labels), und der tägliche Lauf und der Dienst bewerten "
        "jeden Kopf, also könnte sie nicht Champion werden. Ihre Kennzahlen stehen in MLflow; "
        "für ein Modell, das bewerten kann, die fehlende Tabelle der Quelle hinzufügen "
        "({absent}).",
        "newer_challenger": "{where}, nicht als 'challenger': Version {newer}, von einem anderen "
        "`escrisk train` auf diesem MLflow-Speicher registriert, während dieses lief, ist neuer "
        "und hält 'challenger' (promote vergleicht das neueste Training). Ihre Kennzahlen stehen "
        "in MLflow; erneut trainieren, um eine Version dieser Daten zum Challenger zu machen.",
        "force_needs_reason": "--force braucht --reason TEXT (er wird mit der Entscheidung "
        "protokolliert)",
        "reason_needs_force": "--reason gehört zu --force (die Entscheidung des Gates selbst "
        "protokolliert ihre Werte)",
        "restart": "ein laufendes `escrisk serve` verwendet es nach einem Neustart, `escrisk "
        "daily` ab seinem nächsten Lauf",
        "models_title": "Modell {model} (Hauptkennzahl im Testfenster jedes Runs, '..' bis zum "
        "Ende seiner Daten: {metric}; Versionen mit anderen Testfenstern sind nicht auf denselben "
        "Zeilen gemessen, `escrisk promote` vergleicht zwei auf einem Fenster)",
        "no_versions": "  keine Versionen (alle wurden gelöscht); `escrisk train QUELLE` "
        "registriert eine",
        "no_figure": "  -: kein Wert (die Version hat keinen Kopf für dieses Ziel)",
        "decisions": "Promotion-Entscheidungen (älteste zuerst):",
        "none_yet": "  noch keine",
        "history_decided_at": "entschieden (UTC)",
        "history_challenger": "verglichene Version",
        "history_champion": "Champion damals",
        "history_promoted": "befördert",
        "history_forced": "erzwungen",
        "history_reason": "Begründung",
        "sim_accounts": "Accounts: {n}",
        "sim_tickets": "Tickets: {n}",
        "sim_escalations": "Eskalationen: {n}",
        "sim_churned": "gekündigte Accounts: {n}",
        "sim_churn_rate": "monatliche Logo-Kündigungsrate: {rate}",
        "sim_escalating": "eskalierende Accounts pro Monat: {rate}",
        "sim_rate": "{rate:.2%}",
        "sim_no_month": "k. A. (kein ganzer Monat Historie)",
        "cell_yes": "ja",
        "cell_no": "nein",
        "col_version": "Version",
        "col_aliases": "Aliasse",
        "col_created": "angelegt",
        "col_champion_since": "Champion seit",
        "col_champion_until": "Champion bis",
        "col_test_window": "Testfenster",
        "col_decided_at": "entschieden am",
        "col_challenger": "Herausforderer",
        "col_champion": "Champion",
        "col_promoted": "befördert",
        "col_forced": "erzwungen",
        "col_reason": "Grund",
        "sim_bad_end": "--end-date {value!r}: kein Datum; JJJJ-MM-TT oder 'today' angeben",
        "sim_wrote": "{out} ({fmt}) und {truth} geschrieben",
        "sim_real_data": "{out} enthält {tables}, die keine Simulation geschrieben hat (es gibt "
        "kein truth/); eine Simulation dort würde sie ersetzen. Einen anderen --out-Ordner wählen "
        "oder --force angeben.",
        "sim_no_folder": "{folder}: der Ausgabeordner kann nicht angelegt werden ({why})",
        "sim_no_write": "{target}: die Tabelle kann nicht geschrieben werden ({why})",
        "feat_out_folder": "--out {out}: ist ein Ordner; eine Datei angeben, z. B. {example}",
        "feat_out_kind": "--out {out}: eine .parquet- oder .csv-Datei angeben",
        "feat_no_write": "--out {out}: die Features können nicht geschrieben werden ({why})",
        "feat_to_needs_from": "--to braucht --from",
        "feat_to_before_from": "--to liegt vor --from",
        "feat_from_late": "--from {start} liegt nach dem letzten as_of des Trainingsrasters "
        "{last} (dem Ende der Daten); ein früheres --from angeben, oder --as-of für einen Tag",
        "feat_no_dates": "keine as_of-Tage: die Daten sind leer, oder der Bereich --from/--to "
        "enthält keinen Tag des Rasters",
        "feat_rows": "{rows} [Zeile|Zeilen] ({accounts} [Account|Accounts] x {dates} "
        "[as_of-Tag|as_of-Tage]), {features} Features -> {out}",
        "feat_labelled": "Daten enden {end}; gelabelte Zeilen: {counts}",
        "feat_label_end": "{target} {n} (die Tabelle {table} endet {end})",
        "feat_label_no_table": "{target} 0 (keine Tabelle {table})",
        "feat_label_no_end": "{target} 0 (die Tabelle {table} hat kein Ereignis, an dem sich ihr "
        "Ende ablesen ließe)",
        "feat_unavailable": "nicht verfügbare Feature-Familien:",
        "feat_all_available": "alle Feature-Familien verfügbar",
        "feat_warning": "Warnung: {line}",
        "feat_late": "as_of {day} liegt {days:,} [Tag|Tage] nach dem letzten Tag der Daten "
        "({last}): Fenster nach diesem Tag enthalten keine Tickets und keine Nutzung, seine "
        "Zeilen lesen sich also wie ruhige Accounts, nicht wie bekannte",
        "feat_late_many": "as_of {day} liegt {days:,} [Tag|Tage] nach dem letzten Tag der Daten "
        "({last}): Fenster nach diesem Tag enthalten keine Tickets und keine Nutzung, die Zeilen "
        "dieser {n} Tage lesen sich also wie ruhige Accounts, nicht wie bekannte",
        "feat_none_active": "an den angefragten as_of-Tagen ist kein Account aktiv: der erste "
        "Vertrag beginnt am {first}, und Accounts, die vor einem as_of gekündigt haben, haben "
        "dafür keine Zeile",
        "serve_warning": "Warnung: {line}",
        "serve_no_tokens": "keine API-Tokens (ESCRISK_API_TOKENS, oder ESCRISK_API_TOKENS_FILE "
        "ohne Token darin): jeder Bewertungsaufruf bekommt 401",
        "serve_short_tokens": "{n} [API-Token ist|API-Tokens sind] kürzer als {least} Zeichen "
        "(Schlüssel {keys}): ein kurzer Token lässt sich über die API erraten; lange zufällige "
        "verwenden, z. B. python -c 'import secrets; print(secrets.token_urlsafe(32))'",
        "serve_exposed": "ESCRISK_API_TOKENS_FILE={path} ist für andere Benutzer dieses Rechners "
        "lesbar (Modus {mode}): wer sie liest, kann die API aufrufen und sich auf der CSM-Seite "
        "anmelden; chmod 600 {path}",
        "serve_no_source": "ESCRISK_SOURCE={source}: kein solcher Ordner (von {cwd} aus): die "
        "CSM-Seite zeigt keine Ticket- oder Nutzungsverläufe, bis er da ist",
        "serve_no_host": "--host {host}: keine solche Adresse ({why})",
        "serve_port_in_use": "Port {port} auf {host} ist belegt (ein anderer Dienst oder einer, "
        "der noch läuft): ihn beenden oder mit --port einen anderen wählen",
        "serve_cannot_listen": "kann nicht auf {host}:{port} lauschen ({why}): --host und --port "
        "prüfen",
        "serve_serving": "{model} Version {version} wird auf http://{host}:{port} bereitgestellt",
        "not_a_switch": "{name}={value}: kein Schalter; auf 1 (an) oder 0 (aus) setzen",
        "tokens_file_missing": "ESCRISK_API_TOKENS_FILE={path}: Datei nicht gefunden",
        "tokens_file_not_utf8": "ESCRISK_API_TOKENS_FILE={path}: kein UTF-8-Text (Byte {byte})",
        "tokens_file_unreadable": "ESCRISK_API_TOKENS_FILE={path}: nicht lesbar ({why})",
    },
}


class Refused(CatalogRefusal):
    """A refusal from this catalog: English as raised (the service's log), told in the
    command's language (`escrisk serve --language de` told a token file it cannot read in
    English)."""

    @staticmethod
    def say(key: str, language: str, **values: Any) -> str:
        return say(key, language, **values)  # the module's, defined below


def say(key: str, language: str, **values: Any) -> str:
    """This catalog's entry for `key` in `language`, numbers as the language writes them."""
    return told(CATALOG, key, language, values)
