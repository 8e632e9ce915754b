"""The texts of the CSM web page (`/ui`), in English and German.

Column titles and risk words come from `serving.daily_text` (the list's own catalog); ladder
reasons from `serving.ladder_text`. A missing key in a language falls back to English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from serving import daily_text
from serving.ladder_text import rule_title

if TYPE_CHECKING:
    from serving.params import LadderParams

CATALOG: Mapping[str, Mapping[str, str]] = {
    "en": {
        "app_title": "Escalation risk",
        "login_title": "Sign in",
        "login_help": "Paste your API bearer token. The page keeps a signed session cookie, never the token.",
        "session_lost": "Your session had ended (it expired, you signed out, or its token was revoked), so nothing was recorded. Sign in and do it again.",
        "login_name": "Your name (recorded in the audit trail)",
        "login_token": "API token",
        "login_submit": "Sign in",
        "login_failed": "Unknown token. Use a token the service accepts (ESCRISK_API_TOKENS or ESCRISK_API_TOKENS_FILE).",
        "login_name_missing": "Enter your name: acknowledgements and feedback are recorded under it.",
        "login_name_key": "Enter your name without a key: the page adds the key of your token itself.",
        "login_wait": "Too many failed sign-ins from this computer: wait {seconds} s, then try again.",
        "logout": "Sign out",
        "signed_in_as": "Signed in as {name}",
        "list_title": "Daily risk list {day}",
        "list_title_none": "Daily risk list",  # before the first run: no day to name
        "no_list": "No daily list yet. Run `escrisk daily SOURCE` first.",
        "list_stale": "This list is from {day}, {days} days ago: no daily run has stored a newer one since. Its risks, levels and due times are as of that day; check that `escrisk daily` still runs.",
        "filter_owner": "CSM",
        "filter_level": "Level",
        "filter_min_level": "Level at least",
        "filter_tier": "Tier",
        "filter_any": "any",
        "filter_apply": "Filter",
        "filter_reset": "Reset",
        "col_tier": "Tier",
        "col_arr": "ARR",
        "col_priority": "Priority",
        "shown": "accounts {first:,}–{last:,} of {total:,}",
        "list_empty": "This day's list holds no accounts.",
        "page_prev": "← previous",
        "page_of": "{page:,} / {pages:,}",
        "page_next": "next →",
        "back_to_list": "← Back to the list",
        "try_again": "↻ Try again",
        "signed_out_here": "You are signed out in this browser; the sign-out could not be recorded.",
        "not_saved_typed": "Nothing was saved. What you wrote, to copy and send again later:",
        "account_title": "{name} ({account})",
        "summary_line": "Escalation risk {esc}, churn risk {churn}, level {level}: {title}",
        "owner_line": "CSM {owner} · tier {tier} · ARR {arr}",
        "state_line": "At {level} since {since}",
        "state_due": "acknowledge by {due}",
        "state_acked": "acknowledged {at}",
        "state_resolved": "resolved {at}",
        "state_none": "Not in the ladder store yet.",
        "sec_history": "Score history",
        "sec_reasons": "Today's reasons",
        "reasons_caption": "How the features move the escalation risk from the model average (not the observed escalation rate) to today's value.",
        "base_rate": "model average",
        "other_features": "{n:,} other [feature|features]",
        "today_risk": "escalation risk today",
        "no_contributions": "No stored contributions for today.",
        "reasons_listed": "The list's reasons (escalation and churn risk, the largest first):",
        "sec_why": "Why it changed",
        "why_none": "No change attributed (first run, or too small a change).",
        "delta_line": "Δ since the previous run {prev}, over {delta_days} [day|days] {week}",
        "sec_tickets": "Tickets ({days:,} [day|days] before the list's day)",
        "tickets_caption": "Dot: opened; bar: until resolved (open tickets reach the right edge); point at a dot for the ticket.",
        "ticket_tip": "{ticket} ({priority}): opened {opened}, resolved {resolved}",
        "ticket_tip_open": "{ticket} ({priority}): opened {opened}, still open on the list's day",
        "tickets_none": "No tickets in this period.",
        "sec_usage": "Usage ({days:,} [day|days] before the list's day)",
        "usage_active": "active users",
        "usage_none": "No usage data in this period.",
        "no_source": "Ticket and usage timelines need the source the daily job reads: set ESCRISK_SOURCE for the service.",
        "source_error": "The source could not be read: {error}",
        "sec_ladder": "Ladder history",
        "ladder_none": "No level change recorded.",
        "col_when": "When ({zone})",
        "col_change": "Change",
        "col_rule": "Rule",
        "col_why_level": "Why",
        "col_by": "By",
        "col_event": "Event",
        "col_detail": "Detail",
        "sec_audit": "Audit trail",
        "audit_none": "Nothing recorded yet.",
        "ev_level_changes": "level change",
        "ev_acknowledgements": "acknowledged",
        "ev_resolutions": "resolved",
        "ev_feedback": "feedback",
        "ev_actions_taken": "action",
        "by_ladder": "ladder (automatic)",  # a level change: no person made it
        "sec_actions": "Actions",
        "actions_none": "The ladder has not flagged this account: there is nothing to acknowledge or resolve.",
        "ack_button": "Acknowledge",
        "ack_note": "Note (optional)",
        "resolve_button": "Resolve",
        "resolve_outcome": "Outcome",
        "resolve_choose": "– choose –",
        "feedback_button": "Send feedback",
        "feedback_agree": "The flag is right",
        "feedback_disagree": "The flag is wrong",
        "feedback_comment": "Comment (optional)",
        "done_ack": "Acknowledged by {by}.",
        "done_resolve": "Resolved ({outcome}) by {by}.",
        "done_feedback": "Feedback recorded: {by} {verdict} the flag.",
        "agrees": "agrees with",
        "disagrees": "disagrees with",
        "csrf_failed": "The form expired or did not come from this page. Reload the page and try again.",
        "cross_site": "The form was sent from another site's page, so nothing was done. Open this page's own address and use its forms.",
        "bad_outcome": "Unknown outcome {outcome!r}; choose one from the list.",
        "no_outcome": "Choose the outcome before resolving the flag.",
        "bad_verdict": "Choose whether the flag is right or wrong.",
        "no_account": "The form did not say which account (field account_id is missing or not a valid id).",
        "not_found": "Account {account} has never been scored by the daily run.",
        "not_latest": "Not on the latest list ({latest}): the daily run last scored this account on {day}, and this page shows that day's risks, level and reasons.",
        "not_latest_churned": "Churned on {churned}, so not on the latest list ({latest}): the daily run last scored this account on {day}, and this page shows that day's risks, level and reasons.",
        "not_found_kept": "Account {account} has no score of the daily run in the {keep:,} [day|days] it keeps (daily.keep_days): it was never scored, or not since then.",
        "no_such_page": "There is no such page.",
        "form_only": "This address takes the page's forms only; open the list or an account's page instead.",
        "store_unavailable": "The risk list's database is not available right now: {detail}",
        "unavailable_bad_url": "ESCRISK_DATABASE_URL is not a valid SQLAlchemy URL (e.g. sqlite:///escrisk.db).",
        "unavailable_no_file": "there is no database at {path} (ESCRISK_DATABASE_URL={where}). `escrisk daily` creates it with its first run; check the URL if it has run.",
        "unavailable_no_store": "the database {where} holds no escalation-risk store (no table {table}). `escrisk daily` creates it with its first run; check ESCRISK_DATABASE_URL.",
        "unavailable_unreachable": "the database {where} cannot be reached or used ({cause}).",
        "unavailable_outdated": "the database {where} lacks the table {tables} of this version: run `escrisk audit --last 1` once with ESCRISK_DATABASE_URL naming a role with DDL rights (CREATE on the schema, owner of the tables); it adds them and changes no stored row. Then grant this role its rights on the tables added.",
        "unavailable_gone": "the connection to the database failed ({cause}). Try again in a moment.",
        "form_too_large": "The form was larger than {kb:,} KB, so nothing was recorded. Shorten the note or comment and send it again.",
        "value_refused": "The database cannot store a value of this form (too long, or characters it cannot hold). Nothing was recorded.",
        "status_overdue": "overdue",
        "status_acknowledged": "acknowledged",
        "status_resolved": "resolved",
        "conflict_unknown_account": "Account {account} has no ladder state (never scored by the daily run).",
        "conflict_never_flagged": "Account {account} has never been flagged: there is nothing to do.",
        "conflict_already_acknowledged": "Level {level} of account {account} was already acknowledged at {at}.",
        "conflict_already_resolved": "The flag at {level} of account {account} was already resolved at {at}.",
        "rule_risk": "risk",
        "rule_timeout": "not acknowledged in time",
        "rule_cooldown": "cool-down",
        "rule_hold": "hold",
        "rule_first": "first run",
        "rule_named": "rule: {name}",
        "outcome_saved": "saved",
        "outcome_churned": "churned",
        "outcome_downgraded": "downgraded",
        "outcome_escalated_externally": "escalated externally",
        "outcome_false_alarm": "false alarm",
        "outcome_no_action_needed": "no action needed",
        "bad_filter": "Invalid filter: {error}",
        "unknown_level": "There is no level {level!r} (the ladder's levels: {levels}), so no account is listed. Choose a level from the list.",
        "language": "Language",
        "by_key": "{name} (key {key_id})",  # the audit trail's `by` of a page user (serving.uisession)
        "agree_yes": "agree",
        "agree_no": "disagree",
        "points": "{value}\u00a0pp",  # a change of a risk in percentage points, beside risks in %
    },
    "de": {
        "app_title": "Eskalationsrisiko",
        "login_title": "Anmelden",
        "login_help": "Fügen Sie Ihr API-Bearer-Token ein. Die Seite speichert ein signiertes Sitzungs-Cookie, nie das Token.",
        "session_lost": "Ihre Sitzung war beendet (abgelaufen, abgemeldet oder ihr Token entzogen), daher wurde nichts gespeichert. Melden Sie sich an und wiederholen Sie es.",
        "login_name": "Ihr Name (wird im Audit-Protokoll vermerkt)",
        "login_token": "API-Token",
        "login_submit": "Anmelden",
        "login_failed": "Unbekanntes Token. Verwenden Sie ein Token, das der Dienst annimmt (ESCRISK_API_TOKENS oder ESCRISK_API_TOKENS_FILE).",
        "login_name_missing": "Geben Sie Ihren Namen ein: Bestätigungen und Feedback werden darunter erfasst.",
        "login_name_key": "Geben Sie Ihren Namen ohne Schlüssel ein: Die Seite fügt den Schlüssel Ihres Tokens selbst hinzu.",
        "login_wait": "Zu viele fehlgeschlagene Anmeldungen von diesem Computer: Warten Sie {seconds} s und versuchen Sie es dann erneut.",
        "logout": "Abmelden",
        "signed_in_as": "Angemeldet als {name}",
        "list_title": "Tägliche Risikoliste {day}",
        "list_title_none": "Tägliche Risikoliste",
        "no_list": "Noch keine Tagesliste. Führen Sie zuerst `escrisk daily QUELLE` aus.",
        "list_stale": "Diese Liste ist vom {day}, vor {days} Tagen: Seitdem hat kein Tageslauf eine neuere gespeichert. Risiken, Stufen und Fälligkeiten sind Stand dieses Tages; prüfen Sie, ob `escrisk daily` noch läuft.",
        "filter_owner": "CSM",
        "filter_level": "Stufe",
        "filter_min_level": "Stufe mindestens",
        "filter_tier": "Tarif",
        "filter_any": "alle",
        "filter_apply": "Filtern",
        "filter_reset": "Zurücksetzen",
        "col_tier": "Tarif",
        "col_arr": "ARR",
        "col_priority": "Priorität",
        "shown": "Accounts {first:,}–{last:,} von {total:,}",
        "list_empty": "Die Liste dieses Tages enthält keine Accounts.",
        "page_prev": "← zurück",
        "page_of": "{page:,} / {pages:,}",
        "page_next": "weiter →",
        "back_to_list": "← Zurück zur Liste",
        "try_again": "↻ Erneut versuchen",
        "signed_out_here": "Sie sind in diesem Browser abgemeldet; die Abmeldung konnte nicht gespeichert werden.",
        "not_saved_typed": "Nichts wurde gespeichert. Ihr Text, zum Kopieren und späteren erneuten Senden:",
        "account_title": "{name} ({account})",
        "summary_line": "Eskalationsrisiko {esc}, Abwanderungsrisiko {churn}, Stufe {level}: {title}",
        "owner_line": "CSM {owner} · Tarif {tier} · ARR {arr}",
        "state_line": "Auf {level} seit {since}",
        "state_due": "bestätigen bis {due}",
        "state_acked": "bestätigt am {at}",
        "state_resolved": "gelöst am {at}",
        "state_none": "Noch nicht im Stufenspeicher.",
        "sec_history": "Score-Verlauf",
        "sec_reasons": "Heutige Gründe",
        "reasons_caption": "Wie die Merkmale das Eskalationsrisiko vom Modellmittel (nicht die beobachtete Eskalationsrate) zum heutigen Wert bewegen.",
        "base_rate": "Modellmittel",
        "other_features": "{n:,} [weiteres Merkmal|weitere Merkmale]",
        "today_risk": "Eskalationsrisiko heute",
        "no_contributions": "Für heute sind keine Beiträge gespeichert.",
        "reasons_listed": "Die Gründe der Liste (Eskalations- und Abwanderungsrisiko, die größten zuerst):",
        "sec_why": "Warum verändert",
        "why_none": "Keine Veränderung zugeordnet (erster Lauf oder zu kleine Änderung).",
        "delta_line": "Δ seit dem letzten Lauf {prev}, seit {delta_days} [Tag|Tagen] {week}",
        "sec_tickets": "Tickets ({days:,} [Tag|Tage] vor dem Tag der Liste)",
        "tickets_caption": "Punkt: eröffnet; Balken: bis gelöst (offene Tickets reichen bis zum rechten Rand); der Zeiger auf einem Punkt nennt das Ticket.",
        "ticket_tip": "{ticket} ({priority}): eröffnet {opened}, gelöst {resolved}",
        "ticket_tip_open": "{ticket} ({priority}): eröffnet {opened}, am Tag der Liste noch offen",
        "tickets_none": "Keine Tickets in diesem Zeitraum.",
        "sec_usage": "Nutzung ({days:,} [Tag|Tage] vor dem Tag der Liste)",
        "usage_active": "aktive Nutzer",
        "usage_none": "Keine Nutzungsdaten in diesem Zeitraum.",
        "no_source": "Ticket- und Nutzungsverlauf brauchen die Quelle des Tageslaufs: ESCRISK_SOURCE für den Dienst setzen.",
        "source_error": "Die Quelle konnte nicht gelesen werden: {error}",
        "sec_ladder": "Stufenverlauf",
        "ladder_none": "Kein Stufenwechsel erfasst.",
        "col_when": "Wann ({zone})",
        "col_change": "Wechsel",
        "col_rule": "Regel",
        "col_why_level": "Grund",
        "col_by": "Von",
        "col_event": "Ereignis",
        "col_detail": "Details",
        "sec_audit": "Audit-Protokoll",
        "audit_none": "Noch nichts erfasst.",
        "ev_level_changes": "Stufenwechsel",
        "ev_acknowledgements": "bestätigt",
        "ev_resolutions": "gelöst",
        "ev_feedback": "Feedback",
        "ev_actions_taken": "Maßnahme",
        "by_ladder": "Stufenregel (automatisch)",
        "sec_actions": "Aktionen",
        "actions_none": "Die Eskalationsstufen haben diesen Account nicht markiert: Es gibt nichts zu bestätigen oder zu erledigen.",
        "ack_button": "Bestätigen",
        "ack_note": "Notiz (optional)",
        "resolve_button": "Lösen",
        "resolve_outcome": "Ergebnis",
        "resolve_choose": "– bitte wählen –",
        "feedback_button": "Feedback senden",
        "feedback_agree": "Die Meldung stimmt",
        "feedback_disagree": "Die Meldung stimmt nicht",
        "feedback_comment": "Kommentar (optional)",
        "done_ack": "Bestätigt von {by}.",
        "done_resolve": "Gelöst ({outcome}) von {by}.",
        "done_feedback": "Feedback erfasst: {by} {verdict}.",
        "agrees": "stimmt der Meldung zu",
        "disagrees": "widerspricht der Meldung",
        "csrf_failed": "Das Formular ist abgelaufen oder stammt nicht von dieser Seite. Seite neu laden und erneut versuchen.",
        "cross_site": "Das Formular wurde von der Seite einer anderen Website gesendet, daher wurde nichts ausgeführt. Öffnen Sie die Adresse dieser Seite und nutzen Sie deren Formulare.",
        "bad_outcome": "Unbekanntes Ergebnis {outcome!r}; bitte eines aus der Liste wählen.",
        "no_outcome": "Bitte vor dem Lösen ein Ergebnis wählen.",
        "bad_verdict": "Bitte wählen, ob die Meldung stimmt oder nicht.",
        "no_account": "Das Formular nennt keinen Account (Feld account_id fehlt oder ist keine gültige ID).",
        "not_found": "Account {account} wurde vom Tageslauf noch nie bewertet.",
        "not_latest": "Nicht auf der neuesten Liste ({latest}): Der Tageslauf hat diesen Account zuletzt am {day} bewertet; diese Seite zeigt Risiken, Stufe und Gründe dieses Tages.",
        "not_latest_churned": "Am {churned} gekündigt, daher nicht auf der neuesten Liste ({latest}): Der Tageslauf hat diesen Account zuletzt am {day} bewertet; diese Seite zeigt Risiken, Stufe und Gründe dieses Tages.",
        "not_found_kept": "Account {account} hat keine Bewertung des Tageslaufs in den {keep:,} aufbewahrten [Tag|Tagen] (daily.keep_days): nie bewertet oder seitdem nicht mehr.",
        "no_such_page": "Diese Seite gibt es nicht.",
        "form_only": "Diese Adresse nimmt nur die Formulare der Seite entgegen; öffnen Sie die Liste oder die Seite eines Accounts.",
        "store_unavailable": "Die Datenbank der Risikoliste ist gerade nicht erreichbar: {detail}",
        "unavailable_bad_url": "ESCRISK_DATABASE_URL ist keine gültige SQLAlchemy-URL (z. B. sqlite:///escrisk.db).",
        "unavailable_no_file": "Unter {path} gibt es keine Datenbank (ESCRISK_DATABASE_URL={where}). `escrisk daily` legt sie beim ersten Lauf an; prüfen Sie die URL, falls er schon gelaufen ist.",
        "unavailable_no_store": "Die Datenbank {where} enthält keinen Escalation-Risk-Speicher (keine Tabelle {table}). `escrisk daily` legt ihn beim ersten Lauf an; prüfen Sie ESCRISK_DATABASE_URL.",
        "unavailable_unreachable": "Die Datenbank {where} ist nicht erreichbar oder nicht nutzbar ({cause}).",
        "unavailable_outdated": "Der Datenbank {where} fehlt die Tabelle {tables} dieser Version: Führen Sie einmal `escrisk audit --last 1` mit einer ESCRISK_DATABASE_URL aus, deren Rolle DDL-Rechte hat (CREATE im Schema, Eigentümer der Tabellen); es legt sie an und ändert keine gespeicherte Zeile. Geben Sie dieser Rolle danach ihre Rechte an den neuen Tabellen.",
        "unavailable_gone": "Die Verbindung zur Datenbank ist fehlgeschlagen ({cause}). Versuchen Sie es gleich noch einmal.",
        "form_too_large": "Das Formular war größer als {kb:,} KB, daher wurde nichts gespeichert. Kürzen Sie die Notiz oder den Kommentar und senden Sie es erneut.",
        "value_refused": "Die Datenbank kann einen Wert dieses Formulars nicht speichern (zu lang oder mit Zeichen, die sie nicht speichern kann). Es wurde nichts gespeichert.",
        "status_overdue": "überfällig",
        "status_acknowledged": "bestätigt",
        "status_resolved": "gelöst",
        "conflict_unknown_account": "Account {account} hat keinen Eskalationsstand (vom Tageslauf nie bewertet).",
        "conflict_never_flagged": "Account {account} wurde nie gemeldet: Es gibt nichts zu tun.",
        "conflict_already_acknowledged": "Stufe {level} von Account {account} wurde bereits am {at} bestätigt.",
        "conflict_already_resolved": "Die Meldung auf {level} von Account {account} wurde bereits am {at} erledigt.",
        "rule_risk": "Risiko",
        "rule_timeout": "nicht rechtzeitig bestätigt",
        "rule_cooldown": "Abkühlphase",
        "rule_hold": "Haltezeit",
        "rule_first": "erster Lauf",
        "rule_named": "Regel: {name}",
        "outcome_saved": "gehalten",
        "outcome_churned": "gekündigt",
        "outcome_downgraded": "herabgestuft",
        "outcome_escalated_externally": "extern eskaliert",
        "outcome_false_alarm": "Fehlalarm",
        "outcome_no_action_needed": "kein Handeln nötig",
        "bad_filter": "Ungültiger Filter: {error}",
        "unknown_level": "Eine Stufe {level!r} gibt es nicht (die Stufen: {levels}), daher wird kein Account aufgeführt. Wählen Sie eine Stufe aus der Liste.",
        "language": "Sprache",
        "by_key": "{name} (Schlüssel {key_id})",
        "agree_yes": "zugestimmt",
        "agree_no": "widersprochen",
        "points": "{value}\u00a0Pp.",  # Prozentpunkte
    },
}
LANGUAGES = tuple(CATALOG)


def rule(kind: str, language: str, ladder: LadderParams) -> str:
    """Why the ladder moved, as a level change records it ("risk", "rule:<name>", "timeout",
    ...), for people: a hard rule by its title."""
    if kind.startswith("rule:"):
        name = rule_title(ladder, kind.removeprefix("rule:"), language)
        return text("rule_named", language, name=name)
    try:
        return text(f"rule_{kind}", language)
    except KeyError:
        return kind


# how `serving.uisession.Session.by` records a page user: the name, then the token's key id
_BY_KEY = re.compile(r"(?s)(.*) \(key ([0-9a-f]{8})\)")


def by_text(by: str, language: str) -> str:
    """Who acted, as the audit trail records it, in `language`: the page's "Nina (key 3fa9c2d1)"
    stays in the store as written (it is compared and searched), and reads "Nina (Schlüssel
    3fa9c2d1)" in German; any other `by` (a CLI --by, a name alone) as recorded."""
    found = _BY_KEY.fullmatch(by)
    if found is None:
        return by
    return text("by_key", language, name=found.group(1), key_id=found.group(2))


def outcome(key: str, language: str) -> str:
    """A resolution outcome (params.yaml ladder.outcomes) as people read it: the catalog's label
    for the shipped ones, the key with spaces for outcomes a team added."""
    try:
        return text(f"outcome_{key}", language)
    except KeyError:
        return key.replace("_", " ")


def text(key: str, language: str, **values: Any) -> str:
    """The page's entry for `key` in `language`, else the daily list's catalog, else English;
    numbers as the language writes them ("Accounts 1–50 von 12.345")."""
    for catalog in (CATALOG, daily_text.CATALOG):
        if key in catalog.get(language, {}) or key in catalog["en"]:
            return daily_text.told(catalog, key, language, values)
    raise KeyError(key)
