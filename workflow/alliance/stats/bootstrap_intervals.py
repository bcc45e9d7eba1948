"""Bootstrap intervals from the gathered replicates: percentile and BCa (Efron, 1987), one row each per
model and quantity (bootstrap/intervals.csv), and the replicates' fit status per model
(bootstrap/fit_status.csv).

Percentile: the (1 - c)/2 and (1 + c)/2 quantiles of the usable replicates (numpy's default, linear
interpolation). BCa: the same quantiles at levels adjusted by the bias correction z0 (the share of
replicates below the estimate, ties counted half) and the acceleration a from the jackknife values
(a = sum d^3 / (6 (sum d^2)^1.5), d = mean - value). A replicate is usable for a quantity when its fit
(and, for explained variance, its reference's fit on the same cases) converged, on the boundary or not;
every other replicate is counted in ``failed``, never dropped silently. Where every usable replicate
lies on one side of the estimate (z0 infinite) the BCa interval is not defined and left empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

INTERVAL_COLUMNS = ["model_id", "quantity", "estimate", "ci_low", "ci_high", "method", "replicates", "failed", "seed"]
STATUS_COLUMNS = ["model_id", "fitted_as", "replicates", "converged", "singular", "not_converged", "failed"]


def gather(shards: Sequence[pd.DataFrame], replicates: int) -> pd.DataFrame:
    """The shards' replicates in replicate order; every replicate 0..replicates-1 exactly once."""
    frame = pd.concat(shards, ignore_index=True).sort_values("replicate", kind="stable").reset_index(drop=True)
    numbers = frame["replicate"].to_numpy()
    if len(numbers) != replicates or not np.array_equal(numbers, np.arange(replicates)):
        missing = sorted(set(range(replicates)) - set(numbers.tolist()))
        raise ValueError(f"the shards hold {len(numbers)} replicates, not 0..{replicates - 1}: missing {missing[:10]}")
    return frame


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    if not len(values):
        return np.nan, np.nan
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def acceleration(jackknife: np.ndarray) -> float:
    """Efron's acceleration from jackknife values (0 when they do not vary)."""
    values = jackknife[np.isfinite(jackknife)]
    if len(values) < 3:
        return np.nan
    d = values.mean() - values
    spread = float((d * d).sum())
    return float((d**3).sum() / (6.0 * spread**1.5)) if spread > 0 else 0.0


def bca_interval(values: np.ndarray, estimate: float, jackknife: np.ndarray, confidence: float) -> tuple[float, float]:
    if not len(values) or not np.isfinite(estimate):
        return np.nan, np.nan
    below = (np.sum(values < estimate) + 0.5 * np.sum(values == estimate)) / len(values)
    a = acceleration(jackknife)
    if not 0 < below < 1 or not np.isfinite(a):
        return np.nan, np.nan
    z0 = stats.norm.ppf(below)
    levels = []
    for tail in ((1 - confidence) / 2, (1 + confidence) / 2):
        z = z0 + stats.norm.ppf(tail)
        levels.append(float(stats.norm.cdf(z0 + z / (1 - a * z))))
    low, high = np.quantile(values, levels)
    return float(low), float(high)


def _quantities(columns: Sequence[str]) -> list[tuple[str, str]]:
    """(key, quantity) of every value column, in column order; the keys of references on a model's cases
    (``ref@model``) are the models' own comparison, not rows of their own."""
    out = []
    for column in columns:
        key, _, quantity = column.partition("/")
        if column == "replicate" or quantity == "status" or "@" in key:
            continue
        out.append((key, quantity))
    return out


def intervals(
    replicates: pd.DataFrame, jackknife: pd.DataFrame, estimates: Mapping[str, float], confidence: float, seed: int
) -> pd.DataFrame:
    """intervals.csv: each model's quantities, percentile and BCa rows."""
    rows = []
    total = len(replicates)
    for key, quantity in _quantities(list(replicates.columns)):
        column = f"{key}/{quantity}"
        values = replicates[column].to_numpy(float)
        used = values[np.isfinite(values)]
        estimate = float(estimates.get(column, np.nan))
        jack = jackknife[column].to_numpy(float) if column in jackknife else np.array([])
        common = {"model_id": key, "quantity": quantity, "estimate": estimate}
        tail = {"replicates": total, "failed": total - len(used), "seed": seed}
        for method, (low, high) in (
            ("percentile", percentile_interval(used, confidence)),
            ("bca", bca_interval(used, estimate, jack, confidence)),
        ):
            rows.append({**common, "ci_low": low, "ci_high": high, "method": method, **tail})
    return pd.DataFrame(rows, columns=INTERVAL_COLUMNS)


def fit_status(replicates: pd.DataFrame) -> pd.DataFrame:
    """fit_status.csv: per fitted model (and reference on a model's cases), how its refits ended."""
    rows = []
    for column in replicates.columns:
        key, _, quantity = column.partition("/")
        if quantity != "status":
            continue
        model, _, on_cases = key.partition("@")
        counts = replicates[column].value_counts()
        rows.append(
            {
                "model_id": on_cases or model,
                "fitted_as": f"reference {model} on its cases" if on_cases else "model",
                "replicates": len(replicates),
                "converged": int(counts.get("converged", 0)),
                "singular": int(counts.get("singular", 0)),
                "not_converged": int(counts.get("not converged", 0)),
                "failed": int(counts.get("failed", 0)),
            }
        )
    return pd.DataFrame(rows, columns=STATUS_COLUMNS)
