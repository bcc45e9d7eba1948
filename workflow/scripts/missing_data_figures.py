"""Snakemake adapter: pictures of the WAI assessment patterns (rule missing_data_figures)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from pathlib import Path

import pandas as pd
from alliance.logs import step_logger
from alliance.pattern_figures import write_pattern_figures
from alliance.pipeline import read_clean_patients

log = step_logger("missing_data_figures", snakemake.log[0])
written = write_pattern_figures(
    pd.read_csv(snakemake.input.wai_long, dtype={"patient_id": str}),
    read_clean_patients(snakemake.input.patients),
    snakemake.params.waves,
    Path(snakemake.output.pattern_map).parent,
    snakemake.params.min_cell,
)
log.info(f"wrote {len(written)} files")
