"""Running the catalogue: the models of one outcome per job, then the machine-readable model outputs of
outputs.md.

A model's record holds its fit, the fit of its reference model on the *same cases* (explained variance
and the likelihood-ratio test compare like with like), and, for an unconditional growth model, the
test against the unconditional means model. The models of one outcome are fitted in one process
(:func:`run_models`: a fit costs milliseconds, a process start seconds), and a fit needed by several
models (a reference on the same patients) is made once. Records are plain JSON, one file per outcome,
so each outcome can be its own Snakemake job (and cluster job) and the collection step only reads them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from alliance.stats.catalogue import Catalogue, CatalogueSettings, ModelSpec, describe_condition
from alliance.stats.engine import FitFailed, FitResult, GrowthData, fit_growth
from alliance.stats.model_data import model_data, with_patient_codes

FITS_COLUMNS = [
    "model_id", "outcome", "predictor", "moderator", "subset", "controls", "method", "n_patients", "n_obs",
    "loglik", "aic", "bic", "var_intercept", "var_slope", "cov_intercept_slope", "var_residual",
    "reference_model_id", "explained_intercept_pct", "explained_slope_pct", "converged", "warnings",
    "engine", "optimizer", "status",
]  # fmt: skip
# fits.csv's status: the model was fitted (and converged or not), its fit failed, or an instrument it rests on
# is not in the cohort's exports (an optional file absent or without records): then it is not analysed.
STATUSES = ("converged", "not converged", "failed", "not collected")
NOT_COLLECTED = "not collected"
# The statuses of a model whose estimates exist (a fit that did not converge still has them, flagged).
FITTED = ("converged", "not converged")


def status_in(fits: pd.DataFrame, model_id: str) -> str:
    """A model's status in fits.csv, or "absent from fits.csv"."""
    rows = fits[fits["model_id"] == model_id]
    return str(rows["status"].iloc[0]) if len(rows) and "status" in rows else "absent from fits.csv"


NOT_ANALYSED = "not analysed: "  # the warnings of a model that is not collected start so


def not_collected_reason(fit: Mapping[str, Any]) -> str:
    """Why a model of fits.csv was not analysed ("WSAS not collected (...)"), or "" when it was."""
    if str(fit.get("status", "")).strip() != NOT_COLLECTED:
        return ""
    return str(fit.get("warnings", "")).removeprefix(NOT_ANALYSED)


ESTIMATES_COLUMNS = ["model_id", "term", "estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high"]
VARIANCE_COLUMNS = ["model_id", "component", "estimate", "std_error", "statistic", "p_value"]
LRT_COLUMNS = ["model_id", "versus_model_id", "n_patients", "chi2", "df", "p_value"]
PATTERN_AVERAGED_COLUMNS = [
    "model_id", "effect", "group", "estimate", "std_error", "statistic", "p_value", "n_patients",
]  # fmt: skip


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _fit_record(result: FitResult) -> dict[str, Any]:
    variance = {row.component: row for row in result.variance.itertuples(index=False)}

    def component(name: str) -> float | None:
        return _finite(variance[name].estimate) if name in variance else None

    return {
        "method": result.method,
        "engine": result.engine,
        "optimizer": result.optimizer,
        "converged": result.converged,
        "warnings": list(result.warnings),
        "loglik": result.loglik,
        "aic": result.aic,
        "bic": result.bic,
        "n_patients": result.n_patients,
        "n_obs": result.n_obs,
        "n_parameters": len(result.fixed) + len(result.variance),
        "var_intercept": component("intercept"),
        "var_slope": component("slope"),
        "cov_intercept_slope": component("covariance"),
        "var_residual": component("residual"),
        # The covariance of the fixed effects, for confidence bands of model-implied trajectories.
        "fixed_covariance": {
            "terms": list(result.fixed["term"]),
            "matrix": [[float(v) for v in row] for row in result.beta_cov],
        },
        "fixed": [
            {k: (_finite(v) if isinstance(v, float) else v) for k, v in row.items()}
            for row in result.fixed.to_dict("records")
        ],
        "variance": [
            {k: (_finite(v) if isinstance(v, float) else v) for k, v in row.items()}
            for row in result.variance.to_dict("records")
        ],
    }


# Fits already made in this process, by (model id, its patients): a reference model refitted on the
# same cases for several predictor models is fitted once.
FitCache = dict[tuple[str, frozenset[str]], dict[str, Any]]


def _cached_fit(model_id: str, data: GrowthData, settings: CatalogueSettings, cache: FitCache | None) -> dict[str, Any]:
    key = (model_id, data.patients)
    if cache is not None and key in cache:
        return cache[key]
    fit = _fit_or_failure(data, settings.method, settings.engine, settings.optimizers)
    if cache is not None:
        cache[key] = fit
    return fit


def _fit_or_failure(data: GrowthData, method: str, engine: str, optimizers: Sequence[str]) -> dict[str, Any]:
    if data.n_patients < 3 or data.n_obs <= len(data.terms) + 4:
        return {
            "failed": f"too few cases to fit ({data.n_patients} patients, {data.n_obs} observations)",
            "n_patients": data.n_patients,
            "n_obs": data.n_obs,
        }
    try:
        return _fit_record(fit_growth(data, method, engine, optimizers))
    except (FitFailed, np.linalg.LinAlgError) as error:
        return {"failed": str(error), "n_patients": data.n_patients, "n_obs": data.n_obs}


def _lrt(full: Mapping[str, Any], restricted: Mapping[str, Any]) -> dict[str, Any] | None:
    if "failed" in full or "failed" in restricted:
        return None
    chi2 = 2.0 * (full["loglik"] - restricted["loglik"])
    df = full["n_parameters"] - restricted["n_parameters"]
    return {"chi2": chi2, "df": df, "p_value": float(stats.chi2.sf(max(chi2, 0.0), df)) if df > 0 else None}


def _describe(spec: ModelSpec) -> dict[str, Any]:
    """What a model record says about its model, before its fit."""
    return {
        "model_id": spec.id,
        "outcome": spec.outcome,
        "kind": spec.kind,
        "predictor": spec.predictor_term,
        "moderator": describe_condition(spec.moderator),
        "subset": describe_condition(spec.subset),
        "controls": spec.controls_text,
        "reference_model_id": spec.reference,
    }


def run_model(
    spec: ModelSpec,
    catalogue: Catalogue,
    patients: pd.DataFrame,
    wai_long: pd.DataFrame,
    outcomes_long: pd.DataFrame,
    cache: FitCache | None = None,
) -> dict[str, Any]:
    """Fit one catalogue model (and what it is compared with, on its own cases) into a JSON record."""
    settings = catalogue.settings
    data = model_data(spec, patients, wai_long, outcomes_long)
    record: dict[str, Any] = {**_describe(spec), "fit": _cached_fit(spec.id, data, settings, cache)}
    if spec.reference is not None:
        reference_spec = catalogue.model(spec.reference)
        reference_data = model_data(reference_spec, patients, wai_long, outcomes_long).restricted_to(data.patients)
        reference = _cached_fit(reference_spec.id, reference_data, settings, cache)
        record["reference_fit"] = reference
        record["lrt_reference"] = _lrt(record["fit"], reference)
    elif spec.kind == "growth" and spec.predictor is None and not spec.controls:
        means_spec = replace(spec, id=f"{spec.id}__means", kind="means")
        means_data = model_data(means_spec, patients, wai_long, outcomes_long).restricted_to(data.patients)
        means = _cached_fit(means_spec.id, means_data, settings, cache)
        record["means_fit"] = {k: means.get(k) for k in ("loglik", "aic", "n_parameters", "failed") if k in means}
        record["lrt_means"] = _lrt(record["fit"], means)
    if "failed" not in record["fit"]:
        record["pattern_averaged"] = pattern_averaged(spec, data, record["fit"])
    return record


def collected_instruments(outcomes_long: pd.DataFrame) -> frozenset[str]:
    """The clinical instruments with at least one assessment in the cohort (optional ones may be absent)."""
    if outcomes_long.empty:
        return frozenset()
    return frozenset(str(m) for m in outcomes_long["measure"].dropna().unique())


def not_collected_record(spec: ModelSpec, absent: Sequence[str]) -> dict[str, Any]:
    """The record of a model that rests on an instrument the cohort did not collect: not fitted, not failed."""
    names = ", ".join(name.upper() for name in sorted(absent))
    return {
        **_describe(spec),
        "fit": {
            "not_collected": f"{names} not collected (no assessments in this cohort's exports)",
            "instruments": sorted(absent),
            "n_patients": 0,
            "n_obs": 0,
        },
    }


def run_models(
    model_ids: Sequence[str],
    catalogue: Catalogue,
    patients: pd.DataFrame,
    wai_long: pd.DataFrame,
    outcomes_long: pd.DataFrame,
    progress: Callable[[int, int, dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """The records of several models, fitted in this process with shared fits; ``progress(i, n, record)``
    is called after each model."""
    cache: FitCache = {}
    records = []
    collected = collected_instruments(outcomes_long)
    patients, wai_long, outcomes_long = with_patient_codes(patients, wai_long, outcomes_long)
    for number, model_id in enumerate(model_ids, start=1):
        spec = catalogue.model(model_id)
        absent = sorted(spec.instruments - collected)
        if absent:
            record = not_collected_record(spec, absent)
        else:
            record = run_model(spec, catalogue, patients, wai_long, outcomes_long, cache)
        records.append(record)
        if progress is not None:
            progress(number, len(model_ids), record)
    return records


def progress_line(record: Mapping[str, Any]) -> tuple[int, str]:
    """A model's line in its job's log, and its logging level (a failed fit is a warning)."""
    fit = record["fit"]
    if "not_collected" in fit:
        return logging.INFO, f"{record['model_id']}: not analysed: {fit['not_collected']}"
    if "failed" in fit:
        return logging.WARNING, f"{record['model_id']}: fit failed: {fit['failed']}"
    return logging.INFO, (
        f"{record['model_id']}: {fit['n_patients']} patients, {fit['n_obs']} observations; "
        f"{fit['engine']} ({fit['optimizer']}), converged={fit['converged']}"
    )


def in_catalogue_order(groups: Sequence[Sequence[Mapping[str, Any]]], catalogue: Catalogue) -> list[Mapping[str, Any]]:
    """The records of every fitting job, one per catalogue model in catalogue order; a model missing or
    fitted twice is an error (a record is never dropped silently)."""
    by_id: dict[str, Mapping[str, Any]] = {}
    for records in groups:
        for record in records:
            if record["model_id"] in by_id:
                raise ValueError(f"model {record['model_id']} was fitted by two jobs")
            by_id[record["model_id"]] = record
    expected = [spec.id for spec in catalogue.models]
    missing = [model_id for model_id in expected if model_id not in by_id]
    unknown = sorted(set(by_id) - set(expected))
    if missing or unknown:
        raise ValueError(f"model records do not match the catalogue: missing {missing}, not in it {unknown}")
    return [by_id[model_id] for model_id in expected]


def pattern_averaged(spec: ModelSpec, data: GrowthData, fit: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Pattern-averaged intercept and slope (Hedeker & Gibbons, 1997) of a model with centred controls.

    With a missing-data pattern variable c (e.g. the number of assessments, centred) in the model, the
    intercept or slope of a group is averaged over the group's patterns: b_0 + b_pred * pred + b_c * mean_g(c)
    (the ``time:`` terms for the slope). Its delta-method variance adds to w' Cov(b) w the uncertainty of
    the group's pattern mean, b_c^2 Var(c) / n_g. Groups: all patients and, for a 0/1 predictor, each
    level and their difference. Empty when the model has no centred patient-level control.
    """
    centred = [c.name for c in spec.controls if c.centre and c.with_time and c.name in data.terms]
    if not centred:
        return []
    fixed = _FixedEffects(
        terms=list(fit["fixed_covariance"]["terms"]),
        beta=np.array([row["estimate"] for row in fit["fixed"]], float),
        cov=np.array(fit["fixed_covariance"]["matrix"], float),
    )
    per_patient = data.frame.groupby("patient_id", sort=True).first()
    predictor = spec.predictor_term
    groups = _pattern_groups(per_patient, predictor)
    out = []
    for effect in ("intercept", "slope"):
        parts = {
            name: _pattern_weights(per_patient[members], effect, fixed, predictor, centred)
            for name, members in groups.items()
            if members.any()
        }
        if len(parts) == 3:
            (w0, v0), (w1, v1) = parts[f"{predictor}=0"], parts[f"{predictor}=1"]
            parts[f"{predictor}=1 - {predictor}=0"] = (w1 - w0, v0 + v1)
        for group, (w, pattern_variance) in parts.items():
            members = groups.get(group)
            n_patients = int(members.sum()) if members is not None else len(per_patient)
            out.append(_pattern_row(effect, group, w, float(pattern_variance[0, 0]), fixed, n_patients))
    return out


@dataclass(frozen=True)
class _FixedEffects:
    terms: list[str]
    beta: np.ndarray
    cov: np.ndarray


def _pattern_groups(per_patient: pd.DataFrame, predictor: str | None) -> dict[str, pd.Series]:
    """All patients and, for a 0/1 predictor, each of its levels."""
    groups: dict[str, pd.Series] = {"all": pd.Series(True, index=per_patient.index)}
    if predictor is not None and predictor in per_patient and set(per_patient[predictor].unique()) <= {0.0, 1.0}:
        for level in (0, 1):
            groups[f"{predictor}={level}"] = per_patient[predictor].eq(level)
    return groups


def _pattern_weights(
    rows: pd.DataFrame, effect: str, fixed: _FixedEffects, predictor: str | None, centred: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Weights on beta for a group's averaged intercept or slope, and the pattern means' covariance scaled
    into beta's units."""
    terms, prefix = fixed.terms, "time:" if effect == "slope" else ""
    w = np.zeros(len(terms))
    w[terms.index("time" if effect == "slope" else "Intercept")] = 1.0
    for column in terms:
        name = column[len(prefix) :] if column.startswith(prefix) else None
        if name is None or (effect == "intercept" and ":" in column) or name in ("Intercept", "time"):
            continue
        if name == predictor or name in centred:
            w[terms.index(column)] = float(rows[name].mean())
    b_c = np.array([fixed.beta[terms.index(f"{prefix}{name}")] for name in centred])
    if len(rows) < 2:  # the spread of one patient's pattern is not defined
        return w, np.array([[math.nan]])
    c_cov = np.atleast_2d(np.cov(rows[centred].to_numpy(float), rowvar=False, ddof=1)) / len(rows)
    return w, np.array([[float(b_c @ c_cov @ b_c)]])


def _pattern_row(
    effect: str, group: str, w: np.ndarray, pattern_variance: float, fixed: _FixedEffects, n_patients: int
) -> dict[str, Any]:
    estimate = float(w @ fixed.beta)
    variance = float(w @ fixed.cov @ w + pattern_variance)
    se = float(np.sqrt(variance)) if variance > 0 else float("nan")
    z = estimate / se if se > 0 else float("nan")
    return {
        "effect": effect,
        "group": group,
        # A group of one patient has no pattern variance: SE and test undefined (None, not NaN).
        "estimate": _finite(estimate),
        "std_error": _finite(se),
        "statistic": _finite(z),
        "p_value": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else None,
        "n_patients": n_patients,
    }


def _explained(reference: Mapping[str, Any] | None, fit: Mapping[str, Any], key: str) -> float | None:
    """Percentage of the reference model's variance that the predictor accounts for."""
    if reference is None or "failed" in reference or "failed" in fit:
        return None
    before, after = reference.get(key), fit.get(key)
    if before is None or after is None or before <= 0:
        return None
    return 100.0 * (before - after) / before


def fit_status(fit: Mapping[str, Any]) -> str:
    if "not_collected" in fit:
        return NOT_COLLECTED
    if "failed" in fit:
        return "failed"
    return "converged" if fit["converged"] else "not converged"


def _warnings(fit: Mapping[str, Any]) -> str:
    if "not_collected" in fit:
        return f"{NOT_ANALYSED}{fit['not_collected']}"
    if "failed" in fit:
        return f"fit failed: {fit['failed']}"
    return "; ".join(fit["warnings"])


def collect(records: Sequence[Mapping[str, Any]]) -> dict[str, pd.DataFrame]:
    """Model records -> fits, estimates, variance_components and likelihood_ratio_tests tables."""
    fits, estimates, variances, lrts, averaged = [], [], [], [], []
    for record in records:
        fit = record["fit"]
        failed = "failed" in fit or "not_collected" in fit
        reference = record.get("reference_fit")
        fits.append(
            {
                "model_id": record["model_id"],
                "outcome": record["outcome"],
                "predictor": record["predictor"] or "",
                "moderator": record["moderator"],
                "subset": record["subset"],
                "controls": record["controls"],
                "method": fit.get("method", ""),
                "n_patients": fit["n_patients"],
                "n_obs": fit["n_obs"],
                "loglik": fit.get("loglik"),
                "aic": fit.get("aic"),
                "bic": fit.get("bic"),
                "var_intercept": fit.get("var_intercept"),
                "var_slope": fit.get("var_slope"),
                "cov_intercept_slope": fit.get("cov_intercept_slope"),
                "var_residual": fit.get("var_residual"),
                "reference_model_id": record["reference_model_id"] or "",
                "explained_intercept_pct": _explained(reference, fit, "var_intercept"),
                "explained_slope_pct": _explained(reference, fit, "var_slope"),
                "converged": (not failed) and bool(fit["converged"]),
                "warnings": _warnings(fit),
                "engine": fit.get("engine", ""),
                "optimizer": fit.get("optimizer", ""),
                "status": fit_status(fit),
            }
        )
        if failed:
            continue
        estimates += [{"model_id": record["model_id"], **row} for row in fit["fixed"]]
        averaged += [{"model_id": record["model_id"], **row} for row in record.get("pattern_averaged", [])]
        variances += [{"model_id": record["model_id"], **row} for row in fit["variance"]]
        for key, versus in (
            ("lrt_reference", record["reference_model_id"]),
            ("lrt_means", f"{record['model_id']} (unconditional means)"),
        ):
            test = record.get(key)
            if test:
                lrts.append(
                    {"model_id": record["model_id"], "versus_model_id": versus, "n_patients": fit["n_patients"], **test}
                )
    return {
        "fits": pd.DataFrame(fits, columns=FITS_COLUMNS),
        "estimates": pd.DataFrame(estimates, columns=ESTIMATES_COLUMNS),
        "variance_components": pd.DataFrame(variances, columns=VARIANCE_COLUMNS),
        "likelihood_ratio_tests": pd.DataFrame(lrts, columns=LRT_COLUMNS),
        "pattern_averaged": pd.DataFrame(averaged, columns=PATTERN_AVERAGED_COLUMNS),
    }
