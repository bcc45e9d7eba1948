"""Snakemake adapter: model records -> models/*.csv (rule collect_models)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

import json
from pathlib import Path

from alliance.data.pipeline import write_csv
from alliance.logs import step_logger
from alliance.stats.catalogue import load_catalogue
from alliance.stats.model_runs import collect, in_catalogue_order

log = step_logger("collect_models", snakemake.log[0], snakemake.wildcards)
groups = [json.loads(Path(path).read_text(encoding="utf-8")) for path in snakemake.input.records]
records = in_catalogue_order(groups, load_catalogue(snakemake.input.catalogue))
tables = collect(records)
for name, table in tables.items():
    write_csv(table, snakemake.output[name])
failed = tables["fits"][~tables["fits"]["converged"]]
for row in failed.itertuples(index=False):
    log.warning(f"model {row.model_id} did not converge: {row.warnings}")
log.info(f"{len(records)} models, {len(failed)} not converged")
