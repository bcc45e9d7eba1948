"""Snakemake adapter: the power of one finding over the grid of designs (rule power_simulation)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance.data.pipeline import write_csv
from alliance.logs import step_logger
from alliance.stats.catalogue import load_catalogue
from alliance.stats.power import finding_power
from alliance.stats.power_design import grid

params = snakemake.params
table = finding_power(
    snakemake.wildcards.finding,
    load_catalogue(snakemake.input.catalogue),
    snakemake.input,
    params.months,
    params.effect,
    grid(params.n_patients, params.waves, params.dropout),
    params.replicates,
    params.seed,
    step_logger("power_simulation", snakemake.log[0], snakemake.wildcards),
)
write_csv(table, snakemake.output[0])
