"""Snakemake adapter: a fidelity study's table, reliability, summary and extreme sessions (rule fidelity_study)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance import layout
from alliance.logs import step_logger
from alliance.report.fidelity import run_fidelity_study

log = step_logger("fidelity_study", snakemake.log[0], snakemake.wildcards)
study = snakemake.params.study
log.info(f"study '{study.name}': reading {study.exports}")
written = run_fidelity_study(study, layout.by_name(snakemake.output))
log.info(f"wrote {len(written)} files; the check of the exports is in {snakemake.output.validation}")
