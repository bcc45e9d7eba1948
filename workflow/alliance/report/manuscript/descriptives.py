"""The aggregates the manuscript's text cites beyond the tables: sample sizes, treatment duration and
termination by outcome subgroup, and the Table II comparisons with exact p values.

This is the only step of the manuscript that reads patient-level data (``clean/patients.csv``); it writes
aggregates only (``manuscript/descriptives.json``), counts below ``min_cell`` withheld.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from alliance.report import descriptives
from alliance.report.descriptives import GROUPS
from alliance.report.disclosure import is_small
from alliance.report.manuscript.provenance import NOT_DEFINED
from alliance.report.table_rows import RowSpec
from alliance.stats.group_tests import TestResult, compare_groups, compare_means, compare_proportions

TERMINATION_KINDS = ("planned", "dropout_early", "dropout_late", "advised", "referred")


def _rounded(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def _share(count: int, n: int, min_cell: int) -> dict[str, Any]:
    """Count and per cent; both withheld (None, with ``suppressed``) when fewer than min_cell patients."""
    if is_small(count, min_cell) or is_small(n, min_cell):
        small_n = is_small(n, min_cell)
        return {"n": None if small_n else n, "count": None, "pct": None, "suppressed": min_cell}
    if not n:
        return {"n": n, "count": count, "pct": None, "undefined": NOT_DEFINED}
    return {"n": n, "count": count, "pct": _rounded(100.0 * count / n)}


def _defined(record: dict[str, Any]) -> dict[str, Any]:
    """The record, marked ``undefined`` when one of its statistics could not be computed (None)."""
    return {**record, "undefined": NOT_DEFINED} if any(v is None for v in record.values()) else record


def _mean_sd(values: pd.Series) -> dict[str, Any]:
    return _defined({"mean": _rounded(float(values.mean())), "sd": _rounded(float(values.std(ddof=1)))})


def _test_record(result: TestResult) -> dict[str, Any]:
    return _defined(
        {
            "test": result.test,
            "statistic": _rounded(result.statistic),
            "df": _rounded(result.df),
            "p_value": _rounded(result.p_value) if not math.isnan(result.p_value) else None,
        }
    )


class Cohort:
    """The patients' columns the descriptives read, as numbers and text."""

    def __init__(self, patients: pd.DataFrame) -> None:
        self.patients = patients
        self.months = pd.to_numeric(patients.get("treatment_months"), errors="coerce").astype("float64")
        termination = patients.get("termination", pd.Series([""] * len(patients)))
        self.termination = termination.fillna("").astype(str)
        self.groups = patients["outcome_group"].fillna("").astype(str)
        self.planned = pd.to_numeric(patients.get("completed_as_planned"), errors="coerce").astype("float64")


def _group_record(cohort: Cohort, group: str, n_classified: int, min_cell: int) -> dict[str, Any]:
    """An outcome subgroup: its size, treatment duration, completion as planned and termination."""
    members = cohort.groups.eq(group)
    n = int(members.sum())
    planned = cohort.planned[members]
    return _defined(
        {
            "n": n,
            "pct_of_classified": _rounded(100.0 * n / n_classified) if n_classified else None,
            "treatment_months": _mean_sd(cohort.months[members]),
            "completed_as_planned": _share(int(planned.eq(1).sum()), int(planned.notna().sum()), min_cell),
            "termination": {
                kind: _share(int((cohort.termination.eq(kind) & members).sum()), n, min_cell)
                for kind in TERMINATION_KINDS
            },
        }
    )


def _group_tests(cohort: Cohort) -> dict[str, Any]:
    """The good and poor subgroups compared on treatment duration, completion and early dropout."""
    index = cohort.patients[cohort.groups.isin(GROUPS)].index
    classified = cohort.patients.loc[index]
    good, poor = (classified["outcome_group"].eq(g) for g in GROUPS)
    months, planned = cohort.months[index], cohort.planned[index]
    early = cohort.termination[index].eq("dropout_early").astype("float64")
    return {
        "treatment_months": _test_record(compare_means(months[good].dropna(), months[poor].dropna())),
        "completed_as_planned": _test_record(compare_proportions(planned[good].dropna(), planned[poor].dropna())),
        "dropout_early": _test_record(compare_proportions(early[good], early[poor])),
    }


def _table_2_entry(classified: pd.DataFrame, spec: RowSpec, min_cell: int) -> dict[str, Any]:
    """A Table II row by subgroup (share or mean and SD, withheld when small) with its test."""
    groups = descriptives.by_group(descriptives.row_values(classified, spec), classified)
    entry: dict[str, Any] = {"label": spec.label, "column": spec.column, "kind": spec.kind}
    for group in GROUPS:
        mine = groups[group]
        if spec.kind == "pct":
            entry[group] = _share(int(mine.sum()), int(mine.size), min_cell)
        elif is_small(mine.size, min_cell):
            entry[group] = {"n": None, "mean": None, "sd": None, "suppressed": min_cell}
        else:
            entry[group] = {"n": int(mine.size), **_mean_sd(mine)}
    entry["test"] = _test_record(compare_groups(groups, spec.kind))
    return entry


def cohort_descriptives(patients: pd.DataFrame, rows: Sequence[RowSpec], min_cell: int) -> dict[str, Any]:
    """Aggregates the manuscript's text cites beyond the tables: sample sizes, treatment duration and
    termination by outcome subgroup, and the Table II comparisons with exact p values. JSON-able; counts
    below ``min_cell`` are withheld (None)."""
    cohort = Cohort(patients)
    n_classified = int(cohort.groups.isin(GROUPS).sum())
    classified = patients[cohort.groups.isin(GROUPS)]
    return {
        "n_patients": len(patients),
        "treatment_months": _mean_sd(cohort.months),
        "termination": {
            kind: _share(int(cohort.termination.eq(kind).sum()), len(patients), min_cell) for kind in TERMINATION_KINDS
        },
        "groups": {group: _group_record(cohort, group, n_classified, min_cell) for group in GROUPS},
        "tests": _group_tests(cohort),
        "table_2": [_table_2_entry(classified, spec, min_cell) for spec in rows],
    }
