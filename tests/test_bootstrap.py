"""The cluster bootstrap: resample refits equal fit_growth on the resampled rows, shards give the same bytes
as one run, failures are counted, intervals agree with R's boot and cover at the nominal rate."""

from __future__ import annotations

import io
import json
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from alliance.data.pipeline import write_csv
from alliance.settings import BootstrapSettings
from alliance.stats import bootstrap, bootstrap_intervals, resampling, variance_tests
from alliance.stats.catalogue import load_catalogue
from alliance.stats.engine import ExactEngine, GrowthData, fit_growth, sufficient_statistics
from alliance.stats.model_data import model_data
from lme4_reference import r_available
from synthetic_cohorts import synthetic_cohort

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = load_catalogue(ROOT / "config" / "models.yaml")


@pytest.fixture(scope="module")
def clean():
    tables = synthetic_cohort()[2]
    return tables.patients, tables.wai_long, tables.outcomes_long


@pytest.fixture(scope="module")
def the_plan(clean):
    """Three predictor models (and their references) of the catalogue: an interior fit, a boundary one, and
    a moderator with a small cell."""
    kept = {"gaf_age", "goals_poor_bsi", "tasks_poor_outcome_paranoid1", "gaf_growth", "goals_growth", "tasks_growth"}
    return bootstrap.plan(replace(CATALOGUE, models=tuple(s for s in CATALOGUE.models if s.id in kept)), *clean)


def materialised(data: GrowthData, draw: np.ndarray) -> GrowthData:
    """The resample as rows: each draw of a patient a patient of its own."""
    patients = pd.unique(data.frame["patient_id"])
    parts = [
        data.frame[data.frame["patient_id"] == patients[i]].assign(patient_id=f"r{k:05d}") for k, i in enumerate(draw)
    ]
    return GrowthData(pd.concat(parts, ignore_index=True), data.terms, data.random_slope)


# goals_poor_bsi: its fit and most of its resamples are on the boundary (zero slope variance);
# tasks_poor_outcome_paranoid1: a moderator with a small cell; gaf_age: an interior fit.
@pytest.mark.parametrize(
    ("model_id", "method"),
    [("goals_poor_bsi", "ML"), ("tasks_poor_outcome_paranoid1", "ML"), ("gaf_age", "ML"), ("goals_poor_bsi", "REML")],
)
def test_resample_refits_equal_fit_growth_on_the_resampled_rows(clean, model_id, method):
    """The stacked search (ML) and the one-by-one refit (REML) against fit_growth on the rows themselves."""
    data = model_data(CATALOGUE.model(model_id), *clean)
    ss = sufficient_statistics(data, by_patient=True)
    full = fit_growth(data, method)
    start = ExactEngine().estimate(data, ss, method == "REML", ()).factor
    rng = np.random.default_rng(11)
    m = len(ss.n)
    draws = [rng.integers(0, m, m) for _ in range(6)]
    fits = resampling.fit_resamples(ss, draws, start, m, reml=method == "REML")
    assert set(fits.status) <= {"converged", "singular"}
    for r, draw in enumerate(draws):
        reference = fit_growth(materialised(data, draw), method)
        # Relative to each parameter's standard error: the engine's own convergence tolerance.
        se = reference.variance["std_error"].fillna(reference.variance["estimate"].abs() + 1e-6).to_numpy()
        assert np.all(np.abs(fits.theta[r] - reference.theta) <= 1e-3 * np.maximum(se, 1e-8)), (r, fits.theta[r])
        beta_se = reference.fixed["std_error"].to_numpy()
        assert np.all(np.abs(fits.beta[r] - reference.fixed["estimate"].to_numpy()) <= 1e-4 * beta_se)
        assert (fits.status[r] == "singular") == reference.singular
    assert full.converged


def test_a_resample_answer_does_not_depend_on_its_batch(clean):
    data = model_data(CATALOGUE.model("goals_poor_outcome"), *clean)
    ss = sufficient_statistics(data, by_patient=True)
    start = fit_growth(data)
    factor = ExactEngine().estimate(data, ss, False, ()).factor
    rng = np.random.default_rng(5)
    m = len(ss.n)
    draws = [rng.integers(0, m, m - k) for k in range(20)]
    together = resampling.fit_resamples(ss, draws, factor, m)
    alone = [resampling.fit_resamples(ss, [draw], factor, m) for draw in draws]
    assert np.array_equal(together.theta, np.vstack([a.theta for a in alone]), equal_nan=True)
    assert np.array_equal(together.beta, np.vstack([a.beta for a in alone]), equal_nan=True)
    assert start.converged


def csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode()


def test_shards_gathered_give_the_bytes_of_one_run(the_plan, tmp_path):
    seed, total = 97, 23
    whole = bootstrap.run_shard(the_plan, seed, range(total))
    pieces = [bootstrap.run_shard(the_plan, seed, range(first, min(first + 5, total))) for first in range(0, total, 5)]
    paths = []
    for number, piece in enumerate(reversed(pieces)):  # gathered in any order
        paths.append(tmp_path / f"{number}.csv")
        write_csv(piece, paths[-1])
    gathered = bootstrap_intervals.gather([pd.read_csv(path) for path in paths], total)
    write_csv(whole, tmp_path / "whole.csv")
    assert csv_bytes(gathered) == csv_bytes(pd.read_csv(tmp_path / "whole.csv"))
    jackknife = bootstrap.run_jackknife(the_plan, 30, seed)
    estimates = bootstrap.full_estimates(the_plan)
    assert csv_bytes(bootstrap_intervals.intervals(gathered, jackknife, estimates, 0.95, seed)) == csv_bytes(
        bootstrap_intervals.intervals(pd.read_csv(tmp_path / "whole.csv"), jackknife, estimates, 0.95, seed)
    )


def test_a_missing_or_repeated_replicate_is_an_error(the_plan):
    one = bootstrap.run_shard(the_plan, 1, range(2))
    with pytest.raises(ValueError, match="missing"):
        bootstrap_intervals.gather([one], 3)
    with pytest.raises(ValueError, match="not 0..1"):
        bootstrap_intervals.gather([one, one], 2)


def test_the_estimates_are_those_of_the_model_runs(the_plan, clean):
    estimates = bootstrap.full_estimates(the_plan)
    for model_id in ("tasks_poor_outcome_paranoid1", "gaf_age", "goals_poor_bsi"):
        fit = fit_growth(model_data(CATALOGUE.model(model_id), *clean))
        reference_id = CATALOGUE.model(model_id).reference
        assert estimates[f"{model_id}/var_slope"] == pytest.approx(fit.variance_of("slope"), rel=1e-5, abs=1e-9)
        term = f"time:{CATALOGUE.model(model_id).predictor_term}"
        estimate = fit.fixed.set_index("term").loc[term, "estimate"]
        assert estimates[f"{model_id}/fixed:{term}"] == pytest.approx(estimate, rel=1e-6)
        assert f"{model_id}/explained_slope_pct" in estimates and reference_id


def test_unfittable_resamples_are_counted_never_dropped(the_plan):
    # Replicates that draw none of the paranoid-PD patients with a poor outcome cannot estimate the moderator.
    key = "tasks_poor_outcome_paranoid1"
    fitted = next(f for f in the_plan.fitted if f.key == key)
    ss = fitted.ss
    cell = np.flatnonzero(ss.parts.XtX[:, 2, 2] > 0)  # patients with the predictor term non-zero
    others = np.setdiff1d(np.arange(len(ss.n)), cell)
    draws = [others, np.concatenate([others, cell])]
    fits = resampling.fit_resamples(ss, draws, fitted.factor, 2 * len(ss.n))
    assert fits.status[0] == "failed" and "zero for every observation" in fits.reasons[0]
    assert fits.status[1] in ("converged", "singular")
    frame = pd.DataFrame({"replicate": [0, 1], f"{key}/status": fits.status, f"{key}/fixed:time": fits.beta[:, 1]})
    row = bootstrap_intervals.intervals(frame, pd.DataFrame(), {f"{key}/fixed:time": 0.0}, 0.95, 1).iloc[0]
    assert (row["replicates"], row["failed"]) == (2, 1)
    assert bootstrap_intervals.fit_status(frame).iloc[0]["failed"] == 1


def test_jackknife_groups_cover_every_patient_once():
    for n, groups in ((10, 20), (1000, 30)):
        parts = bootstrap.jackknife_groups(n, groups, 3)
        assert len(parts) == min(n, groups)
        assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(n))


def test_intervals_agree_with_r_boot():
    """Percentile and BCa from the same replicates and jackknife values as R's boot.ci (boot 1.3)."""
    if not r_available():
        pytest.skip("R with lme4 is not installed (tests/install_r.sh)")
    rng = np.random.default_rng(2)
    data = rng.lognormal(0.0, 0.8, 40)
    replicates = np.array([data[rng.integers(0, 40, 40)].mean() for _ in range(1999)])
    jackknife = np.array([np.delete(data, i).mean() for i in range(40)])
    script = """
    library(boot); library(jsonlite)
    a <- fromJSON(file("stdin"))
    b <- list(t0 = a$t0, t = matrix(a$t, ncol = 1), R = length(a$t), sim = "ordinary", stype = "i",
              data = a$x, statistic = function(d, i) mean(d[i]), strata = rep(1, length(a$x)),
              weights = rep(1 / length(a$x), length(a$x)), call = quote(boot()))
    class(b) <- "boot"
    L <- (length(a$jack) - 1) * (mean(a$jack) - a$jack)
    ci <- boot.ci(b, conf = 0.95, type = c("perc", "bca"), L = L)
    cat(toJSON(list(perc = ci$percent[4:5], bca = ci$bca[4:5]), digits = NA))
    """
    payload = json.dumps({"t0": data.mean(), "t": replicates.tolist(), "x": data.tolist(), "jack": jackknife.tolist()})
    result = subprocess.run(["Rscript", "-e", script], input=payload, capture_output=True, text=True, check=True)
    r = json.loads(result.stdout)
    ours = {
        "perc": bootstrap_intervals.percentile_interval(replicates, 0.95),
        "bca": bootstrap_intervals.bca_interval(replicates, data.mean(), jackknife, 0.95),
    }
    ordered = np.sort(replicates)
    spacing = float(np.max(np.diff(ordered[[40, 60, 1930, 1960]])[[0, 2]]))
    for method in ("perc", "bca"):
        # boot interpolates on the normal scale between order statistics (R + 1) alpha; numpy linearly between
        # (R - 1) alpha: the two differ by at most the distance between neighbouring order statistics.
        assert np.allclose(ours[method], r[method], atol=2 * spacing, rtol=0), (method, ours[method], r[method])
    assert ours["bca"] != ours["perc"]


def simulated_cohort(rng: np.random.Generator, n: int, difference: float) -> GrowthData:
    """Two groups with a slope difference ``difference`` per month, random intercepts and slopes."""
    group = np.arange(n) % 2
    times = np.array([3.0, 9.0, 15.0, 21.0, 27.0, 33.0])
    kept = rng.integers(2, 7, n)
    b0, b1 = rng.normal(0, 0.9, n), rng.normal(0, 0.02, n)
    rows = [(f"p{i:04d}", t, group[i]) for i in range(n) for t in times[: kept[i]]]
    frame = pd.DataFrame(rows, columns=["patient_id", "time", "group"])
    index = frame["patient_id"].str[1:].astype(int).to_numpy()
    slope = 0.03 + difference * frame["group"] + b1[index]
    y = 5 + b0[index] + slope * frame["time"] + rng.normal(0, 0.5, len(frame))
    return GrowthData.from_long(frame["patient_id"], y, frame["time"], {"group": frame["group"]})


def coverage(cohorts: int, replicates: int, seed: int) -> float:
    """The share of simulated cohorts whose 95 % percentile interval holds the true slope difference."""
    rng = np.random.default_rng(seed)
    covered = 0
    for _ in range(cohorts):
        data = simulated_cohort(rng, 80, -0.02)
        ss = sufficient_statistics(data, by_patient=True)
        factor = ExactEngine().estimate(data, ss, False, ()).factor
        m = len(ss.n)
        draws = [rng.integers(0, m, m) for _ in range(replicates)]
        fits = resampling.fit_resamples(ss, draws, factor, m)
        values = fits.beta[:, data.terms.index("time:group")]
        low, high = bootstrap_intervals.percentile_interval(values[np.isfinite(values)], 0.95)
        covered += low <= -0.02 <= high
    return covered / cohorts


def test_percentile_intervals_cover_the_true_slope_difference_quick():
    # 20 cohorts: a coverage of 95 % gives 16 or more covered with probability above 0.99.
    assert coverage(20, 150, seed=1) >= 16 / 20


@pytest.mark.slow
def test_percentile_intervals_cover_the_true_slope_difference():
    assert 0.90 <= coverage(200, 1000, seed=2) <= 0.99


def test_the_variance_test_simulates_the_boundary_null(clean):
    spec = CATALOGUE.model("goals_growth")
    data = model_data(spec, *clean)
    null = variance_tests.null_model(spec, data, reml=False)
    statistics = np.array([variance_tests.simulated_statistic(null, 3, r) for r in range(40)])
    assert np.isfinite(statistics).all() and (statistics >= 0).all()
    # Under the null the statistic follows the 50:50 mixture of chi-square(1) and chi-square(2), mean 1.5
    # (its SD 1.9: the mean of 40 lies within 1.5 +- 0.9 with probability above 0.99).
    assert 0.6 <= statistics.mean() <= 2.4
    table = variance_tests.variance_tests([null], pd.DataFrame({"goals_growth/statistic": statistics}), 3)
    row = table.iloc[0]
    assert list(table.columns) == variance_tests.VARIANCE_TEST_COLUMNS
    assert row["p_mixture"] < row["p_chisq"]
    assert row["p_bootstrap"] == pytest.approx((1 + np.sum(statistics >= row["statistic"])) / 41)


@pytest.mark.parametrize(
    ("replicates", "shard_size", "variance"), [(2000, 500, 500), (20, 10, 10), (7, 3, 100), (5, 10, 0)]
)
def test_shards_cover_every_replicate_once_and_share_the_variance_tests(replicates, shard_size, variance):
    settings = BootstrapSettings(replicates=replicates, shard_size=shard_size, variance_test_replicates=variance)
    shards = range(settings.shards)
    assert [r for k in shards for r in settings.replicate_range(k)] == list(range(replicates))
    assert [r for k in shards for r in settings.variance_range(k)] == list(range(variance))
    sizes = [len(settings.variance_range(k)) for k in shards]
    assert max(sizes) - min(sizes) <= 1  # no shard carries the variance tests alone


def test_models_resting_on_an_instrument_not_collected_are_skipped_with_the_reason(clean):
    patients, wai_long, outcomes_long = clean
    without_wsas = outcomes_long[outcomes_long["measure"] != "wsas"]
    kept = {"goals_poor_wsas", "goals_poor_outcome", "goals_growth"}
    catalogue = replace(CATALOGUE, models=tuple(s for s in CATALOGUE.models if s.id in kept))
    the_plan = bootstrap.plan(catalogue, patients.assign(wsas_poor_outcome=np.nan), wai_long, without_wsas)
    assert the_plan.skipped == (("goals_poor_wsas", "WSAS not collected"),)
    assert [model for model, _ in the_plan.pairs] == ["goals_poor_outcome"]
