"""Snakemake adapter: missing-data description and Little's MCAR test (rule missing_data)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance import layout
from alliance.data.pipeline import read_clean
from alliance.logs import step_logger
from alliance.report.missing_data import write_missing_data
from alliance.report.table_rows import load_table_rows

log = step_logger("missing_data", snakemake.log[0], snakemake.wildcards)
patients, wai_long, outcomes_long = read_clean(snakemake.input)
written = write_missing_data(
    patients,
    wai_long,
    outcomes_long,
    layout.by_name(snakemake.output),
    min_cell=snakemake.params.min_cell,
    rows=load_table_rows(snakemake.input.rows),
)
log.info(f"wrote {len(written)} files")
