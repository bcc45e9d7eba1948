"""What a build writes does not depend on the machine: the manuscript's PDF is a config switch, off by
default, and switched on without a PDF engine the workflow stops before any step with a clear message."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from alliance.build.project import copy_project
from quick_bootstrap import quick_bootstrap

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return quick_bootstrap(copy_project(ROOT, tmp_path_factory.mktemp("pdf") / "project"))


def fake_engine(folder: Path) -> Path:
    """A `typst` on the PATH: an engine as far as the workflow's load-time check can tell."""
    folder.mkdir(exist_ok=True)
    engine = folder / "typst"
    engine.write_text("#!/bin/sh\nexit 1\n")
    engine.chmod(engine.stat().st_mode | stat.S_IEXEC)
    return folder


def shells(folder: Path) -> Path:
    """A folder with only the shells Snakemake needs, so that no real PDF engine is on the PATH, and `which`,
    which the SLURM executor plugin runs when Snakemake loads it (its command line fails without one)."""
    folder.mkdir(exist_ok=True)
    for name in ("sh", "bash", "which"):
        found = shutil.which(name)
        if found and not (folder / name).exists():
            (folder / name).symlink_to(found)
    return folder


def dry_run(project: Path, path: str, *args: str) -> subprocess.CompletedProcess:
    # Only the interpreter's folder, the shells (and, where given, a fake engine) on the PATH.
    environment = {**os.environ, "PATH": os.pathsep.join([path, str(shells(project.parent / "shells"))])}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_no_pdf_by_default_even_where_an_engine_is_installed(project, tmp_path):
    path = os.pathsep.join([str(fake_engine(tmp_path / "bin")), str(Path(sys.executable).parent)])
    result = dry_run(project, path)
    assert result.returncode == 0, result.stderr
    assert "manuscript_pdf" not in result.stdout


def test_a_pdf_asked_for_is_planned_where_an_engine_is_installed(project, tmp_path):
    (project / "pdf.yaml").write_text("manuscript:\n  pdf: true\n", encoding="utf-8")
    path = os.pathsep.join([str(fake_engine(tmp_path / "bin")), str(Path(sys.executable).parent)])
    result = dry_run(project, path, "--configfile", "pdf.yaml")
    assert result.returncode == 0, result.stderr
    assert "manuscript_pdf" in result.stdout


def test_a_pdf_asked_for_without_an_engine_stops_with_a_clear_message(project):
    (project / "pdf.yaml").write_text("manuscript:\n  pdf: true\n", encoding="utf-8")
    result = dry_run(project, str(Path(sys.executable).parent), "--configfile", "pdf.yaml")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "manuscript: pdf is true in the config, but no PDF engine is installed" in output
    assert "Traceback" not in output
