"""Reading a cohort's raw export files into text tables that remember each record's line.

Everything is read as text first, so that a value that does not parse is reported with the exact
characters the clinic's export contains, and no value is coerced or dropped before validation.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from alliance.data.problems import Problem, escaped

LINE = "line"  # column holding each record's line number in its file (header = line 1)
# Problems with one record (its line is set aside or reported); any other reading problem stops the file.
RECORD_RULES = ("wrong number of fields", "unmatched quote", "unreadable record")


class MalformedRecord(NamedTuple):
    """A record that could not be split into the header's columns."""

    line: int
    fields: list[str]  # what the line splits into (the patient can often still be named)
    raw: str  # the line as it stands in the file
    reason: str


@dataclass
class RawExport:
    """One export file as text: a column per header field, plus the record's line number."""

    name: str  # base name, e.g. "wai"
    path: Path | None
    table: pd.DataFrame  # all cells str ("" = empty), plus LINE (int)
    header: tuple[str, ...] = ()
    problems: list[Problem] = field(default_factory=list)
    malformed: list[MalformedRecord] = field(default_factory=list)

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


def likely_encoding(data: bytes) -> str:
    """A guess at the encoding of bytes that are not UTF-8: the ones spreadsheets write on Windows."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    sample = data[:4096]
    if sample and sample.count(b"\x00") > len(sample) // 4:
        return "utf-16-le" if sample[1:2] == b"\x00" else "utf-16-be"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def _encoding_fix(data: bytes) -> str:
    guess = likely_encoding(data)
    return f"it looks like {guess}: save it as UTF-8, or declare 'encoding: {guess}' for this cohort in your config"


def decode_export(data: bytes, file_name: str, encoding: str) -> tuple[str | None, list[Problem]]:
    """The text of an export, or None and a problem that names the likely encoding and the fix."""
    declared = encoding.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-8-sig")
    try:
        text = data.decode(encoding) if declared else data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        # The bytes that are not UTF-8 as \xNN (what a hex editor shows), then what follows them.
        snippet = "".join(f"\\x{byte:02x}" for byte in data[error.start : error.end])
        snippet += escaped(data[error.end : error.end + 3].decode("utf-8", "replace"))
        if declared:
            detail = f"the file is not valid {encoding} text (the cohort's 'encoding')"
        else:
            detail = f"the file is not UTF-8 text; {_encoding_fix(data)}"
        return None, [Problem(file_name, _line_of_byte(data, error.start), None, snippet, "not UTF-8", detail)]
    if not declared and text.count("\x00") > len(text) // 4:
        return None, [
            Problem(file_name, 1, None, "", "not UTF-8", f"the file is not UTF-8 text; {_encoding_fix(data)}")
        ]
    return text.removeprefix("\ufeff"), []


def read_csv_export(path: Path, name: str, delimiter: str = ",", encoding: str = "utf-8") -> RawExport:
    """Read a CSV export with the csv module, keeping the line number of every record.

    pandas' fast reader would silently pad short rows and cannot say on which physical line a record
    began; a clinic's export that is off by one field must be reported, not repaired. The contract puts
    one record on each line, so a record that runs past its line (an unmatched double quote) is reported
    at that line and reading goes on at the next: every line is read, kept or set aside.
    """
    text, problems = decode_export(path.read_bytes(), path.name, encoding)
    if text is None:
        return RawExport(name, path, pd.DataFrame(), problems=problems)
    lines = list(io.StringIO(text, newline=""))
    if not lines or not lines[0].strip():
        return RawExport(
            name,
            path,
            pd.DataFrame(),
            problems=[Problem(path.name, 1, None, "", "empty file", "the file has no header row")],
        )
    header = [h.strip() for h in next(csv.reader([lines[0]], delimiter=delimiter, strict=False))]
    records = _Records(path.name, delimiter, len(header))
    with _unlimited_fields():
        records.read(lines)
    names = _unique_names(header)
    table = (
        pd.DataFrame(records.rows, columns=names, dtype=object)
        if records.rows
        else pd.DataFrame(columns=names, dtype=object)
    )
    table = table.apply(lambda column: column.str.strip()) if len(table) else table
    table[LINE] = pd.Series(records.lines, dtype="int64")
    export = RawExport(name, path, table, tuple(header), records.problems, records.malformed)
    export.problems.extend(_header_problems(path.name, header))
    return export


@contextlib.contextmanager
def _unlimited_fields():
    """A huge cell (a pasted note in a column the workflow ignores) is a value, not a reason to stop."""
    previous = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


@dataclass
class _Records:
    """The records of a CSV file after its header, one per physical line."""

    file_name: str
    delimiter: str
    width: int
    rows: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    malformed: list[MalformedRecord] = field(default_factory=list)

    def read(self, lines: list[str]) -> None:
        index = 1  # lines[index] is physical line index + 1 (the header is line 1)
        while index < len(lines):
            reader = csv.reader(_from(lines, index), delimiter=self.delimiter, strict=False)
            index = self._read_until_broken(reader, lines, index)

    def _read_until_broken(self, reader, lines: list[str], index: int) -> int:
        """Read records from lines[index] on; at a record that is not one whole line, report it and
        return the index to restart from (the next line)."""
        while index < len(lines):
            before = reader.line_num
            try:
                record = next(reader)
            except StopIteration:
                return len(lines)
            except csv.Error as error:
                self._malformed(index, lines[index], [], "unreadable record", str(error))
                return index + 1
            consumed = reader.line_num - before
            raw = lines[index]
            if consumed > 1 or (index == len(lines) - 1 and raw.count('"') % 2):
                detail = "an unmatched double quote: the record runs past the end of its line"
                self._malformed(index, raw, [], "unmatched quote", detail)
                return index + 1
            index += consumed
            if all(cell.strip() == "" for cell in record):
                continue  # a blank line (or a spreadsheet's row of empty cells) is not a record
            if len(record) != self.width:
                detail = f"expected {self.width} fields as in the header, found {len(record)}"
                self._malformed(index - 1, raw, [c.strip() for c in record], "wrong number of fields", detail)
                continue
            self.rows.append(record)
            self.lines.append(index)
        return index

    def _malformed(self, index: int, raw: str, fields: list[str], rule: str, detail: str) -> None:
        text = raw.rstrip("\r\n")
        if not fields:
            fields = [c.strip() for c in next(csv.reader([text], delimiter=self.delimiter, strict=False), [])]
        self.malformed.append(MalformedRecord(index + 1, fields, text, f"{rule}: {detail}"))
        self.problems.append(Problem(self.file_name, index + 1, None, text[:80], rule, detail))


def _from(lines: list[str], index: int):
    for position in range(index, len(lines)):
        yield lines[position]


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


def read_export(directory: Path, name: str, delimiter: str = ",", encoding: str = "utf-8") -> RawExport | None:
    """Read one export by base name, or None when neither a CSV nor an SPSS file exists."""
    path, problems = find_export(directory, name)
    if problems:
        return RawExport(name, None, pd.DataFrame(), problems=problems)
    if path is None:
        return None
    if path.suffix == ".sav":
        return read_sav_export(path, name)
    return read_csv_export(path, name, delimiter, encoding)
