"""Snakemake adapter: Tables III and IV from the model outputs (rule model_tables)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance import layout
from alliance.logs import step_logger
from alliance.report.intervals import read_intervals
from alliance.report.tables import write_model_tables
from alliance.stats.catalogue import load_catalogue

log = step_logger("model_tables", snakemake.log[0], snakemake.wildcards)
catalogue = load_catalogue(snakemake.input.catalogue)
written = write_model_tables(
    snakemake.input.fits,
    snakemake.input.estimates,
    snakemake.input.variance_components,
    list(catalogue.models),
    layout.by_name(snakemake.output),
    alpha=catalogue.settings.alpha,
    min_cell=int(snakemake.params.min_cell),
    intervals=(
        read_intervals(snakemake.input.intervals, snakemake.params.reported, snakemake.params.confidence)
        if snakemake.input.intervals  # none when the cohort's bootstrap is off
        else None
    ),
)
log.info(f"wrote {len(written)} files")
