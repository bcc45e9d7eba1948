"""Benchmark: the whole default build as a user runs it, in a fresh copy of the project.

Three timings (issue 11's targets in brackets), each `snakemake --cores 2` with the project's
environment already installed:

1. the default build from a copy with no results (under 45 s);
2. the same command again, with nothing to do (under 3 s);
3. after editing one manuscript template, which must re-run only the rendering (under 10 s): the rules
   that ran are listed.

    .venv/bin/python bench/bench_build.py
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def snakemake(project: Path) -> tuple[float, list[str]]:
    """Wall time of one `snakemake --cores 2` in ``project`` and the rules it ran, in order."""
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2"], cwd=project, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"snakemake failed:\n{run.stderr[-3000:]}")
    rules = re.findall(r"^(?:local)?rule (\w+):", run.stdout + run.stderr, flags=re.MULTILINE)
    return wall, rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()  # no options: --help prints the above
    from alliance.manifest import copy_project

    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "project"
        copy_project(ROOT, project)
        fresh, rules = snakemake(project)
        print(json.dumps({"step": "fresh default build", "wall_s": round(fresh, 2), "jobs": len(rules)}), flush=True)
        noop, rules = snakemake(project)
        print(json.dumps({"step": "no-op re-run", "wall_s": round(noop, 2), "jobs": len(rules)}), flush=True)
        template = project / "manuscript" / "results.md.j2"
        template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        edit, rules = snakemake(project)
        print(
            json.dumps({"step": "one template edited", "wall_s": round(edit, 2), "rules_run": sorted(set(rules))}),
            flush=True,
        )


if __name__ == "__main__":
    main()
