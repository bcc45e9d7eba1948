# Config validation and the helpers the rules share.
import codecs
import sys
from pathlib import Path

from alliance.build.code_version import code_version as _code_version
from alliance.stats.catalogue import CatalogueError, load_catalogue
from alliance.build.stale_locks import clear_stale_locks
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# A build killed outright (SIGKILL, a power loss) leaves Snakemake's locks behind; they are removed when no
# other snakemake is running here (alliance.build.stale_locks), so that the next `snakemake` resumes the build
# (with rerun-incomplete from profiles/default/config.yaml) instead of asking for --unlock.
if clear_stale_locks(Path(".snakemake")):
    print(
        "Removed the locks of a snakemake that was killed (none is running here now).",
        file=sys.stderr,
    )

validate(config, schema="../schemas/config.schema.yaml")

RULES_DIR = Path(workflow.basedir) / "workflow" / "rules"
PACKAGE_DIR = Path(workflow.basedir) / "workflow" / "alliance"


def code_version(script):
    """The version of a rule's code (its script and the package modules it imports): a rule passes it as
    a parameter, so that Snakemake re-runs the rule when that code changes (alliance.build.code_version).
    """
    return _code_version(RULES_DIR / script, PACKAGE_DIR)


COHORTS = config["cohorts"]
EXPORT_NAMES = (
    "patients",
    "diagnoses",
    "wai",
    "gaf",
    "wsas",
    "bsi18",
    "sipp_sf",
    "eq5d",
)


def _check_cohorts():
    for name, cohort in COHORTS.items():
        if "exports" in cohort:
            if cohort.get("delimiter", ",") == cohort.get("decimal", "."):
                raise WorkflowError(
                    f"cohort '{name}': delimiter and decimal mark are both "
                    f"'{cohort['decimal']}'; an export cannot use one character for both"
                )
            try:
                codecs.lookup(cohort.get("encoding", "utf-8"))
            except LookupError:
                raise WorkflowError(
                    f"cohort '{name}': unknown encoding '{cohort['encoding']}' "
                    "(e.g. utf-8, cp1252, latin-1, utf-16)"
                )
            if not Path(cohort["exports"]).is_dir():
                raise WorkflowError(
                    f"cohort '{name}': exports directory '{cohort['exports']}' does not exist"
                )


_check_cohorts()

try:
    CATALOGUE = load_catalogue(config["models"])
except CatalogueError as error:
    raise WorkflowError(f"model catalogue {config['models']}: {error}")
# Model ids by outcome: one fitting job per outcome (workflow/rules/models.smk).
MODEL_GROUPS = CATALOGUE.models_by_outcome()
ROBUSTNESS_TABLES = ("table_robustness", "table_pattern_mixture", "table_wai_version")


wildcard_constraints:
    cohort="|".join(COHORTS),
    outcome="|".join(MODEL_GROUPS),


def is_simulated(cohort):
    return "simulate" in COHORTS[cohort]


def exports_dir(wildcards):
    """The raw exports of a cohort: the clinic's directory, or the simulated one."""
    if is_simulated(wildcards.cohort):
        return f"results/{wildcards.cohort}/simulated/exports"
    return COHORTS[wildcards.cohort]["exports"]


def export_files(wildcards):
    """The export files present, so that editing one of them re-runs validation."""
    if is_simulated(wildcards.cohort):
        return [exports_dir(wildcards)]
    directory = Path(exports_dir(wildcards))
    return sorted(
        str(directory / f"{name}{suffix}")
        for name in EXPORT_NAMES
        for suffix in (".csv", ".sav")
        if (directory / f"{name}{suffix}").exists()
    )


def cohort_options(wildcards):
    cohort = COHORTS[wildcards.cohort]
    return {
        "name": wildcards.cohort,
        "delimiter": cohort.get("delimiter", ","),
        "decimal": cohort.get("decimal", "."),
        "on_invalid": cohort.get("on_invalid", "stop"),
        "encoding": cohort.get("encoding", "utf-8"),
    }


def min_cell(wildcards):
    """Small-cell threshold: the cohort's own, else 5 for real exports and 0 for synthetic cohorts."""
    cohort = COHORTS[wildcards.cohort]
    default = 0 if is_simulated(wildcards.cohort) else 5
    return int(cohort.get("disclosure", {}).get("min_cell", default))


def cohort_outputs(wildcards):
    clean = [
        f"results/{cohort}/clean/{name}.csv"
        for cohort in COHORTS
        for name in ("patients", "wai_long", "outcomes_long", "row_accounting")
    ]
    models = [
        f"results/{cohort}/models/{name}.csv"
        for cohort in COHORTS
        for name in MODEL_OUTPUTS
    ]
    tables = [
        f"results/{cohort}/tables/{table}{layout}.{ext}"
        for cohort in COHORTS
        for table in ("table_3", "table_4", *ROBUSTNESS_TABLES)
        for layout in ("", "_full")
        for ext in ("csv", "md", "html", "tex")
    ]
    descriptive = [
        f"results/{cohort}/tables/{table}{layout}.{ext}"
        for cohort in COHORTS
        for table in ("table_1", "table_2", "table_outcome_change")
        for layout in ("", "_full")
        for ext in ("csv", "md", "html", "tex")
    ]
    figures = [
        f"results/{cohort}/figures/{figure}.{ext}"
        for cohort in COHORTS
        for figure in ("figure_1", "figure_2")
        for ext in ("png", "svg", "pdf")
    ]
    missing = [
        f"results/{cohort}/missing_data/{name}"
        for cohort in COHORTS
        for name in (
            "summary.json",
            "missing_pattern_map.png",
            "missing_retention.png",
        )
    ]
    manuscript = manuscript_outputs()
    return clean + models + tables + descriptive + figures + missing + manuscript


MODEL_OUTPUTS = (
    "fits",
    "estimates",
    "variance_components",
    "likelihood_ratio_tests",
    "pattern_averaged",
)


# The manuscript (workflow/rules/manuscript.smk): its templates, the tables it includes, and its outputs.
MANUSCRIPT_TEMPLATES = sorted(str(p) for p in Path("manuscript").glob("*.md.j2"))
if not MANUSCRIPT_TEMPLATES:
    raise WorkflowError("no templates manuscript/*.md.j2 in the working directory")
MANUSCRIPT_TABLES = (
    "table_1",
    "table_2",
    "table_3",
    "table_4",
    "table_outcome_change",
    *ROBUSTNESS_TABLES,
)


def manuscript_outputs():
    from alliance.build.pdf_engines import find_pdf_engine

    formats = ("md", "html", "docx") + (("pdf",) if find_pdf_engine() else ())
    return [
        f"results/{cohort}/manuscript/{name}"
        for cohort in COHORTS
        for name in [f"manuscript.{ext}" for ext in formats] + ["provenance.json"]
    ]
