"""Privacy scan of publishable outputs: no patient_id and no date of the exports, and (for a real cohort) no
count under the disclosure minimum.

The identifiers and dates are read from the exports and only held in memory; a finding names the file, the
line and the kind of leak, never the identifier itself. SVG figures are scanned as text (their ``<text>``
elements and comments), PNG and PDF are skipped (no searchable text).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

TEXT_SUFFIXES = (".csv", ".md", ".html", ".htm", ".tex", ".json", ".txt", ".svg", ".rst", ".yaml")
DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")
# Column headers (of a CSV or Markdown table) that hold patient counts.
COUNT_HEADER = re.compile(r"(^|[\s(_/])(n|patients|count)($|[\s)_:])|n missing|^n\b", re.IGNORECASE)
# "n = 3" anywhere in a table (headers, titles, notes).
N_EQUALS = re.compile(r"\b[nN]\s*=\s*(\d+)\b")
# Row labels (first cell) of rows whose every number is a count of patients ("Patients (n)").
COUNT_ROW = re.compile(r"\(n\)|^n\b|^patients\b", re.IGNORECASE)


@dataclass(frozen=True)
class Leak:
    file: str
    line: int
    kind: str  # "patient_id", "date", "small cell"
    detail: str

    def describe(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class Identifiers:
    """What must not appear: the exports' patient ids and dates (in the spellings a table could use)."""

    patient_ids: frozenset[str]
    dates: frozenset[str]


def date_spellings(day: date) -> set[str]:
    return {
        day.isoformat(),
        day.strftime("%d.%m.%Y"),
        day.strftime("%d/%m/%Y"),
        day.strftime("%m/%d/%Y"),
        day.strftime("%Y/%m/%d"),
        day.strftime("%Y%m%d"),
    }


def identifiers_from_exports(
    files: Iterable[Path], delimiter: str = ",", encoding: str = "utf-8", id_columns: Sequence[str] = ("patient_id",)
) -> Identifiers:
    """The values of the ``id_columns`` (patient_id; a companion study's session, therapist, rater or participant
    ids too) and every date (a value starting YYYY-MM-DD) of the CSV exports; SPSS files are read with
    pyreadstat when present."""
    ids: set[str] = set()
    dates: set[str] = set()
    for path in files:
        rows: Iterable[dict[str, object]]
        if path.suffix.lower() == ".sav":
            import pyreadstat

            frame, _ = pyreadstat.read_sav(str(path))
            rows = frame.astype(str).to_dict("records")
        else:
            declared = encoding.lower().replace("_", "-") not in ("utf-8", "utf8")
            text = path.read_text(encoding=encoding if declared else "utf-8-sig", errors="replace")
            rows = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        for row in rows:
            for column, value in row.items():
                text_value = str(value or "").strip()
                if column in id_columns and text_value:
                    ids.add(text_value)
                match = DATE.match(text_value)
                if match:
                    try:
                        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
                    except ValueError:
                        continue
                    dates |= date_spellings(day)
    return Identifiers(frozenset(ids), frozenset(dates))


def _token_pattern(tokens: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted({t for t in tokens if t}, key=len, reverse=True)
    if not ordered:
        return None
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(t) for t in ordered) + r")(?![\w])")


# Embedded images (data URIs in HTML and SVG): base64 is no text, and its "+" and "/" would let a short id
# match by chance.
DATA_URI = re.compile(r"data:[\w/+.-]+(?:;[\w=.-]+)*;base64,[A-Za-z0-9+/=]+")


def scan_text(text: str, file: str, identifiers: Identifiers) -> list[Leak]:
    """Patient ids (whole tokens) and dates of the exports in a text (embedded base64 images left out)."""
    text = DATA_URI.sub("data:", text)
    leaks: list[Leak] = []
    for kind, tokens in (("patient_id", identifiers.patient_ids), ("date", identifiers.dates)):
        pattern = _token_pattern(tokens)
        if pattern is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if pattern.search(line):
                leaks.append(Leak(file, number, kind, f"a {kind} of the exports"))
    return leaks


def _cells(text: str, suffix: str) -> list[tuple[int, list[str], list[str]]]:
    """(line, header, cells) of every table row of a CSV or Markdown text."""
    out: list[tuple[int, list[str], list[str]]] = []
    if suffix == ".csv":
        reader = csv.reader(io.StringIO(text))
        header: list[str] | None = None
        for record in reader:
            if header is None:
                header = record
                continue
            out.append((reader.line_num, header, record))
        return out
    lines = text.splitlines()
    header_md: list[str] | None = None
    for index, line in enumerate(lines):
        if not line.lstrip().startswith("|"):
            header_md = None
            continue
        cells = [c.strip().replace("\\", "") for c in line.strip().strip("|").split("|")]
        if header_md is None:
            header_md = cells
        elif all(re.fullmatch(r":?-+:?", c) for c in cells if c):
            continue
        else:
            out.append((index + 1, header_md, cells))
    return out


def small_cells(text: str, file: str, suffix: str, min_cell: int) -> list[Leak]:
    """Counts of patients 1 .. min_cell - 1: in count columns (n, Patients, count, n missing ...) and in
    "n = k" anywhere in the text."""
    if min_cell <= 0:
        return []
    leaks: list[Leak] = []
    for line, header, cells in _cells(text, suffix):
        count_row = bool(cells) and bool(COUNT_ROW.search(cells[0].strip()))
        for column, cell in zip(header, cells, strict=False):
            if not (count_row or COUNT_HEADER.search(column.strip())):
                continue
            value = cell.strip()
            if re.fullmatch(r"\d+(\.0+)?", value) and 0 < float(value) < min_cell:
                leaks.append(Leak(file, line, "small cell", f"column '{column.strip()}': {value} < {min_cell}"))
    for number, line_text in enumerate(text.splitlines(), start=1):
        for match in N_EQUALS.finditer(line_text.replace("*", "").replace("\\", "")):  # *n* = 3
            if 0 < int(match.group(1)) < min_cell:
                leaks.append(Leak(file, number, "small cell", f"n = {match.group(1)} < {min_cell}"))
    return leaks


def scan_files(
    files: Sequence[Path], base: Path, identifiers: Identifiers, min_cell: int, tables: Iterable[Path] = ()
) -> list[Leak]:
    """Every leak in ``files`` (paths reported relative to ``base``); ``tables`` (CSV/Markdown) are also
    checked for small cells."""
    table_set = {p.resolve() for p in tables}
    leaks: list[Leak] = []
    for path in sorted(files):
        if path.suffix.lower() not in TEXT_SUFFIXES:
            continue
        name = path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
        text = path.read_text(encoding="utf-8", errors="replace")
        leaks += scan_text(text, name, identifiers)
        if path.resolve() in table_set and path.suffix in (".csv", ".md"):
            leaks += small_cells(text, name, path.suffix, min_cell)
    return leaks
