"""The exact engine's algebra (alliance.stats.engine) against dense textbook formulas and finite differences,
its optimiser on a boundary saddle, the design checks and the public API.

Agreement with lme4/lmerTest is in test_lme4_agreement.py and test_lme4_datasets.py; random designs
against statsmodels are in test_engine_properties.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from alliance.stats.catalogue import CatalogueError, catalogue_from_mapping
from alliance.stats.engine import (
    CollinearTerms,
    FitFailed,
    GrowthData,
    beta_covariance_jacobian,
    deviance_vp,
    evaluate,
    factor_from_natural,
    fit_growth,
    natural_from_factor,
    profiled_deviance,
    sufficient_statistics,
)
from test_models import ROOT, dense_loglik, simulated_growth

POINTS = [np.array([0.9, -0.02, 0.04]), np.array([1.3, 0.05, 0.0]), np.array([0.0, 0.0, 0.07])]


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("lam", POINTS, ids=["interior", "zero-l22", "zero-l11"])
def test_deviance_in_lambda_and_sigma_is_the_dense_likelihood(reml, lam):
    data = simulated_growth()
    ss = sufficient_statistics(data)
    sigma = 0.7
    theta = natural_from_factor(lam, sigma, 2)
    assert deviance_vp(ss, np.append(lam, sigma), reml)[0] == pytest.approx(
        -2 * dense_loglik(data, theta, reml), rel=1e-11
    )


@pytest.mark.parametrize("reml", [False, True])
def test_profiled_deviance_is_the_deviance_at_the_profiled_sigma(reml):
    """Profiling: sigma^2 = r^2 / N' (N' = n for ML, n - p for REML) maximises the likelihood."""
    data = simulated_growth()
    ss = sufficient_statistics(data)
    lam = POINTS[0]
    profiled, _ = profiled_deviance(ss, lam, reml)
    sigma = np.sqrt(evaluate(ss, lam).r2 / (ss.n_obs - (ss.p if reml else 0)))
    assert profiled == pytest.approx(deviance_vp(ss, np.append(lam, sigma), reml)[0], rel=1e-12)
    for other in (0.9 * sigma, 1.1 * sigma):
        assert deviance_vp(ss, np.append(lam, other), reml)[0] > profiled


def central_differences(function, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    out = []
    for k in range(len(x)):
        e = np.zeros(len(x))
        e[k] = h * max(abs(x[k]), 1e-2)
        out.append((function(x + e) - function(x - e)) / (2 * e[k]))
    return np.array(out)


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("lam", POINTS, ids=["interior", "zero-l22", "zero-l11"])
def test_analytic_gradients_equal_finite_differences(reml, lam):
    ss = sufficient_statistics(simulated_growth())
    np.testing.assert_allclose(
        profiled_deviance(ss, lam, reml)[1],
        central_differences(lambda x: profiled_deviance(ss, x, reml)[0], lam),
        rtol=1e-5,
        atol=1e-5,
    )
    varpar = np.append(lam, 0.7)
    np.testing.assert_allclose(
        deviance_vp(ss, varpar, reml)[1],
        central_differences(lambda x: deviance_vp(ss, x, reml)[0], varpar),
        rtol=1e-5,
        atol=1e-5,
    )


def test_jacobian_of_the_fixed_effects_covariance_equals_finite_differences():
    ss = sufficient_statistics(simulated_growth())
    varpar = np.array([0.9, -0.02, 0.04, 0.7])

    def covariance(v: np.ndarray) -> np.ndarray:
        return v[-1] ** 2 * evaluate(ss, v[:-1]).A_inv

    numeric = np.stack(
        [
            (covariance(varpar + e) - covariance(varpar - e)) / (2 * e.sum())
            for e in np.eye(4) * 1e-6 * np.maximum(np.abs(varpar), 1e-2)
        ]
    )
    np.testing.assert_allclose(beta_covariance_jacobian(ss, varpar), numeric, rtol=1e-5, atol=1e-10)


def test_natural_parameters_round_trip_including_the_boundary():
    for lam in POINTS[:2]:
        back, sigma = factor_from_natural(natural_from_factor(lam, 0.7, 2), 2)
        np.testing.assert_allclose(back, lam, atol=1e-12)
        assert sigma == pytest.approx(0.7)


def test_a_start_on_the_boundary_saddle_does_not_stop_there():
    """The deviance is symmetric in Lambda's l22, so its gradient is 0 at l22 = 0 although the slope
    variance is far from 0 (a saddle, where a search in Lambda with l22 >= 0 stopped once); in the LDL'
    parametrisation the search runs in, d2 = l22^2 has a gradient there and the optimiser leaves."""
    from alliance.stats.engine import _minimise, factor_to_ldl, ldl_to_factor

    data = simulated_growth(n_patients=200, slope_sd=0.08)
    ss = sufficient_statistics(data)
    fit = fit_growth(data)
    optimum, _ = factor_from_natural(fit.theta, 2)
    saddle = np.array([optimum[0], optimum[1], 0.0])
    assert profiled_deviance(ss, saddle, False)[1][2] == pytest.approx(0.0, abs=1e-9)
    for start in (factor_to_ldl(saddle, 2), np.array([1.0, 0.0, 0.0])):
        search = _minimise(ss, False, start)
        np.testing.assert_allclose(ldl_to_factor(search.lam, 2), optimum, rtol=1e-6)
    assert -0.5 * search.value == pytest.approx(fit.loglik, abs=1e-8)
    assert not fit.singular and fit.converged and fit.warnings == ()


def test_a_boundary_optimum_is_a_singular_fit_with_finite_inference():
    """Slopes without between-patient variation: the optimum has a singular G (here a perfect correlation,
    d2 = 0), reported as singular, with finite df and SEs, and the reference engine finds the same point."""
    rng = np.random.default_rng(5)
    ids = np.repeat(np.arange(80), 5)
    time = np.tile(np.arange(5.0), 80)
    y = 3 + 0.2 * time + rng.normal(0, 1, 80)[ids] + rng.normal(0, 0.5, len(ids))
    data = GrowthData.from_long(ids.astype(str), y, time)
    fit = fit_growth(data)
    assert fit.singular and fit.converged
    assert fit.warnings == ("the random-effects covariance is on the boundary (singular)",)
    G = fit.variance.set_index("component")["estimate"]
    assert G["covariance"] ** 2 == pytest.approx(G["intercept"] * G["slope"], rel=1e-8)
    assert np.isfinite(fit.fixed[["std_error", "df", "p_value"]].to_numpy()).all()
    reference = fit_growth(data, engine="statsmodels")
    assert fit.loglik >= reference.loglik - 1e-8


@pytest.mark.parametrize(
    "covariates, named",
    [
        ({"x": np.arange(40.0) % 2, "twice": 2 * (np.arange(40.0) % 2)}, "x, time:x, twice, time:twice"),
        ({"constant": np.ones(40)}, "Intercept"),
        ({"none": np.zeros(40)}, "zero for every observation: none"),
    ],
)
def test_collinear_designs_are_refused_with_the_terms_named(covariates, named):
    rng = np.random.default_rng(1)
    ids = np.repeat(np.arange(10), 4)
    data = GrowthData.from_long(ids.astype(str), rng.normal(size=40), np.tile(np.arange(4.0), 10), covariates)
    with pytest.raises(CollinearTerms) as error:
        fit_growth(data)
    for term in named.split(", "):
        assert term in str(error.value)
    assert isinstance(error.value, FitFailed)


def test_the_engine_is_chosen_in_the_catalogue_and_exact_is_the_default():
    spec = yaml.safe_load((ROOT / "config" / "models.yaml").read_text())
    assert catalogue_from_mapping(spec).settings.engine == "exact"
    del spec["settings"]["engine"]
    assert catalogue_from_mapping(spec).settings.engine == "exact"
    spec["settings"]["engine"] = "statsmodels"
    assert catalogue_from_mapping(spec).settings.engine == "statsmodels"
    spec["settings"]["engine"] = "lme4"
    with pytest.raises(CatalogueError, match="engine must be one of exact, statsmodels"):
        catalogue_from_mapping(spec)


def test_the_fitting_api_is_exported_at_the_top_level():
    from alliance import GrowthData as TopGrowthData
    from alliance import fit_growth as top_fit_growth

    frame = simulated_growth().frame
    data = TopGrowthData.from_long(frame.patient_id, frame.y, frame.time, {"poor_outcome": frame.group})
    fit = top_fit_growth(data, "ML")
    assert fit.engine == "exact" and fit.converged
    assert list(fit.fixed["term"]) == ["Intercept", "time", "poor_outcome", "time:poor_outcome"]
    reference = fit_growth(data, "ML", engine="statsmodels")
    assert fit.loglik == pytest.approx(reference.loglik, abs=1e-7)
    np.testing.assert_allclose(fit.fixed["estimate"], reference.fixed["estimate"], rtol=1e-6, atol=1e-9)


def test_too_few_observations_is_a_fit_failure_not_a_crash():
    data = GrowthData.from_long(["a", "a", "b"], [1.0, 2.0, 3.0], [0.0, 1.0, 0.0], {"x": [0.0, 0.0, 1.0]})
    with pytest.raises(FitFailed):
        fit_growth(data)


def test_sleepstudy_by_ml_in_milliseconds_is_not_a_timing_test_but_a_smoke_test():
    table = pd.read_csv(ROOT / "tests" / "data" / "sleepstudy.csv")
    fit = fit_growth(GrowthData.from_long(table["Subject"].astype(str), table["Reaction"], table["Days"]), "ML")
    assert fit.loglik == pytest.approx(-875.9697, abs=1e-4)  # lme4: logLik(REML = FALSE) -875.9697
