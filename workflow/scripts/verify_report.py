"""Snakemake adapter: the verification report of a cohort (rule verify_report)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

import sys
from pathlib import Path

from alliance.logs import step_logger
from alliance.verify.pipeline import VerifyInputs, write_verify_report

log = step_logger("verify_report", snakemake.log[0], snakemake.wildcards)
declared = snakemake.input
report, leaks = write_verify_report(
    cohort=snakemake.wildcards.cohort,
    inputs=VerifyInputs(
        outputs=[Path(p) for p in declared.outputs],
        patients=Path(declared.patients),
        estimates=Path(declared.estimates),
        fits=Path(declared.fits),
        variance_components=Path(declared.variance_components),
        mapping=Path(declared.mapping),
        published=Path(declared.published),
        manifest=Path(declared.manifest),
        rebuild=Path(declared.rebuild),
        exports=[Path(p) for p in declared.exports],
    ),
    delimiter=snakemake.params.delimiter,
    encoding=snakemake.params.encoding,
    min_cell=int(snakemake.params.min_cell),
    synthetic=bool(snakemake.params.synthetic),
    outputs={"md": Path(snakemake.output.md), "html": Path(snakemake.output.html), "json": Path(snakemake.output.json)},
)
log.info(report.status())
if leaks:
    for leak in leaks:
        log.error(f"privacy: {leak.describe()}")
    sys.exit(f"privacy scan failed: {len(leaks)} findings in " + ", ".join(sorted({leak.file for leak in leaks})))
