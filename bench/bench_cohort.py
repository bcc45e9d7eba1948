"""Benchmark: reading, validating and scoring a synthetic cohort of a given size.

Targets (issue 2): the default cohort (155 patients) in under 10 s wall on 2 cores; 100,000 patients in
under 2 minutes and under 4 GB peak memory.

Each size is generated once (not timed as part of the target), then the two workflow steps that the
target covers -- validate_exports and clean_cohort -- run in a fresh child process, so that the peak
resident memory is that of the steps alone.

    .venv/bin/python bench/bench_cohort.py                 # 155 and 100,000 patients
    .venv/bin/python bench/bench_cohort.py --patients 155 2000
    .venv/bin/python bench/bench_cohort.py --default-build  # `snakemake --cores 2` in a fresh copy

--default-build times issue 2's other target, the whole default build of the default cohort (simulation,
validation, cleaning, models, tables, figures, manuscript and Snakemake's own start-up) in a copy of the
project with no results; bench_build.py times it too, beside a no-op run, a dry run and a template edit.
With --dry-run it only plans that build (`snakemake -n`): a quick check that the copy builds.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

STEPS = r"""
import json, sys, time, yaml
from pathlib import Path
from alliance.data.instruments import load_instruments
from alliance.data.pipeline import clean_validated, read_validated, validate_directory, write_clean, write_validation
from alliance.layout import CLEAN_TABLES
from alliance.settings import AnalysisSettings

exports, out = Path(sys.argv[1]), Path(sys.argv[2])
config = yaml.safe_load(open(sys.argv[3]))
instruments = load_instruments(sys.argv[4])
t0 = time.perf_counter()
validated = validate_directory(exports, instruments)
write_validation(validated, "bench", "stop", out / "validation.txt", out / "clean" / "validated", out / "quarantine")
t1 = time.perf_counter()
tables, status = read_validated(out / "clean" / "validated")
clean = clean_validated(tables, instruments, AnalysisSettings.from_mapping(config["analysis"]))
paths = {name: out / "clean" / f"{name}.csv" for name in CLEAN_TABLES}
write_clean(clean, status, paths)
t2 = time.perf_counter()
rows = int(validated.accounting.rows_read.sum())
print(json.dumps({"validate_s": t1 - t0, "clean_s": t2 - t1, "rows": rows, "problems": len(validated.problems)}))
"""


def generate(n_patients: int, seed: int, directory: Path) -> float:
    from alliance.data.instruments import load_instruments
    from alliance.data.synthetic import simulate_cohort, write_exports
    from alliance.data.synthetic_parameters import load_parameters

    start = time.perf_counter()
    cohort = simulate_cohort(
        seed,
        n_patients,
        load_parameters(ROOT / "config" / "synthetic.yaml"),
        load_instruments(ROOT / "config" / "instruments.yaml"),
    )
    write_exports(cohort, directory)
    return time.perf_counter() - start


def measure(n_patients: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        exports, out = Path(scratch) / "exports", Path(scratch) / "results"
        exports.mkdir()
        out.mkdir()
        generate_s = generate(n_patients, seed, exports)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                STEPS,
                str(exports),
                str(out),
                str(ROOT / "config" / "config.yaml"),
                str(ROOT / "config" / "instruments.yaml"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - start
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if peak_kib <= before:
            print("warning: an earlier, larger child set the peak; run sizes in increasing order", file=sys.stderr)
        steps = json.loads(child.stdout.strip().splitlines()[-1])
        return {
            "patients": n_patients,
            "rows_read": steps["rows"],
            "generate_s": round(generate_s, 2),
            "validate_s": round(steps["validate_s"], 2),
            "clean_s": round(steps["clean_s"], 2),
            "wall_s_including_start_up": round(wall, 2),
            "peak_rss_mib": round(peak_kib / 1024, 1),
        }


def default_build(dry_run: bool = False) -> dict:
    """The whole default build as a user runs it, `snakemake --cores 2`, in a fresh copy of the project with
    no results (alliance.build.project.copy_project); ``dry_run``: plan it only (`-n`). Timed as
    bench_build.py times its builds."""
    from alliance.build.project import copy_project
    from bench_build import snakemake

    with tempfile.TemporaryDirectory() as scratch:
        project = copy_project(ROOT, Path(scratch) / "project")
        wall, rules = snakemake(project, "--cores", "2", *(["-n"] if dry_run else []))
    key = "dry_run_wall_s" if dry_run else "default_build_wall_s"
    return {key: round(wall, 2), "jobs": len(rules)}


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, nargs="+", default=[155, 100_000])
    parser.add_argument("--seed", type=int, default=None, help="default: the synthetic cohort's seed")
    parser.add_argument(
        "--default-build", action="store_true", help="time the whole default build in a fresh copy of the project"
    )
    parser.add_argument("--dry-run", action="store_true", help="with --default-build: plan the build only (-n)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    if args.default_build:
        print(json.dumps(default_build(args.dry_run)), flush=True)
        return
    seed = args.seed
    if seed is None:
        seed = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["cohorts"]["synthetic"]["simulate"]["seed"]
    print(f"# {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")
    for n in sorted(args.patients):
        print(f"running {n} patients ...", file=sys.stderr, flush=True)
        print(json.dumps(measure(n, seed)), flush=True)


if __name__ == "__main__":
    main()
