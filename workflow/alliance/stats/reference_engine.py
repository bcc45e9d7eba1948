"""The reference engine: statsmodels' MixedLM, kept selectable (``settings.engine: statsmodels``) as an
independent check of the exact engine (alliance.stats.engine) on the same data.

statsmodels estimates the variance parameters; its estimate is then taken to the optimum of the exact
likelihood written here in the *natural* parameters (var_intercept, cov, var_slope, s2) with beta
profiled out: Newton steps, and quasi-Newton searches in a Cholesky parametrisation from its point and
from a neutral start (statsmodels can stop near the boundary below the maximum). Inference is the
shared one of alliance.stats.engine.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from alliance.stats.engine import (
    Estimate,
    FitFailed,
    GrowthData,
    SufficientStatistics,
    covariance_matrix,
    factor_from_natural,
)


@dataclass(frozen=True)
class NaturalEstimate:
    """statsmodels' own estimate, in the natural parameters (see alliance.stats.engine.covariance_matrix)."""

    theta: np.ndarray
    optimizer: str
    converged: bool
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _Marginal:
    XtViX: np.ndarray
    XtViy: np.ndarray
    ytViy: float
    logdetV: float
    ZtViX: np.ndarray  # (m, q, p), for the gradient of Var(beta)
    ZtViy: np.ndarray  # (m, q)
    XtVi2X: np.ndarray


def _marginal(ss: SufficientStatistics, theta: np.ndarray) -> _Marginal:
    """X'V^-1X, X'V^-1y, y'V^-1y and log|V| via (s2 I + Z G Z')^-1 = (I - Z (s2 I + G Z'Z)^-1 G Z') / s2.

    This form holds for a singular G (a slope variance on its boundary), unlike the usual Woodbury form.
    """
    G, s2 = covariance_matrix(theta, ss.q)
    eye = np.eye(ss.q)
    M = np.linalg.inv(s2 * eye[None] + G[None] @ ss.ZtZ)  # (m, q, q)
    K = M @ G[None]  # (m, q, q): V^-1 = (I - Z K Z') / s2
    KZtX = K @ ss.ZtX
    KZty = np.einsum("mij,mj->mi", K, ss.Zty)
    XtViX = (ss.XtX - np.einsum("mqi,mqj->ij", ss.ZtX, KZtX)) / s2
    XtViy = (ss.Xty - np.einsum("mqi,mq->i", ss.ZtX, KZty)) / s2
    ytViy = (ss.yty - float(np.einsum("mq,mq->", ss.Zty, KZty))) / s2
    _, logdet_inner = np.linalg.slogdet(eye[None] + G[None] @ ss.ZtZ / s2)
    logdetV = float(ss.n.sum() * np.log(s2) + logdet_inner.sum())
    ZtViX = (ss.ZtX - ss.ZtZ @ KZtX) / s2
    ZtViy = (ss.Zty - np.einsum("mij,mj->mi", ss.ZtZ, KZty)) / s2
    # X'V^-2X = (X - Z K Z'X)'(X - Z K Z'X) / s2^2
    XtVi2X = (
        ss.XtX
        - np.einsum("mqi,mqj->ij", ss.ZtX, KZtX)
        - np.einsum("mqi,mqj->ij", KZtX, ss.ZtX)
        + np.einsum("mqi,mqr,mrj->ij", KZtX, ss.ZtZ, KZtX)
    ) / s2**2
    return _Marginal(XtViX, XtViy, ytViy, logdetV, ZtViX, ZtViy, XtVi2X)


def profiled_loglik(ss: SufficientStatistics, theta: np.ndarray, reml: bool, within_space: bool = True) -> float:
    """Log-likelihood (ML) or restricted log-likelihood (REML) at theta, with beta at its GLS value.

    ``within_space=False`` also evaluates the (analytic) likelihood where G is slightly indefinite but
    every V_i is still positive definite, so that numerical derivatives at a fit near the boundary
    can step across it.
    """
    G, s2 = covariance_matrix(theta, ss.q)
    if s2 <= 0 or (within_space and np.linalg.eigvalsh(G).min() < -1e-12):
        return -np.inf
    signs, _ = np.linalg.slogdet(np.eye(ss.q)[None] + G[None] @ ss.ZtZ / s2)
    if np.any(signs <= 0):
        return -np.inf
    mg = _marginal(ss, theta)
    beta = np.linalg.solve(mg.XtViX, mg.XtViy)
    quadratic = mg.ytViy - float(mg.XtViy @ beta)
    n, p = float(ss.n.sum()), len(beta)
    if reml:
        _, logdet_xvx = np.linalg.slogdet(mg.XtViX)
        return -0.5 * ((n - p) * np.log(2 * np.pi) + mg.logdetV + logdet_xvx + quadratic)
    return -0.5 * (n * np.log(2 * np.pi) + mg.logdetV + quadratic)


def beta_covariance(ss: SufficientStatistics, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mg = _marginal(ss, theta)
    cov = np.linalg.inv(mg.XtViX)
    return ss.with_offset(cov @ mg.XtViy), cov


def numerical_hessian(function, x: np.ndarray, relative_step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian with one Richardson extrapolation (error O(h^4))."""
    x = np.asarray(x, float)
    k = len(x)
    scale = np.maximum(np.abs(x), 1e-3)

    def at(h: np.ndarray) -> np.ndarray:
        H = np.zeros((k, k))
        f0 = function(x)
        for i in range(k):
            ei = np.zeros(k)
            ei[i] = h[i]
            H[i, i] = (function(x + ei) - 2 * f0 + function(x - ei)) / h[i] ** 2
            for j in range(i):
                ej = np.zeros(k)
                ej[j] = h[j]
                H[i, j] = H[j, i] = (
                    function(x + ei + ej) - function(x + ei - ej) - function(x - ei + ej) + function(x - ei - ej)
                ) / (4 * h[i] * h[j])
        return H

    h = relative_step * scale
    return (4 * at(h / 2) - at(h)) / 3


def _polish(ss: SufficientStatistics, theta: np.ndarray, reml: bool) -> np.ndarray:
    """A few Newton steps on the exact likelihood, so estimates agree with lme4 to optimizer precision.

    statsmodels stops on a gradient tolerance that leaves variance components a few 1e-4 from the
    optimum; Newton steps from there converge quadratically. A step that lowers the likelihood or
    leaves the parameter space is refused.
    """
    current = theta.copy()
    value = profiled_loglik(ss, current, reml)
    for _ in range(20):
        objective = lambda t: profiled_loglik(ss, t, reml)
        H = numerical_hessian(objective, current, 1e-2)
        g = np.zeros_like(current)
        for i in range(len(current)):
            h = 1e-5 * max(abs(current[i]), 1e-3)
            e = np.zeros_like(current)
            e[i] = h
            g[i] = (objective(current + e) - objective(current - e)) / (2 * h)
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        accepted = False
        for shrink in (1.0, 0.5, 0.25, 0.125):
            candidate = current + shrink * step
            candidate_value = profiled_loglik(ss, candidate, reml)
            if np.isfinite(candidate_value) and candidate_value >= value - 1e-12:
                current, value, accepted = candidate, candidate_value, True
                break
        if not accepted or np.max(np.abs(step) / np.maximum(np.abs(current), 1e-8)) < 1e-10:
            break
    return current


def _theta_from_cholesky(params: np.ndarray, q: int) -> np.ndarray:
    """(l11, l21, l22, log s2) -> natural parameters with G = L L' (never indefinite, may be singular)."""
    s2 = float(np.exp(params[-1]))
    if q == 2:
        l11, l21, l22 = params[:3]
        return np.array([l11 * l11, l11 * l21, l21 * l21 + l22 * l22, s2])
    return np.array([params[0] ** 2, s2])


def _cholesky_params(theta: np.ndarray, q: int) -> np.ndarray:
    G, s2 = covariance_matrix(theta, q)
    values, vectors = np.linalg.eigh(G)
    G = (vectors * np.maximum(values, 0.0)) @ vectors.T + 1e-12 * np.eye(q)
    L = np.linalg.cholesky(G)
    log_s2 = np.log(max(s2, 1e-12))
    return np.array([L[0, 0], L[1, 0], L[1, 1], log_s2]) if q == 2 else np.array([L[0, 0], log_s2])


def _refine(ss: SufficientStatistics, data: GrowthData, theta: np.ndarray, reml: bool) -> np.ndarray:
    """The best of quasi-Newton searches of the exact likelihood, from the engine's estimate and from a
    start that ignores it, in a Cholesky parametrisation (as lme4 searches).

    An engine can stop at a point that satisfies its own tolerance near the boundary of the parameter
    space (a slope variance near zero) although the likelihood is higher elsewhere; lme4 does not.
    """
    from scipy.optimize import minimize

    y = data.frame["y"].to_numpy(float)
    half = max(float(np.var(y)) / 2, 1e-8)
    time_sd = float(np.std(data.frame["time"].to_numpy(float))) or 1.0
    generic = (
        np.array([np.sqrt(half), 0.0, np.sqrt(half) / time_sd / 4, np.log(half)])
        if ss.q == 2
        else np.array([np.sqrt(half), np.log(half)])
    )
    best, best_value = theta, profiled_loglik(ss, theta, reml)

    def objective(params: np.ndarray) -> float:
        value = profiled_loglik(ss, _theta_from_cholesky(params, ss.q), reml)
        return -value if np.isfinite(value) else 1e300

    for start in (_cholesky_params(theta, ss.q), generic):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = minimize(objective, start, method="BFGS", options={"gtol": 1e-8, "maxiter": 2000})
        candidate = _theta_from_cholesky(result.x, ss.q)
        value = profiled_loglik(ss, candidate, reml)
        if np.isfinite(value) and value > best_value:
            best, best_value = candidate, value
    return best


class StatsmodelsEngine:
    """statsmodels MixedLM, optimizers tried in turn until one converges."""

    name = "statsmodels"

    def estimate(self, data: GrowthData, ss: SufficientStatistics, reml: bool, optimizers: Sequence[str]) -> Estimate:
        """statsmodels' estimate taken to the optimum of the exact likelihood (see the module's text)."""
        found = self.statsmodels_estimate(data, reml, optimizers)
        notes = list(found.warnings)
        # Trial points outside the parameter space give NaN likelihoods, which the searches reject.
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            start = _polish(ss, found.theta, reml)
            theta = _polish(ss, _refine(ss, data, start, reml), reml)
        gain = profiled_loglik(ss, theta, reml) - profiled_loglik(ss, start, reml)
        if gain > 1e-6:
            notes.append(
                f"{found.optimizer} stopped short of the maximum; refined on the exact likelihood (+{gain:.3g})"
            )
        else:
            theta = start
        factor, sigma = factor_from_natural(theta, ss.q)
        return Estimate(factor, sigma, found.optimizer, found.converged, tuple(notes))

    def statsmodels_estimate(self, data: GrowthData, reml: bool, optimizers: Sequence[str]) -> NaturalEstimate:
        from statsmodels.regression.mixed_linear_model import MixedLM

        frame = data.frame
        exog = frame[list(data.terms)]
        exog_re = frame[["Intercept", "time"]] if data.random_slope else frame[["Intercept"]]
        model = MixedLM(frame["y"], exog, groups=frame["patient_id"], exog_re=exog_re)
        messages: list[str] = []
        candidates: list[tuple[float, NaturalEstimate]] = []
        for optimizer in optimizers:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    result = model.fit(reml=reml, method=[optimizer])
                except (np.linalg.LinAlgError, ValueError) as error:
                    messages.append(f"{optimizer}: {error}")
                    continue
            found = [f"{optimizer}: {w.message}" for w in caught]
            cov_re = np.asarray(result.cov_re) * 1.0
            s2 = float(result.scale)
            theta = (
                np.array([cov_re[0, 0], cov_re[0, 1], cov_re[1, 1], s2])
                if data.random_slope
                else np.array([cov_re[0, 0], s2])
            )
            llf = float(result.llf)
            # statsmodels can report convergence with an infinite likelihood at a degenerate point.
            converged = (
                bool(result.converged)
                and np.isfinite(llf)
                and not any("converge" in str(w.message).lower() for w in caught)
            )
            if not np.isfinite(llf):
                found.append(f"{optimizer}: non-finite log-likelihood; estimates rejected")
            messages += found
            if np.isfinite(llf):
                candidates.append((llf if converged else -np.inf, NaturalEstimate(theta, optimizer, converged, ())))
            singular = np.linalg.eigvalsh(covariance_matrix(theta, 2 if data.random_slope else 1)[0]).min() <= 1e-10
            # A singular (boundary) solution may be a false stop: let the other optimizers have a go.
            if converged and not singular:
                break
        if not candidates:
            raise FitFailed("; ".join(messages) or "no optimizer could fit the model")
        best = max(candidates, key=lambda c: c[0])[1]
        return NaturalEstimate(best.theta, best.optimizer, best.converged, tuple(messages))
