"""The input contract (``export-format.md``, version 1) as data: files, columns, types and ranges.

Ranges of questionnaire items come from the instrument configuration, so a new WAI version or a
5-point form changes the YAML, not this module. What is fixed here is what the contract fixes: which
files exist, their key columns and the patient-level fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from alliance.data.instruments import Instruments

Kind = Literal["id", "integer", "number", "date", "choice"]

PERSONALITY_DISORDERS = (
    "paranoid",
    "schizoid",
    "schizotypal",
    "antisocial",
    "borderline",
    "histrionic",
    "narcissistic",
    "avoidant",
    "dependent",
    "obsessive_compulsive",
    "pd_nos",
)
SYMPTOM_DISORDERS = ("mood", "anxiety", "ptsd", "ocd", "adhd", "eating", "substance", "other_symptom")
GENDERS = ("female", "male", "other")
DAYS_PER_MONTH = 30.4375  # "Time": months since admission = days / 30.4375
TERMINATIONS = ("planned", "dropout_early", "dropout_late", "advised", "referred", "ongoing")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: Kind
    required: bool = True  # False: an empty cell is a missing value
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    may_be_absent: bool = False  # an optional column (export-format.md): absent, it counts as empty

    def describe_range(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        return f"{self.minimum:g}-{self.maximum:g}"


@dataclass(frozen=True)
class FileSpec:
    name: str  # base name, without extension
    required: bool
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]
    # Assessment files are dated and belong to a patient's treatment period.
    assessment: bool = True
    # Per-version item ranges (WAI): version column -> {version: (min, max)} for item columns.
    item_columns_by_version: tuple[str, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _flag(name: str) -> ColumnSpec:
    return ColumnSpec(name, "integer", True, 0, 1)


def _items(names: tuple[str, ...], minimum: float, maximum: float) -> tuple[ColumnSpec, ...]:
    return tuple(ColumnSpec(n, "integer", False, minimum, maximum) for n in names)


PATIENT_ID = ColumnSpec("patient_id", "id")
ASSESSMENT_DATE = ColumnSpec("date", "date")


def file_specs(instruments: Instruments) -> dict[str, FileSpec]:
    """Every export file of the contract, in the order they are read."""
    specs = [
        _patients_file(),
        _diagnoses_file(),
        _wai_file(instruments),
        _gaf_file(instruments),
        _item_file(
            instruments.wsas.file, instruments.wsas.item_columns, instruments.wsas.scale_min, instruments.wsas.scale_max
        ),
        _item_file(
            instruments.bsi.file, instruments.bsi.item_columns, instruments.bsi.scale_min, instruments.bsi.scale_max
        ),
        _sipp_sf_file(instruments),
        _eq5d_file(instruments),
    ]
    return {s.name: s for s in specs}


def _patients_file() -> FileSpec:
    columns = (
        PATIENT_ID,
        ColumnSpec("age", "integer", True, 16, 80),
        ColumnSpec("gender", "choice", True, choices=GENDERS),
        ColumnSpec("admission_date", "date"),
        ColumnSpec("discharge_date", "date", required=False),
        ColumnSpec("termination", "choice", True, choices=TERMINATIONS),
        ColumnSpec("work_study_months", "integer", False, 0, 12),
    )
    return FileSpec("patients", True, columns, key=("patient_id",), assessment=False)


def _diagnoses_file() -> FileSpec:
    columns = (
        PATIENT_ID,
        *(_flag(n) for n in PERSONALITY_DISORDERS),
        ColumnSpec("borderline_traits", "integer", True, 0, 9),
        ColumnSpec("pd_traits_total", "integer", True, 0, 79),
        *(_flag(n) for n in SYMPTOM_DISORDERS),
    )
    return FileSpec("diagnoses", True, columns, key=("patient_id",), assessment=False)


def _wai_file(instruments: Instruments) -> FileSpec:
    wai = instruments.wai
    item_min = min(v.scale_min for v in wai.versions.values())
    item_max = max(v.scale_max for v in wai.versions.values())
    columns = (
        PATIENT_ID,
        ASSESSMENT_DATE,
        ColumnSpec("version", "choice", True, choices=tuple(wai.versions)),
        # The widest range of any version here; each version's own range is checked per row.
        *_items(wai.item_columns, item_min, item_max),
    )
    return FileSpec(
        wai.file, True, columns, key=("patient_id", "date", "version"), item_columns_by_version=wai.item_columns
    )


def _gaf_file(instruments: Instruments) -> FileSpec:
    gaf = instruments.gaf
    columns = (
        PATIENT_ID,
        ASSESSMENT_DATE,
        ColumnSpec(gaf.score_column, "integer", True, gaf.scale_min, gaf.scale_max),
        *(replace(column, may_be_absent=True) for column in _items(gaf.optional_columns, gaf.scale_min, gaf.scale_max)),
    )
    return FileSpec(gaf.file, True, columns, key=("patient_id", "date"))


def _item_file(name: str, items: tuple[str, ...], minimum: float, maximum: float) -> FileSpec:
    """An optional questionnaire of integer items (WSAS, BSI-18)."""
    columns = (PATIENT_ID, ASSESSMENT_DATE, *_items(items, minimum, maximum))
    return FileSpec(name, False, columns, key=("patient_id", "date"))


def _sipp_sf_file(instruments: Instruments) -> FileSpec:
    sipp = instruments.sipp_sf
    domains = (ColumnSpec(d, "number", False, sipp.scale_min, sipp.scale_max) for d in sipp.domains)
    return FileSpec(sipp.file, False, (PATIENT_ID, ASSESSMENT_DATE, *domains), key=("patient_id", "date"))


def _eq5d_file(instruments: Instruments) -> FileSpec:
    eq = instruments.eq5d
    columns = (
        PATIENT_ID,
        ASSESSMENT_DATE,
        *_items(eq.dimensions, eq.level_min, eq.level_max),
        ColumnSpec(eq.vas_column, "integer", False, eq.vas_min, eq.vas_max),
    )
    return FileSpec(eq.file, False, columns, key=("patient_id", "date"))
