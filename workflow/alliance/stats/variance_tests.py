"""A parametric bootstrap likelihood-ratio test of each growth model's slope variance
(bootstrap/variance_tests.csv).

Under the null the slope variance is 0, a point on the boundary of the parameter space: the likelihood-ratio
statistic then does not follow the chi-square distribution (2 df: the slope variance and its covariance with
the intercept), whose p is too large (Self & Liang, 1987; Stram & Lee, 1994). Here the statistic's null
distribution is simulated: cohorts of the same patients, times and fixed-effect design are drawn from the
fitted random-intercept model, both models refitted on each, and p = (1 + #{T* >= T}) / (1 + R), R the
replicates whose two fits succeeded (failures are counted). The chi-square p and the 50:50 mixture of
chi-square(1) and chi-square(2) are reported beside it. Replicate r of a model draws from its own stream,
derived from the seed, the model's id and r (spawn key (1, crc32(id), r)), so shards give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from alliance.stats.bootstrap import stream_key
from alliance.stats.catalogue import Catalogue, ModelSpec
from alliance.stats.engine import (
    ExactEngine,
    FitFailed,
    GrowthData,
    estimate_from,
    evaluate,
    ldl_curvature,
    profiled_deviance,
    sufficient_statistics,
)
from alliance.stats.model_data import model_data

VARIANCE_TEST_COLUMNS = [
    "model_id", "component", "statistic", "df", "p_chisq", "p_mixture", "p_bootstrap", "replicates", "failed", "seed",
]  # fmt: skip


@dataclass(frozen=True)
class NullModel:
    """A growth model and its random-intercept null, fitted on the full data."""

    model_id: str
    data: GrowthData
    codes: np.ndarray  # each row's patient, 0..m-1
    X: np.ndarray
    beta: np.ndarray  # the null model's fixed effects
    var_intercept: float
    var_residual: float
    null_factor: np.ndarray
    alt_factor: np.ndarray
    alt_curvature: np.ndarray | None
    statistic: float
    reml: bool


def tested_models(catalogue: Catalogue) -> list[ModelSpec]:
    """The catalogue's plain growth models (no predictor, subset or control): the unconditional growth
    model of each outcome, the reference rows of Tables III and IV."""
    return [
        spec
        for spec in catalogue.models
        if spec.base is None
        and spec.kind == "growth"
        and spec.predictor is None
        and not spec.subset
        and not spec.controls
    ]


def _fit(data: GrowthData, reml: bool, start: np.ndarray | None = None, curvature: np.ndarray | None = None):
    """(factor, log-likelihood (or REML criterion / -2) at the optimum, the statistics)."""
    ss = sufficient_statistics(data)
    estimate = (
        ExactEngine().estimate(data, ss, reml, ()) if start is None else estimate_from(ss, reml, start, curvature)
    )
    if not estimate.converged:
        raise FitFailed("not converged")
    return estimate.factor, -0.5 * profiled_deviance(ss, estimate.factor, reml)[0], ss


def _without_slope(data: GrowthData) -> GrowthData:
    return GrowthData(data.frame, data.terms, random_slope=False)


def null_model(spec: ModelSpec, data: GrowthData, reml: bool) -> NullModel:
    alt_factor, alt_loglik, alt_ss = _fit(data, reml)
    null_factor, null_loglik, null_ss = _fit(_without_slope(data), reml)
    sigma2 = evaluate(null_ss, null_factor).r2 / (null_ss.n_obs - (null_ss.p if reml else 0))
    beta = null_ss.with_offset(evaluate(null_ss, null_factor).beta)
    codes, _ = pd.factorize(data.frame["patient_id"], sort=False)
    return NullModel(
        model_id=spec.id,
        data=data,
        codes=codes,
        X=data.frame[list(data.terms)].to_numpy(float),
        beta=beta,
        var_intercept=float(sigma2 * null_factor[0] ** 2),
        var_residual=float(sigma2),
        null_factor=null_factor,
        alt_factor=alt_factor,
        alt_curvature=ldl_curvature(alt_ss, alt_factor, reml),
        statistic=max(2.0 * (alt_loglik - null_loglik), 0.0),
        reml=reml,
    )


def null_models(
    catalogue: Catalogue, patients: pd.DataFrame, wai_long: pd.DataFrame, outcomes_long: pd.DataFrame
) -> tuple[list[NullModel], list[tuple[str, str]]]:
    """The tested models fitted on the full data, and (model id, why) for those that cannot be tested (an
    instrument not collected, a fit that fails)."""
    reml = catalogue.settings.method.upper() == "REML"
    nulls, skipped = [], []
    for spec in tested_models(catalogue):
        try:
            data = model_data(spec, patients, wai_long, outcomes_long)
            if data.n_patients < 3:
                raise FitFailed(f"{data.n_patients} patients with assessments")
            nulls.append(null_model(spec, data, reml))
        except (FitFailed, np.linalg.LinAlgError, ValueError) as error:
            skipped.append((spec.id, f"not tested: {error}"))
    return nulls, skipped


def simulated_statistic(null: NullModel, seed: int, replicate: int) -> float:
    """The likelihood-ratio statistic on one cohort drawn from the null model (NaN if a fit fails)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, stream_key(null.model_id), replicate)))
    m = int(null.codes.max()) + 1
    intercepts = rng.normal(0.0, np.sqrt(null.var_intercept), m)
    y = null.X @ null.beta + intercepts[null.codes] + rng.normal(0.0, np.sqrt(null.var_residual), len(null.codes))
    data = GrowthData(null.data.frame.assign(y=y), null.data.terms)
    try:
        _, alt, _ = _fit(data, null.reml, null.alt_factor, null.alt_curvature)
        _, restricted, _ = _fit(_without_slope(data), null.reml, null.null_factor)
    except (FitFailed, np.linalg.LinAlgError):
        return float("nan")
    return max(2.0 * (alt - restricted), 0.0)


def run_tests(
    nulls: Sequence[NullModel],
    seed: int,
    replicates: range,
    progress: Callable[[NullModel, np.ndarray], None] | None = None,
) -> pd.DataFrame:
    """The simulated statistics of replicates ``replicates``: column ``<model>/statistic`` per model."""
    frame = pd.DataFrame({"replicate": list(replicates)})
    for null in nulls:
        values = np.array([simulated_statistic(null, seed, r) for r in replicates], float)
        frame[f"{null.model_id}/statistic"] = values
        if progress is not None:
            progress(null, values)
    return frame


def variance_tests(nulls: Sequence[NullModel], simulated: pd.DataFrame, seed: int) -> pd.DataFrame:
    """variance_tests.csv: the observed statistic, the chi-square, mixture and bootstrap p of each model."""
    rows = []
    for null in nulls:
        values = simulated[f"{null.model_id}/statistic"].to_numpy(float) if len(simulated) else np.array([])
        used = values[np.isfinite(values)]
        T = null.statistic
        rows.append(
            {
                "model_id": null.model_id,
                "component": "slope",
                "statistic": T,
                "df": 2,
                "p_chisq": float(stats.chi2.sf(T, 2)),
                "p_mixture": float(0.5 * stats.chi2.sf(T, 1) + 0.5 * stats.chi2.sf(T, 2)),
                "p_bootstrap": float((1 + np.sum(used >= T)) / (1 + len(used))) if len(used) else np.nan,
                "replicates": len(values),
                "failed": len(values) - len(used),
                "seed": seed,
            }
        )
    return pd.DataFrame(rows, columns=VARIANCE_TEST_COLUMNS)
