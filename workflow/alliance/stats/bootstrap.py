"""The patient-level (cluster) bootstrap of the catalogue's predictor models, in shards.

A replicate draws the cohort's patients with replacement (each draw of a patient is a patient of its own)
and refits, on the drawn patients that each model has, every catalogue model with a reference (its
predictor models) and that reference on the same cases, as the models step does. From each replicate:
the fixed effects and variance components of each model, and the explained intercept and slope variance
of each predictor model. Replicate r's draw comes from its own random stream, derived from the
configured seed and r alone (numpy's SeedSequence with spawn key (0, r)), so a shard of replicates gives
the same numbers whichever shards the replicates are split into, and gathering the shards gives the same
bytes as one unsharded run.

The refits are :func:`alliance.stats.resampling.fit_resamples` (the exact engine's estimates, by ML or
REML as the catalogue says, whatever its ``engine``). Controls are centred on the full data, as fitted.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alliance.stats.catalogue import Catalogue, ModelSpec
from alliance.stats.engine import (
    ExactEngine,
    FitFailed,
    GrowthData,
    SufficientStatistics,
    evaluate,
    natural_from_factor,
    sufficient_statistics,
)
from alliance.stats.model_data import model_data
from alliance.stats.model_runs import collected_instruments
from alliance.stats.resampling import ResampleFits, fit_resamples

VARIANCE_NAMES = {
    4: ("var_intercept", "cov_intercept_slope", "var_slope", "var_residual"),
    2: ("var_intercept", "var_residual"),
}
EXPLAINED = (("explained_intercept_pct", "var_intercept"), ("explained_slope_pct", "var_slope"))
USED = ("converged", "singular")  # a singular fit is an estimate (a zero variance), and is kept


@dataclass(frozen=True)
class Fitted:
    """One model on one set of cases, fitted on the full data: what its refits start from."""

    key: str  # model id, or "<reference id>@<model id>" for a reference on a model's cases
    patients: np.ndarray  # its patient ids, in the order of ss's patients
    terms: tuple[str, ...]
    ss: SufficientStatistics
    factor: np.ndarray
    estimates: dict[str, float]  # fixed:<term> and the variance names


@dataclass(frozen=True)
class Plan:
    """The bootstrap's models: each predictor model with its reference on its cases, and each reference."""

    cohort: np.ndarray  # every patient id of the cohort, sorted: what a replicate draws from
    fitted: tuple[Fitted, ...]
    pairs: tuple[tuple[str, str], ...]  # (model key, key of its reference on the same cases)
    skipped: tuple[tuple[str, str], ...]  # (model id, why it is not bootstrapped)
    reml: bool


def bootstrap_models(catalogue: Catalogue) -> list[ModelSpec]:
    """The catalogue's own predictor models (not the robustness variants the workflow generates)."""
    return [spec for spec in catalogue.models if spec.base is None and spec.reference is not None]


def _estimates(data: GrowthData, ss: SufficientStatistics, reml: bool) -> tuple[np.ndarray, dict[str, float]]:
    estimate = ExactEngine().estimate(data, ss, reml, ())
    theta = natural_from_factor(estimate.factor, estimate.sigma, ss.q)
    beta = ss.with_offset(evaluate(ss, estimate.factor).beta)
    values = {f"fixed:{term}": float(b) for term, b in zip(data.terms, beta)}
    values.update(dict(zip(VARIANCE_NAMES[len(theta)], map(float, theta))))
    return estimate.factor, values


def _fitted(key: str, data: GrowthData, reml: bool) -> Fitted:
    ss = sufficient_statistics(data, by_patient=True)
    factor, values = _estimates(data, ss, reml)
    patients = np.asarray(pd.unique(data.frame["patient_id"]).astype(str))
    return Fitted(key, patients, data.terms, ss, factor, values)


def plan(catalogue: Catalogue, patients: pd.DataFrame, wai_long: pd.DataFrame, outcomes_long: pd.DataFrame) -> Plan:
    """Fit each bootstrap model, its reference on its cases and each reference on the full data."""
    reml = catalogue.settings.method.upper() == "REML"
    fitted: dict[str, Fitted] = {}
    pairs, skipped = [], []
    collected = collected_instruments(outcomes_long)
    for spec in bootstrap_models(catalogue):
        reference = catalogue.model(str(spec.reference))
        absent = sorted((spec.instruments | reference.instruments) - collected)
        if absent:  # as the model step: not analysed, not failed
            skipped.append((spec.id, f"{', '.join(a.upper() for a in absent)} not collected"))
            continue
        try:
            data = model_data(spec, patients, wai_long, outcomes_long)
            reference_data = model_data(reference, patients, wai_long, outcomes_long)
            on_cases = reference_data.restricted_to(data.patients)
            # The reference on the model's cases is the reference itself where the model has all its patients.
            same = on_cases.patients == reference_data.patients
            on_key = reference.id if same else f"{reference.id}@{spec.id}"
            for key, fit_data in ((spec.id, data), (on_key, on_cases), (reference.id, reference_data)):
                if key not in fitted:
                    fitted[key] = _fitted(key, fit_data, reml)
        except (FitFailed, np.linalg.LinAlgError, KeyError, ValueError) as error:
            skipped.append((spec.id, f"not fitted on the full data: {error}"))
            continue
        pairs.append((spec.id, on_key))
    cohort = np.sort(patients["patient_id"].astype(str).unique())
    return Plan(cohort, tuple(fitted.values()), tuple(pairs), tuple(skipped), reml)


def replicate_draw(seed: int, replicate: int, n_patients: int) -> np.ndarray:
    """Replicate ``replicate``'s draw of the cohort's patients (indices into Plan.cohort)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, replicate)))
    return rng.integers(0, n_patients, n_patients)


def _positions(cohort: np.ndarray, patients: np.ndarray) -> np.ndarray:
    """For each cohort patient, its position among a model's patients (-1 where it is not one of them)."""
    where = np.full(len(cohort), -1)
    found = np.searchsorted(cohort, patients)
    where[found] = np.arange(len(patients))
    return where


def model_draws(cohort_draws: Iterable[np.ndarray], positions: np.ndarray) -> list[np.ndarray]:
    """A model's resamples: the drawn cohort patients that are among its patients, repeats kept."""
    draws = []
    for draw in cohort_draws:
        mapped = positions[draw]
        draws.append(mapped[mapped >= 0])
    return draws


def _columns(fitted: Fitted, fits: ResampleFits) -> dict[str, np.ndarray]:
    usable = np.isin(np.asarray(fits.status), USED)
    columns = {f"{fitted.key}/status": np.asarray(fits.status, dtype=object)}
    for k, term in enumerate(fitted.terms):
        columns[f"{fitted.key}/fixed:{term}"] = np.where(usable, fits.beta[:, k], np.nan)
    for k, name in enumerate(VARIANCE_NAMES[fits.theta.shape[1]]):
        columns[f"{fitted.key}/{name}"] = np.where(usable, fits.theta[:, k], np.nan)
    return columns


Progress = Callable[[int, int, Fitted, ResampleFits], None]


def refit_all(the_plan: Plan, cohort_draws: Sequence[np.ndarray], progress: Progress | None = None) -> pd.DataFrame:
    """Every model of the plan refitted on each of ``cohort_draws``: one row per draw, columns
    ``<key>/status``, ``<key>/fixed:<term>``, ``<key>/<variance>`` and, for each predictor model,
    ``<model>/explained_intercept_pct`` and ``<model>/explained_slope_pct``."""
    columns: dict[str, np.ndarray] = {}
    for number, fitted in enumerate(the_plan.fitted, start=1):
        draws = model_draws(cohort_draws, _positions(the_plan.cohort, fitted.patients))
        fits = fit_resamples(fitted.ss, draws, fitted.factor, len(the_plan.cohort), the_plan.reml)
        columns.update(_columns(fitted, fits))
        if progress is not None:
            progress(number, len(the_plan.fitted), fitted, fits)
    for model, reference in the_plan.pairs:
        for name, variance in EXPLAINED:
            before, after = columns[f"{reference}/{variance}"], columns[f"{model}/{variance}"]
            with np.errstate(divide="ignore", invalid="ignore"):
                columns[f"{model}/{name}"] = np.where(before > 0, 100.0 * (before - after) / before, np.nan)
    return pd.DataFrame(columns)


def full_estimates(the_plan: Plan) -> dict[str, float]:
    """The full data's value of every column refit_all writes (``<key>/<quantity>``)."""
    values = {f"{f.key}/{name}": value for f in the_plan.fitted for name, value in f.estimates.items()}
    by_key = {f.key: f.estimates for f in the_plan.fitted}
    for model, reference in the_plan.pairs:
        for name, variance in EXPLAINED:
            before, after = by_key[reference].get(variance, np.nan), by_key[model].get(variance, np.nan)
            values[f"{model}/{name}"] = 100.0 * (before - after) / before if before > 0 else np.nan
    return values


def run_shard(the_plan: Plan, seed: int, replicates: range, progress: Progress | None = None) -> pd.DataFrame:
    """The replicates of one shard (numbers ``replicates``), each row with its replicate number."""
    draws = [replicate_draw(seed, r, len(the_plan.cohort)) for r in replicates]
    frame = refit_all(the_plan, draws, progress)
    frame.insert(0, "replicate", list(replicates))
    return frame


def jackknife_groups(n_patients: int, groups: int, seed: int) -> list[np.ndarray]:
    """Groups of the cohort's patients for the BCa acceleration: each patient alone in cohorts of at most
    ``groups`` patients; otherwise ``groups`` groups of near-equal size, patients assigned by a seeded
    permutation (spawn key (2,)), so the cost stays that of ``groups`` refits however large the cohort."""
    if n_patients <= groups:
        return [np.array([i]) for i in range(n_patients)]
    order = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,))).permutation(n_patients)
    return [np.sort(part) for part in np.array_split(order, groups)]


def run_jackknife(the_plan: Plan, groups: int, seed: int, progress: Progress | None = None) -> pd.DataFrame:
    """Every model refitted without each group of patients in turn (row ``group``)."""
    parts = jackknife_groups(len(the_plan.cohort), groups, seed)
    everyone = np.arange(len(the_plan.cohort))
    draws = [np.setdiff1d(everyone, part) for part in parts]
    frame = refit_all(the_plan, draws, progress)
    frame.insert(0, "group", range(len(parts)))
    return frame


def stream_key(model_id: str) -> int:
    """A model's stable number for its random streams (not its position in the catalogue)."""
    return zlib.crc32(model_id.encode("utf-8"))
