"""The texts of the ladder's commands (`escrisk ack / resolve / feedback / audit`), in English
and German: they answer in the team's language (params daily.language, or --language), as
`escrisk daily` does. A ladder conflict is told with the CSM page's texts (`serving.ui_text`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from serving.daily_text import told

CATALOG: Mapping[str, Mapping[str, str]] = {
    "en": {
        "acknowledged": "{account}: {level} acknowledged by {by} at {at} UTC",
        "actions_recorded": "{account}: {level} was acknowledged at {acked} UTC; recorded the "
        "actions {actions} by {by} at {at} UTC",
        "resolved": "{account}: flag at {level} resolved ({outcome}) by {by}",
        "agrees": "{account}: {by} agrees with flag {decision}",
        "disagrees": "{account}: {by} disagrees with flag {decision}",
        "unknown_actions": "{n} unknown playbook [action|actions]: {unknown}; known: {known}",
        "unknown_outcome": "unknown outcome {outcome!r}; one of: {outcomes}",
        "bad_by": "--by {by!r}: give a name of 1 to 128 printable characters",
        "no_database": "no database at {path} (ESCRISK_DATABASE_URL={url}): `escrisk daily` "
        "creates it with its first run; check the URL if it has run",
        # the state database named by ESCRISK_DATABASE_URL, refused (serving.store.StoreRefusal)
        "store_in_memory": "ESCRISK_DATABASE_URL={url} is an in-memory database: the ladder's "
        "state, audit trail and sent notifications would be lost when the command ends (a rerun "
        "would notify again). Name a file, e.g. sqlite:///escrisk.db, or a server",
        "store_unknown_dialect": "ESCRISK_DATABASE_URL={where}: unknown database dialect",
        "store_no_driver": "ESCRISK_DATABASE_URL={where}: the database driver is not installed "
        "({driver}); SQLite and PostgreSQL (postgresql+psycopg://) work out of the box",
        "store_unusable": "ESCRISK_DATABASE_URL={where}: the database cannot be opened or used "
        "({cause})",
        "store_bad_url": "database URL {url!r} is not a valid SQLAlchemy URL "
        "(ESCRISK_DATABASE_URL): dialect+driver://user:password@host:port/database, the port a "
        "number",
        "store_unknown_account": "unknown account {account!r}: no ladder state in {where}",
        "store_outdated": "the state database {where} lacks what this version adds ({gaps}) "
        "and this role may not add it ({cause}): run `escrisk audit --last 1` once with "
        "ESCRISK_DATABASE_URL naming a role with DDL rights (CREATE on the schema, owner of the "
        "tables): it adds them and changes no stored row; then grant this role its rights on "
        "the tables added and run this command again",
        "trail_of": "Audit trail of {account}",
        "trail": "Audit trail",
        "col_time": "time (UTC)",
        "col_account": "account",
        "col_event": "event",
        "col_detail": "detail",
        "col_by": "by",
        "col_decision": "decision",
        "ev_up": "level up",
        "ev_down": "level down",
        "ev_acknowledged": "acknowledged",
        "ev_resolved": "resolved",
        "ev_agree": "agree",
        "ev_disagree": "disagree",
        "ev_action": "action",
        "change": "{old} -> {new} ({rule}); esc {esc:.2f} churn {churn:.2f}; {priority}, team {team}",
        "due": ", due {at} UTC",
        "model": "model {version}",
        "no_records": "No audit records yet.",
        "kpis": "Escalation KPIs",
        "kpi": "KPI",
        "value": "value",
        "kpi_escalations": "escalations",
        "kpi_rate": "escalation rate (per scored account-day)",
        "kpi_first_flags": "accounts flagged on their first evaluation (not escalations)",
        "kpi_per_account": "escalations per scored account",
        "kpi_ack": "median time to acknowledge (h)",
        "kpi_resolve": "median time to resolve (h)",
        "kpi_acked": "escalations acknowledged",
        "kpi_confirmed": "flags confirmed by CSMs, of those judged",
        "messages": "Messages ({which})",
        "no_messages": "No messages ({which}).",
        "col_created": "created (UTC)",
        "col_channel": "channel",
        "col_recipient": "recipient",
        "col_status": "status",
        "col_tries": "tries",
        "col_error": "last error",
        # a message's status, and which of them `--messages` lists
        "msg_all": "all",
        "msg_pending": "pending",
        "msg_sending": "sending",
        "msg_sent": "sent",
        "msg_failed": "failed",
        "no_business_hours": "ladder.business_calendar: no business hours within three years "
        "(all holidays?)",
        "stored_level_unknown": "account {account}: stored ladder level {level!r} is not in "
        "ladder.levels {levels}; a renamed level needs a migration of the ladder state",
    },
    "de": {
        "acknowledged": "{account}: {level} bestätigt von {by} am {at} UTC",
        "actions_recorded": "{account}: {level} wurde am {acked} UTC bestätigt; Maßnahmen "
        "{actions} von {by} am {at} UTC erfasst",
        "resolved": "{account}: Meldung auf {level} gelöst ({outcome}) von {by}",
        "agrees": "{account}: {by} stimmt der Meldung {decision} zu",
        "disagrees": "{account}: {by} widerspricht der Meldung {decision}",
        "unknown_actions": "{n} [unbekannte Playbook-Maßnahme|unbekannte Playbook-Maßnahmen]: "
        "{unknown}; bekannt sind: {known}",
        "unknown_outcome": "unbekanntes Ergebnis {outcome!r}; eines von: {outcomes}",
        "bad_by": "--by {by!r}: Geben Sie einen Namen aus 1 bis 128 druckbaren Zeichen an",
        "no_database": "keine Datenbank unter {path} (ESCRISK_DATABASE_URL={url}): `escrisk daily` "
        "legt sie beim ersten Lauf an; prüfen Sie die URL, falls es schon gelaufen ist",
        "store_in_memory": "ESCRISK_DATABASE_URL={url} ist eine Datenbank im Arbeitsspeicher: "
        "Zustand der Stufen, Audit-Verlauf und gesendete Benachrichtigungen gingen mit dem Ende "
        "des Befehls verloren (ein erneuter Lauf würde wieder benachrichtigen). Nennen Sie eine "
        "Datei, z. B. sqlite:///escrisk.db, oder einen Server",
        "store_unknown_dialect": "ESCRISK_DATABASE_URL={where}: unbekannter Datenbanktyp",
        "store_no_driver": "ESCRISK_DATABASE_URL={where}: der Datenbanktreiber ist nicht "
        "installiert ({driver}); SQLite und PostgreSQL (postgresql+psycopg://) funktionieren "
        "ohne Weiteres",
        "store_unusable": "ESCRISK_DATABASE_URL={where}: die Datenbank lässt sich nicht öffnen "
        "oder nutzen ({cause})",
        "store_bad_url": "die Datenbank-URL {url!r} ist keine gültige SQLAlchemy-URL "
        "(ESCRISK_DATABASE_URL): dialekt+treiber://benutzer:passwort@host:port/datenbank, der "
        "Port eine Zahl",
        "store_unknown_account": "unbekannter Account {account!r}: kein Stufenzustand in {where}",
        "store_outdated": "der Zustandsdatenbank {where} fehlt, was diese Version hinzufügt "
        "({gaps}), und diese Rolle darf es nicht anlegen ({cause}): Führen Sie einmal `escrisk "
        "audit --last 1` mit einer ESCRISK_DATABASE_URL aus, deren Rolle DDL-Rechte hat (CREATE "
        "im Schema, Eigentümer der Tabellen); es legt sie an und ändert keine gespeicherte "
        "Zeile. Geben Sie dieser Rolle danach ihre Rechte an den neuen Tabellen und führen Sie "
        "diesen Befehl erneut aus",
        "trail_of": "Audit-Verlauf von {account}",
        "trail": "Audit-Verlauf",
        "col_time": "Zeit (UTC)",
        "col_account": "Account",
        "col_event": "Ereignis",
        "col_detail": "Details",
        "col_by": "von",
        "col_decision": "Entscheidung",
        "ev_up": "Stufe höher",
        "ev_down": "Stufe niedriger",
        "ev_acknowledged": "bestätigt",
        "ev_resolved": "gelöst",
        "ev_agree": "Zustimmung",
        "ev_disagree": "Widerspruch",
        "ev_action": "Maßnahme",
        "change": "{old} -> {new} ({rule}); Eskalation {esc:.2f}, Abwanderung {churn:.2f}; "
        "{priority}, Team {team}",
        "due": ", fällig {at} UTC",
        "model": "Modell {version}",
        "no_records": "Noch keine Audit-Einträge.",
        "kpis": "Eskalations-Kennzahlen",
        "kpi": "Kennzahl",
        "value": "Wert",
        "kpi_escalations": "Eskalationen",
        "kpi_rate": "Eskalationsrate (je bewertetem Account-Tag)",
        "kpi_first_flags": "bei der ersten Bewertung gemeldete Accounts (keine Eskalationen)",
        "kpi_per_account": "Eskalationen je bewertetem Account",
        "kpi_ack": "Zeit bis zur Bestätigung (Median, h)",
        "kpi_resolve": "Zeit bis zur Lösung (Median, h)",
        "kpi_acked": "bestätigte Eskalationen",
        "kpi_confirmed": "Meldungen, denen CSMs zustimmten, unter den beurteilten",
        "messages": "Nachrichten ({which})",
        "no_messages": "Keine Nachrichten ({which}).",
        "col_created": "erstellt (UTC)",
        "col_channel": "Kanal",
        "col_recipient": "Empfänger",
        "col_status": "Status",
        "col_tries": "Versuche",
        "col_error": "letzter Fehler",
        "msg_all": "alle",
        "msg_pending": "ausstehend",
        "msg_sending": "wird gesendet",
        "msg_sent": "gesendet",
        "msg_failed": "fehlgeschlagen",
        "no_business_hours": "ladder.business_calendar: keine Geschäftszeiten innerhalb von drei "
        "Jahren (alles Feiertage?)",
        "stored_level_unknown": "Account {account}: die gespeicherte Stufe {level!r} steht nicht "
        "in ladder.levels {levels}; eine umbenannte Stufe braucht eine Migration des "
        "gespeicherten Stands",
    },
}


def say(key: str, language: str, **values: Any) -> str:
    """This catalog's entry for `key` in `language`, numbers as the language writes them."""
    return told(CATALOG, key, language, values)
