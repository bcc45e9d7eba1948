"""The exact growth-model engine: maximum likelihood for a linear mixed model with a random intercept,
or a random intercept and slope with an unstructured 2x2 covariance, any fixed-effect design.

The model of patient i is y_i = X_i beta + Z_i b_i + e_i, b_i ~ N(0, sigma^2 Lambda Lambda'),
e_i ~ N(0, sigma^2 I), with Z_i = [1, time] (or [1]) and Lambda the lower-triangular *relative
covariance factor* (lme4's theta). Everything is written in per-patient sufficient statistics
(Z'Z, Z'X, Z'y: 2x2, 2xp, 2 numbers a patient), computed once; each evaluation is closed-form q x q
algebra vectorised across patients, so its cost is linear in patients with no per-patient Python loop.

With V* = I + Z Lambda Lambda' Z' (V = sigma^2 V*) and M_i = I + Lambda' Z_i'Z_i Lambda:

* log|V*| = sum_i log|M_i|, V*^-1 = I - Z B Z' per patient with B_i = Lambda M_i^-1 Lambda';
* A = X'V*^-1 X, beta = A^-1 X'V*^-1 y, r^2 = y'V*^-1 y - beta'X'V*^-1 y (the penalised RSS);
* the profiled deviance (beta and sigma^2 out) is, with N' = n (ML) or n - p (REML),
  sum log|M_i| [+ log|A|] + N' (1 + log(2 pi r^2 / N')), exactly lme4's deviance / REML criterion;
* its gradient in Lambda is 2 S Lambda (lower triangle) with
  S = sum_i [W_i - P_i A^-1 P_i' (REML only) - u_i u_i' / sigma^2], W_i = Z_i'V*^-1 Z_i,
  P_i = Z_i'V*^-1 X_i and u_i = Z_i'V*^-1 (y_i - X_i beta).

The search runs in the LDL' form of Lambda Lambda' = [[1, 0], [m, 1]] diag(d1, d2) [[1, m], [0, 1]] with
d1, d2 >= 0 (lme4's bounds on Lambda's diagonal, d1 = l11^2, d2 = l22^2), where the deviance is smooth
with linear bounds (in Lambda it is symmetric in l22, so a bound at l22 = 0 can hide a saddle). Projected
Newton steps (Hessian from differences of the analytic gradient, eigenvalues made positive where the
deviance is not convex, a step along negative curvature at a saddle, backtracking line search) converge
quadratically to the optimum, where a quasi-Newton search stops on a tolerance; scipy's bounded
optimisers (L-BFGS-B, TNC) were measured and are slower here (see ExactEngine). A boundary fit
(zero slope variance, perfect correlation) is a point of the search space, not an error; searches
that start on each face of the boundary guard against a local optimum on the other face. Inference follows lmerTest: the
deviance in (Lambda, sigma) with beta profiled, its Hessian (central differences of the analytic
gradient) and the analytic Jacobian of Cov(beta) = sigma^2 A^-1 give the Satterthwaite df; the variance
components' covariance is the delta method from the same Hessian (at an interior optimum identical to
the observed information of the natural parameters; in this parametrisation it stays finite at the
boundary).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from alliance.errors import AllianceError
from alliance.stats.catalogue import DEFAULT_ENGINE, DEFAULT_OPTIMIZERS

# --------------------------------------------------------------------------------------------------
# The data of one model
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrowthData:
    """Long data of one model: ``frame`` has patient_id, y, time and one column per fixed term."""

    frame: pd.DataFrame
    terms: tuple[str, ...]
    random_slope: bool = True

    @property
    def n_patients(self) -> int:
        return int(self.frame["patient_id"].nunique())

    @property
    def n_obs(self) -> int:
        return len(self.frame)

    @property
    def patients(self) -> frozenset[str]:
        return frozenset(self.frame["patient_id"].unique())

    @classmethod
    def from_long(
        cls,
        patient_id: Sequence,
        y: Sequence[float],
        time: Sequence[float],
        covariates: Mapping[str, Sequence[float]] | None = None,
        random_slope: bool = True,
        with_time: bool = True,
        without_time_interaction: Collection[str] = (),
    ) -> GrowthData:
        """Intercept (+ time) (+ each covariate and its interaction with time), as in the paper.

        Covariates named in ``without_time_interaction`` enter as a main effect only.
        """
        frame = pd.DataFrame(
            {"patient_id": np.asarray(patient_id), "y": np.asarray(y, float), "time": np.asarray(time, float)}
        )
        frame["Intercept"] = 1.0
        terms = ["Intercept"]
        if with_time:
            terms.append("time")
        for name, values in (covariates or {}).items():
            frame[name] = np.asarray(values, float)
            terms.append(name)
            if name not in without_time_interaction:
                frame[f"time:{name}"] = frame[name] * frame["time"]
                terms.append(f"time:{name}")
        frame = frame.sort_values(["patient_id", "time"], kind="stable").reset_index(drop=True)
        return cls(frame[["patient_id", "y", *dict.fromkeys(["time", *terms])]], tuple(terms), random_slope)

    def restricted_to(self, patients: frozenset[str]) -> GrowthData:
        frame = self.frame[self.frame["patient_id"].isin(patients)].reset_index(drop=True)
        return GrowthData(frame, self.terms, self.random_slope)


class FitFailed(AllianceError, RuntimeError):
    """No estimates could be produced for a model."""


class CollinearTerms(FitFailed):
    """The fixed-effect design is rank deficient: some terms are linear combinations of others."""


def check_design(data: GrowthData) -> None:
    """Refuse a rank-deficient fixed-effect design with the terms involved (never fit it silently)."""
    X = data.frame[list(data.terms)].to_numpy(float)
    if not np.isfinite(X).all() or not np.isfinite(data.frame["y"].to_numpy(float)).all():
        raise FitFailed("the model data contain missing or infinite values")
    norms = np.sqrt((X * X).sum(axis=0))
    zero = [term for term, norm in zip(data.terms, norms) if norm == 0]
    if zero:
        raise CollinearTerms(f"terms that are zero for every observation: {', '.join(zero)}")
    _, singular_values, vt = np.linalg.svd(X / norms, full_matrices=False)
    tolerance = max(X.shape) * np.finfo(float).eps * singular_values[0] * 1e3
    if singular_values[-1] <= tolerance:
        null = vt[-1]
        involved = [term for term, weight in zip(data.terms, null) if abs(weight) > 1e-6]
        raise CollinearTerms(
            "the fixed effects are collinear (rank deficient design): "
            f"{', '.join(involved)} are linearly dependent in these data"
        )


# --------------------------------------------------------------------------------------------------
# Sufficient statistics and the natural parametrisation
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SufficientStatistics:
    """Per-patient cross-products; every likelihood quantity is a sum of q x q algebra over patients."""

    n: np.ndarray  # (m,)
    ZtZ: np.ndarray  # (m, q, q)
    ZtX: np.ndarray  # (m, q, p)
    Zty: np.ndarray  # (m, q)
    XtX: np.ndarray  # (p, p) summed
    Xty: np.ndarray  # (p,)
    yty: float
    # Each patient's data split into within and between parts (centred times t - mean_i t): V*^-1 leaves
    # the within part alone, so X'V*^-1X = within + sum_i H_i'N_i^-1 H_i, with N_i = I + D_i^1/2 G~_i D_i^1/2
    # and no subtraction: I - Z B Z' loses up to half of the digits when Lambda is large (see docs/models.md).
    within: np.ndarray  # (p+1, p+1): the [X, y] residual cross-products after each patient's line
    between: np.ndarray  # (m, q, p+1): (sqrt(n) mean, S_vt / sqrt(S_tt)) of each column of [X, y]
    time_mean: np.ndarray  # (m,)
    time_ss: np.ndarray  # (m,) sum (t - mean t)^2; 0 where a patient's times are equal
    # y enters as its residual from ordinary least squares, y - X beta_ols (the mixed model's beta is then
    # beta_ols + the GLS coefficients of that residual): an exact reparametrisation that keeps y'V^-1y and
    # its companions small, so that r^2 is not the difference of two large numbers (an outcome far from 0).
    beta_offset: np.ndarray | None = None
    # Each patient's own share of the summed cross-products, kept only where a resample is drawn (take).
    parts: PatientParts | None = None

    @property
    def q(self) -> int:
        return self.ZtZ.shape[1]

    @property
    def p(self) -> int:
        return self.XtX.shape[0]

    @property
    def n_obs(self) -> float:
        return float(self.n.sum())

    @cached_property
    def zz(self) -> list[list[np.ndarray]]:
        """Z_i'Z_i entrywise, each an (m,) array."""
        return [[np.ascontiguousarray(self.ZtZ[:, i, j]) for j in range(self.q)] for i in range(self.q)]

    @cached_property
    def zy(self) -> tuple[np.ndarray, ...]:
        return tuple(np.ascontiguousarray(self.Zty[:, r]) for r in range(self.q))

    @cached_property
    def between_rows(self) -> tuple[np.ndarray, ...]:
        """``between`` row by row of Z', each (p+1, m) and contiguous: evaluate's layout."""
        return tuple(np.ascontiguousarray(self.between[:, r, :].T) for r in range(self.q))

    @cached_property
    def root_d(self) -> tuple[np.ndarray, ...]:
        """D^1/2 = (sqrt(n), sqrt(S_tt)) per patient: between coordinates back to Z~'s scale."""
        return (np.sqrt(self.n),) + ((np.sqrt(self.time_ss),) if self.q == 2 else ())

    def with_offset(self, beta: np.ndarray) -> np.ndarray:
        """The fixed effects of the outcome itself from those of its residual from OLS (see beta_offset)."""
        return beta if self.beta_offset is None else self.beta_offset + beta

    def take(self, index: np.ndarray) -> SufficientStatistics:
        """The statistics of a resample of patients (``index`` into this one's patients, repeats allowed,
        each repeat a patient of its own: a cluster bootstrap's draw), summed without the rows. Needs
        ``parts`` (sufficient_statistics(..., by_patient=True))."""
        if self.parts is None:
            raise ValueError("these statistics were computed without by_patient=True: no resample can be drawn")
        counts = np.bincount(index, minlength=len(self.n)).astype(float)
        parts = self.parts
        return SufficientStatistics(
            n=self.n[index],
            ZtZ=self.ZtZ[index],
            ZtX=self.ZtX[index],
            Zty=self.Zty[index],
            XtX=np.tensordot(counts, parts.XtX, 1),
            Xty=counts @ parts.Xty,
            yty=float(counts @ parts.yty),
            within=np.tensordot(counts, parts.within, 1),
            between=self.between[index],
            time_mean=self.time_mean[index],
            time_ss=self.time_ss[index],
            beta_offset=self.beta_offset,
        )


@dataclass(frozen=True)
class PatientParts:
    """Per-patient cross-products whose sums SufficientStatistics holds: (m, p+1, p+1), (m, p, p), (m, p), (m,)."""

    within: np.ndarray
    XtX: np.ndarray
    Xty: np.ndarray
    yty: np.ndarray


def _segments(codes: np.ndarray):
    """Per-patient sums as one reduceat over rows sorted by patient (linear, no Python loop)."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]) if len(codes) else np.array([], int)

    def per_patient(values: np.ndarray, reduce: np.ufunc = np.add) -> np.ndarray:
        if not len(codes):
            return np.zeros((0,) + values.shape[1:])
        return reduce.reduceat(values[order], starts, axis=0)

    return per_patient


def _within_between(codes: np.ndarray, n: np.ndarray, time: np.ndarray | None, V: np.ndarray, per_patient):
    """Split the columns V = [X, y] into each patient's mean (and line in centred time): the within
    residuals (rows of V after each patient's line), and the between coordinates (sqrt(n) v_bar,
    S_vt / sqrt(S_tt))."""
    means = per_patient(V) / n[:, None]
    centred = V - means[codes]
    root_n_means = np.sqrt(n)[:, None] * means
    if time is None:
        return centred, root_n_means[:, None, :], np.zeros(len(n)), np.zeros(len(n))
    time_mean = per_patient(time[:, None])[:, 0] / n
    ct = time - time_mean[codes]
    # Times equal up to rounding (a mean 1 ulp off each) are equal: no line can be drawn through them.
    scale = per_patient(np.abs(time)[:, None], np.maximum)[:, 0]
    tiny = per_patient((ct * ct)[:, None])[:, 0] <= n * (1e-12 * scale) ** 2
    ct[tiny[codes]] = 0.0
    time_ss = per_patient((ct * ct)[:, None])[:, 0]
    S_vt = per_patient(centred * ct[:, None])
    has_line = time_ss > 0
    slope = np.zeros_like(S_vt)
    slope[has_line] = S_vt[has_line] / time_ss[has_line, None]
    residual = centred - ct[:, None] * slope[codes]
    root = np.zeros_like(S_vt)
    root[has_line] = S_vt[has_line] / np.sqrt(time_ss[has_line, None])
    return residual, np.stack([root_n_means, root], axis=1), time_mean, time_ss


def _outer_by_patient(A: np.ndarray, B: np.ndarray, per_patient) -> np.ndarray:
    """sum over each patient's rows of a_r b_r': (m, a, b)."""
    rows, a, b = len(A), A.shape[1], B.shape[1]
    return per_patient((A[:, :, None] * B[:, None, :]).reshape(rows, a * b)).reshape(-1, a, b)


def _patient_parts(X: np.ndarray, y: np.ndarray, residual: np.ndarray, per_patient) -> PatientParts:
    return PatientParts(
        within=_outer_by_patient(residual, residual, per_patient),
        XtX=_outer_by_patient(X, X, per_patient),
        Xty=per_patient(X * y[:, None]),
        yty=per_patient((y * y)[:, None])[:, 0],
    )


def sufficient_statistics(data: GrowthData, by_patient: bool = False) -> SufficientStatistics:
    """The model's cross-products; ``by_patient`` also keeps each patient's share of the summed ones, so
    that resamples of patients can be drawn from them (SufficientStatistics.take)."""
    frame = data.frame
    codes, _ = pd.factorize(frame["patient_id"], sort=False)
    m = int(codes.max()) + 1 if len(codes) else 0
    X = frame[list(data.terms)].to_numpy(float)
    y = frame["y"].to_numpy(float)
    time = frame["time"].to_numpy(float) if data.random_slope else None
    Z = np.column_stack([np.ones(len(frame)), time]) if time is not None else np.ones((len(frame), 1))
    q, p = Z.shape[1], X.shape[1]
    beta_offset = np.linalg.lstsq(X, y, rcond=None)[0] if len(y) else np.zeros(p)
    y = y - X @ beta_offset
    per_patient = _segments(codes)
    n = np.bincount(codes, minlength=m).astype(float)
    residual, between, time_mean, time_ss = _within_between(codes, n, time, np.column_stack([X, y]), per_patient)
    return SufficientStatistics(
        n=n,
        ZtZ=_outer_by_patient(Z, Z, per_patient).reshape(m, q, q),
        ZtX=_outer_by_patient(Z, X, per_patient).reshape(m, q, p),
        Zty=per_patient(Z * y[:, None]),
        XtX=X.T @ X,
        Xty=X.T @ y,
        yty=float(y @ y),
        within=residual.T @ residual,
        between=between,
        time_mean=time_mean,
        time_ss=time_ss,
        beta_offset=beta_offset,
        parts=_patient_parts(X, y, residual, per_patient) if by_patient else None,
    )


def covariance_matrix(theta: np.ndarray, q: int) -> tuple[np.ndarray, float]:
    """Natural parameters -> (G, s2). theta = (var_intercept, cov, var_slope, s2) or (var_intercept, s2)."""
    if q == 2:
        G = np.array([[theta[0], theta[1]], [theta[1], theta[2]]])
        return G, float(theta[3])
    return np.array([[theta[0]]]), float(theta[1])


# (row, column) of the free entries of Lambda, in lme4's order.
FACTOR_ENTRIES = {1: ((0, 0),), 2: ((0, 0), (1, 0), (1, 1))}
# Entries on Lambda's diagonal, bounded below by 0.
DIAGONAL = {1: (0,), 2: (0, 2)}


def relative_factor(lam: np.ndarray, q: int) -> np.ndarray:
    """(l11, l21, l22) -> [[l11, 0], [l21, l22]]; (l11,) -> [[l11]] (lme4's theta order)."""
    if q == 2:
        return np.array([[lam[0], 0.0], [lam[1], lam[2]]])
    return np.array([[lam[0]]])


def natural_from_factor(lam: np.ndarray, sigma: float, q: int) -> np.ndarray:
    """(Lambda, sigma) -> (var_intercept, cov, var_slope, s2) or (var_intercept, s2)."""
    L = relative_factor(lam, q)
    G = sigma**2 * (L @ L.T)
    s2 = sigma**2
    return np.array([G[0, 0], G[0, 1], G[1, 1], s2]) if q == 2 else np.array([G[0, 0], s2])


def factor_from_natural(theta: np.ndarray, q: int) -> tuple[np.ndarray, float]:
    """Natural parameters -> (Lambda entries, sigma); a singular G gets a zero on Lambda's diagonal."""
    G, s2 = covariance_matrix(theta, q)
    sigma = float(np.sqrt(s2))
    R = G / s2
    l11 = float(np.sqrt(max(R[0, 0], 0.0)))
    if q == 1:
        return np.array([l11]), sigma
    l21 = float(R[1, 0] / l11) if l11 > 0 else 0.0
    l22 = float(np.sqrt(max(R[1, 1] - l21 * l21, 0.0)))
    return np.array([l11, l21, l22]), sigma


# --------------------------------------------------------------------------------------------------
# The profiled deviance and its gradient
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """Everything the deviance and its derivatives need at one Lambda (beta at its GLS value).

    Per-patient q-vectors and q x p matrices are kept as one (m,) or (p, m) array per row of Z'
    (``P[r]`` is row r of every patient's Z'V*^-1 X, patients on the last axis), so that the algebra is
    elementwise along patients and BLAS.
    """

    L: np.ndarray  # (q, q) relative factor
    logdet: float  # sum log|M_i| = log|V*|
    A: np.ndarray  # X'V*^-1 X
    chol: np.ndarray  # its Cholesky factor
    beta: np.ndarray
    r2: float  # penalised residual sum of squares at beta
    W: np.ndarray  # (q, q) sum of Z'V*^-1 Z
    u: np.ndarray  # (m, q) Z'V*^-1 r per patient
    ss: SufficientStatistics
    NH: tuple[np.ndarray, ...]  # q arrays (p, m): N^-1 H per patient, in centred time

    @cached_property
    def P(self) -> tuple[np.ndarray, ...]:
        """q arrays (p, m): Z'V*^-1 X per patient = R^-T D^1/2 N^-1 H (only REML's gradient and inference
        need it: an ML search never builds it)."""
        return _uncentred(self.ss, [root * NH for root, NH in zip(self.ss.root_d, self.NH, strict=True)])

    @cached_property
    def A_inv(self) -> np.ndarray:
        """(X'V*^-1X)^-1: for REML's gradient and for inference, not for an ML search."""
        return np.linalg.inv(self.A)

    @cached_property
    def logdet_A(self) -> float:
        return 2.0 * float(np.log(np.diag(self.chol)).sum())


def _between_inverse(ss: SufficientStatistics, L: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """N_i^-1 entries (p11, p12, p22; (m,) arrays) and log|N_i| = log|I + Lambda'Z_i'Z_i Lambda|.

    N_i = I + D^1/2 G~ D^1/2 in the patient's centred time, D = diag(n, S_tt), G~ = Lambda~Lambda~' with
    Lambda~ = [[1, t_bar], [0, 1]] Lambda; |N| = 1 + tr + n S_tt |Lambda|^2, written so that nothing cancels.
    """
    n = ss.n
    if ss.q == 1:
        N = 1.0 + n * L[0, 0] ** 2
        return (1.0 / N,), np.log(N)
    l1, l2, l3 = L[0, 0], L[1, 0], L[1, 1]
    t_bar, S_tt = ss.time_mean, ss.time_ss
    a0 = l1 + t_bar * l2
    g11, g12, g22 = a0 * a0 + (t_bar * l3) ** 2, a0 * l2 + t_bar * l3 * l3, l2 * l2 + l3 * l3
    s11, s12, s22 = n * g11, np.sqrt(n * S_tt) * g12, S_tt * g22
    det = 1.0 + s11 + s22 + n * S_tt * (l1 * l3) ** 2
    return ((1.0 + s22) / det, -s12 / det, (1.0 + s11) / det), np.log(det)


def _apply(inverse: tuple[np.ndarray, ...], rows: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    """N^-1 h per patient, h given as its q rows, each (k, m): patients on the last axis, so that each
    product runs along m (with patients first, numpy's loops run over k = p + 1 < 10 at a time: three
    times slower at 100,000 patients, where the fit's time is these products)."""
    if len(rows) == 1:
        return [inverse[0] * rows[0]]
    p11, p12, p22 = inverse
    return [p11 * rows[0] + p12 * rows[1], p12 * rows[0] + p22 * rows[1]]


def _solve(A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Cholesky factor of the positive definite X'V*^-1X (LinAlgError if it is not), and A^-1 b."""
    return np.linalg.cholesky(A), np.linalg.solve(A, b)


def _uncentred(ss: SufficientStatistics, rows: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Z'(.) from Z~'(.) in centred time (Z = Z~ R^-1, R^-1 = [[1, t_bar], [0, 1]]); patients on the last axis."""
    if len(rows) == 1:
        return (rows[0],)
    return rows[0], ss.time_mean * rows[0] + rows[1]


def evaluate(ss: SufficientStatistics, lam: np.ndarray) -> Evaluation:
    """The likelihood's pieces at Lambda, patients vectorised (the hot loop of every fit)."""
    q, p = ss.q, ss.p
    L = relative_factor(lam, q)
    inverse, log_det = _between_inverse(ss, L)
    B = ss.between_rows
    NB = _apply(inverse, B)  # N^-1 [H, h] per patient, each (p+1, m)
    # [X, y]'V*^-1[X, y]: the within part, and the between part through N^-1 (V*^-1 leaves the within alone)
    M = ss.within + sum(B[r] @ NB[r].T for r in range(q))
    A, Xty = M[:p, :p], M[:p, p]
    chol, beta = _solve(A, Xty)
    r2 = float(M[p, p]) - float(Xty @ beta)
    # Z~'V*^-1 r = D^1/2 N^-1 (h - H beta), then back to Z = Z~ R^-1.
    u = np.column_stack(_uncentred(ss, [ss.root_d[r] * (NB[r][p] - beta @ NB[r][:p]) for r in range(q)]))
    W = _summed_precision(ss, inverse)
    return Evaluation(L, float(log_det.sum()), A, chol, beta, r2, W, u, ss, tuple(NB[r][:p] for r in range(q)))


def _summed_precision(ss: SufficientStatistics, inverse: tuple[np.ndarray, ...]) -> np.ndarray:
    """W = sum_i Z_i'V*_i^-1 Z_i = sum R^-T D^1/2 N^-1 D^1/2 R^-1."""
    if ss.q == 1:
        return np.array([[float((ss.n * inverse[0]).sum())]])
    p11, p12, p22 = inverse
    t_bar = ss.time_mean
    c11, c12, c22 = ss.n * p11, np.sqrt(ss.n * ss.time_ss) * p12, ss.time_ss * p22
    w11 = float(c11.sum())
    w12 = float((t_bar * c11 + c12).sum())
    w22 = float((t_bar * t_bar * c11 + 2.0 * t_bar * c12 + c22).sum())
    return np.array([[w11, w12], [w12, w22]])


def residual_df(ss: SufficientStatistics, reml: bool) -> float:
    return ss.n_obs - (ss.p if reml else 0)


def _covariance_gradient(ev: Evaluation, sigma2: float, reml: bool) -> np.ndarray:
    """S = d deviance / d (Lambda Lambda') at a given sigma^2 (d deviance = tr(S dG*), G* = Lambda Lambda')."""
    S = ev.W - ev.u.T @ ev.u / sigma2
    if reml:
        PA = [ev.A_inv @ P_r for P_r in ev.P]
        S = S - np.array([[float(np.sum(PA[i] * ev.P[j])) for j in range(len(ev.P))] for i in range(len(ev.P))])
    return S


def _factor_gradient(ev: Evaluation, sigma2: float, reml: bool) -> np.ndarray:
    """d deviance / d Lambda (lower-triangle entries) at a given sigma^2: 2 S Lambda."""
    SL = 2.0 * (_covariance_gradient(ev, sigma2, reml) @ ev.L)
    return np.array([SL[a, b] for a, b in FACTOR_ENTRIES[ev.L.shape[0]]])


def _profiled(ss: SufficientStatistics, lam: np.ndarray, reml: bool) -> tuple[float, Evaluation, float]:
    ev = evaluate(ss, lam)
    n_resid = residual_df(ss, reml)
    if ev.r2 <= 0:
        raise FitFailed("the model fits the data exactly (zero residual sum of squares)")
    sigma2 = ev.r2 / n_resid
    deviance = ev.logdet + n_resid * (1.0 + np.log(2.0 * np.pi * sigma2))
    if reml:
        deviance += ev.logdet_A
    return float(deviance), ev, sigma2


def profiled_deviance(ss: SufficientStatistics, lam: np.ndarray, reml: bool) -> tuple[float, np.ndarray]:
    """lme4's deviance (ML) or REML criterion at Lambda, beta and sigma^2 profiled out, and its gradient."""
    deviance, ev, sigma2 = _profiled(ss, lam, reml)
    return deviance, _factor_gradient(ev, sigma2, reml)


def ldl_to_factor(x: np.ndarray, q: int) -> np.ndarray:
    """(d1, m, d2) of Lambda Lambda' = [[1, 0], [m, 1]] diag(d1, d2) [[1, m], [0, 1]] -> Lambda's entries
    (sqrt(d1), m sqrt(d1), sqrt(d2)); (d1,) -> (sqrt(d1),)."""
    if q == 1:
        return np.array([np.sqrt(max(x[0], 0.0))])
    root = np.sqrt(max(x[0], 0.0))
    return np.array([root, x[1] * root, np.sqrt(max(x[2], 0.0))])


def factor_to_ldl(lam: np.ndarray, q: int) -> np.ndarray:
    if q == 1:
        return np.array([lam[0] ** 2])
    return np.array([lam[0] ** 2, lam[1] / lam[0] if lam[0] > 0 else 0.0, lam[2] ** 2])


def ldl_deviance(ss: SufficientStatistics, x: np.ndarray, reml: bool) -> tuple[float, np.ndarray]:
    """The profiled deviance in the LDL' parametrisation (d1, m, d2) of Lambda Lambda', and its gradient.

    The search runs here: the deviance is smooth in (d1, m, d2) with the bounds d1, d2 >= 0 entering
    linearly, where in Lambda it is symmetric in l22 (a zero gradient at l22 = 0 whatever the curvature,
    so a bound there can hide a saddle). d1 = l11^2 and d2 = l22^2: the same space as lme4's bounds.
    """
    try:
        deviance, ev, sigma2 = _profiled(ss, ldl_to_factor(x, ss.q), reml)
    except np.linalg.LinAlgError:  # X'V^-1X numerically singular at this point: not a candidate
        return np.inf, np.full(len(x), np.nan)
    S = _covariance_gradient(ev, sigma2, reml)
    if ss.q == 1:
        return deviance, np.array([S[0, 0]])
    d1, m = x[0], x[1]
    # G* = [[d1, d1 m], [d1 m, d1 m^2 + d2]]; d deviance = S11 dG11 + 2 S12 dG12 + S22 dG22
    gradient = np.array([S[0, 0] + 2 * S[0, 1] * m + S[1, 1] * m * m, 2 * S[0, 1] * d1 + 2 * S[1, 1] * d1 * m, S[1, 1]])
    return deviance, gradient


def deviance_vp(ss: SufficientStatistics, varpar: np.ndarray, reml: bool) -> tuple[float, np.ndarray]:
    """lmerTest's deviance in (Lambda, sigma) with beta profiled (not sigma), and its gradient."""
    lam, sigma = varpar[:-1], float(varpar[-1])
    ev = evaluate(ss, lam)
    n_resid = residual_df(ss, reml)
    sigma2 = sigma * sigma
    deviance = ev.logdet + ev.r2 / sigma2 + n_resid * np.log(2.0 * np.pi * sigma2)
    if reml:
        deviance += ev.logdet_A
    d_sigma = -2.0 * ev.r2 / sigma**3 + 2.0 * n_resid / sigma
    return float(deviance), np.append(_factor_gradient(ev, sigma2, reml), d_sigma)


def beta_covariance_jacobian(ss: SufficientStatistics, varpar: np.ndarray) -> np.ndarray:
    """d Cov(beta) / d (Lambda entries, sigma), Cov(beta) = sigma^2 A^-1: shape (k, p, p)."""
    lam, sigma = varpar[:-1], float(varpar[-1])
    ev = evaluate(ss, lam)
    q = ss.q
    # Lambda' P_i, row by row
    Q = [sum(ev.L[j, i] * ev.P[j] for j in range(q)) for i in range(q)]
    out = []
    for a, b in FACTOR_ENTRIES[q]:
        # dA/dLambda_ab = -sum P_i' (E Lambda' + Lambda E') P_i with E = e_a e_b'
        outer = ev.P[a] @ Q[b].T
        dA = -(outer + outer.T)
        out.append(-(sigma**2) * ev.A_inv @ dA @ ev.A_inv)
    out.append(2.0 * sigma * ev.A_inv)
    return np.stack(out)


def sigma_hat(ss: SufficientStatistics, lam: np.ndarray, reml: bool) -> float:
    return float(np.sqrt(evaluate(ss, lam).r2 / residual_df(ss, reml)))


# --------------------------------------------------------------------------------------------------
# Estimation
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """An engine's answer: the relative factor's entries and sigma at the optimum."""

    factor: np.ndarray  # Lambda's free entries, lme4's theta
    sigma: float
    optimizer: str
    converged: bool
    warnings: tuple[str, ...]


def gradient_hessian(gradient, x: np.ndarray, typical: np.ndarray) -> np.ndarray:
    """Hessian as central differences of an analytic gradient (symmetrised); steps relative to each entry,
    or to its ``typical`` size where the entry is near 0."""
    x = np.asarray(x, float)
    index = np.arange(len(x))
    H = np.zeros((len(index), len(index)))
    for column, k in enumerate(index):
        h = 1e-5 * max(abs(x[k]), 1e-3 * typical[k])
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        H[:, column] = (gradient(up)[index] - gradient(down)[index]) / (2 * h)
    return (H + H.T) / 2


def rms_time(ss: SufficientStatistics) -> float:
    """The root mean square of time over observations: the time axis' scale (months, days, ...)."""
    if ss.q == 1:
        return 1.0
    return float(np.sqrt(ss.ZtZ[:, 1, 1].sum() / max(ss.n_obs, 1.0))) or 1.0


def ldl_scale(ss: SufficientStatistics) -> np.ndarray:
    """Typical sizes of (d1, m, d2): relative variances of an intercept and of a slope per time unit."""
    if ss.q == 1:
        return np.array([1.0])
    t = rms_time(ss)
    return np.array([1.0, 1.0 / t, t**-2])


def _moment_start(ss: SufficientStatistics) -> np.ndarray | None:
    """(d1, m, d2) from the spread of per-patient least-squares lines (of y's residual from the fixed
    effects' OLS fit), relative to the pooled residual variance around them; None if too few patients
    have two or more distinct times."""
    if ss.q == 1:
        return None
    a, b, c = ss.zz[0][0], ss.zz[0][1], ss.zz[1][1]
    det = a * c - b * b
    fitted = det > 1e-9 * np.maximum(a * c, 1e-300)
    if fitted.sum() < 3:
        return None
    y0, y1 = ss.zy[0][fitted], ss.zy[1][fitted]
    intercepts = (c[fitted] * y0 - b[fitted] * y1) / det[fitted]
    slopes = (a[fitted] * y1 - b[fitted] * y0) / det[fitted]
    # y'y minus what the patients' own lines (or means) explain, over the residual degrees of freedom.
    explained = float((intercepts * y0 + slopes * y1).sum())
    others = ~fitted & (a > 0)
    explained += float((ss.zy[0][others] ** 2 / a[others]).sum())
    dof = ss.n_obs - 2 * fitted.sum() - others.sum()
    if dof <= 0 or ss.yty - explained <= 0:
        return None
    s2 = (ss.yty - explained) / dof
    G = np.cov(np.vstack([intercepts, slopes])) / s2
    if not np.isfinite(G).all() or G[0, 0] <= 0:
        return None
    return np.array([G[0, 0], G[0, 1] / G[0, 0], max(G[1, 1] - G[0, 1] ** 2 / G[0, 0], 0.0)])


def _starts(ss: SufficientStatistics) -> list[np.ndarray]:
    """Starting points in (d1, m, d2): from the per-patient lines' spread (when it can be computed), one
    scaled to the time axis (slope SD ~ sigma / RMS time), lme4's (Lambda = I), the moment start on the
    face d2 = 0 (a perfect correlation, where a search from inside can end on another face), and two with
    a moderate correlation of either sign. Starts after the first are tried only where it ends on the
    boundary."""
    if ss.q == 1:
        return [np.array([1.0])]
    starts = [ldl_scale(ss) * np.array([1.0, 0.0, 1.0]), np.array([1.0, 0.0, 1.0])]
    moment = _moment_start(ss)
    if moment is not None:
        typical = ldl_scale(ss)
        starts = [np.array([moment[0], moment[1], max(moment[2], 1e-2 * typical[2])]), *starts]
        starts.append(np.array([moment[0], moment[1], 0.0]))
    # Intercept and slope correlated either way: basins that the uncorrelated starts can miss, ending on a
    # face of the boundary instead (found by the slow property run: an interior optimum 0.035 higher).
    starts += [ldl_scale(ss) * np.array([1.0, sign * 0.5, 0.5]) for sign in (-1.0, 1.0)]
    return starts


def _held_at_bound(x: np.ndarray, gradient: np.ndarray, q: int) -> np.ndarray:
    """Entries d1, d2 at 0 whose gradient pushes them below it: held there (the bound is active)."""
    held = np.zeros(len(x), bool)
    for k in DIAGONAL[q]:
        held[k] = x[k] <= 0 and gradient[k] >= 0
    return held


@dataclass
class _Search:
    lam: np.ndarray
    value: float
    gradient: np.ndarray
    decrement: float = np.inf
    iterations: int = 0
    fixed: np.ndarray | None = None  # entries held where they are (a search on one face of the space)
    in_factor: bool = False  # searching in Lambda's entries rather than (d1, m, d2)


def _objective(ss: SufficientStatistics, x: np.ndarray, reml: bool, in_factor: bool) -> tuple[float, np.ndarray]:
    if not in_factor:
        return ldl_deviance(ss, x, reml)
    try:
        return profiled_deviance(ss, x, reml)
    except np.linalg.LinAlgError:
        return np.inf, np.full(len(x), np.nan)


def _typical(ss: SufficientStatistics, in_factor: bool) -> np.ndarray:
    if not in_factor or ss.q == 1:
        return ldl_scale(ss)
    t = rms_time(ss)
    return np.array([1.0, 1.0 / t, 1.0 / t])


def _project(lam: np.ndarray, q: int) -> np.ndarray:
    out = lam.copy()
    for k in DIAGONAL[q]:
        out[k] = max(out[k], 0.0)
    return out


def _land_on_bounds(candidate: np.ndarray, before: np.ndarray, q: int) -> np.ndarray:
    """A step to a bound lands on it: x - x can round to 1e-16 * x, an interior point where the search
    would then stall (its Newton step leaving the space at once)."""
    for k in DIAGONAL[q]:
        if 0.0 < candidate[k] <= 8.0 * np.finfo(float).eps * abs(before[k]):
            candidate[k] = 0.0
    return candidate


def _forward_hessian(ss: SufficientStatistics, reml: bool, at: _Search, free: np.ndarray) -> np.ndarray:
    """Differences of the analytic gradient: forward ones far from the optimum (half the cost), central
    ones near it (where the forward ones' error would slow the last steps of a flat likelihood)."""
    index = np.flatnonzero(free)
    H = np.zeros((len(index), len(index)))
    typical = _typical(ss, at.in_factor)
    central = at.decrement < 1e-2
    for column, k in enumerate(index):
        h = (1e-5 if central else 1e-6) * max(abs(at.lam[k]), 1e-3 * typical[k])
        x = at.lam.copy()
        x[k] += h
        up = _objective(ss, x, reml, at.in_factor)[1][index]
        if central and at.lam[k] - h >= 0:
            x[k] -= 2 * h
            H[:, column] = (up - _objective(ss, x, reml, at.in_factor)[1][index]) / (2 * h)
        else:
            H[:, column] = (up - at.gradient[index]) / h
    return (H + H.T) / 2


def _search_direction(H: np.ndarray, g: np.ndarray, at_bound: np.ndarray) -> tuple[np.ndarray, float]:
    """A Newton step, with H's eigenvalues taken in absolute value where the deviance is not convex (a
    descent direction all the same), and the Newton decrement 1/2 g' H^-1 g (how far above the optimum
    we still are; inf where not convex). Where the gradient has no component along a direction of
    negative curvature (a saddle, e.g. Lambda's l22 = 0, where the deviance is symmetric), a step along
    it is added, of the length at which the quadratic model has fallen by one deviance unit."""
    # Jacobi scaling: the entries differ by orders of magnitude (d2 is per squared month or day), and the
    # eigenvalue floor must not favour one of them.
    scale = 1.0 / np.sqrt(np.maximum(np.abs(np.diag(H)), 1e-300))
    values, vectors = np.linalg.eigh(H * np.outer(scale, scale))
    floor = 1e-12 * max(float(np.abs(values).max()), 1e-300)
    along = vectors.T @ (scale * g)
    step = -scale * (vectors @ (along / np.maximum(np.abs(values), floor)))
    if values[0] > floor:
        return step, float(-0.5 * g @ step)
    for k in np.flatnonzero(values < -floor):
        # Near a saddle the gradient's own step along a direction of negative curvature is tiny: take the
        # step at which the quadratic model falls by one deviance unit instead.
        if along[k] ** 2 / (2.0 * -values[k]) < 1.0:
            direction = scale * vectors[:, k]
            if np.any(np.abs(direction[at_bound]) > 0):
                # It moves an entry held at 0: into the feasible side (either sign lowers the model).
                if np.any(direction[at_bound] < 0):
                    direction = -direction
            elif along[k] > 0:
                direction = -direction
            step = step + scale * vectors[:, k] * (along[k] / -values[k]) + direction * np.sqrt(2.0 / -values[k])
    return step, np.inf


def _feasible_length(x: np.ndarray, free_index: np.ndarray, step: np.ndarray, q: int) -> float:
    """The longest fraction of the step that keeps d1, d2 >= 0 (landing on the bound, not clipped across)."""
    feasible = 1.0
    for position, k in enumerate(free_index):
        if k in DIAGONAL[q] and step[position] < 0:
            feasible = min(feasible, x[k] / -step[position])
    return feasible


def _newton_iteration(ss: SufficientStatistics, reml: bool, at: _Search) -> bool:
    """One projected Newton step with a backtracking line search; False when no step lowers the deviance."""
    q = ss.q
    free = ~_held_at_bound(at.lam, at.gradient, q)
    if at.fixed is not None:
        free &= ~at.fixed
    while free.any():
        index = np.flatnonzero(free)
        H = _forward_hessian(ss, reml, at, free)
        if not np.isfinite(H).all():
            return False
        # A direction in which the deviance is flat (m when d1 = 0: it then enters nowhere) takes no step.
        flat = (np.abs(np.diag(H)) <= 1e-12 * max(float(np.abs(np.diag(H)).max()), 1e-300)) & (
            np.abs(at.gradient[free]) <= 1e-12 * max(float(np.abs(at.gradient).max()), 1.0)
        )
        if flat.any():
            free[index[flat]] = False
            continue
        at_bound = np.array([k in DIAGONAL[q] and at.lam[k] <= 0 for k in index], bool)
        step, at.decrement = _search_direction(H, at.gradient[free], at_bound)
        feasible = _feasible_length(at.lam, index, step, q)
        if feasible > 0:
            break
        # The step leaves the space through an entry at its bound: hold it there and step in the others.
        for position, k in enumerate(index):
            if k in DIAGONAL[q] and at.lam[k] <= 0 and step[position] < 0:
                free[k] = False
    if not free.any():
        at.decrement = 0.0
        return False
    if at.decrement < 1e-10:  # in deviance units: far below any reported digit
        return False
    # Near the optimum a full Newton step is right or rounding has the last word: a few halvings at most.
    for shrink in feasible * 0.5 ** np.arange(4 if at.decrement < 1e-6 else 40):
        candidate = at.lam.copy()
        candidate[free] += shrink * step
        candidate = _land_on_bounds(_project(candidate, q), at.lam, q)
        value, gradient = _objective(ss, candidate, reml, at.in_factor)
        if value < at.value + 1e-4 * min(float(at.gradient @ (candidate - at.lam)), 0.0) or (
            value < at.value and shrink < 1e-6
        ):
            at.lam, at.value, at.gradient = candidate, value, gradient
            return True
    return False


def _minimise(
    ss: SufficientStatistics,
    reml: bool,
    start: np.ndarray,
    max_iterations: int = 200,
    fixed: np.ndarray | None = None,
    in_factor: bool = False,
) -> _Search:
    """Projected modified Newton on the profiled deviance in (d1, m, d2), d1, d2 >= 0 (lme4's bounds).

    With ``fixed``, those entries stay at their start (the search runs on that face of the space) until
    it converges there; then they are released and the search goes on from the face's optimum.
    ``in_factor``: the search runs in Lambda's entries (for the face l22 = 0 only, where (d1, m) is
    degenerate at d1 = 0 and Lambda's (l11, l21) is not)."""
    lam = _project(np.asarray(start, float), ss.q)
    value, gradient = _objective(ss, lam, reml, in_factor)
    search = _Search(lam, value, gradient, fixed=fixed, in_factor=in_factor)
    while search.iterations < max_iterations:
        if not _newton_iteration(ss, reml, search):
            if search.fixed is None:
                break
            search.fixed = None
            search.decrement = np.inf
            continue
        search.iterations += 1
    return search


def _face_searches(ss: SufficientStatistics, reml: bool) -> list[_Search]:
    """Searches that start on each face of the boundary (d2 = 0: a perfect correlation; d1 = 0: no
    intercept variance), converge there, then go on freely: the optimum can sit on one face while a
    search from inside ends on the other (both are local optima of the bounded problem). On the face
    d2 = 0 the search runs in Lambda's (l11, l21), where G = (l11, l21)'(l11, l21) is smooth, and the
    sign of the correlation separates two basins: both are tried."""
    moment = _moment_start(ss)
    typical = ldl_scale(ss)
    l11, l21 = 1.0, float(np.sqrt(typical[2]))
    if moment is not None and moment[0] > 0:
        l11, l21 = float(np.sqrt(moment[0])), float(moment[1] * np.sqrt(moment[0]))
    held = np.array([False, False, True])
    best_face: _Search | None = None
    # The face itself can hold more than one local optimum (an edge l11 = 0 attracts searches that start
    # with a large intercept variance): a small grid of intercept and slope scales, both signs.
    for scale, slope_scale, sign in itertools.product((1.0, 0.3, 0.1), (1.0, 0.3), (1.0, -1.0)):
        start = np.array([scale * l11, sign * slope_scale * abs(l21), 0.0])
        face = _minimise(ss, reml, start, max_iterations=50, fixed=held, in_factor=True)
        if best_face is None or face.value < best_face.value - 1e-9:
            best_face = face
    assert best_face is not None
    searches = [_minimise(ss, reml, factor_to_ldl(best_face.lam, 2))]
    on_face = _face_optimum(ss, reml, best_face)
    on_d1 = _minimise(ss, reml, np.array([0.0, 0.0, typical[2]]), fixed=np.array([True, True, False]))
    return [*([on_face] if on_face is not None else []), *searches, on_d1]


def _face_optimum(ss: SufficientStatistics, reml: bool, face: _Search) -> _Search | None:
    """The face search's own end point, in (d1, m, d2), when it is an optimum of the whole problem: it
    converged on the face l22 = 0, and leaving the face (d2 > 0) does not lower the deviance (S22 >= 0).

    From there the search in (d1, m, d2) can fail although the point is the optimum: with a tiny intercept
    variance and a large m its Hessian is too badly scaled to converge (the slow property run: a REML fit
    reported "not converged" at the point L-BFGS-B finds from 40 starts)."""
    if face.lam[2] != 0.0 or not (np.isfinite(face.value) and face.decrement < 1e-6):
        return None
    x = factor_to_ldl(face.lam, 2)
    value, gradient = ldl_deviance(ss, x, reml)
    if not np.isfinite(value) or gradient[2] < -1e-8 * max(float(np.abs(gradient).max()), 1.0):
        return None
    return _Search(x, value, gradient, decrement=face.decrement, iterations=face.iterations)


def _unsettled(search: _Search, q: int) -> bool:
    """A search that ended on the boundary or without converging: other starts and faces are tried."""
    converged = np.isfinite(search.value) and search.decrement < 1e-6
    return not converged or any(search.lam[k] <= 1e-8 for k in DIAGONAL[q])


def _leave_d1_face(ss: SufficientStatistics, reml: bool, at: _Search) -> _Search | None:
    """From a search that ended on the face d1 = 0 (no intercept variance), a search into the interior when
    some direction lowers the deviance there.

    On that face m does not enter G, so a search stops wherever it reached m. Every G* + delta v v' is
    feasible from there, with slope v'Sv: the face is a local optimum only if S is positive semidefinite.
    Otherwise the search restarts just inside along S's eigenvector of the negative eigenvalue,
    m = v2 / v1 (the slow property run found an interior optimum 0.035 above a fit stopped on this face)."""
    if ss.q != 2 or at.lam[0] > 0 or not np.isfinite(at.value):
        return None
    _, ev, sigma2 = _profiled(ss, ldl_to_factor(at.lam, 2), reml)
    scale = np.diag([1.0, 1.0 / rms_time(ss)])  # intercept and slope per typical time: comparable units
    values, vectors = np.linalg.eigh(scale @ _covariance_gradient(ev, sigma2, reml) @ scale)
    v = scale @ vectors[:, 0]
    if values[0] >= -1e-8 * max(float(np.abs(values).max()), 1.0) or abs(v[0]) < 1e-8 * abs(v[1]):
        return None
    start = np.array([1e-3 * ldl_scale(ss)[0], v[1] / v[0], at.lam[2]])
    return _minimise(ss, reml, start)


def _searches(ss: SufficientStatistics, reml: bool) -> list[_Search]:
    """The searches from the starts (each leaving the face d1 = 0 where it can), and, where the best of
    them ends on the boundary or did not converge, the further starts and the searches on the faces."""
    done: list[_Search] = []
    for start in _starts(ss):
        search = _minimise(ss, reml, start)
        inside = _leave_d1_face(ss, reml, search)
        done.append(inside if inside is not None and inside.value < search.value - 1e-9 else search)
        # Further starts only where the best so far ends on the boundary (a search can stop on one face of the
        # parameter space while the optimum is on another) or did not converge.
        if not _unsettled(_best_search(done), ss.q):
            return done
    if ss.q == 2:
        done += _face_searches(ss, reml)
    return done


def _best_search(searches: Sequence[_Search]) -> _Search:
    """The lowest deviance; but a converged search within 2e-6 of it (1e-6 in log-likelihood, rounding
    on a degenerate edge of the boundary) beats one that did not converge."""
    best = min(searches, key=lambda search: search.value)
    settled = [s for s in searches if np.isfinite(s.value) and s.decrement < 1e-6]
    if not settled or any(search is best for search in settled):
        return best
    closest = min(settled, key=lambda search: search.value)
    return closest if closest.value <= best.value + 2e-6 else best


class ExactEngine:
    """The profiled likelihood in (d1, m, d2) with lme4's bounds: projected Newton steps with the analytic
    gradient to the optimum (and off a saddle, and onto the better face of the boundary).

    scipy's bounded optimisers were tried and measured on the Table IV model (148 patients, lme4 32 ms):
    L-BFGS-B about 200 ms a fit (in scipy 1.17 its own work per iteration exceeds ten evaluations of this
    deviance); TNC followed by these Newton steps 28 ms (and 72 ms against our 23 ms at 1,903 patients).
    """

    name = "exact"
    optimizer = "projected Newton"

    def estimate(self, data: GrowthData, ss: SufficientStatistics, reml: bool, optimizers: Sequence[str]) -> Estimate:
        # Trial points far out (a likelihood unbounded in these data) may overflow: they are rejected by the
        # line search, and a fit that does not converge says so in its warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            best = _best_search(_searches(ss, reml))
            for _ in range(3):
                inside = _leave_d1_face(ss, reml, best)
                if inside is None or inside.value >= best.value - 1e-9:
                    break
                best = _best_search([best, inside])
        return self.answer(ss, reml, best)

    def answer(self, ss: SufficientStatistics, reml: bool, best: _Search) -> Estimate:
        """The estimate at a search's end point, with what is wrong with it in its warnings."""
        q = ss.q
        lam = ldl_to_factor(best.lam, q)
        converged = bool(np.isfinite(best.value) and best.decrement < 1e-6)
        notes = []
        if not converged:
            notes.append(
                f"{self.optimizer}: not converged after {best.iterations} iterations "
                f"(the deviance may still be {best.decrement:.3g} above its minimum)"
            )
        elif float(np.max(best.lam[list(DIAGONAL[q])] / ldl_scale(ss)[list(DIAGONAL[q])])) > 1e8:
            # The residual variance is a hundred-millionth of a random effect's: the likelihood is flat towards
            # sigma^2 = 0 (e.g. one observation a patient, or 5 patients with a random slope), and at that ratio
            # its digits run out (the dense likelihood agrees to ~1e-7 at 2e9). At 1e6 it also flagged a
            # legitimate fit: an intercept variance extrapolated to month 0 under a slope correlated near -1,
            # 1.9e6 times a residual variance of 1e-4.
            converged = False
            notes.append(
                "the residual variance is negligible beside the random effects' (ratio above 1e8): "
                "the model is nearly unidentifiable in these data and its estimates are imprecise"
            )
        return Estimate(lam, sigma_hat(ss, lam, reml), self.optimizer, converged, tuple(notes))


def ldl_curvature(ss: SufficientStatistics, factor: np.ndarray, reml: bool) -> np.ndarray | None:
    """The deviance's Hessian in (d1, m, d2) at an optimum (None where it is not positive definite): the
    curvature that refits of nearby data start from (estimate_from). At an optimum on the boundary it is
    taken just inside (d1, d2 at least 1e-3 of their typical size), where the deviance is defined on
    both sides of each difference."""
    x = factor_to_ldl(np.asarray(factor, float), ss.q)
    diagonal = list(DIAGONAL[ss.q])
    x[diagonal] = np.maximum(x[diagonal], 1e-3 * ldl_scale(ss)[diagonal])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        H = gradient_hessian(lambda v: ldl_deviance(ss, v, reml)[1], x, ldl_scale(ss))
    if not np.isfinite(H).all() or np.linalg.eigvalsh(H).min() <= 0:
        return None
    return H


def _quasi_newton(ss: SufficientStatistics, reml: bool, x: np.ndarray, curvature: np.ndarray) -> np.ndarray:
    """Steps with a nearby optimum's Hessian, updated by BFGS, while they stay inside the bounds and lower
    the deviance: one evaluation a step where a Newton step costs four to seven."""
    value, gradient = ldl_deviance(ss, x, reml)
    H_inv = np.linalg.inv(curvature)
    for _ in range(25):
        step = -H_inv @ gradient
        if not np.isfinite(step).all() or -0.5 * float(gradient @ step) < 1e-10:
            break
        candidate = x + step
        if np.any(candidate[list(DIAGONAL[ss.q])] < 0):
            break  # the bound is the projected Newton search's to handle
        new_value, new_gradient = ldl_deviance(ss, candidate, reml)
        if not new_value < value:
            break
        s, y = step, new_gradient - gradient
        if s @ y > 0:
            rho = 1.0 / float(s @ y)
            E = np.eye(len(x)) - rho * np.outer(s, y)
            H_inv = E @ H_inv @ E.T + rho * np.outer(s, s)
        x, value, gradient = candidate, new_value, new_gradient
    return x


def estimate_from(ss: SufficientStatistics, reml: bool, start: np.ndarray, curvature: np.ndarray | None) -> Estimate:
    """The estimate for data near those of a known fit (a bootstrap resample, a simulated cohort): from that
    fit's factor ``start`` and ``curvature`` (ldl_curvature), quasi-Newton steps, then the exact search's
    Newton steps until they confirm the optimum. Where that ends on the boundary or does not converge, the
    full search of ExactEngine runs instead: the answer is always fit_growth's."""
    engine = ExactEngine()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        x = factor_to_ldl(np.asarray(start, float), ss.q)
        if curvature is not None:
            x = _quasi_newton(ss, reml, x, curvature)
        search = _minimise(ss, reml, x)
        if _unsettled(search, ss.q):
            # On the boundary: also the search from the data's own first start (and off the face d1 = 0).
            searches = [search, _minimise(ss, reml, _starts(ss)[0])]
            searches += [s for s in (_leave_d1_face(ss, reml, t) for t in searches) if s is not None]
            search = _best_search(searches)
    if not (np.isfinite(search.value) and search.decrement < 1e-6):
        return engine.estimate(None, ss, reml, ())  # type: ignore[arg-type]  # the exact engine reads ss only
    return engine.answer(ss, reml, search)


# --------------------------------------------------------------------------------------------------
# Inference, as lmerTest computes it
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitResult:
    method: str
    engine: str
    optimizer: str
    converged: bool
    warnings: tuple[str, ...]
    loglik: float
    aic: float
    bic: float
    n_patients: int
    n_obs: int
    theta: np.ndarray  # natural parameters, see covariance_matrix
    fixed: pd.DataFrame  # term, estimate, std_error, df, statistic, p_value, ci_low, ci_high
    variance: pd.DataFrame  # component, estimate, std_error, statistic, p_value
    beta_cov: np.ndarray
    singular: bool = False

    def variance_of(self, component: str) -> float:
        rows = self.variance[self.variance["component"] == component]
        return float(rows["estimate"].iloc[0]) if len(rows) else float("nan")


def natural_jacobian(lam: np.ndarray, sigma: float, q: int) -> np.ndarray:
    """d (natural parameters) / d (Lambda entries, sigma)."""
    s2 = sigma * sigma
    if q == 1:
        (l1,) = lam
        return np.array([[2 * s2 * l1, 2 * sigma * l1 * l1], [0.0, 2 * sigma]])
    l1, l2, l3 = lam
    return np.array(
        [
            [2 * s2 * l1, 0.0, 0.0, 2 * sigma * l1 * l1],
            [s2 * l2, s2 * l1, 0.0, 2 * sigma * l1 * l2],
            [0.0, 2 * s2 * l2, 2 * s2 * l3, 2 * sigma * (l2 * l2 + l3 * l3)],
            [0.0, 0.0, 0.0, 2 * sigma],
        ]
    )


def varpar_covariance(ss: SufficientStatistics, varpar: np.ndarray, reml: bool) -> tuple[np.ndarray, list[str]]:
    """lmerTest's asymptotic covariance of (Lambda, sigma): 2 H^-1 of the deviance, beta profiled."""
    t = rms_time(ss)
    typical = np.array([1.0, 1.0 / t, 1.0 / t, varpar[-1]]) if ss.q == 2 else np.array([1.0, varpar[-1]])
    H = gradient_hessian(lambda v: deviance_vp(ss, v, reml)[1], varpar, typical)
    notes: list[str] = []
    try:
        covariance = 2.0 * np.linalg.inv(H)
    except np.linalg.LinAlgError:
        notes.append("the variance parameters' information matrix is singular: df and variance SEs not estimable")
        return np.full(H.shape, np.nan), notes
    if np.linalg.eigvalsh(H).min() <= 0:
        notes.append("the variance parameters' information matrix is not positive definite")
    return covariance, notes


def satterthwaite_df(C: np.ndarray, jacobian: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """df_j = 2 Var(b_j)^2 / (g_j' Cov(varpar) g_j), g_j the gradient of Var(b_j) (lmerTest)."""
    df = np.full(len(C), np.nan)
    for j in range(len(C)):
        g = jacobian[:, j, j]
        denominator = float(g @ covariance @ g)
        if np.isfinite(denominator) and denominator > 0:
            df[j] = 2.0 * C[j, j] ** 2 / denominator
    return df


def fixed_table(terms: Sequence[str], beta: np.ndarray, C: np.ndarray, df: np.ndarray) -> pd.DataFrame:
    from scipy import stats

    se = np.sqrt(np.diag(C))
    statistic = beta / se
    with np.errstate(invalid="ignore"):
        p_value = 2 * stats.t.sf(np.abs(statistic), df)
        half_width = stats.t.ppf(0.975, df) * se
    return pd.DataFrame(
        {
            "term": list(terms),
            "estimate": beta,
            "std_error": se,
            "df": df,
            "statistic": statistic,
            "p_value": p_value,
            "ci_low": beta - half_width,
            "ci_high": beta + half_width,
        }
    )


def variance_table(theta: np.ndarray, theta_cov: np.ndarray, q: int) -> pd.DataFrame:
    from scipy import stats

    components = ["intercept", "covariance", "slope", "residual"] if q == 2 else ["intercept", "residual"]
    diagonal = np.diag(theta_cov)
    with np.errstate(invalid="ignore", divide="ignore"):
        theta_se = np.where(diagonal > 0, np.sqrt(np.abs(diagonal)), np.nan)
        wald_z = theta / theta_se
    return pd.DataFrame(
        {
            "component": components,
            "estimate": theta,
            "std_error": theta_se,
            "statistic": wald_z,
            "p_value": 2 * stats.norm.sf(np.abs(wald_z)),
        }
    )


def nan_notes(fixed: pd.DataFrame, variance: pd.DataFrame, on_boundary: bool) -> list[str]:
    """A NaN in a result is always said in the fit record, never silent."""
    notes = []
    terms = np.asarray(fixed["term"])
    for column in ("std_error", "df", "p_value"):
        missing = terms[np.isnan(fixed[column].to_numpy(float))]
        if len(missing):
            notes.append(f"{column} not estimable for {', '.join(missing)}")
    missing = np.asarray(variance["component"])[np.isnan(variance["std_error"].to_numpy(float))]
    if len(missing):
        reason = " (a zero variance on the boundary has no Wald SE)" if on_boundary else ""
        notes.append(f"variance SE not estimable for {', '.join(missing)}{reason}")
    return notes


def infer(
    data: GrowthData, ss: SufficientStatistics, estimate: Estimate, reml: bool, engine: str, method: str
) -> FitResult:
    """Fixed effects with SE, Satterthwaite df, t, p and CI; variance components with SE and Wald Z; fit."""
    q = ss.q
    lam, sigma = estimate.factor, estimate.sigma
    varpar = np.append(lam, sigma)
    ev = evaluate(ss, lam)
    C = sigma**2 * ev.A_inv
    vp_cov, notes = varpar_covariance(ss, varpar, reml)
    df = satterthwaite_df(C, beta_covariance_jacobian(ss, varpar), vp_cov)
    theta = natural_from_factor(lam, sigma, q)
    J = natural_jacobian(lam, sigma, q)
    theta_cov = J @ vp_cov @ J.T
    on_boundary = any(lam[k] <= 1e-4 for k in DIAGONAL[q])  # lme4's isSingular tolerance
    notes = list(estimate.warnings) + notes
    if on_boundary:
        notes.append("the random-effects covariance is on the boundary (singular)")
    beta = ss.with_offset(ev.beta)
    fixed = fixed_table(data.terms, beta, C, df)
    variance = variance_table(theta, theta_cov, q)
    notes += nan_notes(fixed, variance, on_boundary)
    deviance, _ = profiled_deviance(ss, lam, reml)
    loglik = -0.5 * deviance
    n_parameters = ss.p + len(theta)
    return FitResult(
        method=method,
        engine=engine,
        optimizer=estimate.optimizer,
        converged=estimate.converged,
        warnings=tuple(notes),
        loglik=loglik,
        aic=-2 * loglik + 2 * n_parameters,
        bic=-2 * loglik + np.log(data.n_obs) * n_parameters,
        n_patients=data.n_patients,
        n_obs=data.n_obs,
        theta=theta,
        fixed=fixed,
        variance=variance,
        beta_cov=C,
        singular=on_boundary,
    )


# --------------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------------


def engine_named(name: str):
    """The engine of ``settings.engine``: exact (default) or statsmodels (the reference)."""
    if name == "exact":
        return ExactEngine()
    if name == "statsmodels":
        from alliance.stats.reference_engine import StatsmodelsEngine

        return StatsmodelsEngine()
    raise ValueError(f"unknown engine '{name}': choose exact or statsmodels")


def fit_growth(
    data: GrowthData,
    method: str = "ML",
    engine: str = DEFAULT_ENGINE,
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
) -> FitResult:
    """Fit one model and compute its inference.

    Raises CollinearTerms for a rank-deficient design and FitFailed when no estimates can be made.
    """
    method = method.upper()
    if method not in ("ML", "REML"):
        raise ValueError(f"method must be ML or REML, not {method}")
    reml = method == "REML"
    check_design(data)
    ss = sufficient_statistics(data)
    if ss.n_obs <= ss.p:
        raise FitFailed(f"too few observations ({int(ss.n_obs)}) for {ss.p} fixed effects")
    n_random = ss.q * len(ss.n)
    if ss.n_obs <= n_random:
        # lme4's check.nobs.vs.nRE: the likelihood then rises towards a zero residual variance.
        raise FitFailed(
            f"too few observations for the random effects: {int(ss.n_obs)} observations <= {n_random} random "
            f"effects ({len(ss.n)} patients x {ss.q}); the random-effect variances and the residual variance "
            "are not identifiable (lme4 refuses such a model too)"
        )
    try:
        estimate = engine_named(engine).estimate(data, ss, reml, optimizers)
        if not np.isfinite(profiled_deviance(ss, estimate.factor, reml)[0]):
            raise FitFailed("no finite likelihood was found")
        return infer(data, ss, estimate, reml, engine, method)
    except np.linalg.LinAlgError as error:
        raise FitFailed(f"numerical failure (the model is not estimable in these data): {error}") from error
