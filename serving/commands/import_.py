"""`escrisk import KIND INPUT... --out DIR`: a system's export into the contract's tables, then validation."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from features.errors import CatalogRefusal, Violation
from features.importers.report import MESSAGES, message, render
from serving.cli import add_params_option, utc_now

KIND_NAMES = ("zendesk", "salesforce", "jira", "servicenow", "hubspot", "usage-events")
TABLE_NAMES = ("accounts", "tickets", "usage", "escalations", "churn")
PROGRESS_MIN_BYTES = 20 * 1024 * 1024


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import",
        help="turn a helpdesk, CRM or product-analytics export into the data contract's tables",
        description=(
            "Read a system's standard export (see docs/importers.md), write the contract's tables as "
            "Parquet into DIR, and validate DIR. Name inputs PART=PATH (e.g. tickets=export.json) or let "
            "the file name say which part it is."
        ),
    )
    parser.add_argument(
        "kind", choices=KIND_NAMES, metavar="KIND", help=f"one of: {', '.join(KIND_NAMES)}"
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="export files, as PATH or PART=PATH"
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="folder for the tables"
    )
    parser.add_argument(
        "--lang", choices=sorted(MESSAGES), default="en", help="language of the report"
    )
    add_params_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from features.contract import check
    from features.errors import DataValidationError
    from features.importers.common import ImportRefused, NothingToImport, at_origin
    from features.importers.kinds import run_import
    from features.sources import read_tables, write_tables
    from serving.commands.validate import outside_lines, say
    from serving.daily_text import figure
    from serving.params import load_params

    params = load_params(args.params)
    now = utc_now()
    sizes = [_size(i) for i in args.inputs]
    out: Path = args.out
    try:
        with _progress(sum(sizes)) as on_bytes:
            numeric = [
                name for name, f in params.features.custom_fields.items() if f.kind != "category"
            ]
            result = run_import(
                args.kind,
                args.inputs,
                params.importers,
                params.contract,
                on_bytes,
                numeric,
                _known_accounts(out) if args.kind == "usage-events" else None,
            )
    except NothingToImport as exc:  # what was read and skipped, and why, then the refusal
        print(exc.report.render(str(out), args.lang, refused=True))
        raise
    except ImportRefused as exc:  # the same, then the violations that refused it
        print(exc.import_report.render(str(out), args.lang, refused=True))
        raise
    written = {name: df for name, df in result.tables.items() if df is not None}
    for name in TABLE_NAMES:
        kept = _table_file(out, name)
        if name not in written and kept is not None:
            result.report.notes.append(("note_kept_existing", (("file", kept.name),)))
    # the folder as it would be, checked in a copy first: a refused import leaves DIR as it was
    with _staging(out) as tmp:
        staged = Path(tmp)
        for name in TABLE_NAMES:
            kept = _table_file(out, name)
            if name not in written and kept is not None:
                shutil.copy2(kept, staged / kept.name)
        write_tables(written, staged)
        raw = read_tables(str(staged))
        history, violations = check(raw, params.contract, now)
    if raw.get("accounts") is None:
        # A partial import (usage before the helpdesk): check its own rules now, the links later.
        violations = [v for v in violations if v.rule not in ("missing_table", "foreign_key")]
    # a row of a table built from the user's files is named by its file and line there
    violations = _with_own(result.violations, at_origin(violations, result.origins))
    result.report.unavailable = [n for n in ("usage", "escalations", "churn") if raw.get(n) is None]
    print(result.report.render(str(out), args.lang, refused=bool(violations)))
    if violations:
        print(render(message("refused", out=str(out)), args.lang), file=sys.stderr)
        raise DataValidationError(violations, source=str(out))
    write_tables(written, out)
    rows = sum(len(df) for df in raw.values() if df is not None)
    print(say("ok", args.lang, source=str(out), n=figure(rows, ",", args.lang)))
    # as `escrisk validate` warns, each example named by its file and line where it has one
    for line in outside_lines(history, args.lang, result.origins.of):
        print(line)
    if raw.get("accounts") is None:
        print(render(message("no_accounts_yet", out=str(out)), args.lang))
    return 0


# columns the importers derive from others (a contract start from the first ticket, an
# escalation's start from its ticket's creation): empty only when what they come from was refused
DERIVED = {
    ("accounts", "contract_start"),
    ("accounts", "renewal_date"),
    ("escalations", "opened_at"),
}


def _with_own(own: list[Violation], checked: list[Violation]) -> list[Violation]:
    """The importer's own violations, then the contract's: all told in one run. A value the
    importer refused is left empty, so the contract's "value is missing" at that record (or a
    closed ticket's missing resolution time), or in a column derived from it, is the same
    problem again and left out."""
    if not own:
        return checked
    refused = {v.origin for v in own if v.origin is not None}

    def again(v: Violation) -> bool:
        if v.rule == "closed_unresolved":  # a closed ticket whose refused close time is empty
            return v.origin in refused
        return v.rule == "not_null" and (v.origin in refused or (v.table, v.column) in DERIVED)

    return own + [v for v in checked if not again(v)]


class ImportRefusal(CatalogRefusal):
    """Where the import cannot write: English as raised, told in --lang (a German import was
    told "cannot write the tables there" in English)."""

    @staticmethod
    def say(key: str, language: str, **values: Any) -> str:
        from serving.commands.validate import say

        return say(key, language, **values)


def _parent(out: Path) -> Path:
    """Where the staging copy goes: beside DIR (the same file system), made if need be."""
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file on the way (--out export.csv/data) was an internal error
        raise ImportRefusal("cannot_create_out", out=str(out), why=exc.strerror) from None
    return parent


@contextlib.contextmanager
def _staging(out: Path) -> Iterator[str]:
    """A folder beside DIR for the import's copy, or a UserError: a read-only place was an
    internal error."""
    try:
        staging = tempfile.TemporaryDirectory(prefix=".import-", dir=_parent(out))
    except OSError as exc:
        raise ImportRefusal("cannot_write_out", out=str(out), why=exc.strerror) from None
    with staging as tmp:
        yield tmp


def _size(item: str) -> int:
    path = Path(item.split("=", 1)[1]) if "=" in item and not Path(item).exists() else Path(item)
    try:
        return path.stat().st_size
    except OSError:
        return 0


@contextlib.contextmanager
def _progress(total: int) -> Iterator:
    """A rich progress bar over input bytes, for long imports on a terminal only."""
    if total < PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("importing", total=total)
        yield lambda n: bar.advance(task, n)


def _known_accounts(out: Path) -> set[str] | None:
    """The account ids of the folder a usage import goes into: a mapping's user of another
    account (a test or prospect account) is told at its line, not as a usage row's broken
    link. None while the folder has no accounts."""
    from features.sources import read_tables

    if _table_file(out, "accounts") is None:
        return None
    accounts = read_tables(str(out))["accounts"]
    if accounts is None or "account_id" not in accounts:
        return None
    return {str(v).strip() for v in accounts["account_id"].dropna()}


def _table_file(folder: Path, name: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        p = folder / f"{name}{suffix}"
        if p.is_file():
            return p
    return None
