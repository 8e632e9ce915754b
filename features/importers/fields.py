"""Finding an export's fields whatever their case: column names and nested JSON keys.

A required field that is missing is an error naming the field and the export expected, so the
user knows whether they exported the wrong object or the wrong columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from features.contract_text import Phrase
from features.errors import Place, UserError, refusal


def _norm(name: str) -> str:
    return str(name).strip().lower()


class Columns:
    """Case-insensitive lookup of one tabular export's columns."""

    def __init__(self, columns: Iterable[str], export: Phrase, source: str):
        self.columns = [str(c) for c in columns]
        self.export = export
        self.source = source
        self._by_norm: dict[str, str] = {}
        for c in self.columns:
            self._by_norm.setdefault(_norm(c), c)
        self.used: set[str] = set()

    def find(self, *candidates: str) -> str | None:
        for cand in candidates:
            hit = self._by_norm.get(_norm(cand))
            if hit is not None:
                self.used.add(hit)
                return hit
        return None

    def require(self, *candidates: str, field: str = "") -> str:
        """The column of the first candidate found; `field`: the setting's name for it."""
        hit = self.find(*candidates)
        if hit is None:
            raise missing_field(
                candidates, self.export, self.source, found=self.columns, field=field
            )
        return hit

    def extras(self) -> list[str]:
        """Columns no mapping used: kept in the output so nothing the user exported is lost."""
        return [c for c in self.columns if c not in self.used]


# exports whose columns a setting names when the export heads them in another language (a German
# user's `Nummer`, `Schlüssel`): a missing field's error says where to name them
LABEL_SETTINGS = {
    "x_sn_incidents": "importers.servicenow.incident_fields",
    "x_jira_issues": "importers.jira.csv_columns",
    "x_hs_tickets": "importers.hubspot.ticket_fields",
    "x_sf_cases": "importers.salesforce.case_fields",
}


def missing_field(
    candidates: tuple[str, ...] | list[str],
    export: Phrase,
    source: str,
    found: list[str] | None = None,
    at: Place | None = None,
    field: str = "",
) -> UserError:
    names = ", ".join(repr(c) for c in candidates[1:])
    setting = LABEL_SETTINGS.get(export.key)
    listed = ", ".join((found or [])[:30]) + (" ..." if found and len(found) > 30 else "")
    return refusal(
        "missing_field",
        source=source,
        where=Phrase(f"at_{at.kind}", {"n": at.number}) if at is not None else "",
        field=candidates[0],
        also=Phrase("also_looked", {"names": names}) if len(candidates) > 1 else "",
        export=export,
        shown=Phrase("its_columns", {"columns": listed}) if found is not None else "",
        hint=Phrase("name_columns", {"setting": setting, "field": field})
        if setting and field and at is None
        else "",
    )


def get(record: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """A nested value by dotted path ("via.channel"), matching each key exactly first, then ignoring case."""
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return default
        if part in node:
            node = node[part]
            continue
        low = part.lower()
        for k, v in node.items():
            if isinstance(k, str) and k.lower() == low:
                node = v
                break
        else:
            return default
    return node


def has(record: Mapping[str, Any], path: str) -> bool:
    sentinel = object()
    return get(record, path, sentinel) is not sentinel


def first(record: Mapping[str, Any], *paths: str) -> Any:
    """The first non-null value among candidate paths."""
    for p in paths:
        v = get(record, p)
        if v is not None and v != "":
            return v
    return None


def require_keys(
    record: Mapping[str, Any],
    paths: Iterable[tuple[str, ...]],
    export: Phrase,
    source: str,
    at: Place | None,
) -> None:
    """Each group of candidate paths must have one present key (its value may be null); `at`:
    the record's place in `source`, a line of JSON lines, a record of a JSON document."""
    for cands in paths:
        if not any(has(record, p) for p in cands):
            raise missing_field(cands, export, source, found=sorted(map(str, record.keys())), at=at)


def scalar_extras(record: Mapping[str, Any], used: set[str], prefix: str) -> dict[str, Any]:
    """Top-level fields no mapping used, kept under a prefixed name so they cannot clash: scalars
    as they are, a list of scalars (tags, a multi-select) as its values joined by "; "."""
    out = {}
    for k, v in record.items():
        if k in used:
            continue
        kept = flat(v)
        if kept is not NESTED:
            out[f"{prefix}{k}"] = kept
    return out


NESTED = object()


def flat(value: Any) -> Any:
    """A scalar as it is, a list of scalars joined by "; " (None when empty), else NESTED."""
    if isinstance(value, dict):
        return NESTED
    if isinstance(value, list):
        if any(isinstance(x, (dict, list)) for x in value):
            return NESTED
        return "; ".join(str(x) for x in value) or None
    return value
