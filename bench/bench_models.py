"""Benchmark: fitting the Table IV model (Tasks ~ time x poor_outcome, random intercept and slope, ML)
with our exact engine and with lme4, on the same data, at 155, 2,000, 20,000 and 100,000 patients.

Reports, per size: our whole fit (``fit_growth``: estimation and the Satterthwaite/variance-SE
inference), lme4's ``lmer()`` (timed inside R, so R's start-up and reading are excluded), the ratio
ours / lme4, and both log-likelihoods (the same model must be fitted: ours is never below lme4's).
Each is the median of ``--reps`` runs; the data are built once per size (not timed). With
``--statsmodels``, the reference engine's fit is timed too (slow above a few thousand patients).

    .venv/bin/python bench/bench_models.py [--patients 155 2000 20000 100000] [--reps 3] [--statsmodels]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def tasks_model_data(n_patients: int, seed: int):
    from alliance.data.instruments import load_instruments
    from alliance.data.pipeline import clean_validated, validate_directory
    from alliance.data.synthetic import simulate_cohort, write_exports
    from alliance.data.synthetic_parameters import load_parameters
    from alliance.settings import AnalysisSettings
    from alliance.stats.catalogue import load_catalogue
    from alliance.stats.model_data import model_data

    instruments = load_instruments(ROOT / "config" / "instruments.yaml")
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cohort = simulate_cohort(seed, n_patients, load_parameters(ROOT / "config" / "synthetic.yaml"), instruments)
    with tempfile.TemporaryDirectory() as scratch:
        write_exports(cohort, Path(scratch))
        analysis = AnalysisSettings.from_mapping(config["analysis"])
        clean = clean_validated(validate_directory(scratch, instruments).tables, instruments, analysis)
    spec = load_catalogue(ROOT / "config" / "models.yaml").model("tasks_poor_outcome")
    return model_data(spec, clean.patients, clean.wai_long, clean.outcomes_long)


def time_ours(data, reps: int, engine: str = "exact") -> tuple[float, float]:
    from alliance import fit_growth

    seconds = []
    for _ in range(reps):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            result = fit_growth(data, "ML", engine=engine)
            seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result.loglik


def time_lme4(data, reps: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "data.csv"
        data.frame[["patient_id", "y", "time", "poor_outcome"]].to_csv(path, index=False)
        out = subprocess.run(
            ["Rscript", str(ROOT / "bench" / "lme4_timing.R"), str(path), str(reps)],
            capture_output=True,
            text=True,
            check=True,
        )
    seconds, loglik = out.stdout.split()
    return float(seconds), float(loglik)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, nargs="+", default=[155, 2000, 20000, 100000])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20201012)
    parser.add_argument("--statsmodels", action="store_true", help="also time the reference engine")
    args = parser.parse_args()
    time_ours(tasks_model_data(155, args.seed), 1)  # imports and first-call costs are not the engine's
    for n in args.patients:
        data = tasks_model_data(n, args.seed)
        ours, loglik = time_ours(data, args.reps)
        lme4_seconds, lme4_loglik = time_lme4(data, args.reps)
        row = {
            "patients": data.n_patients,
            "observations": data.n_obs,
            "our_fit_s": round(ours, 4),
            "lme4_s": round(lme4_seconds, 4),
            "ratio_ours_to_lme4": round(ours / lme4_seconds, 3),
            "loglik_ours": round(loglik, 6),
            "loglik_lme4": round(lme4_loglik, 6),
        }
        if args.statsmodels:
            reference, _ = time_ours(data, 1, engine="statsmodels")
            row["statsmodels_engine_s"] = round(reference, 3)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
