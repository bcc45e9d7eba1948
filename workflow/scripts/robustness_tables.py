"""Snakemake adapter: robustness, pattern-mixture and WAI-version tables from models/*.csv."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from pathlib import Path

from alliance.logs import step_logger
from alliance.report.robustness import write_robustness_tables
from alliance.stats.catalogue import load_catalogue

log = step_logger("robustness_tables", snakemake.log[0])
catalogue = load_catalogue(snakemake.input.catalogue)
written = write_robustness_tables(
    Path(snakemake.input.fits).parent,
    catalogue,
    Path(snakemake.output.table_robustness).parent,
    min_cell=int(snakemake.params.min_cell),
)
log.info(f"wrote {len(written)} files")
