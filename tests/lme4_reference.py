"""Reference fits of linear growth models with R's lme4/lmerTest (tests/r/lme4_reference.R).

An independent check of the Python engine: the data go to R as CSV files, R fits the models and writes
its estimates as JSON. Nothing is shared with the Python engine but the data. Models are sent in
batches, one R start-up a batch, and the batches run in parallel (R is a subprocess: threads suffice).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

SCRIPT = Path(__file__).resolve().parent / "r" / "lme4_reference.R"
DATASETS_SCRIPT = Path(__file__).resolve().parent / "r" / "export_datasets.R"


def r_available() -> bool:
    """Whether Rscript with lmerTest, jsonlite, numDeriv and nlme can be run here."""
    if shutil.which("Rscript") is None:
        return False
    check = "library(lmerTest); library(jsonlite); library(numDeriv); library(nlme)"
    result = subprocess.run(["Rscript", "-e", check], capture_output=True, text=True, check=False)
    return result.returncode == 0


def sanitize(terms: Sequence[str]) -> dict[str, str]:
    """A column name R accepts for every term, e.g. 'time:poor_outcome' -> 'time_x_poor_outcome'."""
    columns: dict[str, str] = {}
    for term in terms:
        column = re.sub(r"[^A-Za-z0-9_]", "_", term.replace(":", "_x_"))
        if not column or not column[0].isalpha():
            column = "v_" + column
        while column in columns.values() or column in ("patient_id", "y"):
            column += "_"
        columns[term] = column
    return columns


@dataclass(frozen=True)
class RCase:
    """One model for R: ``data`` has patient_id, y, time and one column per term, named as the term."""

    data: pd.DataFrame
    terms: tuple[str, ...]
    random_slope: bool = True
    reml: bool = False


def _write_case(case: RCase, folder: Path) -> None:
    columns = sanitize(case.terms)
    data = case.data
    table = pd.DataFrame({"patient_id": data["patient_id"].astype(str), "y": data["y"], "time": data["time"]})
    for term, column in columns.items():
        if column == "time":
            if not (data[term].to_numpy() == data["time"].to_numpy()).all():
                raise ValueError(f"term {term!r} would be written as column 'time' but differs from time")
            continue
        table[column] = data[term].to_numpy()
    spec = {"terms": columns, "random_slope": bool(case.random_slope), "reml": bool(case.reml)}
    folder.mkdir(parents=True)
    table.to_csv(folder / "data.csv", index=False, float_format="%.17g")
    (folder / "spec.json").write_text(json.dumps(spec))


def fit_batch_in_r(cases: Sequence[RCase]) -> list[dict[str, Any]]:
    """Fit every case in one R process; R's results in order (a case R failed on has key 'error')."""
    if not cases:
        return []
    with tempfile.TemporaryDirectory(prefix="lme4_reference_") as directory:
        root = Path(directory)
        manifest = []
        for k, case in enumerate(cases):
            folder = root / f"case{k}"
            _write_case(case, folder)
            manifest.append({name: str(folder / f"{name}.{ext}") for name, ext in _FILES})
        (root / "manifest.json").write_text(json.dumps(manifest))
        result = subprocess.run(
            ["Rscript", str(SCRIPT), str(root / "manifest.json")], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"Rscript failed ({result.returncode}):\n{result.stderr}\n{result.stdout}")
        return [json.loads(Path(entry["out"]).read_text()) for entry in manifest]


_FILES = (("data", "csv"), ("spec", "json"), ("out", "json"))


def fit_in_r(data: pd.DataFrame, terms: Sequence[str], random_slope: bool = True, reml: bool = False) -> dict[str, Any]:
    """Fit y ~ 0 + terms + (1 + time | patient_id) (or (1 | patient_id)) in R; the parsed JSON result."""
    (result,) = fit_batch_in_r([RCase(data, tuple(terms), random_slope, reml)])
    if "error" in result:
        raise RuntimeError(f"R: {result['error']}")
    return result


@dataclass(frozen=True)
class BatchItem:
    """One case's place in a batch running on a thread pool."""

    batch: Future
    position: int

    def result(self) -> dict[str, Any]:
        """R's result of this case (waits for the whole batch)."""
        return self.batch.result()[self.position]


def submit_in_batches(pool: ThreadPoolExecutor, cases: Mapping[str, RCase], batches: int = 2) -> dict[str, BatchItem]:
    """Split the cases into ``batches`` R processes on ``pool`` (round robin); case id -> its BatchItem."""
    ids = list(cases)
    items: dict[str, BatchItem] = {}
    for chunk in (ids[k::batches] for k in range(batches)):
        if chunk:
            batch = pool.submit(fit_batch_in_r, [cases[i] for i in chunk])
            items |= {case_id: BatchItem(batch, position) for position, case_id in enumerate(chunk)}
    return {case_id: items[case_id] for case_id in ids}


def export_r_datasets(directory: Path) -> dict[str, pd.DataFrame]:
    """The datasets of tests/r/export_datasets.R, exported from R's packages; name -> long table."""
    directory.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["Rscript", str(DATASETS_SCRIPT), str(directory)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"Rscript failed ({result.returncode}):\n{result.stderr}\n{result.stdout}")
    return {path.stem: pd.read_csv(path) for path in sorted(directory.glob("*.csv"))}


# --------------------------------------------------------------------------------------------------
# Comparisons of a FitResult with R's result: each returns a list of mismatches, so that a failure
# shows all of them. The tolerances are those of tests/test_lme4_agreement.py's docstring.
# --------------------------------------------------------------------------------------------------

COMPONENTS = {
    "intercept": "var_intercept",
    "covariance": "cov_intercept_slope",
    "slope": "var_slope",
    "residual": "var_residual",
}

LOGLIK_BELOW = 1e-6  # ours may not be below lme4's log-likelihood by more than this
LOGLIK_ATOL = 1e-3  # nor differ from it by more than this
FIXED_RTOL, FIXED_ATOL = 1e-5, 1e-8
VARIANCE_RTOL, VARIANCE_ATOL = 1e-4, 1e-12
SE_RTOL = 1e-4
NATURAL_SE_RTOL = 2e-3
DF_RTOL = 1e-3
P_RTOL, P_ATOL = 1e-3, 1e-10


def close(ours: float, reference: float, rtol: float = 0.0, atol: float = 0.0) -> bool:
    return math.isfinite(ours) and abs(ours - reference) <= max(rtol * abs(reference), atol)


def mismatch(what: str, ours: float, reference: float) -> str:
    relative = abs(ours - reference) / abs(reference) if reference else float("inf")
    return f"{what}: ours {ours:.10g}, R {reference:.10g} (diff {ours - reference:.3g}, relative {relative:.3g})"


def fixed_rows(fit, reference: Mapping[str, Any]):
    assert list(fit.fixed["term"]) == list(reference["fixed"]), "the two fits have different terms"
    for row in fit.fixed.itertuples():
        yield row, reference["fixed"][row.term]


def fixed_effect_problems(fit, reference: Mapping[str, Any]) -> list[str]:
    return [
        mismatch(f"{row.term} estimate", row.estimate, r["estimate"])
        for row, r in fixed_rows(fit, reference)
        if not close(row.estimate, r["estimate"], FIXED_RTOL, FIXED_ATOL)
    ]


def fixed_se_problems(fit, reference: Mapping[str, Any]) -> list[str]:
    problems = []
    for row, r in fixed_rows(fit, reference):
        if not close(row.std_error, r["std_error"], SE_RTOL):
            problems.append(mismatch(f"{row.term} SE", row.std_error, r["std_error"]))
        if not close(row.statistic, r["t"], SE_RTOL, FIXED_ATOL):
            problems.append(mismatch(f"{row.term} t", row.statistic, r["t"]))
    return problems


def df_problems(fit, reference: Mapping[str, Any]) -> list[str]:
    problems = []
    for row, r in fixed_rows(fit, reference):
        if r["df"] is None or not close(row.df, r["df"], DF_RTOL):
            problems.append(mismatch(f"{row.term} df", row.df, math.nan if r["df"] is None else r["df"]))
        if r["p"] is None or not close(row.p_value, r["p"], P_RTOL, P_ATOL):
            problems.append(mismatch(f"{row.term} p", row.p_value, math.nan if r["p"] is None else r["p"]))
    return problems


def variance_problems(fit, reference: Mapping[str, Any]) -> list[str]:
    problems = []
    if len(fit.variance) != (4 if "var_slope" in reference else 2):
        problems.append(
            f"components: ours {list(fit.variance['component'])}, R has var_slope: {'var_slope' in reference}"
        )
    for row in fit.variance.itertuples():
        name = COMPONENTS[row.component]
        if not close(row.estimate, reference[name], VARIANCE_RTOL, VARIANCE_ATOL):
            problems.append(mismatch(name, row.estimate, reference[name]))
    return problems


def variance_se_problems(fit, reference: Mapping[str, Any], boundary: bool = False) -> list[str]:
    """The variance components' SEs against lmerTest's: the delta method on its covariance of (theta,
    sigma) (se_delta_*, SE_RTOL). A component that is zero on the boundary has a zero delta-method SE
    in R, and must be NaN with a warning naming it (or 0) in ours.

    At an interior optimum also against the R script's observed information of the natural parameters
    (se_*, the same quantity by invariance, but a numerical Hessian of numDeriv in those parameters is
    only good to ~1e-4, ~1e-3 next to a singular G: NATURAL_SE_RTOL), where R could compute it.
    """
    problems = []
    for row in fit.variance.itertuples():
        name = COMPONENTS[row.component]
        r = reference.get("se_delta_" + name)
        if r is None:
            problems.append(f"SE {name}: R has none (se_delta_{name})")
        elif r == 0.0 and boundary:
            said = any(row.component in w for w in fit.warnings)
            if not (row.std_error == 0.0 or (math.isnan(row.std_error) and said)):
                problems.append(f"SE {name}: R's is 0 (a zero component), ours {row.std_error} ({fit.warnings})")
        elif not close(row.std_error, r, SE_RTOL):
            problems.append(mismatch(f"SE {name}", row.std_error, r))
        natural = reference.get("se_" + name)
        if not boundary and natural is not None and not close(row.std_error, natural, NATURAL_SE_RTOL):
            problems.append(mismatch(f"SE {name} (R's natural-parameter Hessian)", row.std_error, natural))
    return problems


def likelihood_problems(fit, reference: Mapping[str, Any]) -> list[str]:
    problems = []
    if not (fit.loglik >= reference["loglik"] - LOGLIK_BELOW):
        problems.append(mismatch(f"loglik below lme4's by more than {LOGLIK_BELOW:g}", fit.loglik, reference["loglik"]))
    for name in ("loglik", "aic", "bic"):
        if not close(getattr(fit, name), reference[name], atol=LOGLIK_ATOL):
            problems.append(mismatch(name, getattr(fit, name), reference[name]))
    return problems


def silent_nan_problems(fit) -> list[str]:
    """Every NaN of a result must be named in the fit's warnings (its term or component)."""
    problems = []
    for name in ("loglik", "aic", "bic"):
        if not math.isfinite(getattr(fit, name)):
            problems.append(f"{name} is {getattr(fit, name)}")
    for table, key in ((fit.fixed, "term"), (fit.variance, "component")):
        for row in table.to_dict("records"):
            for column, value in row.items():
                named = any(str(row[key]) in w for w in fit.warnings)
                if column != key and isinstance(value, float) and math.isnan(value) and not named:
                    problems.append(f"{row[key]} {column} is NaN with no warning naming it: {fit.warnings}")
    return problems


# Every comparison of one of our fits with lmerTest's, by name: one parametrised test each case runs.
AGREEMENT_CHECKS = {
    "fixed_effects": fixed_effect_problems,
    "fixed_effect_se_and_t": fixed_se_problems,
    "satterthwaite_df_and_p": df_problems,
    "variance_components": variance_problems,
    "variance_component_se": variance_se_problems,
    "likelihood_and_criteria": likelihood_problems,
    "no_nan_without_a_warning": lambda fit, reference: silent_nan_problems(fit),
}


def agreement_problems(check: str, fit, reference: Mapping[str, Any], boundary: bool = False) -> list[str]:
    """The problems one check finds; ``boundary``: the case is singular in lme4 (a zero variance's SE)."""
    if check == "variance_component_se":
        return variance_se_problems(fit, reference, boundary=boundary)
    return AGREEMENT_CHECKS[check](fit, reference)


def report(problems: list[str]) -> None:
    assert not problems, "\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# Fitting every case of a test module in both implementations
# --------------------------------------------------------------------------------------------------


def fit_or_error(data, method: str, engine: str = "exact"):
    """Our fit, or the exception it raised (reported by the tests of that case, not at collection)."""
    from alliance.stats.engine import fit_growth

    try:
        return fit_growth(data, method=method, engine=engine)
    except Exception as error:  # noqa: BLE001 - reported by the tests of this case
        return error


def fit_cases(cases: Mapping[str, tuple[Any, str]], statsmodels_ids: Sequence[str]) -> dict[str, tuple]:
    """case id -> (data, our exact fit or its exception, R's result, the statsmodels engine's fit or None),
    for ``cases``: case id -> (GrowthData, "ML" or "REML"). R runs in two batches meanwhile."""
    assert r_available(), "R with lmerTest, jsonlite, numDeriv and nlme is needed (.ci/run installs it)"
    r_cases = {case_id: RCase(d.frame, d.terms, d.random_slope, m == "REML") for case_id, (d, m) in cases.items()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        references = submit_in_batches(pool, r_cases)
        ours = {case_id: fit_or_error(d, m) for case_id, (d, m) in cases.items()}
        statsmodels = {case_id: fit_or_error(*cases[case_id], engine="statsmodels") for case_id in statsmodels_ids}
        return {
            case_id: (d, ours[case_id], references[case_id].result(), statsmodels.get(case_id))
            for case_id, (d, _) in cases.items()
        }


def case_result(fits: Mapping[str, tuple], case_id: str):
    """(data, our fit, R's result) of one case; the test fails if either implementation failed."""
    import pytest

    data, ours, reference, _ = fits[case_id]
    if isinstance(ours, Exception):
        pytest.fail(f"our engine raised {type(ours).__name__}: {ours}")
    if "error" in reference:
        pytest.fail(f"R failed: {reference['error']}")
    return data, ours, reference
