"""The daily risk list: priority, deltas, level changes, reasons, ranking and filters. Pure.

The CSV's columns are `COLUMNS`, in that order (the issue's first, then rank, priority, tier and
ARR, which tell why a row stands where it does); the list is ranked by `priority` (risk x ARR, the
formula in params.yaml `daily.priority`), ties by escalation risk, then account id.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.errors import UserError
from features.texts import composed
from serving.daily_text import t
from serving.params import DailyPriorityParams
from serving.reasons import Reasons, per_row

COLUMNS = (
    "account_id",
    "account_name",
    "csm_owner",
    "escalation_risk",
    "churn_risk",
    "delta_prev",
    "delta_7d",
    "why_changed",
    "level",
    "level_changed",
    "reasons",
    "next_action",
    "due_at",
    # after the columns: why the list is in its order (priority from risk and ARR)
    "rank",
    "priority",
    "tier",
    "arr",
)


def priority(
    esc: np.ndarray, churn: np.ndarray, arr: np.ndarray, p: DailyPriorityParams
) -> np.ndarray:
    """(w_e * escalation + w_c * churn) * (max(arr, floor) / scale) ** exponent."""
    risk = p.escalation_weight * np.asarray(esc, float) + p.churn_weight * np.asarray(churn, float)
    size = np.maximum(np.nan_to_num(np.asarray(arr, float), nan=0.0), p.arr_floor) / p.arr_scale
    return risk * size**p.arr_exponent


def level_changed(previous: str | None, level: str, levels: Sequence[str]) -> str:
    """ "up" or "down" against the previous run's level; "new" for an account first seen above
    the lowest level; "" otherwise."""
    if previous is None or previous not in levels:
        return "new" if level != levels[0] else ""
    a, b = levels.index(previous), levels.index(level)
    return "up" if b > a else "down" if b < a else ""


def reasons_cell(reasons: Sequence[Mapping[str, Any]], k: int) -> str:
    """The list's reasons column: the texts of the k strongest reasons over both heads, one per
    feature, largest contribution first, joined by "; " (the CSM page splits them there)."""
    best: dict[str, Mapping[str, Any]] = {}
    for r in reasons:
        f = str(r.get("feature"))
        if f not in best or r.get("contribution", 0) > best[f].get("contribution", 0):
            best[f] = r
    ordered = sorted(best.values(), key=lambda r: -float(r.get("contribution", 0)))
    return "; ".join(str(r.get("text", "")) for r in ordered[:k])


def reasons_cells(reasons: Reasons, k: int) -> list[str]:
    """`reasons_cell` of every row, from the arrays: a feature met again (in the other head)
    gives its slot its contribution if larger and is dropped; the rest are ordered by
    contribution, ties in slot order, as `reasons_cell` orders them."""
    valid = reasons.valid.copy()
    size = np.where(valid, reasons.contribution, -np.inf)
    feature = reasons.feature
    m = valid.shape[1]
    for b in range(1, m):
        for a in range(b):
            again = valid[:, a] & valid[:, b] & (feature[:, a] == feature[:, b])
            size[again, a] = np.maximum(size[again, a], size[again, b])
            valid[again, b] = False
    order = np.argsort(np.where(valid, -size, np.inf), axis=1, kind="stable")[:, :k]
    shown = np.take_along_axis(valid, order, axis=1)  # a prefix of each row
    texts = np.take_along_axis(reasons.text, order, axis=1)[shown].tolist()
    return ["; ".join(row) for row in per_row(texts, shown)]


def deltas(today: pd.Series, other: pd.Series | None) -> pd.Series:
    """today - other per account id (NaN where the other run did not score the account)."""
    if other is None:
        return pd.Series(np.nan, index=today.index)
    return today - other.reindex(today.index)


def rank(frame: pd.DataFrame) -> pd.DataFrame:
    """Highest priority first; ties by escalation risk, then account id (deterministic)."""
    out = frame.sort_values(
        ["priority", "escalation_risk", "account_id"], ascending=[False, False, True], kind="stable"
    )
    return out.reset_index(drop=True)


def owner_key(name: str) -> str:
    """An owner as the filters compare it: case-folded and in Unicode's composed form, so that
    "Jürgen Müller" typed matches an export that wrote the ü as u + diaeresis (as macOS does)."""
    return composed(name).casefold()


def alphabetical(name: str) -> tuple[str, str]:
    """A sort key that files names as a German or English reader looks them up: an umlaut or an
    accent with its base letter and case ignored ("Ärne" before "Clara", "Özlem" after "Omar"),
    where code points put every Ä, Ö and Ü after Z; exact text breaks ties."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return bare.casefold(), name


def filtered(
    frame: pd.DataFrame,
    levels: Sequence[str],
    owner: str | None = None,
    min_level: str | None = None,
    top: int | None = None,
    tier: str | None = None,
    language: str = "en",
) -> pd.DataFrame:
    """Rows of a ranked list kept by the filters (owner and tier case-insensitive), ranking
    unchanged; a bad filter is refused in `language`."""
    keep = pd.Series(True, index=frame.index)
    if owner is not None:
        keep &= frame["csm_owner"].fillna("").astype(str).map(owner_key) == owner_key(owner)
    if tier is not None and "tier" in frame:
        keep &= frame["tier"].astype(str).map(owner_key) == owner_key(tier)
    if min_level is not None:
        if min_level not in levels:
            raise UserError(t("unknown_level", language, given=min_level, levels=", ".join(levels)))
        order = {lv: i for i, lv in enumerate(levels)}
        keep &= frame["level"].map(order) >= order[min_level]
    if top is not None and top < 0:
        raise UserError(t("negative_top", language, top=top))
    out = frame[keep]
    return out.head(top) if top is not None else out


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Exactly the CSV's columns; risks and deltas rounded to 4 places, due_at ISO 8601 UTC."""
    out = frame.loc[:, list(COLUMNS)].copy()
    for c in ("escalation_risk", "churn_risk", "delta_prev", "delta_7d"):
        out[c] = out[c].astype(float).round(4)
    out["priority"] = out["priority"].astype(float).round(6)
    due = pd.to_datetime(out["due_at"], utc=True)
    out["due_at"] = due.dt.strftime("%Y-%m-%dT%H:%M:%SZ").where(due.notna(), "")
    return out


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run as a formula


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """The list as a CSV that spreadsheets open safely: UTF-8 with a byte-order mark (so Excel
    shows umlauts), and text that a spreadsheet would take for a formula (an account named
    "=HYPERLINK(...)") prefixed with an apostrophe."""
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object:
            text = out[c]
            if _none_risky(text.to_numpy()):
                continue
            risky = np.fromiter(
                (isinstance(v, str) and v.startswith(FORMULA_START) for v in text.to_numpy()),
                bool,
                len(text),
            )
            if risky.any():
                out[c] = text.where(~risky, "'" + text.astype(str))
    made = csv_text(out)
    if made is None:
        out.to_csv(path, index=False, encoding="utf-8-sig")
        return
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        f.write(made)


def csv_text(frame: pd.DataFrame) -> str | None:
    """The text `frame.to_csv(index=False)` writes, made column by column (pandas formats and
    quotes it cell by cell through the csv module: a fifth of a second per 30,000 rows of the
    list); None for a frame of another make than the list's (a column neither float, integer nor
    text, or a single column), which pandas writes itself. Cells as pandas writes them: floats
    as numpy's str, a missing value empty, a cell quoted where the csv module quotes it."""
    if frame.shape[1] < 2:  # a lone empty cell is quoted: csv's rule for one-field rows
        return None
    cells: list[list[str]] = []
    for name in frame.columns:
        col = frame[name]
        kind = col.dtype.kind if isinstance(col.dtype, np.dtype) else ""
        if kind == "f":
            floats = col.to_numpy()
            shown = floats.astype(str)  # as pandas' get_values_for_csv
            shown[np.isnan(floats)] = ""
            cells.append(shown.tolist())
        elif kind in ("i", "u"):
            cells.append(col.to_numpy().astype(str).tolist())
        elif kind == "O":
            texts: list[str] = col.tolist()
            for i in np.flatnonzero(col.isna().to_numpy()).tolist():
                texts[i] = ""
            if not set(map(type, texts)) <= {str}:
                return None
            cells.append(_csv_quoted(texts))
        else:
            return None
    header = _csv_quoted([str(c) for c in frame.columns])
    return (
        os.linesep.join([",".join(header), *map(",".join, zip(*cells, strict=True))]) + os.linesep
    )


_CSV_SPECIAL = (",", '"', "\n", "\r")  # a cell holding none of these is never quoted


def _csv_quoted(cells: list[str]) -> list[str]:
    """Text cells as the csv module writes them (pandas' dialect: comma, double quotes, minimal
    quoting, the system's line end): a column without a special character in one search; a
    cell with one asks the csv module (which quotes a carriage return in some versions only)."""
    joined = "".join(cells)
    if not any(ch in joined for ch in _CSV_SPECIAL):
        return cells
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=os.linesep)
    tail = len("," + os.linesep)

    def quoted(cell: str) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([cell, ""])
        return buffer.getvalue()[:-tail]

    return [quoted(c) if any(ch in c for ch in _CSV_SPECIAL) else c for c in cells]


_RISKY_CELL = re.compile("\n[" + re.escape("".join(FORMULA_START)) + "]")


def _none_risky(values: np.ndarray) -> bool:
    """True when no cell of a text column starts like a formula, found in one C-level search
    over the column joined with line breaks (a cell's start follows one); False means "look
    cell by cell" (a line break inside a cell, or a cell that is not text)."""
    try:
        joined = "\n" + "\n".join(values.tolist())
    except TypeError:
        return False
    return _RISKY_CELL.search(joined) is None


def filter_tag(owner: str | None, min_level: str | None, top: int | None) -> str:
    """A file-name part naming the filters of a run ("" without filters)."""

    def slug(text: str) -> str:  # letters of any script stay (jürgen-müller, not j-rg-m-ller)
        return re.sub(r"[^\w]+|_+", "-", unicodedata.normalize("NFC", text)).strip("-") or "x"

    parts = []
    if owner is not None:
        parts.append(f"owner-{slug(owner).lower()}")
    if min_level is not None:
        parts.append(f"min-{slug(min_level)}")
    if top is not None:
        parts.append(f"top-{top}")
    return "-".join(parts)
