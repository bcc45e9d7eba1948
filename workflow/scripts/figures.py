"""Snakemake adapter: Figures 1 and 2 (rule figures)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance import layout
from alliance.logs import step_logger
from alliance.report.figures import write_figures

log = step_logger("figures", snakemake.log[0], snakemake.wildcards)
written = write_figures(
    snakemake.input.records,
    snakemake.input.wai_long,
    snakemake.input.patients,
    layout.by_name(snakemake.output),
    min_cell=snakemake.params.min_cell,
)
log.info(f"wrote {len(written)} files")
