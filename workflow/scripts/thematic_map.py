"""Snakemake adapter: a qualitative study's thematic map (rule thematic_map)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance import layout
from alliance.logs import step_logger
from alliance.report.thematic_map import write_thematic_map

log = step_logger("thematic_map", snakemake.log[0], snakemake.wildcards)
written = write_thematic_map(snakemake.input.prevalence, snakemake.params.title, layout.by_name(snakemake.output))
log.info(f"wrote {len(written)} files")
