"""Snakemake adapter: the SHA-256 manifest of a cohort's publishable outputs (rule verify_manifest)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

import json
from pathlib import Path

from alliance.logs import step_logger
from alliance.verify.declared import Declared
from alliance.verify.manifest import build_manifest

log = step_logger("verify_manifest", snakemake.log[0], snakemake.wildcards)
manifest = build_manifest(
    cohort=snakemake.wildcards.cohort,
    outputs=Declared.of(snakemake.input.outputs),
    exports=[Path(p) for p in snakemake.input.exports],
    config=snakemake.config,
    config_files=[Path(p) for p in snakemake.input.config],
    project=Path.cwd(),
)
Path(snakemake.output.manifest).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
log.info(f"{len(manifest['outputs'])} publishable files, {len(manifest['inputs']['exports'])} export files hashed")
