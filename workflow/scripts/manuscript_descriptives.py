"""Snakemake adapter: the aggregates the manuscript cites beyond the tables (rule manuscript_descriptives)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance.data.pipeline import read_clean_patients, write_json
from alliance.logs import step_logger
from alliance.report.manuscript.descriptives import cohort_descriptives
from alliance.report.table_rows import load_table_rows

log = step_logger("manuscript_descriptives", snakemake.log[0], snakemake.wildcards)
patients = read_clean_patients(snakemake.input.patients)
record = cohort_descriptives(patients, load_table_rows(snakemake.input.rows), snakemake.params.min_cell)
write_json(record, snakemake.output.descriptives)
log.info(f"described {record['n_patients']} patients")
