"""Snakemake adapter: the jackknife values for BCa's acceleration, and the full data's estimates
(rule bootstrap_jackknife)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

import pandas as pd
from alliance.data.pipeline import read_clean, write_csv
from alliance.logs import step_logger
from alliance.stats.bootstrap import full_estimates, plan, run_jackknife
from alliance.stats.catalogue import load_catalogue

log = step_logger("bootstrap_jackknife", snakemake.log[0], snakemake.wildcards)
the_plan = plan(load_catalogue(snakemake.input.catalogue), *read_clean(snakemake.input))


def progress(number, total, fitted, fits):
    failed = sum(status == "failed" for status in fits.status)
    log.info(f"[{number}/{total}] {fitted.key}: {len(fits.status)} groups left out, {failed} failed")


write_csv(run_jackknife(the_plan, snakemake.params.groups, snakemake.params.seed, progress), snakemake.output.jackknife)
estimates = full_estimates(the_plan)
write_csv(pd.DataFrame({"column": list(estimates), "estimate": list(estimates.values())}), snakemake.output.estimates)
