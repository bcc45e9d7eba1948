"""Snakemake adapter: fit the catalogue's models of one outcome in one process (rule fit_models)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance.data.pipeline import read_clean, write_json
from alliance.logs import step_logger
from alliance.stats.catalogue import load_catalogue
from alliance.stats.model_runs import progress_line, run_models

log = step_logger("fit_models", snakemake.log[0], snakemake.wildcards)
catalogue = load_catalogue(snakemake.input.catalogue)
patients, wai_long, outcomes_long = read_clean(snakemake.input)


def progress(number: int, total: int, record: dict) -> None:
    level, text = progress_line(record)
    log.log(level, f"[{number}/{total}] {text}")


records = run_models(snakemake.params.model_ids, catalogue, patients, wai_long, outcomes_long, progress)
write_json(records, snakemake.output[0])
