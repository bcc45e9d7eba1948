"""Snakemake adapter: a qualitative study's tables of participants, themes and prevalence (rule qualitative_study)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from alliance import layout
from alliance.logs import step_logger
from alliance.report.qualitative import run_qualitative_study

log = step_logger("qualitative_study", snakemake.log[0], snakemake.wildcards)
study = snakemake.params.study
log.info(f"study '{study.name}': reading {study.exports}")
written = run_qualitative_study(study, layout.by_name(snakemake.output))
log.info(f"wrote {len(written)} files; the check of the exports is in {snakemake.output.validation}")
