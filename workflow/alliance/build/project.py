"""Copies of the project: the one way the verification's scratch rebuild, the tests and the benchmarks make
a project to build in.

A copy holds what a build reads (the Snakefile, ``workflow/``, ``config/``, the manuscript's templates and
Snakemake's workflow profile) and what a reader of the project finds beside it (the README, the docs, the
environment's requirements: the reviewers' package holds them too), never caches. A *built* copy also holds
the build: ``results/``, ``logs/`` and Snakemake's records (``.snakemake/``), every file with its times, so
that Snakemake in the copy finds the outputs up to date, and without Snakemake's locks, which belong to the
builds of the original. Standard library only.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# What a build reads.
BUILD_FILES = ("Snakefile",)
BUILD_DIRS = ("workflow", "config", "manuscript", "profiles")
# What a reader finds beside it (and the reviewers' package holds).
READER_FILES = ("README.md", "pyproject.toml", "requirements.txt", "constraints.txt")
READER_DIRS = ("docs",)
# A build: its outputs, its logs and benchmarks, Snakemake's records of what ran.
BUILD_RECORDS = ("results", "logs", ".snakemake")
# Caches and records never copied with the sources.
IGNORED_PARTS = frozenset(("__pycache__", ".snakemake", ".pytest_cache"))
SNAKEMAKE_LOCKS = Path(".snakemake") / "locks"


def project_files(source: Path) -> list[Path]:
    """The project's own files at ``source`` (what a copy holds, and the reviewers' package), sorted."""
    files = [source / name for name in BUILD_FILES + READER_FILES if (source / name).is_file()]
    for name in BUILD_DIRS + READER_DIRS:
        found = (source / name).rglob("*") if (source / name).is_dir() else ()
        files += [p for p in found if p.is_file() and not IGNORED_PARTS.intersection(p.relative_to(source).parts)]
    return sorted(files)


def copy_project(source: Path, target: Path, built: bool = False) -> Path:
    """Copy the project at ``source`` into ``target`` (created; it may exist if empty) and return ``target``.

    Every file keeps its times. ``built``: the build too (results, logs, Snakemake's records), so that the
    copy is up to date where the original is; the original's locks are left behind.
    """
    target.mkdir(parents=True, exist_ok=True)
    for path in project_files(source):
        copy = target / path.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
    if built:
        for name in BUILD_RECORDS:
            if (source / name).is_dir():
                shutil.copytree(source / name, target / name, symlinks=True)
        for lock in (target / SNAKEMAKE_LOCKS).glob("*"):
            lock.unlink()
    return target
