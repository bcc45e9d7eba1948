"""Reading a cohort's raw export files into text tables that remember each record's line.

Everything is read as text first, so that a value that does not parse is reported with the exact
characters the clinic's export contains, and no value is coerced or dropped before validation.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from alliance.problems import Problem

LINE = "line"  # column holding each record's line number in its file (header = line 1)


@dataclass
class RawExport:
    """One export file as text: a column per header field, plus the record's line number."""

    name: str  # base name, e.g. "wai"
    path: Path | None
    table: pd.DataFrame  # all cells str ("" = empty), plus LINE (int)
    header: tuple[str, ...] = ()
    problems: list[Problem] = field(default_factory=list)
    # Records that could not be split into the header's columns: (line, fields, raw record text).
    malformed: list[tuple[int, list[str], str]] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        return self.path.name if self.path is not None else f"{self.name}.csv"


def find_export(directory: Path, name: str) -> tuple[Path | None, list[Problem]]:
    """The CSV, or the SPSS file standing in for it; both at once is ambiguous."""
    csv_path = directory / f"{name}.csv"
    sav_path = directory / f"{name}.sav"
    if csv_path.exists() and sav_path.exists():
        return None, [
            Problem(
                f"{name}.csv",
                None,
                None,
                f"{name}.sav",
                "ambiguous file",
                f"both {name}.csv and {name}.sav exist; keep one",
            )
        ]
    if csv_path.exists():
        return csv_path, []
    if sav_path.exists():
        return sav_path, []
    return None, []


def _line_of_byte(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def read_csv_export(path: Path, name: str, delimiter: str = ",") -> RawExport:
    """Read a CSV export with the csv module, keeping the line number of every record.

    pandas' fast reader would silently pad short rows and cannot say on which physical line a record
    began; a clinic's export that is off by one field must be reported, not repaired.
    """
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = _line_of_byte(data, error.start)
        snippet = data[error.start : error.start + 4]
        return RawExport(
            name,
            path,
            pd.DataFrame(),
            problems=[
                Problem(
                    path.name, line, None, repr(snippet), "not UTF-8", "the file is not UTF-8 text; save it as UTF-8"
                )
            ],
        )
    # Not strict: a stray quote then yields a value or a field count that validation reports for that
    # record, instead of an error that would end reading the file.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    problems: list[Problem] = []
    malformed: list[tuple[int, list[str], str]] = []
    try:
        header = next(reader)
    except StopIteration:
        return RawExport(
            name,
            path,
            pd.DataFrame(),
            problems=[Problem(path.name, 1, None, "", "empty file", "the file has no header row")],
        )
    except csv.Error as error:
        return RawExport(
            name, path, pd.DataFrame(), problems=[Problem(path.name, 1, None, "", "unreadable CSV", str(error))]
        )
    header = [h.strip() for h in header]
    width = len(header)
    rows: list[list[str]] = []
    lines: list[int] = []
    last_line = reader.line_num
    while True:
        start = last_line + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(Problem(path.name, start, None, "", "unreadable CSV", str(error)))
            break
        last_line = reader.line_num
        if all(cell.strip() == "" for cell in record):
            continue  # a blank line (or a spreadsheet's row of empty cells) is not a record
        if len(record) != width:
            malformed.append((start, [cell.strip() for cell in record], delimiter.join(record)))
            problems.append(
                Problem(
                    path.name,
                    start,
                    None,
                    delimiter.join(record)[:80],
                    "wrong number of fields",
                    f"expected {width} fields as in the header, found {len(record)}",
                )
            )
            continue
        rows.append(record)
        lines.append(start)
    table = (
        pd.DataFrame(rows, columns=_unique_names(header), dtype=object)
        if rows
        else pd.DataFrame(columns=_unique_names(header), dtype=object)
    )
    table = table.apply(lambda column: column.str.strip()) if len(table) else table
    table[LINE] = pd.Series(lines, dtype="int64")
    export = RawExport(name, path, table, tuple(header), problems, malformed)
    export.problems.extend(_header_problems(path.name, header))
    return export


RESERVED = (LINE, "reason", "raw_record")  # columns the workflow adds to its own tables


def _unique_names(header: list[str]) -> list[str]:
    """Keep duplicated header names distinct in the frame; the duplication itself is reported.

    An export's own column named like one the workflow adds (``line``, ``reason``) is not in the
    contract and is ignored; it is renamed here so that it cannot overwrite the workflow's column.
    """
    seen: dict[str, int] = dict.fromkeys(RESERVED, 1)
    names = []
    for h in header:
        count = seen.get(h, 0)
        names.append(h if count == 0 else f"{h}#{count + 1}")
        seen[h] = count + 1
    return names


def _header_problems(file_name: str, header: list[str] | tuple[str, ...]) -> list[Problem]:
    # Unnamed columns (trailing delimiters of a spreadsheet export) are ignored, not duplicates.
    duplicated = sorted({h for h in header if h and list(header).count(h) > 1})
    return [
        Problem(file_name, 1, h, h, "duplicate column", "the column appears more than once in the header")
        for h in duplicated
    ]


def _sav_cell(value: object) -> str:
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_sav_export(path: Path, name: str) -> RawExport:
    """Read an SPSS file standing in for a CSV; the line number is the record number + 1, as in the CSV."""
    import pyreadstat

    try:
        frame, _meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    except Exception as error:  # noqa: BLE001 -- pyreadstat raises its own types for corrupt files
        return RawExport(
            name,
            path,
            pd.DataFrame(),
            problems=[Problem(path.name, None, None, "", "unreadable SPSS file", str(error))],
        )
    header = [str(c).strip() for c in frame.columns]
    frame.columns = _unique_names(header)
    table = frame.astype(object).map(_sav_cell) if len(frame) else frame.astype(object)
    table[LINE] = pd.Series(range(2, len(frame) + 2), dtype="int64")
    return RawExport(name, path, table.reset_index(drop=True), tuple(header), _header_problems(path.name, header))


def read_export(directory: Path, name: str, delimiter: str = ",") -> RawExport | None:
    """Read one export by base name, or None when neither a CSV nor an SPSS file exists."""
    path, problems = find_export(directory, name)
    if problems:
        return RawExport(name, None, pd.DataFrame(), problems=problems)
    if path is None:
        return None
    if path.suffix == ".sav":
        return read_sav_export(path, name)
    return read_csv_export(path, name, delimiter)
