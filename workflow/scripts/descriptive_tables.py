"""Snakemake adapter: Tables I and II and the outcome-change table (rule descriptive_tables)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance import layout
from alliance.data.instruments import load_instruments
from alliance.data.pipeline import read_clean_patients
from alliance.logs import step_logger
from alliance.report.descriptives import write_descriptive_tables
from alliance.report.table_rows import load_table_rows

log = step_logger("descriptive_tables", snakemake.log[0], snakemake.wildcards)
written = write_descriptive_tables(
    read_clean_patients(snakemake.input.patients),
    load_instruments(snakemake.input.instruments),
    load_table_rows(snakemake.input.rows),
    layout.by_name(snakemake.output),
    min_cell=snakemake.params.min_cell,
)
log.info(f"wrote {len(written)} files (small cells below {snakemake.params.min_cell} suppressed)")
