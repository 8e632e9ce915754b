"""The `escrisk` console script: one entry point, one subcommand per job.

Each module in `serving.commands` defines `register(subparsers)`; the parser it adds sets `run`,
a function of the parsed arguments returning an exit status. This is the edge: params, the clock
and the environment are read here and handed to library code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import io
import logging
import os
import pkgutil
import re
import signal
import sys
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import serving.commands

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from serving.params import Params


def output_console() -> Console:
    """The console a command's tables go to: the terminal's width, or, piped or redirected
    (`escrisk replay ... > replay.txt`), COLUMNS else 200 columns: rich fitted such output to 80,
    cutting headings ("Esca…") and splitting words."""
    from rich.console import Console

    class Output(Console):
        def on_broken_pipe(self) -> None:
            """rich exits 1 when the reader goes away (`escrisk daily | head`), as if the run
            had failed after storing its day: `main` tells it as every command does (141)."""
            raise BrokenPipeError

    if sys.stdout.isatty():
        return Output()
    columns = os.environ.get("COLUMNS", "")
    return Output(width=int(columns) if columns.isdigit() and int(columns) > 0 else 200)


def team_language(args: argparse.Namespace, params: Params) -> str:
    """A command's language: its --language, else the team's (params daily.language). Kept as
    `args.lang`, where `main` looks to tell an error in it."""
    args.lang = args.language or params.daily.language
    return str(args.lang)


def add_params_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--params",
        type=Path,
        default=Path("params.yaml"),
        help="settings file (default: ./params.yaml)",
    )


def parse_day(value: str, option: str, language: str = "en") -> pd.Timestamp:
    """A day given on the command line: YYYY-MM-DD only (03.06.2026 could be March or June),
    as UTC midnight; refused in `language`."""
    text = str(value).strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        day = dt.date.fromisoformat(text)
    except ValueError:
        from features.errors import UserError
        from serving.daily_text import t

        raise UserError(t("not_a_day", language, option=option, value=value)) from None
    import pandas as pd

    return pd.Timestamp(day, tz="UTC")


def positive_int(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give at least 1")
    return n


def port_number(value: str) -> int:
    """An argparse type: a TCP port; 70000 was served on 70000 - 65536 while announced as 70000."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 1 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r}: a port is from 1 to 65535")
    return n


def utc_now() -> pd.Timestamp:
    """The run's clock; library code receives it instead of reading it."""
    import pandas as pd

    return pd.Timestamp.now(tz="UTC")


def _no_traceback(record: logging.LogRecord) -> bool:
    """Drops MLflow's log of a database error it raises again (a full disk, a locked SQLite
    store): a traceback at the user, before escrisk tells the same error in one line."""
    return record.exc_info is None


def _no_pipeline_cleanup(record: logging.LogRecord) -> bool:
    """Drops psycopg's "error ignored terminating <psycopg.Pipeline ...>: pipeline aborted":
    MLflow 3 logs a model's metrics again for its logged model, the duplicate insert fails in a
    pipeline and MLflow handles it, yet psycopg warned on every `escrisk train` into PostgreSQL
    as if something had gone wrong. The error MLflow does not handle is still told."""
    return not record.getMessage().startswith("error ignored terminating <psycopg.Pipeline")


def quiet_mlflow(env: MutableMapping[str, str]) -> None:
    """MLflow's INFO logs and artifact progress bars drown every command's output; warnings and
    errors still show. Defaults only: a user's own MLFLOW_LOGGING_LEVEL or bar setting wins."""
    store_log = logging.getLogger("mlflow.store.db.utils")
    if "MLFLOW_LOGGING_LEVEL" not in env and _no_traceback not in store_log.filters:
        store_log.addFilter(_no_traceback)
    pg_log = logging.getLogger("psycopg")
    if "MLFLOW_LOGGING_LEVEL" not in env and _no_pipeline_cleanup not in pg_log.filters:
        pg_log.addFilter(_no_pipeline_cleanup)
    env.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # read when mlflow is first imported
    env.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # read at every download
    # a tracking server that cannot be reached is told within seconds, not after minutes of
    # MLflow's default retries (7, waits doubling from 2 s)
    env.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    env.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    env.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    level = env["MLFLOW_LOGGING_LEVEL"].upper()
    if "mlflow" in sys.modules and isinstance(logging.getLevelName(level), int):
        logging.getLogger("mlflow").setLevel(level)  # imported already (in-process callers)


# What `tune_memory` sets, as the environment variable that sets it in a process not yet started
# (benchmarks give it to the programs they compare with, so both run alike).
MEMORY_ENV = {"NUMPY_MADVISE_HUGEPAGE": "0"}


def tune_memory() -> None:
    """Batch jobs make and free arrays of hundreds of MB step after step, and numpy asks the
    kernel to back them with transparent huge pages; where the kernel defragments for such a
    request (`defrag: madvise`, as here) every fresh array waits for memory to be compacted: a
    third of a 10k-account feature build in a new process (docs/benchmarks.md). Ordinary pages
    cost a little more to fault in and nothing to compact."""
    hugepage = getattr(
        importlib.import_module("numpy._core.multiarray"), "_set_madvise_hugepage", None
    )
    if hugepage is not None:
        hugepage(False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="escrisk",
        description="Escalation and churn risk for B2B SaaS accounts: data, models, ladder, service.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(serving.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"serving.commands.{info.name}")
        module.register(sub)
    for command in sub.choices.values():  # see `main`: a bad argument is told by its command
        command.set_defaults(command_parser=command)
    return parser


def _mlflow_error(exc: BaseException, language: str = "en") -> str | None:
    """A tracking store or registry MLflow cannot use (unknown scheme, unreachable server, a
    file store it refuses), told with the store's URI and MLflow's own first line."""
    if "mlflow" not in sys.modules:
        return None
    from mlflow.exceptions import MlflowException

    if not isinstance(exc, MlflowException):
        return None
    from features.sources import describe
    from serving.model_cli_text import say

    given = os.environ.get("MLFLOW_TRACKING_URI")
    uri = describe(given) if given else say("mlflow_default_store", language)
    message = (exc.message if isinstance(exc.message, str) else str(exc)).strip()
    first = message.splitlines()[0] if message else type(exc).__name__
    return say("mlflow_store_error", language, uri=uri, message=first)


def _first_line(exc: BaseException) -> str:
    """What went wrong, in one line: a database error's own text without the SQL statement and
    its parameters, which SQLAlchemy appends (they hold customers' names and owners)."""
    cause = getattr(exc, "orig", None)
    lines = str(cause if cause is not None else exc).strip().splitlines()
    return lines[0][:300] if lines else ""


def _database_error(exc: BaseException, language: str = "en") -> str | None:
    """A database that cannot be reached or opened, told as such (no SQL, no traceback)."""
    import sqlalchemy.exc

    from serving.model_cli_text import say

    unusable = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)
    # a plain DatabaseError is e.g. SQLite's "file is not a database"; its subclasses other than
    # those above (IntegrityError, ProgrammingError, ...) are bugs, not a wrong setting
    if not (isinstance(exc, unusable) or type(exc) is sqlalchemy.exc.DatabaseError):
        return None
    cause = f"{type(exc.orig).__name__}: {_first_line(exc)}"
    return say("database_error", language, cause=cause)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's stop, `kill`, systemd) as a Ctrl-C: raised where the command is, so
    that it unwinds as from Ctrl-C (a transaction rolled back, `escrisk daily`'s temporary files
    and lock removed). Python's default ended the process on the spot and left them."""


def _on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise Terminated


def _stopped(exc: BaseException, language: str) -> int:
    """Say that the command was stopped (Ctrl-C or SIGTERM, `exc`) and return its exit status:
    130 for Ctrl-C, 143 (128 + SIGTERM) for SIGTERM, as a shell reports either."""
    from serving.model_cli_text import say

    terminated = isinstance(exc, Terminated)
    print(say("terminated" if terminated else "interrupted", language), file=sys.stderr)
    return 128 + signal.SIGTERM if terminated else 130


def _interrupted(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C (or SIGTERM) `exc` was raised while unwinding from (MLflow ending its run on a
    SQLite store the interrupt left locked): the user stopped it; nothing is wrong with the
    setting."""
    cause = exc.__context__
    while cause is not None:
        if isinstance(cause, KeyboardInterrupt):
            return cause
        cause = cause.__context__
    return None


def _language(args: argparse.Namespace, exc: BaseException) -> str:
    """The language a command tells an error in: its --lang (validate, import) or --language
    (daily, which sets it from daily.language once params are read); a params file that cannot
    be used tells `escrisk daily` in the file's own daily.language when it gives one."""
    given = getattr(args, "lang", None) or getattr(args, "language", None)
    in_file = getattr(exc, "file_language", None) if args.command == "daily" else None
    return str(given or in_file or "en")


def main(argv: Sequence[str] | None = None) -> int:
    """The console script. A Ctrl-C while the libraries load (seconds on a busy machine, before
    any command runs) is told as one, as it is later: this module imports them only here."""
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (a test's): signals are the main thread's
        previous = None
    try:
        return _main(argv)
    except KeyboardInterrupt as exc:
        return _stopped(exc, _given_language(argv))
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _given_language(argv: Sequence[str] | None) -> str:
    """The --language or --lang given on the command line, for a Ctrl-C before it is parsed."""
    words = list(sys.argv[1:] if argv is None else argv)
    for i, word in enumerate(words):
        name, _, value = word.partition("=")
        if name in ("--language", "--lang"):
            given = value or (words[i + 1] if i + 1 < len(words) else "")
            return given if given in ("en", "de") else "en"
    return "en"


def _keep_printing(stream: object) -> None:
    """A terminal that cannot show a character (PYTHONIOENCODING=ascii, a Latin-1 or cp1252
    console) gets a '?' for it: an umlaut in a name or a reason stopped `escrisk daily` with
    "internal error" after the day was stored, its summary never printed."""
    if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
        stream.reconfigure(errors="replace")


def _main(argv: Sequence[str] | None) -> int:
    from features.errors import DataValidationError, UserError

    _keep_printing(sys.stdout)
    quiet_mlflow(os.environ)
    os.environ.setdefault("MPLBACKEND", "Agg")  # commands draw into files, never on a screen
    tune_memory()
    parser = build_parser()
    # argparse tells an unknown argument with escrisk's usage, not the subcommand's it belongs to
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return int(args.run(args) or 0)
    except DataValidationError as exc:
        limit = None if args.command == "validate" else 50
        print(exc.report(limit, language=_language(args, exc)), file=sys.stderr)
        if args.command not in ("validate", "import"):  # an import's rows are its input's
            from serving.daily_text import t

            print(t("validate_hint", getattr(args, "lang", "en")), file=sys.stderr)
        return 1
    except UserError as exc:
        print(f"escrisk {args.command}: {exc.told(_language(args, exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        return _stopped(exc, _language(args, exc))
    except BrokenPipeError:  # the reader went away (`escrisk validate ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # the last line of defence: no traceback at a user
        if os.environ.get("ESCRISK_DEBUG"):
            raise
        stopped = _interrupted(exc)
        if stopped is not None:
            return _stopped(stopped, _language(args, exc))
        from serving.model_cli_text import say

        lang = _language(args, exc)
        known = _database_error(exc, lang) or _mlflow_error(exc, lang)
        if known:
            print(f"escrisk {args.command}: {known}", file=sys.stderr)
            return 1
        cause = f"{type(exc).__name__}: {_first_line(exc)}"
        print(
            f"escrisk {args.command}: {say('internal_error', lang, cause=cause)}", file=sys.stderr
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
