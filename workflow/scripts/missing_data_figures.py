"""Snakemake adapter: pictures of the WAI assessment patterns (rule missing_data_figures)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance import layout
from alliance.data.pipeline import read_clean_patients, read_clean_table
from alliance.logs import step_logger
from alliance.report.pattern_figures import write_pattern_figures

log = step_logger("missing_data_figures", snakemake.log[0], snakemake.wildcards)
written = write_pattern_figures(
    read_clean_table(snakemake.input.wai_long),
    read_clean_patients(snakemake.input.patients),
    snakemake.params.waves,
    layout.by_name(snakemake.output),
    snakemake.params.min_cell,
)
log.info(f"wrote {len(written)} files")
