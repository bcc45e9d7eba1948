"""Descriptive tables of Folmo et al. (2020): Table I (WAI items), Table II (baseline by outcome subgroup)
and the admission-to-discharge change of GAF, WSAS and BSI reported in the text.

DataFrames in, :class:`~alliance.report.tables.TableFrame` out; every cell is a formatted string, so the renderers of
:mod:`alliance.report.tables` lay them out and the same inputs always give the same bytes.

Disclosure: with ``min_cell`` > 0 a count, or a percentage or mean resting on 1 .. ``min_cell`` - 1 patients
(the numerator of a percentage, any group size or denominator), is printed as ``"< min_cell"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from scipy import stats
from scipy.stats.contingency import expected_freq

from alliance.data.instruments import Instruments, WaiVersion
from alliance.report.tables import (
    DAGGER,
    DOUBLE_DAGGER,
    Align,
    TableFrame,
    TableLayout,
    format_fixed,
    format_integer,
    format_p,
    stars,
    write_table,
)

Kind = Literal["pct", "mean"]
GROUPS = ("good", "poor")
WELCH_MARK = DAGGER
FISHER_MARK = DOUBLE_DAGGER
CHI2 = "chi2"  # ASCII: LaTeX without Greek in text mode


# --------------------------------------------------------------------------------------------------
# Row declarations (config/tables.yaml)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowSpec:
    """One row of Table II: a percentage of a 0/1 (or ``equals``) column, or a mean (SD)."""

    label: str
    column: str
    kind: Kind
    equals: str | float | None = None
    section: str = ""
    decimals: int = 1

    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any]) -> RowSpec:
        kind = str(spec["kind"])
        if kind not in ("pct", "mean"):
            raise ValueError(f"Table II row {spec.get('label')!r}: kind must be pct or mean, not {kind!r}")
        if kind == "mean" and spec.get("equals") is not None:
            raise ValueError(f"Table II row {spec.get('label')!r}: equals is for kind pct only")
        return cls(
            label=str(spec["label"]),
            column=str(spec["column"]),
            kind="pct" if kind == "pct" else "mean",
            equals=spec.get("equals"),
            section=str(spec.get("section", "")),
            decimals=int(spec.get("decimals", 1)),
        )


def row_specs(rows: Sequence[RowSpec | Mapping[str, Any]]) -> tuple[RowSpec, ...]:
    return tuple(r if isinstance(r, RowSpec) else RowSpec.from_mapping(r) for r in rows)


def load_table_rows(path: str | Path) -> tuple[RowSpec, ...]:
    """The ``table_2.rows`` of ``config/tables.yaml``."""
    with open(path, encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    return row_specs(spec["table_2"]["rows"])


# --------------------------------------------------------------------------------------------------
# Disclosure
# --------------------------------------------------------------------------------------------------


def is_small(count: float, min_cell: int) -> bool:
    """True for 0 < count < min_cell (min_cell 0 disables)."""
    return min_cell > 0 and not math.isnan(count) and 0 < count < min_cell


def small_text(min_cell: int) -> str:
    return f"< {min_cell}"


# A share or mean of no one is not defined: a dash, explained by a note (never a blank a reader must guess).
UNDEFINED = "\u2013"
UNDEFINED_NOTE = f"{UNDEFINED}: not defined (no patients in the group)."


def undefined_note(*frames: pd.DataFrame) -> tuple[str, ...]:
    return (UNDEFINED_NOTE,) if any(frame.isin([UNDEFINED]).any().any() for frame in frames) else ()


def count_cell(count: float, min_cell: int) -> str:
    return small_text(min_cell) if is_small(count, min_cell) else format_integer(count)


def pct_cell(count: float, n: float, min_cell: int, decimals: int = 0) -> str:
    """Per cent ``count / n``; "< min_cell" when the numerator, its complement or the denominator is small.

    The complement counts too: 98 % of 100 reveals the 2 patients without the characteristic.
    UNDEFINED when n is 0.
    """
    if is_small(count, min_cell) or is_small(n, min_cell) or (not math.isnan(n) and is_small(n - count, min_cell)):
        return small_text(min_cell)
    if math.isnan(n) or n == 0:
        return UNDEFINED
    return format_fixed(100.0 * count / n, decimals)


def mean_sd_cell(values: pd.Series, decimals: int, min_cell: int) -> str:
    n = float(values.size)
    if is_small(n, min_cell):
        return small_text(min_cell)
    if n == 0:
        return UNDEFINED
    sd = float(values.std(ddof=1)) if n > 1 else math.nan
    mean = format_fixed(float(values.mean()), decimals)
    return f"{mean} ({format_fixed(sd, decimals)})" if not math.isnan(sd) else mean


def disclosure_note(min_cell: int) -> tuple[str, ...]:
    if min_cell <= 0:
        return ()
    return (
        (
            f"{small_text(min_cell)}: a count, or a percentage or mean resting on 1 to {min_cell - 1} patients "
            "(or whose complement does), is not shown (disclosure control)."
        ),
    )


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


@dataclass(frozen=True)
class TestResult:
    test: str  # "t", "Welch t", "chi-square", "Fisher", ""
    statistic: float
    df: float
    p_value: float
    detail: float  # Levene p (means) or smallest expected count (percentages)


NO_TEST = TestResult("", math.nan, math.nan, math.nan, math.nan)


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


def compare_means(good: pd.Series, poor: pd.Series) -> TestResult:
    """Student's t-test, or Welch's when Levene's test (mean-centred, as SPSS) gives p < .05."""
    a, b = good.to_numpy(dtype="float64"), poor.to_numpy(dtype="float64")
    if a.size < 2 or b.size < 2 or (np.ptp(a) == 0 and np.ptp(b) == 0):
        return NO_TEST
    levene_p = float(stats.levene(a, b, center="mean").pvalue)
    welch = not math.isnan(levene_p) and levene_p < 0.05
    result = stats.ttest_ind(a, b, equal_var=not welch)
    return TestResult(
        "Welch t" if welch else "t", float(result.statistic), float(result.df), float(result.pvalue), levene_p
    )


def compare_proportions(good: pd.Series, poor: pd.Series) -> TestResult:
    """Pearson chi-square (no continuity correction), or Fisher's exact test when an expected count is < 5."""
    table = np.array([[good.sum(), good.size - good.sum()], [poor.sum(), poor.size - poor.sum()]], dtype="float64")
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return NO_TEST
    smallest = float(expected_freq(table).min())
    if smallest < 5:
        fisher = stats.fisher_exact(table.astype("int64"))
        return TestResult("Fisher", float(fisher.statistic), math.nan, float(fisher.pvalue), smallest)
    chi2 = stats.chi2_contingency(table, correction=False)
    return TestResult("chi-square", float(chi2.statistic), float(chi2.dof), float(chi2.pvalue), smallest)


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
    values = indicator(patients, spec) if spec.kind == "pct" else numeric(patients, spec)
    by_group = {g: values[patients["outcome_group"].eq(g)].dropna() for g in GROUPS}
    n = {g: int(by_group[g].size) for g in GROUPS}
    if spec.kind == "pct":
        count = {g: float(by_group[g].sum()) for g in GROUPS}
        cell = {g: pct_cell(count[g], n[g], min_cell) for g in GROUPS}
        test = compare_proportions(by_group["good"], by_group["poor"])
    else:
        count = {g: math.nan for g in GROUPS}
        cell = {g: mean_sd_cell(by_group[g], spec.decimals, min_cell) for g in GROUPS}
        test = compare_means(by_group["good"], by_group["poor"])
    return RowResult(spec, n, count, cell, test, int(values.isna().sum()))


def _group_header(group: str, n: int, min_cell: int) -> str:
    name = "Good outcome" if group == "good" else "Poor outcome"
    return f"{name} (n = {count_cell(n, min_cell)}) mean (SD) or %"


def table_2(
    patients: pd.DataFrame, rows: Sequence[RowSpec | Mapping[str, Any]], min_cell: int, alpha: float = 0.05
) -> TableFrame:
    """Baseline characteristics by GAF outcome subgroup (good vs poor), with tests and missing counts."""
    specs = row_specs(rows)
    data = classified(patients)
    group_n = {g: int(data["outcome_group"].eq(g).sum()) for g in GROUPS}
    results = [describe_row(data, spec, min_cell) for spec in specs]
    good_header, poor_header = (_group_header(g, group_n[g], min_cell) for g in GROUPS)
    paper_columns = ["Characteristic", good_header, poor_header, "Test statistic", "p", "Sig.", "n missing"]
    full_columns = [
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
    ]
    paper_rows: list[list[str]] = []
    paper_ids: list[str] = []
    full_rows: list[list[str]] = []
    section = None
    for result in results:
        spec, test = result.spec, result.test
        if spec.section and spec.section != section:
            paper_rows.append([spec.section, "", "", "", "", "", ""])
            paper_ids.append(f"section:{spec.section}")
        section = spec.section
        p = format_p(test.p_value)
        mark = stars(test.p_value) if not math.isnan(test.p_value) and test.p_value < alpha else ""
        missing = count_cell(result.n_missing, min_cell)
        statistic = statistic_cell(test)
        withheld = small_text(min_cell)
        # A test of a withheld cell (e.g. Fisher's exact p with the group sizes) can give the count away.
        test_withheld = min_cell > 0 and withheld in (result.cell["good"], result.cell["poor"])
        if test_withheld:
            statistic, p, mark = withheld, withheld, ""
        # The valid n per group and the group sizes add up to the missing count: withhold them with it.
        valid_withheld = min_cell > 0 and missing == withheld
        paper_rows.append([spec.label, result.cell["good"], result.cell["poor"], statistic, p, mark, missing])
        paper_ids.append(spec.column)
        detail = format_p(test.detail) if test.test in ("t", "Welch t") else format_fixed(test.detail, 2)
        full_rows.append(
            [
                spec.section,
                spec.label,
                spec.column + (f" = {spec.equals}" if spec.equals is not None else ""),
                spec.kind,
                withheld if valid_withheld else count_cell(result.n["good"], min_cell),
                count_cell(result.count["good"], min_cell),
                result.cell["good"],
                withheld if valid_withheld else count_cell(result.n["poor"], min_cell),
                count_cell(result.count["poor"], min_cell),
                result.cell["poor"],
                test.test,
                withheld if test_withheld else format_fixed(test.statistic, 3),
                withheld
                if test_withheld
                else (format_fixed(test.df, 2) if test.test == "Welch t" else format_integer(test.df)),
                p,
                withheld if test_withheld else detail,
                missing,
            ]
        )
    n_total = group_n["good"] + group_n["poor"]
    a = format(alpha, "g")
    notes = (
        (
            "Notes: Descriptive data with mean values, standard deviations (SD), and valid per cent (%). Patients "
            f"without a final GAF are excluded (classified N = {count_cell(n_total, min_cell)})."
        ),
        (
            "Mean rows: independent samples t-test; percentage rows: Pearson chi-square test (no continuity "
            "correction). n missing: classified patients without a value."
        ),
        f"{WELCH_MARK} Welch's t-test (unequal variances), because Levene's test gave p < .05.",
        f"{FISHER_MARK} Fisher's exact test (two-sided), because an expected cell count was below 5.",
        f"Significant differences (p < {a}) are marked with * (p < 0.05) ** (p < 0.01) or *** (p < 0.001).",
        *disclosure_note(min_cell),
        *undefined_note(pd.DataFrame(paper_rows), pd.DataFrame(full_rows)),
        *(
            (
                (
                    "Where a group's cell is withheld, so is the row's test; where n missing is withheld, so are "
                    "the groups' valid n (together they would give the withheld count)."
                ),
            )
            if min_cell > 0
            else ()
        ),
    )
    paper = TableLayout(
        table_id="table_2",
        layout="paper",
        number="II",
        title=TABLE_2_TITLE,
        frame=pd.DataFrame(paper_rows, columns=paper_columns),
        align=("l", "r", "r", "r", "r", "l", "r"),
        notes=notes,
        model_ids=tuple(paper_ids),
    )
    full_align: tuple[Align, ...] = ("l", "l", "l", "l", *(("r",) * 6), "l", *(("r",) * 5))
    full = TableLayout(
        table_id="table_2",
        layout="full",
        number="II",
        title=TABLE_2_TITLE
        + f" Good n = {count_cell(group_n['good'], min_cell)}, poor n = {count_cell(group_n['poor'], min_cell)}.",
        frame=pd.DataFrame(full_rows, columns=full_columns),
        align=full_align,
        notes=notes,
        model_ids=tuple(r.spec.column for r in results),
    )
    return TableFrame(table_id="table_2", paper=paper, full=full)


# --------------------------------------------------------------------------------------------------
# Outcome change
# --------------------------------------------------------------------------------------------------

OUTCOME_CHANGE_TITLE = "Clinical outcomes at admission and discharge (observed values)."
OUTCOME_MEASURES = (("gaf", "GAF"), ("wsas", "WSAS"), ("bsi", "BSI"))


def _statistic_cell(values: pd.Series, what: str, small: bool, min_cell: int) -> str:
    """Mean or SD to 2 decimals; "< min_cell" when it rests on too few patients."""
    if small:
        return small_text(min_cell)
    if values.empty:
        return UNDEFINED
    return format_fixed(float(values.mean()) if what == "mean" else float(values.std(ddof=1)), 2)


def outcome_change(patients: pd.DataFrame, min_cell: int, thresholds: Mapping[str, float] | None = None) -> TableFrame:
    """GAF, WSAS and BSI at admission and discharge (patients with both), and for WSAS and BSI the share
    below the cut-off at discharge (of those with a final score; ``<measure>_outcome`` == "good") and, of
    these, the share in the good GAF outcome subgroup (of those with a GAF subgroup).

    ``thresholds`` (e.g. ``{"wsas": 15, "bsi": 0.8}``) only label the rows.
    """
    thresholds = thresholds or {}
    paper_columns = [
        "Measure",
        "Admission mean (SD)",
        "Discharge mean (SD)",
        "n",
        "Below cut-off at discharge %",
        "n with discharge score",
        "Of these, good GAF outcome %",
    ]
    full_columns = [
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
    ]
    paper_rows: list[list[str]] = []
    full_rows: list[list[str]] = []
    measures: list[str] = []
    absent: list[str] = []
    for measure, label in OUTCOME_MEASURES:
        baseline = pd.to_numeric(patients[f"baseline_{measure}"], errors="coerce").astype("float64")
        final = pd.to_numeric(patients[f"final_{measure}"], errors="coerce").astype("float64")
        if not (baseline.notna().any() or final.notna().any()):
            absent.append(label)  # an optional instrument the cohort did not collect: its row leaves the table
            continue
        measures.append(measure)
        both = baseline.notna() & final.notna()
        n_both = int(both.sum())
        group_column = f"{measure}_outcome"
        cutoff = ""
        below_pct = also_pct = n_final_cell = ""
        below_n = also_n = math.nan
        if measure != "gaf" and group_column in patients.columns:
            status = patients[group_column].fillna("").astype(str)
            has_final = status.isin(GROUPS)
            below = status.eq("good")
            n_final = int(has_final.sum())
            below_n = float(below.sum())
            gaf_group = patients["outcome_group"].fillna("").astype(str)
            below_classified = below & gaf_group.isin(GROUPS)
            also_n = float((below_classified & gaf_group.eq("good")).sum())
            below_pct = pct_cell(below_n, n_final, min_cell)
            also_pct = pct_cell(also_n, float(below_classified.sum()), min_cell)
            n_final_cell = count_cell(n_final, min_cell)
            if measure in thresholds:
                cutoff = f"< {format(float(thresholds[measure]), 'g')}"
        small = is_small(n_both, min_cell)
        start, end = baseline[both], final[both]
        paper_rows.append(
            [
                label + (f" ({cutoff})" if cutoff else ""),
                mean_sd_cell(start, 1, min_cell),
                mean_sd_cell(end, 1, min_cell),
                count_cell(n_both, min_cell),
                below_pct,
                n_final_cell,
                also_pct,
            ]
        )

        def stat(values: pd.Series, what: str, small: bool = small) -> str:
            return _statistic_cell(values, what, small, min_cell)

        full_rows.append(
            [
                label,
                stat(start, "mean"),
                stat(start, "sd"),
                stat(end, "mean"),
                stat(end, "sd"),
                stat(end - start, "mean"),
                count_cell(n_both, min_cell),
                count_cell(float(baseline.notna().sum()), min_cell),
                count_cell(float(final.notna().sum()), min_cell),
                cutoff,
                count_cell(below_n, min_cell),
                below_pct,
                count_cell(also_n, min_cell),
                also_pct,
            ]
        )
    notes = (
        "Observed admission and discharge values of patients with both; n: number of such patients.",
        (
            "Below cut-off at discharge: WSAS sum below its cut-off (mild or no impairment) and BSI-18 mean below "
            "its cut-off (non-clinical distress), per cent of patients with a discharge score. Of these, good GAF "
            "outcome: per cent in the good outcome subgroup (final GAF at or above the cut-off) among those with a "
            "final GAF."
        ),
        *disclosure_note(min_cell),
        *undefined_note(pd.DataFrame(paper_rows), pd.DataFrame(full_rows)),
        *(
            (f"Not collected in this cohort (no assessments at admission or discharge): {', '.join(absent)}.",)
            if absent
            else ()
        ),
    )
    paper = TableLayout(
        table_id="table_outcome_change",
        layout="paper",
        number="S1",
        title=OUTCOME_CHANGE_TITLE,
        frame=pd.DataFrame(paper_rows, columns=paper_columns),
        align=("l", *(("r",) * 6)),
        notes=notes,
        model_ids=tuple(measures),
    )
    full = TableLayout(
        table_id="table_outcome_change",
        layout="full",
        number="S1",
        title=OUTCOME_CHANGE_TITLE + " All statistics.",
        frame=pd.DataFrame(full_rows, columns=full_columns),
        align=("l", *(("r",) * 13)),
        notes=notes,
        model_ids=tuple(measures),
    )
    return TableFrame(table_id="table_outcome_change", paper=paper, full=full)


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def write_descriptive_tables(
    patients: pd.DataFrame,
    instruments: Instruments,
    rows: Sequence[RowSpec | Mapping[str, Any]],
    tables_dir: Path,
    min_cell: int,
    alpha: float = 0.05,
) -> list[Path]:
    """``table_1``, ``table_2`` and ``table_outcome_change`` (both layouts, four formats) under ``tables_dir``."""
    tables_dir = Path(tables_dir)
    thresholds = {"wsas": instruments.wsas.outcome_threshold, "bsi": instruments.bsi.outcome_threshold}
    written: list[Path] = []
    written += write_table(table_1(instruments), tables_dir / "table_1")
    written += write_table(table_2(patients, rows, min_cell, alpha=alpha), tables_dir / "table_2")
    written += write_table(outcome_change(patients, min_cell, thresholds), tables_dir / "table_outcome_change")
    return written
