"""One way to copy the project (alliance.build.project.copy_project): the verification's scratch rebuild, the
tests and the benchmarks all build in such a copy, so it must hold what a build reads, and a built copy must
be up to date where the original is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from alliance.build.project import copy_project, project_files

ROOT = Path(__file__).resolve().parents[1]
A_WHILE_AGO = 1_600_000_000  # seconds since the epoch: a time no copy would give a file by chance


def test_a_copy_holds_what_a_build_reads_and_no_caches(tmp_path):
    copy = copy_project(ROOT, tmp_path / "copy")
    for name in (
        "Snakefile",
        "workflow/rules/common.smk",
        "workflow/scripts/verify_report.py",
        "workflow/alliance/build/project.py",
        "workflow/schemas/config.schema.yaml",
        "config/config.yaml",
        "config/published/folmo2020.yaml",
        "profiles/default/config.yaml",  # Snakemake's workflow profile
        "README.md",
        "docs/outputs.md",
    ):
        assert (copy / name).is_file(), name
    assert list((copy / "manuscript").glob("*.md.j2"))
    assert not list(copy.rglob("__pycache__"))
    assert not any((copy / name).exists() for name in ("results", "logs", ".snakemake"))
    assert [p.relative_to(copy) for p in project_files(copy)] == [p.relative_to(ROOT) for p in project_files(ROOT)]
    for name in ("Snakefile", "config/config.yaml"):
        assert (copy / name).stat().st_mtime_ns == (ROOT / name).stat().st_mtime_ns, name


def test_a_built_copy_keeps_the_build_with_its_times_and_not_the_locks(tmp_path):
    source = copy_project(ROOT, tmp_path / "built")
    records = {
        "results/clinic/tables/table_1.csv": "a\n1\n",
        "logs/clinic/clean_cohort.log": "done\n",
        ".snakemake/metadata/cmVzdWx0cw==": "{}",
        ".snakemake/locks/0.input.lock": "results/clinic/clean/patients.csv\n",
    }
    for name, text in records.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
        os.utime(source / name, (A_WHILE_AGO, A_WHILE_AGO))
    copy = copy_project(source, tmp_path / "copy", built=True)
    for name in list(records)[:3]:
        assert (copy / name).read_text() == records[name]
        assert (copy / name).stat().st_mtime == A_WHILE_AGO, name
    assert (copy / ".snakemake" / "locks").is_dir() and not list((copy / ".snakemake" / "locks").iterdir())
    assert (source / ".snakemake" / "locks" / "0.input.lock").exists()  # the original's own, untouched
    assert not (copy_project(source, tmp_path / "fresh") / "results").exists()


def test_the_default_build_benchmark_plans_the_build_in_a_copy():
    """`bench_cohort.py --default-build` times the whole build (minutes); `--dry-run` plans it in the same copy."""
    result = subprocess.run(
        [sys.executable, "bench/bench_cohort.py", "--default-build", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    planned = json.loads(result.stdout.strip().splitlines()[-1])
    assert planned["jobs"] > 20 and planned["dry_run_wall_s"] > 0, planned
