"""Snakemake adapter: rebuild the cohort from nothing in a scratch copy and compare bytes (rule verify_rebuild)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

import json
import tempfile
from pathlib import Path

from alliance.logs import step_logger
from alliance.verify.manifest import RebuildFailed, compare_hashes, rebuild

log = step_logger("verify_rebuild", snakemake.log[0], snakemake.wildcards)
manifest_path = Path(snakemake.input.manifest)
manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
record = {"ran": True, "files_compared": 0, "differences": [], "error": ""}
with tempfile.TemporaryDirectory(prefix="alliance-verify-") as scratch:
    log.info(f"rebuilding cohort {snakemake.wildcards.cohort} in a scratch copy of the project")
    try:
        rebuilt, _ = rebuild(
            Path.cwd(),
            snakemake.config,
            snakemake.wildcards.cohort,
            manifest=manifest_path,
            scratch=Path(scratch),
            cores=snakemake.threads,
            timeout=60 * int(snakemake.resources.runtime),  # the rule's runtime, in minutes
        )
    except RebuildFailed as error:
        record["error"] = str(error)
        log.error(str(error))
    else:
        differences = compare_hashes(manifest["outputs"], rebuilt)
        record["files_compared"] = len(set(manifest["outputs"]) | set(rebuilt))
        record["differences"] = [{"file": d.file, "status": d.status} for d in differences]
        log.info(f"{record['files_compared']} files compared, {len(differences)} differ")
Path(snakemake.output.rebuild).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
