"""`escrisk validate SOURCE`: check a folder or database against the data contract.

Prints every violation (table / column / row / rule) with the total per rule and exits 1, or a
short summary of what the source holds and what its absent tables disable, and exits 0.
"""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from features.spec import localized
from serving.cli import add_params_option, utc_now
from serving.daily_text import figure

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "ok": "{source}: valid ({n} rows checked against the data contract)",
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
        "rows_note": "Row N is the N-th data row of its table (line N+1 of a CSV file, after the header).",
    },
    "de": {
        "ok": "{source}: gültig ({n} Zeilen gegen den Datenvertrag geprüft)",
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
        "rows_note": "Zeile N ist die N-te Datenzeile der Tabelle (Zeile N+1 einer CSV-Datei, nach der Kopfzeile).",
    },
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
        "--lang", choices=sorted(MESSAGES), default="en", help="language of the summary"
    )
    add_params_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from features.contract import ABSENT_COLUMN_EFFECTS, TABLES, History, absent_columns, check
    from features.custom import custom_violations
    from features.errors import DataValidationError
    from features.sources import describe, read_tables
    from serving.params import load_params

    params = load_params(args.params)
    source = describe(args.source)
    raw = read_tables(args.source)
    history, violations = check(raw, params.contract, utc_now())
    # the custom fields params.yaml declares: what the feature build would refuse, said here
    violations += custom_violations(history.accounts, params.features)
    msg = _Templates(args.lang)
    if violations:
        print(DataValidationError(violations, source).report(limit=None))
        print(msg["rows_note"])
        return 1
    assert isinstance(history, History)
    total = sum(len(df) for n in TABLES if (df := history.table(n)) is not None)
    print(msg["ok"].format(source=source, n=figure(total, ",", args.lang)))
    print(summary(history, msg))
    for table, column in absent_columns(raw):
        effect = ABSENT_COLUMN_EFFECTS.get((table, column), "read as missing in every row")
        print(msg["absent_column"].format(table=table, column=column, effect=effect))
    return 0


class _Templates(dict):
    """A language's messages whose numbers format as that language writes them (1.234 in German)."""

    def __init__(self, language: str) -> None:
        super().__init__({k: _Template(v, language) for k, v in MESSAGES[language].items()})
        self.language = language

    def count(self, n: int) -> str:
        return figure(n, ",", self.language)


class _Template(str):
    language: str

    def __new__(cls, text: str, language: str) -> _Template:
        out = super().__new__(cls, text)
        out.language = language
        return out

    def format(self, *args: Any, **values: Any) -> str:
        return str.format(
            self, *args, **{k: localized(v, self.language) for k, v in values.items()}
        )


def summary(history, msg: _Templates) -> str:  # type: ignore[no-untyped-def]
    """Rows per table, absent tables and what they disable, headline counts and the time span."""
    from features.contract import ABSENT_EFFECTS, TABLES

    lines = []
    for name in TABLES:
        df = history.table(name)
        if df is None:
            lines.append(msg["absent"].format(table=name, effect=ABSENT_EFFECTS[name]))
        else:
            lines.append(msg["rows"].format(table=name, rows=len(df)))
    lines.append(msg["accounts"].format(n=history.accounts["account_id"].nunique()))
    lines.append(msg["tickets"].format(n=len(history.tickets)))
    esc, churn = history.escalations, history.churn
    lines.append(
        msg["escalations"].format(n=msg["unknown"] if esc is None else msg.count(len(esc)))
    )
    lines.append(
        msg["churned"].format(
            n=msg["unknown"] if churn is None else msg.count(churn["account_id"].nunique())
        )
    )
    lines.append(_span(history, msg))
    return "\n".join(lines)


def _span(history, msg: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
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
        return msg["span_empty"]
    start, end = min(times), max(times)
    return msg["span"].format(
        start=f"{start:%Y-%m-%d}", end=f"{end:%Y-%m-%d}", days=(end - start).days + 1
    )
