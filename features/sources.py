"""Where account histories come from and go to: a folder of CSV/Parquet files or a SQL database.

This is an edge module (files, databases); `features.contract` does the typing and checking.
A source is one string: a folder path, or a SQLAlchemy URL such as `sqlite:///histories.db` or
`postgresql+psycopg://user@host/db`. Tables are named after the contract's tables.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.contract import ROWS, TABLES, History, as_source, validated
from features.contract_text import detail
from features.errors import UserError
from features.params import ContractParams

FORMATS = ("parquet", "csv")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def is_url(source: str) -> bool:
    """A SQLAlchemy URL (`dialect[+driver]://...`) rather than a folder path."""
    return bool(_URL.match(source))


def describe(source: str) -> str:
    """The source as shown to a user (terminal, page, MLflow tag): URLs without their password
    and without their query, where a driver may take the password too (?password=...)."""
    if not is_url(source):
        return source
    try:
        from sqlalchemy.engine import make_url

        return make_url(source).set(query={}).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 (an unparseable URL is reported when it is opened)
        return without_password(source).split("?")[0]


def without_password(text: str) -> str:
    """A database URL as typed, even one no parser reads (`//` mistyped, a port that is no
    number), with its password masked: `user:***@`, `password=***`."""
    text = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", text)
    text = re.sub(r":[^:/@\s]*@", ":***@", text)
    return re.sub(r"(password=)[^&\s]*", r"\1***", text)


def read_tables(source: str) -> dict[str, pd.DataFrame | None]:
    """Every contract table the source has (raw, untyped); None for tables it does not have."""
    tables = _read_database(source) if is_url(source) else _read_folder(Path(source))
    if all(df is None for df in tables.values()):
        key = "no_tables_database" if is_url(source) else "no_tables_folder"
        raise _refused(key, source=describe(source), expected=", ".join(TABLES))
    return tables


def load_history(source: str, contract: ContractParams, now: pd.Timestamp) -> History:
    """Read and validate a source: what every command that reads data calls first.

    Raises DataValidationError (naming the source) with every violation; optional tables the
    source lacks are None in the result and listed by `History.missing`.
    """
    return validated(read_tables(source), contract, now, source=describe(source))


# --- folders ------------------------------------------------------------------------------------


def _read_folder(folder: Path) -> dict[str, pd.DataFrame | None]:
    if not folder.exists():
        raise _refused("no_folder", path=str(folder))
    if not folder.is_dir():
        raise _refused("not_folder", path=str(folder))
    out: dict[str, pd.DataFrame | None] = {}
    for name in TABLES:
        files = [
            folder / f"{name}.{fmt}" for fmt in FORMATS if (folder / f"{name}.{fmt}").is_file()
        ]
        if len(files) > 1:
            raise _refused("both_formats", folder=str(folder), a=files[0].name, b=files[1].name)
        if not files:
            _near_miss(folder, name)
        out[name] = _read_file(files[0]) if files else None
    return out


def _near_miss(folder: Path, name: str) -> None:
    """A file meant as table `name` that would be passed over (Accounts.CSV, usage.csv.gz):
    refused with how to name it, not read as a source without that table."""
    for path in sorted(folder.iterdir()):
        stem, _, rest = path.name.partition(".")
        if stem.lower() != name or path.name in (f"{name}.{fmt}" for fmt in FORMATS):
            continue
        if rest.lower() in FORMATS:
            raise _refused("lower_case_file", path=str(path), name=f"{name}.{rest.lower()}")
        a, b = (f"{name}.{fmt}" for fmt in FORMATS)
        raise _refused("not_read_file", path=str(path), a=a, b=b)


def _read_file(path: Path) -> pd.DataFrame:
    """CSV as text in every column (the contract types it, so row numbers stay honest)."""
    try:
        if path.suffix == ".csv":
            if utf16_text(path):
                raise _refused("utf16_csv", path=str(path))
            # keep_default_na=False: "NA" is a region, not a missing value; the contract decides.
            hint = sep_line(path)
            sep = hint or csv_delimiter(path)
            nul, blank = nul_and_blank_line(path)
            df = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                encoding="utf-8-sig",
                sep=sep,
                skiprows=1 if hint else 0,
                engine="python" if nul else "c",
            )
            if not isinstance(df.index, pd.RangeIndex):
                df = _realigned(df, path)
            header = _csv_header(path, sep, skip=1 if hint else 0)
            if len(header) == len(df.columns) and len(set(header)) < len(header):
                df.columns = pd.Index(header)  # undo pandas' "x.1" renaming so the contract sees it
            if blank:
                df.attrs[ROWS] = _rows_in_file(path, sep, skip=1 if hint else 0, expected=len(df))
            return _without_empty_rows(df)
        return _index_as_columns(pd.read_parquet(path))
    except UserError:  # said already (a CSV's rows longer than its header line)
        raise
    except pd.errors.EmptyDataError:
        raise _refused("empty_file", path=str(path)) from None
    except UnicodeDecodeError:
        with path.open("rb") as f:
            if f.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):  # Excel's "Unicode text"
                raise _refused("utf16_csv", path=str(path)) from None
        line, at, found = _not_utf8_at(path)
        raise _refused("not_utf8", path=str(path), line=line, at=at, found=repr(found)) from None
    except pd.errors.ParserError as exc:
        beyond = _beyond_header(path)
        if beyond is not None:
            raise beyond from None
        hint = sep_line(path)
        quote = open_quote(path, "utf-8-sig", hint or csv_delimiter(path), 1 if hint else 0)
        if quote is not None:
            raise quote from None
        raise _refused("unreadable_csv", path=str(path), reason=_first_line(exc)) from None
    except OSError as exc:
        reason = exc.strerror or _first_line(exc)
        raise _refused("cannot_read", path=str(path), reason=reason) from None
    except Exception as exc:  # noqa: BLE001 (pyarrow raises many kinds for a broken Parquet file)
        fmt, reason = path.suffix[1:], _first_line(exc)
        raise _refused("unreadable_file", path=str(path), fmt=fmt, reason=reason) from None


def _without_empty_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The table without rows of empty cells only (`,,,,`, rows a spreadsheet once formatted):
    they hold nothing, as a blank line, which pandas skips, holds nothing; each was told as a
    missing value in every required column. The other rows keep their rows in the file."""
    if df.empty or len(df.columns) < 2:
        return df
    first = df.iloc[:, 0]
    empty = (first.isna() | (first == "")).to_numpy()  # a cheap look first: ids are rarely empty
    if not empty.any():
        return df
    rest = df.loc[empty]
    empty[empty] = (rest.isna() | (rest == "")).all(axis=1).to_numpy()
    if not empty.any():
        return df
    rows = df.attrs.get(ROWS)
    if rows is None or len(rows) != len(df):
        rows = np.arange(1, len(df) + 1, dtype=np.int64)
    kept = df.loc[~empty].reset_index(drop=True)
    kept.attrs[ROWS] = np.asarray(rows)[~empty]
    return kept


def utf16_text(path: Path) -> bool:
    """Whether a file is UTF-16 text, with a byte-order mark (Excel's "Unicode text") or without
    (every other byte of its ASCII a NUL): read as UTF-8, its NULs came as characters of every
    name and value, and each table was told as lacking all its columns."""
    with path.open("rb") as f:
        head = f.read(4096)
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return True
    head = head[: len(head) - len(head) % 2]
    if len(head) < 8:
        return False
    even, odd = head[0::2], head[1::2]
    return any(
        zeros.count(0) >= 0.9 * len(zeros) and text.count(0) <= 0.1 * len(text)
        for zeros, text in ((odd, even), (even, odd))
    )


_BLANK_LINE = re.compile(rb"\n[ \t]*\r?\n|\r[ \t]*\r")  # \r alone: old Mac line ends


def nul_and_blank_line(path: Path) -> tuple[bool, bool]:
    """Whether the file holds a NUL byte, and a line empty or only blanks (after the first), in
    one pass over it. pandas' fast CSV parser ends a field at a NUL and drops the rest of it
    silently (a ticket body cut to its first word, an id losing its NUL and so passing the
    one_line rule), where its Python parser keeps every value as written; and pandas skips a
    blank line, so the table's rows no longer stand at their positions in the file."""
    nul = blank = False
    carry = b""
    with path.open("rb") as f:
        while not (nul and blank) and (chunk := f.read(1 << 22)):
            nul = nul or b"\x00" in chunk
            blank = blank or _BLANK_LINE.search(carry + chunk) is not None
            carry = chunk[-64:]
    return nul, blank


def _rows_in_file(path: Path, sep: str, skip: int, expected: int) -> np.ndarray | None:
    """Row N of the contract's report for each data row (`row_numbers`); None when the file's
    records do not pair with the table's rows (the report then counts the table's rows, as
    `features.contract.ROWS` says)."""
    rows = row_numbers(path, sep, skip)
    return rows if len(rows) == expected else None


def row_numbers(path: Path, sep: str, skip: int = 0, encoding: str = "utf-8-sig") -> np.ndarray:
    """Each data record's row as a spreadsheet counts the file's rows after the header line: a
    blank line is a row there (pandas skips it), a cell holding a line break does not start one.
    `skip` lines come first (Excel's sep= line, hidden there)."""
    with path.open(encoding=encoding, errors="replace", newline="") as f:
        for _ in range(skip):
            f.readline()
        records = csv.reader(f, delimiter=sep)
        for header in records:  # pandas skips blank lines before the header line too
            if not blank_record(header):
                break
        rows = [n for n, rec in enumerate(records, 1) if not blank_record(rec)]
    return np.array(rows, dtype=np.int64)


def blank_record(rec: list[str]) -> bool:
    """A line pandas skips: empty, or only blanks (a quoted empty cell, "", is a row)."""
    return not rec or (len(rec) == 1 and rec[0] != "" and not rec[0].strip())


def _index_as_columns(df: pd.DataFrame) -> pd.DataFrame:
    """A Parquet table with its pandas index: a named one (`set_index("account_id")` before
    `to_parquet`) is a column of the table, not row labels to drop; unnamed row labels (of a
    filtered frame) are dropped, as is an index that repeats a column."""
    if isinstance(df.index, pd.RangeIndex) and df.index.name is None:
        return df
    named = [n for n in df.index.names if n is not None and n not in df.columns]
    if named:
        df = df.reset_index(level=named)
    return df.reset_index(drop=True)


def _realigned(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The table of a CSV whose data rows have more fields than its header line: pandas took the
    first fields as the index and shifted every column. A separator ending every line (as
    spreadsheets write it) leaves empty last fields: dropped. A value there has no column name."""
    k = df.index.nlevels
    names = list(df.columns)
    if k >= len(names):
        raise _refused("more_fields", path=str(path))
    tail = df.iloc[:, -k:].fillna("").astype(str)
    filled = np.flatnonzero(tail.apply(lambda c: c.str.strip() != "").to_numpy().any(axis=1))
    if len(filled):
        i = int(filled[0])
        value = next(v for v in tail.iloc[i] if v.strip())
        raise _refused("field_beyond", path=str(path), row=i + 1, v=value)
    fields = [df.index.get_level_values(j).to_numpy(dtype=object) for j in range(k)]
    fields += [df.iloc[:, j].to_numpy(dtype=object) for j in range(len(names) - k)]
    out = pd.DataFrame(dict(enumerate(fields)))
    out.columns = pd.Index(names)
    return out


def _beyond_header(path: Path) -> UserError | None:
    """The first data row with more fields than the header line names, told as the report counts
    rows: pandas' own error ("Expected 3 fields in line 5, saw 4") is English and counts lines
    from the file's start. None when every row fits (the parser failed for another reason)."""
    hint = sep_line(path)
    sep, skip = hint or csv_delimiter(path), 1 if hint else 0
    with path.open(encoding="utf-8-sig", newline="") as f:
        records = csv.reader(f, delimiter=sep)
        for _ in range(skip):
            next(records, None)
        header = next((rec for rec in records if not blank_record(rec)), [])
        for row, rec in enumerate(records, 1):
            if len(rec) > len(header):
                extra = [v for v in rec[len(header) :] if v.strip()]
                if extra:
                    return _refused("field_beyond", path=str(path), row=row, v=extra[0])
                saw, names = len(rec), len(header)
                return _refused("extra_separator", path=str(path), row=row, saw=saw, names=names)
    return None


def open_quote(path: Path, encoding: str, sep: str, skip: int = 0) -> UserError | None:
    """The refusal of a quote never closed, named by the line of the record it opens and said in
    the user's language (pandas' own reason, "Error tokenizing data. C error: EOF inside
    string", was English in a German message); a record too long is told before (escrisk
    import's `_long_record`, the folder reader's `_beyond_header`)."""
    with path.open(encoding=encoding, errors="replace", newline="") as f:
        for _ in range(skip):
            f.readline()
        rows = csv.reader(f, delimiter=sep, strict=True)
        next(rows, [])
        line = 1  # rows as `_long_record` counts them
        while True:
            line += 1
            try:
                next(rows)
            except StopIteration:
                return None
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    return _refused("csv_open_quote", path=str(path), line=line)
                # a quirk pandas reads (text after a closing quote): go on from the next record


def _not_utf8_at(path: Path) -> tuple[int, int, bytes]:
    """Where the first byte that is not UTF-8 stands in the file (line and byte offset): pandas'
    error counts bytes from the start of the chunk it was decoding, not of the file."""
    base, lines, carry = 0, 1, b""
    with path.open("rb") as f:
        while True:
            chunk = f.read(1 << 20)
            data = carry + chunk
            try:
                data.decode("utf-8")
                good, carry = data, b""
            except UnicodeDecodeError as exc:
                if not (chunk and exc.reason == "unexpected end of data"):
                    lines += data.count(b"\n", 0, exc.start)
                    found = data[exc.start : exc.end]
                    return lines, base + exc.start, found
                good, carry = (
                    data[: exc.start],
                    data[exc.start :],
                )  # cut in the middle of a character
            if not chunk:  # pandas' decoder saw one; unreachable in practice
                return lines, base, b""
            base += len(good)
            lines += good.count(b"\n")


def _csv_header(path: Path, sep: str = ",", skip: int = 0) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = csv.reader(f, delimiter=sep)
        for _ in range(skip):
            next(rows, None)
        return next(rows, [])


def sep_line(path: Path) -> str | None:
    """The separator a first line `sep=;` names: Excel's hint, which Excel reads and hides (the
    header is still row 1 there), and some tools write for it. None without such a line."""
    with path.open(encoding="utf-8-sig", errors="replace", newline=None) as f:
        line = f.readline().strip()
    found = re.fullmatch(r"sep=(.)", line)
    return found.group(1) if found else None


def csv_delimiter(path: Path) -> str:
    """A comma, a semicolon or a tab: the one that splits the header into the most names, each
    whole (a quote left inside a name means the quotes were split), preferring one that splits
    the first record into as many fields. So `Id;"Umsatz, EUR"` and German Excel's unquoted
    `Id;Umsatz, EUR;Land` are semicolon-separated: the comma in a name split them before. Only
    the first lines' bytes are decoded, leniently: a cp1252 body must not hide the separators."""
    try:  # newline=None: lines end at \n, \r\n or a lone \r (a Mac spreadsheet's CSV)
        with path.open(encoding="utf-8-sig", errors="replace", newline=None) as f:
            line = f.readline()
            record = ""
            for _ in range(20):  # the first record after any blank lines
                record = f.readline()
                if not record or record.strip():
                    break
    except OSError:
        return ","  # the reader reports it
    best, score = ",", (False, 1)
    for sep in (",", ";", "\t"):
        names = next(csv.reader([line], delimiter=sep), [])
        if len(names) < 2 or any('"' in n for n in names):
            continue
        fields = next(csv.reader([record], delimiter=sep), []) if record.strip() else names
        fits = len(fields) == len(names) or (len(fields) == len(names) + 1 and not fields[-1])
        if (fits, len(names)) > score:
            best, score = sep, (fits, len(names))
    return best


def write_tables(
    tables: Mapping[str, pd.DataFrame | None] | History, out_dir: str | Path, fmt: str = "parquet"
) -> list[Path]:
    """Write each given table as `<name>.<fmt>` into `out_dir`; None tables are left alone.

    A table's file in the other format is removed, so the folder never holds two versions of
    one table. Every table is written under a temporary name first and all are renamed once all
    are written: a full disk or a Ctrl-C part way leaves the folder's tables as they were, not
    new tickets beside the old accounts. Typed tickets are written as their source gave them
    (`features.contract.as_source`: the policy's SLA targets blank), so a History written and
    read back is the same History. Returns the paths written.
    """
    if fmt not in FORMATS:
        raise UserError(f"unknown table format {fmt!r}; use one of {list(FORMATS)}")
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{folder}: cannot create the output folder ({exc.strerror})") from None
    staged: list[tuple[Path, Path]] = []
    try:
        for name, df in _as_mapping(tables).items():
            if df is None:
                continue
            target = folder / f"{name}.{fmt}"
            staged.append((folder / f".{name}.{fmt}.tmp", target))
            try:
                if fmt == "csv":
                    _csv_ready(df, name).to_csv(staged[-1][0], index=False, encoding="utf-8")
                else:
                    _parquet_ready(df).to_parquet(staged[-1][0], index=False)
            except OSError as exc:
                raise UserError(f"{target}: cannot write the table ({exc.strerror})") from None
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):  # a read-only folder refuses even this
                tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        try:
            os.replace(tmp, target)
            for other in FORMATS:
                stale = target.with_suffix(f".{other}")
                if other != fmt and stale.exists():
                    stale.unlink()
        except OSError as exc:
            for left, _ in staged:
                left.unlink(missing_ok=True)
            raise UserError(f"{target}: cannot write the table ({exc.strerror})") from None
    return [target for _, target in staged]


def _as_mapping(
    tables: Mapping[str, pd.DataFrame | None] | History,
) -> dict[str, pd.DataFrame | None]:
    """The tables to write; typed tickets as their source gave them (`as_source`)."""
    if isinstance(tables, History):
        out = {name: tables.table(name) for name in TABLES}
    else:
        unknown = [n for n in tables if n not in TABLES]
        if unknown:
            raise ValueError(f"not contract tables: {unknown}; known: {list(TABLES)}")
        out = dict(tables)
    tickets = out.get("tickets")
    if tickets is not None:
        out["tickets"] = as_source(tickets)
    return out


def _csv_ready(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Dates as YYYY-MM-DD (they are midnights); timestamps keep their +00:00 offset. A date in
    another zone is written as its UTC day, the day the contract reads it as (a Berlin midnight
    is the day before): its local day made the CSV file say one day and the Parquet file another."""
    dates = [c.name for c in TABLES[name].columns if c.kind == "date" and c.name in df.columns]
    out = df.copy()
    for col in dates:
        s = out[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC")
        if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
            out[col] = s.dt.strftime("%Y-%m-%d").where(s.notna(), "")
    return out


def _parquet_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Parquet needs one type per column: mixed object columns (e.g. extra export fields) become
    text. A missing value stays missing: a NaN (a field some records lack) was written as 'nan'."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object and pd.api.types.infer_dtype(out[col], skipna=True) not in (
            "string",
            "empty",
        ):
            out[col] = out[col].map(_as_text)
    return out


def _as_text(v: object) -> str | None:
    if v is None or isinstance(v, str):
        return v
    if v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return None
    return str(v)


# --- databases ----------------------------------------------------------------------------------


def _engine(url: str):  # type: ignore[no-untyped-def]
    """An engine for a SQLAlchemy URL; a SQLite file must already exist when reading."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
        return create_engine(parsed), parsed
    except NoSuchModuleError:  # before ArgumentError: it is one
        raise _refused("unknown_dialect", source=describe(url)) from None
    except (ArgumentError, ValueError) as exc:
        raise _refused("bad_url", source=describe(url), reason=_first_line(exc)) from None
    except ImportError as exc:
        raise _refused("no_driver", source=describe(url), module=str(exc.name)) from None


def _read_database(url: str) -> dict[str, pd.DataFrame | None]:
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    engine, parsed = _engine(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        db = Path(parsed.database)
        if not db.is_file():
            # SQLite would silently create an empty database here.
            raise _refused("no_db_file", source=describe(url), path=str(db))
    try:
        with engine.connect() as conn:
            _lenient_times(conn)
            present = _relations(inspect(conn))
            _near_miss_tables(url, present)
            return {name: _read_sql(name, conn) if name in present else None for name in TABLES}
    except SQLAlchemyError as exc:
        reason = _first_line(getattr(exc, "orig", None) or exc)
        raise _refused("cannot_read_db", source=describe(url), reason=reason) from None
    finally:
        engine.dispose()


def _lenient_times(conn) -> None:  # type: ignore[no-untyped-def]
    """On psycopg (and psycopg2), a DATE or timestamp Python cannot hold ('infinity', a warehouse's open end,
    or a year past 9999) comes as its text, for the contract to name its table, column and
    row: the driver's error stopped the whole read naming none of them."""
    driver = getattr(conn.connection, "driver_connection", None)
    if driver is None:
        return
    package = type(driver).__module__.split(".")[0]
    if package == "psycopg2":
        _lenient_times_psycopg2(driver)
        return
    if package != "psycopg":
        return
    import psycopg
    from psycopg.types import datetime as pgtime

    def lenient(base: type) -> type:
        class Lenient(base):  # type: ignore[valid-type, misc]
            def load(self, data: Any) -> Any:
                try:
                    return super().load(data)
                except psycopg.DataError:
                    return bytes(data).decode()

        return Lenient

    for name, base in (
        ("date", pgtime.DateLoader),
        ("timestamp", pgtime.TimestampLoader),
        ("timestamptz", pgtime.TimestamptzLoader),
    ):
        driver.adapters.register_loader(name, lenient(base))


def _lenient_times_psycopg2(driver: Any) -> None:
    """`_lenient_times` on psycopg2, whose casters gave 'infinity' as 9999-12-31 (a day nobody
    wrote, told as after contract.max_date) and stopped the read at a year past 9999 with
    Python's ValueError: both now come as their text, named by the contract."""
    from psycopg2 import extensions

    def lenient(base: Any) -> Any:
        def cast(value: str | None, cursor: Any) -> Any:
            if value is None or value.strip().lower() in ("infinity", "-infinity"):
                return value
            try:
                return base(value, cursor)
            except ValueError:
                return value

        return cast

    for base in (extensions.DATE, extensions.PYDATETIME, extensions.PYDATETIMETZ):
        kind = extensions.new_type(base.values, f"LENIENT_{base.name}", lenient(base))
        extensions.register_type(kind, driver)


def _relations(inspector) -> set[str]:  # type: ignore[no-untyped-def]
    """The names a source's tables may have: tables, and views over a warehouse's own tables
    (the usual way to map a database onto the contract without copying it)."""
    names = set(inspector.get_table_names()) | set(inspector.get_view_names())
    with contextlib.suppress(NotImplementedError):  # a dialect without materialized views
        names |= set(inspector.get_materialized_view_names())
    return names


def _read_sql(name: str, conn) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """A table as the driver gives it; the contract parses and checks each value. Typed by the
    columns' declared types, pandas made every value it could not hold NaT without a word: a
    SQLite DATETIME's text with another offset than the first value's, a PostgreSQL DATE or
    timestamptz of 9999-12-31 (a warehouse's 'never'), so a required date was told as missing
    and an optional time silently lost, where the contract tells each as out of range."""
    from sqlalchemy import select, table, text

    df = pd.read_sql_query(select(text("*")).select_from(table(name)), conn)
    for col in df.columns[(df.dtypes == "object").to_numpy()]:
        first = df[col].first_valid_index()
        if first is None or type(df[col].at[first]) is not dt.date:
            continue
        if pd.api.types.infer_dtype(df[col], skipna=True) == "date":  # a DATE column
            with contextlib.suppress(
                ValueError, OverflowError
            ):  # beyond 2261: the contract says so
                df[col] = pd.to_datetime(df[col])  # in one go, not value by value in the contract
    return df


def _near_miss_tables(url: str, present: set[str]) -> None:
    """A table meant as a contract table but named in other case (`Tickets`, as a quoted name in
    PostgreSQL or a tool's export keeps it): refused with how to name it, not read as absent."""
    for name in TABLES:
        if name in present:
            continue
        for other in sorted(present):
            if other.lower() == name:
                raise _refused("lower_case_table", source=describe(url), found=other, name=name)


def write_database(tables: Mapping[str, pd.DataFrame | None] | History, url: str) -> list[str]:
    """Write each given table into the database at `url`, replacing a table of the same name
    (typed tickets as their source gave them, as `write_tables` writes them)."""
    from sqlalchemy.exc import SQLAlchemyError

    engine, _ = _engine(url)
    written = []
    try:
        with engine.begin() as conn:
            for name, df in _as_mapping(tables).items():
                if df is None:
                    continue
                _parquet_ready(df).to_sql(name, conn, index=False, if_exists="replace")
                written.append(name)
    except SQLAlchemyError as exc:
        raise UserError(
            f"{describe(url)}: cannot write to the database ({_first_line(getattr(exc, 'orig', None) or exc)})"
        ) from None
    finally:
        engine.dispose()
    return written


def _refused(key: str, **values: Any) -> UserError:
    """A source that cannot be read, told from the catalog (`features.contract_text`) so that
    `escrisk validate --lang de` says it in German."""
    return UserError(detail(key, "en", values), said=(key, values))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
