"""Fixtures shared by the test modules that need the default build.

The default build of a fresh project copy takes most of a minute; three modules need one (the output
contract and determinism in test_workflow, verify in test_verify_workflow, the uninterrupted reference of
test_resume). It is built once per session here, and each module works on its own copy of the built
project (results and Snakemake's records copied with their times, so that Snakemake sees them as up to
date), never on the shared one.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from alliance.build.project import copy_project
from alliance.verify.manifest import hash_tree
from quick_bootstrap import quick_bootstrap

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class DefaultBuild:
    project: Path  # do not change: copy it (built_copy)
    digests: dict[str, str]  # SHA-256 of every file under results/ right after the build


def results_digests(project: Path) -> dict[str, str]:
    """SHA-256 of every file under results/: all of them are outputs of the build, the patient-level ones
    (clean/, simulated/, ...) as much as the publishable ones. Logs and benchmark timings live in logs/, and
    Snakemake's records in .snakemake/, and are not compared (they hold times and durations)."""
    return hash_tree(sorted(p for p in (project / "results").rglob("*") if p.is_file()), project)


@pytest.fixture(scope="session")
def default_build(tmp_path_factory) -> DefaultBuild:
    """A fresh copy of the project, built with `snakemake --cores 2`, once per session."""
    project = tmp_path_factory.mktemp("default_build") / "project"
    quick_bootstrap(copy_project(ROOT, project))
    build_project(project)
    return DefaultBuild(project, results_digests(project))


def build_project(project: Path) -> subprocess.CompletedProcess:
    """`snakemake --cores 2` in ``project``, which must succeed without a traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-6000:]
    assert "Traceback" not in result.stderr
    return result


def built_copy(build: DefaultBuild, target: Path) -> Path:
    """A copy of the built project (code, config, results, logs and Snakemake's records, with their times;
    no locks) at ``target``."""
    return copy_project(build.project, target, built=True)
