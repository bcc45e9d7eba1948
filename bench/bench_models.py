"""Benchmark: fitting the Table IV model (Tasks ~ time x poor_outcome, random intercept and slope, ML)
with our engine and with lme4, on the same data, at 155, 2,000 and 20,000 patients.

Reports, per size: statsmodels' estimation alone, our whole fit (estimation, polishing and the
Satterthwaite/observed-information inference), lme4's lmer() (median of repeated fits, timed inside R),
and the ratio ours / lme4. Both log-likelihoods are printed as a check that the same model was fitted.

    .venv/bin/python bench/bench_models.py [--patients 155 2000 20000] [--reps 3]
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
    from alliance.instruments import load_instruments
    from alliance.models import load_catalogue, model_data
    from alliance.pipeline import clean_validated, validate_directory
    from alliance.synthetic import load_parameters, simulate_cohort, write_exports

    instruments = load_instruments(ROOT / "config" / "instruments.yaml")
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cohort = simulate_cohort(seed, n_patients, load_parameters(ROOT / "config" / "synthetic.yaml"), instruments)
    with tempfile.TemporaryDirectory() as scratch:
        write_exports(cohort, Path(scratch))
        clean = clean_validated(validate_directory(scratch, instruments).tables, instruments, config["analysis"])
    spec = load_catalogue(ROOT / "config" / "models.yaml").model("tasks_poor_outcome")
    return model_data(spec, clean.patients, clean.wai_long, clean.outcomes_long)


def time_ours(data, reps: int) -> tuple[float, float, float]:
    from alliance.models import fit_growth
    from statsmodels.regression.mixed_linear_model import MixedLM

    frame = data.frame
    estimation, whole = [], []
    for _ in range(reps):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            MixedLM(
                frame["y"], frame[list(data.terms)], groups=frame["patient_id"], exog_re=frame[["Intercept", "time"]]
            ).fit(reml=False, method=["lbfgs"])
            estimation.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = fit_growth(data, "ML")
            whole.append(time.perf_counter() - start)
    return statistics.median(estimation), statistics.median(whole), result.loglik


def time_lme4(data, reps: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "data.csv"
        frame = data.frame.rename(columns={"poor_outcome": "poor_outcome"})[["patient_id", "y", "time", "poor_outcome"]]
        frame.to_csv(path, index=False)
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
    parser.add_argument("--patients", type=int, nargs="+", default=[155, 2000, 20000])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20201012)
    args = parser.parse_args()
    for n in args.patients:
        data = tasks_model_data(n, args.seed)
        estimation, whole, loglik = time_ours(data, args.reps)
        lme4_seconds, lme4_loglik = time_lme4(data, args.reps)
        print(
            json.dumps(
                {
                    "patients": data.n_patients,
                    "observations": data.n_obs,
                    "statsmodels_estimation_s": round(estimation, 4),
                    "our_fit_with_inference_s": round(whole, 4),
                    "lme4_s": round(lme4_seconds, 4),
                    "ratio_statsmodels_to_lme4": round(estimation / lme4_seconds, 1),
                    "ratio_our_fit_to_lme4": round(whole / lme4_seconds, 1),
                    "loglik_ours": round(loglik, 4),
                    "loglik_lme4": round(lme4_loglik, 4),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
