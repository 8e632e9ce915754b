"""Errors that reach a user: they carry enough to find and fix the bad input."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from features.contract_text import detail as told_detail


class UserError(Exception):
    """A problem the user can fix (bad input, bad config, missing model); shown without a traceback.

    `said` (a key of `features.contract_text` and its values) lets a command that takes --lang
    tell it in that language; without it the message is told as it is."""

    def __init__(self, message: str, said: tuple[str, Mapping[str, Any]] | None = None):
        super().__init__(message)
        self.said = said

    def told(self, language: str) -> str:
        if self.said is None or language == "en":
            return str(self)
        return told_detail(self.said[0], language, self.said[1])


class CatalogRefusal(UserError):
    """A refusal from a module's catalog (`say`: key, language, values -> text): English as
    raised (a log, a script's match), told in the command's language where it is shown; a
    subclass names its catalog. Survives a pickle (a worker's error, a copy) as itself."""

    @staticmethod
    def say(key: str, language: str, **values: Any) -> str:
        raise NotImplementedError

    def __init__(self, key: str, **values: Any) -> None:
        self.key, self.values = key, values
        super().__init__(self.say(key, "en", **values))

    def told(self, language: str) -> str:
        return self.say(self.key, language, **self.values)

    def __reduce__(self) -> tuple[Any, ...]:
        return _catalog_refusal, (type(self), self.key, dict(self.values))


def _catalog_refusal(
    cls: type[CatalogRefusal], key: str, values: Mapping[str, Any]
) -> CatalogRefusal:
    return cls(key, **values)


def refusal(key: str, **values: Any) -> UserError:
    """A `UserError` from the catalog (`features.contract_text`): English as it is raised, and in
    the language of a command that takes --lang when it is shown."""
    return UserError(told_detail(key, "en", values), said=(key, values))


@dataclass(frozen=True)
class Place:
    """Where a row stands in the user's own file ("Case.csv line 5"), kept as its parts so that
    it is told in the report's language."""

    file: str
    kind: str  # "line", "record" (a JSON document's) or "row" (Parquet's)
    number: int

    def told(self, language: str) -> str:
        return told_detail(f"place_{self.kind}", language, {"file": self.file, "n": self.number})


@dataclass(frozen=True)
class Violation:
    """One broken rule in one place: which table, column, row and rule, and what was found."""

    table: str
    column: str
    row: int | None  # 1-based position among the table's data rows; None for table-level rules
    rule: str
    detail: str
    key: str | None = None  # the row's id (e.g. "ticket_id=T-1"), when the table has one
    # the detail's key in `features.contract_text` and its values, to tell it in another language
    said: tuple[str, Mapping[str, Any]] | None = field(default=None, compare=False, repr=False)
    # where the row stands in the user's own file ("Case.csv line 5") when the table was built
    # from it (an import): said instead of the row of a table the user never sees
    origin: Place | None = None

    def __str__(self) -> str:
        return self.told("en")

    def told(self, language: str) -> str:
        """The violation as a line of the report in `language` (its detail in English when it
        has no catalog key)."""
        if self.origin is not None:
            where = self.origin.told(language)
        else:
            where = "-" if self.row is None else told_detail("row", language, {"row": self.row})
        if self.key:
            where += f" ({self.key})"
        if self.said is None or language == "en":  # English: the detail as it was made
            said = self.detail
        else:
            said = told_detail(self.said[0], language, self.said[1])
        return f"{self.table} / {self.column} / {where} / {self.rule}: {said}"


class DataValidationError(UserError):
    """Input data broke the data contract; holds every violation, not just the first."""

    def __init__(self, violations: list[Violation], source: str = "input"):
        self.violations = violations
        self.source = source
        super().__init__(self.report())

    def report(self, limit: int | None = 50, language: str = "en") -> str:
        """Every violation (or the first `limit`), then the total per rule, in `language`."""
        n = len(self.violations)
        lines = [told_detail("headline", language, {"source": self.source, "n": n})]
        lines += [f"  {v.told(language)}" for v in self.violations[:limit]]
        if limit is not None and n > limit:
            lines.append(told_detail("more", language, {"n": n - limit}))
        lines.append(told_detail("totals", language, {}))
        totals = Counter((v.table, v.column, v.rule) for v in self.violations)
        lines += [f"  {t}.{c} {r}: {n}" for (t, c, r), n in sorted(totals.items())]
        return "\n".join(lines)
