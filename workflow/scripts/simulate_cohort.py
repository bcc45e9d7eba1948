"""Snakemake adapter: generate a synthetic cohort's raw exports (rule simulate_cohort)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from pathlib import Path

from alliance.data.instruments import load_instruments
from alliance.data.synthetic import simulate_cohort, write_exports, write_truth
from alliance.data.synthetic_parameters import load_parameters
from alliance.logs import step_logger

settings = snakemake.params.simulate
log = step_logger("simulate_cohort", snakemake.log[0], snakemake.wildcards)
log.info(f"generating {settings['n_patients']} patients with seed {settings['seed']}")
cohort = simulate_cohort(
    settings["seed"],
    settings["n_patients"],
    load_parameters(snakemake.input.parameters),
    load_instruments(snakemake.input.instruments),
)
for directory in (snakemake.output.exports, snakemake.output.truth):
    Path(directory).mkdir(parents=True, exist_ok=True)
write_exports(cohort, Path(snakemake.output.exports))
write_truth(cohort, Path(snakemake.output.truth))
log.info(f"exports written to {snakemake.output.exports}")
