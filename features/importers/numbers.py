"""Numbers as exports write them: German (84.000,50), English (84,000.50), Swiss (84'000.50).

`84.000` is 84000 in German notation and 84.0 in English: a German export's ARR was read as 84.
Which one a file means is told by the other values of its column (`1.234.567`, `12,5`, `84.000,50`
are German; `99.5`, `1,234,567`, `84,000.50` English) or by `importers.number_format`. A value
that nothing decides is refused, never guessed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

# what a currency amount may carry before or after its number: "€ 84.000", "84.000,00 EUR"
_CURRENCY = r"(?:€|\$|£|EUR|USD|GBP|CHF|SFr\.|Fr\.)"
_AROUND = re.compile(rf"^(?:{_CURRENCY}\s*)?(.*?)(?:\s*{_CURRENCY})?$", re.IGNORECASE)
_SIGN = r"[+-]?"
_PLAIN = re.compile(rf"^{_SIGN}\d+(?:[eE][+-]?\d+)?$")
# groups of three split by a space (also no-break and thin) or an apostrophe: either notation
_SPACED = re.compile(rf"^{_SIGN}[1-9]\d{{0,2}}(?:[\s'’]\d{{3}})+(?:[.,]\d+)?$")
_ONE_DOT = re.compile(rf"^{_SIGN}[1-9]\d{{0,2}}\.\d{{3}}$")  # 84.000: 84000 or 84.0
_ONE_COMMA = re.compile(rf"^{_SIGN}[1-9]\d{{0,2}},\d{{3}}$")  # 84,000: 84000 or 84.0
_GERMAN = (
    re.compile(rf"^{_SIGN}[1-9]\d{{0,2}}(?:\.\d{{3}}){{2,}}$"),  # 1.234.567
    re.compile(rf"^{_SIGN}[1-9]\d{{0,2}}(?:\.\d{{3}})+,\d+$"),  # 84.000,50
    re.compile(rf"^{_SIGN}\d*,\d+$"),  # 12,5 (84,000 is taken above)
    re.compile(rf"^{_SIGN}\d+,\d+[eE][+-]?\d+$"),  # 1,5E+06 (German Excel)
)
_ENGLISH = (
    re.compile(rf"^{_SIGN}[1-9]\d{{0,2}}(?:,\d{{3}}){{2,}}$"),  # 1,234,567
    re.compile(rf"^{_SIGN}[1-9]\d{{0,2}}(?:,\d{{3}})+\.\d+$"),  # 84,000.50
    re.compile(rf"^{_SIGN}\d*\.\d+$"),  # 99.5 (84.000 is taken above)
    re.compile(rf"^{_SIGN}\d+\.\d+[eE][+-]?\d+$"),  # 1.5E+06 (Excel)
)
NOTATIONS = ("auto", "de", "en")


@dataclass(frozen=True)
class _Shape:
    """One written value: its notation ("de", "en", "either" when both read it alike, "dot" or
    "comma" for 84.000 / 84,000, "bad" for no number) and what German and English make of it."""

    kind: str
    de: float = math.nan
    en: float = math.nan


def _shape(value: object) -> _Shape:
    if isinstance(value, bool):
        return _Shape("bad")
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        return _Shape("either", v, v) if math.isfinite(v) else _Shape("bad")
    text = str(value).strip()
    core = _AROUND.match(text)
    text = core.group(1).strip() if core else text
    whole = re.fullmatch(r"(.*\d),[-–]{1,2}", text)  # 84.000,- (no cents), as German prices write
    if whole is not None:
        found = _shape(whole.group(1))
        german = found.de if found.kind in ("either", "dot", "de") else math.nan
        return _Shape("de", de=german) if math.isfinite(german) else _Shape("bad")
    if _PLAIN.match(text):
        return _Shape("either", float(text), float(text))
    if _SPACED.match(text):
        v = float(re.sub(r"[\s'’]", "", text).replace(",", "."))
        return _Shape("either", v, v)
    if _ONE_DOT.match(text):
        return _Shape("dot", _german(text), float(text))
    if _ONE_COMMA.match(text):
        return _Shape("comma", _german(text), _english(text))
    if any(p.match(text) for p in _GERMAN):
        return _Shape("de", de=_german(text))
    if any(p.match(text) for p in _ENGLISH):
        return _Shape("en", en=_english(text))
    return _Shape("bad")


def _german(text: str) -> float:
    return float(text.replace(".", "").replace(",", "."))


def _english(text: str) -> float:
    return float(text.replace(",", ""))


@dataclass(frozen=True)
class Refused:
    """Why a value was not read: a catalog key of `features.contract_text` and its values."""

    key: str
    values: dict[str, object]


@dataclass(frozen=True)
class Inferred:
    """Values like 84.000 a group read in the notation its other values show: for the report."""

    group: float
    notation: str
    example: object
    reading: str
    count: int


def read_numbers(
    values: pd.Series,
    groups: pd.Series | None,
    notation: str,
    whole: bool = False,
    money: bool = False,
) -> tuple[pd.Series, dict[int, Refused], list[Inferred]]:
    """The values as float64 (NaN: empty or refused), by position why each refused one was, and
    where "auto" read values like 84.000 by what the group's other values show.

    `groups` (e.g. the file each value came from) are decided apart: one file may be German,
    another English. `notation` "de"/"en" reads every value so; "auto" by what the group's
    other values show. `whole` (seats, counts): an 84.000 whose English reading has decimals
    (1.500 seats) can only be German, and 1,500 only English. `money` (ARR): nobody writes an
    amount with three decimals, so where nothing else decides, 84.000 and 84,000 are 84000.
    """
    refused: dict[int, Refused] = {}
    inferred: list[Inferred] = []
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64"), refused, inferred  # numbers (JSON, Parquet): no notation
    raw = values.to_numpy(dtype=object)
    out = np.full(len(raw), np.nan)
    at = np.flatnonzero([not _missing(v) for v in raw])
    given = raw[at]
    if any(isinstance(v, bool) for v in given):  # True == 1 to factorize; a checkbox is no number
        given = np.array([str(v) if isinstance(v, bool) else v for v in given], dtype=object)
    # each distinct value is read once per group: exports repeat theirs (0, 1, 2 reopens)
    codes, uniques = pd.factorize(given)
    shapes = [_shape(u) for u in uniques]
    files = np.zeros(len(at)) if groups is None else groups.to_numpy(float, na_value=-1)[at]
    file_codes, _ = pd.factorize(files)
    read = np.full(len(at), np.nan)
    for g in np.unique(file_codes):
        rows = np.flatnonzero(file_codes == g)
        used = np.unique(codes[rows])
        said = (
            _notation([(shapes[c], uniques[c]) for c in used], whole)
            if notation == "auto"
            else {notation: None}
        )
        table = np.full(len(uniques), np.nan)
        why: dict[int, Refused] = {}
        if money and notation == "auto" and not said:
            said = {"thousands": None}  # 84.000 / 84,000 of an amount: a thousands separator
        for c in map(int, used):
            table[c], reason = _read(shapes[c], said, notation, uniques[c])
            if reason is not None:
                why[c] = reason
        read[rows] = table[codes[rows]]
        told = [int(c) for c in used if shapes[c].kind in ("dot", "comma") and int(c) not in why]
        if notation == "auto" and told:
            (which,) = said
            count = int(np.isin(codes[rows], told).sum())
            c = told[0]
            example = Inferred(files[rows[0]], which, uniques[c], _shown(table[c]), count)
            inferred.append(example)
        for r in rows[np.isin(codes[rows], list(why))]:
            refused[int(at[r])] = why[int(codes[r])]
    out[at] = read
    return pd.Series(out, index=values.index), refused, inferred


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or _blank(v)


def _blank(v: object) -> bool:
    return isinstance(v, str) and not v.strip()


def _evidence(s: _Shape, whole: bool) -> str | None:
    """The notation a value shows: de/en, or None (it reads alike in both, or can be either)."""
    if s.kind in ("de", "en"):
        return s.kind
    if whole and s.kind in ("dot", "comma"):
        if not float(s.en).is_integer():
            return "de"
        if not float(s.de).is_integer():
            return "en"
    return None


def _notation(shapes: list[tuple[_Shape, object]], whole: bool) -> dict[str, object]:
    """Each notation a group's values show, with the first value showing it."""
    seen: dict[str, object] = {}
    for s, value in shapes:
        found = _evidence(s, whole)
        if found is not None:
            seen.setdefault(found, value)
    return seen


def _read(
    s: _Shape, said: Mapping[str, object], notation: str, raw: object
) -> tuple[float, Refused | None]:
    v = {"v": raw}
    if s.kind == "bad":
        return math.nan, Refused("number_unreadable", v)
    if s.kind == "either":
        return s.en, None
    if len(said) > 1:  # German and English in one column: its dots and commas mean nothing sure
        return math.nan, Refused("number_mixed", {**v, "de": said["de"], "en": said["en"]})
    if not said:
        return math.nan, Refused("number_ambiguous", {**v, "de": _shown(s.de), "en": _shown(s.en)})
    (which,) = said
    if which == "thousands":  # only 84.000 / 84,000 shapes get here: both read alike then
        return (s.de if s.kind == "dot" else s.en), None
    if s.kind in ("de", "en") and s.kind != which:  # only with a set notation
        return math.nan, Refused(f"number_not_{which}", v)
    return (s.de if which == "de" else s.en), None


def _shown(x: float) -> str:
    """A reading as plain digits (84000, not 8.4e+04)."""
    return f"{x:.15g}"
