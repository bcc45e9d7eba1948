"""Snakemake adapter: score and derive the clean tables (rule clean_cohort).

When validation found problems and the cohort stops on invalid input, this step lists every problem
on stderr and fails, so that no analysis runs on data that break the contract.
"""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

import sys

from alliance.data.instruments import load_instruments
from alliance.data.pipeline import clean_validated, read_validated, write_clean
from alliance.data.problems import InvalidExportsError
from alliance.logs import step_logger

log = step_logger("clean_cohort", snakemake.log[0], snakemake.wildcards)
try:
    tables, status = read_validated(snakemake.input.validated)
except InvalidExportsError as invalid:
    log.error(invalid.summary())
    sys.exit(1)
log.info("scoring questionnaires and deriving variables")
clean = clean_validated(tables, load_instruments(snakemake.input.instruments), snakemake.params.analysis)
write_clean(clean, status, snakemake.output)
log.info(
    f"{len(clean.patients)} patients, {len(clean.wai_long)} WAI administrations, "
    f"{len(clean.outcomes_long)} outcome measurements"
)
