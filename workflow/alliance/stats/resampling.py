"""Refits of one model on many resamples of its patients at once (the cluster bootstrap's replicates).

A resample of patients needs no rows: its sufficient statistics are the drawn patients' own
(:meth:`~alliance.stats.engine.SufficientStatistics.take`). Fitting thousands of them one by one pays
numpy's per-call cost on every small array; here R resamples are stacked (padded to one size with empty
patients, who add nothing to any sum) and the profiled ML deviance and its gradient are evaluated for all of
them in one pass: the same closed-form algebra as :func:`alliance.stats.engine.evaluate`, with a leading
replicate axis. Each resample starts at the full data's optimum with its Hessian and takes projected
quasi-Newton steps (BFGS updates, bounds d1, d2 >= 0 held where the gradient pushes against them); at the
end the Hessian is recomputed from the analytic gradient and a resample counts as converged only where the
Newton decrement is below the engine's own 1e-6. What does not converge, REML, random-intercept-only models
and anything near the face d1 = 0 are refitted one by one with :func:`alliance.stats.engine.estimate_from`,
whose answer is fit_growth's. tests/test_bootstrap.py checks every path against fit_growth on
materialised resamples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from alliance.stats import engine
from alliance.stats.engine import (
    FitFailed,
    SufficientStatistics,
    estimate_from,
    factor_to_ldl,
    ldl_curvature,
    ldl_scale,
    natural_from_factor,
    sigma_hat,
)

# lme4's isSingular tolerance on the relative factor's diagonal (as in alliance.stats.engine.infer).
SINGULAR = 1e-4


@dataclass(frozen=True)
class Resamples:
    """R resamples of one model's patients, padded to M patients each: per-patient arrays (R, M, ...)."""

    n: np.ndarray  # (R, M)
    time_mean: np.ndarray
    time_ss: np.ndarray
    between: np.ndarray  # (R, M, 2, p+1)
    within: np.ndarray  # (R, p+1, p+1)
    XtX: np.ndarray  # (R, p, p)

    @property
    def n_obs(self) -> np.ndarray:
        return self.n.sum(axis=1)

    def subset(self, rows: np.ndarray) -> Resamples:
        return Resamples(*(getattr(self, name)[rows] for name in self.__dataclass_fields__))


def stack(ss: SufficientStatistics, draws: Sequence[np.ndarray], width: int) -> Resamples:
    """The resamples ``draws`` (indices into ss's patients, repeats allowed) of a model, stacked and padded
    to ``width`` patients. The width is fixed by the caller, not by the batch: sums over more patients are
    associated differently, and a resample's digits must not depend on the others in its batch."""
    if ss.parts is None:
        raise ValueError("stack needs sufficient_statistics(..., by_patient=True)")
    m, size = len(ss.n), width
    index = np.full((len(draws), size), m)  # m: the empty patient appended below
    counts = np.zeros((len(draws), m))
    for row, draw in enumerate(draws):
        index[row, : len(draw)] = draw
        counts[row] = np.bincount(draw, minlength=m)

    def padded(values: np.ndarray) -> np.ndarray:
        return np.concatenate([values, np.zeros((1, *values.shape[1:]))])[index]

    return Resamples(
        n=padded(ss.n),
        time_mean=padded(ss.time_mean),
        time_ss=padded(ss.time_ss),
        between=padded(ss.between),
        within=_summed(counts, ss.parts.within),
        XtX=_summed(counts, ss.parts.XtX),
    )


def _summed(counts: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Each resample's sum of its patients' parts, one product per resample (a product over the whole batch
    could block the sum differently for another batch)."""
    flat = parts.reshape(len(parts), -1)
    return np.stack([row @ flat for row in counts]).reshape(len(counts), *parts.shape[1:])


@dataclass(frozen=True)
class _Pass:
    """The deviance and what comes with it, for every resample of a batch."""

    deviance: np.ndarray  # (R,)
    gradient: np.ndarray  # (R, 3), in (d1, m, d2)
    beta: np.ndarray  # (R, p), relative to the full data's OLS offset
    sigma2: np.ndarray  # (R,)


def _inverse(B: Resamples, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each patient's N^-1 entries and log|N| (engine._between_inverse with a replicate axis)."""
    l1 = np.sqrt(np.maximum(x[:, 0], 0.0))[:, None]
    l2, l3 = x[:, 1][:, None] * l1, np.sqrt(np.maximum(x[:, 2], 0.0))[:, None]
    t_bar, S_tt, n = B.time_mean, B.time_ss, B.n
    a0 = l1 + t_bar * l2
    g11, g12, g22 = a0 * a0 + (t_bar * l3) ** 2, a0 * l2 + t_bar * l3 * l3, l2 * l2 + l3 * l3
    s11, s12, s22 = n * g11, np.sqrt(n * S_tt) * g12, S_tt * g22
    det = 1.0 + s11 + s22 + n * S_tt * (l1 * l3) ** 2
    return (1.0 + s22) / det, -s12 / det, (1.0 + s11) / det, np.log(det).sum(axis=1)


def _solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A^-1 b for each resample; NaN for one whose A is singular (its deviance is then NaN, and it is
    refitted one by one), instead of an error for the whole batch."""
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(b.shape, np.nan)
        for row in range(len(A)):
            try:
                out[row] = np.linalg.solve(A[row], b[row])
            except np.linalg.LinAlgError:
                pass
        return out


def evaluate(B: Resamples, x: np.ndarray) -> _Pass:
    """The profiled ML deviance at (d1, m, d2) of each resample, and its gradient (engine.ldl_deviance)."""
    p = B.within.shape[1] - 1
    p11, p12, p22, logdet = _inverse(B, x)
    H0, H1, h0, h1 = B.between[:, :, 0, :p], B.between[:, :, 1, :p], B.between[:, :, 0, p], B.between[:, :, 1, p]
    K0, K1 = p11[..., None] * H0 + p12[..., None] * H1, p12[..., None] * H0 + p22[..., None] * H1
    k0, k1 = p11 * h0 + p12 * h1, p12 * h0 + p22 * h1
    H0t, H1t = H0.transpose(0, 2, 1), H1.transpose(0, 2, 1)
    A = B.within[:, :p, :p] + H0t @ K0 + H1t @ K1
    Xty = B.within[:, :p, p] + (H0t @ k0[..., None])[..., 0] + (H1t @ k1[..., None])[..., 0]
    beta = _solve(A, Xty)
    r2 = B.within[:, p, p] + (h0 * k0).sum(1) + (h1 * k1).sum(1) - (Xty * beta).sum(1)
    n_obs, t_bar, n, S_tt = B.n_obs, B.time_mean, B.n, B.time_ss
    sigma2 = r2 / n_obs
    deviance = logdet + n_obs * (1.0 + np.log(2.0 * np.pi * sigma2))
    v0 = np.sqrt(n) * (k0 - (K0 @ beta[..., None])[..., 0])
    v1 = np.sqrt(S_tt) * (k1 - (K1 @ beta[..., None])[..., 0])
    u0, u1 = v0, t_bar * v0 + v1
    c11, c12, c22 = n * p11, np.sqrt(n * S_tt) * p12, S_tt * p22
    S11 = c11.sum(1) - (u0 * u0).sum(1) / sigma2
    S12 = (t_bar * c11 + c12).sum(1) - (u0 * u1).sum(1) / sigma2
    S22 = (t_bar * t_bar * c11 + 2.0 * t_bar * c12 + c22).sum(1) - (u1 * u1).sum(1) / sigma2
    d1, m = x[:, 0], x[:, 1]
    gradient = np.column_stack([S11 + 2 * S12 * m + S22 * m * m, 2 * S12 * d1 + 2 * S22 * d1 * m, S22])
    return _Pass(deviance, gradient, beta, sigma2)


def _free_step(H: np.ndarray, g: np.ndarray, held: np.ndarray) -> np.ndarray:
    """-H^-1 g in the entries not held at their bound (those take no step), for every resample."""
    H = np.where(held[:, :, None] | held[:, None, :], 0.0, H)
    H[:, np.arange(3), np.arange(3)] += held  # a held entry's row becomes the identity
    return -np.linalg.solve(H, np.where(held, 0.0, g)[..., None])[..., 0]


def _feasible(x: np.ndarray, step: np.ndarray) -> np.ndarray:
    """The longest fraction (at most 1) of each step that keeps d1, d2 >= 0."""
    length = np.ones(len(x))
    for k in (0, 2):
        leaving = step[:, k] < 0
        length[leaving] = np.minimum(length[leaving], x[leaving, k] / -step[leaving, k])
    return length


def _line_search(B: Resamples, x: np.ndarray, now: _Pass, step: np.ndarray) -> tuple[np.ndarray, _Pass, np.ndarray]:
    """Backtracking (Armijo) along each resample's step, kept inside the bounds (a step to a bound lands
    on it); the new points, their pass, and which resamples moved."""
    length = _feasible(x, step)
    new_x, new = x.copy(), now
    moved = np.zeros(len(x), bool)
    trying = np.flatnonzero(length > 0)
    slope = np.minimum((now.gradient * step).sum(1), 0.0)
    for _ in range(30):
        if not len(trying):
            break
        candidate = x[trying] + length[trying, None] * step[trying]
        for k in (0, 2):  # x - x can round to 1e-16 x: that is the bound
            tiny = candidate[:, k] <= 8.0 * np.finfo(float).eps * np.abs(x[trying, k])
            candidate[tiny, k] = 0.0
        trial = evaluate(B.subset(trying), candidate)
        ok = np.isfinite(trial.deviance) & (
            trial.deviance < now.deviance[trying] + 1e-4 * length[trying] * slope[trying]
        )
        new_x[trying[ok]] = candidate[ok]
        new = _merged(new, trying[ok], trial, ok)
        moved[trying[ok]] = True
        trying = trying[~ok]
        length[trying] *= 0.5
    return new_x, new, moved


def _rows(of: _Pass, rows: np.ndarray) -> _Pass:
    return _Pass(*(getattr(of, name)[rows] for name in _Pass.__dataclass_fields__))


def _merged(into: _Pass, rows: np.ndarray, source: _Pass, pick: np.ndarray) -> _Pass:
    fields = {}
    for name in _Pass.__dataclass_fields__:
        values = getattr(into, name).copy()
        values[rows] = getattr(source, name)[pick]
        fields[name] = values
    return _Pass(**fields)


def _held(x: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """d1, d2 at 0 with the gradient pushing them below it: held at the bound."""
    held = np.zeros(x.shape, bool)
    held[:, [0, 2]] = (x[:, [0, 2]] <= 0) & (gradient[:, [0, 2]] >= 0)
    return held


def _bfgs(H: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """BFGS updates of the Hessians where the curvature condition s'y > 0 holds."""
    sy = (s * y).sum(1)
    Hs = (H @ s[..., None])[..., 0]
    sHs = (s * Hs).sum(1)
    ok = (sy > 0) & (sHs > 0)
    H = H.copy()
    H[ok] += (
        y[ok, :, None] * y[ok, None, :] / sy[ok, None, None] - Hs[ok, :, None] * Hs[ok, None, :] / sHs[ok, None, None]
    )
    return H


def _search(B: Resamples, start: np.ndarray, curvature: np.ndarray) -> tuple[np.ndarray, _Pass]:
    """Projected quasi-Newton steps from ``start`` for every resample until its decrement (in the current
    Hessian) is below 1e-10 or no step lowers its deviance."""
    x = np.tile(start, (len(B.n), 1))
    now = evaluate(B, x)
    H = np.tile(curvature, (len(B.n), 1, 1))
    active = np.isfinite(now.deviance)
    for _ in range(60):
        rows = np.flatnonzero(active)
        if not len(rows):
            break
        held = _held(x[rows], now.gradient[rows])
        step = _free_step(H[rows], now.gradient[rows], held)
        # A step that leaves through a bound it sits on (the gradient pulling inward, the curvature outward):
        # that entry is held there too, and the others step (as the engine's projected Newton does).
        leaving = (x[rows] <= 0) & (step < 0) & np.array([True, False, True])
        if leaving.any():
            step = _free_step(H[rows], now.gradient[rows], held | leaving)
        settled = ~(-0.5 * (now.gradient[rows] * step).sum(1) >= 1e-10)  # also where it is NaN
        active[rows[settled]] = False
        rows, step = rows[~settled], step[~settled]
        if not len(rows):
            break
        new_x, new, moved = _line_search(B.subset(rows), x[rows], _rows(now, rows), step)
        H[rows] = _bfgs(H[rows], new_x - x[rows], new.gradient - now.gradient[rows])
        x[rows] = new_x
        now = _merged(now, rows, new, np.arange(len(rows)))
        active[rows[~moved]] = False
    return x, now


def _decrement(B: Resamples, x: np.ndarray, now: _Pass, scale: np.ndarray) -> np.ndarray:
    """The Newton decrement with the Hessian from central differences of the analytic gradient (forward
    ones at a bound): the engine's convergence test (below 1e-6), inf where the Hessian on the free
    entries is not positive definite."""
    H = np.zeros((len(x), 3, 3))
    for k in range(3):
        h = 1e-5 * np.maximum(np.abs(x[:, k]), 1e-3 * scale[k])
        central = (x[:, k] - h >= 0) | (k == 1)  # row by row: a resample's answer never depends on another's
        up, down = x.copy(), x.copy()
        up[:, k] += h
        down[:, k] -= np.where(central, h, 0.0)
        H[:, :, k] = (evaluate(B, up).gradient - evaluate(B, down).gradient) / np.where(central, 2 * h, h)[:, None]
    H = (H + H.transpose(0, 2, 1)) / 2
    held = _held(x, now.gradient)
    masked = np.where(held[:, :, None] | held[:, None, :], 0.0, H)
    masked[:, np.arange(3), np.arange(3)] += held
    finite = np.isfinite(masked).all(axis=(1, 2))
    masked[~finite] = np.eye(3)
    positive = finite & (np.linalg.eigvalsh(masked).min(axis=1) > 0)
    H[~finite] = np.eye(3)
    with np.errstate(invalid="ignore"):
        decrement = -0.5 * (now.gradient * _free_step(H, now.gradient, held)).sum(1)
    return np.where(positive & np.isfinite(decrement), decrement, np.inf)


# ------------------------------------------------------------------------------------------------------
# Fitting the resamples
# ------------------------------------------------------------------------------------------------------

# Patient slots in one stacked batch (R x M): the batch shrinks as cohorts grow, so memory stays bounded.
BATCH_SLOTS = 2_000_000


@dataclass(frozen=True)
class ResampleFits:
    """Estimates on each resample: the natural variance parameters (var_intercept, covariance, var_slope,
    residual; or var_intercept, residual), the fixed effects (full data's term order), and a status:
    converged, singular (converged on the boundary, lme4's isSingular), not converged, or failed (with why)."""

    theta: np.ndarray  # (R, 4) or (R, 2); NaN where failed
    beta: np.ndarray  # (R, p); NaN where failed
    status: tuple[str, ...]
    reasons: tuple[str, ...]  # why a resample failed, "" otherwise


def unusable(ss: SufficientStatistics, draw: np.ndarray) -> str:
    """Why a resample cannot be fitted ("" if it can): too few cases, or a design that is rank deficient in
    it (a moderator's cell not drawn at all), as fit_growth and the model runs would refuse it."""
    n_obs, patients, p = float(ss.n[draw].sum()), len(draw), ss.p
    if patients < 3 or n_obs <= p + 4:
        return f"too few cases to fit ({patients} patients, {int(n_obs)} observations)"
    if n_obs <= ss.q * patients:
        return "too few observations for the random effects"
    assert ss.parts is not None
    XtX = np.tensordot(np.bincount(draw, minlength=len(ss.n)).astype(float), ss.parts.XtX, 1)
    norms = np.sqrt(np.diag(XtX))
    if np.any(norms == 0):
        return "a fixed-effect term is zero for every observation of this resample"
    # X'X squares X's condition number, and its rounding (1e-16 of the largest eigenvalue) hides anything
    # finer: a condition number of X above 1e6 counts as collinear (e.g. one patient with one observation
    # in a moderator's cell, where PRED and PRED x time are proportional).
    eigenvalues = np.linalg.eigvalsh(XtX / np.outer(norms, norms))
    if eigenvalues[0] <= 1e-12 * eigenvalues[-1]:
        return "the fixed effects are collinear (or nearly: condition number above 1e6) in this resample"
    return ""


def _answer(ss: SufficientStatistics, lam: np.ndarray, sigma: float, beta: np.ndarray, converged: bool):
    theta = natural_from_factor(lam, sigma, ss.q)
    diagonal = lam[[0, 2]] if ss.q == 2 else lam[:1]
    status = "not converged" if not converged else ("singular" if np.any(diagonal <= SINGULAR) else "converged")
    return theta, ss.with_offset(beta), status


def _beta(ss: SufficientStatistics, factor: np.ndarray) -> np.ndarray:
    return engine.evaluate(ss, factor).beta


def _batched(
    ss: SufficientStatistics, draws: Sequence[np.ndarray], start: np.ndarray, curvature: np.ndarray, width: int
):
    """The resamples the stacked search settles (their answers by position), and those it leaves to the
    one-by-one refit."""
    scale = ldl_scale(ss)
    size = int(np.clip(BATCH_SLOTS // max(width, 1), 1, 256))
    settled, rest = {}, []
    for first in range(0, len(draws), size):
        chunk = list(range(first, min(first + size, len(draws))))
        B = stack(ss, [draws[i] for i in chunk], width)
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                x, now = _search(B, factor_to_ldl(start, 2), curvature)
                done = (_decrement(B, x, now, scale) < 1e-6) & (x[:, 0] > 1e-8 * scale[0])
        except np.linalg.LinAlgError:
            rest += chunk
            continue
        for row, position in enumerate(chunk):
            if not done[row]:
                rest.append(position)
                continue
            root = np.sqrt(x[row, 0])
            lam = np.array([root, x[row, 1] * root, np.sqrt(x[row, 2])])
            settled[position] = _answer(ss, lam, float(np.sqrt(now.sigma2[row])), now.beta[row], True)
    return settled, rest


def fit_resamples(
    ss: SufficientStatistics, draws: Sequence[np.ndarray], start: np.ndarray, width: int, reml: bool = False
) -> ResampleFits:
    """Fit the model on each resample ``draws[r]`` (indices into ss's patients, from
    sufficient_statistics(..., by_patient=True); none longer than ``width``, the same for every call whose
    answers must agree digit for digit), starting at the full data's factor ``start``."""
    q, p = ss.q, ss.p
    theta = np.full((len(draws), 4 if q == 2 else 2), np.nan)
    beta = np.full((len(draws), p), np.nan)
    status, reasons = ["failed"] * len(draws), [unusable(ss, draw) for draw in draws]
    usable = [r for r, reason in enumerate(reasons) if not reason]
    curvature = ldl_curvature(ss, start, reml) if q == 2 and not reml else None
    answers, rest = {}, usable
    if curvature is not None:
        settled, rest_positions = _batched(ss, [draws[r] for r in usable], start, curvature, width)
        answers = {usable[position]: answer for position, answer in settled.items()}
        rest = [usable[position] for position in rest_positions]
    for r in rest:
        resample = ss.take(draws[r])
        try:
            estimate = estimate_from(resample, reml, start, curvature)
            answers[r] = _answer(
                resample,
                estimate.factor,
                sigma_hat(resample, estimate.factor, reml),
                _beta(resample, estimate.factor),
                estimate.converged,
            )
        except (FitFailed, np.linalg.LinAlgError) as error:
            reasons[r] = f"fit failed: {error}"
    for r, (theta_r, beta_r, status_r) in answers.items():
        theta[r], beta[r], status[r] = theta_r, beta_r, status_r
    return ResampleFits(theta, beta, tuple(status), tuple(reasons))
