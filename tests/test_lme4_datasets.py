"""The exact engine (alliance.stats.engine) against lme4/lmerTest on real longitudinal data shipped with R.

The data are exported from R's packages at test time (tests/r/export_datasets.R, into a temporary
directory), so nothing is shipped here; the models are fitted by our engine and by
tests/r/lme4_reference.R (one R batch), at the tolerances of tests/test_lme4_agreement.py:
log-likelihood never below lme4's by more than 1e-6 and within 1e-3; fixed effects 1e-5 relative
(1e-8 absolute); variance components 1e-4 relative; SEs 1e-4 relative; Satterthwaite df 1e-3 relative.

Datasets (random intercept and slope on time unless said):
  orthodont    nlme::Orthodont, distance ~ age x female, ML and REML; and the girls alone (ML)
  oxboys       nlme::Oxboys, height ~ centred age
  bodyweight   nlme::BodyWeight, weight ~ days x diet (2 indicators)
  chickweight  datasets::ChickWeight, weight ~ days x diet (3 indicators), ML and REML
  spruce       nlme::Spruce, log size ~ days x ozone: time in days, slope variance ~3e-7 (near the
               boundary, interior)
Singular (boundary) fits:
  loblolly     datasets::Loblolly, height ~ age: intercept-slope correlation +1, ML and REML
  orange       datasets::Orange, circumference ~ age (days): correlation -1, ML and REML
  dyestuff2    lme4::Dyestuff2, random intercept only, no time: intercept variance 0, ML and REML

On the boundary lmerTest's Satterthwaite df are finite: it computes them from the Hessian of the
deviance in (theta, sigma) with beta profiled (2 H^-1), a parametrisation in which the boundary is an
ordinary point; our engine computes them the same way, so fixed effects, SEs, df and the likelihood are
compared as in the interior. The variance components' SEs are compared with the delta method on that
same covariance (se_delta_* of the R script); the R script's natural-parameter SEs (observed
information of var/cov/var/s2) are not defined on the boundary and not used there. A zero component
(Dyestuff2's intercept variance) has a zero delta-method SE in R; ours must be NaN with a warning (or 0).
Our fit must be flagged singular, with a warning that mentions the boundary, wherever lme4's is.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from alliance.stats.engine import GrowthData
from lme4_reference import (
    AGREEMENT_CHECKS,
    COMPONENTS,
    agreement_problems,
    case_result,
    close,
    export_r_datasets,
    fit_cases,
    mismatch,
    report,
)

INTERIOR = [
    "orthodont-ML",
    "orthodont-REML",
    "orthodont_girls-ML",
    "oxboys-ML",
    "bodyweight-ML",
    "chickweight-ML",
    "chickweight-REML",
    "spruce-ML",
]
SINGULAR = [
    "loblolly-ML",
    "loblolly-REML",
    "orange-ML",
    "orange-REML",
    "dyestuff2-ML",
    "dyestuff2-REML",
]
CASE_IDS = INTERIOR + SINGULAR
STATSMODELS_IDS = ["orthodont-ML", "orange-ML"]


def indicators(table: pd.DataFrame, column: str) -> dict[str, pd.Series]:
    """0/1 indicators of every level of ``column`` but the first."""
    levels = sorted(table[column].unique())[1:]
    return {f"{column}{level}": (table[column] == level).astype(float) for level in levels}


def models(datasets: dict[str, pd.DataFrame]) -> dict[str, tuple[GrowthData, str]]:
    """case id -> (model data, method)."""

    def growth(table: pd.DataFrame, covariates=None, **options) -> GrowthData:
        return GrowthData.from_long(table["patient_id"].astype(str), table["y"], table["time"], covariates, **options)

    o, c, d = datasets["orthodont"], datasets["chickweight"], datasets["dyestuff2"]
    data = {
        "orthodont": growth(o, {"female": o["female"]}),
        "orthodont_girls": growth(o[o["female"] == 1]),
        "oxboys": growth(datasets["oxboys"]),
        "bodyweight": growth(datasets["bodyweight"], indicators(datasets["bodyweight"], "diet")),
        "chickweight": growth(c, indicators(c, "diet")),
        "spruce": growth(datasets["spruce"], {"ozone": datasets["spruce"]["ozone"]}),
        "loblolly": growth(datasets["loblolly"]),
        "orange": growth(datasets["orange"]),
        "dyestuff2": growth(d, random_slope=False, with_time=False),
    }
    return {case_id: (data[case_id.rsplit("-", 1)[0]], case_id.rsplit("-", 1)[1]) for case_id in CASE_IDS}


@pytest.fixture(scope="module")
def fits() -> dict[str, Any]:
    """case id -> (data, our exact fit or its exception, R's result, statsmodels' fit or None)."""
    with tempfile.TemporaryDirectory(prefix="lme4_datasets_") as directory:
        datasets = export_r_datasets(Path(directory))
    return fit_cases(models(datasets), STATSMODELS_IDS)


def case(fits: dict[str, Any], case_id: str):
    return case_result(fits, case_id)


def test_the_datasets_are_rs(fits):
    """Sizes as documented by R (observations, subjects)."""
    expected = {
        "orthodont-ML": (108, 27),
        "orthodont_girls-ML": (44, 11),
        "oxboys-ML": (234, 26),
        "bodyweight-ML": (176, 16),
        "chickweight-ML": (578, 50),
        "spruce-ML": (1027, 79),
        "loblolly-ML": (84, 14),
        "orange-ML": (35, 5),
        "dyestuff2-ML": (30, 6),
    }
    problems = []
    for case_id, size in expected.items():
        _, ours, reference = case(fits, case_id)
        if (ours.n_obs, ours.n_patients) != size or (reference["n_obs"], reference["n_patients"]) != size:
            problems.append(f"{case_id}: ours {(ours.n_obs, ours.n_patients)}, R {reference['n_obs']}, expected {size}")
    report(problems)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_boundary_status(fits, case_id):
    """Interior cases are interior in both fits and converged; singular ones are flagged singular by
    both, with a warning about the boundary."""
    _, ours, reference = case(fits, case_id)
    assert abs(reference["own_deviance"] - reference["lme4_minus2_loglik"]) < 1e-6
    assert ours.converged, ours.warnings
    if case_id in SINGULAR:
        assert reference["singular"], f"{case_id} is not singular in lme4"
        assert ours.singular, ours.warnings
        assert any("boundary" in warning for warning in ours.warnings), ours.warnings
    else:
        assert not reference["singular"], f"{case_id} is singular in lme4"
        assert not ours.singular, ours.warnings


def test_spruce_has_a_tiny_slope_variance(fits):
    _, _, reference = case(fits, "spruce-ML")
    assert 0 < reference["var_slope"] < 1e-6


@pytest.mark.parametrize("check", AGREEMENT_CHECKS)
@pytest.mark.parametrize("case_id", CASE_IDS)
def test_agrees_with_lmertest(fits, case_id, check):
    _, ours, reference = case(fits, case_id)
    report(agreement_problems(check, ours, reference, boundary=case_id in SINGULAR))


@pytest.mark.parametrize("case_id", STATSMODELS_IDS)
def test_statsmodels_engine_reaches_the_same_optimum(fits, case_id):
    _, exact, _ = case(fits, case_id)
    other = fits[case_id][3]
    if isinstance(other, Exception):
        pytest.fail(f"the statsmodels engine raised {type(other).__name__}: {other}")
    problems = []
    if not abs(other.loglik - exact.loglik) <= 1e-6:
        problems.append(mismatch("loglik (statsmodels vs exact)", other.loglik, exact.loglik))
    for ours, theirs in zip(exact.fixed.itertuples(), other.fixed.itertuples()):
        if not close(theirs.estimate, ours.estimate, 1e-4, 1e-6):
            problems.append(mismatch(f"{ours.term} estimate (statsmodels vs exact)", theirs.estimate, ours.estimate))
    for ours, theirs in zip(exact.variance.itertuples(), other.variance.itertuples()):
        if not close(theirs.estimate, ours.estimate, 1e-3, 1e-12):
            name = COMPONENTS[ours.component]
            problems.append(mismatch(f"{name} (statsmodels vs exact)", theirs.estimate, ours.estimate))
    report(problems)
