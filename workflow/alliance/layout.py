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

# Companion studies (results/<study>/, docs/companion-studies.md). Each is read from its own exports, checked
# (validation.txt and quarantine/, sensitive as for a cohort) and built by one step (one more for a qualitative
# study's figure). A fidelity study's fidelity/: the table of adherence and quality, the G study's reliability,
# an aggregate summary, and the selected extreme sessions (session ids: sensitive, never published).
# The export files a study of each kind reads (docs/fidelity-format.md, docs/qualitative-format.md).
STUDY_EXPORTS = {"fidelity": ("fidelity",), "qualitative": ("participants", "themes", "excerpts")}
STUDY_VALIDATION = "validation.txt"
STUDY_QUARANTINE = "quarantine"
FIDELITY_DIR = "fidelity"
FIDELITY_TABLE = "table_fidelity"
FIDELITY_RELIABILITY = "reliability.json"
FIDELITY_SUMMARY = "summary.json"
FIDELITY_EXTREME_CASES = "extreme_cases.csv"
# A qualitative study's tables/ (Gardner et al.'s Tables 1-2, Pettersen et al.'s Table 1, prevalence) and their
# aggregates (summary.json), and its figures/ (the thematic map).
QUALITATIVE_TABLES = ("table_participants", "table_themes", "table_prevalence")
QUALITATIVE_SUMMARY = "summary.json"
THEMATIC_MAP = "thematic_map"
# A study's tables have one layout (its paper's).
STUDY_TABLE_LAYOUTS = ("",)

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


def fidelity_files() -> list[str]:
    """A fidelity study's outputs, relative to results/<study>/ (validation.txt and the fidelity/ files)."""
    tables = table_files([FIDELITY_TABLE], STUDY_TABLE_LAYOUTS)
    names = [*tables, FIDELITY_RELIABILITY, FIDELITY_SUMMARY, FIDELITY_EXTREME_CASES]
    return [STUDY_VALIDATION, *(f"{FIDELITY_DIR}/{name}" for name in names)]


def qualitative_files() -> list[str]:
    """A qualitative study's outputs, relative to results/<study>/: validation.txt, tables/ and its summary,
    and figures/ (the thematic map)."""
    tables = table_files(QUALITATIVE_TABLES, STUDY_TABLE_LAYOUTS)
    return [
        STUDY_VALIDATION,
        *(f"tables/{name}" for name in [*tables, QUALITATIVE_SUMMARY]),
        *(f"figures/{name}" for name in figure_files([THEMATIC_MAP])),
    ]


def study_files(kind: str) -> list[str]:
    """Every file the default build writes for a study of ``kind`` (fidelity or qualitative), relative to
    results/<study>/."""
    if kind == "fidelity":
        return fidelity_files()
    if kind == "qualitative":
        return qualitative_files()
    raise ValueError(f"unknown kind of study {kind!r}")


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
