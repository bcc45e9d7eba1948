"""Figures 1 and 2: model lines equal the record's fixed effects, byte-identical files, grayscale and disclosure."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from alliance import layout
from alliance.report.figures import (
    FIGURE_2_MODELS,
    MONTHS,
    count_label,
    figure_1,
    figure_2,
    load_records,
    save_figure,
    trajectory,
    write_figures,
)
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import stats

mpl.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


def make_record(terms: list[str], estimates: list[float], variances: list[float], dfs: list[float]) -> dict[str, Any]:
    return {
        "model_id": "fixture",
        "fit": {
            "fixed": [
                {"term": t, "estimate": b, "std_error": math.sqrt(v), "df": d}
                for t, b, v, d in zip(terms, estimates, variances, dfs, strict=True)
            ],
            "fixed_covariance": {"terms": terms, "matrix": np.diag(variances).tolist()},
        },
    }


def predictor_record(predictor: str, intercept: float, slope: float, shift: float, slope_shift: float) -> dict:
    return make_record(
        ["Intercept", "time", predictor, f"time:{predictor}"],
        [intercept, slope, shift, slope_shift],
        [0.02, 1e-5, 0.04, 4e-5],
        [120.0, 75.0, 118.0, 80.0],
    )


@pytest.fixture
def records() -> dict[str, dict]:
    out = {
        "goals_poor_outcome": predictor_record("poor_outcome", 5.1, 0.03, -0.1, -0.03),
        "bonds_poor_outcome": predictor_record("poor_outcome", 5.2, 0.028, -0.2, -0.025),
        "tasks_poor_outcome": predictor_record("poor_outcome", 5.0, 0.035, -0.05, -0.035),
    }
    for i, (model_id, term) in enumerate(FIGURE_2_MODELS.values()):
        predictor = term
        out[model_id] = predictor_record(predictor, 5.0, 0.02, 0.05 * i, 0.01 - 0.02 * i)
    return out


@pytest.fixture
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """12 good (2 with paranoid PD), 8 poor (3 with paranoid PD), 1 without outcome; poor miss later waves."""
    rng = np.random.default_rng(7)
    patients = []
    rows = []
    for i in range(21):
        group = "good" if i < 12 else ("poor" if i < 20 else None)
        paranoid = int(i in (0, 1, 12, 13, 14))
        patients.append({"patient_id": f"P{i:03d}", "outcome_group": group, "paranoid_pd": paranoid})
        waves = (3, 9, 15, 21, 27, 33) if group != "poor" else ((3, 9, 15) if i < 16 else (3, 9))
        for wave in waves:
            values = np.clip(rng.normal(5.5, 0.8, 3), 1, 7)
            rows.append(
                {
                    "patient_id": f"P{i:03d}",
                    "time_months": wave + 0.3,
                    "wave": wave,
                    "version": "WAI-SR",
                    "goals": values[0],
                    "bonds": values[1],
                    "tasks": values[2],
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(patients)


def model_line(fig: Figure, gid: str, panel: int = 0) -> Line2D:
    lines = [line for line in fig.axes[panel].get_lines() if line.get_gid() == gid]
    assert len(lines) == 1
    return lines[0]


def observed_points(fig: Figure, key: str, panel: int = 0) -> list[Line2D]:
    """The marker lines of a group's observed means (not the error-bar caps)."""
    lines = fig.axes[panel].get_lines()
    return [line for line in lines if line.get_gid() == f"observed-{key}" and line.get_marker() in ("o", "s")]


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


# --------------------------------------------------------------------------------------------------
# trajectory()
# --------------------------------------------------------------------------------------------------


def test_trajectory_matches_hand_computation() -> None:
    record = predictor_record("poor_outcome", 5.0, 0.03, -0.2, -0.03)
    months = np.array([0.0, 6.0, 12.0, 36.0])
    good = trajectory(record, {"poor_outcome": 0.0}, months)
    poor = trajectory(record, {"poor_outcome": 1.0}, months)
    np.testing.assert_allclose(good["mean"], 5.0 + 0.03 * months)
    np.testing.assert_allclose(poor["mean"], (5.0 - 0.2) + (0.03 - 0.03) * months)
    # Diagonal covariance: var = sum of variances of the terms in x, weighted by x^2; t with the smallest df used.
    se_good = np.sqrt(0.02 + months**2 * 1e-5)
    np.testing.assert_allclose(good["ci_high"] - good["mean"], stats.t.ppf(0.975, 75.0) * se_good)
    se_poor = np.sqrt(0.02 + 0.04 + months**2 * (1e-5 + 4e-5))
    np.testing.assert_allclose(poor["mean"] - poor["ci_low"], stats.t.ppf(0.975, 75.0) * se_poor)
    assert list(good.columns) == ["month", "mean", "ci_low", "ci_high"]


def test_trajectory_uses_off_diagonal_covariance_and_term_order() -> None:
    record = predictor_record("poor_outcome", 5.0, 0.03, -0.2, -0.03)
    cov = record["fit"]["fixed_covariance"]
    cov["matrix"][0][1] = cov["matrix"][1][0] = -4e-4
    # Store the covariance in another term order: trajectory must reorder it.
    order = [3, 2, 1, 0]
    cov["terms"] = [cov["terms"][i] for i in order]
    cov["matrix"] = np.asarray(cov["matrix"])[np.ix_(order, order)].tolist()
    months = np.array([10.0])
    line = trajectory(record, {"poor_outcome": 0.0}, months)
    se = math.sqrt(0.02 + 100 * 1e-5 + 2 * 10 * -4e-4)
    assert line["ci_high"].iloc[0] - line["mean"].iloc[0] == pytest.approx(stats.t.ppf(0.975, 75.0) * se)


def test_trajectory_requires_covariates_and_covariance() -> None:
    record = predictor_record("poor_outcome", 5.0, 0.03, -0.2, -0.03)
    with pytest.raises(KeyError, match="poor_outcome"):
        trajectory(record, {}, MONTHS)
    broken = copy.deepcopy(record)
    del broken["fit"]["fixed_covariance"]
    with pytest.raises(KeyError, match="fixed_covariance"):
        trajectory(broken, {"poor_outcome": 0.0}, MONTHS)


# --------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------


def test_figure_1_lines_are_the_model_predictions(records: dict, data: tuple) -> None:
    wai_long, patients = data
    fig = figure_1(records, wai_long, patients)
    for panel, subscale in enumerate(("goals", "bonds", "tasks")):
        record = records[f"{subscale}_poor_outcome"]
        slopes = {row["term"]: row["estimate"] for row in record["fit"]["fixed"]}
        for key, poor in (("good", 0.0), ("poor", 1.0)):
            line = model_line(fig, f"model-{key}", panel)
            x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
            np.testing.assert_allclose(x, MONTHS)
            np.testing.assert_allclose(y, trajectory(record, {"poor_outcome": poor}, MONTHS)["mean"])
            by_hand = (slopes["Intercept"] + poor * slopes["poor_outcome"]) + (
                slopes["time"] + poor * slopes["time:poor_outcome"]
            ) * MONTHS
            np.testing.assert_allclose(y, by_hand)


def test_figure_1_grayscale_and_counts(records: dict, data: tuple) -> None:
    wai_long, patients = data
    fig = figure_1(records, wai_long, patients, min_cell=5)
    good, poor = model_line(fig, "model-good"), model_line(fig, "model-poor")
    assert good.get_linestyle() != poor.get_linestyle()
    good_points, poor_points = observed_points(fig, "good"), observed_points(fig, "poor")
    assert good_points[0].get_markerfacecolor() != poor_points[0].get_markerfacecolor()  # filled vs open
    shown = texts(fig)
    # 12 good patients at every wave (minus 1 of 21 without outcome group); poor: 8 at waves 3, 9, 4 at 15.
    assert shown.count("12") == 3 * 6
    assert shown.count("8") == 3 * 2
    assert shown.count("<5") == 3  # poor, wave 15: 4 ratings
    assert "4" not in shown
    # Satisfactory level line.
    assert any(np.allclose(line.get_ydata(), 4.0) for line in fig.axes[0].get_lines() if line.get_gid() is None)


def test_min_cell_suppresses_counts_and_means(records: dict, data: tuple) -> None:
    wai_long, patients = data
    open_fig = figure_1(records, wai_long, patients, min_cell=0)
    assert "4" in texts(open_fig) and "<0" not in texts(open_fig)
    strict = figure_1(records, wai_long, patients, min_cell=10)
    shown = texts(strict)
    assert "8" not in shown and shown.count("<10") == 3 * 3
    # The poor group's observed means: 2 waves drawn with min_cell=5 (8, 8, 4 ratings), none with min_cell=10.
    default = figure_1(records, wai_long, patients, min_cell=5)

    def n_points(fig: Figure) -> int:
        return sum(len(line.get_xdata()) for line in observed_points(fig, "poor"))

    assert n_points(default) == 2
    assert n_points(strict) == 0
    assert count_label(3, 5) == "<5" and count_label(0, 5) == "0" and count_label(5, 5) == "5"


def test_figure_2_lines_come_from_each_cells_model(records: dict, data: tuple) -> None:
    wai_long, patients = data
    fig = figure_2(records, wai_long, patients)
    for key, (model_id, term) in FIGURE_2_MODELS.items():
        line = model_line(fig, f"model-{key}")
        fixed = {row["term"]: row["estimate"] for row in records[model_id]["fit"]["fixed"]}
        by_hand = fixed["Intercept"] + fixed[term] + (fixed["time"] + fixed[f"time:{term}"]) * MONTHS
        np.testing.assert_allclose(line.get_ydata(), by_hand)
    assert len({model_line(fig, f"model-{k}").get_linestyle() for k in FIGURE_2_MODELS}) == 4
    shown = texts(fig)
    assert "<5" in shown  # 2 good-outcome patients with paranoid PD per wave


def declared(folder: Path) -> dict[str, Path]:
    """The files the rule figures declares, in ``folder``, by name."""
    return layout.by_name(folder / name for name in layout.figure_files(layout.FIGURES))


def test_saved_files_are_byte_identical(records: dict, data: tuple, tmp_path: Path) -> None:
    wai_long, patients = data
    first = save_figure(figure_1(records, wai_long, patients), "figure_1", declared(tmp_path / "a"))
    second = save_figure(figure_1(records, wai_long, patients), "figure_1", declared(tmp_path / "b"))
    assert [p.suffix for p in first] == [".png", ".svg", ".pdf"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.suffix
    svg = first[1].read_text(encoding="utf-8")
    pdf = first[2].read_bytes()
    assert "<dc:date>" not in svg
    assert b"CreationDate" not in pdf and b"ModDate" not in pdf
    assert first[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------------------------------
# Real model records: the default synthetic cohort through the pipeline and the catalogue's models
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> tuple[dict, pd.DataFrame, pd.DataFrame, Path]:
    from alliance.data.pipeline import write_json
    from alliance.stats.catalogue import load_catalogue
    from alliance.stats.model_runs import run_models
    from synthetic_cohorts import ROOT as root
    from synthetic_cohorts import synthetic_cohort

    clean = synthetic_cohort()[2]
    catalogue = load_catalogue(root / "config" / "models.yaml")
    fits = tmp_path_factory.mktemp("fits")
    needed = [
        "goals_poor_outcome",
        "bonds_poor_outcome",
        "tasks_poor_outcome",
        *(m for m, _ in FIGURE_2_MODELS.values()),
    ]
    records = run_models(needed, catalogue, clean.patients, clean.wai_long, clean.outcomes_long)
    write_json(records, fits / "wai.json")
    return load_records([fits / "wai.json"], needed), clean.wai_long, clean.patients, fits


def test_real_records_lines_match_fixed_effects(real) -> None:
    loaded, wai_long, patients, _ = real
    fig = figure_1(loaded, wai_long, patients)
    for panel, subscale in enumerate(("goals", "bonds", "tasks")):
        fixed = {row["term"]: row["estimate"] for row in loaded[f"{subscale}_poor_outcome"]["fit"]["fixed"]}
        poor = model_line(fig, "model-poor", panel).get_ydata()
        expected = fixed["Intercept"] + fixed["poor_outcome"] + (fixed["time"] + fixed["time:poor_outcome"]) * MONTHS
        np.testing.assert_allclose(poor, expected)
    fig2 = figure_2(loaded, wai_long, patients)
    fixed = {row["term"]: row["estimate"] for row in loaded["tasks_poor_outcome_paranoid1"]["fit"]["fixed"]}
    term = "poor_outcome[paranoid_pd=1]"
    expected = fixed["Intercept"] + fixed[term] + (fixed["time"] + fixed[f"time:{term}"]) * MONTHS
    np.testing.assert_allclose(model_line(fig2, "model-poor_pd1").get_ydata(), expected)
    # The record's own 95 % CI of the intercept is reproduced at month 0 for the reference group.
    record = loaded["tasks_poor_outcome"]
    row = next(r for r in record["fit"]["fixed"] if r["term"] == "Intercept")
    at_zero = trajectory(record, {"poor_outcome": 0.0}, np.array([0.0]))
    assert at_zero["ci_low"].iloc[0] == pytest.approx(row["ci_low"], rel=0.02)


def test_real_json_is_readable(real) -> None:
    fits = real[3]
    records = json.loads((fits / "wai.json").read_text())
    assert "tasks_poor_outcome" in [record["model_id"] for record in records]


def test_figures_are_written_to_the_declared_files_only(real, tmp_path) -> None:
    """The writer is handed the clean tables' files and the declared outputs; an undeclared output stops it."""
    _, wai_long, patients, fits = real
    clean = tmp_path / "clean"
    clean.mkdir()
    wai_long.to_csv(clean / "wai_long.csv", index=False)
    patients.to_csv(clean / "patients.csv", index=False)
    out = declared(tmp_path / "out")
    written = write_figures([fits / "wai.json"], clean / "wai_long.csv", clean / "patients.csv", out, min_cell=5)
    assert sorted(written) == sorted(out.values())
    del out["figure_2.pdf"]
    with pytest.raises(KeyError, match="figure_2.pdf is not among the files the rule declares"):
        write_figures([fits / "wai.json"], clean / "wai_long.csv", clean / "patients.csv", out, min_cell=5)
