"""Benchmark: registry-sized cohorts (issue 15). A synthetic cohort of 1,000, 10,000 and 100,000 patients
is built end to end -- simulation, validation, scoring, missing data, models, tables, figures, manuscript --
as `snakemake results/<cohort>/all --cores 2` <!-- illustrative: what this script runs in its copy --> in a
fresh copy of the project, with the cohort's bootstrap off (`bootstrap: {replicates: 0}`: B refits of every
model are hours at this size; see docs/uncertainty.md).

Targets: 100,000 patients in under 10 minutes and under 4 GB peak memory on 2 cores, and no step growing
faster than linearly in patients.

Per step: wall time and peak resident memory from the rule's Snakemake benchmark file
(logs/<cohort>/**/*.benchmark.tsv). For the whole build: wall time, and the peak of the summed resident
memory of every process of the build (snakemake and its jobs, read from /proc every 0.2 s), which is what
the machine must hold. Then, per step, the growth exponent between sizes, log(t_large / t_small) /
log(n_large / n_small): 1 is linear, below 1 is a fixed cost (start-up) still showing.

    .venv/bin/python bench/bench_scaling.py                       # 1,000, 10,000 and 100,000 patients
    .venv/bin/python bench/bench_scaling.py --patients 1000 10000
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root: int) -> int:
    """Summed resident memory (bytes) of ``root`` and every process below it."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[parent].append(int(entry.name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(children.get(pid, []))
    return total


def build(project: Path, config: Path, target: str) -> tuple[float, int]:
    """Wall time and peak summed memory of `snakemake --cores 2 --configfile config target`."""
    start = time.perf_counter()
    log = (project / "build.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "snakemake", target, "--cores", "2", "--configfile", str(config)],
        cwd=project,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    peak = 0

    def sample() -> None:
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    process.wait()
    sampler.join()
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"snakemake failed; see {project / 'build.log'}")
    return wall, peak


def steps(logs: Path) -> dict[str, dict[str, float]]:
    """Per rule (jobs of one rule summed, e.g. fit_models' outcomes): seconds, jobs, and the largest max_rss."""
    out: dict[str, dict[str, float]] = {}
    for path in sorted(logs.rglob("*.benchmark.tsv")):
        rule = path.name.removesuffix(".benchmark.tsv") if path.parent == logs else path.parent.name
        with path.open() as handle:
            row = next(csv.DictReader(handle, delimiter="\t"))
        step = out.setdefault(rule, {"s": 0.0, "jobs": 0, "max_rss_mib": 0.0})
        step["s"] = round(step["s"] + float(row["s"]), 2)
        step["jobs"] += 1
        step["max_rss_mib"] = max(step["max_rss_mib"], float(row["max_rss"]) if row["max_rss"] != "-" else 0.0)
    return out


def measure(n_patients: int, seed: int) -> dict:
    from alliance.build.project import copy_project

    cohort = f"registry{n_patients}"
    with tempfile.TemporaryDirectory() as scratch:
        project = copy_project(ROOT, Path(scratch) / "project")
        config = project / "registry.yaml"
        config.write_text(
            f"cohorts:\n  {cohort}:\n    simulate: {{seed: {seed}, n_patients: {n_patients}}}\n"
            "    disclosure: {min_cell: 0}\n    bootstrap: {replicates: 0}\n",
            encoding="utf-8",
        )
        wall, peak = build(project, config, f"results/{cohort}/all")
        return {
            "patients": n_patients,
            "wall_s": round(wall, 1),
            "peak_memory_mib": round(peak / 2**20),
            "steps": steps(project / "logs" / cohort),
        }


def growth(results: list[dict]) -> None:
    """Each step's growth exponent between consecutive sizes (1 = linear in patients)."""
    for small, large in itertools.pairwise(results):
        ratio = math.log(large["patients"] / small["patients"])
        for rule, step in large["steps"].items():
            before = small["steps"].get(rule)
            if before and before["s"] > 0 and step["s"] > 0:
                exponent = math.log(step["s"] / before["s"]) / ratio
                print(
                    json.dumps(
                        {
                            "step": rule,
                            "patients": [small["patients"], large["patients"]],
                            "s": [before["s"], step["s"]],
                            "growth_exponent": round(exponent, 2),
                        }
                    ),
                    flush=True,
                )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--seed", type=int, default=20201012)
    options = parser.parse_args(argv)
    results = []
    for n_patients in options.patients:
        result = measure(n_patients, options.seed)
        print(json.dumps(result), flush=True)
        results.append(result)
    growth(results)


if __name__ == "__main__":
    main()
