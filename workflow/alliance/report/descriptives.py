"""Descriptive tables of Folmo et al. (2020): Table I (WAI items), Table II (baseline by outcome subgroup)
and the admission-to-discharge change of GAF, WSAS and BSI reported in the text.

DataFrames in, :class:`~alliance.report.formatting.TableFrame` out; every cell is a formatted string, so the
renderers of :mod:`alliance.report.formatting` lay them out and the same inputs always give the same bytes.
The rows of Table II are declared in ``config/tables.yaml`` (:mod:`alliance.report.table_rows`).

Disclosure (:mod:`alliance.report.disclosure`): with ``min_cell`` > 0 a count, or a percentage or mean
resting on 1 .. ``min_cell`` - 1 patients (the numerator of a percentage, any group size or denominator),
is printed as ``"< min_cell"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from alliance.data.instruments import Instruments, WaiVersion
from alliance.report.disclosure import (
    UNDEFINED,
    count_cell,
    disclosure_note,
    is_small,
    mean_sd_cell,
    pct_cell,
    small_text,
    undefined_note,
)
from alliance.report.formatting import (
    DAGGER,
    DOUBLE_DAGGER,
    Align,
    TableFrame,
    TableLayout,
    format_fixed,
    format_integer,
    format_p,
    stars,
    write_tables,
)
from alliance.report.table_rows import RowSpec, row_specs
from alliance.stats.group_tests import TestResult, compare_groups

GROUPS = ("good", "poor")
WELCH_MARK = DAGGER
FISHER_MARK = DOUBLE_DAGGER
CHI2 = "chi2"  # ASCII: LaTeX without Greek in text mode


# --------------------------------------------------------------------------------------------------
# Table I
# --------------------------------------------------------------------------------------------------

TABLE_1_TITLE = "Working alliance inventory\u2014items according to WAI-S and WAI-SR."


def _item_text(version: WaiVersion, item: int) -> str:
    text = f"{item}. {version.wording.get(item, '')}".rstrip()
    return text + (" (R)" if item in version.reversed_items else "")


def table_1(instruments: Instruments) -> TableFrame:
    """WAI items of every configured version by subscale (columns in the version's subscale order)."""
    versions = list(instruments.wai.versions.values())
    subscales = list(versions[0].subscales) if versions else list(instruments.wai.subscales)
    paper_columns = ["Version", *(s.capitalize() for s in subscales)]
    paper_rows: list[list[str]] = []
    paper_ids: list[str] = []
    full_rows: list[list[str]] = []
    full_ids: list[str] = []
    for version in versions:
        items = {s: sorted(version.subscales[s]) for s in subscales}
        for index in range(max((len(v) for v in items.values()), default=0)):
            cells = [_item_text(version, items[s][index]) if index < len(items[s]) else "" for s in subscales]
            paper_rows.append([version.name if index == 0 else "", *cells])
            paper_ids.append(f"{version.name}:{index + 1}")
        by_item = {i: s for s, numbers in version.subscales.items() for i in numbers}
        for item in sorted(by_item):
            full_rows.append(
                [
                    version.name,
                    str(item),
                    by_item[item].capitalize(),
                    "yes" if item in version.reversed_items else "",
                    version.wording.get(item, ""),
                    f"{version.scale_min}\u2013{version.scale_max}",
                ]
            )
            full_ids.append(f"{version.name}:{item}")
    reversed_note = (
        "(R): reversed item, scored (scale minimum + scale maximum) - answer.",
        "__: the therapist's name.",
    )
    paper = TableLayout(
        table_id="table_1",
        layout="paper",
        number="I",
        title=TABLE_1_TITLE,
        frame=pd.DataFrame(paper_rows, columns=paper_columns),
        align=tuple("l" for _ in paper_columns),
        notes=reversed_note,
        model_ids=tuple(paper_ids),
    )
    full_columns = ["Version", "Item", "Subscale", "Reversed", "Wording", "Scale"]
    full = TableLayout(
        table_id="table_1",
        layout="full",
        number="I",
        title=TABLE_1_TITLE + " One row per item.",
        frame=pd.DataFrame(full_rows, columns=full_columns),
        align=("l", "r", "l", "l", "l", "r"),
        notes=reversed_note,
        model_ids=tuple(full_ids),
    )
    return TableFrame(table_id="table_1", paper=paper, full=full)


# --------------------------------------------------------------------------------------------------
# Table II
# --------------------------------------------------------------------------------------------------

TABLE_2_TITLE = "Baseline characteristics for MBT patients in subgroups with good and poor outcomes."


def classified(patients: pd.DataFrame) -> pd.DataFrame:
    """Patients in the good or poor outcome subgroup (unclassified excluded)."""
    return patients[patients["outcome_group"].isin(GROUPS)]


def indicator(patients: pd.DataFrame, spec: RowSpec) -> pd.Series:
    """1.0 / 0.0 / NaN: the patient has the counted value, has another value, is missing."""
    if spec.column not in patients.columns:
        raise KeyError(f"Table II row {spec.label!r}: no column {spec.column!r} in the patients table")
    raw = patients[spec.column]
    missing = raw.isna() | raw.astype(str).str.strip().eq("")
    if spec.equals is None:
        hit = pd.to_numeric(raw, errors="coerce").eq(1)
    elif isinstance(spec.equals, str):
        hit = raw.astype(str).str.strip().eq(spec.equals)
    else:
        hit = pd.to_numeric(raw, errors="coerce").eq(float(spec.equals))
    return hit.astype("float64").where(~missing)


def numeric(patients: pd.DataFrame, spec: RowSpec) -> pd.Series:
    if spec.column not in patients.columns:
        raise KeyError(f"Table II row {spec.label!r}: no column {spec.column!r} in the patients table")
    return pd.to_numeric(patients[spec.column], errors="coerce").astype("float64")


def row_values(patients: pd.DataFrame, spec: RowSpec) -> pd.Series:
    """The row's value of each patient: :func:`indicator` for a percentage, :func:`numeric` for a mean."""
    return indicator(patients, spec) if spec.kind == "pct" else numeric(patients, spec)


def by_group(values: pd.Series, patients: pd.DataFrame) -> dict[str, pd.Series]:
    """The non-missing ``values`` of each outcome subgroup (good, poor) of ``patients``."""
    return {g: values[patients["outcome_group"].eq(g)].dropna() for g in GROUPS}


def statistic_cell(result: TestResult) -> str:
    if result.test in ("t", "Welch t"):
        df = format_fixed(result.df, 1) if result.test == "Welch t" else format_integer(result.df)
        return f"t({df}) = {format_fixed(result.statistic, 2)}" + (WELCH_MARK if result.test == "Welch t" else "")
    if result.test == "chi-square":
        return f"{CHI2}({format_integer(result.df)}) = {format_fixed(result.statistic, 2)}"
    if result.test == "Fisher":
        return "Fisher" + FISHER_MARK
    return ""


@dataclass(frozen=True)
class RowResult:
    spec: RowSpec
    n: Mapping[str, int]  # valid n per group
    count: Mapping[str, float]  # patients with the value (pct) per group; NaN for means
    cell: Mapping[str, str]
    test: TestResult
    n_missing: int


def describe_row(patients: pd.DataFrame, spec: RowSpec, min_cell: int) -> RowResult:
    """One Table II row on classified patients."""
    values = row_values(patients, spec)
    groups = by_group(values, patients)
    n = {g: int(groups[g].size) for g in GROUPS}
    if spec.kind == "pct":
        count = {g: float(groups[g].sum()) for g in GROUPS}
        cell = {g: pct_cell(count[g], n[g], min_cell) for g in GROUPS}
    else:
        count = {g: math.nan for g in GROUPS}
        cell = {g: mean_sd_cell(groups[g], spec.decimals, min_cell) for g in GROUPS}
    return RowResult(spec, n, count, cell, compare_groups(groups, spec.kind), int(values.isna().sum()))


def _group_header(group: str, n: int, min_cell: int) -> str:
    name = "Good outcome" if group == "good" else "Poor outcome"
    return f"{name} (n = {count_cell(n, min_cell)}) mean (SD) or %"


TABLE_2_FULL_COLUMNS = (
    "Section",
    "Characteristic",
    "Column",
    "Kind",
    "Good n",
    "Good count",
    "Good",
    "Poor n",
    "Poor count",
    "Poor",
    "Test",
    "Statistic",
    "df",
    "p",
    "Levene p / min expected",
    "n missing",
)
TABLE_2_FULL_ALIGN: tuple[Align, ...] = ("l", "l", "l", "l", *(("r",) * 6), "l", *(("r",) * 5))


def _test_withheld(result: RowResult, min_cell: int) -> bool:
    """A test of a withheld cell (e.g. Fisher's exact p with the group sizes) can give the count away."""
    return min_cell > 0 and small_text(min_cell) in (result.cell["good"], result.cell["poor"])


def _paper_row(result: RowResult, alpha: float, min_cell: int) -> list[str]:
    test = result.test
    statistic, p = statistic_cell(test), format_p(test.p_value)
    mark = stars(test.p_value) if not math.isnan(test.p_value) and test.p_value < alpha else ""
    if _test_withheld(result, min_cell):
        statistic, p, mark = small_text(min_cell), small_text(min_cell), ""
    missing = count_cell(result.n_missing, min_cell)
    return [result.spec.label, result.cell["good"], result.cell["poor"], statistic, p, mark, missing]


def _full_row(result: RowResult, min_cell: int) -> list[str]:
    spec, test = result.spec, result.test
    withheld = small_text(min_cell)
    missing = count_cell(result.n_missing, min_cell)
    # The valid n per group and the group sizes add up to the missing count: withhold them with it.
    valid_withheld = min_cell > 0 and missing == withheld
    detail = format_p(test.detail) if test.test in ("t", "Welch t") else format_fixed(test.detail, 2)
    df = format_fixed(test.df, 2) if test.test == "Welch t" else format_integer(test.df)
    shown = {"Statistic": format_fixed(test.statistic, 3), "df": df, "p": format_p(test.p_value), "detail": detail}
    if _test_withheld(result, min_cell):
        shown = {key: withheld for key in shown}

    def group(name: str) -> list[str]:
        n = withheld if valid_withheld else count_cell(result.n[name], min_cell)
        return [n, count_cell(result.count[name], min_cell), result.cell[name]]

    column = spec.column + (f" = {spec.equals}" if spec.equals is not None else "")
    return [
        spec.section,
        spec.label,
        column,
        spec.kind,
        *group("good"),
        *group("poor"),
        test.test,
        shown["Statistic"],
        shown["df"],
        shown["p"],
        shown["detail"],
        missing,
    ]


def _table_2_paper_rows(results: Sequence[RowResult], alpha: float, min_cell: int) -> tuple[list[list[str]], list[str]]:
    """The paper's rows (a heading row where the section changes) and the key of each."""
    rows: list[list[str]] = []
    ids: list[str] = []
    section = None
    for result in results:
        spec = result.spec
        if spec.section and spec.section != section:
            rows.append([spec.section, "", "", "", "", "", ""])
            ids.append(f"section:{spec.section}")
        section = spec.section
        rows.append(_paper_row(result, alpha, min_cell))
        ids.append(spec.column)
    return rows, ids


def _table_2_notes(n_classified: int, alpha: float, min_cell: int, *frames: pd.DataFrame) -> tuple[str, ...]:
    a = format(alpha, "g")
    withheld_tests = (
        "Where a group's cell is withheld, so is the row's test; where n missing is withheld, so are "
        "the groups' valid n (together they would give the withheld count)."
    )
    return (
        (
            "Notes: Descriptive data with mean values, standard deviations (SD), and valid per cent (%). Patients "
            f"without a final GAF are excluded (classified N = {count_cell(n_classified, min_cell)})."
        ),
        (
            "Mean rows: independent samples t-test; percentage rows: Pearson chi-square test (no continuity "
            "correction). n missing: classified patients without a value."
        ),
        f"{WELCH_MARK} Welch's t-test (unequal variances), because Levene's test gave p < .05.",
        f"{FISHER_MARK} Fisher's exact test (two-sided), because an expected cell count was below 5.",
        f"Significant differences (p < {a}) are marked with * (p < 0.05) ** (p < 0.01) or *** (p < 0.001).",
        *disclosure_note(min_cell),
        *undefined_note(*frames),
        *((withheld_tests,) if min_cell > 0 else ()),
    )


def table_2(
    patients: pd.DataFrame, rows: Sequence[RowSpec | Mapping[str, Any]], min_cell: int, alpha: float = 0.05
) -> TableFrame:
    """Baseline characteristics by GAF outcome subgroup (good vs poor), with tests and missing counts."""
    data = classified(patients)
    group_n = {g: int(data["outcome_group"].eq(g).sum()) for g in GROUPS}
    results = [describe_row(data, spec, min_cell) for spec in row_specs(rows)]
    paper_rows, paper_ids = _table_2_paper_rows(results, alpha, min_cell)
    full_rows = [_full_row(result, min_cell) for result in results]
    notes = _table_2_notes(sum(group_n.values()), alpha, min_cell, pd.DataFrame(paper_rows), pd.DataFrame(full_rows))
    headers = [_group_header(g, group_n[g], min_cell) for g in GROUPS]
    paper = TableLayout(
        table_id="table_2",
        layout="paper",
        number="II",
        title=TABLE_2_TITLE,
        frame=pd.DataFrame(
            paper_rows, columns=["Characteristic", *headers, "Test statistic", "p", "Sig.", "n missing"]
        ),
        align=("l", "r", "r", "r", "r", "l", "r"),
        notes=notes,
        model_ids=tuple(paper_ids),
    )
    sizes = f" Good n = {count_cell(group_n['good'], min_cell)}, poor n = {count_cell(group_n['poor'], min_cell)}."
    full = TableLayout(
        table_id="table_2",
        layout="full",
        number="II",
        title=TABLE_2_TITLE + sizes,
        frame=pd.DataFrame(full_rows, columns=list(TABLE_2_FULL_COLUMNS)),
        align=TABLE_2_FULL_ALIGN,
        notes=notes,
        model_ids=tuple(r.spec.column for r in results),
    )
    return TableFrame(table_id="table_2", paper=paper, full=full)


# --------------------------------------------------------------------------------------------------
# Outcome change
# --------------------------------------------------------------------------------------------------

OUTCOME_CHANGE_TITLE = "Clinical outcomes at admission and discharge (observed values)."
OUTCOME_MEASURES = (("gaf", "GAF"), ("wsas", "WSAS"), ("bsi", "BSI"))
OUTCOME_CHANGE_PAPER_COLUMNS = (
    "Measure",
    "Admission mean (SD)",
    "Discharge mean (SD)",
    "n",
    "Below cut-off at discharge %",
    "n with discharge score",
    "Of these, good GAF outcome %",
)
OUTCOME_CHANGE_FULL_COLUMNS = (
    "Measure",
    "Admission mean",
    "Admission SD",
    "Discharge mean",
    "Discharge SD",
    "Mean change",
    "n both",
    "n admission",
    "n discharge",
    "Cut-off",
    "Below cut-off n",
    "Below cut-off %",
    "Below cut-off and good GAF n",
    "Of these, good GAF outcome %",
)


def _statistic_cell(values: pd.Series, what: str, small: bool, min_cell: int) -> str:
    """Mean or SD to 2 decimals; "< min_cell" when it rests on too few patients."""
    if small:
        return small_text(min_cell)
    if values.empty:
        return UNDEFINED
    return format_fixed(float(values.mean()) if what == "mean" else float(values.std(ddof=1)), 2)


@dataclass(frozen=True)
class BelowCutoff:
    """A measure's share below its cut-off at discharge and, of these, the share in the good GAF subgroup
    (blank for GAF, whose cut-off defines the subgroups)."""

    cutoff: str = ""
    n_final: str = ""  # patients with a discharge score
    below_n: float = math.nan
    below_pct: str = ""
    also_good_n: float = math.nan
    also_good_pct: str = ""


def below_cutoff(patients: pd.DataFrame, measure: str, min_cell: int, thresholds: Mapping[str, float]) -> BelowCutoff:
    """From ``<measure>_outcome`` ("good": below the cut-off at discharge); ``thresholds`` only label."""
    group_column = f"{measure}_outcome"
    if measure == "gaf" or group_column not in patients.columns:
        return BelowCutoff()
    status = patients[group_column].fillna("").astype(str)
    n_final = int(status.isin(GROUPS).sum())
    below = status.eq("good")
    gaf_group = patients["outcome_group"].fillna("").astype(str)
    below_classified = below & gaf_group.isin(GROUPS)
    also_good = float((below_classified & gaf_group.eq("good")).sum())
    return BelowCutoff(
        cutoff=f"< {format(float(thresholds[measure]), 'g')}" if measure in thresholds else "",
        n_final=count_cell(n_final, min_cell),
        below_n=float(below.sum()),
        below_pct=pct_cell(float(below.sum()), n_final, min_cell),
        also_good_n=also_good,
        also_good_pct=pct_cell(also_good, float(below_classified.sum()), min_cell),
    )


def _scores(patients: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(patients[column], errors="coerce").astype("float64")


def _change_rows(
    patients: pd.DataFrame, measure: str, label: str, min_cell: int, thresholds: Mapping[str, float]
) -> tuple[list[str], list[str]]:
    """A measure's row of the paper's layout and of the full one."""
    baseline, final = _scores(patients, f"baseline_{measure}"), _scores(patients, f"final_{measure}")
    both = baseline.notna() & final.notna()
    n_both = int(both.sum())
    below = below_cutoff(patients, measure, min_cell, thresholds)
    start, end = baseline[both], final[both]
    small = is_small(n_both, min_cell)
    paper = [
        label + (f" ({below.cutoff})" if below.cutoff else ""),
        mean_sd_cell(start, 1, min_cell),
        mean_sd_cell(end, 1, min_cell),
        count_cell(n_both, min_cell),
        below.below_pct,
        below.n_final,
        below.also_good_pct,
    ]
    full = [
        label,
        *(_statistic_cell(values, what, small, min_cell) for values, what in _change_statistics(start, end)),
        count_cell(n_both, min_cell),
        count_cell(float(baseline.notna().sum()), min_cell),
        count_cell(float(final.notna().sum()), min_cell),
        below.cutoff,
        count_cell(below.below_n, min_cell),
        below.below_pct,
        count_cell(below.also_good_n, min_cell),
        below.also_good_pct,
    ]
    return paper, full


def _change_statistics(start: pd.Series, end: pd.Series) -> list[tuple[pd.Series, str]]:
    """Admission mean and SD, discharge mean and SD, mean change: the full layout's statistics in order."""
    return [(start, "mean"), (start, "sd"), (end, "mean"), (end, "sd"), (end - start, "mean")]


def _outcome_change_notes(min_cell: int, absent: Sequence[str], *frames: pd.DataFrame) -> tuple[str, ...]:
    not_collected = f"Not collected in this cohort (no assessments at admission or discharge): {', '.join(absent)}."
    return (
        "Observed admission and discharge values of patients with both; n: number of such patients.",
        (
            "Below cut-off at discharge: WSAS sum below its cut-off (mild or no impairment) and BSI-18 mean below "
            "its cut-off (non-clinical distress), per cent of patients with a discharge score. Of these, good GAF "
            "outcome: per cent in the good outcome subgroup (final GAF at or above the cut-off) among those with a "
            "final GAF."
        ),
        *disclosure_note(min_cell),
        *undefined_note(*frames),
        *((not_collected,) if absent else ()),
    )


def outcome_change(patients: pd.DataFrame, min_cell: int, thresholds: Mapping[str, float] | None = None) -> TableFrame:
    """GAF, WSAS and BSI at admission and discharge (patients with both), and for WSAS and BSI the share
    below the cut-off at discharge (of those with a final score; ``<measure>_outcome`` == "good") and, of
    these, the share in the good GAF outcome subgroup (of those with a GAF subgroup).

    ``thresholds`` (e.g. ``{"wsas": 15, "bsi": 0.8}``) only label the rows.
    """
    paper_rows: list[list[str]] = []
    full_rows: list[list[str]] = []
    measures: list[str] = []
    absent: list[str] = []
    for measure, label in OUTCOME_MEASURES:
        collected = _scores(patients, f"baseline_{measure}").notna() | _scores(patients, f"final_{measure}").notna()
        if not collected.any():
            absent.append(label)  # an optional instrument the cohort did not collect: its row leaves the table
            continue
        measures.append(measure)
        paper, full = _change_rows(patients, measure, label, min_cell, thresholds or {})
        paper_rows.append(paper)
        full_rows.append(full)
    notes = _outcome_change_notes(min_cell, absent, pd.DataFrame(paper_rows), pd.DataFrame(full_rows))

    right: Align = "r"

    def layout(kind: str, rows: list[list[str]], columns: Sequence[str], title: str) -> TableLayout:
        return TableLayout(
            table_id="table_outcome_change",
            layout="paper" if kind == "paper" else "full",
            number="S1",
            title=title,
            frame=pd.DataFrame(rows, columns=list(columns)),
            align=("l", *(right for _ in columns[1:])),
            notes=notes,
            model_ids=tuple(measures),
        )

    return TableFrame(
        table_id="table_outcome_change",
        paper=layout("paper", paper_rows, OUTCOME_CHANGE_PAPER_COLUMNS, OUTCOME_CHANGE_TITLE),
        full=layout("full", full_rows, OUTCOME_CHANGE_FULL_COLUMNS, OUTCOME_CHANGE_TITLE + " All statistics."),
    )


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def write_descriptive_tables(
    patients: pd.DataFrame,
    instruments: Instruments,
    rows: Sequence[RowSpec | Mapping[str, Any]],
    files: Mapping[str, Path],
    min_cell: int,
    alpha: float = 0.05,
) -> list[Path]:
    """``table_1``, ``table_2`` and ``table_outcome_change`` (both layouts, four formats), each file to its
    declared path in ``files`` (by file name)."""
    thresholds = {"wsas": instruments.wsas.outcome_threshold, "bsi": instruments.bsi.outcome_threshold}
    tables = [
        table_1(instruments),
        table_2(patients, rows, min_cell, alpha=alpha),
        outcome_change(patients, min_cell, thresholds),
    ]
    return write_tables(tables, files)
