"""`escrisk validate SOURCE`: check a folder or database against the data contract.

Prints every violation (table / column / row / rule) with the total per rule and exits 1, or a
short summary of what the source holds and what its absent tables disable, and exits 0.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from features.spec import localized
from serving.cli import add_params_option, utc_now
from serving.daily_text import figure

if TYPE_CHECKING:
    from features.contract import History
    from features.errors import Place

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "ok": "{source}: valid ({n} rows checked against the data contract)",
        "cannot_create_out": "{out}: cannot create the output folder ({why})",
        "cannot_write_out": "{out}: cannot write the tables there ({why})",
        "rows": "  {table:<12} {rows:>10,} rows",
        "absent": "  {table:<12} absent, {effect}",
        "absent_column": "  {table}.{column}: column absent, {effect}",
        "accounts": "accounts: {n:,}",
        "tickets": "tickets: {n:,}",
        "escalations": "escalations: {n}",
        "churned": "churned accounts: {n}",
        "span": "time span: {start} to {end} ({days:,} days)",
        "span_empty": "time span: no events",
        "unknown": "unknown (table absent)",
        "rows_note": "Row N is the N-th row after the header line (row N+1 in a spreadsheet, blank "
        "rows counted; line N+1 of a CSV file unless a cell above it holds a line break).",
        "before_start": "warning: {table}.{column}: {n:,} row(s) dated before their account's "
        "contract_start; kept (pilots, trials), see docs/data-contract.md",
        "after_churn": "warning: {table}.{column}: {n:,} row(s) dated after their account churned "
        "(churn.churned_at); kept, see docs/data-contract.md",
        "example": "  {table} / {at} (account_id={account}) / {column} {date}",
        "thousands": "warning: {table}.{column}: {n:,} value(s) with a dot before exactly three "
        "digits, such as {v!r}, read in English notation ({v} = {english}); if the file writes "
        "thousands with dots (German: {v} = {german}), write numbers without thousands "
        "separators and with a decimal point, see docs/data-contract.md",
        "thousands_example": "  {table} / {at} / {column} {v!r}",
        "midnights": "warning: {table}.{column}: {n:,} date(s) at a local midnight east of UTC, "
        "such as {v!r}: a date with a time is its day in UTC, so each is read as the day before "
        "({day}); if they mean their local day, write dates without a time (YYYY-MM-DD), as a "
        "DATE column or as UTC midnights, see docs/data-contract.md",
        "midnights_example": "  {table} / {at} / {column} {v!r}: {day}",
        "rows_inexact": "Note: {table}: the file's blank lines could not be counted exactly; "
        "here row N is the N-th row after the header line that is not blank.",
    },
    "de": {
        "ok": "{source}: gültig ({n} Zeilen gegen den Datenvertrag geprüft)",
        "cannot_create_out": "{out}: Der Ausgabeordner kann nicht angelegt werden ({why})",
        "cannot_write_out": "{out}: Die Tabellen können dort nicht geschrieben werden ({why})",
        "rows": "  {table:<12} {rows:>10,} Zeilen",
        "absent": "  {table:<12} fehlt, {effect}",
        "absent_column": "  {table}.{column}: Spalte fehlt, {effect}",
        "accounts": "Kunden: {n:,}",
        "tickets": "Tickets: {n:,}",
        "escalations": "Eskalationen: {n}",
        "churned": "abgewanderte Kunden: {n}",
        "span": "Zeitraum: {start} bis {end} ({days:,} Tage)",
        "span_empty": "Zeitraum: keine Ereignisse",
        "unknown": "unbekannt (Tabelle fehlt)",
        "rows_note": "Zeile N ist die N-te Zeile nach der Kopfzeile (Zeile N+1 in einer "
        "Tabellenkalkulation, leere Zeilen mitgezählt; Zeile N+1 einer CSV-Datei, sofern keine Zelle "
        "darüber einen Zeilenumbruch enthält).",
        "before_start": "Warnung: {table}.{column}: {n:,} Zeile(n) vor dem contract_start ihres "
        "Kunden datiert; behalten (Pilotphasen, Testzeiträume), siehe docs/data-contract.md",
        "after_churn": "Warnung: {table}.{column}: {n:,} Zeile(n) nach der Abwanderung ihres "
        "Kunden (churn.churned_at) datiert; behalten, siehe docs/data-contract.md",
        "example": "  {table} / {at} (account_id={account}) / {column} {date}",
        "thousands": "Warnung: {table}.{column}: {n:,} Wert(e) mit einem Punkt vor genau drei "
        "Ziffern, etwa {v!r}, in englischer Schreibweise gelesen ({v} = {english}); schreibt die "
        "Datei Tausender mit Punkten (deutsch: {v} = {german}), Zahlen ohne Tausendertrennzeichen "
        "und mit Dezimalpunkt schreiben, siehe docs/data-contract.md",
        "thousands_example": "  {table} / {at} / {column} {v!r}",
        "midnights": "Warnung: {table}.{column}: {n:,} Datum/Daten um Mitternacht einer Ortszeit "
        "östlich von UTC, etwa {v!r}: ein Datum mit Uhrzeit ist sein Tag in UTC, also wird jedes "
        "als der Vortag gelesen ({day}); ist der Tag der Ortszeit gemeint, Daten ohne Uhrzeit "
        "(JJJJ-MM-TT), als DATE-Spalte oder als Mitternacht in UTC schreiben, siehe "
        "docs/data-contract.md",
        "midnights_example": "  {table} / {at} / {column} {v!r}: {day}",
        "rows_inexact": "Hinweis: {table}: die leeren Zeilen der Datei ließen sich nicht genau "
        "mitzählen; hier ist Zeile N die N-te nicht leere Zeile nach der Kopfzeile.",
    },
}

# What an absent table or column disables, in German (English: features.contract's texts).
EFFECTS_DE: dict[str, str] = {
    "usage": "Nutzungsmerkmale nicht verfügbar",
    "escalations": "Merkmale der Eskalationshistorie und Eskalations-Labels nicht verfügbar",
    "churn": "Abwanderungs-Labels nicht verfügbar",
    "accounts.term_months": "jeder Vertrag gilt für days_to_renewal als 12-Monats-Laufzeit",
    "accounts.notice_at": "dem CSM mitgeteilte Kündigungen sind unbekannt; nur Kündigungs-Tickets "
    "zählen",
    "tickets.language": "der Text jedes Tickets wird in der Sprache seines Kunden gelesen",
    "churn.reason": "Abwanderungsgründe sind unbekannt (kein Merkmal und kein Label nutzt sie)",
    "": "in jeder Zeile als fehlend gelesen",
}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "validate",
        help="check a data source against the data contract",
        description=(
            "Check SOURCE (a folder with one CSV or Parquet file per table, or a SQLAlchemy URL such "
            "as sqlite:///histories.db) against the data contract: every violation is printed as "
            "table / column / row / rule with totals per rule (exit 1); otherwise a summary (exit 0)."
        ),
    )
    parser.add_argument("source", metavar="SOURCE", help="folder of table files, or a database URL")
    parser.add_argument(
        "--lang",
        choices=sorted(MESSAGES),
        default="en",
        help="language of the summary and violations",
    )
    add_params_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from features.contract import (
        ABSENT_COLUMN_EFFECTS,
        ROWS,
        TABLES,
        History,
        absent_columns,
        check,
        in_file,
        row_in_file,
    )
    from features.custom import custom_violations
    from features.errors import DataValidationError
    from features.sources import describe, read_tables
    from serving.params import load_params

    params = load_params(args.params)
    source = describe(args.source)
    raw = read_tables(args.source)
    history, violations = check(raw, params.contract, utc_now())
    # the custom fields params.yaml declares: what the feature build would refuse, said here
    violations += in_file(custom_violations(history.accounts, params.features), raw)
    lang = args.lang
    if violations:
        print(DataValidationError(violations, source).report(limit=None, language=lang))
        print(say("rows_note", lang))
        for name, df in raw.items():  # a CSV file whose blank lines could not be paired up
            if df is not None and ROWS in df.attrs and df.attrs[ROWS] is None:
                print(say("rows_inexact", lang, table=name))
        return 1
    assert isinstance(history, History)
    total = sum(len(df) for n in TABLES if (df := history.table(n)) is not None)
    print(say("ok", lang, source=source, n=figure(total, ",", lang)))
    print(summary(history, lang))
    for table, column in absent_columns(raw):
        english = ABSENT_COLUMN_EFFECTS.get((table, column), "read as missing in every row")
        effect = _effect(f"{table}.{column}", lang, english)
        print(say("absent_column", lang, table=table, column=column, effect=effect))
    for line in outside_lines(history, lang, renumber=lambda t, r: row_in_file(raw.get(t), r)):
        print(line)
    for line in thousands_lines(raw, lang):
        print(line)
    for line in midnight_lines(raw, lang):
        print(line)
    return 0


def midnight_lines(raw: Mapping[str, pd.DataFrame | None], lang: str) -> list[str]:
    """Warnings for date columns holding local midnights east of UTC (`contract.local_midnights`),
    read as the day before, each shown with the day it is read as."""
    from features.contract import local_midnights
    from features.contract_text import detail
    from serving.daily_text import day_text

    lines = []
    for found in local_midnights(raw):
        where = {"table": found.table, "column": found.column}
        _, v, day = found.examples[0]
        lines.append(say("midnights", lang, n=found.count, v=v, day=day_text(day, lang), **where))
        for row, value, read in found.examples:
            at = detail("row", lang, {"row": row})
            shown = day_text(read, lang)
            lines.append(say("midnights_example", lang, at=at, v=value, day=shown, **where))
    return lines


def thousands_lines(raw: Mapping[str, pd.DataFrame | None], lang: str) -> list[str]:
    """Warnings for number columns whose dotted values all look like German thousands (120.000):
    valid English numbers, read so, but a German file means 120000 (`contract.dotted_thousands`)."""
    from features.contract import dotted_thousands
    from features.contract_text import detail

    lines = []
    for found in dotted_thousands(raw):
        where = {"table": found.table, "column": found.column}
        v = found.examples[0][1]
        english, german = f"{float(v):g}", v.replace(".", "")
        lines.append(
            say("thousands", lang, n=found.count, v=v, english=english, german=german, **where)
        )
        for row, value in found.examples:
            at = detail("row", lang, {"row": row})
            lines.append(say("thousands_example", lang, at=at, v=value, **where))
    return lines


def outside_lines(
    history: History,
    lang: str,
    origin: Callable[[str, int], Place | None] | None = None,
    renumber: Callable[[str, int], int] | None = None,
) -> list[str]:
    """Warnings for events outside their account's contract: valid, but worth a look, as a wrong
    contract_start or churned_at shows here. `origin` names a table's row where it came from
    (an import: "tickets.json line 8"); else its row, as violations say."""
    from features.contract_text import detail
    from features.lifetime import outside_contract

    lines = []
    for found in outside_contract(history):
        where = {"table": found.table, "column": found.column}
        lines.append(say(found.side, lang, n=found.count, **where))
        for row, account, date in found.examples:
            place = origin(found.table, row) if origin else None
            shown = renumber(found.table, row) if renumber else row  # its row in the file
            at = place.told(lang) if place else detail("row", lang, {"row": shown})
            lines.append(say("example", lang, at=at, account=account, date=date, **where))
    return lines


def say(key: str, language: str, **values: Any) -> str:
    """A message in `language`, its numbers as that language writes them (1.234 in German)."""
    return MESSAGES[language][key].format(**{k: localized(v, language) for k, v in values.items()})


def _effect(key: str, lang: str, english: str) -> str:
    """What an absent table or column disables, in `lang` (German from EFFECTS_DE)."""
    if lang != "de":
        return english
    return EFFECTS_DE.get(key) or EFFECTS_DE[""]


def summary(history, lang: str) -> str:  # type: ignore[no-untyped-def]
    """Rows per table, absent tables and what they disable, headline counts and the time span."""
    from features.contract import ABSENT_EFFECTS, TABLES

    def count(n: int) -> str:
        return figure(n, ",", lang)

    unknown = say("unknown", lang)
    lines = []
    for name in TABLES:
        df = history.table(name)
        if df is None:
            effect = _effect(name, lang, ABSENT_EFFECTS[name])
            lines.append(say("absent", lang, table=name, effect=effect))
        else:
            lines.append(say("rows", lang, table=name, rows=len(df)))
    lines.append(say("accounts", lang, n=history.accounts["account_id"].nunique()))
    lines.append(say("tickets", lang, n=len(history.tickets)))
    esc, churn = history.escalations, history.churn
    lines.append(say("escalations", lang, n=unknown if esc is None else count(len(esc))))
    lines.append(
        say("churned", lang, n=unknown if churn is None else count(churn["account_id"].nunique()))
    )
    lines.append(_span(history, lang))
    return "\n".join(lines)


def _span(history, lang: str) -> str:  # type: ignore[no-untyped-def]
    """From the earliest to the latest event time in any table."""
    from features.contract import TABLES

    times = []
    for name, table in TABLES.items():
        df = history.table(name)
        if df is None:
            continue
        for col in table.columns:
            if col.event and len(df):
                times += [df[col.name].min(), df[col.name].max()]
    times = [t for t in times if not pd.isna(t)]
    if not times:
        return say("span_empty", lang)
    start, end = min(times), max(times)
    return say(
        "span", lang, start=f"{start:%Y-%m-%d}", end=f"{end:%Y-%m-%d}", days=(end - start).days + 1
    )
