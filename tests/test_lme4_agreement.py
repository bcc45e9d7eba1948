"""An independent check of the mixed-model engine (alliance.stats.engine) against R's lme4/lmerTest.

The same model data go to both: our engine fits them in Python, tests/r/lme4_reference.R fits them
with lmerTest::lmer and computes the variance components' standard errors from the observed
information of its own marginal likelihood. R is installed by .ci/run: if it is missing these tests
fail (a reference check that is skipped is a check that cannot fail).

R's optimizer: lme4's bobyqa, but with rhoend 1e-10 and maxfun 1e5 (lmerControl optCtrl) instead of
lme4's rhoend 2e-7: with the default, bobyqa stops up to ~1e-5 (relative) short of the optimum in
theta on flat likelihoods (sleepstudy's REML fit; a slope variance of ~1e-7 with time in days), more
than the tolerances below. The R fits run in two batches (one R start-up each) in parallel threads.

Cases:
* a representative set of catalogue models on the default synthetic cohort and on two other seeds,
  by ML, and tasks_poor_outcome also by REML;
* lme4's sleepstudy data (Belenky et al. 2003, shipped with lme4, exported once to
  tests/data/sleepstudy.csv), against lme4's published estimates and a fresh R fit;
* near the boundary, where the old engine failed: the default cohort's tasks_growth with time in days
  (months x 30.44, so that the slope variance is ~4e-7), by ML and REML, and simulated data whose
  intercept-slope correlation is about -0.99 (interior, but close to a singular G);
* the statsmodels engine (engine="statsmodels") on a subset: it must reach the exact engine's optimum.

Tolerances for the default (exact) engine against lme4/lmerTest (not to be loosened to make a failure
pass; see lme4_reference for the helpers):
  log-likelihood                          never below lme4's by more than 1e-6, within 1e-3 (AIC, BIC too)
  fixed effects                           1e-5 relative, or 1e-8 absolute
  variance components                     1e-4 relative
  standard errors and t (fixed, variance) 1e-4 relative
  Satterthwaite df                        1e-3 relative (p-values 1e-3 relative, or 1e-10 absolute)
and no NaN in a result without a warning naming it. The statsmodels engine against the exact engine:
log-likelihood within 1e-6, fixed effects 1e-4 relative (1e-6 absolute), variance components, SEs
and df 1e-3 relative.

No case here is on the boundary of the parameter space (a singular G): the reference fit of every case
must be non-singular. Boundary fits of real data are in tests/test_lme4_datasets.py.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from alliance.stats.catalogue import load_catalogue
from alliance.stats.engine import GrowthData
from alliance.stats.model_data import model_data
from lme4_reference import (
    AGREEMENT_CHECKS,
    COMPONENTS,
    agreement_problems,
    case_result,
    close,
    fit_cases,
    mismatch,
    report,
)
from synthetic_cohorts import synthetic_cohort

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
CATALOGUE = load_catalogue(ROOT / "config" / "models.yaml")
SLEEPSTUDY = ROOT / "tests" / "data" / "sleepstudy.csv"

SIMULATE = CONFIG["cohorts"]["synthetic"]["simulate"]
SEEDS = {"default": int(SIMULATE["seed"]), "seed7": 7, "seed11": 11}

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
CATALOGUE_CASES = [(seed, model, "ML") for seed in SEEDS for model in MODELS] + [
    (seed, "tasks_poor_outcome", "REML") for seed in SEEDS
]
CATALOGUE_IDS = [f"{seed}-{model}-{method}" for seed, model, method in CATALOGUE_CASES]

DAYS_PER_MONTH = 30.44
NEAR_BOUNDARY_IDS = [
    "days-tasks_growth-ML",
    "days-tasks_growth-REML",
    "days-tasks_poor_outcome-ML",
    "correlation-0.99-ML",
    "correlation-0.99-REML",
]
CASE_IDS = [*CATALOGUE_IDS, *NEAR_BOUNDARY_IDS, "sleepstudy"]
STATSMODELS_IDS = [
    "default-tasks_poor_outcome-ML",
    "default-tasks_poor_outcome-REML",
    "default-tasks_means-ML",
    "days-tasks_growth-ML",
    "correlation-0.99-ML",
    "sleepstudy",
]


# --------------------------------------------------------------------------------------------------
# The data of the cases
# --------------------------------------------------------------------------------------------------


def clean_cohort(seed: int):
    _, validated, clean = synthetic_cohort(seed, SIMULATE["n_patients"])
    assert validated.problems == []
    return clean


def sleepstudy_data() -> GrowthData:
    table = pd.read_csv(SLEEPSTUDY)
    return GrowthData.from_long(table["Subject"].astype(str), table["Reaction"], table["Days"])


def in_days(data: GrowthData, factor: float = DAYS_PER_MONTH) -> GrowthData:
    """The same model with time (and every time:x term) multiplied by ``factor``."""
    frame = data.frame.copy()
    for column in dict.fromkeys(["time", *(t for t in data.terms if t == "time" or t.startswith("time:"))]):
        frame[column] = frame[column] * factor
    return GrowthData(frame, data.terms, data.random_slope)


def correlated_data(seed: int = 1, patients: int = 120, rho: float = -0.99) -> GrowthData:
    """Simulated growth data with an intercept-slope correlation of ``rho`` and a group x time effect.

    Seed 1 gives an interior ML and REML optimum with an estimated correlation of -0.990.
    """
    rng = np.random.default_rng(seed)
    times = np.arange(6.0)
    sd = np.diag([2.0, 0.5])
    b = rng.multivariate_normal([0.0, 0.0], sd @ np.array([[1.0, rho], [rho, 1.0]]) @ sd, size=patients)
    group = np.repeat(rng.integers(0, 2, patients).astype(float), len(times))
    time = np.tile(times, patients)
    y = (
        10.0
        + 0.8 * time
        + 0.5 * group
        - 0.2 * group * time
        + np.repeat(b[:, 0], len(times))
        + np.repeat(b[:, 1], len(times)) * time
        + rng.normal(0.0, 0.3, len(time))
    )
    ids = np.repeat([f"p{k:03d}" for k in range(patients)], len(times))
    return GrowthData.from_long(ids, y, time, {"group": group})


def case_data() -> dict[str, tuple[GrowthData, str]]:
    """case id -> (model data, method)."""
    cases: dict[str, tuple[GrowthData, str]] = {}
    for label, seed in SEEDS.items():
        clean = clean_cohort(seed)
        for (case_seed, model, method), case_id in zip(CATALOGUE_CASES, CATALOGUE_IDS):
            if case_seed == label:
                spec = CATALOGUE.model(model)
                cases[case_id] = (model_data(spec, clean.patients, clean.wai_long, clean.outcomes_long), method)
    cases["days-tasks_growth-ML"] = (in_days(cases["default-tasks_growth-ML"][0]), "ML")
    cases["days-tasks_growth-REML"] = (in_days(cases["default-tasks_growth-ML"][0]), "REML")
    cases["days-tasks_poor_outcome-ML"] = (in_days(cases["default-tasks_poor_outcome-ML"][0]), "ML")
    cases["correlation-0.99-ML"] = (correlated_data(), "ML")
    cases["correlation-0.99-REML"] = (correlated_data(), "REML")
    cases["sleepstudy"] = (sleepstudy_data(), "REML")
    assert sorted(cases) == sorted(CASE_IDS)
    return cases


# --------------------------------------------------------------------------------------------------
# Fixtures: every case is fitted once, in both engines (R in two batches, in threads, meanwhile).
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fits() -> dict[str, Any]:
    """case id -> (data, our exact fit or the exception it raised, R's result, statsmodels' fit or None)."""
    return fit_cases(case_data(), STATSMODELS_IDS)


def case(fits: dict[str, Any], case_id: str):
    return case_result(fits, case_id)


# --------------------------------------------------------------------------------------------------
# Every case against lme4/lmerTest
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
    assert not ours.singular, ours.warnings


@pytest.mark.parametrize("check", AGREEMENT_CHECKS)
@pytest.mark.parametrize("case_id", CASE_IDS)
def test_agrees_with_lmertest(fits, case_id, check):
    _, ours, reference = case(fits, case_id)
    report(agreement_problems(check, ours, reference))


def test_near_boundary_cases_are_near_the_boundary(fits):
    """The near-boundary cases are what they claim to be, in lme4's fit."""
    problems = []
    for case_id in NEAR_BOUNDARY_IDS:
        _, _, reference = case(fits, case_id)
        if case_id.startswith("days-") and not 0 < reference["var_slope"] < 2e-6:
            problems.append(f"{case_id}: R's slope variance {reference['var_slope']:.3g} is not ~1e-7")
        if case_id.startswith("correlation-") and not -0.995 < reference["cor_intercept_slope"] < -0.985:
            problems.append(f"{case_id}: R's correlation {reference['cor_intercept_slope']:.5f} is not ~ -0.99")
    report(problems)


# --------------------------------------------------------------------------------------------------
# The statsmodels engine reaches the exact engine's optimum
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case_id", STATSMODELS_IDS)
def test_statsmodels_engine_reaches_the_same_optimum(fits, case_id):
    _, exact, _ = case(fits, case_id)
    reference = fits[case_id][3]
    if isinstance(reference, Exception):
        pytest.fail(f"the statsmodels engine raised {type(reference).__name__}: {reference}")
    problems = []
    if not abs(reference.loglik - exact.loglik) <= 1e-6:
        problems.append(mismatch("loglik (statsmodels vs exact)", reference.loglik, exact.loglik))
    for ours, theirs in zip(exact.fixed.itertuples(), reference.fixed.itertuples()):
        for what, a, b, rtol, atol in (
            ("estimate", theirs.estimate, ours.estimate, 1e-4, 1e-6),
            ("SE", theirs.std_error, ours.std_error, 1e-3, 0.0),
            ("df", theirs.df, ours.df, 1e-3, 0.0),
        ):
            if not close(a, b, rtol, atol):
                problems.append(mismatch(f"{ours.term} {what} (statsmodels vs exact)", a, b))
    for ours, theirs in zip(exact.variance.itertuples(), reference.variance.itertuples()):
        for what, a, b in (("", theirs.estimate, ours.estimate), ("SE ", theirs.std_error, ours.std_error)):
            if not close(a, b, 1e-3, 1e-12):
                problems.append(mismatch(f"{what}{COMPONENTS[ours.component]} (statsmodels vs exact)", a, b))
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
    24.741 is 24.74066 rounded, while the optimum (bobyqa with rhoend 1e-10, and our engine) is 24.74045.
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
