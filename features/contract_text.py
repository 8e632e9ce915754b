"""The data contract's violation texts in English and German: the details of each rule and the
report's own words (`escrisk validate --lang de` reads them all in German).

A detail quotes the value found as the source wrote it ({v!r}), in any language. A missing key in
a language falls back to English; to add a language, add a mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from features.spec import number_forms

DETAILS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "missing_table": "required table not found",
        "missing_column": "required column not found",
        "misnamed_column": "required column not found; the table has {found!r}: rename it (column "
        "names are exact and case-sensitive)",
        "duplicate_column": "column appears more than once; the first is used",
        "empty_table": "the accounts table has no rows (only a header?): every other table refers "
        "to it",
        "not_null": "value is missing",
        "one_line": "{v!r} holds a control character (tab, line break, NUL...)",
        "too_long": "longer than {limit} characters: {v!r:.60}...",
        # an importer's own rules, about a value of the user's file
        "not_a_key": "{v!r} is not a key of importers.{param}; add it there",
        "spreadsheet_id": "{v!r} is an id in scientific notation: the file was probably opened "
        "and saved in a spreadsheet (Excel), which reads a long id as a number and keeps only "
        "its first digits, so two ids can become one; export it again and import it as "
        "exported (in Excel: import the column as text)",
        "unreadable_time": "cannot read {v!r} as a date/time (tried ISO 8601, epochs and "
        "importers.date_formats)",
        "unreadable_month": "cannot read {v!r} as a date/time: month names are read in English "
        "and German only; export the dates in a numeric format (e.g. 07.12.26 09:15) "
        "and add it to importers.date_formats (e.g. %d.%m.%y %H:%M)",
        "zone_abbreviation": "cannot read {v!r} as a date/time: a time zone abbreviation is "
        "ambiguous; export the time with its UTC offset (e.g. -05:00) or in UTC",
        "date_order_ambiguous": "{v!r} is {dmy} read day first (as in the UK) and {mdy} month "
        "first (as in the US), and no other value of this column in its file tells which (a "
        "day above 12, or a 12-hour time with AM/PM for month first): set importers.slash_dates "
        "to day_first or month_first",
        "date_order_mixed": "{v!r}: this column writes dates day first ({d!r}) and month first "
        "({m!r}) in the same file, so which one this is cannot be told; export it in one format",
        "org_name_misspelled": "{v!r} names no organization of the issues, yet is all but the "
        "name of {closest!r}, one of them this CSV has no row of: a misspelling? Correct the name "
        "(or, for another organization, give the row its account_id, the organization's id)",
        "mapping_unknown_account": "{v!r} is no account_id of the folder's accounts: {n} of the "
        "{total} event records of the mapping's users are of such accounts, so the mapping does "
        "not name these accounts (ids in another format, or of another system?); map each user "
        "to an account_id of accounts (users of unknown accounts with few of the events, such as "
        "test accounts, are skipped)",
        "count_empty": "the count is empty (a per-day row needs its number of events; write 0 "
        "for a day without any)",
        "count_repeated": "user {user} on {day} again, with {v} events where {first} says {w}: "
        "which holds the day's events cannot be told (two overlapping exports?); import one "
        "row per user and day, or keep the column that tells the rows apart (e.g. the event)",
        "count_not_whole": "not a whole number of events: {v!r} (a count of 0 or more, without "
        "thousands separators)",
        "number_unreadable": "not a number: {v!r} (read are plain numbers, German 84.000,50 "
        "and English 84,000.50 notation, groups split by spaces or apostrophes, and a currency "
        "sign or code around them)",
        "number_ambiguous": "{v!r} is {de} in German notation (a thousands dot) and {en} in "
        "English (a decimal point), and no other value of this column in its file tells which: "
        "set importers.number_format to de or en",
        "number_mixed": "{v!r}: this column writes numbers in German notation ({de!r}) and in "
        "English ({en!r}) in the same file, so what its dots and commas mean cannot be told; "
        "export it in one notation",
        "number_not_de": "{v!r} is written in English notation, but importers.number_format is de",
        "number_not_en": "{v!r} is written in German notation, but importers.number_format is en",
        "no_start_named": "no contract start, and no creation date ({created}) or ticket to take "
        "it from; export the accounts with {created} or with their contract start, or name the "
        "creation date's column of your export in importers.{param}.created",
        "no_start": "no contract start, and no creation date ({created}) or ticket to take it "
        "from; export the accounts with {created} or with their contract start",
        "currency": "not a number: {v!r} (a currency sign or code? write the amount as a "
        "plain number with a decimal point: 1234.5)",
        "decimal_comma": "not a number: {v!r} (a decimal comma? numbers take a decimal point: "
        "1234.5)",
        "comma_either": "not a number: {v!r} ({en} with a thousands comma, or {de} with a "
        "decimal comma? write numbers without thousands separators and with a decimal point: "
        "{en} or {de})",
        "thousands_commas": "not a number: {v!r} (commas between groups of thousands, as English "
        "spreadsheets write numbers? write numbers without thousands separators: 1250000, "
        "1234.5)",
        "thousands_dots": "not a number: {v!r} (dots between groups of thousands, as German "
        "spreadsheets write numbers? write numbers without thousands separators and with a "
        "decimal point: 1250000, 1234.5)",
        "thousands_dot": "{v!r} is a decimal number in English notation, but this column writes "
        "German numbers elsewhere (1.250.000 or 1.234,56), so its dot separates thousands: write "
        "numbers without thousands separators and with a decimal point (120000, 1234.5)",
        "not_number": "not a number: {v!r}",
        "not_finite": "not a finite number: {v!r}",
        "not_whole": "not a whole number: {v!r}",
        "beyond_int64": "{v!r} is beyond the 64-bit whole numbers",
        "below_min": "{v!r} is below the minimum {min}",
        "not_above_min": "{v!r} is not above {min}",
        "above_max": "{v!r} is above the maximum {max}",
        "not_date": "not an ISO 8601 date: {v!r}",
        "not_timestamp": "not an ISO 8601 timestamp: {v!r}",
        "outside_years": "{v} is outside the years 1678-2261",
        "before_min_date": "{v} is before contract.min_date {day}",
        "after_max_date": "{v} is after contract.max_date {day}",
        "in_future": "{v} is in the future (after {at} UTC)",
        "not_allowed": "{v!r} is not one of contract.{levels} {allowed}",
        "not_allowed_map": "{v!r} is not one of contract.{levels} {allowed}; map the export's "
        "name to one in {param}",
        "id_repeated": "id appears more than once",
        "key_repeated": "({columns}) appears more than once",
        "before": "{v} is before {earlier}",
        "closed_unresolved": "{status} is not one of contract.{levels} but {needed} is empty: the "
        "row would count as open, and past its SLA, on every later day; give the time it was "
        "{done}",
        "unknown_account": "account {v!r} is not in accounts",
        "unknown_ticket": "ticket {v!r} is not in tickets",
        "others_ticket": "ticket {v!r} belongs to another account",
        "custom_not_number": "custom field declared numeric, got {v!r}",
        # a source that cannot be read (features.sources)
        "no_tables_folder": "{source}: no contract tables in this folder (expected tables named "
        "{expected})",
        "no_tables_database": "{source}: no contract tables in this database (expected tables "
        "named {expected})",
        "no_folder": "{path}: no such folder (give a folder of table files or a database URL such "
        "as sqlite:///path.db)",
        "not_folder": "{path}: not a folder (give a folder of table files or a database URL such "
        "as sqlite:///path.db)",
        "both_formats": "{folder}: both {a} and {b} exist; keep one file per table",
        "lower_case_file": "{path}: table files are named in lower case; rename it to {name}",
        "not_read_file": "{path}: not read (tables are {a} or {b}, uncompressed); unpack or "
        "convert it",
        "empty_file": "{path}: the file is empty (a CSV table needs at least its header line)",
        "not_utf8": "{path}: not UTF-8 text (line {line}, byte {at}: {found}); save the CSV as "
        "UTF-8 (in Excel: CSV UTF-8)",
        "unreadable_csv": "{path}: not a readable CSV file ({reason})",
        "cannot_read": "{path}: cannot read the file ({reason})",
        "unreadable_file": "{path}: not a readable {fmt} file ({reason})",
        "more_fields": "{path}: the data rows have more fields than the header line names; give "
        "every column a name in the header line",
        "field_beyond": "{path}: data row {row} has more fields than the header line names ({v!r} "
        "has no column); name its column in the header line or remove the field",
        "extra_separator": "{path}: data row {row} has {saw} fields where the header line names "
        "{names}: a separator ends this line but not the others; end every line with one, or none",
        "unknown_dialect": "{source}: unknown database dialect (use e.g. sqlite:///path.db or "
        "postgresql+psycopg://...)",
        "bad_url": "{source}: not a valid database URL ({reason})",
        "no_driver": "{source}: the database driver is not installed ({module})",
        "no_db_file": "{source}: no such database file {path}",
        "cannot_read_db": "{source}: cannot read the database ({reason})",
        "lower_case_table": "{source}: table {found!r} is not read (tables are named in lower "
        "case); rename it to {name}",
        # an import's refusals of a file or an argument (features.importers), `export` a phrase
        # of the export expected (x_...), told in the same language
        "file_not_found": "{path}: file not found; expected {export}",
        "empty_folder": "{path}: a folder without files; name the export's files, or the "
        "folder they are in",
        "only_subfolders": "{path}: no files, only folders (their files are not read); name "
        "the folder the files are in, e.g. {inner}",
        "empty_export": "{path}: empty file; expected {export}",
        "gzip_file": "{path}: a gzip-compressed file; unpack it first (gunzip); expected {export}",
        "zip_file": "{path}: an Excel workbook or a ZIP archive; export or save it as CSV (or "
        "unzip it); expected {export}",
        "parquet_named": "{path}: a Parquet file; name it .parquet; expected {export}",
        "utf16_json": "{path}: UTF-16 text; save it as UTF-8 (JSON is read as UTF-8)",
        "utf16_csv": '{path}: UTF-16 text (as Excel saves "Unicode text"); save it as CSV UTF-8',
        "json_not_utf8": "{path}: not UTF-8 text (byte {byte} at offset {offset}); JSON is read "
        "as UTF-8: save or export it as UTF-8",
        "not_json": "{path}: not JSON (starts with {head}); expected {export} as JSON or JSON lines",
        "json_line_invalid": "{path}: line {line} is not valid JSON ({reason}); expected {export}, "
        "one JSON object per line",
        "json_line_not_object": "{path}: line {line} is a JSON {type}, not an object; expected "
        "{export}",
        "json_invalid": "{path}: not valid JSON ({reason}); expected {export}",
        "json_record_not_object": "{path}: record {n} is a JSON {type}, not an object",
        "json_invalid_after": "{path}: not valid JSON after record {n} ({reason})",
        "json_not_csv": "{path}: JSON, not CSV; expected {export}",
        "parquet_unreadable": "{path}: not a readable Parquet file ({reason}); expected {export}",
        "csv_not_encoding": "{path}: not {encoding} text (byte {byte} at offset {offset}); save it "
        "as UTF-8, or set importers.csv_encoding (e.g. cp1252 for an Excel or Salesforce export "
        "in a Western European code page)",
        "csv_not_encoding_at": "{path}, line {line}, column {column}: not {encoding} text (byte "
        "{byte} at offset {offset}, in {value!r}); save it as UTF-8, or set importers.csv_encoding "
        "(e.g. cp1252 for an Excel or Salesforce export in a Western European code page)",
        "csv_unreadable": "{path}: not a readable CSV file ({reason}); expected {export}",
        "csv_extra_fields": "{path}, line {line}: {n} fields, but the header has {header}: a "
        "separator ({sep!r}) inside a value that is not quoted? quote it, or export the file "
        "again",
        "csv_open_quote": '{path}, line {line}: a value opens a quote (") that no later one '
        "closes, so the rest of the file would be this one value: double a quote inside a "
        'quoted value (""), or export the file again',
        "unknown_part": "{item}: unknown part {role!r} of a {kind} export; known parts: {parts}",
        "which_part": "{item}: cannot tell which part of a {kind} export this is; name it as "
        "PART=PATH with PART one of: {parts}",
        "input_folder": "{path}: a folder; give the {kind} export's files themselves, as PATH "
        "or PART=PATH with PART one of: {parts}",
        "needs_part": "{kind} import needs {part}: {describe} (pass it as {part}=PATH)",
        "missing_field": "{source}{where}: required field {field!r} not found{also}; expected "
        "{export}{shown}{hint}",
        "name_columns": ". Columns headed in another language: name them in {setting} ({field}: <column>)",
        "at_line": ", line {n}",
        "at_record": ", record {n}",
        "at_row": ", row {n}",
        "also_looked": " (also looked for {names})",
        "its_columns": "; its columns are: {columns}",
        "torn_users": "{paths}: {n} [user maps|users map] to more than one account, so their "
        "events cannot be attributed: {shown}{more}. Give each user one account in the mapping",
        "sf_needs_case_id": "{path}: its rows name cases by {column}, but the Case export "
        "({cases}) has no Id column, so none of them matches a case: export the cases with their "
        "Id (Data Loader: Id; a report: Case ID)",
        "and_more": " (and {n} more)",
        "no_tickets_to_import": "{names}: no tickets to import{kept}",
        "no_organizations_to_import": "{names}: no organizations to import{kept}",
        "no_companies_to_import": "{names}: no companies to import{kept}",
        "no_events_to_import": "{names}: no events to import (the usage table would say no "
        "account used the product){kept}",
        "all_skipped": "; [the|all] {n} [record|records] read [was|were] skipped",
        # the exports an import expects (`export` above), and the parts it needs (`describe`)
        "x_zendesk_tickets": "a Zendesk tickets export (JSON or JSON lines)",
        "x_zendesk_ticket_metrics": "a Zendesk ticket metrics export (JSON or JSON lines)",
        "x_zendesk_ticket_audits": "a Zendesk ticket audits export (JSON or JSON lines)",
        "x_zendesk_organizations": "a Zendesk organizations export (JSON or JSON lines)",
        "x_sf_cases": "a Salesforce Case export (CSV)",
        "x_sf_accounts": "a Salesforce Account export (CSV)",
        "x_sf_milestones": "a Salesforce CaseMilestone export (CSV)",
        "x_sf_history": "a Salesforce CaseHistory export (CSV)",
        "x_jira_issues": "a Jira Service Management issues export (REST search API JSON with "
        "expand=changelog, or Jira's CSV export)",
        "x_jira_organizations": "a CSV of Jira organizations with contract columns",
        "x_sn_incidents": "a ServiceNow incident export (CSV or Parquet)",
        "x_sn_companies": "a ServiceNow core_company export",
        "x_sn_slas": "a ServiceNow task_sla export (task, sla, start_time, end_time, "
        "planned_end_time)",
        "x_hs_tickets": "a HubSpot tickets export (CSV) with associated company IDs",
        "x_hs_companies": "a HubSpot companies export (CSV)",
        "x_usage_events": "a product-analytics event export (Segment, Mixpanel or Amplitude)",
        "x_usage_mapping": "a user -> account mapping (CSV with user_id and account_id)",
        "x_usage_rows": "per-user-per-day usage (user_id, date, events) or events with a timestamp",
        "p_zendesk_tickets": "the tickets JSON of the Incremental Export or Search API (GET "
        "/api/v2/incremental/tickets)",
        "p_zendesk_organizations": "the organizations JSON (GET /api/v2/organizations)",
        "p_sf_cases": "the Case export (Data Loader or a Cases report as CSV)",
        "p_sf_accounts": "the Account export (Data Loader or an Accounts report as CSV)",
        "p_jira_issues": "the issues JSON of GET /rest/api/3/search?expand=changelog (pages or "
        "JSON lines)",
        "p_sn_incidents": "the incident table export with its audit trail (CSV or Parquet, one "
        "row per update)",
        "p_hs_companies": "the companies export (CRM > Companies > Export, CSV)",
        "p_hs_tickets": "the tickets export with associated company IDs (CRM > Tickets > Export, "
        "CSV)",
        "p_usage_events": "the event export (Segment/Mixpanel/Amplitude JSON lines, or "
        "CSV/Parquet per user and day)",
        "p_usage_users": "a CSV mapping user ids to account ids (columns user_id, account_id)",
        # the report around the details
        "headline": "{source}: {n} data contract violation(s)",
        "row": "row {row}",
        # a place in the user's own file (`features.errors.Place`): a CSV or JSON lines line, a
        # JSON document's record, a Parquet row
        # `escrisk simulate` (training/simulate.py): the world it is asked for
        "sim_accounts": "--accounts {n}: give at least 1",
        "sim_months": "--months {n}: give at least 1",
        "sim_seed": "--seed {n}: a seed is a whole number of 0 or more",
        "sim_span": "--months {months}: the world ({end_from} {end}, up to "
        "simulation.max_tenure_years {tenure:g} of tenure before its start, renewals up to "
        "{renewal} months after its end) must lie within contract.min_date {min} and "
        "contract.max_date {max}; give fewer months, another {end_from} or widen the contract's "
        "dates",
        "place_line": "{file} line {n}",
        "place_record": "{file} record {n}",
        "place_row": "{file} row {n}",
        "more": "  ... and {n} more",
        "totals": "Totals per rule:",
    },
    "de": {
        "missing_table": "erforderliche Tabelle nicht gefunden",
        "missing_column": "erforderliche Spalte nicht gefunden",
        "misnamed_column": "erforderliche Spalte nicht gefunden; die Tabelle hat {found!r}: "
        "umbenennen (Spaltennamen gelten genau, mit Groß- und Kleinschreibung)",
        "duplicate_column": "Spalte kommt mehrfach vor; die erste wird verwendet",
        "empty_table": "die Tabelle accounts hat keine Zeilen (nur eine Kopfzeile?): jede andere "
        "Tabelle verweist auf sie",
        "not_null": "Wert fehlt",
        "one_line": "{v!r} enthält ein Steuerzeichen (Tabulator, Zeilenumbruch, NUL …)",
        "too_long": "länger als {limit} Zeichen: {v!r:.60}...",
        "not_a_key": "{v!r} ist kein Schlüssel von importers.{param}; dort ergänzen",
        "spreadsheet_id": "{v!r} ist eine ID in wissenschaftlicher Schreibweise: die Datei wurde "
        "wohl in einer Tabellenkalkulation (Excel) geöffnet und gespeichert, die eine lange ID "
        "als Zahl liest und nur ihre ersten Stellen behält, sodass zwei IDs eine werden können; "
        "erneut exportieren und so importieren (in Excel: die Spalte als Text importieren)",
        "unreadable_time": "{v!r} ist als Datum/Uhrzeit nicht lesbar (versucht: ISO 8601, "
        "Unix-Zeit und importers.date_formats)",
        "unreadable_month": "{v!r} ist als Datum/Uhrzeit nicht lesbar: Monatsnamen werden nur "
        "englisch und deutsch gelesen; die Daten in einem numerischen Format "
        "exportieren (z. B. 07.12.26 09:15) und es in importers.date_formats ergänzen (z. B. "
        "%d.%m.%y %H:%M)",
        "zone_abbreviation": "{v!r} ist als Datum/Uhrzeit nicht lesbar: eine Zeitzonen-Abkürzung "
        "ist mehrdeutig; die Zeit mit ihrem UTC-Versatz (z. B. -05:00) oder in UTC exportieren",
        "date_order_ambiguous": "{v!r} ist mit dem Tag zuerst (wie in Großbritannien) der "
        "{dmy} und mit dem Monat zuerst (wie in den USA) der {mdy}, und kein anderer Wert dieser "
        "Spalte in ihrer Datei sagt, welches gilt (ein Tag über 12, oder eine 12-Stunden-Zeit mit "
        "AM/PM für den Monat zuerst): importers.slash_dates auf day_first oder month_first setzen",
        "date_order_mixed": "{v!r}: diese Spalte schreibt Daten mit dem Tag zuerst ({d!r}) und "
        "mit dem Monat zuerst ({m!r}) in derselben Datei, daher ist nicht zu erkennen, welches "
        "dies ist; in einem Format exportieren",
        "org_name_misspelled": "{v!r} nennt keine Organisation der Vorgänge, ist aber fast der "
        "Name von {closest!r}, einer von ihnen ohne eigene Zeile in dieser CSV: ein Tippfehler? "
        "Den Namen korrigieren (oder, für eine andere Organisation, der Zeile ihre account_id "
        "geben, die ID der Organisation)",
        "mapping_unknown_account": "{v!r} ist keine account_id der Kunden des Ordners: {n} der "
        "{total} Ereignisdatensätze der Benutzer der Zuordnung gehören zu solchen Kunden, die "
        "Zuordnung nennt also nicht diese Kunden (IDs in anderem Format oder aus einem anderen "
        "System?); jeden Benutzer einer account_id der Kunden zuordnen (Benutzer unbekannter "
        "Kunden mit wenigen der Ereignisse, etwa Testkonten, werden übersprungen)",
        "count_empty": "die Anzahl ist leer (eine Zeile pro Tag braucht ihre Zahl von "
        "Ereignissen; 0 für einen Tag ohne Ereignisse schreiben)",
        "count_repeated": "Benutzer {user} am {day} erneut, mit {v} Ereignissen, wo {first} {w} "
        "sagt: welche Zeile die Ereignisse des Tages hält, ist nicht zu erkennen (zwei "
        "überlappende Exporte?); eine Zeile pro Benutzer und Tag importieren oder die Spalte "
        "behalten, die die Zeilen unterscheidet (z. B. das Ereignis)",
        "count_not_whole": "keine ganze Zahl von Ereignissen: {v!r} (eine Anzahl ab 0, ohne "
        "Tausendertrennzeichen)",
        "number_unreadable": "keine Zahl: {v!r} (gelesen werden einfache Zahlen, deutsche "
        "84.000,50 und englische 84,000.50 Schreibweise, Gruppen getrennt durch Leerzeichen oder "
        "Apostroph, und ein Währungszeichen oder -kürzel davor oder dahinter)",
        "number_ambiguous": "{v!r} ist in deutscher Schreibweise {de} (Tausenderpunkt) und in "
        "englischer {en} (Dezimalpunkt), und kein anderer Wert dieser Spalte in ihrer Datei "
        "sagt, welche gilt: importers.number_format auf de oder en setzen",
        "number_mixed": "{v!r}: diese Spalte schreibt Zahlen in derselben Datei in deutscher "
        "({de!r}) und in englischer Schreibweise ({en!r}), also ist nicht zu sagen, was ihre "
        "Punkte und Kommas bedeuten; sie in einer Schreibweise exportieren",
        "number_not_de": "{v!r} ist in englischer Schreibweise geschrieben, aber "
        "importers.number_format ist de",
        "number_not_en": "{v!r} ist in deutscher Schreibweise geschrieben, aber "
        "importers.number_format ist en",
        "no_start_named": "kein Vertragsbeginn und kein Anlagedatum ({created}) oder Ticket, das "
        "ihn ersetzt; die Kunden mit {created} oder mit ihrem Vertragsbeginn exportieren, oder "
        "die Spalte des Anlagedatums Ihres Exports in importers.{param}.created nennen",
        "no_start": "kein Vertragsbeginn und kein Anlagedatum ({created}) oder Ticket, das ihn "
        "ersetzt; die Kunden mit {created} oder mit ihrem Vertragsbeginn exportieren",
        "currency": "keine Zahl: {v!r} (ein Währungszeichen oder -kürzel? den Betrag als "
        "reine Zahl mit Dezimalpunkt schreiben: 1234.5)",
        "decimal_comma": "keine Zahl: {v!r} (ein Dezimalkomma? Zahlen werden mit Dezimalpunkt "
        "geschrieben: 1234.5)",
        "comma_either": "keine Zahl: {v!r} ({en} mit einem Tausenderkomma oder {de} mit einem "
        "Dezimalkomma? Zahlen ohne Tausendertrennzeichen und mit Dezimalpunkt schreiben: {en} "
        "oder {de})",
        "thousands_commas": "keine Zahl: {v!r} (Kommas zwischen Tausendergruppen, wie englische "
        "Tabellenkalkulationen Zahlen schreiben? Zahlen ohne Tausendertrennzeichen schreiben: "
        "1250000, 1234.5)",
        "thousands_dots": "keine Zahl: {v!r} (Punkte zwischen Tausendergruppen, wie deutsche "
        "Tabellenkalkulationen Zahlen schreiben? Zahlen ohne Tausendertrennzeichen und mit "
        "Dezimalpunkt schreiben: 1250000, 1234.5)",
        "thousands_dot": "{v!r} ist in englischer Schreibweise eine Dezimalzahl, aber diese Spalte "
        "schreibt an anderer Stelle deutsche Zahlen (1.250.000 oder 1.234,56), also trennt ihr "
        "Punkt Tausender: Zahlen ohne Tausendertrennzeichen und mit Dezimalpunkt schreiben "
        "(120000, 1234.5)",
        "not_number": "keine Zahl: {v!r}",
        "not_finite": "keine endliche Zahl: {v!r}",
        "not_whole": "keine ganze Zahl: {v!r}",
        "beyond_int64": "{v!r} liegt außerhalb der ganzen 64-Bit-Zahlen",
        "below_min": "{v!r} liegt unter dem Minimum {min}",
        "not_above_min": "{v!r} liegt nicht über {min}",
        "above_max": "{v!r} liegt über dem Maximum {max}",
        "not_date": "kein ISO-8601-Datum: {v!r}",
        "not_timestamp": "kein ISO-8601-Zeitstempel: {v!r}",
        "outside_years": "{v} liegt außerhalb der Jahre 1678-2261",
        "before_min_date": "{v} liegt vor contract.min_date {day}",
        "after_max_date": "{v} liegt nach contract.max_date {day}",
        "in_future": "{v} liegt in der Zukunft (nach {at} UTC)",
        "not_allowed": "{v!r} ist keiner der Werte von contract.{levels} {allowed}",
        "not_allowed_map": "{v!r} ist keiner der Werte von contract.{levels} {allowed}; den "
        "Namen des Exports in {param} einem davon zuordnen",
        "id_repeated": "ID kommt mehrfach vor",
        "key_repeated": "({columns}) kommt mehrfach vor",
        "before": "{v} liegt vor {earlier}",
        "closed_unresolved": "{status} ist keiner der Werte von contract.{levels}, aber {needed} "
        "ist leer: die Zeile zählte an jedem späteren Tag als offen und über ihrer SLA; den "
        "Zeitpunkt in {needed} eintragen",
        "unknown_account": "Account {v!r} steht nicht in accounts",
        "unknown_ticket": "Ticket {v!r} steht nicht in tickets",
        "others_ticket": "Ticket {v!r} gehört zu einem anderen Account",
        "custom_not_number": "benutzerdefiniertes Feld ist als Zahl deklariert, gefunden: {v!r}",
        "no_tables_folder": "{source}: keine Tabellen des Datenvertrags in diesem Ordner "
        "(erwartet: Tabellen namens {expected})",
        "no_tables_database": "{source}: keine Tabellen des Datenvertrags in dieser Datenbank "
        "(erwartet: Tabellen namens {expected})",
        "no_folder": "{path}: kein solcher Ordner (einen Ordner mit Tabellendateien oder eine "
        "Datenbank-URL wie sqlite:///pfad.db angeben)",
        "not_folder": "{path}: kein Ordner (einen Ordner mit Tabellendateien oder eine "
        "Datenbank-URL wie sqlite:///pfad.db angeben)",
        "both_formats": "{folder}: {a} und {b} gibt es beide; eine Datei je Tabelle behalten",
        "lower_case_file": "{path}: Tabellendateien werden klein geschrieben; in {name} umbenennen",
        "not_read_file": "{path}: nicht gelesen (Tabellen sind {a} oder {b}, unkomprimiert); "
        "entpacken oder umwandeln",
        "empty_file": "{path}: die Datei ist leer (eine CSV-Tabelle braucht mindestens ihre "
        "Kopfzeile)",
        "not_utf8": "{path}: kein UTF-8-Text (Zeile {line}, Byte {at}: {found}); die CSV als "
        "UTF-8 speichern (in Excel: CSV UTF-8)",
        "unreadable_csv": "{path}: keine lesbare CSV-Datei ({reason})",
        "cannot_read": "{path}: die Datei kann nicht gelesen werden ({reason})",
        "unreadable_file": "{path}: keine lesbare {fmt}-Datei ({reason})",
        "more_fields": "{path}: die Datenzeilen haben mehr Felder, als die Kopfzeile benennt; "
        "jeder Spalte in der Kopfzeile einen Namen geben",
        "field_beyond": "{path}: Datenzeile {row} hat mehr Felder, als die Kopfzeile benennt "
        "({v!r} hat keine Spalte); die Spalte in der Kopfzeile benennen oder das Feld entfernen",
        "extra_separator": "{path}: Datenzeile {row} hat {saw} Felder, die Kopfzeile benennt "
        "{names}: ein Trennzeichen beendet diese Zeile, aber nicht die anderen; jede Zeile mit einem "
        "beenden oder keine",
        "unknown_dialect": "{source}: unbekannter Datenbank-Dialekt (z. B. sqlite:///pfad.db oder "
        "postgresql+psycopg://... verwenden)",
        "bad_url": "{source}: keine gültige Datenbank-URL ({reason})",
        "no_driver": "{source}: der Datenbanktreiber ist nicht installiert ({module})",
        "no_db_file": "{source}: keine solche Datenbankdatei {path}",
        "cannot_read_db": "{source}: die Datenbank kann nicht gelesen werden ({reason})",
        "lower_case_table": "{source}: Tabelle {found!r} wird nicht gelesen (Tabellennamen werden "
        "klein geschrieben); in {name} umbenennen",
        "file_not_found": "{path}: Datei nicht gefunden; erwartet: {export}",
        "empty_folder": "{path}: ein Ordner ohne Dateien; die Dateien des Exports angeben oder "
        "den Ordner, in dem sie liegen",
        "only_subfolders": "{path}: keine Dateien, nur Ordner (deren Dateien werden nicht "
        "gelesen); den Ordner angeben, in dem die Dateien liegen, z. B. {inner}",
        "empty_export": "{path}: leere Datei; erwartet: {export}",
        "gzip_file": "{path}: eine gzip-komprimierte Datei; zuerst entpacken (gunzip); erwartet: "
        "{export}",
        "zip_file": "{path}: eine Excel-Arbeitsmappe oder ein ZIP-Archiv; als CSV exportieren "
        "oder speichern (oder entpacken); erwartet: {export}",
        "parquet_named": "{path}: eine Parquet-Datei; mit der Endung .parquet benennen; erwartet: "
        "{export}",
        "utf16_json": "{path}: UTF-16-Text; als UTF-8 speichern (JSON wird als UTF-8 gelesen)",
        "utf16_csv": '{path}: UTF-16-Text (wie Excel "Unicode-Text" speichert); als CSV UTF-8 '
        "speichern",
        "json_not_utf8": "{path}: kein UTF-8-Text (Byte {byte} an Position {offset}); JSON wird "
        "als UTF-8 gelesen: als UTF-8 speichern oder exportieren",
        "not_json": "{path}: kein JSON (beginnt mit {head}); erwartet: {export} als JSON oder "
        "JSON Lines",
        "json_line_invalid": "{path}: Zeile {line} ist kein gültiges JSON ({reason}); erwartet: "
        "{export}, ein JSON-Objekt pro Zeile",
        "json_line_not_object": "{path}: Zeile {line} ist ein JSON-{type}, kein Objekt; "
        "erwartet: {export}",
        "json_invalid": "{path}: kein gültiges JSON ({reason}); erwartet: {export}",
        "json_record_not_object": "{path}: Datensatz {n} ist ein JSON-{type}, kein Objekt",
        "json_invalid_after": "{path}: kein gültiges JSON nach Datensatz {n} ({reason})",
        "json_not_csv": "{path}: JSON, keine CSV; erwartet: {export}",
        "parquet_unreadable": "{path}: keine lesbare Parquet-Datei ({reason}); erwartet: {export}",
        "csv_not_encoding": "{path}: kein {encoding}-Text (Byte {byte} an Position {offset}); als "
        "UTF-8 speichern oder importers.csv_encoding setzen (z. B. cp1252 für einen Excel- oder "
        "Salesforce-Export in einer westeuropäischen Codepage)",
        "csv_not_encoding_at": "{path}, Zeile {line}, Spalte {column}: kein {encoding}-Text (Byte "
        "{byte} an Position {offset}, in {value!r}); als UTF-8 speichern oder "
        "importers.csv_encoding setzen (z. B. cp1252 für einen Excel- oder Salesforce-Export in "
        "einer westeuropäischen Codepage)",
        "csv_unreadable": "{path}: keine lesbare CSV-Datei ({reason}); erwartet: {export}",
        "csv_extra_fields": "{path}, Zeile {line}: {n} Felder, aber die Kopfzeile hat {header}: "
        "ein Trennzeichen ({sep!r}) in einem Wert ohne Anführungszeichen? den Wert in "
        "Anführungszeichen setzen oder die Datei neu exportieren",
        "csv_open_quote": '{path}, Zeile {line}: ein Wert öffnet ein Anführungszeichen ("), '
        "das kein späteres schließt, sodass der Rest der Datei dieser eine Wert wäre: ein "
        'Anführungszeichen in einem Wert in Anführungszeichen verdoppeln ("") oder die Datei '
        "neu exportieren",
        "unknown_part": "{item}: unbekannter Teil {role!r} eines {kind}-Exports; bekannte Teile: "
        "{parts}",
        "which_part": "{item}: nicht erkennbar, welcher Teil eines {kind}-Exports das ist; als "
        "PART=PATH angeben, mit PART aus: {parts}",
        "input_folder": "{path}: ein Ordner; die Dateien des {kind}-Exports selbst angeben, als "
        "PATH oder PART=PATH mit PART aus: {parts}",
        "needs_part": "der {kind}-Import braucht {part}: {describe} (als {part}=PATH angeben)",
        "missing_field": "{source}{where}: Pflichtfeld {field!r} nicht gefunden{also}; erwartet: "
        "{export}{shown}{hint}",
        "name_columns": ". Spalten in einer anderen Sprache: in {setting} benennen ({field}: <Spalte>)",
        "at_line": ", Zeile {n}",
        "at_record": ", Datensatz {n}",
        "at_row": ", Zeile {n}",
        "also_looked": " (auch gesucht: {names})",
        "its_columns": "; ihre Spalten: {columns}",
        "torn_users": "{paths}: {n} [Benutzer ist|Benutzer sind] mehr als einem Kunden "
        "zugeordnet, ihre Ereignisse lassen sich daher keinem zurechnen: {shown}{more}. Jedem "
        "Benutzer in der Zuordnung genau einen Kunden geben",
        "sf_needs_case_id": "{path}: seine Zeilen nennen Fälle über {column}, aber der "
        "Case-Export ({cases}) hat keine Spalte Id, also passt keine zu einem Fall: die Fälle mit "
        "ihrer Id exportieren (Data Loader: Id; ein Bericht: Case ID)",
        "and_more": " (und {n} weitere)",
        "no_tickets_to_import": "{names}: keine Tickets zu importieren{kept}",
        "no_organizations_to_import": "{names}: keine Organisationen zu importieren{kept}",
        "no_companies_to_import": "{names}: keine Firmen zu importieren{kept}",
        "no_events_to_import": "{names}: keine Ereignisse zu importieren (die Tabelle usage "
        "sagte, kein Kunde habe das Produkt genutzt){kept}",
        "all_skipped": "; [der|alle] {n} [gelesene Datensatz wurde|gelesenen Datensätze wurden] "
        "übersprungen",
        "x_zendesk_tickets": "ein Zendesk-Export der Tickets (JSON oder JSON Lines)",
        "x_zendesk_ticket_metrics": "ein Zendesk-Export der Ticket-Metriken (JSON oder JSON Lines)",
        "x_zendesk_ticket_audits": "ein Zendesk-Export der Ticket-Audits (JSON oder JSON Lines)",
        "x_zendesk_organizations": "ein Zendesk-Export der Organisationen (JSON oder JSON Lines)",
        "x_sf_cases": "ein Salesforce-Export von Case (CSV)",
        "x_sf_accounts": "ein Salesforce-Export von Account (CSV)",
        "x_sf_milestones": "ein Salesforce-Export von CaseMilestone (CSV)",
        "x_sf_history": "ein Salesforce-Export von CaseHistory (CSV)",
        "x_jira_issues": "ein Export der Vorgänge aus Jira Service Management (JSON der "
        "REST-Such-API mit expand=changelog, oder der CSV-Export von Jira)",
        "x_jira_organizations": "eine CSV der Jira-Organisationen mit Spalten des Datenvertrags",
        "x_sn_incidents": "ein ServiceNow-Export der Incidents (CSV oder Parquet)",
        "x_sn_companies": "ein ServiceNow-Export von core_company",
        "x_sn_slas": "ein ServiceNow-Export von task_sla (task, sla, start_time, end_time, "
        "planned_end_time)",
        "x_hs_tickets": "ein HubSpot-Export der Tickets (CSV) mit den IDs der zugeordneten Firmen",
        "x_hs_companies": "ein HubSpot-Export der Firmen (CSV)",
        "x_usage_events": "ein Ereignis-Export der Produktanalyse (Segment, Mixpanel oder "
        "Amplitude)",
        "x_usage_mapping": "eine Zuordnung Benutzer -> Kunde (CSV mit user_id und account_id)",
        "x_usage_rows": "Nutzung pro Benutzer und Tag (user_id, date, events) oder Ereignisse mit "
        "Zeitstempel",
        "p_zendesk_tickets": "das Ticket-JSON des Incremental Export oder der Search API (GET "
        "/api/v2/incremental/tickets)",
        "p_zendesk_organizations": "das Organisations-JSON (GET /api/v2/organizations)",
        "p_sf_cases": "der Case-Export (Data Loader oder ein Case-Bericht als CSV)",
        "p_sf_accounts": "der Account-Export (Data Loader oder ein Account-Bericht als CSV)",
        "p_jira_issues": "das Vorgangs-JSON von GET /rest/api/3/search?expand=changelog (Seiten "
        "oder JSON Lines)",
        "p_sn_incidents": "der Export der Incident-Tabelle mit ihrem Audit-Verlauf (CSV oder "
        "Parquet, eine Zeile pro Änderung)",
        "p_hs_companies": "der Firmen-Export (CRM > Unternehmen > Exportieren, CSV)",
        "p_hs_tickets": "der Ticket-Export mit den IDs der zugeordneten Firmen (CRM > Tickets > "
        "Exportieren, CSV)",
        "p_usage_events": "der Ereignis-Export (Segment/Mixpanel/Amplitude als JSON Lines, oder "
        "CSV/Parquet pro Benutzer und Tag)",
        "p_usage_users": "eine CSV, die Benutzer-IDs Kunden-IDs zuordnet (Spalten user_id, "
        "account_id)",
        "headline": "{source}: {n} [Verstoß|Verstöße] gegen den Datenvertrag",
        "row": "Zeile {row}",
        "sim_accounts": "--accounts {n}: mindestens 1 angeben",
        "sim_months": "--months {n}: mindestens 1 angeben",
        "sim_seed": "--seed {n}: ein Seed ist eine ganze Zahl ab 0",
        "sim_span": "--months {months}: die Welt ({end_from} {end}, bis zu "
        "simulation.max_tenure_years {tenure:g} Jahre Laufzeit vor ihrem Beginn, Verlängerungen "
        "bis {renewal} Monate nach ihrem Ende) muss zwischen contract.min_date {min} und "
        "contract.max_date {max} liegen; weniger Monate, ein anderes {end_from} angeben oder die "
        "Daten des Vertrags weiter fassen",
        "place_line": "{file} Zeile {n}",
        "place_record": "{file} Datensatz {n}",
        "place_row": "{file} Zeile {n}",
        "more": "  … und {n} weitere",
        "totals": "Summen je Regel:",
    },
}


@dataclass(frozen=True)
class Phrase:
    """A catalog text standing as a value of another (the export an import expected), told in
    the same language as the text it stands in."""

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)


def detail(key: str, language: str, values: Mapping[str, Any]) -> str:
    """The catalog's text for `key` in `language` (English when missing), with `values` as they
    are: a detail quotes the source's values, not numbers written for a reader. A `Phrase`
    value is told in `language` too."""
    template = DETAILS.get(language, {}).get(key) or DETAILS["en"][key]
    shown = {
        k: detail(v.key, language, v.values) if isinstance(v, Phrase) else v
        for k, v in values.items()
    }
    return number_forms(template, shown).format(**shown)
