"""Errors that reach a user: they carry enough to find and fix the bad input."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


class UserError(Exception):
    """A problem the user can fix (bad input, bad config, missing model); shown without a traceback."""


@dataclass(frozen=True)
class Violation:
    """One broken rule in one place: which table, column, row and rule, and what was found."""

    table: str
    column: str
    row: int | None  # 1-based position among the table's data rows; None for table-level rules
    rule: str
    detail: str
    key: str | None = None  # the row's id (e.g. "ticket_id=T-1"), when the table has one

    def __str__(self) -> str:
        where = "-" if self.row is None else f"row {self.row}"
        if self.key:
            where += f" ({self.key})"
        return f"{self.table} / {self.column} / {where} / {self.rule}: {self.detail}"


class DataValidationError(UserError):
    """Input data broke the data contract; holds every violation, not just the first."""

    def __init__(self, violations: list[Violation], source: str = "input"):
        self.violations = violations
        self.source = source
        super().__init__(self.report())

    def report(self, limit: int | None = 50) -> str:
        """Every violation (or the first `limit`), then the total per rule."""
        lines = [f"{self.source}: {len(self.violations)} data contract violation(s)"]
        lines += [f"  {v}" for v in self.violations[:limit]]
        if limit is not None and len(self.violations) > limit:
            lines.append(f"  ... and {len(self.violations) - limit} more")
        lines.append("Totals per rule:")
        totals = Counter((v.table, v.column, v.rule) for v in self.violations)
        lines += [f"  {t}.{c} {r}: {n}" for (t, c, r), n in sorted(totals.items())]
        return "\n".join(lines)
