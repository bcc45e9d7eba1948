"""The main findings compared across cohorts (docs/comparison.md): each cohort's estimate, a random-effects
meta-analysis per finding, and a mixed model pooled over the cohorts with cohort as a factor.

* **A finding's estimate in a cohort** is its term's row (``Finding.term``: the predictor, or its x time
  interaction) of the cohort's ``models/estimates.csv`` (estimate, std_error, ci_low, ci_high), with
  ``n_patients`` from ``models/fits.csv``. A model the cohort could not fit (or whose instrument it did
  not collect) gives no row for that cohort; :func:`collect_estimates` says so in a note per cohort and
  finding, never silently.
* **The meta-analysis** (:func:`random_effects`) pools a finding's estimates with inverse-variance weights
  under a random-effects model whose between-cohort variance tau^2 is DerSimonian and Laird's (1986)
  moment estimator: statsmodels' ``combine_effects(..., method_re="dl")``, truncated at 0 as the estimator is
  defined (statsmodels 0.15 does not truncate it; with tau^2 = 0 the pooled estimate is the fixed-effect
  one, and I^2 is truncated at 0 too). It reports the pooled estimate,
  its SE and 95 % Wald CI (normal quantiles, as metafor's ``rma(method="DL")``), tau^2, I^2 (in %),
  Cochran's Q on k - 1 df and its chi-square p. With fewer than two cohorts nothing is pooled (NaN, and
  a note). tests/test_comparison.py checks it against metafor on the BCG vaccine trials (Colditz et al.,
  1994).
* **The pooled model** (:func:`pooled_fit`): the finding's catalogue model fitted once to the patients of
  every cohort that has the finding's estimate, with patient ids prefixed by their cohort (ids of two
  clinics may collide), each cohort's data built by ``alliance.stats.model_data.model_data`` as its own
  build builds it, and a fixed effect of cohort: a 0/1 indicator ``cohort_<name>`` for each cohort but
  the first, entering also x time in a growth model (as the catalogue's controls do). The random
  effects stay per patient; the finding's term is then the effect within cohorts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from alliance.data.pipeline import read_clean
from alliance.stats.catalogue import Catalogue, Finding
from alliance.stats.engine import FitFailed, GrowthData, fit_growth
from alliance.stats.model_data import model_data
from alliance.stats.model_runs import FITTED, status_in

ESTIMATE_COLUMNS = ["cohort", "finding", "estimate", "std_error", "ci_low", "ci_high", "n_patients"]
META_COLUMNS = [
    "finding",
    "cohorts",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "tau2",
    "i2",
    "q",
    "q_df",
    "q_p_value",
    "method",
    "note",
]
POOLED_COLUMNS = [
    "finding",
    "model_id",
    "term",
    "estimate",
    "std_error",
    "df",
    "p_value",
    "ci_low",
    "ci_high",
    "n_patients",
    "n_cohorts",
    "note",
]
# Statuses of models/fits.csv whose estimates exist.
METHOD = "DerSimonian-Laird"
LEVEL = 0.95
COHORT_PREFIX = "cohort_"
CLEAN = ("patients", "wai_long", "outcomes_long")


# --------------------------------------------------------------------------------------------------
# Each cohort's estimates
# --------------------------------------------------------------------------------------------------


def read_model_tables(paths: Mapping[str, str | Path]) -> dict[str, pd.DataFrame]:
    """A cohort's ``fits`` and ``estimates`` (models/*.csv), as the collection step wrote them."""
    return {name: pd.read_csv(paths[name]) for name in ("fits", "estimates")}


def finding_row(
    finding: Finding, catalogue: Catalogue, tables: Mapping[str, pd.DataFrame]
) -> tuple[dict[str, float] | None, str]:
    """(estimate, std_error, ci_low, ci_high, n_patients) of ``finding`` in one cohort's model tables, or
    (None, why not)."""
    spec = catalogue.model(finding.model)
    term = finding.term(spec)
    fits = tables["fits"][tables["fits"]["model_id"] == spec.id]
    status = status_in(tables["fits"], spec.id)
    if status not in FITTED:
        return None, f"model {spec.id} {status}"
    estimates = tables["estimates"]
    rows = estimates[(estimates["model_id"] == spec.id) & (estimates["term"] == term)]
    if rows.empty or not math.isfinite(float(rows["estimate"].iloc[0])):
        return None, f"model {spec.id} has no estimate of {term}"
    row = rows.iloc[0]
    values = {c: float(row[c]) for c in ("estimate", "std_error", "ci_low", "ci_high")}
    return values | {"n_patients": float(fits["n_patients"].iloc[0])}, ""


def collect_estimates(
    catalogue: Catalogue, cohorts: Mapping[str, Mapping[str, pd.DataFrame]], log: logging.Logger | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """estimates.csv: one row per cohort (in the given order) and main finding that has an estimate there;
    and a note for each cohort and finding that has none (also logged)."""
    rows, notes = [], []
    for finding in catalogue.robustness.findings:
        for cohort, tables in cohorts.items():
            values, why = finding_row(finding, catalogue, tables)
            if values is None:
                notes.append(f"{finding.id}: no estimate in cohort {cohort} ({why})")
                continue
            rows.append({"cohort": cohort, "finding": finding.id, **values})
    frame = pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)
    frame["n_patients"] = frame["n_patients"].astype("Int64")
    if log is not None:
        for note in notes:
            log.info(note)
    return frame, notes


# --------------------------------------------------------------------------------------------------
# The random-effects meta-analysis
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetaResult:
    cohorts: int
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    tau2: float
    i2: float  # in %
    q: float
    q_df: int
    q_p_value: float
    method: str = METHOD
    note: str = ""

    def row(self, finding: str) -> dict[str, object]:
        return {"finding": finding, **self.__dict__}


def random_effects(effects: Sequence[float], variances: Sequence[float], level: float = LEVEL) -> MetaResult:
    """The DerSimonian-Laird random-effects meta-analysis of ``effects`` with sampling ``variances``."""
    y, v = np.asarray(effects, float), np.asarray(variances, float)
    k = len(y)
    if k < 2:
        nan = math.nan
        note = "one cohort only: nothing to pool" if k == 1 else "no cohort has an estimate"
        return MetaResult(k, nan, nan, nan, nan, nan, nan, nan, max(k - 1, 0), nan, note=note)
    if not (np.isfinite(y).all() and np.isfinite(v).all() and (v > 0).all()):
        raise ValueError("every effect needs a finite estimate and a positive, finite variance")
    result = combine_effects(y, v, method_re="dl")
    estimate, se, tau2 = float(result.mean_effect_re), float(result.sd_eff_w_re), float(result.tau2)
    if tau2 < 0:
        # statsmodels (0.15) leaves the moment estimate untruncated when Q < df; DerSimonian and Laird's
        # estimator is max(0, .), and with tau^2 = 0 the random-effects estimate is the fixed-effect one.
        estimate, se, tau2 = float(result.mean_effect_fe), float(result.sd_eff_w_fe), 0.0
    z = float(stats.norm.ppf(0.5 + level / 2))
    q = float(result.q)
    return MetaResult(
        cohorts=k,
        estimate=estimate,
        std_error=se,
        ci_low=estimate - z * se,
        ci_high=estimate + z * se,
        tau2=tau2,
        i2=max(0.0, 100.0 * float(result.i2)),
        q=q,
        q_df=k - 1,
        q_p_value=float(stats.chi2.sf(q, k - 1)),
    )


def meta_analysis(estimates: pd.DataFrame, findings: Sequence[Finding]) -> pd.DataFrame:
    """meta_analysis.csv: one row per finding (in the catalogue's order), from estimates.csv's rows."""
    rows = []
    for finding in findings:
        own = estimates[estimates["finding"] == finding.id]
        variances = own["std_error"].to_numpy(float) ** 2
        rows.append(random_effects(own["estimate"].to_numpy(float), variances).row(finding.id))
    return pd.DataFrame(rows, columns=META_COLUMNS)


# --------------------------------------------------------------------------------------------------
# The pooled mixed model
# --------------------------------------------------------------------------------------------------


def prefixed(tables: Mapping[str, pd.DataFrame], cohort: str) -> dict[str, pd.DataFrame]:
    """A cohort's clean tables with every patient id prefixed by the cohort (``<cohort>:<id>``)."""
    out = {}
    for name, table in tables.items():
        table = table.copy()
        table["patient_id"] = f"{cohort}:" + table["patient_id"].astype(str)
        out[name] = table
    return out


def read_cohort_clean(paths: Mapping[str, str | Path], cohort: str) -> dict[str, pd.DataFrame]:
    """A cohort's clean tables (``paths`` names patients, wai_long and outcomes_long), ids prefixed."""
    return prefixed(dict(zip(CLEAN, read_clean(paths), strict=True)), cohort)


def pooled_data(catalogue: Catalogue, model_id: str, cohorts: Mapping[str, Mapping[str, pd.DataFrame]]) -> GrowthData:
    """The model's data of every cohort (clean tables with prefixed ids), stacked, with the indicators of
    every cohort but the first (and their x time interactions in a growth model)."""
    spec = catalogue.model(model_id)
    parts = {name: model_data(spec, *(tables[t] for t in CLEAN)) for name, tables in cohorts.items()}
    terms = list(dict.fromkeys(term for data in parts.values() for term in data.terms))
    frames = []
    for name, data in parts.items():
        frame = data.frame.reindex(columns=["patient_id", "y", *dict.fromkeys(["time", *terms])], fill_value=0.0)
        frames.append(frame.assign(_cohort=name))
    frame = pd.concat(frames, ignore_index=True)
    growth = "time" in terms
    for name in list(cohorts)[1:]:
        indicator = f"{COHORT_PREFIX}{name}"
        frame[indicator] = (frame["_cohort"] == name).astype(float)
        terms.append(indicator)
        if growth:
            frame[f"time:{indicator}"] = frame[indicator] * frame["time"]
            terms.append(f"time:{indicator}")
    frame = frame.drop(columns="_cohort").sort_values(["patient_id", "time"], kind="stable").reset_index(drop=True)
    random_slope = any(data.random_slope for data in parts.values())
    return GrowthData(frame[["patient_id", "y", *dict.fromkeys(["time", *terms])]], tuple(terms), random_slope)


def pooled_fit(
    finding: Finding, catalogue: Catalogue, cohorts: Mapping[str, Mapping[str, pd.DataFrame]]
) -> dict[str, object]:
    """The finding's row of pooled_models.csv: its term in the model pooled over ``cohorts`` (clean
    tables with prefixed ids, the reference cohort first); NaN with a note when it cannot be fitted."""
    spec = catalogue.model(finding.model)
    term = finding.term(spec)
    row: dict[str, object] = {"finding": finding.id, "model_id": spec.id, "term": term, "n_cohorts": len(cohorts)}
    if len(cohorts) < 2:
        return row | {"note": "fewer than two cohorts have the finding's estimate: nothing to pool"}
    try:
        fit = fit_growth(pooled_data(catalogue, spec.id, cohorts), catalogue.settings.method)
    except (FitFailed, np.linalg.LinAlgError) as error:
        return row | {"note": f"the pooled model could not be fitted: {error}"}
    fixed = fit.fixed.set_index("term").loc[term]
    values = {c: float(fixed[c]) for c in ("estimate", "std_error", "df", "p_value", "ci_low", "ci_high")}
    note = "" if fit.converged else "did not converge"
    return row | values | {"n_patients": fit.n_patients, "note": note}


def pooled_models(
    catalogue: Catalogue, estimates: pd.DataFrame, clean: Mapping[str, Mapping[str, pd.DataFrame]]
) -> pd.DataFrame:
    """pooled_models.csv: for each finding, the pooled model over the cohorts that have its estimate (in
    the order of ``clean``: the first is the reference), from their clean tables (ids prefixed)."""
    rows = []
    for finding in catalogue.robustness.findings:
        fitted = set(estimates.loc[estimates["finding"] == finding.id, "cohort"])
        rows.append(pooled_fit(finding, catalogue, {c: t for c, t in clean.items() if c in fitted}))
    frame = pd.DataFrame(rows, columns=POOLED_COLUMNS)
    frame["n_patients"] = frame["n_patients"].astype("Int64")
    frame["note"] = frame["note"].fillna("")
    return frame
