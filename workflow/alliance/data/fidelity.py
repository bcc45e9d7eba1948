"""The fidelity-rating export (docs/fidelity-format.md, version 1) as data, and its reading and checks.

One file, ``fidelity.csv``: one row per rating of a video-recorded session by one rater, with the MBT-ACS
global adherence and quality (1-7) and, optionally, item ratings (``adherence_01``, ``quality_01``, ...: any
number of items, found in the header). A session's patient, therapist(s), format and date are the same on every
rater's row. Ids are pseudonymous and sensitive: they never reach a publishable output.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alliance import layout
from alliance.data.contract import ColumnSpec, FileSpec
from alliance.data.exports import LINE
from alliance.data.study_exports import must_go_on, read_study_exports, set_aside, validate_study
from alliance.data.validation import OnInvalid, ValidatedCohort

FILE = layout.STUDY_EXPORTS["fidelity"][0]
FORMATS = ("individual", "group")
SCALE_MIN, SCALE_MAX = 1, 7
SCORES = ("adherence", "quality")
ITEM = re.compile(r"^(adherence|quality)_(\d{2})$")
# Columns that describe the session, not the rating: the same on every rater's row.
SESSION_COLUMNS = ("patient_id", "therapist_id", "format", "date")
# The columns that may name a person (sensitive: the privacy scan looks for their values in the outputs).
ID_COLUMNS = ("session_id", "patient_id", "therapist_id", "rater_id")
CO_THERAPISTS = "+"  # therapist_id of a session led by two: "T03+T07"


def fidelity_spec(header: Sequence[str] = ()) -> FileSpec:
    """The columns of ``fidelity.csv``; the item columns are those of ``header`` (adherence_NN, quality_NN)."""
    items = sorted((h for h in dict.fromkeys(header) if ITEM.match(h)), key=lambda h: (h[-2:], h))
    columns = (
        ColumnSpec("session_id", "id"),
        ColumnSpec("patient_id", "id", required=False),  # empty for a group session
        ColumnSpec("therapist_id", "id"),
        ColumnSpec("rater_id", "id"),
        ColumnSpec("format", "choice", choices=FORMATS),
        ColumnSpec("date", "date"),
        *(ColumnSpec(score, "integer", True, SCALE_MIN, SCALE_MAX) for score in SCORES),
        *(ColumnSpec(item, "integer", False, SCALE_MIN, SCALE_MAX) for item in items),
    )
    return FileSpec(FILE, True, columns, key=("session_id", "rater_id"), assessment=False)


@dataclass(frozen=True)
class FidelityRatings:
    """The valid ratings, one row per (session, rater), in file order, and the items rated."""

    ratings: pd.DataFrame  # session_id, patient_id, therapist_id, rater_id, format, date, adherence, quality, items
    items: tuple[str, ...]  # item numbers present ("01", "02", ...)


def check_sessions(validated: ValidatedCohort) -> None:
    """A session's patient, therapist(s), format and date must be the same on each of its rows: a row that
    differs from the session's first row is a problem (and is set aside under quarantine)."""
    table = validated.tables.get(FILE)
    if table is None or table.empty:
        return
    for column in SESSION_COLUMNS:
        table = validated.tables[FILE]
        text = table[column].astype("string").fillna("")
        if column == "date":
            text = table[column].dt.strftime("%Y-%m-%d").astype("string").fillna("")
        first = text.groupby(table["session_id"]).transform("first")
        first_line = table[LINE].groupby(table["session_id"]).transform("first")
        bad = (text != first).to_numpy()
        details = [
            f"session '{session}' has {column} '{value}' on line {line}"
            for session, value, line in zip(table["session_id"], first, first_line, strict=True)
        ]
        set_aside(validated, FILE, bad, column, "inconsistent session", details)


def read_fidelity(directory: str | Path, options: dict[str, str]) -> tuple[FidelityRatings, ValidatedCohort]:
    """Read and check a study's ``fidelity.csv`` (``options``: delimiter, decimal, encoding, on_invalid, as
    :meth:`alliance.settings.Study.reading_options` gives them). Stops with every problem
    (:class:`~alliance.data.study_exports.InvalidStudyExportsError`) unless the study quarantines."""
    on_invalid: OnInvalid = "quarantine" if options.get("on_invalid") == "quarantine" else "stop"
    raws = read_study_exports(directory, [FILE], options.get("delimiter", ","), options.get("encoding", "utf-8"))
    raw = raws[FILE]
    spec = fidelity_spec(raw.header if raw is not None else ())
    validated = validate_study(raws, {FILE: spec}, options.get("decimal", "."), on_invalid)
    check_sessions(validated)
    must_go_on(validated, on_invalid)
    table = validated.tables[FILE].sort_values(LINE, kind="stable").reset_index(drop=True)
    items = tuple(sorted({m.group(2) for c in table.columns if (m := ITEM.match(str(c)))}))
    columns = [c.name for c in spec.columns]
    return FidelityRatings(table[columns].copy(), items), validated
