"""What is wrong with a cohort's exports, said so that a clinic can find and fix it."""

from __future__ import annotations

from dataclasses import dataclass

from alliance.errors import AllianceError


def escaped(value: str) -> str:
    """A value as a reader can see it: control characters and other invisibles as escapes (\\x00, \\t),
    letters of every language as they are."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in value)


@dataclass(frozen=True, order=True)
class Problem:
    """One violation of the input contract.

    ``line`` is the line number in the file (header = line 1); None for a problem with the file as a
    whole (a missing file). ``column`` is None when the problem is not about one column.
    """

    file: str
    line: int | None
    column: str | None
    value: str
    rule: str
    detail: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}, line {self.line}"
        column = "" if self.column is None else f", column '{self.column}'"
        silent = self.rule in ("missing column", "missing file") or (self.column is None and not self.value)
        value = "" if silent else f", value '{escaped(self.value)}'"
        return f"{where}{column}{value}: {self.rule}: {self.detail}"

    def as_record(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "rule": self.rule,
            "detail": self.detail,
        }


class InvalidExportsError(AllianceError):
    """The exports break the contract and the cohort is set to stop on invalid input."""

    def __init__(self, problems: list[Problem], report_path: str | None = None, hints: list[str] | None = None):
        self.problems = problems
        self.report_path = report_path
        self.hints = hints or []
        super().__init__(self.summary())

    def summary(self) -> str:
        lines = [f"Likely cause: {hint}" for hint in self.hints]
        lines.append(f"The exports have {len(self.problems)} problem(s):")
        lines += [f"  {p}" for p in self.problems]
        if self.report_path:
            lines.append(f"The same list is in {self.report_path}.")
        lines.append(
            "Fix the exports and run again; or, to set the offending rows aside and go on, "
            "give the cohort 'on_invalid: quarantine' in its config (file and column problems still stop)."
        )
        return "\n".join(lines)
