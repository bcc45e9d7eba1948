"""What the companion studies' steps share: their tables (one layout, the paper's, in the four formats of
:mod:`alliance.report.formatting`), their JSON, and reading and checking their exports with the report that
goes with them (validation.txt, quarantine/) to the files the rule declares."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from alliance import layout
from alliance.data.study_exports import write_study_validation
from alliance.data.validation import OnInvalid, ValidatedCohort
from alliance.report.formatting import RENDERERS, Align, TableLayout

T = TypeVar("T")
DASH = "\u2013"  # not defined (a mean of no one, an SD of one)


def study_table(
    table_id: str,
    number: str,
    title: str,
    rows: Sequence[Sequence[str]],
    columns: Sequence[str],
    align: Sequence[Align],
    notes: Sequence[str] = (),
    source: str = "",
) -> TableLayout:
    """A study's table in its paper's layout, every cell a string."""
    frame = pd.DataFrame([list(row) for row in rows], columns=list(columns), dtype=object)
    return TableLayout(table_id, "paper", number, title, frame, tuple(align), tuple(notes), (), source or title)


def write_study_tables(tables: Sequence[TableLayout], files: Mapping[str, Path]) -> list[Path]:
    """Each table as CSV, Markdown, HTML and LaTeX, to its declared file (same bytes every time)."""
    targets = [
        (table, extension, layout.declared(files, f"{table.table_id}.{extension}"))
        for table in tables
        for extension in layout.TABLE_FORMATS
    ]
    for table, extension, path in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(RENDERERS[extension](table, "paper").encode("utf-8"))
    return [path for _, _, path in targets]


def rounded(value: Any, digits: int = 6) -> Any:
    """Floats of a JSON record rounded (NaN as null), so that the last bits of a fit never change its bytes."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, digits)
    if isinstance(value, Mapping):
        return {str(k): rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    return value


def write_record(record: Mapping[str, Any], path: Path) -> Path:
    """JSON with sorted keys and a final newline (floats rounded)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(rounded(record), indent=1, sort_keys=True, allow_nan=False, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def read_checked(
    reader: Callable[[str | Path, dict[str, str]], tuple[T, ValidatedCohort]],
    exports: str | Path,
    options: dict[str, str],
    files: Mapping[str, Path],
) -> T:
    """A study's exports read and checked by ``reader``; validation.txt and quarantine/ written to their
    declared paths. A study that must stop raises with every problem before anything is written."""
    data, validated = reader(exports, options)
    on_invalid: OnInvalid = "quarantine" if options.get("on_invalid") == "quarantine" else "stop"
    write_study_validation(
        options["name"],
        validated,
        on_invalid,
        layout.declared(files, layout.STUDY_VALIDATION),
        layout.declared(files, layout.STUDY_QUARANTINE),
    )
    return data
