"""Snakemake adapter: the SHA-256 manifest of a cohort's publishable outputs (rule verify_manifest)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

import json
from pathlib import Path

from alliance.logs import step_logger
from alliance.verify.manifest import build_manifest

log = step_logger("verify_manifest", snakemake.log[0])
project = Path.cwd()
exports = [Path(p) for p in snakemake.params.exports]
export_files = sorted(
    f for p in exports for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file() and not f.name.startswith(".")
)
base = Path(snakemake.params.exports_dir)
manifest = build_manifest(
    cohort=snakemake.wildcards.cohort,
    cohort_dir=Path(snakemake.params.cohort_dir),
    export_files=export_files,
    export_base=base if base.is_dir() else None,
    config=snakemake.config,
    config_files=sorted((project / "config").rglob("*.yaml")),
    project=project,
)
Path(snakemake.output.manifest).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
log.info(f"{len(manifest['outputs'])} publishable files, {len(manifest['inputs']['exports'])} export files hashed")
