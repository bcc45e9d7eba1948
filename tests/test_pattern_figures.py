"""Missing-data pattern figures on a hand-built cohort of 14 patients (7 good, 6 poor, 1 unclassified)."""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from alliance import layout
from alliance.report.pattern_figures import (
    pattern_blocks,
    pattern_map,
    retention_curve,
    retention_table,
    write_pattern_figures,
)
from matplotlib.figure import Figure
from matplotlib.text import Text

mpl.use("Agg")

WAVES = (3, 9, 15, 21, 27, 33)


def declared(folder) -> dict:
    """The files the rule missing_data_figures declares, in ``folder``, by name."""
    return layout.by_name(folder / name for name in layout.figure_files(layout.PATTERN_FIGURES))


PATTERNS = {  # presence over WAVES
    "PID-G01": "111111",
    "PID-G02": "110000",
    "PID-G03": "111100",
    "PID-G04": "100000",
    "PID-G05": "111111",
    "PID-G06": "011000",
    "PID-G07": "111100",
    "PID-P01": "111000",
    "PID-P02": "110000",
    "PID-P03": "111000",
    "PID-P04": "101000",
    "PID-P05": "111000",
    "PID-P06": "000000",
    "PID-U01": "111111",
}
# Sorted by number of assessments (descending), then pattern with present-before-absent from the first wave.
GOOD_SORTED = ["111111", "111111", "111100", "111100", "110000", "011000", "100000"]
POOR_SORTED = ["111000", "111000", "111000", "110000", "101000", "000000"]


def as_matrix(patterns: list[str]) -> np.ndarray:
    return np.array([[int(c) for c in p] for p in patterns], dtype=float)


@pytest.fixture
def cohort() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for pid, pattern in PATTERNS.items():
        for wave, flag in zip(WAVES, pattern, strict=True):
            if flag == "1":
                rows.append({"patient_id": pid, "time_months": wave + 0.5, "wave": wave, "goals": 5.0})
    rows.append({"patient_id": "PID-G01", "time_months": 2.0, "wave": 3, "goals": 4.0})  # second rating, same wave
    rows.append({"patient_id": "PID-P06", "time_months": 3.0, "wave": 3, "goals": math.nan})  # not scored
    rows.append({"patient_id": "PID-P04", "time_months": 45.0, "wave": 45, "goals": 5.0})  # outside the waves
    wai = pd.DataFrame(rows)
    wai["version"] = "S"
    wai["bonds"] = wai["tasks"] = wai["goals"]
    wai["total"] = wai["goals"] * 3
    outcome = {"G": "good", "P": "poor", "U": ""}
    patients = pd.DataFrame(
        {
            "patient_id": list(PATTERNS),
            "outcome_group": [outcome[pid[4]] for pid in PATTERNS],
            "n_wai": [p.count("1") for p in PATTERNS.values()],
            "has_final_wai": [p.endswith("1") for p in PATTERNS.values()],
        }
    )
    return wai, patients


def texts(fig: Figure) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(Text))


def drawn_rows(ax) -> np.ndarray:
    """The map's blocks expanded back to one row per patient (each block is as tall as its patients)."""
    (mesh,) = ax.collections
    edges = mesh.get_coordinates()[:, 0, 1]
    patterns = np.asarray(mesh.get_array()).reshape(len(edges) - 1, -1)
    return np.repeat(patterns, np.diff(edges).astype(int), axis=0)


def test_map_draws_one_block_per_pattern():
    """100,000 patients with 3 patterns: three blocks, not 100,000 rows (a registry-sized cohort's map)."""
    rows = {"1" * 3: 50_000, "110": 30_000, "100": 20_000}
    matrix = pd.DataFrame([list(map(int, p)) for p, n in rows.items() for _ in range(n)], columns=[3, 9, 15])
    patterns, counts = pattern_blocks(matrix.sample(frac=1.0, random_state=1))
    np.testing.assert_array_equal(patterns, [[1, 1, 1], [1, 1, 0], [1, 0, 0]])
    assert counts.tolist() == [50_000, 30_000, 20_000]


def test_map_image_equals_sorted_presence(cohort):
    wai, patients = cohort
    fig = pattern_map(wai, patients, WAVES, min_cell=5)
    good, poor = fig.axes
    np.testing.assert_array_equal(drawn_rows(good), as_matrix(GOOD_SORTED))
    np.testing.assert_array_equal(drawn_rows(poor), as_matrix(POOR_SORTED))
    assert good.get_yticks().size == 0
    assert good.get_ylabel() == "Patients (sorted by pattern)"
    assert "1 patient(s) without outcome classification omitted" in texts(fig)


def test_map_suppresses_small_subgroup(cohort):
    wai, patients = cohort
    fig = pattern_map(wai, patients, WAVES, min_cell=7)
    good, poor = fig.axes
    assert len(good.collections) == 1
    assert len(poor.collections) == 0
    assert "< 7 patients" in [t.get_text() for t in poor.texts]


def test_retention_shares(cohort):
    wai, patients = cohort
    fig = retention_curve(wai, patients, WAVES, min_cell=3)
    good, poor = fig.axes[0].get_lines()
    nan = math.nan
    expected_good = [600 / 7, 600 / 7, 500 / 7, 400 / 7, nan, nan]  # counts 6 6 5 4 2 2 of 7
    expected_poor = [500 / 6, 400 / 6, 400 / 6, 0.0, 0.0, 0.0]  # counts 5 4 4 0 0 0 of 6
    np.testing.assert_allclose(np.asarray(good.get_ydata(), dtype=float), expected_good)
    np.testing.assert_allclose(np.asarray(poor.get_ydata(), dtype=float), expected_poor)
    np.testing.assert_array_equal(np.asarray(good.get_xdata(), dtype=float), WAVES)
    assert good.get_linestyle() != poor.get_linestyle()
    assert poor.get_markerfacecolor() != good.get_markerfacecolor()
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["Good outcome (n = 7)", "Poor outcome (n = 6)"]


def test_retention_min_cell(cohort):
    wai, patients = cohort
    table = retention_table(wai, patients, WAVES, min_cell=5)
    good = table[table["group"] == "good"].set_index("wave")
    assert good["count"].tolist() == [6, 6, 5, 4, 2, 2]
    assert good["share"].isna().tolist() == [False, False, False, True, True, True]
    poor = table[table["group"] == "poor"].set_index("wave")
    assert poor["share"].tolist()[3:] == [0.0, 0.0, 0.0]  # zero is not a small cell
    fig = retention_curve(wai, patients, WAVES, min_cell=7)  # poor (n = 6) drops out entirely
    _, poor_line = fig.axes[0].get_lines()
    assert np.isnan(np.asarray(poor_line.get_ydata(), dtype=float)).all()
    assert "Poor outcome (< 7 patients)" in texts(fig)


def test_saves_are_byte_identical_and_anonymous(cohort, tmp_path):
    wai, patients = cohort
    first = write_pattern_figures(wai, patients, WAVES, declared(tmp_path / "a"), 5)
    second = write_pattern_figures(wai, patients, WAVES, declared(tmp_path / "b"), 5)
    assert sorted(p.name for p in first) == sorted(
        f"{stem}.{ext}" for stem in ("missing_pattern_map", "missing_retention") for ext in ("png", "svg", "pdf")
    )
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    for path in first:
        content = path.read_bytes()
        assert b"PID-" not in content, path.name
    for fig in (pattern_map(wai, patients, WAVES), retention_curve(wai, patients, WAVES)):
        assert "PID-" not in texts(fig)
