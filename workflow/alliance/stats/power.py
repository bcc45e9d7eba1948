"""Simulation-based power of the main findings (docs/power.md): cohorts simulated from a finding's fitted
model over a grid of designs (:mod:`alliance.stats.power_design`), each refitted as the workflow fits it.

* **The generating model** (:func:`generating_model`) is the finding's catalogue model as the cohort's
  build fitted it (``models/estimates.csv`` and ``variance_components.csv``): the fixed effects, with the
  finding's term set to ``power.effects`` of the config where given, the random intercept and slope's
  covariance G and the residual variance; and the patient-level values of the model's predictors, one row
  per patient of the model (``alliance.stats.model_data.model_data`` on the clean tables).
* **A simulated cohort** (:func:`simulate_cohort`) of n patients: each patient's predictor row drawn with
  replacement from the model's patients (a moderator's rare cell keeps its share), b_i ~ N(0, G),
  residuals ~ N(0, s2), assessed at the first ``waves`` months of the schedule. Dropout d
  (:func:`observed_waves`): with probability d a patient leaves after a wave drawn uniformly from the
  2nd to the next-to-last, so that every patient keeps at least two assessments (a slope is defined);
  with 2 waves nobody can leave early.
* **A replicate** is refitted as ``fit_growth`` fits it (ML, or the catalogue's method; the exact engine)
  and rejects when the two-sided Satterthwaite t test of the finding's term has p < alpha: the ``p_value``
  of the fit's fixed table, exactly as ``models/estimates.csv`` reports it, computed by :func:`term_test`
  for that term alone. A fit that fails counts as not rejecting, and is counted (``failed``), never dropped.
  A finding whose model the cohort's build could not fit is not simulated (:func:`finding_power` says why).
* **Seeds**: replicate r of a design draws from its own stream, ``SeedSequence(seed, spawn_key=(crc32 of
  the finding id, n, waves, dropout in millionths, r))``, so that a result depends on neither the order of
  the work nor how it is split into jobs.
* power = rejections / replicates, with Monte Carlo SE sqrt(p (1 - p) / replicates).
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from alliance.data.pipeline import read_clean
from alliance.errors import AllianceError
from alliance.stats.catalogue import Catalogue, Finding
from alliance.stats.engine import (
    ExactEngine,
    FitFailed,
    GrowthData,
    beta_covariance_jacobian,
    check_design,
    estimate_from,
    evaluate,
    factor_from_natural,
    profiled_deviance,
    satterthwaite_df,
    sufficient_statistics,
    varpar_covariance,
)
from alliance.stats.model_data import model_data
from alliance.stats.model_runs import FITTED, status_in
from alliance.stats.power_design import Design

# The columns of power.csv (one row per finding and design), and of a finding's own table, which also
# counts the replicates whose fit failed (not rejecting) or did not converge (their p is used).
POWER_COLUMNS = ["finding", "n_patients", "waves", "dropout", "effect", "power", "mc_se", "replicates", "seed"]
FINDING_COLUMNS = [*POWER_COLUMNS, "failed", "not_converged"]


class PowerError(AllianceError):
    """A finding's model cannot generate cohorts (not fitted, or with predictors that vary within patient)."""


@dataclass(frozen=True)
class GeneratingModel:
    """What a finding's simulated cohorts are drawn from."""

    finding: str
    term: str  # the fixed term whose test is the finding's (time:poor_outcome, ...)
    terms: tuple[str, ...]  # the fixed terms, in the model's order
    beta: np.ndarray  # their values, the finding's term set to ``effect``
    effect: float
    effect_from_config: bool  # power.effects of the config, else the fitted coefficient
    covariance: np.ndarray  # G of (b0, b1), or of b0 alone
    residual: float  # s2
    covariates: np.ndarray  # (patients, covariates): each patient of the model's predictor values
    covariate_names: tuple[str, ...]
    months: tuple[float, ...]  # the assessment schedule; a design uses its first ``waves``
    method: str = "ML"
    alpha: float = 0.05

    @property
    def random_slope(self) -> bool:
        return self.covariance.shape[0] == 2

    @property
    def factor(self) -> np.ndarray:
        """The generating covariance's relative factor (lme4's theta): where each cohort's search starts."""
        G = self.covariance
        theta = (
            np.array([G[0, 0], G[0, 1], G[1, 1], self.residual])
            if self.random_slope
            else np.array([G[0, 0], self.residual])
        )
        return factor_from_natural(theta, G.shape[0])[0]


# --------------------------------------------------------------------------------------------------
# The generating model
# --------------------------------------------------------------------------------------------------


def patient_covariates(data: GrowthData) -> tuple[tuple[str, ...], np.ndarray]:
    """The names and per-patient values of a model's covariates (its terms but the intercept, time and the
    x time interactions); PowerError if one varies within a patient (an observation-level control)."""
    names = tuple(t for t in data.terms if t not in ("Intercept", "time") and not t.startswith("time:"))
    if not names:
        return names, np.zeros((data.n_patients, 0))
    per_patient = data.frame.groupby("patient_id", sort=True)[list(names)]
    varying = [name for name, spread in per_patient.nunique().max().items() if spread > 1]
    if varying:
        raise PowerError(f"covariates that vary within a patient cannot be simulated: {', '.join(varying)}")
    return names, per_patient.first().to_numpy(float).reshape(-1, len(names))


def variance_parameters(rows: pd.DataFrame, model_id: str) -> tuple[np.ndarray, float]:
    """G and s2 from a model's rows of variance_components.csv."""
    value = dict(zip(rows["component"], rows["estimate"].astype(float), strict=True))
    if "intercept" not in value or "residual" not in value:
        raise PowerError(f"model {model_id} has no variance components in variance_components.csv")
    if "slope" in value:
        covariance = np.array([[value["intercept"], value["covariance"]], [value["covariance"], value["slope"]]])
    else:
        covariance = np.array([[value["intercept"]]])
    return covariance, value["residual"]


def fitted_model_rows(tables: Mapping[str, pd.DataFrame], model_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A fitted model's rows of estimates.csv and variance_components.csv; PowerError when it was not fitted."""
    status = status_in(tables["fits"], model_id)
    if status not in FITTED:
        raise PowerError(f"model {model_id} was not fitted in this cohort ({status}): it cannot generate cohorts")
    estimates = tables["estimates"][tables["estimates"]["model_id"] == model_id]
    variance = tables["variance_components"][tables["variance_components"]["model_id"] == model_id]
    return estimates, variance


def generating_model(
    finding: Finding,
    catalogue: Catalogue,
    tables: Mapping[str, pd.DataFrame],
    data: GrowthData,
    months: Sequence[float],
    effect: float | None = None,
) -> GeneratingModel:
    """The generating model of ``finding`` from its model's fitted ``tables`` (fits, estimates and
    variance_components of models/) and ``data`` (its model data); ``effect`` replaces the term's estimate."""
    spec = catalogue.model(finding.model)
    term = finding.term(spec)
    estimates, variance = fitted_model_rows(tables, spec.id)
    fitted = dict(zip(estimates["term"], estimates["estimate"].astype(float), strict=True))
    missing = [name for name in data.terms if name not in fitted]
    if missing or term not in data.terms:
        raise PowerError(f"model {spec.id}: estimates.csv lacks the terms {', '.join(missing or [term])}")
    beta = np.array([fitted[name] for name in data.terms])
    beta[data.terms.index(term)] = fitted[term] if effect is None else float(effect)
    covariance, residual = variance_parameters(variance, spec.id)
    names, covariates = patient_covariates(data)
    return GeneratingModel(
        finding=finding.id,
        term=term,
        terms=data.terms,
        beta=beta,
        effect=float(beta[data.terms.index(term)]),
        effect_from_config=effect is not None,
        covariance=covariance,
        residual=residual,
        covariates=covariates,
        covariate_names=names,
        months=tuple(float(m) for m in months),
        method=catalogue.settings.method,
        alpha=catalogue.settings.alpha,
    )


def load_generating_model(
    finding_id: str,
    catalogue: Catalogue,
    paths: Mapping[str, str | Path],
    months: Sequence[float],
    effect: float | None = None,
) -> GeneratingModel:
    """:func:`generating_model` from files: ``paths`` names the clean tables (patients, wai_long,
    outcomes_long) and the model outputs (fits, estimates, variance_components)."""
    finding = finding_named(catalogue, finding_id)
    patients, wai_long, outcomes_long = read_clean(paths)
    data = model_data(catalogue.model(finding.model), patients, wai_long, outcomes_long)
    tables = {name: pd.read_csv(paths[name]) for name in ("fits", "estimates", "variance_components")}
    return generating_model(finding, catalogue, tables, data, months, effect)


def describe_model(model: GeneratingModel) -> str:
    """A job log's line on what the cohorts are drawn from."""
    source = "power.effects of the config" if model.effect_from_config else "the fitted model"
    g = ", ".join(f"{v:.4g}" for v in model.covariance[np.tril_indices(len(model.covariance))])
    return (
        f"{model.finding}: {model.term} = {model.effect:.4g} ({source}); G (lower triangle) {g}, residual variance "
        f"{model.residual:.4g}; predictors drawn from {len(model.covariates)} patients; {model.method}, "
        f"alpha {model.alpha:g}"
    )


def finding_named(catalogue: Catalogue, finding_id: str) -> Finding:
    for finding in catalogue.robustness.findings:
        if finding.id == finding_id:
            return finding
    raise PowerError(f"{finding_id} is not a finding of the catalogue (robustness.findings)")


# --------------------------------------------------------------------------------------------------
# Simulated cohorts
# --------------------------------------------------------------------------------------------------


def replicate_rng(seed: int, finding: str, design: Design, replicate: int) -> np.random.Generator:
    """The random stream of one replicate: from the design's values, never from its place in a job."""
    key = (zlib.crc32(finding.encode("utf-8")), design.n_patients, design.waves, round(design.dropout * 1e6))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(*key, replicate)))


def observed_waves(n_patients: int, waves: int, dropout: float, rng: np.random.Generator) -> np.ndarray:
    """How many of the ``waves`` assessments each patient has: all of them, or, with probability
    ``dropout``, the first 2 to ``waves - 1`` (uniformly): a patient who leaves keeps two at least."""
    counts = np.full(n_patients, waves)
    leaves = rng.random(n_patients) < dropout
    if waves > 2:
        counts[leaves] = rng.integers(2, waves, size=int(leaves.sum()))
    return counts


def random_effect_factor(covariance: np.ndarray) -> np.ndarray:
    """F with F F' = G (G positive semidefinite: a fitted G on the boundary has a zero eigenvalue)."""
    values, vectors = np.linalg.eigh(covariance)
    return np.asarray(vectors * np.sqrt(np.clip(values, 0.0, None)))


def design_matrix(terms: Sequence[str], values: Mapping[str, np.ndarray], time: np.ndarray) -> np.ndarray:
    """The fixed-effect design of ``terms`` (Intercept, time, covariates and their time: interactions)."""
    columns = []
    for term in terms:
        if term == "Intercept":
            columns.append(np.ones_like(time))
        elif term == "time":
            columns.append(time)
        elif term.startswith("time:"):
            columns.append(time * values[term.removeprefix("time:")])
        else:
            columns.append(values[term])
    return np.column_stack(columns)


def simulate_cohort(model: GeneratingModel, design: Design, rng: np.random.Generator) -> GrowthData:
    """One simulated cohort of ``design`` from ``model`` (see the module docstring), as the engine fits it."""
    n = design.n_patients
    rows = rng.integers(0, len(model.covariates), size=n)
    counts = observed_waves(n, design.waves, design.dropout, rng)
    effects = rng.standard_normal((n, model.covariance.shape[0])) @ random_effect_factor(model.covariance).T
    patient = np.repeat(np.arange(n), counts)
    time = np.asarray(model.months)[np.arange(len(patient)) - np.repeat(np.cumsum(counts) - counts, counts)]
    values = {name: model.covariates[rows, j][patient] for j, name in enumerate(model.covariate_names)}
    X = design_matrix(model.terms, values, time)
    mean = X @ model.beta + effects[patient, 0]
    if model.random_slope:
        mean += effects[patient, 1] * time
    y = mean + rng.normal(0.0, math.sqrt(model.residual), size=len(patient))
    # The rows are in patient and time order, the columns those of GrowthData.from_long: its frame, built
    # without its copies and sort (the test checks that from_long gives the same).
    columns = {"patient_id": patient, "y": y, "time": time}
    columns |= {term: X[:, j] for j, term in enumerate(model.terms) if term != "time"}
    return GrowthData(pd.DataFrame(columns), model.terms, model.random_slope)


# --------------------------------------------------------------------------------------------------
# Power
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TermTest:
    """The row of one fixed term in a fit's fixed table: estimate, SE, Satterthwaite df, t and p."""

    estimate: float
    std_error: float
    df: float
    statistic: float
    p_value: float
    converged: bool


def term_test(data: GrowthData, term: str, method: str = "ML", start: np.ndarray | None = None) -> TermTest:
    """The test of one fixed term exactly as ``fit_growth(data, method)`` reports it in its fixed table (the
    same checks, estimation and lmerTest inference, with the engine's public functions), computing only
    that row: no other term's df, no variance components' SEs, no tables. A simulated cohort needs nothing
    else, and this is a good part of a fit's cost. Raises FitFailed where fit_growth does.

    ``start``: a relative factor near the optimum (the generating model's), from which the engine's search
    starts (alliance.stats.engine.estimate_from): the same optimum, found in a few steps where the full
    search from the data's own starts takes ten times as long on the boundary (a zero slope variance, half
    of the 3-wave cohorts)."""
    reml = method.upper() == "REML"
    check_design(data)
    ss = sufficient_statistics(data)
    n_random = ss.q * len(ss.n)
    if ss.n_obs <= ss.p or ss.n_obs <= n_random:  # fit_growth's checks of the numbers of observations
        raise FitFailed(f"too few observations ({int(ss.n_obs)}) for {ss.p} fixed effects and {n_random} random")
    try:
        if start is None:
            estimate = ExactEngine().estimate(data, ss, reml, ())
        else:
            estimate = estimate_from(ss, reml, start, None)
        if not np.isfinite(profiled_deviance(ss, estimate.factor, reml)[0]):
            raise FitFailed("no finite likelihood was found")
        varpar = np.append(estimate.factor, estimate.sigma)
        evaluation = evaluate(ss, estimate.factor)
        j = data.terms.index(term)
        variance = estimate.sigma**2 * evaluation.A_inv[j, j]
        df = satterthwaite_df(
            np.array([[variance]]),
            beta_covariance_jacobian(ss, varpar)[:, j : j + 1, j : j + 1],
            varpar_covariance(ss, varpar, reml)[0],
        )[0]
    except np.linalg.LinAlgError as error:
        raise FitFailed(f"numerical failure (the model is not estimable in these data): {error}") from error
    beta = float(ss.with_offset(evaluation.beta)[j])
    se = math.sqrt(variance)
    statistic = beta / se
    with np.errstate(invalid="ignore"):
        p_value = float(2 * stats.t.sf(abs(statistic), df))
    return TermTest(beta, se, float(df), statistic, p_value, estimate.converged)


@dataclass(frozen=True)
class Replicate:
    rejected: bool
    failed: str = ""  # why the fit failed ("" when it did not)
    converged: bool = True


def run_replicate(model: GeneratingModel, design: Design, seed: int, replicate: int) -> Replicate:
    """Simulate replicate ``replicate`` of ``design``, fit it, and test the finding's term."""
    data = simulate_cohort(model, design, replicate_rng(seed, model.finding, design, replicate))
    try:
        test = term_test(data, model.term, model.method, model.factor)
    except (FitFailed, np.linalg.LinAlgError) as error:
        return Replicate(rejected=False, failed=str(error) or type(error).__name__, converged=False)
    # A p that is not defined (NaN: no df) does not reject.
    return Replicate(rejected=bool(test.p_value < model.alpha), converged=test.converged)


@dataclass(frozen=True)
class DesignPower:
    design: Design
    rejections: int
    replicates: int
    failed: int
    not_converged: int
    failures: tuple[str, ...] = ()  # the distinct reasons of the failed fits

    @property
    def power(self) -> float:
        return self.rejections / self.replicates

    @property
    def mc_se(self) -> float:
        return monte_carlo_se(self.power, self.replicates)


def monte_carlo_se(power: float, replicates: int) -> float:
    """The Monte Carlo standard error of a rejection rate over ``replicates`` independent replicates."""
    return math.sqrt(power * (1.0 - power) / replicates)


def design_power(model: GeneratingModel, design: Design, replicates: int, seed: int) -> DesignPower:
    """The rejection rate of ``replicates`` simulated cohorts of one design."""
    runs = [run_replicate(model, design, seed, r) for r in range(replicates)]
    return DesignPower(
        design=design,
        rejections=sum(run.rejected for run in runs),
        replicates=replicates,
        failed=sum(bool(run.failed) for run in runs),
        not_converged=sum(not run.failed and not run.converged for run in runs),
        failures=tuple(sorted({run.failed for run in runs if run.failed})),
    )


def power_grid(
    model: GeneratingModel,
    designs: Sequence[Design],
    replicates: int,
    seed: int,
    progress: Callable[[int, int, DesignPower], None] | None = None,
) -> pd.DataFrame:
    """A finding's power at every design (FINDING_COLUMNS); ``progress(i, n, result)`` after each design."""
    rows = []
    for number, design in enumerate(designs, start=1):
        result = design_power(model, design, replicates, seed)
        rows.append(
            {
                "finding": model.finding,
                "n_patients": design.n_patients,
                "waves": design.waves,
                "dropout": design.dropout,
                "effect": model.effect,
                "power": result.power,
                "mc_se": result.mc_se,
                "replicates": replicates,
                "seed": seed,
                "failed": result.failed,
                "not_converged": result.not_converged,
            }
        )
        if progress is not None:
            progress(number, len(designs), result)
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def patients_for_power(n_patients: Sequence[float], power: Sequence[float], target: float) -> float | None:
    """The smallest number of patients reaching ``target`` power, by linear interpolation between the grid's
    points (the first that reaches it and the one before); the smallest n when it already does; None when
    no point of the grid reaches it."""
    points = sorted(zip(n_patients, power, strict=True))
    for index, (n, reached) in enumerate(points):
        if reached >= target:
            if index == 0:
                return float(n)
            n_before, before = points[index - 1]
            return float(n_before + (target - before) * (n - n_before) / (reached - before))
    return None


def progress_line(result: DesignPower) -> tuple[int, str]:
    """A design's line in its job's log, and its level (a warning when fits failed)."""
    design = result.design
    text = (
        f"{design.n_patients} patients, {design.describe()}: power {result.power:.3f} "
        f"({result.rejections}/{result.replicates} replicates), failed fits {result.failed}, "
        f"not converged {result.not_converged}"
    )
    if result.failed:
        return logging.WARNING, f"{text}; failures: {' | '.join(result.failures)}"
    return logging.INFO, text


def finding_power(
    finding_id: str,
    catalogue: Catalogue,
    paths: Mapping[str, str | Path],
    months: Sequence[float],
    effect: float | None,
    designs: Sequence[Design],
    replicates: int,
    seed: int,
    log: logging.Logger,
) -> pd.DataFrame:
    """One finding's power table (a simulation job): the generating model from the cohort's files, then
    every design, each logged as it is done. A finding whose model cannot generate cohorts (not fitted in
    this cohort) gets an empty table, and the reason in the log."""
    try:
        model = load_generating_model(finding_id, catalogue, paths, months, effect)
    except PowerError as error:
        log.warning(f"{finding_id}: not simulated: {error}")
        return pd.DataFrame(columns=FINDING_COLUMNS)
    log.info(describe_model(model))

    def progress(number: int, total: int, result: DesignPower) -> None:
        level, text = progress_line(result)
        log.log(level, f"[{number}/{total} designs] {text}")

    table = power_grid(model, designs, replicates, seed, progress)
    log.info(
        f"{len(designs)} designs x {replicates} replicates: {int(table['failed'].sum())} fits failed (counted as "
        f"not rejecting), {int(table['not_converged'].sum())} did not converge (their test is used)"
    )
    return table
