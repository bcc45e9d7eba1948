"""Snakemake adapter: robustness, pattern-mixture and WAI-version tables from the model outputs."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance import layout
from alliance.logs import step_logger
from alliance.report.robustness import write_robustness_tables
from alliance.stats.catalogue import load_catalogue

log = step_logger("robustness_tables", snakemake.log[0], snakemake.wildcards)
written = write_robustness_tables(
    snakemake.input.fits,
    snakemake.input.estimates,
    snakemake.input.likelihood_ratio_tests,
    snakemake.input.pattern_averaged,
    load_catalogue(snakemake.input.catalogue),
    layout.by_name(snakemake.output),
    min_cell=int(snakemake.params.min_cell),
)
log.info(f"wrote {len(written)} files")
