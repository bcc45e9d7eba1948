"""The qualitative codebook export (docs/qualitative-format.md, version 1) as data, and its reading and checks.

Three files: ``participants.csv`` (one row per participant, with the interview unit they were interviewed in),
``themes.csv`` (the theme hierarchy, numbered: ``2`` is a theme, ``2.3`` its third subtheme; the numbers give
the order) and ``excerpts.csv`` (one row per coded excerpt: its participant and the theme or subtheme it is
coded to). ``participant_id`` is a pseudonym and sensitive; an excerpt's text, when exported, is never read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alliance import layout
from alliance.data.contract import GENDERS, ColumnSpec, FileSpec
from alliance.data.exports import LINE
from alliance.data.study_exports import must_go_on, read_study_exports, set_aside, validate_study
from alliance.data.validation import OnInvalid, ValidatedCohort

PARTICIPANTS, THEMES, EXCERPTS = layout.STUDY_EXPORTS["qualitative"]
MODALITIES = ("individual", "group", "both")
CODE = re.compile(r"^[1-9]\d*(\.[1-9]\d*)?$")
# The columns that may name a person (the privacy scan looks for their values in the outputs).
ID_COLUMNS = ("participant_id",)
MAX_YEARS = 70


def _optional(column: ColumnSpec) -> ColumnSpec:
    """A column that may be left out of the file (docs/qualitative-format.md), each cell optional."""
    return ColumnSpec(column.name, column.kind, False, column.minimum, column.maximum, column.choices, True)


def codebook_specs() -> dict[str, FileSpec]:
    """The three files of a codebook, in the order they are read."""
    participants = (
        ColumnSpec("participant_id", "id"),
        ColumnSpec("unit", "id"),
        ColumnSpec("occupation", "id", required=False),
        ColumnSpec("years_mbt", "number", False, 0, MAX_YEARS),
        ColumnSpec("years_care", "number", False, 0, MAX_YEARS),
        ColumnSpec("modality", "choice", False, choices=MODALITIES),
        _optional(ColumnSpec("age", "integer", False, 18, 100)),
        _optional(ColumnSpec("gender", "choice", False, choices=GENDERS)),
    )
    themes = (ColumnSpec("code", "id"), ColumnSpec("name", "id"))
    excerpts = (
        ColumnSpec("excerpt_id", "id"),
        ColumnSpec("participant_id", "id"),
        ColumnSpec("code", "id"),
        _optional(ColumnSpec("text", "id")),
    )
    return {
        PARTICIPANTS: FileSpec(PARTICIPANTS, True, participants, key=("participant_id",), assessment=False),
        THEMES: FileSpec(THEMES, True, themes, key=("code",), assessment=False),
        EXCERPTS: FileSpec(EXCERPTS, True, excerpts, key=("excerpt_id",), assessment=False),
    }


def code_order(code: str) -> tuple[int, ...]:
    """``2.10`` sorts after ``2.9``."""
    return tuple(int(part) for part in code.split("."))


@dataclass(frozen=True)
class Theme:
    """A theme (``parent`` None) or a subtheme of the theme ``parent``."""

    code: str
    name: str

    @property
    def parent(self) -> str | None:
        return self.code.split(".")[0] if "." in self.code else None


@dataclass(frozen=True)
class Codebook:
    """The valid rows of a codebook: participants (file order), themes (in their numbers' order), excerpts."""

    participants: pd.DataFrame
    themes: tuple[Theme, ...]
    excerpts: pd.DataFrame  # excerpt_id, participant_id, code (the text is never kept)

    def top(self) -> list[Theme]:
        return [theme for theme in self.themes if theme.parent is None]

    def subthemes(self, code: str) -> list[Theme]:
        return [theme for theme in self.themes if theme.parent == code]


def check_codebook(validated: ValidatedCohort) -> None:
    """Theme numbers are well formed and a subtheme's theme exists; an excerpt's participant and theme exist."""
    themes = validated.tables.get(THEMES)
    if themes is not None and len(themes):
        codes = themes["code"].astype(str)
        bad = ~codes.str.fullmatch(CODE.pattern)
        detail = "expected a theme number such as 2, or a subtheme number such as 2.3"
        set_aside(validated, THEMES, bad.to_numpy(), "code", "not a theme number", detail)
        themes = validated.tables[THEMES]
        codes = themes["code"].astype(str)
        parents = codes.str.split(".").str[0]
        orphan = codes.str.contains(".", regex=False) & ~parents.isin(codes[~codes.str.contains(".", regex=False)])
        details = [f"subtheme {code} needs a row for theme {parent}" for code, parent in zip(codes, parents)]
        set_aside(validated, THEMES, orphan.to_numpy(), "code", "unknown theme", details)
    _check_excerpts(validated)


def _check_excerpts(validated: ValidatedCohort) -> None:
    excerpts = validated.tables.get(EXCERPTS)
    if excerpts is None or not len(excerpts):
        return
    known = validated.tables.get(PARTICIPANTS, pd.DataFrame({"participant_id": []}))["participant_id"]
    unknown = ~excerpts["participant_id"].isin(known)
    set_aside(
        validated, EXCERPTS, unknown.to_numpy(), "participant_id", "unknown participant_id", "not in participants.csv"
    )
    excerpts = validated.tables[EXCERPTS]
    codes = validated.tables.get(THEMES, pd.DataFrame({"code": []}))["code"]
    unknown = ~excerpts["code"].isin(codes)
    set_aside(validated, EXCERPTS, unknown.to_numpy(), "code", "unknown theme", "not a code of themes.csv")


def read_codebook(directory: str | Path, options: dict[str, str]) -> tuple[Codebook, ValidatedCohort]:
    """Read and check a study's codebook (``options`` as for :func:`alliance.data.fidelity.read_fidelity`)."""
    on_invalid: OnInvalid = "quarantine" if options.get("on_invalid") == "quarantine" else "stop"
    specs = codebook_specs()
    raws = read_study_exports(directory, list(specs), options.get("delimiter", ","), options.get("encoding", "utf-8"))
    validated = validate_study(raws, specs, options.get("decimal", "."), on_invalid)
    check_codebook(validated)
    must_go_on(validated, on_invalid)
    tables = {name: validated.tables[name].sort_values(LINE, kind="stable") for name in specs}
    participants = tables[PARTICIPANTS][[c.name for c in specs[PARTICIPANTS].columns]].reset_index(drop=True)
    themes = sorted(
        (Theme(str(row.code), str(row.name)) for row in tables[THEMES].itertuples(index=False)),
        key=lambda theme: code_order(theme.code),
    )
    excerpts = tables[EXCERPTS][["excerpt_id", "participant_id", "code"]].reset_index(drop=True)
    return Codebook(participants, tuple(themes), excerpts), validated
