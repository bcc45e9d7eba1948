"""Snakemake adapter: render the methods, results and assembled manuscript (rule manuscript_text)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from pathlib import Path

from alliance.data.instruments import load_instruments
from alliance.logs import step_logger
from alliance.report.manuscript import build_context, config_values, write_manuscript
from alliance.stats.catalogue import load_catalogue

log = step_logger("manuscript_text", snakemake.log[0])
catalogue = load_catalogue(snakemake.input.catalogue)
output = Path(snakemake.output.manuscript).parent
values = config_values(
    snakemake.params.analysis,
    load_instruments(snakemake.input.instruments),
    files={"analysis": "config/config.yaml", "instruments": snakemake.input.instruments},
)
context = build_context(output.parent, catalogue, values, min_cell=snakemake.params.min_cell)
written = write_manuscript(Path(snakemake.input.templates[0]).parent, context, catalogue.settings.alpha, output)
log.info(f"wrote {len(written)} files")
