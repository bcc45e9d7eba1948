"""The steps of the cohort workflow as functions of paths, so that Snakemake scripts stay thin.

Each step reads files, calls the pure functions of the package and writes files. Snakemake scripts in
``workflow/scripts`` call these with ``snakemake.input``/``output``; tests and benchmarks call them
directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from alliance.data.contract import file_specs
from alliance.data.derive import CleanCohort, clean_cohort
from alliance.data.exports import RawExport, read_export
from alliance.data.instruments import Instruments
from alliance.data.problems import InvalidExportsError, Problem
from alliance.data.validation import OnInvalid, ValidatedCohort, format_report, validate_exports
from alliance.settings import AnalysisSettings

STATUS_FILE = "status.json"


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """CSV with fixed line endings and no index, so that the same data always give the same bytes."""
    frame.to_csv(path, index=False, lineterminator="\n")


def read_exports(
    directory: str | Path, instruments: Instruments, delimiter: str = ",", encoding: str = "utf-8"
) -> dict[str, RawExport | None]:
    directory = Path(directory)
    return {name: read_export(directory, name, delimiter, encoding) for name in file_specs(instruments)}


def validate_directory(
    directory: str | Path,
    instruments: Instruments,
    delimiter: str = ",",
    decimal: str = ".",
    on_invalid: OnInvalid = "stop",
    encoding: str = "utf-8",
) -> ValidatedCohort:
    if not Path(directory).is_dir():
        raise FileNotFoundError(f"exports directory '{directory}' does not exist")
    raws = read_exports(directory, instruments, delimiter, encoding)
    return validate_exports(raws, file_specs(instruments), instruments, decimal=decimal, on_invalid=on_invalid)


def write_validation(
    validated: ValidatedCohort,
    cohort_name: str,
    on_invalid: OnInvalid,
    report_path: str | Path,
    validated_dir: str | Path,
    quarantine_dir: str | Path,
) -> None:
    """The report, the kept rows (for the next step) and the quarantined rows with their reasons."""
    Path(report_path).parent.mkdir(parents=True, exist_ok=True)
    Path(report_path).write_text(format_report(cohort_name, validated, on_invalid), encoding="utf-8")
    validated_dir, quarantine_dir = Path(validated_dir), Path(quarantine_dir)
    validated_dir.mkdir(parents=True, exist_ok=True)
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    for name, table in validated.tables.items():
        table.to_parquet(validated_dir / f"{name}.parquet", index=False)
    if on_invalid == "quarantine":
        for name, aside in validated.quarantined.items():
            if len(aside):
                write_csv(aside, quarantine_dir / f"{name}.csv")
    status = {
        "cohort": cohort_name,
        "on_invalid": on_invalid,
        "problems": [p.as_record() for p in validated.problems],
        "fatal": [p.as_record() for p in validated.fatal],
        "hints": validated.hints,
        "accounting": validated.accounting.to_dict("records"),
        "report": str(report_path),
    }
    (validated_dir / STATUS_FILE).write_text(json.dumps(status, indent=1, default=int), encoding="utf-8")


def read_validated(validated_dir: str | Path) -> tuple[dict[str, pd.DataFrame], dict]:
    """The kept rows and the validation status; raises InvalidExportsError when the build must stop."""
    validated_dir = Path(validated_dir)
    status = json.loads((validated_dir / STATUS_FILE).read_text(encoding="utf-8"))
    problems = [Problem(**p) for p in status["problems"]]
    if status["fatal"] or (problems and status["on_invalid"] == "stop"):
        raise InvalidExportsError(problems, status["report"], status.get("hints", []))
    tables = {path.stem: pd.read_parquet(path) for path in sorted(validated_dir.glob("*.parquet"))}
    return tables, status


def clean_validated(
    tables: Mapping[str, pd.DataFrame], instruments: Instruments, analysis: AnalysisSettings
) -> CleanCohort:
    return clean_cohort(tables, instruments, analysis)


def write_clean(clean: CleanCohort, status: dict, paths: Mapping[str, str | Path]) -> None:
    write_csv(clean.patients, paths["patients"])
    write_csv(clean.wai_long, paths["wai_long"])
    write_csv(clean.outcomes_long, paths["outcomes_long"])
    write_csv(pd.DataFrame(status["accounting"]), paths["row_accounting"])


def read_clean_table(path: str | Path, text: tuple[str, ...] = ()) -> pd.DataFrame:
    """A clean table as write_csv wrote it: only an empty cell is missing (a patient named 'NA' keeps
    its id; pandas' default NA strings would make it missing); patient_id and ``text`` stay text."""
    dtype = {column: str for column in ("patient_id", *text)}
    return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])


def read_clean_patients(path: str | Path) -> pd.DataFrame:
    """clean/patients.csv as written by write_clean: empty cells are missing, groups stay text (also
    a group column that is empty for everyone, e.g. without WSAS exports)."""
    patients = read_clean_table(path, text=("outcome_group", "wsas_outcome", "bsi_outcome"))
    for column in ("outcome_group", "wsas_outcome", "bsi_outcome"):
        patients[column] = patients[column].fillna("")
    return patients


def read_clean(paths: Mapping[str, str | Path]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """patients, wai_long and outcomes_long as written by write_clean (empty cells are missing)."""
    patients = read_clean_patients(paths["patients"])
    wai_long = read_clean_table(paths["wai_long"])
    outcomes_long = read_clean_table(paths["outcomes_long"])
    return patients, wai_long, outcomes_long


def write_json(record: object, path: str | Path) -> None:
    """JSON with sorted keys and a final newline: the same record always gives the same bytes."""
    Path(path).write_text(json.dumps(record, indent=1, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
