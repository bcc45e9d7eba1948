"""Snakemake adapter: the shards gathered into bootstrap/intervals.csv, variance_tests.csv and
fit_status.csv (rule bootstrap_intervals)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

import pandas as pd
from alliance.data.pipeline import read_clean, write_csv
from alliance.logs import step_logger
from alliance.stats.bootstrap_intervals import fit_status, gather, intervals
from alliance.stats.catalogue import load_catalogue
from alliance.stats.variance_tests import null_models, variance_tests

log = step_logger("bootstrap_intervals", snakemake.log[0], snakemake.wildcards)
params = snakemake.params
shards = [pd.read_csv(path) for path in snakemake.input.shards]
replicates = gather(shards, params.replicates)
variance = pd.concat([pd.read_csv(path) for path in snakemake.input.variance_shards], ignore_index=True)
estimates = pd.read_csv(snakemake.input.estimates)
jackknife = pd.read_csv(snakemake.input.jackknife)
table = intervals(
    replicates, jackknife, dict(zip(estimates["column"], estimates["estimate"])), params.confidence, params.seed
)
write_csv(table, snakemake.output.intervals)
status = fit_status(replicates)
write_csv(status, snakemake.output.fit_status)
catalogue = load_catalogue(snakemake.input.catalogue)
nulls, untested = null_models(catalogue, *read_clean(snakemake.input))
for model_id, reason in untested:
    log.warning(f"slope variance test {model_id}: {reason}")
write_csv(
    variance_tests(nulls, variance.sort_values("replicate", kind="stable"), params.seed),
    snakemake.output.variance_tests,
)
log.info(
    f"{len(replicates)} replicates from {len(shards)} shards: {table['model_id'].nunique()} models, "
    f"{len(table)} intervals; {int(status[['not_converged', 'failed']].sum().sum())} refits not used"
)
