"""Tests of a difference between the good and poor outcome subgroups, as the paper reports them in
Table II and the text (SPSS's choices): Student's or Welch's t for means, Pearson's chi-square or Fisher's
exact test for percentages."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats.contingency import expected_freq


@dataclass(frozen=True)
class TestResult:
    test: str  # "t", "Welch t", "chi-square", "Fisher", ""
    statistic: float
    df: float
    p_value: float
    detail: float  # Levene p (means) or smallest expected count (percentages)


NO_TEST = TestResult("", math.nan, math.nan, math.nan, math.nan)


def compare_means(good: pd.Series, poor: pd.Series) -> TestResult:
    """Student's t-test, or Welch's when Levene's test (mean-centred, as SPSS) gives p < .05."""
    a, b = good.to_numpy(dtype="float64"), poor.to_numpy(dtype="float64")
    if a.size < 2 or b.size < 2 or (np.ptp(a) == 0 and np.ptp(b) == 0):
        return NO_TEST
    levene_p = float(stats.levene(a, b, center="mean").pvalue)
    welch = not math.isnan(levene_p) and levene_p < 0.05
    result = stats.ttest_ind(a, b, equal_var=not welch)
    return TestResult(
        "Welch t" if welch else "t", float(result.statistic), float(result.df), float(result.pvalue), levene_p
    )


def compare_proportions(good: pd.Series, poor: pd.Series) -> TestResult:
    """Pearson chi-square (no continuity correction), or Fisher's exact test when an expected count is < 5."""
    table = np.array([[good.sum(), good.size - good.sum()], [poor.sum(), poor.size - poor.sum()]], dtype="float64")
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return NO_TEST
    smallest = float(expected_freq(table).min())
    if smallest < 5:
        fisher = stats.fisher_exact(table.astype("int64"))
        return TestResult("Fisher", float(fisher.statistic), math.nan, float(fisher.pvalue), smallest)
    chi2 = stats.chi2_contingency(table, correction=False)
    return TestResult("chi-square", float(chi2.statistic), float(chi2.dof), float(chi2.pvalue), smallest)


def compare_groups(groups: Mapping[str, pd.Series], kind: str) -> TestResult:
    """Good vs poor: :func:`compare_proportions` for a percentage row, :func:`compare_means` for a mean row."""
    compare = compare_proportions if kind == "pct" else compare_means
    return compare(groups["good"], groups["poor"])
