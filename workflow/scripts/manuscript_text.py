"""Snakemake adapter: render the methods, results and assembled manuscript (rule manuscript_text)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance import layout
from alliance.data.instruments import load_instruments
from alliance.logs import step_logger
from alliance.report.manuscript.numbers import ManuscriptInputs, build_context
from alliance.report.manuscript.provenance import config_values
from alliance.report.manuscript.render import write_manuscript
from alliance.stats.catalogue import load_catalogue

log = step_logger("manuscript_text", snakemake.log[0], snakemake.wildcards)
catalogue = load_catalogue(snakemake.input.catalogue)
values = config_values(
    snakemake.params.analysis,
    load_instruments(snakemake.input.instruments),
    config_files=snakemake.params.config_files,
    instruments_file=snakemake.input.instruments,
    confidence=snakemake.params.confidence,
    cohort=snakemake.wildcards.cohort,
)
inputs = ManuscriptInputs.declared(
    models=snakemake.input.models,
    tables=snakemake.input.tables,
    summary=snakemake.input.summary,
    descriptives=snakemake.input.descriptives,
    catalogue=snakemake.input.catalogue,
    intervals=snakemake.input.intervals or None,  # none when the cohort's bootstrap is off
    comparison=snakemake.input.comparison,  # none with one cohort
)
context = build_context(
    inputs,
    catalogue,
    values,
    min_cell=snakemake.params.min_cell,
    reported=(snakemake.params.reported, snakemake.params.confidence),
)
written = write_manuscript(
    snakemake.input.templates, context, catalogue.settings.alpha, layout.by_name(snakemake.output)
)
log.info(f"wrote {len(written)} files")
