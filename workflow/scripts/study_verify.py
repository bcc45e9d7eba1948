"""Snakemake adapter: the verification report and manifest of a companion study (rule study_verify)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

import sys
from pathlib import Path

from alliance.logs import step_logger
from alliance.verify.studies import StudyVerifyInputs, verify_study

log = step_logger("study_verify", snakemake.log[0], snakemake.wildcards)
declared = snakemake.input
report, leaks = verify_study(
    StudyVerifyInputs(
        study=snakemake.params.study,
        root=Path(snakemake.params.root),
        outputs=[Path(p) for p in declared.outputs],
        exports=[Path(p) for p in declared.exports],
        mapping=Path(declared.mapping[0]) if declared.mapping else None,
        published=Path(declared.published[0]) if declared.published else None,
        config_files=[Path(p) for p in declared.config],
    ),
    config=snakemake.config,
    project=Path.cwd(),
    files={name: Path(snakemake.output[name]) for name in ("manifest", "md", "html", "json")},
)
log.info(report.status())
if leaks:
    for leak in leaks:
        log.error(f"privacy: {leak.describe()}")
    sys.exit(f"privacy scan failed: {len(leaks)} findings in " + ", ".join(sorted({leak.file for leak in leaks})))
