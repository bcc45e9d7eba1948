"""Benchmark: the bootstrap of the default cohort as the workflow runs it (issue 14's target: 2,000
replicates of the main models in under 2 minutes on 2 cores).

In a fresh copy of the project, the cohort is built up to its clean tables and models first (not timed);
then `snakemake --cores 2 results/synthetic/bootstrap/intervals.csv` is timed: the shards (each 500
replicates of every catalogue predictor model and its reference, 58 fits a replicate, and 125 simulated
cohorts of the slope-variance tests), the jackknife (155 leave-one-patient-out refits) and the gathering.
Each job's own time comes from its `benchmark:` file.

    .venv/bin/python bench/bench_bootstrap.py
    .venv/bin/python bench/bench_bootstrap.py --replicates 2000 --shard-size 500
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path

from bench_build import snakemake  # the same runner (bench/ is on the path of a script run from there)

ROOT = Path(__file__).resolve().parents[1]
TARGET = "results/synthetic/bootstrap/intervals.csv"


def configure(project: Path, replicates: int, shard_size: int) -> None:
    path = project / "config" / "config.yaml"
    text = path.read_text(encoding="utf-8")
    for key, value in (("replicates", replicates), ("shard_size", shard_size)):
        text = re.sub(
            rf"^(bootstrap:\n(?:  .*\n|\n)*?  {key}:\s*)\d+", rf"\g<1>{value}", text, count=1, flags=re.MULTILINE
        )
    path.write_text(text, encoding="utf-8")


def job_seconds(project: Path) -> dict[str, float]:
    seconds = {}
    for path in sorted((project / "logs" / "synthetic" / "bootstrap").glob("*.benchmark.tsv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        seconds[path.name.removesuffix(".benchmark.tsv")] = round(float(lines[-1].split("\t")[0]), 1)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicates", type=int, default=2000)
    parser.add_argument("--shard-size", type=int, default=500)
    options = parser.parse_args()
    from alliance.build.project import copy_project

    with tempfile.TemporaryDirectory() as scratch:
        project = copy_project(ROOT, Path(scratch) / "project")
        configure(project, options.replicates, options.shard_size)
        snakemake(project, "--cores", "2", "results/synthetic/models/fits.csv")
        wall, _ = snakemake(project, "--cores", "2", TARGET)
        print(
            json.dumps(
                {
                    "replicates": options.replicates,
                    "shard_size": options.shard_size,
                    "wall_s": round(wall, 1),
                    "jobs_s": job_seconds(project),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
