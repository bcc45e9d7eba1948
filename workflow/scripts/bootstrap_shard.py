"""Snakemake adapter: one shard of the bootstrap's replicates and of the slope-variance tests' simulated
cohorts (rule bootstrap_shard)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from collections import Counter

import numpy as np
from alliance.data.pipeline import read_clean, write_csv
from alliance.logs import step_logger
from alliance.stats.bootstrap import plan, run_shard
from alliance.stats.catalogue import load_catalogue
from alliance.stats.variance_tests import null_models, run_tests

log = step_logger("bootstrap_shard", snakemake.log[0], snakemake.wildcards)
catalogue = load_catalogue(snakemake.input.catalogue)
patients, wai_long, outcomes_long = read_clean(snakemake.input)
replicates, variance_replicates = snakemake.params.replicates, snakemake.params.variance_replicates
the_plan = plan(catalogue, patients, wai_long, outcomes_long)
for model_id, reason in the_plan.skipped:
    log.warning(f"{model_id}: not bootstrapped: {reason}")
log.info(
    f"replicates {replicates.start}-{replicates.stop - 1} of the cohort's {len(the_plan.cohort)} patients: "
    f"{len(the_plan.fitted)} fits each (seed {snakemake.params.seed})"
)


def progress(number, total, fitted, fits):
    counts = Counter(fits.status)
    failed = Counter(reason for reason in fits.reasons if reason)
    why = "; ".join(f"{n} x {reason}" for reason, n in failed.most_common(3))
    log.info(
        f"[{number}/{total}] {fitted.key}: {len(fits.status)} replicates done, {counts['converged']} converged, "
        f"{counts['singular']} singular, {counts['not converged']} not converged, {counts['failed']} failed"
        + (f" ({why})" if why else "")
    )


write_csv(run_shard(the_plan, snakemake.params.seed, replicates, progress), snakemake.output.replicates)


def tested(null, values):
    failed = int(np.isnan(values).sum())
    log.info(f"slope variance test {null.model_id}: {len(values)} simulated cohorts done, {failed} failed")


nulls, untested = null_models(catalogue, patients, wai_long, outcomes_long)
for model_id, reason in untested:
    log.warning(f"slope variance test {model_id}: {reason}")
write_csv(run_tests(nulls, snakemake.params.seed, variance_replicates, tested), snakemake.output.variance)
