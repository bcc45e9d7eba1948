"""Snakemake adapter: read and validate a cohort's exports (rule validate_exports)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance.data.instruments import load_instruments
from alliance.data.pipeline import validate_directory, write_validation
from alliance.logs import step_logger

options = snakemake.params.cohort
log = step_logger("validate_exports", snakemake.log[0], snakemake.wildcards)
log.info(f"cohort '{options['name']}': reading exports in {snakemake.params.exports_dir}")
validated = validate_directory(
    snakemake.params.exports_dir,
    load_instruments(snakemake.input.instruments),
    delimiter=options["delimiter"],
    decimal=options["decimal"],
    on_invalid=options["on_invalid"],
    encoding=options["encoding"],
)
write_validation(
    validated,
    options["name"],
    options["on_invalid"],
    snakemake.output.report,
    snakemake.output.validated,
    snakemake.output.quarantine,
)
set_aside = "quarantined" if options["on_invalid"] == "quarantine" else "with problems"
for row in validated.accounting.itertuples(index=False):
    log.info(f"{row.file}: read {row.rows_read}, valid {row.rows_kept}, {set_aside} {row.rows_quarantined}")
log.info(f"{len(validated.problems)} problem(s); report in {snakemake.output.report}")
