"""What an import read, wrote and skipped per table, and why: nothing is dropped without a line here.

Reasons and notes are message keys with arguments, rendered from a catalog, so the report can be
shown in English or German.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeGuard

from features.errors import Place
from features.spec import localized, number_forms

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "escrisk import {kind}: {out}",
        "table_line": "  {table:<13} read {read:>9,}  written {written:>9,}  skipped {skipped:>7,}  (from {source})",
        "table_line_refused": "  {table:<13} read {read:>9,}  would write {written:>9,}  skipped {skipped:>7,}  (from {source})",
        "skipped_line": "      skipped {n:,}: {reason}",
        "examples_line": "        e.g. {examples}",
        "merged_line": "      merged {n:,}: {what}",
        "note_line": "      note: {note}",
        "unavailable": "  not available: {what}",
        # skip reasons
        "skip_status": "status {status!r} is listed in importers.{kind}.skip_statuses",
        "skip_tag": "tagged {tag!r}, listed in importers.zendesk.skip_tags (merged into another ticket)",
        "skip_no_account": "no account reference ({field} is empty)",
        "skip_unknown_organization": "organization not in the organizations export (tickets of no "
        "known account); export all organizations to keep them",
        "skip_unknown_company": "none of its companies ({field}) in the companies export "
        "(tickets of no known account); export all companies to keep them",
        "skip_unknown_account": "account ({field}) not in the accounts export (tickets of no "
        "known account); export all accounts to keep them",
        "skip_no_user": "no user id ({field} is empty)",
        "skip_no_time": "no event time ({field} is empty)",
        "skip_unmapped_user": "user not in the user -> account mapping",
        "skip_unknown_account_usage": "the mapping gives its user an account the folder's "
        "accounts table lacks (a test or prospect account?); the lines named are the mapping's",
        "skip_event_type": "event type {type!r} is listed in importers.usage_events.skip_event_types",
        "skip_repeated": "repeats an earlier record (the same messageId/$insert_id, or the same "
        "per-day row: two overlapping exports, or a file given twice); counted once",
        "skip_no_ticket": "of a ticket not imported (not in the tickets export, or skipped there)",
        "skip_blank_row": "blank row",
        "skip_report_footer": "the report's footer (Confidential Information, Copyright)",
        "skip_not_used": "not used: {what}",
        # merges
        "merge_updates": "later audit rows of the same incident (one ticket per incident)",
        "merge_same_update": "signals of the same ticket update (one escalation each)",
        "merge_events": "events summed into one row per account and day",
        "merge_duplicate": "duplicate records of the same id (the most recently updated is kept)",
        "merge_duplicate_row": "rows of the same organization (the first is kept)",
        # notes
        "note_default": "{column} taken from importers.account_defaults for {n:,} of {total:,} [account|accounts]",
        "note_renewal": "renewal_date derived (contract_start + whole terms of {months} [month|months]) for {n:,} [account|accounts]",
        "note_start": "contract_start taken from the account's creation or first ticket for {n:,} [account|accounts]",
        "note_priority": "priority missing on {n:,} [ticket|tickets]; set to importers.default_priority ({value})",
        "note_priority_opened": "{n:,} [ticket keeps|tickets keep] the priority [it was|they were] opened with, not the one set later (the history shows it): a day before the change must not see it",
        "note_channel": "channel not in the export; set to importers.missing_channel ({value}) for {n:,} [ticket|tickets]",
        "note_reopens": "reopen count not in the export for {n:,} [ticket|tickets]; set to 0",
        "note_escalation_time": "{n:,} [escalation|escalations] dated at ticket creation: export {what} for exact times",
        "note_no_escalations": "the export has no escalation signal; escalations table not written",
        "note_no_first_response": "no first response time for any ticket: export CaseMilestone with the completed {milestone!r} milestones (salesforce.first_response_milestone); without them the first response SLA features are left out",
        "note_jira_no_first_response": "no first response time for any issue: no JSM SLA field named {names} (jira.first_response_sla) has a completed cycle (Jira's CSV export holds none: export the issues with the REST API); without them the first response SLA features are left out",
        "note_caller_account": "{n:,} [incident has|incidents have] no company: [its|their] caller_id is taken as the account, a customer of its own; give [it|them] a company to count [it|them] to one ({ids})",
        "note_sn_no_first_response": "no first response time for any incident: export task_sla (slas=task_sla.csv) with their response SLAs (an SLA name holding {words}: servicenow.response_slas); without them the first response SLA features are left out",
        "note_no_group_level": "no assignment group of the export has a level in servicenow.group_levels (such as {groups}): no reassignment is an escalation; name the groups there (export display values, not sys_ids)",
        "note_kept_existing": "kept {file} from an earlier import into this folder",
        "note_sla_goal_only": "{n:,} [ticket takes its SLA target|tickets take their SLA "
        "targets] from the contract's SLA policy: the export gives [it|them] only as a length in "
        "the helpdesk's business time ({field}), without the deadline ({need}) ({ids})",
        "note_reopened_open": "{n:,} [ticket is|tickets are] open again, reopened since [it was|"
        "they were] closed: [its|their] old close date ({field}) is dropped, read as unresolved "
        "({ids})",
        "note_org_no_issues": "{n:,} [organization|organizations] of the organizations CSV "
        "[has|have] no issue in the issues export ({ids}): [an account|accounts] without tickets "
        "(matched by account_id, else name: a name that differs from the issues' is one too)",
        "note_changelog_cut": "{n:,} [issue has|issues have] only the first histories of [its|their] "
        "changelog in the export ({keys}; the search API returns 100 at most): reopens and "
        "priority raises after them are not counted; export them with GET "
        "/rest/api/3/issue/KEY/changelog into the issue's changelog.histories",
        "note_resolved_updated": "resolved_at of {n:,} solved/closed [ticket|tickets] taken from updated_at: export {what} for exact times",
        "note_notation": "{column} in {file}: {n:,} [value|values] such as {v!r} read as {read} ({what}), as the column's other values there write it; importers.number_format sets it",
        "note_thousands": "{column} in {file}: {n:,} [amount|amounts] such as {v!r} read as {read} (a thousands separator: no amount has three decimals); importers.number_format sets the notation",
        "note_day_first": "{column} in {file}: {n:,} [date|dates] such as {v!r} read day first "
        "(as in the UK), as the column's other values there write them (e.g. {e!r}); "
        "importers.slash_dates sets it",
        # words a reason, note or table source takes (`message` values of `what` and `source`)
        "w_resolution_date": "a resolution date",
        "w_ticket_metrics": "ticket metrics",
        "w_ticket_audits": "ticket audits",
        "w_case_history_flag": "CaseHistory (field IsEscalated)",
        "w_other_milestones": "other milestone types",
        "w_later_milestones": "later instances of a case's milestone (recurring or started again; the earliest StartDate is its target)",
        "w_other_slas": "other or cancelled SLAs, and an incident's later ones of a kind",
        "w_other_fields": "changes of other fields",
        "w_not_raised": "priority changes that raise no priority (lowered, or to the same)",
        "w_notation_de": "German notation, a thousands dot",
        "w_notation_en": "English notation, a decimal point",
        "src_tags": "ticket tags",
        "src_tags_audits": "ticket tags + audits",
        "src_changelog": "changelog",
        "src_issue_organizations": "organizations of the issues",
        "src_issue_and_csv_organizations": "organizations of the issues and of the organizations CSV",
        "src_incident_companies": "companies of the incidents",
        "src_audit_rows": "audit rows",
        "unavail_usage": "usage (usage feature family: active users, event trends)",
        "unavail_escalations": "escalations (escalation labels and escalation-history features)",
        "unavail_churn": "churn (churn labels)",
        # the import's own lines around the report
        "refused": "{out}: nothing written; the import breaks the data contract:",
        "no_accounts_yet": "{out}: no accounts/tickets yet; import a helpdesk or CRM export into "
        "the same folder.",
    },
    "de": {
        "title": "escrisk import {kind}: {out}",
        "table_line": "  {table:<13} gelesen {read:>9,}  geschrieben {written:>9,}  übersprungen {skipped:>7,}  (aus {source})",
        "table_line_refused": "  {table:<13} gelesen {read:>9,}  zu schreiben {written:>9,}  übersprungen {skipped:>7,}  (aus {source})",
        "skipped_line": "      übersprungen {n:,}: {reason}",
        "examples_line": "        z. B. {examples}",
        "merged_line": "      zusammengefasst {n:,}: {what}",
        "note_line": "      Hinweis: {note}",
        "unavailable": "  nicht verfügbar: {what}",
        "skip_status": "Status {status!r} steht in importers.{kind}.skip_statuses",
        "skip_tag": "markiert mit {tag!r}, steht in importers.zendesk.skip_tags (in ein anderes Ticket zusammengeführt)",
        "skip_no_account": "kein Kundenbezug ({field} ist leer)",
        "skip_unknown_organization": "Organisation fehlt im Organisations-Export (Tickets keines "
        "bekannten Kunden); alle Organisationen exportieren, um sie zu behalten",
        "skip_unknown_company": "keine seiner Firmen ({field}) im Firmen-Export (Tickets "
        "keines bekannten Kunden); alle Firmen exportieren, um sie zu behalten",
        "skip_unknown_account": "Kunde ({field}) fehlt im Kunden-Export (Tickets keines "
        "bekannten Kunden); alle Kunden exportieren, um sie zu behalten",
        "skip_no_user": "keine Benutzer-ID ({field} ist leer)",
        "skip_no_time": "keine Ereigniszeit ({field} ist leer)",
        "skip_unmapped_user": "Benutzer fehlt in der Zuordnung Benutzer -> Kunde",
        "skip_unknown_account_usage": "die Zuordnung gibt seinem Benutzer einen Kunden, der in "
        "der Kundentabelle des Ordners fehlt (ein Test- oder Interessenten-Konto?); die genannten "
        "Zeilen sind die der Zuordnung",
        "skip_event_type": "Ereignistyp {type!r} steht in importers.usage_events.skip_event_types",
        "skip_repeated": "wiederholt einen früheren Datensatz (dieselbe messageId/$insert_id oder "
        "dieselbe Zeile pro Tag: zwei überlappende Exporte oder eine Datei doppelt angegeben); "
        "einmal gezählt",
        "skip_no_ticket": "zu einem nicht importierten Ticket (fehlt im Ticket-Export oder wurde dort übersprungen)",
        "skip_blank_row": "leere Zeile",
        "skip_report_footer": "Fußzeilen des Berichts (Confidential Information, Copyright)",
        "skip_not_used": "nicht verwendet: {what}",
        "merge_updates": "spätere Audit-Zeilen desselben Incidents (ein Ticket pro Incident)",
        "merge_same_update": "Signale derselben Ticket-Änderung (je eine Eskalation)",
        "merge_events": "Ereignisse zu einer Zeile pro Kunde und Tag summiert",
        "merge_duplicate": "doppelte Datensätze derselben ID (der zuletzt geänderte bleibt)",
        "merge_duplicate_row": "Zeilen derselben Organisation (die erste bleibt)",
        "note_default": "{column} aus importers.account_defaults für {n:,} von {total:,} Kunden",
        "note_renewal": "renewal_date abgeleitet (contract_start + ganze Laufzeiten von {months} [Monat|Monaten]) für {n:,} Kunden",
        "note_start": "contract_start aus Anlagedatum oder erstem Ticket für {n:,} Kunden",
        "note_priority": "Priorität fehlt bei {n:,} [Ticket|Tickets]; auf importers.default_priority ({value}) gesetzt",
        "note_priority_opened": "{n:,} [Ticket behält|Tickets behalten] die Priorität [seiner|ihrer] Eröffnung, nicht die später gesetzte (der Verlauf zeigt sie): ein Tag vor der Änderung darf sie nicht sehen",
        "note_channel": "Kanal fehlt im Export; für {n:,} [Ticket|Tickets] auf importers.missing_channel ({value}) gesetzt",
        "note_reopens": "Anzahl Wiedereröffnungen fehlt im Export für {n:,} [Ticket|Tickets]; auf 0 gesetzt",
        "note_escalation_time": "{n:,} [Eskalation|Eskalationen] auf die Ticket-Erstellung datiert: {what} exportieren für genaue Zeiten",
        "note_no_escalations": "der Export enthält kein Eskalationssignal; Tabelle escalations nicht geschrieben",
        "note_no_first_response": "für kein Ticket eine Erstantwortzeit: CaseMilestone mit den abgeschlossenen Meilensteinen {milestone!r} (salesforce.first_response_milestone) exportieren; ohne sie bleiben die Erstantwort-SLA-Merkmale ausgelassen",
        "note_jira_no_first_response": "für keinen Vorgang eine Erstantwortzeit: kein JSM-SLA-Feld namens {names} (jira.first_response_sla) hat einen abgeschlossenen Zyklus (der CSV-Export von Jira enthält keine: die Vorgänge über die REST-API exportieren); ohne sie bleiben die Erstantwort-SLA-Merkmale ausgelassen",
        "note_caller_account": "{n:,} [Incident hat|Incidents haben] kein Unternehmen: [sein|ihr] caller_id gilt als Kunde, ein eigener; [ihm|ihnen] ein Unternehmen geben, um [es|sie] einem Kunden zuzuordnen ({ids})",
        "note_sn_no_first_response": "für keinen Incident eine Erstantwortzeit: task_sla (slas=task_sla.csv) mit den Antwort-SLAs exportieren (ein SLA-Name mit {words}: servicenow.response_slas); ohne sie bleiben die Erstantwort-SLA-Merkmale ausgelassen",
        "note_no_group_level": "keine Zuweisungsgruppe des Exports hat eine Stufe in servicenow.group_levels (etwa {groups}): keine Neuzuweisung ist eine Eskalation; die Gruppen dort nennen (Anzeigewerte exportieren, keine sys_ids)",
        "note_kept_existing": "{file} aus einem früheren Import in diesen Ordner behalten",
        "note_sla_goal_only": "{n:,} [Ticket erhält sein SLA-Ziel|Tickets erhalten ihre "
        "SLA-Ziele] aus der SLA-Richtlinie des Vertrags: der Export gibt [es|sie] nur als Dauer "
        "in der Geschäftszeit des Helpdesks an ({field}), ohne die Frist ({need}) ({ids})",
        "note_reopened_open": "{n:,} [Ticket ist|Tickets sind] wieder offen, seit dem Schließen "
        "wieder geöffnet: [sein|ihr] altes Schließdatum ({field}) wird verworfen, als ungelöst "
        "gelesen ({ids})",
        "note_org_no_issues": "{n:,} [Organisation|Organisationen] der Organisations-CSV "
        "[hat|haben] keinen Vorgang im Issues-Export ({ids}): [ein Kunde|Kunden] ohne Tickets "
        "(abgeglichen über account_id, sonst name: ein Name, der von dem der Vorgänge abweicht, "
        "ist auch einer)",
        "note_changelog_cut": "bei {n:,} [Vorgang|Vorgängen] enthält der Export nur die ersten "
        "Einträge des Änderungsverlaufs ({keys}; die Such-API liefert höchstens 100): spätere "
        "Wiedereröffnungen und Prioritätserhöhungen fehlen; mit GET "
        "/rest/api/3/issue/KEY/changelog exportieren und in changelog.histories des Vorgangs "
        "ergänzen",
        "note_resolved_updated": "resolved_at von {n:,} gelösten/geschlossenen [Ticket|Tickets] aus updated_at: {what} exportieren für genaue Zeiten",
        "note_notation": "{column} in {file}: {n:,} [Wert|Werte] wie {v!r} als {read} gelesen ({what}), wie die anderen Werte der Spalte dort schreiben; importers.number_format legt es fest",
        "note_thousands": "{column} in {file}: {n:,} [Betrag|Beträge] wie {v!r} als {read} gelesen (Tausendertrennzeichen: kein Betrag hat drei Nachkommastellen); importers.number_format legt die Schreibweise fest",
        "note_day_first": "{column} in {file}: {n:,} [Datum|Daten] wie {v!r} mit dem Tag zuerst "
        "gelesen (wie in Großbritannien), wie die anderen Werte der Spalte dort schreiben (z. B. "
        "{e!r}); importers.slash_dates legt es fest",
        "w_resolution_date": "ein Lösungsdatum",
        "w_ticket_metrics": "Ticket-Metriken",
        "w_ticket_audits": "Ticket-Audits",
        "w_case_history_flag": "CaseHistory (Feld IsEscalated)",
        "w_other_milestones": "andere Meilensteintypen",
        "w_later_milestones": "spätere Instanzen des Meilensteins eines Falls (wiederkehrend oder neu gestartet; die früheste StartDate ist sein Ziel)",
        "w_other_slas": "andere oder abgebrochene SLAs und die späteren einer Art je Incident",
        "w_other_fields": "Änderungen anderer Felder",
        "w_not_raised": "Prioritätsänderungen ohne Erhöhung (gesenkt oder gleich)",
        "w_notation_de": "deutsche Schreibweise, Tausenderpunkt",
        "w_notation_en": "englische Schreibweise, Dezimalpunkt",
        "src_tags": "Ticket-Tags",
        "src_tags_audits": "Ticket-Tags + Audits",
        "src_changelog": "Änderungsverlauf",
        "src_issue_organizations": "Organisationen der Vorgänge",
        "src_issue_and_csv_organizations": "Organisationen der Vorgänge und der Organisations-CSV",
        "src_incident_companies": "Firmen der Incidents",
        "src_audit_rows": "Audit-Zeilen",
        "unavail_usage": "usage (Nutzungs-Features: aktive Benutzer, Ereignistrends)",
        "unavail_escalations": "escalations (Eskalations-Labels und Eskalationshistorie)",
        "unavail_churn": "churn (Churn-Labels)",
        "refused": "{out}: nichts geschrieben; der Import verstößt gegen den Datenvertrag:",
        "no_accounts_yet": "{out}: noch keine Kunden/Tickets; einen Helpdesk- oder CRM-Export in "
        "denselben Ordner importieren.",
    },
}

Message = tuple[str, tuple[tuple[str, object], ...]]
EXAMPLES = 3  # skipped records shown per reason, so that a user can look one up
Example = tuple[Place | None, str]  # a skipped record: its place in its file, and its ids


def message(key: str, **args: object) -> Message:
    return key, tuple(sorted(args.items()))


def render(msg: Message, lang: str = "en") -> str:
    key, args = msg
    catalog = MESSAGES.get(lang, MESSAGES["en"])
    # a value that is a message itself (what to export, a table's source) is told in `lang` too
    values = {k: render(v, lang) if _is_message(v) else v for k, v in args}
    return _format(number_forms(catalog.get(key, MESSAGES["en"][key]), values), lang, **values)


def _is_message(value: object) -> TypeGuard[Message]:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and value[0] in MESSAGES["en"]
    )


def source_text(source: str | Message, lang: str) -> str:
    """A table's source: its file names as they are, or words of the catalog."""
    return render(source, lang) if _is_message(source) else str(source)


def _format(template: str, lang: str, **values: object) -> str:
    """`template` with its numbers as `lang` writes them (1.234 in German, not 1,234)."""
    return template.format(**{k: localized(v, lang) for k, v in values.items()})


@dataclass
class TableReport:
    """Counts for one output table; read = written + skipped + merged when rows map one to one."""

    table: str
    source: str | Message  # file names, or what the rows were derived from
    read: int = 0
    written: int = 0
    skipped: Counter[Message] = field(default_factory=Counter)
    merged: Counter[Message] = field(default_factory=Counter)
    notes: list[Message] = field(default_factory=list)
    examples: dict[Message, list[Example]] = field(default_factory=dict)

    def skip(self, key: str, n: int = 1, examples: Sequence[Example] = (), **args: object) -> None:
        """Count `n` records skipped for a reason; `examples` name the first few (file, line, id)."""
        if n:
            msg = message(key, **args)
            self.skipped[msg] += n
            shown = self.examples.setdefault(msg, [])
            shown += list(examples[: EXAMPLES - len(shown)])

    def merge(self, key: str, n: int = 1, **args: object) -> None:
        if n:
            self.merged[message(key, **args)] += n

    def note(self, key: str, **args: object) -> None:
        self.notes.append(message(key, **args))


@dataclass
class ImportReport:
    kind: str
    tables: dict[str, TableReport] = field(default_factory=dict)
    notes: list[Message] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)

    def table(self, name: str, source: str | Message = "") -> TableReport:
        if name not in self.tables:
            self.tables[name] = TableReport(name, source)
        elif source and not self.tables[name].source:
            self.tables[name].source = source
        return self.tables[name]

    def render(self, out: str, lang: str = "en", refused: bool = False) -> str:
        """`refused`: the contract refused the tables, so their rows are told as the ones the
        import would write, not as written (the refusal says that nothing was)."""
        cat = MESSAGES.get(lang, MESSAGES["en"])
        lines = [cat["title"].format(kind=self.kind, out=out)]
        for t in self.tables.values():
            lines.append(
                _format(
                    cat["table_line_refused" if refused else "table_line"],
                    lang,
                    table=t.table,
                    read=t.read,
                    written=t.written,
                    skipped=sum(t.skipped.values()),
                    source=source_text(t.source, lang) if t.source else "-",
                )
            )
            for msg, n in sorted(t.skipped.items()):
                lines.append(_format(cat["skipped_line"], lang, n=n, reason=render(msg, lang)))
                if t.examples.get(msg):
                    shown = "; ".join(_example(e, lang) for e in t.examples[msg])
                    lines.append(cat["examples_line"].format(examples=shown))
            for msg, n in sorted(t.merged.items()):
                lines.append(_format(cat["merged_line"], lang, n=n, what=render(msg, lang)))
            lines += [cat["note_line"].format(note=render(m, lang)) for m in t.notes]
        lines += ["  " + cat["note_line"].format(note=render(m, lang)).strip() for m in self.notes]
        lines += [
            cat["unavailable"].format(what=cat[f"unavail_{name}"]) for name in self.unavailable
        ]
        return "\n".join(lines)


def _example(example: Example, lang: str) -> str:
    where, ids = example
    if where is None:
        return ids
    return f"{where.told(lang)} ({ids})" if ids else where.told(lang)
