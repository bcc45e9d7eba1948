"""An independent check of the mixed-model engine (alliance.models) against R's lme4/lmerTest.

The same model data go to both: our engine fits them in Python, tests/r/lme4_reference.R fits them
with lmerTest::lmer (bobyqa) and computes the variance components' standard errors from the observed
information of its own marginal likelihood. R is installed by .ci/run: if it is missing these tests
fail (a reference check that is skipped is a check that cannot fail).

Cases: a representative set of catalogue models on the default synthetic cohort and on a second seed,
by ML, and tasks_poor_outcome also by REML; and lme4's sleepstudy data (Belenky et al. 2003, shipped
with lme4, exported once to tests/data/sleepstudy.csv), against lme4's published estimates and a
fresh R fit.

Tolerances (not to be loosened to make a failure pass):
  fixed effects and variance components   1e-4 relative, or 1e-6 absolute
  log-likelihood, AIC, BIC                1e-3 absolute
  standard errors, t (fixed and variance) 1e-3 relative
  Satterthwaite df                        1e-2 absolute below 100, 1e-4 relative above
  p-values of the fixed effects           1e-4 absolute

No case is on the boundary of the parameter space (a singular G), where lme4 and statsmodels can
legitimately stop at different points: the reference fit of every case must be non-singular.
"""

from __future__ import annotations

import math
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from alliance.engine import GrowthData, fit_growth
from alliance.instruments import load_instruments
from alliance.models import load_catalogue, model_data
from lme4_reference import fit_in_r, r_available
from synthetic_cohorts import synthetic_cohort

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
INSTRUMENTS = load_instruments(ROOT / "config" / "instruments.yaml")
CATALOGUE = load_catalogue(ROOT / "config" / "models.yaml")
SLEEPSTUDY = ROOT / "tests" / "data" / "sleepstudy.csv"

SIMULATE = CONFIG["cohorts"]["synthetic"]["simulate"]
SEEDS = {"default": int(SIMULATE["seed"]), "seed7": 7}

# Growth models with and without a predictor, a moderated predictor (PREDMOD), a subgroup, a numeric
# predictor, a clinical outcome on another scale, unconditional means models (random intercept only,
# no time), and models with controls. tasks_means and gaf_means are both kept: they differ in scale.
MODELS = (
    "tasks_growth",
    "tasks_poor_outcome",
    "goals_poor_outcome",
    "bonds_growth",
    "gaf_growth",
    "gaf_age",
    "tasks_poor_outcome_paranoid1",
    "tasks_good_only",
    "tasks_means",
    "gaf_means",
    # The robustness controls: indicators of a text column, a time-varying covariate without x time,
    # a centred covariate (the pattern-mixture model), and the common-items scoring.
    "tasks_growth__version_group",
    "tasks_poor_outcome__version_at_assessment",
    "tasks_poor_outcome__n_assessments",
    "goals_growth__common_items",
)
CASES = [(seed, model, "ML") for seed in SEEDS for model in MODELS] + [
    (seed, "tasks_poor_outcome", "REML") for seed in SEEDS
]
CASE_IDS = [f"{seed}-{model}-{method}" for seed, model, method in CASES]

COMPONENTS = {
    "intercept": "var_intercept",
    "covariance": "cov_intercept_slope",
    "slope": "var_slope",
    "residual": "var_residual",
}


# --------------------------------------------------------------------------------------------------
# Comparison helpers: each returns a list of mismatches, so that a failure shows all of them.
# --------------------------------------------------------------------------------------------------


def close(ours: float, reference: float, rtol: float = 0.0, atol: float = 0.0) -> bool:
    return math.isfinite(ours) and abs(ours - reference) <= max(rtol * abs(reference), atol)


def df_close(ours: float, reference: float) -> bool:
    return close(ours, reference, atol=1e-2) if reference < 100 else close(ours, reference, rtol=1e-4)


def mismatch(what: str, ours: float, reference: float) -> str:
    relative = abs(ours - reference) / abs(reference) if reference else float("inf")
    return f"{what}: ours {ours:.10g}, R {reference:.10g} (diff {ours - reference:.3g}, relative {relative:.3g})"


def fixed_rows(fit, reference: dict[str, Any]):
    assert list(fit.fixed["term"]) == list(reference["fixed"]), "the two fits have different terms"
    for row in fit.fixed.itertuples():
        yield row, reference["fixed"][row.term]


def variance_rows(fit, reference: dict[str, Any]):
    for row in fit.variance.itertuples():
        yield row, COMPONENTS[row.component]


def report(problems: list[str]) -> None:
    assert not problems, "\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# Fixtures: every case is fitted once, in both engines (R in two worker threads meanwhile).
# --------------------------------------------------------------------------------------------------


def clean_cohort(seed: int, directory: Path):
    _, validated, clean = synthetic_cohort(seed, SIMULATE["n_patients"])
    assert validated.problems == []
    return clean


def sleepstudy_data() -> GrowthData:
    table = pd.read_csv(SLEEPSTUDY)
    return GrowthData.from_long(table["Subject"].astype(str), table["Reaction"], table["Days"])


@pytest.fixture(scope="module")
def fits() -> dict[str, Any]:
    """case id -> (our FitResult or the exception it raised, R's result); also 'sleepstudy'."""
    assert r_available(), "R with lmerTest, jsonlite and numDeriv is needed (.ci/run installs it)"
    data: dict[str, GrowthData] = {}
    with tempfile.TemporaryDirectory(prefix="lme4_agreement_") as directory:
        for label, seed in SEEDS.items():
            clean = clean_cohort(seed, Path(directory) / label)
            for (case_seed, model, method), case_id in zip(CASES, CASE_IDS):
                if case_seed == label:
                    spec = CATALOGUE.model(model)
                    data[case_id] = model_data(spec, clean.patients, clean.wai_long, clean.outcomes_long)
    data["sleepstudy"] = sleepstudy_data()
    methods = {case_id: method for (_, _, method), case_id in zip(CASES, CASE_IDS)} | {"sleepstudy": "REML"}
    results: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            case_id: pool.submit(fit_in_r, d.frame, list(d.terms), d.random_slope, methods[case_id] == "REML")
            for case_id, d in data.items()
        }
        ours: dict[str, Any] = {}
        for case_id, d in data.items():
            try:
                ours[case_id] = fit_growth(d, method=methods[case_id])
            except Exception as error:  # noqa: BLE001 - reported by the tests of this case
                ours[case_id] = error
        for case_id, future in futures.items():
            results[case_id] = (data[case_id], ours[case_id], future.result())
    return results


def case(fits: dict[str, Any], case_id: str):
    data, ours, reference = fits[case_id]
    if isinstance(ours, Exception):
        pytest.fail(f"our engine raised {type(ours).__name__}: {ours}")
    return data, ours, reference


# --------------------------------------------------------------------------------------------------
# The synthetic cohorts
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_same_model_and_an_interior_reference_fit(fits, case_id):
    _, ours, reference = case(fits, case_id)
    assert (ours.n_obs, ours.n_patients) == (reference["n_obs"], reference["n_patients"])
    assert not reference["singular"], f"{case_id} is on the boundary in lme4: choose another case"
    # The reference SEs of the variance components come from the R script's own likelihood: it must
    # be lme4's at lme4's optimum.
    assert abs(reference["own_deviance"] - reference["lme4_minus2_loglik"]) < 1e-6
    assert ours.converged, ours.warnings


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_fixed_effects(fits, case_id):
    _, ours, reference = case(fits, case_id)
    problems = []
    for row, r in fixed_rows(ours, reference):
        if not close(row.estimate, r["estimate"], rtol=1e-4, atol=1e-6):
            problems.append(mismatch(f"{row.term} estimate", row.estimate, r["estimate"]))
    report(problems)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_fixed_effect_standard_errors_and_t(fits, case_id):
    _, ours, reference = case(fits, case_id)
    problems = []
    for row, r in fixed_rows(ours, reference):
        if not close(row.std_error, r["std_error"], rtol=1e-3):
            problems.append(mismatch(f"{row.term} SE", row.std_error, r["std_error"]))
        if not close(row.statistic, r["t"], rtol=1e-3):
            problems.append(mismatch(f"{row.term} t", row.statistic, r["t"]))
    report(problems)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_satterthwaite_df_and_p_values(fits, case_id):
    _, ours, reference = case(fits, case_id)
    problems = []
    for row, r in fixed_rows(ours, reference):
        if not df_close(row.df, r["df"]):
            problems.append(mismatch(f"{row.term} df", row.df, r["df"]))
        if not close(row.p_value, r["p"], atol=1e-4):
            problems.append(mismatch(f"{row.term} p", row.p_value, r["p"]))
    report(problems)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_variance_components(fits, case_id):
    _, ours, reference = case(fits, case_id)
    problems = []
    for row, name in variance_rows(ours, reference):
        if not close(row.estimate, reference[name], rtol=1e-4, atol=1e-6):
            problems.append(mismatch(name, row.estimate, reference[name]))
    assert len(ours.variance) == (4 if "var_slope" in reference else 2)
    report(problems)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_variance_component_standard_errors(fits, case_id):
    _, ours, reference = case(fits, case_id)
    problems = []
    for row, name in variance_rows(ours, reference):
        if not close(row.std_error, reference[f"se_{name}"], rtol=1e-3):
            problems.append(mismatch(f"SE {name}", row.std_error, reference[f"se_{name}"]))
    report(problems)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_likelihood_and_information_criteria(fits, case_id):
    _, ours, reference = case(fits, case_id)
    problems = []
    for name in ("loglik", "aic", "bic"):
        if not close(getattr(ours, name), reference[name], atol=1e-3):
            problems.append(mismatch(name, getattr(ours, name), reference[name]))
    report(problems)


# --------------------------------------------------------------------------------------------------
# sleepstudy: lme4's published example (REML)
# --------------------------------------------------------------------------------------------------


def test_sleepstudy_file_is_lme4s():
    table = pd.read_csv(SLEEPSTUDY)
    assert list(table.columns) == ["Reaction", "Days", "Subject"]
    assert len(table) == 180 and table["Subject"].nunique() == 18
    assert table["Reaction"].sum() == pytest.approx(53731.4205, abs=1e-3)


def published_close(ours: float, published: str) -> bool:
    """Equal at the published precision, to one unit in the last printed digit.

    One unit rather than half: the published numbers come from lme4's default optimizer, which stops
    about 1e-5 (relative) from the REML optimum of this flat likelihood; e.g. the printed intercept SD
    24.741 is 24.74066 rounded, while the optimum (bobyqa with rhoend 1e-12, and our engine) is 24.74045.
    """
    decimals = len(published.split(".")[1]) if "." in published else 0
    return abs(ours - float(published)) <= 10.0**-decimals + 1e-12


def test_sleepstudy_matches_lme4s_published_estimates(fits):
    _, ours, _ = case(fits, "sleepstudy")
    fixed = ours.fixed.set_index("term")
    G = ours.variance.set_index("component")["estimate"]
    values = {
        "intercept": (fixed.loc["Intercept", "estimate"], "251.405"),
        "intercept SE": (fixed.loc["Intercept", "std_error"], "6.825"),
        "Days": (fixed.loc["time", "estimate"], "10.467"),
        "Days SE": (fixed.loc["time", "std_error"], "1.546"),
        "intercept df": (fixed.loc["Intercept", "df"], "17"),
        "Days df": (fixed.loc["time", "df"], "17"),
        "SD intercept": (math.sqrt(G["intercept"]), "24.741"),
        "SD Days": (math.sqrt(G["slope"]), "5.922"),
        "correlation": (G["covariance"] / math.sqrt(G["intercept"] * G["slope"]), "0.066"),
        "residual SD": (math.sqrt(G["residual"]), "25.592"),
        "REML criterion": (-2 * ours.loglik, "1743.6"),
    }
    problems = [f"{name}: ours {value:.6f}, published {text}" for name, (value, text) in values.items()]
    report([p for p, (value, text) in zip(problems, values.values()) if not published_close(value, text)])


def test_sleepstudy_matches_a_fresh_lme4_fit(fits):
    _, ours, reference = case(fits, "sleepstudy")
    problems = []
    for row, r in fixed_rows(ours, reference):
        for ours_value, r_value, what, rtol, atol in (
            (row.estimate, r["estimate"], "estimate", 1e-4, 1e-6),
            (row.std_error, r["std_error"], "SE", 1e-3, 0.0),
        ):
            if not close(ours_value, r_value, rtol=rtol, atol=atol):
                problems.append(mismatch(f"{row.term} {what}", ours_value, r_value))
        if not df_close(row.df, r["df"]):
            problems.append(mismatch(f"{row.term} df", row.df, r["df"]))
    for row, name in variance_rows(ours, reference):
        if not close(row.estimate, reference[name], rtol=1e-4, atol=1e-6):
            problems.append(mismatch(name, row.estimate, reference[name]))
        if not close(row.std_error, reference[f"se_{name}"], rtol=1e-3):
            problems.append(mismatch(f"SE {name}", row.std_error, reference[f"se_{name}"]))
    if not close(ours.loglik, reference["loglik"], atol=1e-3):
        problems.append(mismatch("REML log-likelihood", ours.loglik, reference["loglik"]))
    report(problems)
