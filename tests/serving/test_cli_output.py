"""What every `escrisk` command prints: sensible --help, and no MLflow chatter in the output."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import pytest

from serving.cli import build_parser, quiet_mlflow

ROOT = Path(__file__).resolve().parents[2]


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_command_explains_itself_and_each_argument(name, capsys):
    parser = _subcommands()[name]
    assert (parser.description or "").strip(), f"escrisk {name} --help has no description"
    undocumented = [
        a.dest
        for a in parser._actions
        if not isinstance(a, argparse._HelpAction) and not (a.help or "").strip()
    ]
    assert not undocumented, f"escrisk {name}: arguments without help: {undocumented}"
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([name, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: escrisk {name}")


def test_an_unknown_argument_is_told_with_its_commands_usage(capsys):
    """`escrisk daily SRC --bogus` printed escrisk's usage (`escrisk [-h] COMMAND ...`), which
    says nothing of the options `daily` does take."""
    from serving.cli import main

    with pytest.raises(SystemExit) as done:
        main(["daily", "SRC", "--bogus"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: escrisk daily ") and "--min-level" in err
    assert "escrisk daily: error: unrecognized arguments: --bogus" in err


def test_daily_language_says_what_it_tells_and_what_the_csv_keeps():
    """`--language de` tells the table's and report's reasons and actions in German, while the
    CSV keeps each account's language: the help says both."""
    (language,) = [a for a in _subcommands()["daily"]._actions if a.dest == "language"]
    said = " ".join((language.help or "").split())
    assert "reasons, next actions" in said and "CSV keeps each account's own language" in said


def test_daily_owner_pasted_with_spaces_around_it_is_the_owner():
    """`--owner "Max Young "` (pasted from a spreadsheet cell) matched no account: the data
    contract strips the owners it reads, the option did not."""
    args = build_parser().parse_args(["daily", "src", "--owner", " Max Young\t"])
    assert args.owner == "Max Young"


def test_mlflow_is_quiet_below_warning_unless_the_user_asks():
    import mlflow  # noqa: F401 - imported first, as in-process callers do

    logger = logging.getLogger("mlflow")
    before = logger.level
    try:
        env: dict[str, str] = {}
        quiet_mlflow(env)
        assert env == {
            "MLFLOW_LOGGING_LEVEL": "WARNING",
            "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
            # an unreachable tracking server: a few quick retries, not minutes of them
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
        }
        child = logging.getLogger("mlflow.store.db.utils")
        assert not child.isEnabledFor(logging.INFO) and child.isEnabledFor(logging.WARNING)
        mine = {"MLFLOW_LOGGING_LEVEL": "info", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "true"}
        quiet_mlflow(mine)
        assert mine["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] == "true"
        assert child.isEnabledFor(logging.INFO)
    finally:
        logger.setLevel(before)


def test_an_mlflow_store_error_is_not_logged_with_its_traceback(tmp_path, capsys):
    """A full disk (or a locked SQLite store) under mlflow.db: MLflow logged the error with a
    30-line traceback before escrisk told it in one line."""
    import sqlalchemy as sa
    from mlflow.exceptions import MlflowException
    from mlflow.store.db.utils import _get_managed_session_maker
    from sqlalchemy.orm import sessionmaker

    child = logging.getLogger("mlflow.store.db.utils")
    filters = list(child.filters)
    try:
        quiet_mlflow({})
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'mlflow.db'}")
        session = _get_managed_session_maker(sessionmaker(bind=engine), "sqlite")
        with pytest.raises(MlflowException), session() as s:
            s.execute(sa.text("select 1"))
            raise sa.exc.OperationalError("COMMIT", {}, Exception("database or disk is full"))
        assert "Traceback" not in capsys.readouterr().err
    finally:
        child.filters[:] = filters


def test_a_terminal_without_umlauts_gets_question_marks_not_an_internal_error(
    tmp_path, tiny_world, monkeypatch
):
    """PYTHONIOENCODING=ascii (or a Latin-1 console and an arrow): the German summary's "ü"
    stopped the command with "internal error" once its work was done."""
    import io
    import sys

    from features.sources import write_tables
    from serving.cli import main

    write_tables(tiny_world.tables, tmp_path / "w")
    raw = io.BytesIO()
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(raw, encoding="ascii"))
    assert main(["validate", str(tmp_path / "w"), "--lang", "de"]) == 0
    sys.stdout.flush()
    assert "g?ltig" in raw.getvalue().decode("ascii")


def test_a_table_piped_into_head_ends_as_a_broken_pipe_not_a_failure(monkeypatch):
    """`escrisk daily | head -1` exited 1 (rich's own exit on a broken pipe), as if the run had
    failed after storing the day; `main` tells a broken pipe as 141, as every other command."""
    import io

    from serving.cli import output_console

    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    monkeypatch.setattr("sys.stdout", Gone())
    with pytest.raises(BrokenPipeError):
        output_console().print("a line")


def test_tune_memory_turns_numpys_huge_pages_off():
    """The batch commands' memory settings (serving.cli.tune_memory) take effect in process."""
    import numpy as np

    from serving.cli import tune_memory

    multiarray = np._core.multiarray
    before = multiarray._get_madvise_hugepage()
    try:
        tune_memory()
        assert multiarray._get_madvise_hugepage() is False
    finally:
        multiarray._set_madvise_hugepage(before)


def test_a_database_that_cannot_be_opened_is_one_clear_line(tmp_path, monkeypatch, capsys):
    from serving.cli import main

    monkeypatch.setenv("ESCRISK_DATABASE_URL", f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}")
    assert main(["audit"]) == 1
    err = capsys.readouterr().err
    assert "ESCRISK_DATABASE_URL" in err and "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("url", "told"),
    [
        ("sqlite://", "ESCRISK_DATABASE_URL=sqlite:// ist eine Datenbank im Arbeitsspeicher"),
        ("foo://x/y", "ESCRISK_DATABASE_URL=foo://x/y: unbekannter Datenbanktyp"),
        ("sqlite:///{tmp}/junk.db", "lässt sich nicht öffnen oder nutzen (DatabaseError"),
        ("::not a url", "die Datenbank-URL '::not a url' ist keine gültige SQLAlchemy-URL"),
    ],
)
def test_a_state_database_that_cannot_be_used_is_told_in_the_teams_language(
    url, told, tmp_path, monkeypatch, capsys
):
    """`escrisk daily --language de` (and ack, audit, ...) told a mistyped ESCRISK_DATABASE_URL
    in English."""
    from serving.cli import main

    (tmp_path / "junk.db").write_text("not a database", encoding="utf-8")
    monkeypatch.setenv("ESCRISK_DATABASE_URL", url.format(tmp=tmp_path))
    assert main(["audit", "--language", "de"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert told in err and "internal error" not in err, err
    if "junk" not in url:  # daily reads its source before it opens a database file
        de = ["--params", str(ROOT / "params.yaml"), "--language", "de"]
        assert main(["daily", str(tmp_path), *de]) == 1
        assert told in " ".join(capsys.readouterr().err.split())


def test_an_unknown_account_in_the_audit_trail_is_told_in_the_teams_language(
    tmp_path, monkeypatch, capsys
):
    from serving.cli import main
    from serving.store import open_for_writing

    url = f"sqlite:///{tmp_path / 'state.db'}"
    open_for_writing(url).close()
    monkeypatch.setenv("ESCRISK_DATABASE_URL", url)
    assert main(["audit", "A-404", "--language", "de"]) == 1
    err = capsys.readouterr().err
    assert "unbekannter Account 'A-404': kein Stufenzustand in sqlite:///" in err, err


def test_an_mlflow_store_that_cannot_be_used_is_one_clear_line(tmp_path, monkeypatch, capsys):
    """Not "no registered model" (it may exist; the store could not be asked), not a bug report:
    the store's URI and MLflow's reason, before any training starts."""
    from serving.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "bogus://x")
    params = ["--params", str(ROOT / "params.yaml")]
    for argv in (["models", *params], ["train", str(tmp_path / "no-such-source"), *params]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "MLflow tracking store bogus://x:" in err, err
        assert "internal error" not in err and "no registered model" not in err
        assert len(err.strip().splitlines()) == 1


def test_an_mlflow_store_in_a_file_that_is_no_database_is_one_clear_line(
    tmp_path, monkeypatch, capsys
):
    from serving.cli import main

    not_db = tmp_path / "accounts.parquet"
    not_db.write_bytes(b"PAR1 not a database" * 100)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{not_db}")
    assert main(["models", "--params", str(ROOT / "params.yaml")]) == 1
    err = capsys.readouterr().err
    assert "file is not a database" in err and "MLFLOW_TRACKING_URI" in err, err
    assert "internal error" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("scheme", ["sqlite:///", "file:"])
def test_readers_of_the_registry_do_not_create_a_store_at_a_wrong_path(
    scheme, tmp_path, monkeypatch, capsys
):
    """A misspelled MLFLOW_TRACKING_URI made an empty store and answered "no champion"."""
    from serving.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 refuses file stores unless
    wrong = tmp_path / "mlfow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"{scheme}{wrong}")
    params = ["--params", str(ROOT / "params.yaml")]
    for argv in (["models", *params], ["promote", str(tmp_path), *params], ["serve", *params]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert f"no MLflow store at {wrong}" in err and "escrisk train SOURCE" in err, err
    assert not wrong.exists()


def test_the_registrys_refusals_are_told_in_the_teams_language(tmp_path, monkeypatch, capsys):
    """`escrisk models / promote / train --language de` told a store that is not there, or a
    SQLite URL with two slashes, in English."""
    from serving.cli import main

    monkeypatch.chdir(tmp_path)
    wrong = tmp_path / "mlfow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{wrong}")
    de = ["--params", str(ROOT / "params.yaml"), "--language", "de"]
    for argv in (["models", *de], ["promote", str(tmp_path), *de]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert f"kein MLflow-Speicher unter {wrong}" in err and "train QUELLE` legt" in err, err
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite://mlflow.db")
    assert main(["train", str(tmp_path), *de]) == 1
    err = capsys.readouterr().err
    assert "sqlite://mlflow.db: eine SQLite-URL braucht drei Schrägstriche" in err, err
    assert not wrong.exists()


def test_a_tracking_server_that_is_down_is_told_in_the_teams_language(
    tmp_path, monkeypatch, capsys, unused_port
):
    """`escrisk daily / models / promote --language de` told a tracking server that does not
    answer in English, and `escrisk serve --language de` put that English inside its German."""
    from serving.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ESCRISK_MODEL_CACHE", str(tmp_path / "models"))
    down = f"http://127.0.0.1:{unused_port}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", down)
    de = ["--params", str(ROOT / "params.yaml"), "--language", "de"]
    told = f"MLflow-Tracking-Server {down}: keine Verbindung (Verbindung fehlgeschlagen)"
    for argv in (["models", *de], ["promote", str(tmp_path), *de], ["serve", *de]):
        assert main(argv) == 1
        err = " ".join(capsys.readouterr().err.split())
        assert told in err and "cannot connect" not in err, err
    assert "die Modell-Registry" in err, err  # serve's own sentence around it
    assert main(["models", "--params", str(ROOT / "params.yaml")]) == 1
    err = capsys.readouterr().err
    assert f"MLflow tracking server {down}: cannot connect (connection failed)" in err, err


def test_a_tracking_uri_with_a_port_that_is_no_number_is_one_line(monkeypatch, capsys):
    """MLFLOW_TRACKING_URI=postgresql://u:pw@host:port/db was an internal error (int('port'))."""
    from serving.cli import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "postgresql://anna:s3cret@db.example:port/mlflow")
    assert main(["models", "--params", str(ROOT / "params.yaml")]) == 1
    err = capsys.readouterr().err
    assert "not a valid database URL" in err and "port must be a number" in err
    assert "s3cret" not in err and "internal error" not in err


def test_an_unsupported_registry_uri_is_not_told_as_no_champion(tmp_path, monkeypatch, capsys):
    from serving.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "garbage://x")
    assert main(["serve", "--params", str(ROOT / "params.yaml")]) == 1
    err = capsys.readouterr().err
    assert "MLflow tracking store garbage://x:" in err and "unsupported URI" in err
    assert "no 'champion' version" not in err
    # in the team's language around MLflow's own words
    assert main(["serve", "--params", str(ROOT / "params.yaml"), "--language", "de"]) == 1
    err = capsys.readouterr().err
    assert "escrisk serve: MLflow-Tracking-Speicher garbage://x:" in err, err


def test_a_database_error_no_command_told_is_told_in_the_commands_language():
    import sqlite3

    import sqlalchemy.exc

    from serving.cli import _database_error

    exc = sqlalchemy.exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("locked"))
    told = _database_error(exc, "de")
    assert told is not None and told.startswith("die Datenbank ist nicht nutzbar (OperationalError")
    assert "ESCRISK_DATABASE_URL (die Zustandsdatenbank)" in told
    assert (_database_error(exc) or "").startswith("the database cannot be used (")


def test_output_piped_into_a_reader_that_stops_early_is_not_an_error(tmp_path):
    """`escrisk validate SOURCE | head -1`: the closed pipe ends the command quietly."""
    import subprocess
    import sys

    src = tmp_path / "w"
    src.mkdir()
    rows = "\n".join(f"A-{i},Acme {i},gold,en,2024-01-01,2025-01-01,1,1" for i in range(3000))
    (src / "accounts.csv").write_text(
        "account_id,name,tier,language,contract_start,renewal_date,arr,seats\n" + rows + "\n"
    )
    (src / "tickets.csv").write_text("ticket_id,account_id\n")
    cmd = f"'{sys.executable}' -m serving.cli validate '{src}' | head -1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True)
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.strip()


@pytest.mark.parametrize("text", ["03.06.2026", "06/03/2026", "2026-03-01T10:00", "now", "today",
                                  "", "2026-02-30", "2026-6-3"])  # fmt: skip
def test_days_on_the_command_line_are_iso_only(text):
    from features.errors import UserError
    from serving.cli import parse_day

    with pytest.raises(UserError, match="YYYY-MM-DD"):
        parse_day(text, "--as-of")


def test_iso_day_is_utc_midnight():
    import pandas as pd

    from serving.cli import parse_day

    assert parse_day(" 2026-06-03 ", "--as-of") == pd.Timestamp("2026-06-03", tz="UTC")


@pytest.mark.parametrize("n", ["0", "-3", "x"])
def test_audit_last_needs_a_positive_count(n, capsys):
    from serving.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["audit", "--last", n])
    assert exc.value.code == 2 and "--last" in capsys.readouterr().err


def test_simulate_refuses_a_folder_holding_someone_elses_tables(tmp_path, capsys):
    from serving.cli import main

    (tmp_path / "accounts.csv").write_text("account_id\nA-1\n")
    args = ["simulate", "--accounts", "3", "--months", "2", "--seed", "1", "--out", str(tmp_path)]
    assert main(args) == 1
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "accounts.csv").read_text() == "account_id\nA-1\n"
    assert main([*args, "--force"]) == 0 and not (tmp_path / "accounts.csv").exists()
    assert main(args) == 0  # a simulated folder (truth/ beside) may be simulated again


def test_features_out_must_name_a_parquet_or_csv_file(tmp_path, capsys):
    from serving.cli import main

    assert main(["features", str(tmp_path), "--out", str(tmp_path)]) == 1
    assert "is a folder" in capsys.readouterr().err
    assert main(["features", str(tmp_path), "--out", str(tmp_path / "f.xlsx")]) == 1
    assert ".parquet or .csv" in capsys.readouterr().err


def test_features_on_a_full_disk_say_so_and_keep_the_earlier_file(
    monkeypatch, tmp_path, tiny_world, capsys
):
    """A disk that filled while the table was written was an "internal error ... This is a
    bug" (exit 2), and the earlier run's file could be left cut."""
    import errno

    import pandas as pd

    from features.sources import write_tables
    from serving.cli import main

    write_tables(tiny_world.tables, tmp_path / "w")
    out = tmp_path / "out" / "f.parquet"
    args = ["features", str(tmp_path / "w"), "--as-of", "2025-06-02", "--out", str(out)]
    assert main(args) == 0
    # the data's end as a day and time, not a pandas Timestamp ("2026-06-29 00:00:00+00:00")
    assert "data ends 2026-06-29 00:00 UTC; labelled rows: " in capsys.readouterr().out
    assert main([*args, "--language", "de"]) == 0
    assert "Daten enden 29.06.2026 00:00 UTC; gelabelte Zeilen: " in capsys.readouterr().out
    before = out.read_bytes()
    to_parquet = pd.DataFrame.to_parquet

    def disk_fills(self, path, *args, **kwargs):
        to_parquet(self.iloc[:0], path, *args, **kwargs)  # a part of the file, then the error
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", disk_fills)
    capsys.readouterr()
    assert main(args) == 1
    assert "cannot write the features (No space left on device)" in capsys.readouterr().err
    assert out.read_bytes() == before and list(out.parent.iterdir()) == [out]


def test_features_into_a_read_only_folder_say_so(monkeypatch, tmp_path, tiny_world, capsys):
    """A read-only mount refuses even the removal of a file that is not there: cleaning up
    after the refused write was an "internal error (OSError: Read-only file system)"."""
    import errno
    import pathlib

    import pandas as pd

    from features.sources import write_tables
    from serving.cli import main

    write_tables(tiny_world.tables, tmp_path / "w")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", read_only)
    monkeypatch.setattr(pathlib.Path, "unlink", read_only)
    out = tmp_path / "f.parquet"
    assert main(["features", str(tmp_path / "w"), "--as-of", "2025-06-02", "--out", str(out)]) == 1
    assert "cannot write the features (Read-only file system)" in capsys.readouterr().err


def test_features_from_after_the_data_is_not_told_as_a_to_before_from():
    """`--from` after the grid's end without `--to` said "--to is before --from", of a --to
    never given: it names the grid's last day instead."""
    import pandas as pd

    from features.errors import UserError
    from serving.commands.features import as_of_dates

    grid = pd.date_range("2026-06-01", "2026-06-29", freq="7D", tz="UTC")
    late = argparse.Namespace(as_of=None, start="2026-07-06", end=None)
    with pytest.raises(UserError, match="--from 2026-07-06 is after the training grid's last"):
        as_of_dates(late, grid)
    with pytest.raises(UserError, match="--to is before --from"):
        as_of_dates(argparse.Namespace(as_of=None, start="2026-07-06", end="2026-07-01"), grid)
    early = argparse.Namespace(as_of=None, start="2026-06-10", end=None)
    assert list(as_of_dates(early, grid).strftime("%m-%d")) == ["06-15", "06-22", "06-29"]


def test_the_terminal_list_prints_names_literally_and_shows_the_due_time():
    """Square brackets in the customer's data are not rich markup (a stray [/] crashed the run
    after everything was stored); the due time leads the narrow next-action column."""
    import io

    import pandas as pd
    from rich.console import Console

    from serving.commands.daily import print_table

    shown = pd.DataFrame(
        [{"rank": 1, "account_name": "Acme [/] Holding", "account_id": "A-[1]",
          "csm_owner": "Doe, J. [interim]", "escalation_risk": 0.5, "churn_risk": 0.2,
          "delta_prev": None, "delta_7d": 0.1, "level": "L2", "level_index": 2, "level_changed": "new",
          "reasons": "Beta [bold] reason; other", "next_action": "Call [them] now",
          "due_at": pd.Timestamp("2026-06-20 04:00", tz="UTC")}]
    )  # fmt: skip
    out = io.StringIO()
    print_table(Console(file=out, width=400, color_system=None), shown, "2026-06-20", "en")
    text = out.getvalue()
    for literal in ("Acme [/] Holding", "A-[1]", "Doe, J. [interim]", "Beta [bold] reason"):
        assert literal in text
    assert "06-20 04:00 UTC · Call" in text  # the column keeps 32 characters
    # the level's colour follows its rank, whatever params.yaml names it
    coloured = io.StringIO()
    renamed = shown.assign(level="amber")
    print_table(Console(file=coloured, width=400, color_system="standard", force_terminal=True),
                renamed, "2026-06-20", "en")  # fmt: skip
    assert "\x1b[31mamber" in coloured.getvalue()  # red, as L2
    german = io.StringIO()  # day.month., never "06-20", which reads as the 6th of a month
    print_table(Console(file=german, width=400, color_system=None), shown, "20.06.2026", "de")
    assert "20.06. 04:00 UTC · Call" in german.getvalue()


def test_the_terminal_list_tells_why_the_risk_changed_under_the_table():
    """The terminal showed the change since the previous run but not why (the CSV's
    why_changed, a sentence too long for a column): the rows that have one say it below."""
    import io

    import pandas as pd
    from rich.console import Console

    from serving.commands.daily import print_table

    row = {"rank": 1, "account_name": "Acme", "account_id": "A-[1]", "csm_owner": "Jo",
           "escalation_risk": 0.5, "churn_risk": 0.2, "delta_prev": 0.06, "delta_7d": None,
           "level": "L2", "level_index": 2, "level_changed": "",
           "reasons": "r", "next_action": "a", "due_at": None}  # fmt: skip
    why = "Risiko +0,06 seit 27.06.2026: +0,05 (3 knappe SLAs [30 T])"
    shown = pd.DataFrame([row | {"why_changed": why}, row | {"rank": 2, "why_changed": ""}])
    out = io.StringIO()
    print_table(Console(file=out, width=200, color_system=None), shown, "28.06.2026", "de")
    text = out.getvalue()
    assert "Warum sich das Eskalationsrisiko geändert hat:" in text
    assert f"    1  A-[1]: {why}" in text
    assert text.count("A-[1]:") == 1  # the second row has no change to tell
    quiet = io.StringIO()
    print_table(
        Console(file=quiet, width=200, color_system=None), shown.assign(why_changed=""), "d", "en"
    )
    assert "Why the escalation risk changed" not in quiet.getvalue()


def test_an_error_is_told_without_the_statement_and_its_parameters():
    """SQLAlchemy appends the SQL and its parameters (customers' names, owners) to its text."""
    import sqlalchemy as sa

    from serving.cli import _first_line

    exc = sa.exc.DataError(
        "INSERT INTO daily_list (csm_owner) VALUES (%(csm_owner)s)",
        {"csm_owner": "Dana Fischer"},
        Exception("value too long for type character varying(256)\nDETAIL: more"),
    )
    told = _first_line(exc)
    assert told == "value too long for type character varying(256)"
    assert "Dana" not in told and "INSERT" not in told
    assert _first_line(ValueError("plain")) == "plain"


def test_the_logged_git_commit_is_the_codes_wherever_train_is_run(tmp_path, monkeypatch):
    import subprocess

    from serving.commands.train import git_commit

    code = Path(__file__).resolve().parents[2]
    here = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=code
    ).stdout.strip()
    monkeypatch.chdir(tmp_path)  # a user's data folder, no repository
    assert git_commit().removesuffix("-dirty") == here


@pytest.mark.parametrize("name", ["", "deleted-one", "escalation-risk-promotions"])
def test_an_experiment_train_cannot_log_to_is_told_before_training(
    name, tmp_path, monkeypatch, capsys
):
    """An empty --experiment, or the name of one deleted in the MLflow UI, was refused by MLflow
    only when the run was logged, after the minutes of training. The champion history's
    experiment was taken: the training run showed in `escrisk models` as a blank decision."""
    import mlflow

    from serving.cli import main

    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    client = mlflow.MlflowClient(uri)
    client.delete_experiment(client.create_experiment("deleted-one"))
    argv = ["train", str(tmp_path / "no-such-source"), "--experiment", name]
    assert main([*argv, "--params", str(ROOT / "params.yaml")]) == 1
    err = capsys.readouterr().err
    assert "--experiment" in err and "no such folder" not in err, err


def test_an_error_while_cleaning_up_after_ctrl_c_is_told_as_the_interrupt(monkeypatch, capsys):
    """Ctrl-C while MLflow wrote left SQLite locked; ending the run then failed ("database is
    locked") and the user read an MLflow store error, exit 1, for a Ctrl-C."""
    import sqlalchemy.exc

    from serving import cli
    from serving.commands import models

    def interrupted_then_locked(args):
        try:
            raise KeyboardInterrupt
        finally:
            raise sqlalchemy.exc.OperationalError("COMMIT", {}, Exception("database is locked"))

    monkeypatch.setattr(models, "run", interrupted_then_locked)
    assert cli.main(["models"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"


@pytest.mark.parametrize(
    ("argv", "said"),
    [(["models"], "interrupted"), (["models", "--language", "de"], "abgebrochen"),
     (["train", "x", "--language=de"], "abgebrochen")],
)  # fmt: skip
def test_ctrl_c_is_told_in_the_commands_language(monkeypatch, capsys, argv, said):
    """A German team read "interrupted" after Ctrl-C, whenever it came: while the libraries
    load (before the command line is read), or while the command ran."""
    from serving import cli
    from serving.commands import models, train

    def stopped(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(models, "run", stopped)
    monkeypatch.setattr(train, "run", stopped)
    assert cli.main(argv) == 130
    assert capsys.readouterr().err.strip() == said
    monkeypatch.setattr(cli, "build_parser", lambda: stopped(None))
    assert cli.main(argv) == 130
    assert capsys.readouterr().err.strip() == said


def test_ctrl_c_while_the_libraries_load_is_told_as_the_interrupt(monkeypatch, capsys):
    """A Ctrl-C in the first seconds of any command (pandas, sqlalchemy, mlflow loading) printed
    a 40-line traceback of importlib frames instead of "interrupted"."""
    import subprocess
    import sys

    from serving import cli

    def loading(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", loading)
    assert cli.main(["models"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"
    # the console script imports serving.cli before main() runs: it must load nothing slow
    probe = "import sys, serving.cli; print(sorted({'pandas', 'numpy'} & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "70000"], "argument --port: '70000': a port is from 1 to 65535"),
        (["--port", "0"], "argument --port: '0': a port is from 1 to 65535"),
        (["--workers", "0"], "argument --workers: '0': give at least 1"),
        # params.yaml bounds service.workers to 64: --workers 1000 started a thousand processes
        (["--workers", "65"], "argument --workers: '65': at most 64"),
    ],
)
def test_serve_refuses_a_port_or_worker_count_it_cannot_use(argv, message, capsys):
    """Port 70000 was served on 4464 (70000 - 65536) while announced as 70000; --workers 0
    reached BentoML, which said "<lambda>(0) should evaluate to True"."""
    from serving.cli import main

    with pytest.raises(SystemExit) as done:
        main(["serve", *argv])
    assert done.value.code == 2
    assert message in capsys.readouterr().err


def test_serve_on_a_port_in_use_says_so_in_one_line(model_store, monkeypatch, capsys):
    """BentoML announced the service, then failed with a 50-line traceback (Errno 98)."""
    import socket

    from serving.cli import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", model_store)
    monkeypatch.setenv("ESCRISK_API_TOKENS", "t")

    def started(*_: object) -> None:  # instead of this process becoming `bentoml serve`
        raise AssertionError("bentoml serve was started")

    monkeypatch.setattr(os, "execvpe", started)

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["serve", "--port", str(port), "--params", str(ROOT / "params.yaml")]
        assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"escrisk serve: port {port} on 127.0.0.1 is in use" in err and "--port" in err
    assert "Traceback" not in err and "serving " not in err


def test_serve_warns_and_refuses_in_the_teams_language(model_store, monkeypatch, capsys):
    """`escrisk serve` had no --language: a German team read its warnings (a short token) and
    its refusal (a port in use) in English."""
    import socket

    from serving.cli import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", model_store)
    monkeypatch.setenv("ESCRISK_API_TOKENS", "t")
    monkeypatch.setattr(os, "execvpe", lambda *_: pytest.fail("bentoml serve was started"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["serve", "--port", str(port), "--params", str(ROOT / "params.yaml")]
        assert main([*argv, "--language", "de"]) == 1
    err = capsys.readouterr().err
    assert "Warnung: 1 API-Token ist kürzer als 20 Zeichen (Schlüssel " in err, err
    assert f"escrisk serve: Port {port} auf 127.0.0.1 ist belegt" in err, err
    assert "warning" not in err and "in use" not in err, err
    # its tokens file and switches, refused in English before
    missing = ROOT / "no-such-tokens.txt"
    monkeypatch.setenv("ESCRISK_API_TOKENS_FILE", str(missing))
    assert main([*argv, "--language", "de"]) == 1
    err = capsys.readouterr().err
    assert f"ESCRISK_API_TOKENS_FILE={missing}: Datei nicht gefunden" in err, err
    monkeypatch.setenv("ESCRISK_FORWARDED_PREFIX", "ja")
    assert main([*argv, "--language", "de"]) == 1
    err = capsys.readouterr().err
    assert "ESCRISK_FORWARDED_PREFIX=ja: kein Schalter; auf 1 (an) oder 0 (aus) setzen" in err, err
    assert main(argv) == 1
    assert "ESCRISK_FORWARDED_PREFIX=ja: not a switch" in capsys.readouterr().err


def test_daily_negative_top_is_refused_in_the_runs_language(capsys):
    """`escrisk daily SRC --top -1 --language de` refused in English."""
    from serving.cli import main

    assert main(["daily", "SRC", "--top", "-1", "--language", "de"]) == 1
    assert "--top -1: muss 0 oder mehr sein" in capsys.readouterr().err


@pytest.mark.parametrize("language", ["en", "de"])
def test_daily_refuses_a_blank_owner_before_reading_the_source(tmp_path, capsys, language):
    """`--owner "  "` (an empty spreadsheet cell) kept no account and wrote an empty view file
    "...-owner-x.csv": it is refused, in the run's language, before anything is read."""
    from serving.cli import main

    params = Path(__file__).resolve().parents[2] / "params.yaml"
    argv = ["daily", str(tmp_path / "nowhere"), "--owner", "  ", "--language", language]
    argv += ["--params", str(params)]
    assert main([*argv, "--out", str(tmp_path / "reports")]) == 1
    err = capsys.readouterr().err
    assert ("--owner is blank" if language == "en" else "--owner ist leer") in err
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["daily", "{src}", "--as-of", "2026-02-30"], "--as-of '2026-02-30': kein Tag"),
        (["daily", "{missing}"], "kein solcher Ordner"),
        (["replay", "{src}", "--from", "2026-02-30", "--to", "2026-03-01"], "kein Tag"),
        (["replay", "{missing}", "--from", "2026-01-01", "--to", "2026-01-02"], "kein solcher"),
    ],
)
def test_a_german_teams_daily_and_replay_refuse_bad_input_in_german(tmp_path, capsys, argv, said):
    """Under daily.language: de a bad day or a missing source folder was refused in English
    ("not a day", "no such folder") amid the run's German output."""
    from serving.cli import main

    text = (Path(__file__).resolve().parents[2] / "params.yaml").read_text(encoding="utf-8")
    german = text.replace("terminal_rows: 20\n  language: en", "terminal_rows: 20\n  language: de")
    (tmp_path / "de.yaml").write_text(german, encoding="utf-8")
    (tmp_path / "src").mkdir()
    paths = {"src": str(tmp_path / "src"), "missing": str(tmp_path / "missing")}
    argv = [a.format(**paths) for a in argv] + ["--params", str(tmp_path / "de.yaml")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


def test_a_missing_model_store_or_champion_is_told_in_german(tmp_path):
    """`escrisk daily` and `replay` under daily.language: de said "no MLflow store at ..." and
    "no 'champion' version ..." in English on a fresh machine."""
    import mlflow

    from features.errors import UserError
    from serving.model import champion_version

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with pytest.raises(UserError, match="kein MLflow-Speicher unter MLFLOW_TRACKING_URI="):
        champion_version(uri, "escalation-risk", "de")
    mlflow.MlflowClient(tracking_uri=uri).search_experiments()  # an empty store
    with pytest.raises(UserError, match="keine 'champion'-Version des Modells 'escalation-risk'"):
        champion_version(uri, "escalation-risk", "de")
    with pytest.raises(UserError, match="no 'champion' version of model 'escalation-risk'"):
        champion_version(uri, "escalation-risk")


def test_a_params_error_is_told_in_the_daily_runs_language(tmp_path, capsys):
    """`escrisk daily --language de` (or a file saying daily.language: de) told params errors in
    English."""
    from serving.cli import main

    assert (
        main(["daily", str(tmp_path), "--language", "de", "--params", str(tmp_path / "no.yaml")])
        == 1
    )
    assert "Parameterdatei nicht gefunden" in capsys.readouterr().err
    text = (ROOT / "params.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "\n  language: en\n  max_source_lag_days", "\n  language: de\n  max_source_lag_days"
    )
    path = tmp_path / "params.yaml"
    path.write_text(text.replace("max_future_days: 1 ", "max_future_days: -1 "), encoding="utf-8")
    assert main(["daily", str(tmp_path), "--params", str(path)]) == 1
    err = capsys.readouterr().err
    assert "1 ungültige Einstellung" in err and "muss mindestens 0 sein (angegeben: -1)" in err
    assert main(["train", str(tmp_path), "--params", str(path)]) == 1  # only daily reads it
    assert "must be at least 0" in capsys.readouterr().err


def test_a_mistyped_model_store_url_is_not_told_as_a_missing_store_in_german(tmp_path):
    """Under daily.language: de every refusal of the tracking store was told as "kein
    MLflow-Speicher ...: `escrisk train QUELLE` legt ihn an", so a SQLite URL with two slashes
    (or a PostgreSQL server down) sent the team to train instead of to the URL."""
    from features.errors import UserError
    from serving.model import champion_version

    with pytest.raises(UserError) as refused:
        champion_version("sqlite://mlflow.db", "escalation-risk", "de")
    assert "sqlite:///mlflow.db" in str(refused.value)
    assert "kein MLflow-Speicher" not in str(refused.value)


def test_features_warn_of_as_of_dates_beyond_the_data_or_before_every_contract(
    tmp_path, tiny_world, capsys
):
    """Rows for a day long after the last event read as quiet accounts (nothing is known), and
    no rows at all looked like a bug: both are said, with the data's last day or first contract."""
    from features.sources import write_tables
    from serving.cli import main

    write_tables(tiny_world.tables, tmp_path / "w")
    out = tmp_path / "f.parquet"
    assert main(["features", str(tmp_path / "w"), "--as-of", "2031-01-01", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "as_of 2031-01-01 is" in err and "days after the data's last day" in err
    assert main(["features", str(tmp_path / "w"), "--as-of", "2001-01-01", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "no account is active" in err and "first contract starts" in err
    assert "days after" not in err


def test_features_tells_its_summary_warnings_and_refusals_in_the_teams_language(
    tmp_path, tiny_world, capsys
):
    """`escrisk features` had no --language: a German team read its summary, why a family was
    left out ("usage table absent"), its warnings and refusals in English."""
    from features.sources import write_tables
    from serving.cli import main

    write_tables({**tiny_world.tables, "usage": None}, tmp_path / "w")
    out = tmp_path / "f.parquet"
    argv = ["features", str(tmp_path / "w"), "--language", "de", "--out"]
    assert main([*argv, str(out), "--as-of", "2031-01-01"]) == 0
    said = capsys.readouterr()
    assert " Zeilen (29 Accounts x 1 as_of-Tag), " in said.out and " Features -> " in said.out
    assert "; gelabelte Zeilen: escalation_30d " in said.out, said.out
    assert "nicht verfügbare Feature-Familien:\n  usage: Tabelle usage fehlt" in said.err
    assert "Warnung: as_of 2031-01-01 liegt " in said.err and " Tage nach dem letzten " in said.err
    assert "rows" not in said.out + said.err and "absent" not in said.err
    assert main([*argv, str(tmp_path / "f.xlsx")]) == 1
    assert "eine .parquet- oder .csv-Datei angeben" in capsys.readouterr().err


def test_piped_tables_are_as_wide_as_columns_says_else_200(monkeypatch):
    """Piped or redirected, rich fitted a table to 80 columns: `escrisk replay > out.txt` cut
    its headings ("Esca…"); a COLUMNS that is no number stopped `daily` and `audit`."""
    from serving.cli import output_console

    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    for columns, width in (("", 200), ("120", 120), ("wide", 200), ("0", 200)):
        monkeypatch.setenv("COLUMNS", columns)
        assert output_console().width == width


def test_an_mlflow_error_names_a_database_store_without_its_password(monkeypatch):
    """An MLflow error on a PostgreSQL store was told with MLFLOW_TRACKING_URI as typed."""
    from mlflow.exceptions import MlflowException

    from serving.cli import _mlflow_error

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "postgresql://anna:s3cret@db.example:5432/mlflow")
    said = _mlflow_error(MlflowException("the registry is read-only"))
    assert said is not None and "anna:***@db.example" in said and "s3cret" not in said


@pytest.mark.parametrize(
    "uri, driver",
    [
        ("mysql://anna:s3cret@127.0.0.1:3306/mlflow", "MySQLdb"),
        ("postgresql+psycopg2://anna@127.0.0.1/m", "psycopg2"),
    ],
)
def test_a_tracking_store_whose_driver_is_not_installed_is_one_line(
    uri, driver, monkeypatch, capsys
):
    """MLFLOW_TRACKING_URI=mysql://... (or postgresql+psycopg2://) was an internal error
    (ModuleNotFoundError), told as a bug to report."""
    import sys

    from serving.cli import main

    # as where it is not installed (the dev tools bring psycopg2 for the sources' driver tests)
    monkeypatch.setitem(sys.modules, driver, None)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    for argv in (["models"], ["train", "no-such-source"]):
        assert main([*argv, "--params", str(ROOT / "params.yaml")]) == 1
        err = capsys.readouterr().err
        assert "the database driver is not installed" in err and "postgresql+psycopg://" in err
        assert "internal error" not in err and "s3cret" not in err, err
        assert len(err.strip().splitlines()) == 1, err


def test_trains_next_step_masks_a_database_urls_password():
    """train's closing "Next: escrisk promote SOURCE" printed a database URL with its password,
    into terminals' scrollback and cron's mails, while the run's tag hid it."""
    from pathlib import Path

    from serving.commands.train import promote_arguments

    url = "postgresql+psycopg://cs:s3cret@db.internal:5432/helpdesk"
    said = promote_arguments(url, Path("params.yaml"))
    assert (
        said == "'postgresql+psycopg://cs:***@db.internal:5432/helpdesk'" and "s3cret" not in said
    )
    assert promote_arguments("exports/acme co", Path("conf/p.yaml")) == (
        "'exports/acme co' --params conf/p.yaml"
    )  # a folder as typed (quoted for the shell), the params file promote must read


def test_the_terminal_list_marks_a_due_time_already_passed_overdue():
    """A flag left unacknowledged past its due time (raised on a day before) read "12-06 04:00
    UTC · Executive sponsor calls" as if still ahead, as the CSM page says overdue of it."""
    import io

    import pandas as pd
    from rich.console import Console

    from serving.commands.daily import print_table

    row = {"rank": 1, "account_name": "Acme", "account_id": "A-1", "csm_owner": "Jo",
           "escalation_risk": 0.5, "churn_risk": 0.2, "delta_prev": None, "delta_7d": None,
           "level": "L3", "level_index": 3, "level_changed": "", "reasons": "r",
           "next_action": "Call", "why_changed": ""}  # fmt: skip
    due = pd.Timestamp("2026-06-20 04:00", tz="UTC")
    shown = pd.DataFrame([row | {"due_at": due}, row | {"rank": 2, "account_id": "B-2",
                          "due_at": due + pd.Timedelta(days=2)}])  # fmt: skip
    for lang, said in (
        ("en", "06-20 04:00 UTC overdue · "),
        ("de", "20.06. 04:00 UTC überfällig · "),
    ):
        out = io.StringIO()
        now = pd.Timestamp("2026-06-21 09:00", tz="UTC")
        print_table(Console(file=out, width=400, color_system=None), shown, "d", lang, now=now)
        text = out.getvalue()
        assert said in text and text.count(said.split()[-2]) == 1, text


def test_the_terminal_list_says_a_flag_was_handled_before_the_run():
    """A flag acknowledged or resolved before the run has no due time: its row told only the
    level's next action, as if nobody had touched it (the CSM page says acknowledged)."""
    import io

    import pandas as pd
    from rich.console import Console

    from serving.commands.daily import print_table

    row = {"rank": 1, "account_name": "Acme", "account_id": "A-1", "csm_owner": "Jo",
           "escalation_risk": 0.5, "churn_risk": 0.2, "delta_prev": None, "delta_7d": None,
           "level": "L2", "level_index": 2, "level_changed": "", "reasons": "r",
           "next_action": "Call", "why_changed": "", "due_at": None}  # fmt: skip
    shown = pd.DataFrame([row | {"handled": "acknowledged"},
                          row | {"rank": 2, "account_id": "B-2", "handled": "resolved"},
                          row | {"rank": 3, "account_id": "C-3", "handled": ""}])  # fmt: skip
    for lang, said in (("en", ("acknowledged · Call", "resolved · Call")),
                       ("de", ("bestätigt · Call", "gelöst · Call"))):  # fmt: skip
        out = io.StringIO()
        print_table(Console(file=out, width=400, color_system=None), shown, "d", lang)
        lines = out.getvalue().splitlines()
        assert [any(x in line for x in said) for line in lines if " Acme " in line] == [
            True, True, False,
        ], lines  # fmt: skip


@pytest.mark.parametrize("width", [70, 80, 100, 120, 160])
def test_the_terminal_list_keeps_rank_id_level_and_due_time_on_a_narrow_terminal(width):
    """On an 80 to 160 column terminal rich squeezed the nine columns below their widths: the
    rank, escalation risk and level columns vanished whole, the account id was cut ("A-…") and
    the due time too ("06-2"). The list now leaves out the columns it can do without (the CSV
    and the report have them), says so, and keeps the rank, id, level and due time whole; at 70
    columns the German headings had the level cut ("L2 (höh…"): a heading is cut instead."""
    import io

    import pandas as pd
    from rich.console import Console

    from serving.commands.daily import print_table

    row = {"rank": 7, "account_name": "Granitehealth GmbH & Co. KG", "account_id": "A-00311",
           "csm_owner": "Laura Schulz", "escalation_risk": 0.53, "churn_risk": 0.2,
           "delta_prev": 0.01, "delta_7d": None, "level": "L2", "level_index": 2,
           "level_changed": "up", "reasons": "4 P4 resolution SLA breaches in the last 30 days",
           "next_action": "Review all open tickets with the support lead", "why_changed": "",
           "due_at": pd.Timestamp("2026-06-20 04:00", tz="UTC")}  # fmt: skip
    for lang, level, due, esc in (("en", "L2 (up)", "06-20 04:00 UTC", "0.53"),
                                  ("de", "L2 (höher)", "20.06. 04:00 UTC", "0,53")):  # fmt: skip
        out = io.StringIO()
        print_table(
            Console(file=out, width=width, color_system=None), pd.DataFrame([row]), "d", lang
        )
        text = out.getvalue()
        line = next(li for li in text.splitlines() if "A-00311" in li)
        assert line.split()[0] == "7", text
        for whole in (level, due, esc):
            assert whole in line, (lang, width, text)
        assert max(len(li) for li in text.splitlines()) <= width
        said = {"en": "left out", "de": "ausgelassen"}[lang]
        assert (said in text) == (width < 160), (lang, width, text)


def test_a_training_runs_source_tag_names_its_folder_wherever_it_is_read(tmp_path, monkeypatch):
    """The run's `source` tag kept a folder as typed ('data', '../data'): the MLflow UI and the
    evaluation notebook (run in notebooks/, 'trained on ../data') could not tell which folder
    the model was trained on. A folder is kept as its absolute path, a URL without password."""
    from serving.commands.train import source_tag

    monkeypatch.chdir(tmp_path)
    assert source_tag("exports/acme") == str(tmp_path / "exports" / "acme")
    url = "postgresql+psycopg://cs:s3cret@db.internal:5432/helpdesk"
    assert source_tag(url) == "postgresql+psycopg://cs:***@db.internal:5432/helpdesk"


def test_the_terminal_names_open_flags_overdue_or_at_the_top_below_its_rows():
    """The terminal printed the first rows by priority only: an overdue L3 flag ranked lower went
    unseen by whoever read it. A line under the table now names them by rank and id."""
    import datetime as dt

    import pandas as pd

    from serving.commands.daily import pinned_note

    at = dt.datetime(2026, 6, 22, 6, 30, tzinfo=dt.UTC)
    past, ahead = pd.Timestamp("2026-06-22 04:00", tz="UTC"), pd.Timestamp("2026-06-23", tz="UTC")
    shown = pd.DataFrame({
        "rank": [1, 2, 3, 4],
        "account_id": ["TOP", "L3-NEW", "L1-LATE", "L1-AHEAD"],
        "level_index": [1, 3, 1, 1],
        "due_at": [ahead, ahead, past, ahead],
        "handled": ["", "", "", ""],
    })  # fmt: skip
    assert pinned_note(shown, 1, 3, at, "en") == (
        "2 more open flags overdue or at the highest level below the rows shown (the report "
        "lists them): #2 L3-NEW, #3 L1-LATE"
    )
    assert pinned_note(shown, 3, 3, at, "de") is None
    told = pinned_note(shown, 2, 3, at, "de")
    assert told is not None and told.startswith("1 weitere offene Stufenmeldung überfällig"), told
