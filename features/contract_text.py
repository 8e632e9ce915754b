"""The data contract's violation texts in English and German: the details of each rule and the
report's own words (`escrisk validate --lang de` reads them all in German).

A detail quotes the value found as the source wrote it ({v!r}), in any language. A missing key in
a language falls back to English; to add a language, add a mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
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
        "unreadable_time": "cannot read {v!r} as a date/time (tried ISO 8601, epochs and "
        "importers.date_formats)",
        "zone_abbreviation": "cannot read {v!r} as a date/time: a time zone abbreviation is "
        "ambiguous; export the time with its UTC offset (e.g. -05:00) or in UTC",
        "count_empty": "the count is empty (a per-day row needs its number of events; write 0 "
        "for a day without any)",
        "count_not_whole": "not a whole number of events: {v!r} (a count of 0 or more, without "
        "thousands separators)",
        "no_start": "no contract start, and no creation date ({created}) or ticket to take it "
        "from; export the accounts with {created} or with their contract start",
        "currency": "not a number: {v!r} (a currency sign or code? write the amount as a "
        "plain number with a decimal point: 1234.5)",
        "decimal_comma": "not a number: {v!r} (a decimal comma? numbers take a decimal point: "
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
        "unknown_dialect": "{source}: unknown database dialect (use e.g. sqlite:///path.db or "
        "postgresql+psycopg://...)",
        "bad_url": "{source}: not a valid database URL ({reason})",
        "no_driver": "{source}: the database driver is not installed ({module})",
        "no_db_file": "{source}: no such database file {path}",
        "cannot_read_db": "{source}: cannot read the database ({reason})",
        "lower_case_table": "{source}: table {found!r} is not read (tables are named in lower "
        "case); rename it to {name}",
        # the report around the details
        "headline": "{source}: {n} data contract violation(s)",
        "row": "row {row}",
        # a place in the user's own file (`features.errors.Place`): a CSV or JSON lines line, a
        # JSON document's record, a Parquet row
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
        "unreadable_time": "{v!r} ist als Datum/Uhrzeit nicht lesbar (versucht: ISO 8601, "
        "Unix-Zeit und importers.date_formats)",
        "zone_abbreviation": "{v!r} ist als Datum/Uhrzeit nicht lesbar: eine Zeitzonen-Abkürzung "
        "ist mehrdeutig; die Zeit mit ihrem UTC-Versatz (z. B. -05:00) oder in UTC exportieren",
        "count_empty": "die Anzahl ist leer (eine Zeile pro Tag braucht ihre Zahl von "
        "Ereignissen; 0 für einen Tag ohne Ereignisse schreiben)",
        "count_not_whole": "keine ganze Zahl von Ereignissen: {v!r} (eine Anzahl ab 0, ohne "
        "Tausendertrennzeichen)",
        "no_start": "kein Vertragsbeginn und kein Anlagedatum ({created}) oder Ticket, das ihn "
        "ersetzt; die Kunden mit {created} oder mit ihrem Vertragsbeginn exportieren",
        "currency": "keine Zahl: {v!r} (ein Währungszeichen oder -kürzel? den Betrag als "
        "reine Zahl mit Dezimalpunkt schreiben: 1234.5)",
        "decimal_comma": "keine Zahl: {v!r} (ein Dezimalkomma? Zahlen werden mit Dezimalpunkt "
        "geschrieben: 1234.5)",
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
        "unknown_dialect": "{source}: unbekannter Datenbank-Dialekt (z. B. sqlite:///pfad.db oder "
        "postgresql+psycopg://... verwenden)",
        "bad_url": "{source}: keine gültige Datenbank-URL ({reason})",
        "no_driver": "{source}: der Datenbanktreiber ist nicht installiert ({module})",
        "no_db_file": "{source}: keine solche Datenbankdatei {path}",
        "cannot_read_db": "{source}: die Datenbank kann nicht gelesen werden ({reason})",
        "lower_case_table": "{source}: Tabelle {found!r} wird nicht gelesen (Tabellennamen werden "
        "klein geschrieben); in {name} umbenennen",
        "headline": "{source}: {n} [Verstoß|Verstöße] gegen den Datenvertrag",
        "row": "Zeile {row}",
        "place_line": "{file} Zeile {n}",
        "place_record": "{file} Datensatz {n}",
        "place_row": "{file} Zeile {n}",
        "more": "  … und {n} weitere",
        "totals": "Summen je Regel:",
    },
}


def detail(key: str, language: str, values: Mapping[str, Any]) -> str:
    """The catalog's text for `key` in `language` (English when missing), with `values` as they
    are: a detail quotes the source's values, not numbers written for a reader."""
    template = DETAILS.get(language, {}).get(key) or DETAILS["en"][key]
    return number_forms(template, values).format(**values)
