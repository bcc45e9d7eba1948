"""The model engine: catalogue, model data, likelihood algebra, fitting and the collected outputs.

Agreement with lme4/lmerTest is in test_lme4_agreement.py; here the engine is checked against a
brute-force dense implementation and against statsmodels' own log-likelihood.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from alliance.stats.catalogue import CatalogueError, catalogue_from_mapping, load_catalogue
from alliance.stats.engine import GrowthData, covariance_matrix, fit_growth, sufficient_statistics
from alliance.stats.model_data import model_data
from alliance.stats.model_runs import collect, run_model
from alliance.stats.reference_engine import beta_covariance, profiled_loglik

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = load_catalogue(ROOT / "config" / "models.yaml")


def simulated_growth(seed: int = 3, n_patients: int = 60, slope_sd: float = 0.05) -> GrowthData:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_patients):
        group = i % 2
        b0, b1 = rng.normal(0, 0.8), rng.normal(0, slope_sd)
        for t in sorted(rng.choice(np.arange(0, 36, 3), size=rng.integers(1, 7), replace=False)):
            y = 5 + b0 + (0.03 - 0.02 * group + b1) * t + rng.normal(0, 0.5)
            rows.append((f"p{i:03d}", y, float(t), group))
    frame = pd.DataFrame(rows, columns=["patient_id", "y", "time", "group"])
    return GrowthData.from_long(frame.patient_id, frame.y, frame.time, {"group": frame.group})


def dense_loglik(data: GrowthData, theta: np.ndarray, reml: bool) -> float:
    """The textbook formula with the full n x n V matrix: slow, obviously right."""
    frame = data.frame
    X = frame[list(data.terms)].to_numpy(float)
    y = frame["y"].to_numpy(float)
    Z = np.column_stack([np.ones(len(frame)), frame["time"]]) if data.random_slope else np.ones((len(frame), 1))
    G, s2 = covariance_matrix(theta, Z.shape[1])
    V = s2 * np.eye(len(frame))
    for pid in frame["patient_id"].unique():
        idx = np.flatnonzero(frame["patient_id"].to_numpy() == pid)
        V[np.ix_(idx, idx)] += Z[idx] @ G @ Z[idx].T
    Vi = np.linalg.inv(V)
    beta = np.linalg.solve(X.T @ Vi @ X, X.T @ Vi @ y)
    r = y - X @ beta
    n, p = len(y), X.shape[1]
    ll = -0.5 * (np.linalg.slogdet(V)[1] + r @ Vi @ r)
    if reml:
        return ll - 0.5 * ((n - p) * np.log(2 * np.pi) + np.linalg.slogdet(X.T @ Vi @ X)[1])
    return ll - 0.5 * n * np.log(2 * np.pi)


@pytest.mark.parametrize("reml", [False, True])
def test_sufficient_statistics_likelihood_equals_the_dense_formula(reml):
    data = simulated_growth()
    ss = sufficient_statistics(data)
    for theta in (np.array([0.6, -0.01, 0.003, 0.3]), np.array([1.0, 0.0, 0.0, 0.5])):  # incl. a singular G
        assert profiled_loglik(ss, theta, reml) == pytest.approx(dense_loglik(data, theta, reml), rel=1e-10)


def test_beta_covariance_equals_the_dense_gls():
    data = simulated_growth()
    theta = np.array([0.6, -0.01, 0.003, 0.3])
    beta, cov = beta_covariance(sufficient_statistics(data), theta)
    frame = data.frame
    X = frame[list(data.terms)].to_numpy(float)
    Z = np.column_stack([np.ones(len(frame)), frame["time"]])
    G, s2 = covariance_matrix(theta, 2)
    V = s2 * np.eye(len(frame))
    for pid in frame["patient_id"].unique():
        idx = np.flatnonzero(frame["patient_id"].to_numpy() == pid)
        V[np.ix_(idx, idx)] += Z[idx] @ G @ Z[idx].T
    dense_cov = np.linalg.inv(X.T @ np.linalg.inv(V) @ X)
    np.testing.assert_allclose(cov, dense_cov, rtol=1e-9)
    np.testing.assert_allclose(beta, dense_cov @ X.T @ np.linalg.solve(V, frame["y"].to_numpy()), rtol=1e-9)


@pytest.mark.parametrize("method", ["ML", "REML"])
def test_fit_reaches_at_least_statsmodels_likelihood(method):
    from statsmodels.regression.mixed_linear_model import MixedLM

    data = simulated_growth()
    result = fit_growth(data, method)
    frame = data.frame
    model = MixedLM(frame.y, frame[list(data.terms)], groups=frame.patient_id, exog_re=frame[["Intercept", "time"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = model.fit(reml=method == "REML", method=["lbfgs"])
    assert reference.converged
    assert result.loglik >= reference.llf - 1e-8
    assert result.loglik == pytest.approx(reference.llf, abs=1e-3)
    np.testing.assert_allclose(result.fixed["estimate"], np.asarray(reference.fe_params), rtol=1e-3, atol=1e-5)
    assert result.converged
    assert result.aic == pytest.approx(-2 * result.loglik + 2 * (4 + 4))


def test_inference_is_self_consistent():
    result = fit_growth(simulated_growth(), "ML")
    fixed = result.fixed
    np.testing.assert_allclose(fixed["statistic"], fixed["estimate"] / fixed["std_error"])
    assert (fixed["df"] > 1).all() and (fixed["df"] < result.n_obs).all()
    assert ((fixed["ci_low"] < fixed["estimate"]) & (fixed["estimate"] < fixed["ci_high"])).all()
    from scipy import stats

    np.testing.assert_allclose(fixed["p_value"], 2 * stats.t.sf(abs(fixed["statistic"]), fixed["df"]))
    variance = result.variance.set_index("component")
    assert list(variance.index) == ["intercept", "covariance", "slope", "residual"]
    assert (variance.loc[["intercept", "slope", "residual"], "estimate"] > 0).all()
    assert (variance["std_error"] > 0).all()


def test_the_poor_outcome_slope_deficit_is_found_in_simulated_data():
    result = fit_growth(simulated_growth(n_patients=300, slope_sd=0.01), "ML")
    row = result.fixed.set_index("term").loc["time:group"]
    assert row.estimate == pytest.approx(-0.02, abs=0.01)
    assert row.p_value < 0.05


def test_catalogue_rejects_inconsistent_models():
    spec = yaml.safe_load((ROOT / "config" / "models.yaml").read_text())
    spec["models"].append({"id": "x", "outcome": "tasks", "reference": "nope"})
    with pytest.raises(CatalogueError, match="reference 'nope'"):
        catalogue_from_mapping(spec)
    spec["models"][-1] = {"id": "tasks_growth", "outcome": "tasks"}
    with pytest.raises(CatalogueError, match="duplicate"):
        catalogue_from_mapping(spec)
    spec["models"][-1] = {"id": "y", "outcome": "alliance"}
    with pytest.raises(CatalogueError, match="unknown outcome"):
        catalogue_from_mapping(spec)


def test_catalogue_covers_every_row_of_tables_3_and_4():
    published = yaml.safe_load((ROOT / "config" / "published" / "folmo2020.yaml").read_text())
    for table in ("table_3", "table_4"):
        rows = [m for m in CATALOGUE.models if m.table == table]
        assert len(rows) == len(published[table])
        for model, row in zip(rows, published[table]):
            assert model.outcome == row["outcome"]
            assert (model.predictor or None) == row["predictor"]


@pytest.fixture(scope="module")
def clean_tables():
    patients = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c", "d"],
            "poor_outcome": [0, 1, None, 1],
            "paranoid_pd": [1, 1, 0, 0],
            "outcome_group": ["good", "poor", "", "poor"],
        }
    )
    wai_long = pd.DataFrame(
        {
            "patient_id": ["a", "a", "b", "c", "d", "d"],
            "time_months": [3.0, 9.0, 3.0, 3.0, 3.0, 9.0],
            "tasks": [5.0, 5.5, 4.0, 6.0, np.nan, 3.0],
        }
    )
    outcomes_long = pd.DataFrame(columns=["patient_id", "time_months", "wave", "measure", "value"])
    return patients, wai_long, outcomes_long


def test_model_data_complete_cases_moderator_and_subset(clean_tables):
    patients, wai_long, outcomes_long = clean_tables
    data = model_data(CATALOGUE.model("tasks_poor_outcome"), patients, wai_long, outcomes_long)
    assert data.terms == ("Intercept", "time", "poor_outcome", "time:poor_outcome")
    assert sorted(data.patients) == ["a", "b", "d"]  # c has no outcome group; d's missing score is not an observation
    assert data.n_obs == 4
    moderated = model_data(CATALOGUE.model("tasks_poor_outcome_paranoid1"), patients, wai_long, outcomes_long)
    values = moderated.frame.groupby("patient_id")["poor_outcome[paranoid_pd=1]"].first()
    assert values.to_dict() == {"a": 0.0, "b": 1.0, "d": 0.0}  # d is poor but not paranoid
    good_only = model_data(CATALOGUE.model("tasks_good_only"), patients, wai_long, outcomes_long)
    assert good_only.patients == frozenset({"a"})


def test_failed_fit_is_reported_not_dropped(clean_tables):
    patients, wai_long, outcomes_long = clean_tables
    record = run_model(CATALOGUE.model("tasks_good_only"), CATALOGUE, patients, wai_long, outcomes_long)
    assert "too few cases" in record["fit"]["failed"]
    tables = collect([record])
    (row,) = tables["fits"].itertuples(index=False)
    assert row.model_id == "tasks_good_only" and not row.converged and "fit failed" in row.warnings
    assert tables["estimates"].empty


def test_models_of_one_outcome_in_one_process_equal_separate_fits(clean_tables):
    """run_models (one job per outcome) shares a reference fitted on the same patients; each record is
    the one run_model gives alone, and the collection keeps catalogue order and refuses a missing model."""
    from alliance.stats.model_runs import in_catalogue_order, run_models

    frame = simulated_growth(n_patients=40).frame
    people = frame.groupby("patient_id")["group"].first().reset_index()
    patients = people.rename(columns={"group": "poor_outcome"}).assign(
        paranoid_pd=lambda p: (p.index % 3 == 0).astype(int), outcome_group="good"
    )
    wai_long = frame.rename(columns={"time": "time_months", "y": "tasks"})[["patient_id", "time_months", "tasks"]]
    outcomes_long = clean_tables[2]
    ids = ["tasks_poor_outcome", "tasks_growth", "tasks_paranoid_pd"]
    seen = []
    together = run_models(ids, CATALOGUE, patients, wai_long, outcomes_long, lambda i, n, r: seen.append((i, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    for record in together:
        alone = run_model(CATALOGUE.model(record["model_id"]), CATALOGUE, patients, wai_long, outcomes_long)
        assert record == alone
    subset = type(CATALOGUE)(CATALOGUE.settings, tuple(CATALOGUE.model(i) for i in ids))
    ordered = in_catalogue_order([together[1:], together[:1]], subset)
    assert [r["model_id"] for r in ordered] == ids
    with pytest.raises(ValueError, match="missing \\['tasks_growth'\\]"):
        in_catalogue_order([[together[0]], [together[2]]], subset)
    with pytest.raises(ValueError, match="fitted by two jobs"):
        in_catalogue_order([together, together[:1]], subset)


def test_clean_tables_are_read_back_exactly_as_written(tmp_path):
    """A patient named 'NA' (or 'None', 'null') keeps its id in every clean table read back; only an empty
    cell is missing (issue 12: pandas' default NA strings used to blank these ids in wai_long)."""
    from alliance.data.pipeline import read_clean, write_csv

    ids = ["NA", "None", "null", "p4"]
    patients = pd.DataFrame(
        {"patient_id": ids, "poor_outcome": [1, 0, "", 1], "outcome_group": ["poor", "good", "", "poor"]}
    )
    patients["wsas_outcome"] = ""
    patients["bsi_outcome"] = "NA"  # not a vocabulary value, but text must stay text
    wai_long = pd.DataFrame({"patient_id": ids, "time_months": [0.0, 3.0, 6.0, ""], "tasks": [5.0, "", 4.0, 3.0]})
    outcomes_long = pd.DataFrame(
        {"patient_id": ids, "time_months": [0.0] * 4, "wave": [0] * 4, "measure": ["gaf"] * 4, "value": [60] * 4}
    )
    paths = {}
    for name, frame in (("patients", patients), ("wai_long", wai_long), ("outcomes_long", outcomes_long)):
        paths[name] = tmp_path / f"{name}.csv"
        write_csv(frame, paths[name])
    back_patients, back_wai, back_outcomes = read_clean(paths)
    for frame in (back_patients, back_wai, back_outcomes):
        assert list(frame["patient_id"]) == ids
    assert list(back_patients["bsi_outcome"]) == ["NA"] * 4
    assert back_wai["tasks"].isna().tolist() == [False, True, False, False]
    assert back_wai["time_months"].isna().tolist() == [False, False, False, True]


def test_catalogue_problems_name_the_file_and_the_key(tmp_path):
    spec = yaml.safe_load((ROOT / "config" / "models.yaml").read_text(encoding="utf-8"))
    spec["models"][2]["predictor_typo"] = "poor_outcome"
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert caught.value.file == str(path) and caught.value.key == "models[2]"
    assert "unknown key(s) predictor_typo" in str(caught.value)
    spec["models"][2].pop("predictor_typo")
    spec["robustness"]["variants"][1]["controls"] = [{"column": "wai_version", "centred": True}]
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"key 'robustness.variants\[1\].controls\[0\]': control .* unknown keys"):
        load_catalogue(path)
    path.write_text("models: [", encoding="utf-8")
    with pytest.raises(CatalogueError, match="cannot read the model catalogue"):
        load_catalogue(path)
