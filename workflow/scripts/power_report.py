"""Snakemake adapter: power.csv, the power curves and the summary of the power analysis (rule power_report)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance import layout
from alliance.logs import step_logger
from alliance.report.power import write_power_report
from alliance.stats.catalogue import load_catalogue
from alliance.stats.power import finding_named

log = step_logger("power_report", snakemake.log[0], snakemake.wildcards)
catalogue = load_catalogue(snakemake.input.catalogue)
written = write_power_report(
    snakemake.input.findings,
    [finding_named(catalogue, finding) for finding in snakemake.params.findings],
    target=snakemake.params.target,
    alpha=catalogue.settings.alpha,
    files=layout.by_name(snakemake.output),
    from_config=snakemake.params.from_config,
)
log.info(f"wrote {len(written)} files")
