"""Streaming readers: records and chunks come out one at a time, so input size does not bound memory.

JSON lines are read line by line; a large JSON document is walked with ijson; CSV is read in
chunks and Parquet in row batches. `on_bytes` receives how many bytes were consumed, for a
progress bar at the edge.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from features.contract_text import Phrase
from features.errors import UserError, refusal
from features.sources import (
    blank_record,
    csv_delimiter,
    nul_and_blank_line,
    open_quote,
    row_numbers,
    sep_line,
    utf16_text,
)

OnBytes = Callable[[int], None] | None
# Keys under which APIs wrap their lists of records (Zendesk, Jira, generic exports).
WRAPPERS = (
    "tickets",
    "results",
    "issues",
    "organizations",
    "ticket_metrics",
    "ticket_audits",
    "audits",
    "ticket_events",
    "records",
    "data",
    "events",
    "values",
)
CHUNK_ROWS = 50_000


class _Counting(io.RawIOBase):
    """A binary reader that reports bytes read, for progress while ijson pulls from it."""

    def __init__(self, raw: BinaryIO, on_bytes: OnBytes):
        self.raw = raw
        self.on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        if self.on_bytes and data:
            self.on_bytes(len(data))
        return data

    def readinto(self, b) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def _nonempty(path: Path, export: Phrase) -> None:
    if not path.is_file():
        raise refusal("file_not_found", path=str(path), export=export)
    if path.stat().st_size == 0:
        raise refusal("empty_export", path=str(path), export=export)


# files by their first bytes, whatever their name says: the catalog key saying what they are
# and what to do
_PACKED = ((b"\x1f\x8b", "gzip_file"), (b"PK\x03\x04", "zip_file"), (b"PAR1", "parquet_named"))


def _packed(path: Path, export: Phrase, parquet_ok: bool = False) -> None:
    """A compressed, zipped or Excel file is refused by what it is: read as text it stopped
    the import with an internal error (gzip) or named its header 'PK' (an .xlsx)."""
    with path.open("rb") as f:
        head = f.read(4)
    for magic, what in _PACKED:
        if head.startswith(magic) and not (parquet_ok and magic == b"PAR1"):
            raise refusal(what, path=str(path), export=export)


def _first_char(path: Path) -> bytes:
    with path.open("rb") as f:
        while True:
            chunk = f.read(4096)
            if not chunk:
                return b""
            stripped = chunk.lstrip().lstrip(b"\xef\xbb\xbf").lstrip()
            if stripped:
                return stripped[:1]


def _unwrap(obj: Any) -> list[dict] | None:
    """The records of an API page ({"audits": [...], "next_page": ...}); None for a record, even
    one holding a list under such a key (a Zendesk audit's "events"): records have an id."""
    if isinstance(obj, dict) and "id" not in obj:
        for key in WRAPPERS:
            v = obj.get(key)
            if isinstance(v, list) and (not v or isinstance(v[0], dict)):
                return v
    return None


def iter_json_records(
    path: Path, export: Phrase, on_bytes: OnBytes = None
) -> Iterator[tuple[int, dict]]:
    """(1-based line or record number, record) for JSON lines, a JSON array, or an API page document.

    JSON lines whose lines are API pages ({"tickets": [...]}) yield the pages' records.
    """
    _nonempty(path, export)
    _packed(path, export)
    with path.open("rb") as f:
        if f.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):  # Windows PowerShell's default
            raise refusal("utf16_json", path=str(path))
    head = _first_char(path)
    if head == b"":
        raise refusal("empty_export", path=str(path), export=export)
    if head == b"[":
        yield from _items(path, "item", on_bytes)
        return
    if head != b"{":
        raise refusal("not_json", path=str(path), head=repr(head), export=export)
    if not _json_lines(path):
        key = _wrapper_key(path)
        if key is None:
            yield 1, _whole(path, export)
            return
        yield from _items(path, f"{key}.item", on_bytes)
        return
    n = 0
    with path.open("rb") as f:
        for lineno, line in enumerate(f, start=1):
            if on_bytes:
                on_bytes(len(line))
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                _not_utf8(path)
                raise refusal(
                    "json_line_invalid", path=str(path), line=lineno, reason=str(exc), export=export
                ) from None
            if not isinstance(obj, dict):
                raise refusal(
                    "json_line_not_object",
                    path=str(path),
                    line=lineno,
                    type=type(obj).__name__,
                    export=export,
                )
            page = _unwrap(obj)
            if page is None:
                yield lineno, obj
            else:
                for rec in page:
                    n += 1
                    yield lineno, rec


def _json_lines(path: Path) -> bool:
    """JSON lines (its first line is a whole JSON value) rather than one JSON document. A file
    whose one line is an API page ({"tickets": [...]} saved minified) is a document: its records
    are counted, not every one called line 1."""
    with path.open("rb") as f:
        first_line = f.readline()
        more = any(line.strip() for line in f)
    try:
        first = json.loads(first_line)
    except ValueError:
        return False
    return more or _unwrap(first) is None


def place(path: Path, json_records: bool = False) -> tuple[str, int]:
    """How a user finds record n (as these readers number it) in the file: the word, and what to
    add to n. A CSV's header is line 1, as a spreadsheet shows it, so data row n is line n+1;
    JSON lines count lines (`json_records`: read by `iter_json_records`), a JSON document its
    records, Parquet its rows."""
    if json_records:
        # a file not there is refused by its reader (`_nonempty`), which says what it expected
        lines = path.is_file() and _first_char(path) == b"{" and _json_lines(path)
        return ("line", 0) if lines else ("record", 0)
    if path.suffix.lower() in (".parquet", ".pq"):
        return "row", 0
    return "line", 1


def _open_json(path: Path) -> BinaryIO:
    """The file for ijson, after a UTF-8 byte-order mark (Windows tools such as PowerShell's
    Out-File write one): ijson took it for an invalid character, or no API page at all."""
    f = path.open("rb")
    if f.read(3) != codecs.BOM_UTF8:
        f.seek(0)
    return f


def _wrapper_key(path: Path) -> str | None:
    import ijson

    with _open_json(path) as f:
        try:
            for prefix, event, value in ijson.parse(f):
                if prefix == "" and event == "map_key" and value in WRAPPERS:
                    return str(value)
        except ijson.JSONError:
            return None
    return None


def _not_utf8(path: Path) -> None:
    """A refusal naming the first byte that is not UTF-8, if any: JSON in a Windows code page
    (an ö as 0xf6) stopped the reader with a parser's message in bytes ("lexical error: invalid
    bytes in UTF8 string"), not with what to do."""
    bad = _bad_byte(path, "utf-8")
    if bad is not None:
        byte, at = bad
        raise refusal("json_not_utf8", path=str(path), byte=f"{byte:#04x}", offset=at)


def _reason(exc: Exception) -> str:
    """A parser's message on one line, as text (ijson's C backend gives bytes with newlines)."""
    said = exc.args[0] if exc.args else exc
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
    return " ".join(text.split())


def _whole(path: Path, export: Phrase) -> dict:
    try:
        obj = json.loads(path.read_bytes())
    except ValueError as exc:
        _not_utf8(path)
        raise refusal("json_invalid", path=str(path), reason=_reason(exc), export=export) from None
    return obj


def _items(path: Path, prefix: str, on_bytes: OnBytes) -> Iterator[tuple[int, dict]]:
    import ijson

    with _open_json(path) as raw:
        f = io.BufferedReader(_Counting(raw, on_bytes), buffer_size=1 << 16)
        n = 0
        try:
            for obj in ijson.items(f, prefix, use_float=True):
                n += 1
                if not isinstance(obj, dict):
                    raise refusal(
                        "json_record_not_object", path=str(path), n=n, type=type(obj).__name__
                    )
                yield n, obj
        except ijson.JSONError as exc:
            _not_utf8(path)
            raise refusal("json_invalid_after", path=str(path), n=n, reason=_reason(exc)) from None


def iter_frames(
    path: Path,
    export: Phrase,
    on_bytes: OnBytes = None,
    chunk_rows: int = CHUNK_ROWS,
    encoding: str = "utf-8",
) -> Iterator[pd.DataFrame]:
    """Chunks of a CSV or Parquet export, every value as read (strings for CSV), index = 1-based row."""
    _nonempty(path, export)
    suffix = path.suffix.lower()
    _packed(path, export, parquet_ok=suffix in (".parquet", ".pq"))
    if suffix not in (".parquet", ".pq") and _first_char(path) in (b"{", b"["):
        raise refusal("json_not_csv", path=str(path), export=export)
    start = 1
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types for a corrupt file
            raise refusal(
                "parquet_unreadable", path=str(path), reason=str(exc), export=export
            ) from None
        total = max(pf.metadata.num_rows, 1)
        size = path.stat().st_size
        for batch in pf.iter_batches(batch_size=chunk_rows):
            df = batch.to_pandas()
            df.index = pd.RangeIndex(start, start + len(df))
            start += len(df)
            if on_bytes:
                on_bytes(int(size * len(df) / total))
            yield df
        return
    with path.open("rb") as f:
        # a UTF-8 byte-order mark says UTF-8, whatever csv_encoding names for the other files
        head = f.read(3)
        bom = head == codecs.BOM_UTF8
        if utf16_text(path):  # Excel's "Unicode text", or UTF-16 without a byte-order mark
            raise refusal("utf16_csv", path=str(path))
        f.seek(0)
        utf8 = bom or codecs.lookup(encoding).name == "utf-8" or _utf8_text(path)
        hint = sep_line(path)  # Excel's `sep=;` line: not the header (Excel hides it)
        sep = hint or csv_delimiter(path)
        text, skip = "utf-8-sig" if utf8 else encoding, 1 if hint else 0
        long = _long_record(path, text, sep, skip, first_only=True)
        if long is not None:
            raise long
        nul, blank = nul_and_blank_line(path)
        # a blank line is a row of the file (pandas skips it): later rows are named by theirs
        lines = row_numbers(path, sep, skip, text) if blank else None
        try:
            # only an empty cell is missing: "NA" is a region (North America), "None" a word
            reader = pd.read_csv(
                f, dtype=str, chunksize=chunk_rows, skipinitialspace=False, encoding=text,
                keep_default_na=False, na_values=[""], sep=sep,
                # False: never row labels from a long first record (refused above); the Python
                # parser then drops a later long record's extra values (a warning), so None there
                index_col=None if nul else False,
                skiprows=skip, engine="python" if nul else "c",
            )  # fmt: skip
            last = 0
            for df in reader:
                df.index = pd.RangeIndex(start, start + len(df))
                if lines is not None and start + len(df) - 1 <= len(lines):
                    df.index = pd.Index(lines[df.index.to_numpy() - 1])
                start += len(df)
                if on_bytes:
                    pos = f.tell()
                    on_bytes(pos - last)
                    last = pos
                yield df
        except pd.errors.EmptyDataError:
            raise refusal("empty_export", path=str(path), export=export) from None
        except UnicodeDecodeError as exc:
            used = "utf-8" if utf8 else encoding
            byte, offset = _bad_byte(path, used) or (exc.object[exc.start], exc.start)
            line, column, value = _bad_cell(path, text, sep, skip) or (None, None, "")
            raise refusal(
                "csv_not_encoding" if line is None else "csv_not_encoding_at",
                path=str(path),
                encoding=used,
                byte=f"{byte:#04x}",
                offset=offset,
                line=line,
                column=column,
                value=value,
            ) from None
        except (pd.errors.ParserError, csv.Error) as exc:
            long = _long_record(path, text, sep, skip)  # said as for the first record
            if long is not None:
                raise long from None
            found = open_quote(path, text, sep, skip)
            if found is not None:
                raise found from None
            raise refusal(
                "csv_unreadable", path=str(path), reason=_reason(exc), export=export
            ) from None


def _long_record(
    path: Path, encoding: str, sep: str, skip: int = 0, first_only: bool = False
) -> UserError | None:
    """The refusal of the first record with more fields than the header (a separator in a value
    not quoted), or of the first record only: from such a one pandas took the row labels of the
    whole file, so every value of every row moved one column over, the ticket id becoming the
    subject. A later one stops the parser, whose message counts lines in English."""
    with path.open(encoding=encoding, errors="replace", newline="") as f:
        for _ in range(skip):
            f.readline()
        rows = csv.reader(f, delimiter=sep)
        header = next(rows, [])
        # the record's row as a spreadsheet shows it (as the report names rows): the header is
        # row 1 (an Excel sep= line above it is hidden), a value's line breaks start none
        for line, record in enumerate(rows, 2):
            if not any(v.strip() for v in record):
                continue  # a blank line
            if len(record) > len(header):
                return refusal(
                    "csv_extra_fields",
                    path=str(path),
                    line=line,
                    n=len(record),
                    header=len(header),
                    sep=sep,
                )
            if first_only:
                break
    return None


def _bad_byte(path: Path, encoding: str) -> tuple[int, int] | None:
    """The first byte `encoding` cannot decode and its offset in the file: the parser's error
    counts from the start of the block it was decoding, so a byte 3 MB in was said at 254442."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            pending = len(decoder.getstate()[0])  # the end of the last chunk, not yet decoded
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return exc.object[exc.start], offset + exc.start - pending
            offset += len(chunk)
    return None


def _bad_cell(path: Path, encoding: str, sep: str, skip: int) -> tuple[int, str, str] | None:
    """The line (as the other errors count them: the header is line 1, a line break in a quoted
    value starts none), the column and the value (near the first byte `encoding` cannot
    decode, shown as \ufffd) of that byte: an offset alone sent the user to a hex editor."""
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as f:
        for _ in range(skip):
            f.readline()
        records = csv.reader(f, delimiter=sep)
        header: list[str] | None = None
        line = 0
        for record in records:
            if header is None and blank_record(record):
                continue  # blank lines before the header are skipped, as pandas does
            line += 1
            for i, value in enumerate(record):
                at = next((k for k, c in enumerate(value) if "\udc80" <= c <= "\udcff"), None)
                if at is None:
                    continue
                near = value[max(0, at - 30) : at + 30]
                shown = "".join("\ufffd" if "\udc80" <= c <= "\udcff" else c for c in near)
                if header is None:  # a header cell is its column's name
                    return line, repr(shown), shown
                column = repr(header[i]) if i < len(header) else f"#{i + 1}"
                return line, column, shown
            if header is None:
                header = record
    return None


def _utf8_text(path: Path) -> bool:
    """Whether a file's first non-ASCII characters are UTF-8: a UTF-8 export without a
    byte-order mark (HubSpot's) read in importers.csv_encoding cp1252 (set for the CRM's) had
    every umlaut turned into two characters (Ã¶), silently. A Western code page's text is
    almost never valid UTF-8, so the first chunk that holds such bytes decides."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        while chunk := f.read(1 << 16):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
            if max(chunk) >= 0x80:
                try:  # the rest of a character the chunk's end cut (not final: the 4 bytes may
                    decoder.decode(f.read(4))  # end inside the next one, which is no error)
                except UnicodeDecodeError:
                    return False
                return True
    return False


def read_frame(
    path: Path, export: Phrase, on_bytes: OnBytes = None, encoding: str = "utf-8"
) -> pd.DataFrame:
    """A whole (small) tabular export, e.g. accounts or a user mapping."""
    chunks = list(iter_frames(path, export, on_bytes, encoding=encoding))
    if not chunks:
        return pd.DataFrame()
    return pd.concat(chunks) if len(chunks) > 1 else chunks[0]


def assign_inputs(
    inputs: Sequence[str],
    roles: dict[str, tuple[str, ...]],
    required: Sequence[str],
    kind: str,
    describe: dict[str, Phrase],
) -> dict[str, list[Path]]:
    """Which file is which part of the export: `ROLE=PATH`, or a role keyword in the file name.

    Keywords are tried in the order given, so a longer one ("ticket_metrics") wins over a shorter.
    """
    out: dict[str, list[Path]] = {}
    for item in inputs:
        role, sep, rest = item.partition("=")
        if sep and role in roles:
            files = _files(Path(rest))
            # a folder of this part's files (Amplitude's hours), not the whole export's
            if any(_role_of(f.name, roles) not in (None, role) for f in files if f != Path(rest)):
                raise refusal("input_folder", path=rest, kind=kind, parts=", ".join(roles))
            out.setdefault(role, []).extend(files)
            continue
        if sep and not Path(item).exists() and "/" not in role:
            raise refusal("unknown_part", item=item, role=role, kind=kind, parts=", ".join(roles))
        path = Path(item)
        if path.is_dir():  # `import zendesk export/`: "cannot tell which part" said nothing
            raise refusal("input_folder", path=item, kind=kind, parts=", ".join(roles))
        hit = _role_of(path.name, roles)
        if hit is None:
            raise refusal("which_part", item=item, kind=kind, parts=", ".join(roles))
        out.setdefault(hit, []).extend(_files(path))
    for r in required:
        if r not in out:
            raise refusal("needs_part", kind=kind, part=r, describe=describe[r])
    # a folder was "cannot tell which part", or an "internal error" where an importer opened it
    for paths in out.values():
        for p in paths:
            if p.is_dir():
                raise refusal("input_folder", path=str(p), kind=kind, parts=", ".join(roles))

    return out


def _role_of(name: str, roles: dict[str, tuple[str, ...]]) -> str | None:
    """The part a file's name says it is (the first role with a keyword in it), if any."""
    lower = name.lower()
    return next((r for r, keywords in roles.items() if any(k in lower for k in keywords)), None)


def _files(path: Path) -> list[Path]:
    """A folder's files in name order (an export unpacked into one: Amplitude's hourly files,
    pages saved one per file), else the path; a folder was read as a file, an internal error."""
    if not path.is_dir():
        return [path]
    found = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    if not found:
        # Amplitude's zip unpacks to a folder per project id: name it, as subfolders are not read
        inner = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
        if inner:
            raise refusal("only_subfolders", path=str(path), inner=str(path / inner[0]))
        raise refusal("empty_folder", path=str(path))
    return found
