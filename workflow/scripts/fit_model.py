"""Snakemake adapter: fit one model of the catalogue (rule fit_model)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance.logs import step_logger
from alliance.model_runs import run_model
from alliance.models import load_catalogue
from alliance.pipeline import read_clean, write_json

log = step_logger(f"fit_model {snakemake.wildcards.model_id}", snakemake.log[0])
catalogue = load_catalogue(snakemake.input.catalogue)
patients, wai_long, outcomes_long = read_clean(snakemake.input)
record = run_model(catalogue.model(snakemake.wildcards.model_id), catalogue, patients, wai_long, outcomes_long)
fit = record["fit"]
if "failed" in fit:
    log.warning(f"fit failed: {fit['failed']}")
else:
    log.info(
        f"{fit['n_patients']} patients, {fit['n_obs']} observations; {fit['optimizer']}, converged={fit['converged']}"
    )
write_json(record, snakemake.output[0])
