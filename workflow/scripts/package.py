"""Snakemake adapter: the reviewers' reproducibility package, a deterministic zip (rule package)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from pathlib import Path

from alliance.logs import step_logger
from alliance.verify.manifest import PACKAGE_README, package_members, write_zip

log = step_logger("package", snakemake.log[0], snakemake.wildcards)
members = package_members(
    Path.cwd(),
    sources=[Path(p) for p in snakemake.input.sources],
    real_exports=[Path(p) for p in snakemake.params.real_exports],
    synthetic_exports={c: Path(p) for c, p in snakemake.params.synthetic_exports.items()},
    manifests={c: Path(p) for c, p in snakemake.params.manifests.items()},
)
write_zip(members, {"REVIEWERS.md": PACKAGE_README}, Path(snakemake.output.zip))
log.info(f"{len(members) + 1} files in {snakemake.output.zip}")
