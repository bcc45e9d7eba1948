"""The files a cohort's build writes (docs/outputs.md): the one list of every output's name, by step.

The rules (``workflow/rules/*.smk``) build their declared output paths from these names, and the
package's writers are handed those declared paths, never a folder to fill by convention: a file renamed
or added here is renamed or added in the rules, the default target and the writers at once. Only names
live here (standard library only: the Snakefile imports this at every load), no paths: where a cohort's
results go is the rules' business.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

# Every table is written in both layouts ("" is the paper's, "_full" adds every column) and four formats.
TABLE_LAYOUTS = ("", "_full")
TABLE_FORMATS = ("csv", "md", "html", "tex")
FIGURE_FORMATS = ("png", "svg", "pdf")

# clean/: the scored and derived tables of outputs.md.
CLEAN_TABLES = ("patients", "wai_long", "outcomes_long", "row_accounting")
# models/: the machine-readable model outputs of outputs.md.
MODEL_OUTPUTS = ("fits", "estimates", "variance_components", "likelihood_ratio_tests", "pattern_averaged")

# tables/: the paper's tables (I-IV), the outcome-change table and the robustness supplements (S2-S4).
DESCRIPTIVE_TABLES = ("table_1", "table_2", "table_outcome_change")
MODEL_TABLES = ("table_3", "table_4")
ROBUSTNESS_TABLES = ("table_robustness", "table_pattern_mixture", "table_wai_version")
# missing_data/: its tables, figures and summary.
MISSING_DATA_TABLES = ("table_missing_data", "table_missing_final_wai")
PATTERN_FIGURES = ("missing_pattern_map", "missing_retention")
MISSING_DATA_SUMMARY = "summary.json"
# bootstrap/: the intervals and the slope-variance tests (publishable), and how the refits ended.
BOOTSTRAP_OUTPUTS = ("intervals", "variance_tests", "fit_status")
# power/ (on request, `power`): the power of the main findings, its curves and its summary.
POWER_TABLE = "power.csv"
POWER_FIGURE = "figure_power"
POWER_SUMMARY = "summary.md"
# figures/: Figures 1 and 2 of the paper.
FIGURES = ("figure_1", "figure_2")
# results/comparison/ (two or more cohorts, docs/comparison.md): the main findings across cohorts, and one
# forest plot per finding (forest_<finding>).
COMPARISON_TABLES = ("estimates", "meta_analysis", "pooled_models")
FOREST_PREFIX = "forest_"

# manuscript/: the tables the manuscript includes (in its order), its sections and documents.
MANUSCRIPT_TABLES = ("table_1", "table_2", "table_3", "table_4", "table_outcome_change", *ROBUSTNESS_TABLES)
MANUSCRIPT_SECTIONS = ("methods", "results")
MANUSCRIPT_FORMATS = ("md", "html", "docx")
MANUSCRIPT_PDF = "pdf"  # only when config `manuscript: {pdf: true}`
PROVENANCE = "provenance.json"
DESCRIPTIVES = "descriptives.json"


def table_files(tables: Iterable[str], layouts: Iterable[str] = TABLE_LAYOUTS) -> list[str]:
    """File names of ``tables`` in every layout and format: table_3.csv, table_3.md, ..., table_3_full.tex."""
    return [f"{table}{layout}.{ext}" for table in tables for layout in layouts for ext in TABLE_FORMATS]


def figure_files(figures: Iterable[str]) -> list[str]:
    """File names of ``figures`` in every format: figure_1.png, figure_1.svg, figure_1.pdf, ..."""
    return [f"{figure}.{ext}" for figure in figures for ext in FIGURE_FORMATS]


def csv_files(names: Iterable[str]) -> list[str]:
    return [f"{name}.csv" for name in names]


def manuscript_files(pdf: bool) -> list[str]:
    """The manuscript's documents (and its provenance), as the default build writes them."""
    formats = MANUSCRIPT_FORMATS + ((MANUSCRIPT_PDF,) if pdf else ())
    return [f"manuscript.{ext}" for ext in formats] + [PROVENANCE]


def power_files() -> list[str]:
    """The power analysis' files: power.csv, figure_power.png, .svg, .pdf and summary.md."""
    return [POWER_TABLE, *figure_files([POWER_FIGURE]), POWER_SUMMARY]


def forest_figures(findings: Iterable[str]) -> list[str]:
    """The forest plots' names (without format) of the findings ``findings`` (ids): forest_<finding>."""
    return [f"{FOREST_PREFIX}{finding}" for finding in findings]


def comparison_files(findings: Iterable[str]) -> list[str]:
    """The comparison's files: estimates.csv, meta_analysis.csv, pooled_models.csv and each finding's forest
    plot (forest_<finding>.png, .svg, .pdf)."""
    return [*csv_files(COMPARISON_TABLES), *figure_files(forest_figures(findings))]


def by_name(paths: Iterable[str | Path]) -> dict[str, Path]:
    """Declared files keyed by file name, for a writer that is handed a rule's outputs.

    A writer looks each file it writes up here, so a file the rule does not declare is an error
    (:func:`declared`) instead of a file written beside the declared ones.
    """
    files: dict[str, Path] = {}
    for path in map(Path, paths):
        if path.name in files and files[path.name] != path:
            raise ValueError(f"two declared files share the name {path.name}: {files[path.name]} and {path}")
        files[path.name] = path
    return files


def declared(files: Mapping[str, Path], name: str) -> Path:
    """The declared path of the file called ``name``; a clear error when the rule does not declare it."""
    try:
        return files[name]
    except KeyError:
        known = ", ".join(sorted(files)) or "none"
        raise KeyError(f"{name} is not among the files the rule declares ({known})") from None
