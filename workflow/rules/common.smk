# The configuration, parsed once, and the helpers the rules share.
# Only light modules of the package are imported here (no numpy, pandas, scipy or jinja2: the Snakefile
# loads at every run, and tests/test_architecture.py keeps it so).
import math
import sys
from dataclasses import asdict
from pathlib import Path

from alliance import layout
from alliance.build.code_version import code_version as _code_version
from alliance.build.pdf_engines import PDF_ENGINES, find_pdf_engine
from alliance.build.stale_locks import clear_stale_locks
from alliance.data.contract import file_specs
from alliance.data.instruments import load_instruments
from alliance.data.synthetic_parameters import (
    check_against_instruments,
    load_parameters,
)
from alliance.errors import AllianceError
from alliance.report.table_rows import load_table_rows
from alliance.settings import load_settings
from alliance.stats.catalogue import load_catalogue
from alliance.verify.mapping import check_published, load_mapping, load_published
from snakemake.exceptions import WorkflowError

# A build killed outright (SIGKILL, a power loss) leaves Snakemake's locks behind; they are removed when no
# other snakemake is running here (alliance.build.stale_locks), so that the next `snakemake` resumes the build
# (with rerun-incomplete from profiles/default/config.yaml) instead of asking for --unlock. Not in a
# cluster job (workflow.remote_exec): the build that submitted it holds its locks, and a shared file system
# need not carry the run lock's flock from one node to another.
if not workflow.remote_exec and clear_stale_locks(Path(".snakemake")):
    print(
        "Removed the locks of a snakemake that was killed (none is running here now).",
        file=sys.stderr,
    )

# The configuration, and every configuration file it names, parsed once into types here: a wrong key
# or value stops the workflow before any job, with one message naming the file and the key.
try:
    # The --configfile files (workflow.configfiles also lists the Snakefile's own, last): their cohorts are
    # the ones built (alliance.settings.named_cohorts).
    SETTINGS = load_settings(
        config, workflow.configfiles, workflow.config_settings.configfiles
    )
    CATALOGUE = load_catalogue(SETTINGS.files.models)
    INSTRUMENTS = load_instruments(SETTINGS.files.instruments)
    load_table_rows(SETTINGS.files.tables)
    if SETTINGS.simulates:
        check_against_instruments(
            load_parameters(SETTINGS.files.synthetic_parameters),
            INSTRUMENTS,
            SETTINGS.files.synthetic_parameters,
        )
    # The verification mapping and the published values it names, checked against each other.
    VERIFY = load_mapping(SETTINGS.files.verify)
    PUBLISHED = load_published(VERIFY.published)
    check_published(VERIFY, PUBLISHED)
except AllianceError as error:
    raise WorkflowError(str(error)) from None
COHORTS = SETTINGS.cohorts
# What the Snakemake report (workflow/report/workflow.rst) and anything else reading the raw config sees:
# the cohorts built, not every cohort of every merged file.
config["cohorts"] = {name: config["cohorts"][name] for name in COHORTS}
# The export files of the contract (docs/export-format.md), by name.
EXPORT_NAMES = tuple(file_specs(INSTRUMENTS))
# The configuration files this run reads, for provenance.
CONFIG_FILES = SETTINGS.config_files(VERIFY.published)

RULES_DIR = Path(workflow.basedir) / "workflow" / "rules"
PACKAGE_DIR = Path(workflow.basedir) / "workflow" / "alliance"


def code_version(script):
    """The version of a rule's code (its script and the package modules it imports): a rule passes it as
    a parameter, so that Snakemake re-runs the rule when that code changes (alliance.build.code_version).
    """
    return _code_version(RULES_DIR / script, PACKAGE_DIR)


# Model ids by outcome: one fitting job per outcome (workflow/rules/models.smk).
MODEL_GROUPS = CATALOGUE.models_by_outcome()


wildcard_constraints:
    cohort="|".join(COHORTS),
    outcome="|".join(MODEL_GROUPS),


def is_simulated(cohort):
    return COHORTS[cohort].simulated


def exports_dir(wildcards):
    """The raw exports of a cohort: the clinic's directory, or the simulated one."""
    if is_simulated(wildcards.cohort):
        return f"results/{wildcards.cohort}/simulated/exports"
    return COHORTS[wildcards.cohort].exports


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
    return COHORTS[wildcards.cohort].reading_options()


def min_cell(wildcards):
    """Small-cell threshold of the cohort's publishable outputs (alliance.settings.Cohort)."""
    return COHORTS[wildcards.cohort].disclosure_min_cell


# On a cluster (profiles/slurm/): the light steps (tables, text, gathering, hashing) are local rules
# (`localrule: True`), run beside Snakemake itself; every other step is a cluster job and declares its
# threads, memory (mem_mb) and time limit (runtime, minutes). The partition and account are the profile's.
# A local build ignores mem_mb and runtime (unless --resources caps them).
def memory_mb(wildcards, input):
    """Memory a step asks a cluster for: its input tables, held a few times over by pandas, and at least
    1 GB.
    """
    return max(1024, math.ceil(20 * input.size_mb))


def other_formats(folder, names, shown, of=None):
    """The files ``names`` in ``folder`` except the ``shown`` format (of the tables or figures ``of``, or
    of all), which is declared on its own, wrapped in report() for the Snakemake report.
    """
    hidden = {
        name
        for name in names
        if name.endswith(f".{shown}") and (of is None or name.rsplit(".", 1)[0] in of)
    }
    return [f"{folder}/{name}" for name in names if name not in hidden]


def cohort_outputs(wildcards):
    """Every file the default build writes, for each cohort the config names, and with two or more
    cohorts their comparison (COMPARISON_OUTPUTS, workflow/rules/comparison.smk)."""
    per_cohort = [path for cohort in COHORTS for path in outputs_of(cohort)]
    return per_cohort + (COMPARISON_OUTPUTS if len(COHORTS) >= 2 else [])


def outputs_of(cohort):
    """Every file the default build writes for one cohort (alliance.layout lists them): the target
    results/<cohort>/all (rule cohort_all) builds these."""
    per_cohort = [
        *[f"clean/{name}" for name in layout.csv_files(layout.CLEAN_TABLES)],
        *[f"models/{name}" for name in layout.csv_files(layout.MODEL_OUTPUTS)],
        *[
            f"tables/{name}"
            for name in layout.table_files(
                (
                    *layout.MODEL_TABLES,
                    *layout.ROBUSTNESS_TABLES,
                    *layout.DESCRIPTIVE_TABLES,
                )
            )
        ],
        *[f"figures/{name}" for name in layout.figure_files(layout.FIGURES)],
        *[
            f"bootstrap/{name}"
            for name in layout.csv_files(layout.BOOTSTRAP_OUTPUTS)
            if SETTINGS.bootstrap_of(cohort).enabled
        ],
        f"missing_data/{layout.MISSING_DATA_SUMMARY}",
        *[f"missing_data/{figure}.png" for figure in layout.PATTERN_FIGURES],
    ]
    documents = [
        f"manuscript/{name}" for name in layout.manuscript_files(pdf=MANUSCRIPT_PDF)
    ]
    return [f"results/{cohort}/{name}" for name in per_cohort + documents]


# The manuscript (workflow/rules/manuscript.smk): its templates, the tables it includes, and its outputs.
MANUSCRIPT_TEMPLATES = sorted(str(p) for p in Path("manuscript").glob("*.md.j2"))
if not MANUSCRIPT_TEMPLATES:
    raise WorkflowError("no templates manuscript/*.md.j2 in the working directory")


# A PDF of the manuscript only when the config asks for one, so that the set of outputs does not depend
# on what happens to be installed; asked for without an engine, the build stops here, before any work.
MANUSCRIPT_PDF = SETTINGS.manuscript.pdf
if MANUSCRIPT_PDF and not find_pdf_engine():
    raise WorkflowError(
        "manuscript: pdf is true in the config, but no PDF engine is installed; install one of "
        + ", ".join(PDF_ENGINES)
        + " (e.g. `sudo apt-get install texlive-xetex`), or set `manuscript: {pdf: false}`"
    )


# The bootstrap (workflow/rules/bootstrap.smk): each cohort's settings (its own over the top-level ones).
def bootstrap_of(wildcards):
    return SETTINGS.bootstrap_of(wildcards.cohort)


def comparison_tables(wildcards):
    """The comparison across cohorts (workflow/rules/comparison.smk) that a cohort's text may cite: with two
    or more cohorts configured, else nothing."""
    if len(COHORTS) < 2:
        return []
    return [
        f"results/comparison/{name}"
        for name in layout.csv_files(layout.COMPARISON_TABLES)
    ]


def bootstrap_intervals(wildcards):
    """The cohort's bootstrap intervals, or nothing when its bootstrap is off (replicates: 0)."""
    if not bootstrap_of(wildcards).enabled:
        return []
    return f"results/{wildcards.cohort}/bootstrap/intervals.csv"


def bootstrap_shards(suffix):
    """The shards' files of one kind (".csv": the replicates; ".variance.csv": the variance tests')."""

    def files(wildcards):
        return expand(
            "results/{cohort}/bootstrap/shards/{shard}{suffix}",
            cohort=wildcards.cohort,
            shard=range(bootstrap_of(wildcards).shards),
            suffix=suffix,
        )

    return files
