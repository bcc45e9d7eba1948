"""Simulation-based power (docs/power.md): correct (a zero effect rejects at about alpha, power grows with the
number of patients), reproducible (seeds from the design, not from the split into jobs), and reported as
power.csv, the power curves and one sentence per finding. No workflow is built here."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
import yaml
from alliance import layout
from alliance.data.pipeline import read_clean, write_csv
from alliance.errors import ConfigError
from alliance.report.power import power_figure, summary_text, write_power_report
from alliance.settings import PowerSettings
from alliance.stats.catalogue import load_catalogue
from alliance.stats.engine import FitFailed, GrowthData, fit_growth
from alliance.stats.model_data import model_data
from alliance.stats.model_runs import collect, run_models
from alliance.stats.power import (
    FINDING_COLUMNS,
    POWER_COLUMNS,
    GeneratingModel,
    PowerError,
    design_power,
    finding_power,
    generating_model,
    load_generating_model,
    monte_carlo_se,
    observed_waves,
    patients_for_power,
    power_grid,
    replicate_rng,
    run_replicate,
    simulate_cohort,
    term_test,
)
from alliance.stats.power_design import Design, check_power_settings, grid, power_designs
from synthetic_cohorts import synthetic_cohort

mpl.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
MONTHS = (3.0, 9.0, 15.0, 21.0, 27.0, 33.0)
TERMS = ("Intercept", "time", "poor_outcome", "time:poor_outcome")
CATALOGUE = load_catalogue(ROOT / "config" / "models.yaml")
FINDINGS = {finding.id: finding for finding in CATALOGUE.robustness.findings}


def model(effect: float = -0.03, share_poor: float = 0.4, patients: int = 150) -> GeneratingModel:
    """A generating model like the synthetic cohort's Goals model: 40 % poor outcome, G and s2 as fitted."""
    poor = (np.arange(patients) < round(share_poor * patients)).astype(float)
    return GeneratingModel(
        finding="goals_poor_slope",
        term="time:poor_outcome",
        terms=TERMS,
        beta=np.array([5.1, 0.03, -0.1, effect]),
        effect=effect,
        effect_from_config=True,
        covariance=np.array([[1.1, -0.004], [-0.004, 0.0004]]),
        residual=0.55,
        covariates=poor[:, None],
        covariate_names=("poor_outcome",),
        months=MONTHS,
    )


# --------------------------------------------------------------------------------------------------
# Correct
# --------------------------------------------------------------------------------------------------


def test_a_zero_effect_rejects_at_about_alpha():
    """200 cohorts of 100 patients without the effect: the rejection rate is within a binomial band of .05
    (its 99.9 % band at 200 replicates is about .005-.11)."""
    result = design_power(model(effect=0.0), Design(100, 6, 0.0), replicates=200, seed=11)
    assert result.failed == 0
    assert 0.01 <= result.power <= 0.10, result


@pytest.mark.slow
def test_a_zero_effect_rejects_at_alpha_over_two_thousand_cohorts():
    result = design_power(model(effect=0.0), Design(155, 6, 0.3), replicates=2000, seed=12)
    assert 0.035 <= result.power <= 0.065, result


def test_power_increases_with_the_number_of_patients():
    small, large = (design_power(model(effect=-0.012), Design(n, 6, 0.0), 80, seed=13) for n in (40, 300))
    assert large.power > small.power + 0.3, (small, large)
    assert large.power >= 0.6


def test_power_falls_with_fewer_waves_and_dropout():
    full = design_power(model(effect=-0.03), Design(100, 6, 0.0), 60, seed=14)
    fewer = design_power(model(effect=-0.03), Design(100, 3, 0.3), 60, seed=14)
    assert full.power > fewer.power


@pytest.mark.parametrize(
    ("design", "method"), [(Design(60, 6, 0.3), "ML"), (Design(80, 3, 0.3), "ML"), (Design(40, 4, 0.0), "REML")]
)
def test_the_test_of_a_replicate_is_exactly_the_fitted_tables(design, method):
    """term_test computes only the finding's row of fit_growth's fixed table, and the same numbers (singular fits
    of 3-wave designs too)."""
    generating = model(effect=-0.01)
    singular = 0
    for replicate in range(8):
        data = simulate_cohort(generating, design, replicate_rng(7, generating.finding, design, replicate))
        fit = fit_growth(data, method)
        row = fit.fixed.set_index("term").loc["time:poor_outcome"]
        test = term_test(data, "time:poor_outcome", method)
        assert (test.estimate, test.std_error, test.df, test.statistic) == (
            row["estimate"], row["std_error"], row["df"], row["statistic"],
        )  # fmt: skip
        assert test.p_value == row["p_value"] and test.converged == fit.converged
        # Started at the generating model's factor (as run_replicate does): the same optimum and test.
        warm = term_test(data, "time:poor_outcome", method, generating.factor)
        assert warm.estimate == pytest.approx(test.estimate, rel=1e-5, abs=1e-9)
        assert warm.df == pytest.approx(test.df, rel=1e-4) and warm.p_value == pytest.approx(test.p_value, abs=1e-6)
        singular += fit.singular
        expected = bool(row["p_value"] < 0.05)
        assert run_replicate(replace(generating, method=method), design, 7, replicate).rejected == expected
    assert design.waves > 3 or singular > 0  # the boundary is exercised


def test_a_search_started_at_the_generating_model_finds_fit_growths_optimum_on_the_boundary():
    """3 waves: most cohorts' slope variance is estimated at zero, where the warm search replaces the full one."""
    generating = model(effect=-0.01)
    design = Design(60, 3, 0.3)
    singular = 0
    for replicate in range(30):
        data = simulate_cohort(generating, design, replicate_rng(11, generating.finding, design, replicate))
        fit = fit_growth(data)
        warm = term_test(data, "time:poor_outcome", "ML", generating.factor)
        assert warm.p_value == pytest.approx(fit.fixed.set_index("term").loc["time:poor_outcome", "p_value"], abs=1e-6)
        singular += fit.singular
    assert singular >= 10


def test_the_test_fails_where_fit_growth_fails():
    data = simulate_cohort(model(share_poor=0.0), Design(20, 3, 0.0), np.random.default_rng(4))
    with pytest.raises(FitFailed) as fitted:
        fit_growth(data)
    with pytest.raises(FitFailed) as tested:
        term_test(data, "time:poor_outcome")
    assert type(tested.value) is type(fitted.value) and str(tested.value) == str(fitted.value)


def test_a_simulated_cohort_is_what_growth_data_from_long_makes_of_it():
    generating = model()
    data = simulate_cohort(generating, Design(30, 4, 0.5), np.random.default_rng(5))
    frame = data.frame
    again = GrowthData.from_long(
        frame["patient_id"].tolist(), frame["y"], frame["time"], {"poor_outcome": frame["poor_outcome"]}
    )
    pd.testing.assert_frame_equal(frame, again.frame)
    assert data.terms == again.terms and data.random_slope


def test_the_dropout_rule_keeps_at_least_two_assessments():
    rng = np.random.default_rng(1)
    for waves in (2, 3, 4, 6):
        counts = observed_waves(20_000, waves, 0.3, rng)
        assert counts.min() >= 2 and counts.max() == waves
        if waves > 2:
            left = counts < waves
            assert abs(left.mean() - 0.3) < 0.015
            # the wave after which a patient leaves is uniform over the 2nd to the next-to-last
            shares = np.bincount(counts[left], minlength=waves)[2:waves] / left.sum()
            assert np.allclose(shares, 1 / (waves - 2), atol=0.02)
        else:
            assert (counts == 2).all()  # nobody can leave before a second assessment
    assert (observed_waves(100, 6, 0.0, rng) == 6).all()


def test_a_simulated_cohort_follows_the_schedule_and_keeps_the_predictors_share():
    generating = model(share_poor=0.07)  # a rare cell, like paranoid PD with a poor outcome
    data = simulate_cohort(generating, Design(4000, 3, 0.0), np.random.default_rng(2))
    frame = data.frame
    assert data.n_patients == 4000 and set(frame["time"]) == {3.0, 9.0, 15.0}
    assert frame.groupby("patient_id").size().eq(3).all()
    assert abs(frame.groupby("patient_id")["poor_outcome"].first().mean() - 0.07) < 0.015
    assert data.terms == TERMS


def test_a_failed_fit_counts_as_not_rejecting_and_is_counted():
    # 10 patients and a 2 % cell: most cohorts have nobody in it, and the design is then rank deficient.
    result = design_power(model(share_poor=0.02), Design(10, 6, 0.0), 20, seed=3)
    assert result.failed > 0 and result.rejections <= result.replicates - result.failed
    assert any("zero for every observation" in reason for reason in result.failures)


# --------------------------------------------------------------------------------------------------
# Reproducible
# --------------------------------------------------------------------------------------------------


def test_results_do_not_depend_on_how_the_designs_are_split_into_jobs():
    designs = grid([20, 30], [6, 3], [0.0, 0.3])
    together = power_grid(model(), designs, 4, seed=5)
    split = pd.concat([power_grid(model(), [d], 4, seed=5) for d in reversed(designs)], ignore_index=True)
    split = split.sort_values(["waves", "dropout", "n_patients"], ascending=[False, True, True], ignore_index=True)
    pd.testing.assert_frame_equal(together, split)


def test_every_replicate_design_and_finding_has_its_own_stream():
    design = Design(100, 6, 0.3)
    draws = {
        (finding, d, r): replicate_rng(1, finding, d, r).random()
        for finding in ("goals_poor_slope", "bonds_poor_slope")
        for d in (design, replace(design, dropout=0.0), replace(design, n_patients=50))
        for r in range(3)
    }
    assert len(set(draws.values())) == len(draws)
    assert replicate_rng(1, "goals_poor_slope", design, 2).random() == draws["goals_poor_slope", design, 2]


# --------------------------------------------------------------------------------------------------
# The generating model, from the cohort's fitted tables
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cohort_files(tmp_path_factory) -> dict[str, Path]:
    """The clean tables of the synthetic cohort and its fitted findings' models, as the build writes them."""
    folder = tmp_path_factory.mktemp("cohort")
    clean = synthetic_cohort()[2]
    model_ids = ["goals_poor_outcome", "tasks_poor_outcome_paranoid1", "goals_growth", "tasks_growth"]
    tables = collect(run_models(model_ids, CATALOGUE, clean.patients, clean.wai_long, clean.outcomes_long))
    frames = {name: getattr(clean, name) for name in ("patients", "wai_long", "outcomes_long")}
    frames |= {name: tables[name] for name in ("fits", "estimates", "variance_components")}
    files = {name: folder / f"{name}.csv" for name in frames}
    for name, frame in frames.items():
        write_csv(frame, files[name])
    return files


def test_the_generating_model_is_the_findings_fitted_model(cohort_files):
    generating = load_generating_model("tasks_paranoid_poor_slope", CATALOGUE, cohort_files, MONTHS)
    estimates = pd.read_csv(cohort_files["estimates"]).query("model_id == 'tasks_poor_outcome_paranoid1'")
    variance = pd.read_csv(cohort_files["variance_components"]).query("model_id == 'tasks_poor_outcome_paranoid1'")
    assert generating.term == "time:poor_outcome[paranoid_pd=1]"
    assert list(generating.terms) == list(estimates["term"])
    assert np.allclose(generating.beta, estimates["estimate"])
    component = dict(zip(variance["component"], variance["estimate"], strict=True))
    covariance = [[component["intercept"], component["covariance"]], [component["covariance"], component["slope"]]]
    assert np.allclose(generating.covariance, covariance)
    assert generating.residual == pytest.approx(component["residual"])
    # one row per patient of the model, the moderated cell at its real share
    fits = pd.read_csv(cohort_files["fits"]).set_index("model_id")
    assert len(generating.covariates) == fits.loc["tasks_poor_outcome_paranoid1", "n_patients"]
    assert 0 < generating.covariates.mean() < 0.3
    assert not generating.effect_from_config


def test_an_effect_from_the_config_replaces_the_fitted_one(cohort_files):
    generating = load_generating_model("goals_poor_slope", CATALOGUE, cohort_files, MONTHS, effect=-0.05)
    assert generating.effect == -0.05 and generating.beta[generating.terms.index("time:poor_outcome")] == -0.05
    assert generating.effect_from_config


def test_a_model_that_was_not_fitted_generates_no_cohorts(cohort_files):
    tables = {name: pd.read_csv(cohort_files[name]) for name in ("fits", "estimates", "variance_components")}
    tables["fits"].loc[tables["fits"]["model_id"] == "goals_poor_outcome", "status"] = "failed"
    data = model_data(CATALOGUE.model("goals_poor_outcome"), *read_clean(cohort_files))
    with pytest.raises(PowerError, match="goals_poor_outcome was not fitted"):
        generating_model(FINDINGS["goals_poor_slope"], CATALOGUE, tables, data, MONTHS)


def test_a_finding_whose_model_was_not_fitted_is_not_simulated_and_says_why(cohort_files, tmp_path, caplog):
    files = dict(cohort_files)
    fits = pd.read_csv(files["fits"])
    fits.loc[fits["model_id"] == "goals_poor_outcome", "status"] = "failed"
    files["fits"] = tmp_path / "fits.csv"
    write_csv(fits, files["fits"])
    designs = grid([30], [3], [0.0])
    with caplog.at_level(logging.INFO, logger="power-test"):
        table = finding_power(
            "goals_poor_slope", CATALOGUE, files, MONTHS, None, designs, 2, 1, logging.getLogger("power-test")
        )
    assert table.empty and list(table.columns) == FINDING_COLUMNS
    assert "goals_poor_slope: not simulated: model goals_poor_outcome was not fitted" in caplog.text
    # the report says so, beside the findings that were simulated
    findings = [FINDINGS["goals_poor_slope"], FINDINGS["tasks_poor_slope"]]
    tables = [tmp_path / "goals.csv", tmp_path / "tasks.csv"]
    write_csv(table, tables[0])
    write_csv(finding_table("tasks_poor_slope", REACHED), tables[1])
    (tmp_path / "out").mkdir()
    write_power_report(tables, findings, 0.8, 0.05, declared(tmp_path / "out"))
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "**Goals: poor outcome, slower growth.** Not simulated: its model could not be fitted" in summary
    assert "**Tasks: poor outcome, slower growth.** About 203 patients" in summary
    assert set(pd.read_csv(tmp_path / "out" / "power.csv")["finding"]) == {"tasks_poor_slope"}


def test_the_jobs_log_shows_every_design_with_its_failed_fits(cohort_files, caplog):
    designs = grid([12, 20], [3], [0.0])
    with caplog.at_level(logging.INFO, logger="power-test"):
        table = finding_power(
            "tasks_paranoid_poor_slope", CATALOGUE, cohort_files, MONTHS, None, designs, 3, 1,
            logging.getLogger("power-test"),
        )  # fmt: skip
    assert list(table.columns) == FINDING_COLUMNS and len(table) == 2
    assert "[1/2 designs] 12 patients, 3 waves, no dropout: power" in caplog.text
    assert "[2/2 designs] 20 patients" in caplog.text
    assert "2 designs x 3 replicates:" in caplog.text and "fits failed" in caplog.text


# --------------------------------------------------------------------------------------------------
# Reported
# --------------------------------------------------------------------------------------------------


def test_monte_carlo_se():
    assert monte_carlo_se(0.8, 200) == pytest.approx(np.sqrt(0.8 * 0.2 / 200))
    assert monte_carlo_se(0.0, 200) == 0.0


def test_the_smallest_number_of_patients_is_interpolated_on_the_grid():
    assert patients_for_power([50, 100, 155], [0.5, 0.7, 0.9], 0.8) == pytest.approx(100 + 0.1 * 55 / 0.2)
    assert patients_for_power([155, 50, 100], [0.9, 0.5, 0.7], 0.8) == pytest.approx(127.5)  # any order
    assert patients_for_power([50, 100], [0.85, 0.95], 0.8) == 50.0  # the grid's smallest already reaches it
    assert patients_for_power([50, 100], [0.5, 0.8], 0.8) == 100.0
    assert patients_for_power([50, 100, 400], [0.2, 0.4, 0.45], 0.8) is None
    # the first point that reaches it, not a later one after a Monte Carlo dip
    assert patients_for_power([50, 100, 155, 250], [0.5, 0.9, 0.78, 0.95], 0.8) == pytest.approx(50 + 0.3 * 50 / 0.4)


def finding_table(finding: str, powers: dict[tuple[int, float], list[float]], effect: float = -0.031) -> pd.DataFrame:
    rows = [
        {
            "finding": finding,
            "n_patients": n,
            "waves": waves,
            "dropout": dropout,
            "effect": effect,
            "power": power,
            "mc_se": monte_carlo_se(power, 200),
            "replicates": 200,
            "seed": 20201013,
            "failed": 0,
            "not_converged": 0,
        }
        for (waves, dropout), values in powers.items()
        for n, power in zip([50, 100, 155, 250, 400], values, strict=True)
    ]
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


REACHED = {
    (6, 0.0): [0.2, 0.5, 0.7, 0.9, 0.95],
    (6, 0.3): [0.15, 0.4, 0.6, 0.78, 0.9],
    (3, 0.0): [0.1, 0.2, 0.3, 0.4, 0.5],
}
NOT_REACHED = {(6, 0.0): [0.1, 0.2, 0.3, 0.4, 0.45], (3, 0.0): [0.85, 0.9, 0.95, 1.0, 1.0]}


def test_the_summary_says_how_many_patients_give_the_target_power():
    table = finding_table("goals_poor_slope", REACHED)
    text = summary_text(table, [FINDINGS["goals_poor_slope"]], target=0.8, alpha=0.05)
    assert (
        "**Goals: poor outcome, slower growth.** About 203 patients give 80 % power to detect the poorer Goals "
        "development in the poor outcome subgroup (a slope difference of -0.031 per month, as fitted; 6 waves, no "
        "dropout; α = .05, 200 simulated cohorts per design)."
    ) in text
    assert "with 6 waves and 30 % dropout about 275 patients" in text  # 250 + (0.8 - 0.78) * 150 / 0.12
    assert "with 3 waves and no dropout even 400 give only 50 %" in text


def test_the_summary_says_when_the_grid_does_not_reach_the_target():
    table = finding_table("tasks_paranoid_poor_slope", NOT_REACHED, effect=-0.08)
    text = summary_text(
        table, [FINDINGS["tasks_paranoid_poor_slope"]], 0.8, 0.05, from_config=["tasks_paranoid_poor_slope"]
    )
    assert "Even 400 patients give only 45 % power to detect the poorer Tasks development with paranoid PD" in text
    assert "(a slope difference of -0.080 per month, as set in power.effects; 6 waves, no dropout;" in text
    assert "with 3 waves and no dropout already 50 patients (85 %)" in text


def test_the_summary_counts_failed_fits():
    table = finding_table("goals_poor_slope", REACHED)
    table.loc[0, "failed"] = 7
    text = summary_text(table, [FINDINGS["goals_poor_slope"]], 0.8, 0.05)
    assert "7 of 3,000 simulated fits failed (counted as not rejecting); see the jobs' logs." in text


def declared(folder: Path) -> dict[str, Path]:
    names = ["power.csv", *layout.figure_files(["figure_power"]), "summary.md"]
    return layout.by_name(folder / name for name in names)


def test_power_csv_figure_and_summary_are_written_where_declared_and_byte_identical(tmp_path):
    findings = [FINDINGS["goals_poor_slope"], FINDINGS["tasks_paranoid_poor_slope"]]
    tables = []
    for finding, powers in zip(findings, (REACHED, NOT_REACHED), strict=True):
        tables.append(tmp_path / f"{finding.id}.csv")
        write_csv(finding_table(finding.id, powers), tables[-1])
    written = {}
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        written[run] = write_power_report(tables, findings, 0.8, 0.05, declared(tmp_path / run))
    assert sorted(p.name for p in written["a"]) == sorted(declared(tmp_path / "a"))
    for first, second in zip(written["a"], written["b"], strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
    power = pd.read_csv(tmp_path / "a" / "power.csv")
    assert list(power.columns) == POWER_COLUMNS == [
        "finding", "n_patients", "waves", "dropout", "effect", "power", "mc_se", "replicates", "seed",
    ]  # fmt: skip
    assert list(power["finding"].unique()) == ["goals_poor_slope", "tasks_paranoid_poor_slope"]
    assert b"CreationDate" not in (tmp_path / "a" / "figure_power.pdf").read_bytes()


def test_the_figure_has_a_panel_per_finding_lines_told_apart_without_colour_and_the_target():
    findings = [FINDINGS["goals_poor_slope"], FINDINGS["tasks_paranoid_poor_slope"], FINDINGS["bonds_poor_slope"]]
    table = pd.concat([finding_table(f.id, REACHED) for f in findings], ignore_index=True)
    fig = power_figure(table, findings, target=0.8)
    panels = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title(loc="left") for ax in panels] == [f.label for f in findings]
    lines = [line for line in panels[0].get_lines() if str(line.get_gid()).startswith("power-")]
    assert len(lines) == 3
    assert len({(line.get_linestyle(), line.get_marker()) for line in lines}) == 3
    assert any(np.allclose(line.get_ydata(), 0.8) for line in panels[0].get_lines() if line.get_gid() is None)
    assert len(panels[0].collections) == 3  # a Monte Carlo band per line


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------


def test_the_grid_of_designs():
    designs = power_designs(PowerSettings(n_patients=(100, 50), waves=(3, 6), dropout=(0.3, 0.0)))
    assert designs[0] == Design(50, 6, 0.0) and designs[-1] == Design(100, 3, 0.3) and len(designs) == 8
    assert designs[0].describe() == "6 waves, no dropout" and designs[-1].describe() == "3 waves, 30 % dropout"


def test_unknown_findings_and_too_many_waves_are_config_errors():
    ids = list(FINDINGS)
    check_power_settings(PowerSettings(findings=("goals_poor_slope",), waves=(3, 6)), ids, MONTHS)
    with pytest.raises(ConfigError, match="goals_poor_slop not among the catalogue's findings") as error:
        check_power_settings(PowerSettings(findings=("goals_poor_slop",)), ids, MONTHS, "config/config.yaml")
    assert error.value.key == "power.findings" and error.value.file == "config/config.yaml"
    with pytest.raises(ConfigError, match="7 waves asked for, but analysis.schedule.wai_months has 6") as error:
        check_power_settings(PowerSettings(waves=(3, 7)), ids, MONTHS)
    assert error.value.key == "power.waves"


def test_the_workflow_stops_at_load_on_a_bad_power_config(tmp_path):
    from alliance.build.project import copy_project

    project = copy_project(ROOT, tmp_path / "project")
    (project / "bad.yaml").write_text(yaml.safe_dump({"power": {"waves": [3, 8]}}))
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "power", "--configfile", "bad.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "key 'power.waves'" in output and "8 waves asked for" in output and "Traceback" not in output


def test_the_power_target_builds_its_outputs_from_a_built_cohort(default_build, tmp_path):
    """`snakemake --cores 2 power` on a built project (a small grid): every finding x design in power.csv,
    the curves and the summary, each job's progress in its log; the default build's files untouched."""
    from conftest import built_copy

    project = built_copy(default_build, tmp_path / "project")
    grid = {"n_patients": [40, 80], "waves": [3, 6], "dropout": [0.0], "replicates": 6}
    grid["findings"] = ["goals_poor_slope", "tasks_paranoid_poor_slope"]  # a subscale and the moderator
    (project / "small_grid.yaml").write_text(yaml.safe_dump({"power": grid}))
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "power", "--configfile", "small_grid.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    ran = set(re.findall(r"^(?:local)?rule (\w+):", result.stdout + result.stderr, flags=re.MULTILINE))
    assert ran == {"power_simulation", "power_report", "power"}
    folder = project / "results" / "synthetic" / "power"
    power = pd.read_csv(folder / "power.csv")
    findings = grid["findings"]
    assert sorted(power["finding"].unique()) == sorted(findings) and len(power) == 4 * len(findings)
    assert set(power["replicates"]) == {6} and power["power"].between(0, 1).all()
    assert all((folder / name).stat().st_size > 0 for name in layout.power_files())
    assert (folder / "summary.md").read_text(encoding="utf-8").count("power to detect") >= len(findings)
    log = (project / "logs" / "synthetic" / "power" / f"{findings[0]}.log").read_text(encoding="utf-8")
    assert log.count("/6 replicates), failed fits") == 4  # a line per design
