"""A companion study's exports (docs/fidelity-format.md, docs/qualitative-format.md), read and checked with the
cohort's machinery: :mod:`alliance.data.exports` reads every file as text with its line numbers,
:mod:`alliance.data.validation` checks columns, types, ranges and keys, and this module adds the checks across
rows and files that a study's format asks for (a session's rows agree, an excerpt's participant exists). Every
problem names the file, the line, the column and the value; the study stops (``on_invalid: stop``) or sets the
rows aside in ``quarantine/`` with the reason, and rows read = rows kept + rows set aside, per file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from alliance.data.contract import FileSpec
from alliance.data.exports import LINE, RawExport, read_export
from alliance.data.problems import InvalidExportsError, Problem, escaped
from alliance.data.validation import REASON, OnInvalid, ValidatedCohort, format_report, validate_exports


class InvalidStudyExportsError(InvalidExportsError):
    """A study's exports break their format and the study is set to stop on invalid input."""

    def summary(self) -> str:
        lines = [f"Likely cause: {hint}" for hint in self.hints]
        lines.append(f"The study's exports have {len(self.problems)} problem(s):")
        lines += [f"  {p}" for p in self.problems]
        lines.append(
            "Fix the exports and run again; or, to set the offending rows aside and go on, "
            "give the study 'on_invalid: quarantine' in its config (file and column problems still stop)."
        )
        return "\n".join(lines)


def read_study_exports(
    directory: str | Path, names: Sequence[str], delimiter: str = ",", encoding: str = "utf-8"
) -> dict[str, RawExport | None]:
    """Each export of ``names`` (a CSV, or an SPSS file standing in for it), None when absent."""
    folder = Path(directory)
    if not folder.is_dir():
        raise FileNotFoundError(f"exports directory '{directory}' does not exist")
    return {name: read_export(folder, name, delimiter, encoding) for name in names}


def validate_study(
    raws: Mapping[str, RawExport | None], specs: Mapping[str, FileSpec], decimal: str, on_invalid: OnInvalid
) -> ValidatedCohort:
    """Every rule of the files' specs (columns, types, ranges, keys), as for a cohort's exports."""
    return validate_exports(raws, specs, None, decimal=decimal, on_invalid=on_invalid)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed cells as the text a quarantine file holds: dates as YYYY-MM-DD, missing as empty."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            out[column] = values.dt.strftime("%Y-%m-%d").fillna("")
        else:
            out[column] = [("" if pd.isna(v) else str(v)) for v in values]
    return out


def set_aside(
    validated: ValidatedCohort,
    name: str,
    mask: np.ndarray | pd.Series,
    column: str,
    rule: str,
    detail: str | Sequence[str],
) -> None:
    """Report the kept rows of export ``name`` where ``mask`` holds (a problem each, with its line, the
    ``column`` and its value) and move them to the quarantined rows with the reason; the accounting follows."""
    table = validated.tables[name]
    bad = np.asarray(mask, dtype=bool)
    if not bad.any():
        return
    details = [detail] * int(bad.sum()) if isinstance(detail, str) else [d for d, b in zip(detail, bad) if b]
    moved = table.loc[bad]
    file = _display_name(validated, name)
    values = _as_text(moved[[column]])[column] if column in moved else pd.Series("", index=moved.index)
    problems = [
        Problem(file, int(line), column, str(value), rule, text)
        for line, value, text in zip(moved[LINE], values, details, strict=True)
    ]
    validated.problems.extend(problems)
    validated.problems.sort(key=lambda p: (p.file, -1 if p.line is None else p.line, p.column or "", p.rule))
    aside = _as_text(moved)
    aside[LINE] = moved[LINE].astype(int).to_numpy()
    aside[REASON] = [f"{p.rule}: column '{p.column}' value '{escaped(p.value)}' ({p.detail})" for p in problems]
    previous = validated.quarantined.get(name, pd.DataFrame())
    combined = pd.concat([previous, aside], ignore_index=True)
    validated.quarantined[name] = combined.sort_values(LINE, kind="stable").reset_index(drop=True)
    validated.tables[name] = table.loc[~bad].reset_index(drop=True)
    row = validated.accounting["file"] == file
    validated.accounting.loc[row, "rows_kept"] -= len(moved)
    validated.accounting.loc[row, "rows_quarantined"] += len(moved)


def _display_name(validated: ValidatedCohort, name: str) -> str:
    for file in validated.accounting["file"]:
        if Path(str(file)).stem == name:
            return str(file)
    return f"{name}.csv"


def must_go_on(validated: ValidatedCohort, on_invalid: OnInvalid) -> None:
    """Raise :class:`InvalidStudyExportsError` (every problem listed) when the study must stop: a problem with
    a whole file or column, or any problem when the study stops on invalid input."""
    if validated.fatal or (validated.problems and on_invalid == "stop"):
        raise InvalidStudyExportsError(list(validated.problems), hints=list(validated.hints))


def study_report(study: str, validated: ValidatedCohort, on_invalid: OnInvalid) -> str:
    """The validation report of a study's exports (as a cohort's: every problem, notices, rows per file)."""
    text = format_report(study, validated, on_invalid)
    return text.replace(f"Validation of cohort '{study}'", f"Validation of study '{study}'", 1)


def write_study_validation(
    study: str, validated: ValidatedCohort, on_invalid: OnInvalid, report: Path, quarantine: Path
) -> None:
    """validation.txt and, under ``quarantine``, the rows set aside per file (with line and reason)."""
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(study_report(study, validated, on_invalid), encoding="utf-8")
    quarantine.mkdir(parents=True, exist_ok=True)
    for name, aside in sorted(validated.quarantined.items()):
        if len(aside):
            aside.to_csv(quarantine / f"{name}.csv", index=False, lineterminator="\n")
