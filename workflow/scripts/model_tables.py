"""Snakemake adapter: Tables III and IV from models/*.csv (rule model_tables)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from pathlib import Path

from alliance.logs import step_logger
from alliance.report.tables import write_model_tables
from alliance.stats.catalogue import load_catalogue

log = step_logger("model_tables", snakemake.log[0])
catalogue = load_catalogue(snakemake.input.catalogue)
written = write_model_tables(
    Path(snakemake.input.fits).parent,
    list(catalogue.models),
    Path(snakemake.output.table_3).parent,
    alpha=catalogue.settings.alpha,
    min_cell=int(snakemake.params.min_cell),
)
log.info(f"wrote {len(written)} files")
