"""Snakemake adapter: the main findings compared across cohorts (rule comparison)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance import layout
from alliance.logs import step_logger
from alliance.report.comparison import write_comparison
from alliance.stats.catalogue import load_catalogue

log = step_logger("comparison", snakemake.log[0])
cohorts = snakemake.params.cohorts
inputs = snakemake.input


def by_cohort(names):
    """{cohort: {name: its declared file}} of the rule's inputs ``names`` (each a list in cohort order)."""
    return {cohort: {name: inputs[name][i] for name in names} for i, cohort in enumerate(cohorts)}


written = write_comparison(
    load_catalogue(inputs.catalogue),
    by_cohort(("fits", "estimates")),
    by_cohort(("patients", "wai_long", "outcomes_long")),
    layout.by_name(snakemake.output),
    log,
)
log.info(f"wrote {len(written)} files for the cohorts {', '.join(cohorts)}")
