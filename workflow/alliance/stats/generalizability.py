"""Generalizability theory for a sessions x raters crossed design (Brennan, 2001; Shavelson & Webb, 1991).

A G study splits the variance of a rating into the sessions' (the object of measurement, sigma2_s), the
raters' (their leniency, sigma2_r) and the rest (sigma2_sr,e: with one rating per session and rater the
interaction is confounded with the error). The coefficients for the mean of n raters (a D study):

* absolute (dependability, Phi): sigma2_s / (sigma2_s + (sigma2_r + sigma2_sr,e) / n);
* relative (E rho^2): sigma2_s / (sigma2_s + sigma2_sr,e / n).

Variance components: when every session is rated once by every rater (balanced), from the ANOVA's expected
mean squares, a negative estimate set to zero as Brennan (2001) advises; otherwise (unbalanced) by REML for
crossed random effects, score ~ 1 + (1 | session) + (1 | rater), computed here exactly as lme4 defines its
REML criterion (penalised least squares with the relative standard deviations as parameters, bounded at zero)
and checked against lme4 in the tests. For balanced data without a negative estimate the two agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from alliance.errors import AllianceError

ANOVA = "ANOVA (expected mean squares)"
REML = "REML (crossed random effects)"
# Upper bound of a relative SD (component SD / residual SD): beyond it the residual is zero for all purposes.
MAX_THETA = 1e3


class NotEstimable(AllianceError):
    """The ratings cannot support a G study (fewer than two sessions with two or more raters, one rater)."""


@dataclass(frozen=True)
class VarianceComponents:
    """The G study of one score: its variance components and the design they come from."""

    session: float
    rater: float
    residual: float  # session x rater interaction, confounded with error
    method: str
    sessions: int
    raters: int
    ratings: int
    balanced: bool
    raters_per_session: float  # harmonic mean of the raters of each session
    set_to_zero: tuple[str, ...] = ()  # negative ANOVA estimates set to zero

    def absolute(self, raters: float) -> float:
        """Phi, the absolute (dependability) coefficient for the mean of ``raters`` raters."""
        return _ratio(self.session, self.session + (self.rater + self.residual) / raters)

    def relative(self, raters: float) -> float:
        """E rho^2, the relative (generalizability) coefficient for the mean of ``raters`` raters."""
        return _ratio(self.session, self.session + self.residual / raters)

    def shares(self) -> dict[str, float]:
        """Each component's share of their sum, in percent."""
        total = self.session + self.rater + self.residual
        return {name: 100 * _ratio(value, total) for name, value in self.components().items()}

    def components(self) -> dict[str, float]:
        return {"session": self.session, "rater": self.rater, "residual": self.residual}


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def g_study_data(ratings: pd.DataFrame, score: str) -> pd.DataFrame:
    """The ratings of the G study: sessions rated by two or more raters (``session``, ``rater``, ``score``)."""
    frame = ratings[["session_id", "rater_id", score]].dropna()
    frame = frame.rename(columns={"session_id": "session", "rater_id": "rater", score: "score"})
    counts = frame.groupby("session")["rater"].transform("nunique")
    return frame.loc[counts >= 2].astype({"session": str, "rater": str, "score": float}).reset_index(drop=True)


def is_balanced(data: pd.DataFrame) -> bool:
    """Every session rated once by every rater of the data."""
    sessions, raters = data["session"].nunique(), data["rater"].nunique()
    unique = not data.duplicated(["session", "rater"]).any()
    return unique and len(data) == sessions * raters


def harmonic_raters(data: pd.DataFrame) -> float:
    counts = data.groupby("session")["rater"].nunique().to_numpy(dtype=float)
    return float(len(counts) / np.sum(1.0 / counts))


def anova_components(data: pd.DataFrame) -> VarianceComponents:
    """Variance components of a balanced sessions x raters table from the expected mean squares."""
    table = data.pivot(index="session", columns="rater", values="score").to_numpy(dtype=float)
    n_s, n_r = table.shape
    grand = table.mean()
    session_means, rater_means = table.mean(axis=1), table.mean(axis=0)
    ms_session = n_r * np.sum((session_means - grand) ** 2) / (n_s - 1)
    ms_rater = n_s * np.sum((rater_means - grand) ** 2) / (n_r - 1)
    residuals = table - session_means[:, None] - rater_means[None, :] + grand
    ms_residual = np.sum(residuals**2) / ((n_s - 1) * (n_r - 1))
    raw = {"session": (ms_session - ms_residual) / n_r, "rater": (ms_rater - ms_residual) / n_s}
    negative = tuple(name for name, value in raw.items() if value < 0)
    return VarianceComponents(
        session=max(float(raw["session"]), 0.0),
        rater=max(float(raw["rater"]), 0.0),
        residual=float(ms_residual),
        method=ANOVA,
        sessions=n_s,
        raters=n_r,
        ratings=n_s * n_r,
        balanced=True,
        raters_per_session=float(n_r),
        set_to_zero=negative,
    )


def _indicators(codes: np.ndarray, levels: int) -> np.ndarray:
    matrix = np.zeros((len(codes), levels))
    matrix[np.arange(len(codes)), codes] = 1.0
    return matrix


@dataclass(frozen=True)
class _Crossed:
    """The design of score ~ 1 + (1 | session) + (1 | rater), with its cross-products."""

    y: np.ndarray
    z: np.ndarray  # session indicators, then rater indicators
    n_sessions: int

    def criterion(self, theta: np.ndarray) -> tuple[float, float]:
        """lme4's REML criterion (-2 restricted log-likelihood) at relative SDs ``theta`` and sigma^2."""
        n, q = self.z.shape
        scale = np.concatenate([np.full(self.n_sessions, theta[0]), np.full(q - self.n_sessions, theta[1])])
        zl = self.z * scale
        x = np.ones((n, 1))
        system = np.block([[zl.T @ zl + np.eye(q), zl.T @ x], [x.T @ zl, x.T @ x]])
        right = np.concatenate([zl.T @ self.y, x.T @ self.y])
        try:
            factor = np.linalg.cholesky(system)
        except np.linalg.LinAlgError:  # numerically singular, far out on the bounds: no optimum there
            return math.inf, math.nan
        solution = np.linalg.solve(factor.T, np.linalg.solve(factor, right))
        u, beta = solution[:q], solution[q:]
        penalised = float(np.sum((self.y - zl @ u - x @ beta) ** 2) + np.sum(u**2))
        dof = n - 1
        sigma2 = penalised / dof
        log_det = 2.0 * float(np.sum(np.log(np.diag(factor))))
        return log_det + dof * (1.0 + math.log(2.0 * math.pi * sigma2)), sigma2


def reml_components(data: pd.DataFrame) -> VarianceComponents:
    """Variance components by REML (any pattern of sessions and raters, every session once per rater)."""
    sessions = pd.Categorical(data["session"])
    raters = pd.Categorical(data["rater"])
    design = _Crossed(
        y=data["score"].to_numpy(dtype=float),
        z=np.hstack(
            [
                _indicators(sessions.codes, len(sessions.categories)),
                _indicators(raters.codes, len(raters.categories)),
            ]
        ),
        n_sessions=len(sessions.categories),
    )
    best = None
    for start in ((1.0, 1.0), (0.5, 0.1), (2.0, 0.5)):
        found = optimize.minimize(
            lambda theta: min(design.criterion(theta)[0], 1e300),
            np.array(start),
            method="L-BFGS-B",
            bounds=[(0.0, MAX_THETA), (0.0, MAX_THETA)],
            options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 2000},
        )
        if best is None or found.fun < best.fun:
            best = found
    assert best is not None
    theta = np.asarray(best.x, dtype=float)
    sigma2 = design.criterion(theta)[1]
    return VarianceComponents(
        session=float(theta[0] ** 2 * sigma2),
        rater=float(theta[1] ** 2 * sigma2),
        residual=float(sigma2),
        method=REML,
        sessions=len(sessions.categories),
        raters=len(raters.categories),
        ratings=len(data),
        balanced=is_balanced(data),
        raters_per_session=harmonic_raters(data),
    )


def variance_components(data: pd.DataFrame) -> VarianceComponents:
    """The G study of ``data`` (session, rater, score): ANOVA when balanced, REML otherwise."""
    if data["session"].nunique() < 2 or data["rater"].nunique() < 2:
        raise NotEstimable("a G study needs two or more sessions rated by two or more raters")
    if data.duplicated(["session", "rater"]).any():
        raise NotEstimable("a rater rated a session twice: the design has one rating per session and rater")
    return anova_components(data) if is_balanced(data) else reml_components(data)
