"""Determinism and integrity: SHA-256 of every publishable output, of the inputs (never their content), the
configuration, the code version and the environment; comparison of two builds' outputs; the reviewers'
reproducibility package as a deterministic zip.

What is publishable follows docs/outputs.md: everything under ``results/<cohort>/`` except the patient-level
areas (:data:`~alliance.verify.declared.SENSITIVE`) and the verification report itself (it is written after
the manifest). The rule declares those files; the manifest hashes exactly them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alliance.build.project import IGNORED_PARTS, copy_project
from alliance.errors import AllianceError
from alliance.verify.declared import Declared, is_sensitive

CODE_PATTERNS = (
    "Snakefile", "workflow/**/*.py", "workflow/**/*.smk", "workflow/**/*.yaml", "workflow/**/*.rst", "manuscript/*",
)  # fmt: skip


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_tree(files: Iterable[Path], base: Path) -> dict[str, str]:
    return {path.relative_to(base).as_posix(): sha256_file(path) for path in files}


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def code_version(project: Path) -> dict[str, Any]:
    """The git commit (and whether the tree differs from it) when there is one; always a hash of the code
    files, so that a copy without git is identified too."""
    found = {p for pattern in CODE_PATTERNS for p in project.glob(pattern) if p.is_file()}
    files = sorted(p for p in found if not IGNORED_PARTS.intersection(p.relative_to(project).parts))
    code = hash_tree(files, project)
    version: dict[str, Any] = {"code_sha256": sha256_text(canonical_json(code)), "code_files": len(code)}
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, check=True, timeout=20
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "Snakefile", "workflow", "config", "manuscript"],
            cwd=project,
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return version
    version["git_commit"] = commit
    version["git_uncommitted_changes"] = bool(status.strip())
    return version


def environment() -> dict[str, Any]:
    """Python, platform and every installed distribution with its version."""
    packages = {
        (dist.metadata["Name"] or "").lower(): dist.version
        for dist in importlib.metadata.distributions()
        if dist.metadata["Name"]
    }
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": dict(sorted(packages.items())),
    }


def input_hashes(files: Sequence[Path], base: Path | None = None) -> dict[str, str]:
    """SHA-256 of each input file by name (relative to ``base`` when given); never their content."""
    out = {}
    for path in sorted(files):
        key = path.relative_to(base).as_posix() if base and path.is_relative_to(base) else path.name
        out[key] = sha256_file(path)
    return out


def export_hashes(exports: Sequence[Path]) -> dict[str, str]:
    """SHA-256 of the declared exports: each file by its name, the files of a declared directory (the
    simulated exports) by their path in it; hidden files left out."""
    out: dict[str, str] = {}
    for declared in exports:
        files = sorted(declared.rglob("*")) if declared.is_dir() else [declared]
        visible = [f for f in files if f.is_file() and not f.name.startswith(".")]
        out.update(input_hashes(visible, declared if declared.is_dir() else None))
    return out


class NotPublishable(AllianceError, ValueError):
    """A patient-level file among the outputs a manifest would hash."""


def output_hashes(outputs: Declared) -> dict[str, str]:
    """SHA-256 of each declared publishable output, by its path relative to the cohort's results."""
    patient_level = [name for name in outputs.names() if is_sensitive(name)]
    if patient_level:
        raise NotPublishable(f"patient-level files among the outputs to publish: {', '.join(patient_level)}")
    return {name: sha256_file(outputs.files[name]) for name in outputs.names()}


def build_manifest(
    cohort: str,
    outputs: Declared,
    exports: Sequence[Path],
    config: Mapping[str, Any],
    config_files: Sequence[Path],
    project: Path,
) -> dict[str, Any]:
    """The manifest of one cohort's build: its declared publishable ``outputs``, its declared ``exports``,
    the merged configuration and the configuration files it was read from. No timestamps: the same build
    gives the same manifest (up to the code version and environment, which it records)."""
    hashes = output_hashes(outputs)
    return {
        "cohort": cohort,
        "outputs": hashes,
        "outputs_sha256": sha256_text(canonical_json(hashes)),
        "inputs": {"exports": export_hashes(exports)},
        "config": {
            "merged_sha256": sha256_text(canonical_json(config)),
            "files": input_hashes([project / path for path in config_files], project),
        },
        "code": code_version(project),
        "environment": environment(),
    }


@dataclass(frozen=True)
class Difference:
    file: str
    status: str  # "differs", "missing in rebuild", "only in rebuild"


def compare_hashes(original: Mapping[str, str], rebuilt: Mapping[str, str]) -> list[Difference]:
    """Files whose bytes differ between two builds, or that only one build has."""
    out = []
    for name in sorted(set(original) | set(rebuilt)):
        if name not in rebuilt:
            out.append(Difference(name, "missing in rebuild"))
        elif name not in original:
            out.append(Difference(name, "only in rebuild"))
        elif original[name] != rebuilt[name]:
            out.append(Difference(name, "differs"))
    return out


# --------------------------------------------------------------------------------------------------
# Scratch rebuild
# --------------------------------------------------------------------------------------------------


def scratch_config(config: Mapping[str, Any], cohort: str, workdir: Path) -> dict[str, Any]:
    """The active configuration restricted to one cohort, with its exports path made absolute."""
    copy = json.loads(json.dumps(config))
    cohort_spec = dict(copy["cohorts"][cohort])
    if "exports" in cohort_spec:
        cohort_spec["exports"] = str((workdir / cohort_spec["exports"]).resolve())
    copy["cohorts"] = {cohort: cohort_spec}
    return dict(copy)


class RebuildFailed(AllianceError, RuntimeError):
    """The scratch rebuild did not finish."""


def rebuild(
    project: Path,
    config: Mapping[str, Any],
    cohort: str,
    manifest: Path,
    scratch: Path,
    cores: int = 1,
    timeout: int = 3600,
) -> tuple[dict[str, str], str]:
    """Build the ``manifest`` of ``cohort`` (its path relative to ``project``) from nothing in a copy of the
    project under ``scratch``: its rule hashes the same declared outputs there. Returns those hashes and
    the tail of snakemake's output."""
    import yaml

    target = manifest.relative_to(project) if manifest.is_absolute() else manifest  # the same file in the copy
    copy_project(project, scratch)
    # The active configuration, this cohort only, replaces the copy's config.yaml (a --configfile would be
    # merged with it and build the other cohorts too).
    config_path = scratch / "config" / "config.yaml"
    config_path.write_text(yaml.safe_dump(scratch_config(config, cohort, project), sort_keys=True), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", str(cores), target.as_posix()],
        cwd=scratch,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RebuildFailed(f"the scratch rebuild failed:\n{result.stderr[-4000:]}")
    rebuilt = json.loads((scratch / target).read_text(encoding="utf-8"))
    return dict(rebuilt["outputs"]), result.stderr[-2000:]


# --------------------------------------------------------------------------------------------------
# Reproducibility package
# --------------------------------------------------------------------------------------------------

FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def package_members(
    project: Path,
    sources: Sequence[Path],
    real_exports: Sequence[Path],
    synthetic_exports: Mapping[str, Path],
    manifests: Mapping[str, Path],
) -> list[tuple[str, Path]]:
    """(name in the zip, file) of everything the package holds, sorted: the project's ``sources`` (code,
    config, docs: alliance.build.project.project_files), every synthetic cohort's exports and every
    manifest. Files inside a real cohort's exports directory are never included, wherever that directory is."""
    excluded = [path.resolve() for path in real_exports]

    def allowed(path: Path) -> bool:
        resolved = path.resolve()
        return not any(resolved == e or resolved.is_relative_to(e) for e in excluded) and not any(
            part in IGNORED_PARTS for part in path.parts
        )

    files = [project / path for path in sources]  # relative to the project, or absolute under it
    members = {path.relative_to(project).as_posix(): path for path in files if allowed(path)}
    for cohort, exports in synthetic_exports.items():
        for path in sorted(exports.rglob("*")):
            if path.is_file() and allowed(path):
                members[f"synthetic_exports/{cohort}/{path.relative_to(exports).as_posix()}"] = path
    for cohort, manifest in manifests.items():
        members[f"manifests/{cohort}/manifest.json"] = manifest
    return sorted(members.items())


def write_zip(members: Sequence[tuple[str, Path]], extra: Mapping[str, str], target: Path) -> None:
    """A zip with fixed timestamps, permissions and order: the same members give the same bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    entries = [(name, path.read_bytes()) for name, path in members] + [
        (name, text.encode("utf-8")) for name, text in extra.items()
    ]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, data, compresslevel=9)


PACKAGE_README = """# Reproducibility package: Folmo et al. (2020), alliance in MBT

This archive holds the workflow that regenerates the paper's tables and figures, its configuration, the
synthetic cohort's exports (`synthetic_exports/`; never a clinic's exports) and the SHA-256 manifest of
every publishable output of each cohort (`manifests/<cohort>/manifest.json`).

Check it:

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
    .venv/bin/snakemake --cores all             # build (results/synthetic/)
    .venv/bin/snakemake --cores all verify      # published vs reproduced, consistency, privacy, rebuild
    .venv/bin/snakemake --report report.html verify

then open `results/synthetic/verify/report.html` (or report.html). The manifest's `outputs` lists the
hash of every publishable file; `sha256sum` any of them after your build to compare. See README.md,
section "Checking this paper's numbers".
"""
