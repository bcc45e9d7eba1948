r"""The missing-data step's report: the missing-data table, the comparison of patients with and without
the final WAI, and ``summary.json`` with its small counts withheld.

The statistics are :mod:`alliance.stats.missing_data`'s; here they become
:class:`~alliance.report.formatting.TableFrame`\ s and a publishable record, with the small-cell helpers of
:mod:`alliance.report.disclosure`.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alliance import layout as file_layout
from alliance.data.pipeline import write_json
from alliance.report.descriptives import table_2
from alliance.report.disclosure import (
    UNDEFINED,
    count_cell,
    disclosure_note,
    is_small,
    pct_cell,
    small_text,
    undefined_note,
)
from alliance.report.formatting import (
    Align,
    TableFrame,
    TableLayout,
    format_fixed,
    format_integer,
    write_tables,
)
from alliance.stats.missing_data import (
    FIRST_YEAR_MONTHS,
    GROUPS,
    OUTCOMES,
    jsonable,
    little_mcar_test,
    missing_summary,
    outcome_observations,
    wave_matrix,
)

TABLE_TITLE = "Missing data: WAI assessments per patient and missing final assessments."


# --------------------------------------------------------------------------------------------------
# The missing-data table
# --------------------------------------------------------------------------------------------------


def _stat(group: Mapping[str, Any], key: str) -> float:
    value = group.get(key)
    return math.nan if value is None else float(value)


def _cells(group: Mapping[str, Any], min_cell: int) -> dict[str, str]:
    """Formatted cells of one group column, keyed by statistic."""
    n = int(group["n_patients"])
    small_group = is_small(n, min_cell)
    cells: dict[str, str] = {"n_patients": count_cell(n, min_cell)}
    if small_group:
        text = small_text(min_cell)
        cells["mean_sd"] = cells["range"] = text
    elif n == 0:
        cells["mean_sd"] = cells["range"] = UNDEFINED
    else:
        mean, sd = _stat(group, "wai_assessments_mean"), _stat(group, "wai_assessments_sd")
        cells["mean_sd"] = format_fixed(mean, 1) + (f" ({format_fixed(sd, 1)})" if not math.isnan(sd) else "")
        cells["range"] = (
            f"{format_integer(group['wai_assessments_min'])}\u2013{format_integer(group['wai_assessments_max'])}"
        )
    pairs = {
        "lacking_final_wai": n,
        "only_one_wai": n,
        "only_one_within_first_year": int(group["only_one_wai_n"]),
        "at_least_three_wai": n,
        "at_least_four_wai": n,
        **{f"final_{m}_missing": n for m, _ in OUTCOMES},
    }
    for key, denominator in pairs.items():
        count = int(group[f"{key}_n"])
        cells[f"{key}_n"] = count_cell(count, min_cell)
        cells[f"{key}_pct"] = pct_cell(count, denominator, min_cell)
    return cells


ROW_LABELS: tuple[tuple[str, str], ...] = (
    ("n_patients", "Patients (n)"),
    ("mean_sd", "WAI assessments per patient, mean (SD)"),
    ("range", "WAI assessments per patient, min\u2013max"),
    ("lacking_final_wai_pct", "Lacking the final WAI, %"),
    ("only_one_wai_pct", "Exactly one WAI, %"),
    ("only_one_within_first_year_pct", "Of these, made within the first year, %"),
    ("at_least_three_wai_pct", "At least three WAI, %"),
    ("at_least_four_wai_pct", "At least four WAI, %"),
    *((f"final_{m}_missing_pct", f"Lacking the final {label}, %") for m, label in OUTCOMES),
)
FULL_EXTRA: tuple[tuple[str, str], ...] = (
    ("lacking_final_wai_n", "Lacking the final WAI, n"),
    ("only_one_wai_n", "Exactly one WAI, n"),
    ("only_one_within_first_year_n", "Of these, made within the first year, n"),
    ("at_least_three_wai_n", "At least three WAI, n"),
    ("at_least_four_wai_n", "At least four WAI, n"),
    *((f"final_{m}_missing_n", f"Lacking the final {label}, n") for m, label in OUTCOMES),
)


def missing_summary_table(summary: Mapping[str, Any], min_cell: int) -> TableFrame:
    """Rows: the statistics; columns: All, Good, Poor, S_only, SR_only, both (paper: %; full: also counts)."""
    cells = {key: _cells(summary["groups"][key], min_cell) for key, *_ in GROUPS}
    columns = ["Statistic", *(header for _, header, *_ in GROUPS)]
    notes = (
        (
            "Good/Poor: GAF outcome subgroups (unclassified patients only in All); S_only, SR_only, both: "
            "WAI versions the patient answered (patients without a WAI only in All)."
        ),
        (
            "WAI assessments: administrations with at least one scored subscale. First year: assessment "
            f"at < {format_integer(FIRST_YEAR_MONTHS)} months; per cent of patients with exactly one WAI."
        ),
        *disclosure_note(min_cell),
        *undefined_note(pd.DataFrame(cells)),
    )

    right: tuple[Align, ...] = tuple("r" for _ in GROUPS)
    align: tuple[Align, ...] = ("l", *right)

    def layout(kind: str, labels: Sequence[tuple[str, str]]) -> TableLayout:
        rows = [[label, *(cells[key][stat] for key, *_ in GROUPS)] for stat, label in labels]
        return TableLayout(
            table_id="table_missing_data",
            layout="paper" if kind == "paper" else "full",
            number="M1",
            title=TABLE_TITLE,
            frame=pd.DataFrame(rows, columns=columns),
            align=align,
            notes=notes,
            model_ids=tuple(stat for stat, _ in labels),
        )

    return TableFrame("table_missing_data", layout("paper", ROW_LABELS), layout("full", ROW_LABELS + FULL_EXTRA))


# --------------------------------------------------------------------------------------------------
# Baseline with and without the final WAI
# --------------------------------------------------------------------------------------------------

WITH, WITHOUT = "With final WAI", "Without final WAI"


def compare_with_and_without_final(
    patients: pd.DataFrame, rows: Sequence[Any], min_cell: int, alpha: float = 0.05
) -> TableFrame:
    """Table II (same rows, same tests) with the groups "with" and "without the final WAI" (all patients).

    ``descriptives.table_2`` groups by ``outcome_group`` good/poor; the grouping is passed in that column
    and the headers, title and first note are relabelled.
    """
    regrouped = patients.copy()
    has_final = pd.to_numeric(regrouped["has_final_wai"], errors="coerce").fillna(0).eq(1)
    regrouped["outcome_group"] = np.where(has_final, "good", "poor")
    table = table_2(regrouped, rows, min_cell, alpha)
    n_with, n_without = int(has_final.sum()), int((~has_final).sum())
    title = "Baseline characteristics for MBT patients with and without the final WAI assessment."
    first_note = (
        "Notes: Descriptive data with mean values, standard deviations (SD), and valid per cent (%). All patients "
        f"(N = {count_cell(n_with + n_without, min_cell)}), grouped by whether they have the final WAI."
    )

    def relabel(name: str) -> str:
        for old, new in (
            ("Good outcome", WITH),
            ("Poor outcome", WITHOUT),
            ("Good ", WITH + " "),
            ("Poor ", WITHOUT + " "),
        ):
            if name.startswith(old):
                return new + name[len(old) :]
        return name

    def convert(layout: TableLayout, full: bool) -> TableLayout:
        frame = layout.frame.rename(columns=relabel)
        suffix = f" With n = {count_cell(n_with, min_cell)}, without n = {count_cell(n_without, min_cell)}."
        return dataclasses.replace(
            layout,
            table_id="table_missing_final_wai",
            number="M2",
            title=title + (suffix if full else ""),
            frame=frame,
            notes=(first_note, *layout.notes[1:]),
        )

    return TableFrame("table_missing_final_wai", convert(table.paper, False), convert(table.full, True))


# --------------------------------------------------------------------------------------------------
# summary.json
# --------------------------------------------------------------------------------------------------


# The count a share of the summary is taken of, where it is not the group's patients.
DENOMINATORS = {"only_one_within_first_year": "only_one_wai_n"}


def _withhold_group(name: str, group: dict[str, Any], min_cell: int) -> list[str]:
    """Withhold (in place) a group's small counts with their shares, or all of a small group's statistics;
    the withheld keys. A count is read after the counts before it are withheld, as its denominator may be."""
    n = group.get("n_patients")
    small_group = n is not None and is_small(float(n), min_cell)
    suppressed = []
    for key in list(group):
        if not key.endswith("_n") or key == "n_patients":
            continue
        stem = key[: -len("_n")]
        count = float(group[key]) if group[key] is not None else math.nan
        denominator = group.get(DENOMINATORS.get(stem, "n_patients"))
        total = float(denominator) if denominator is not None else math.nan
        if small_group or any(is_small(value, min_cell) for value in (count, total - count, total)):
            group[key] = None
            group[f"{stem}_pct"] = None
            suppressed.append(f"summary.groups.{name}.{stem}")
    if small_group:
        for key in list(group):
            if group[key] is not None:
                group[key] = None
        suppressed.append(f"summary.groups.{name}")
    return suppressed


def disclosed_record(record: Mapping[str, Any], min_cell: int) -> dict[str, Any]:
    """The summary record with every count resting on 1 .. min_cell - 1 patients set to null.

    As in the tables: a count ``<stat>_n`` is withheld (with its ``_pct``) when it, its complement in
    the group or the group itself is small; every statistic of a small group is withheld; and so is a
    small number of patients assessed at a wave. Withheld keys are listed under ``suppressed``.
    """
    out = copy.deepcopy(dict(record))
    suppressed: list[str] = []
    if min_cell <= 0:
        out["suppressed"] = suppressed
        return out
    for name, group in out["summary"]["groups"].items():
        suppressed += _withhold_group(name, group, min_cell)
    for measure, waves in out["outcome_patients_by_wave"].items():
        for wave, count in waves.items():
            if count is not None and is_small(float(count), min_cell):
                waves[wave] = None
                suppressed.append(f"outcome_patients_by_wave.{measure}.{wave}")
    out["suppressed"] = sorted(set(suppressed))
    return out


# --------------------------------------------------------------------------------------------------
# The step
# --------------------------------------------------------------------------------------------------


def write_missing_data(
    patients: pd.DataFrame,
    wai_long: pd.DataFrame,
    outcomes_long: pd.DataFrame,
    files: Mapping[str, Path],
    min_cell: int,
    rows: Sequence[Any] | None = None,
) -> list[Path]:
    """``summary.json`` (summary, MCAR test on the WAI total by wave, outcome observations per wave) and
    ``table_missing_data{,_full}.{csv,md,html,tex}``; with ``rows`` (Table II rows) also
    ``table_missing_final_wai{,_full}.*``; each to its declared path in ``files`` (by file name).

    summary.json is publishable like the tables, so its counts are disclosure-controlled too
    (:func:`disclosed_record`).
    """
    json_path = file_layout.declared(files, file_layout.MISSING_DATA_SUMMARY)
    summary = missing_summary(patients, wai_long)
    tables = [missing_summary_table(summary, min_cell)]
    if rows is not None:
        tables.append(compare_with_and_without_final(patients, rows, min_cell))
    written = write_tables(tables, files)
    record = {
        "summary": summary,
        "mcar_wai_total_by_wave": little_mcar_test(wave_matrix(wai_long, "total")),
        "outcome_patients_by_wave": outcome_observations(outcomes_long),
        "min_cell": int(min_cell),
    }
    json_path.parent.mkdir(parents=True, exist_ok=True)
    write_json(jsonable(disclosed_record(record, min_cell)), json_path)
    return [json_path, *written]
