"""Benchmark: the whole default build as a user runs it, in a fresh copy of the project.

Four timings (issues 11 and 12's targets in brackets), with the project's environment already installed:

1. the default build, `snakemake --cores 2`, from a copy with no results (under 45 s);
2. the same command again, with nothing to do (under 3 s);
3. a dry run of the built project, `snakemake -n`, with nothing to do: the median of --repeats runs
   (under 3 s);
4. after editing one manuscript template, which must re-run only the rendering (under 10 s): the rules
   that ran are listed.

    .venv/bin/python bench/bench_build.py
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def snakemake(project: Path, *args: str) -> tuple[float, list[str]]:
    """Wall time of one `snakemake --cores 2` (or ``args`` instead) in ``project`` and the rules it ran (or
    would run), in order."""
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", *(args or ("--cores", "2"))],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"snakemake failed:\n{run.stderr[-3000:]}")
    rules = re.findall(r"^(?:local)?rule (\w+):", run.stdout + run.stderr, flags=re.MULTILINE)
    return wall, rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="dry runs to take the median of (default 5)")
    options = parser.parse_args()
    from alliance.build.project import copy_project

    with tempfile.TemporaryDirectory() as scratch:
        project = copy_project(ROOT, Path(scratch) / "project")
        fresh, rules = snakemake(project)
        print(json.dumps({"step": "fresh default build", "wall_s": round(fresh, 2), "jobs": len(rules)}), flush=True)
        noop, rules = snakemake(project)
        print(json.dumps({"step": "no-op re-run", "wall_s": round(noop, 2), "jobs": len(rules)}), flush=True)
        dry = [snakemake(project, "-n") for _ in range(options.repeats)]
        runs = [round(wall, 2) for wall, _ in dry]
        jobs = max(len(rules) for _, rules in dry)
        step = {"step": "no-op dry run (-n)", "median_s": round(statistics.median(runs), 2), "runs_s": runs}
        print(json.dumps({**step, "jobs": jobs}), flush=True)
        template = project / "manuscript" / "results.md.j2"
        template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        edit, rules = snakemake(project)
        print(
            json.dumps({"step": "one template edited", "wall_s": round(edit, 2), "rules_run": sorted(set(rules))}),
            flush=True,
        )


if __name__ == "__main__":
    main()
