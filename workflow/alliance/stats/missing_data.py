"""Missing data in Folmo et al. (2020), the computations: how many WAI assessments patients have, who
lacks the final WAI, GAF, WSAS and BSI, Little's (1988) MCAR test on the WAI waves, and the patients
assessed per outcome and wave.

Pure functions, DataFrames in; dictionaries out (JSON-able through :func:`jsonable`: floats rounded to 4
decimals, NaN as ``None``). The tables, the comparison of patients with and without the final WAI and the
disclosure control of ``summary.json`` are the report stage's (:mod:`alliance.report.missing_data`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from alliance.data import derive

SUBSCALES = ("goals", "bonds", "tasks")
FIRST_YEAR_MONTHS = 12.0
OUTCOMES = (("gaf", "GAF"), ("wsas", "WSAS"), ("bsi", "BSI"))
# (key, column header, column of patients, value); key "all" takes every patient.
GROUPS: tuple[tuple[str, str, str, str], ...] = (
    ("all", "All", "", ""),
    ("good", "Good", "outcome_group", "good"),
    ("poor", "Poor", "outcome_group", "poor"),
    ("S_only", "S_only", "wai_version_group", "S_only"),
    ("SR_only", "SR_only", "wai_version_group", "SR_only"),
    ("both", "both", "wai_version_group", "both"),
)


# --------------------------------------------------------------------------------------------------
# JSON helpers
# --------------------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Floats rounded to 4 decimals, NaN/inf as None, numpy scalars as Python, keys as strings."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return round(number, 4) if math.isfinite(number) else None
    return value


def _pct(count: int, n: int) -> float:
    return 100.0 * count / n if n > 0 else math.nan


# --------------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------------


def administered(wai_long: pd.DataFrame) -> pd.DataFrame:
    """WAI rows with at least one scored subscale (as ``n_wai`` counts them in derive)."""
    return derive.administered(wai_long, [s for s in SUBSCALES if s in wai_long.columns] or ["total"])


def group_members(patients: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    if not column:
        return patients
    return patients[patients[column].astype(str).eq(value)]


def _group_summary(group: pd.DataFrame, first_time: pd.Series) -> dict[str, Any]:
    n = len(group)
    n_wai = pd.to_numeric(group["n_wai"], errors="coerce").fillna(0).astype("int64")
    lacking = int(pd.to_numeric(group["has_final_wai"], errors="coerce").fillna(0).eq(0).sum())
    one = n_wai.eq(1)
    single_times = first_time.reindex(group.loc[one, "patient_id"].astype(str))
    within = int(single_times.lt(FIRST_YEAR_MONTHS).sum())
    record: dict[str, Any] = {
        "n_patients": n,
        "wai_assessments_mean": float(n_wai.mean()) if n else math.nan,
        "wai_assessments_sd": float(n_wai.std(ddof=1)) if n > 1 else math.nan,
        "wai_assessments_min": int(n_wai.min()) if n else None,
        "wai_assessments_max": int(n_wai.max()) if n else None,
        "lacking_final_wai_n": lacking,
        "lacking_final_wai_pct": _pct(lacking, n),
        "only_one_wai_n": int(one.sum()),
        "only_one_wai_pct": _pct(int(one.sum()), n),
        "only_one_within_first_year_n": within,
        "only_one_within_first_year_pct": _pct(within, int(one.sum())),
        "at_least_three_wai_n": int(n_wai.ge(3).sum()),
        "at_least_three_wai_pct": _pct(int(n_wai.ge(3).sum()), n),
        "at_least_four_wai_n": int(n_wai.ge(4).sum()),
        "at_least_four_wai_pct": _pct(int(n_wai.ge(4).sum()), n),
    }
    for measure, _ in OUTCOMES:
        missing = int(pd.to_numeric(group[f"final_{measure}"], errors="coerce").isna().sum())
        record[f"final_{measure}_missing_n"] = missing
        record[f"final_{measure}_missing_pct"] = _pct(missing, n)
    return record


def missing_summary(patients: pd.DataFrame, wai_long: pd.DataFrame) -> dict[str, Any]:
    """Missing-data statistics for all patients, by outcome subgroup and by WAI version group.

    Assessments per patient are ``n_wai`` of every patient in the group (0 for patients without a WAI).
    "Within the first year": of the patients with exactly one assessment, those whose assessment was made
    at ``time_months`` < 12.
    """
    rows = administered(wai_long)
    first_time = rows.groupby(rows["patient_id"].astype(str))["time_months"].min()
    groups = {key: _group_summary(group_members(patients, col, val), first_time) for key, _, col, val in GROUPS}
    return jsonable({"groups": groups, "first_year_months": FIRST_YEAR_MONTHS})


# --------------------------------------------------------------------------------------------------
# Little's MCAR test
# --------------------------------------------------------------------------------------------------


def wave_matrix(wai_long: pd.DataFrame, subscale: str = "total") -> pd.DataFrame:
    """Patients x nominal waves: the mean ``subscale`` score of the patient's assessments at each wave."""
    rows = wai_long.dropna(subset=[subscale])
    matrix = rows.pivot_table(index="patient_id", columns="wave", values=subscale, aggfunc="mean")
    matrix = matrix.sort_index().sort_index(axis=1)
    matrix.columns = [str(int(c)) if float(c).is_integer() else str(c) for c in matrix.columns]
    matrix.columns.name = "wave"
    return matrix.astype("float64")


def em_mvn(data: np.ndarray, tol: float = 1e-10, max_iter: int = 10_000) -> tuple[np.ndarray, np.ndarray, int]:
    """ML mean and covariance (divisor n) of a multivariate normal from data with NaNs, by EM.

    Deterministic: starts at the observed means and a diagonal covariance of observed variances; stops when
    no parameter changes by more than ``tol``. Rows without any observed value must be removed beforehand.
    Returns (mean, covariance, iterations); raises RuntimeError without convergence.

    An iteration needs only each missing-data pattern's count, sum and cross-products of its observed
    values (the E-step's expected sums are linear in them), so its cost does not grow with the rows.
    """
    x = np.asarray(data, dtype="float64")
    n, p = x.shape
    patterns = _pattern_sums(x)
    mu = np.nanmean(x, axis=0)
    sigma = np.diag(np.nanvar(x, axis=0))
    for iteration in range(1, max_iter + 1):
        sum_x = np.zeros(p)
        sum_xx = np.zeros((p, p))
        for pattern in patterns:
            _expected_sums(pattern, mu, sigma, sum_x, sum_xx)
        new_mu = sum_x / n
        new_sigma = sum_xx / n - np.outer(new_mu, new_mu)
        change = max(float(np.max(np.abs(new_mu - mu))), float(np.max(np.abs(new_sigma - sigma))))
        mu, sigma = new_mu, (new_sigma + new_sigma.T) / 2
        if change < tol:
            return mu, sigma, iteration
    raise RuntimeError(f"EM did not converge in {max_iter} iterations")


def _pattern_sums(x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]]:
    """Per missing-data pattern: observed and missing columns, rows, and the sum and cross-products of
    the observed values."""
    observed = ~np.isnan(x)
    patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    sums = []
    for index, pattern in enumerate(patterns):
        o, m = np.flatnonzero(pattern), np.flatnonzero(~pattern)
        rows = x[inverse == index][:, o]
        sums.append((o, m, rows.shape[0], rows.sum(axis=0), rows.T @ rows))
    return sums


def _expected_sums(
    pattern: tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray],
    mu: np.ndarray,
    sigma: np.ndarray,
    sum_x: np.ndarray,
    sum_xx: np.ndarray,
) -> None:
    """Adds one pattern's expected sum and cross-products of all columns given its observed values: the
    missing ones are predicted by their regression on the observed, c + x_o B, plus its residual covariance."""
    o, m, count, s1, s2 = pattern
    sum_x[o] += s1
    sum_xx[np.ix_(o, o)] += s2
    if not m.size:
        return
    coef = np.linalg.solve(sigma[np.ix_(o, o)], sigma[np.ix_(o, m)])  # B = S_oo^-1 S_om
    c = mu[m] - mu[o] @ coef
    s1_coef = s1 @ coef
    sum_x[m] += count * c + s1_coef
    cross = np.outer(s1, c) + s2 @ coef  # sum x_o hat_m'
    sum_xx[np.ix_(o, m)] += cross
    sum_xx[np.ix_(m, o)] += cross.T
    sum_xx[np.ix_(m, m)] += (
        count * np.outer(c, c)
        + np.outer(c, s1_coef)
        + np.outer(s1_coef, c)
        + coef.T @ s2 @ coef
        + count * (sigma[np.ix_(m, m)] - sigma[np.ix_(m, o)] @ coef)
    )


def little_mcar_test(matrix: pd.DataFrame, tol: float = 1e-10, max_iter: int = 10_000) -> dict[str, Any]:
    """Little's (1988) MCAR test: d2 = sum_j n_j (ybar_j - mu_j)' Sigma_j^-1 (ybar_j - mu_j), df = sum_j p_j - p.

    mu and Sigma are the EM (ML) estimates on all rows; j runs over the missing-data patterns. Rows without
    any observed value and columns without any observed value are dropped first. With a single pattern
    (e.g. complete data) df = 0 and there is nothing to compare: chi2 0, p_value NaN (None in JSON).
    """
    data = matrix.astype("float64")
    data = data.loc[:, data.notna().any(axis=0)]
    data = data.loc[data.notna().any(axis=1)]
    x = data.to_numpy()
    n, p = x.shape
    result: dict[str, Any] = {
        "n_rows": int(n),
        "n_variables": int(p),
        "variables": [str(c) for c in data.columns],
    }
    if n == 0 or p == 0:
        return {**result, "chi2": math.nan, "df": 0, "p_value": math.nan, "n_patterns": 0, "em_iterations": 0}
    try:
        mu, sigma, iterations = em_mvn(x, tol=tol, max_iter=max_iter)
        return {**result, **_little_statistic(x, mu, sigma), "em_iterations": int(iterations)}
    except np.linalg.LinAlgError:
        # Too few patients for the waves' covariance (a small cohort, a wave nobody reached twice): no test.
        return {
            **result,
            "chi2": math.nan,
            "df": 0,
            "p_value": math.nan,
            "n_patterns": 0,
            "em_iterations": 0,
            "note": "the covariance of the waves is singular: too few patients",
            "undefined": "not estimable",
        }


def _little_statistic(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> dict[str, Any]:
    """d2, df and p of Little's test, from the EM estimates (LinAlgError where Sigma_j is singular)."""
    p = x.shape[1]
    observed = ~np.isnan(x)
    patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    d2 = 0.0
    df = -p
    for index, pattern in enumerate(patterns):
        o = np.flatnonzero(pattern)
        rows = x[inverse == index][:, o]
        diff = rows.mean(axis=0) - mu[o]
        d2 += rows.shape[0] * float(diff @ np.linalg.solve(sigma[np.ix_(o, o)], diff))
        df += o.size
    p_value = float(stats.chi2.sf(d2, df)) if df > 0 else math.nan
    return {
        "chi2": d2,
        "df": int(df),
        "p_value": p_value,
        "n_patterns": len(patterns),
        "note": "" if df > 0 else "a single missing-data pattern: nothing to compare, no test",
        **({} if df > 0 else {"undefined": "not defined"}),
    }


# --------------------------------------------------------------------------------------------------
# Outcome observations
# --------------------------------------------------------------------------------------------------


def outcome_observations(outcomes_long: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Patients with a value of each outcome measure at each nominal wave."""
    rows = outcomes_long.dropna(subset=["value"])
    counts = rows.groupby(["measure", "wave"])["patient_id"].nunique()
    record: dict[str, dict[str, int]] = {}
    for (measure, wave), count in counts.items():
        key = str(int(wave)) if float(wave).is_integer() else str(wave)
        record.setdefault(str(measure), {})[key] = int(count)
    return record
