"""Benchmark: the default power grid (config `power:`, 4 findings x 5 numbers of patients x 2 schedules of waves
x 2 dropouts x 200 replicates) on the default cohort, on 2 cores. Target: under 5 minutes.

In a fresh copy of the project (``alliance.build.project.copy_project``) the cohort and its models are built
first (not timed); then the power analysis is timed, either as a user runs it, `snakemake --cores N power`
(the default; its jobs' own times are read from their benchmark files), or with ``--direct`` by calling the
package in N processes, one finding each at a time (no Snakemake). Prints the wall time.

    .venv/bin/python bench/bench_power.py [--cores 2] [--direct] [--replicates R]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MODEL_FILES = ("fits", "estimates", "variance_components")


def snakemake(project: Path, cores: int, *args: str) -> float:
    """Run snakemake in ``project``; its wall time in seconds (it must succeed)."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", str(cores), *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return seconds


def build_models(project: Path, cores: int, cohorts: list[str]) -> float:
    targets = [f"results/{cohort}/models/{name}.csv" for cohort in cohorts for name in MODEL_FILES]
    return snakemake(project, cores, *targets)


def job_seconds(project: Path) -> dict[str, float]:
    """The power jobs' own wall times, from their benchmark files (logs/<cohort>/power/*.benchmark.tsv)."""
    times = {}
    for path in sorted(project.glob("logs/*/power/*.benchmark.tsv")):
        with path.open(encoding="utf-8") as handle:
            row = next(csv.DictReader(handle, delimiter="\t"))
        times[f"{path.parent.parent.name}/{path.name.removesuffix('.benchmark.tsv')}"] = float(row["s"])
    return times


def one_finding(project: str, cohort: str, finding: str, replicates: int | None) -> tuple[str, float, int]:
    """The power grid of one finding, with the package (``--direct``): its seconds and failed fits."""
    from alliance.settings import load_settings
    from alliance.stats.catalogue import load_catalogue
    from alliance.stats.power import load_generating_model, power_grid
    from alliance.stats.power_design import power_designs

    config = yaml.safe_load((Path(project) / "config" / "config.yaml").read_text(encoding="utf-8"))
    settings = load_settings(config)
    power = settings.power
    results = Path(project) / "results" / cohort
    paths = {name: results / "clean" / f"{name}.csv" for name in ("patients", "wai_long", "outcomes_long")}
    paths |= {name: results / "models" / f"{name}.csv" for name in MODEL_FILES}
    start = time.perf_counter()
    catalogue = load_catalogue(Path(project) / settings.files.models)
    model = load_generating_model(finding, catalogue, paths, settings.analysis.wai_waves, power.effects.get(finding))
    table = power_grid(model, power_designs(power), replicates or power.replicates, power.seed)
    return finding, time.perf_counter() - start, int(table["failed"].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--direct", action="store_true", help="call the package in --cores processes, no Snakemake")
    parser.add_argument("--replicates", type=int, default=None, help="replicates per design (default: the config's)")
    args = parser.parse_args()

    from alliance.build.project import copy_project

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    cohorts, power = list(config["cohorts"]), config["power"]
    designs = len(power["n_patients"]) * len(power["waves"]) * len(power["dropout"])
    replicates = args.replicates or power["replicates"]
    print(f"{len(power['findings'])} findings x {designs} designs x {replicates} replicates, {args.cores} cores")
    with tempfile.TemporaryDirectory() as scratch:
        project = copy_project(ROOT, Path(scratch) / "project")
        if args.replicates:
            (project / "replicates.yaml").write_text(yaml.safe_dump({"power": {"replicates": args.replicates}}))
        print(f"cohort and models built (not timed) in {build_models(project, args.cores, cohorts):.1f} s")
        if args.direct:
            start = time.perf_counter()
            with ProcessPoolExecutor(args.cores) as pool:
                work = [(str(project), c, f, args.replicates) for c in cohorts for f in power["findings"]]
                for finding, seconds, failed in pool.map(one_finding, *zip(*work, strict=True)):
                    print(f"  {finding}: {seconds:.1f} s, {failed} failed fits")
            print(f"power grid, package in {args.cores} processes: {time.perf_counter() - start:.1f} s wall")
            return
        extra = ["--configfile", "replicates.yaml"] if args.replicates else []
        seconds = snakemake(project, args.cores, "power", *extra)
        for job, job_time in job_seconds(project).items():
            print(f"  {job}: {job_time:.1f} s")
        print(f"snakemake --cores {args.cores} power: {seconds:.1f} s wall (target < 300 s)")


if __name__ == "__main__":
    main()
