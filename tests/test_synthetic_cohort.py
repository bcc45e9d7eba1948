"""The default synthetic cohort through the same reading, validation and scoring as a real cohort.

Two things are checked: a round trip (the clean data equal the generator's own record of what every
score and derived variable must be) and the descriptive calibration targets of the published study
(config/published/folmo2020.yaml), computed from the clean data the analysis will use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from alliance.data.derive import DAYS_PER_MONTH
from alliance.data.instruments import load_instruments
from synthetic_cohorts import synthetic_cohort

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
PUBLISHED = yaml.safe_load((ROOT / "config" / "published" / "folmo2020.yaml").read_text())
INSTRUMENTS = load_instruments(ROOT / "config" / "instruments.yaml")


@pytest.fixture(scope="module")
def default_cohort():
    return synthetic_cohort()


def test_synthetic_exports_pass_validation(default_cohort):
    _, validated, _ = default_cohort
    assert validated.problems == []
    assert (validated.accounting.rows_read == validated.accounting.rows_kept).all()


def test_round_trip_wai_scores_equal_the_generators_record(default_cohort):
    cohort, validated, clean = default_cohort
    truth = cohort.truth["wai"].copy()
    admission = validated.tables["patients"].set_index("patient_id")["admission_date"]
    truth["time_months"] = (pd.to_datetime(truth["date"]) - truth["patient_id"].map(admission)).dt.days / DAYS_PER_MONTH
    key = ["patient_id", "time_months", "version"]
    expected = truth.sort_values(key).reset_index(drop=True)
    produced = clean.wai_long.sort_values(key).reset_index(drop=True)
    assert len(produced) == len(expected)
    pd.testing.assert_frame_equal(produced[key], expected[key], check_dtype=False)
    for column in ("goals", "bonds", "tasks", "total"):
        np.testing.assert_allclose(produced[column], expected[column].astype(float), rtol=0, atol=1e-12, err_msg=column)
    # The cohort exercises what scoring must get right.
    assert truth[["goals", "bonds", "tasks"]].isna().any(axis=None), "no subscale left unscored by the 3-of-4 rule"


@pytest.mark.parametrize(
    "column",
    [
        "outcome_group",
        "wai_version_group",
        "n_wai",
        "has_final_wai",
        "completed_as_planned",
        "paranoid_pd",
        "mood_disorder",
    ],
)
def test_round_trip_patient_variables_equal_the_generators_record(default_cohort, column):
    cohort, _, clean = default_cohort
    truth = cohort.truth["patients"].set_index("patient_id")[column]
    produced = clean.patients.set_index("patient_id")[column].reindex(truth.index)
    normalise = lambda s: pd.Series(
        [
            ("" if pd.isna(v) else str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) else str(v))
            for v in s
        ],
        index=s.index,
    )
    mismatched = normalise(produced) != normalise(truth)
    assert not mismatched.any(), pd.DataFrame({"produced": produced, "truth": truth})[mismatched]


@pytest.mark.parametrize("column", ["final_gaf", "treatment_months"])
def test_round_trip_numeric_patient_variables(default_cohort, column):
    cohort, _, clean = default_cohort
    truth_column = {"final_gaf": "final_gaf", "treatment_months": "treatment_months"}[column]
    truth = cohort.truth["patients"].set_index("patient_id")[truth_column].astype(float)
    produced = clean.patients.set_index("patient_id")[column].reindex(truth.index).astype(float)
    np.testing.assert_allclose(produced, truth, rtol=0, atol=1e-9)


def test_sample_and_outcome_groups(default_cohort):
    _, _, clean = default_cohort
    sample = PUBLISHED["sample"]
    patients = clean.patients
    assert len(patients) == sample["n_patients"]
    counts = patients["outcome_group"].value_counts()
    assert counts.get("poor", 0) == sample["poor_outcome_n"]
    assert counts.get("", 0) == sample["final_gaf_missing"]
    assert counts.get("good", 0) == PUBLISHED["table_2"]["n"]["good"]


def test_wai_version_groups(default_cohort):
    _, _, clean = default_cohort
    versions = PUBLISHED["wai_versions"]
    counts = clean.patients["wai_version_group"].value_counts()
    assert abs(counts.get("S_only", 0) - versions["s_only_n"]) <= 3
    assert abs(counts.get("SR_only", 0) - versions["sr_only_n"]) <= 3
    assert abs(counts.get("both", 0) - versions["both_n"]) <= 3


def test_missing_wai_pattern(default_cohort):
    _, _, clean = default_cohort
    target = PUBLISHED["missing_data"]
    n_wai = clean.patients["n_wai"]
    assert n_wai.mean() == pytest.approx(target["wai_assessments_mean"], abs=0.15)
    assert n_wai.std() == pytest.approx(target["wai_assessments_sd"], abs=0.25)
    assert n_wai.min() == target["wai_assessments_min"]
    assert n_wai.max() <= target["wai_assessments_max"]
    assert 100 * (n_wai == 1).mean() == pytest.approx(target["only_one_wai_pct"], abs=3)
    assert 100 * (n_wai >= 3).mean() == pytest.approx(target["at_least_three_wai_pct"], abs=4)
    assert 100 * (n_wai >= 4).mean() == pytest.approx(target["at_least_four_wai_pct"], abs=4)
    lacking = 100 * (1 - clean.patients["has_final_wai"].mean())
    assert lacking == pytest.approx(target["lacking_final_wai_pct"], abs=5)


def test_outcome_change(default_cohort):
    _, _, clean = default_cohort
    patients = clean.patients
    for measure in ("gaf", "wsas", "bsi"):
        target = PUBLISHED["outcome_change"][measure]
        baseline, final = patients[f"baseline_{measure}"], patients[f"final_{measure}"]
        scale = 10 if measure != "bsi" else 1  # tolerances in the measure's own units
        assert baseline.mean() == pytest.approx(target["admission_mean"], abs=0.15 * scale)
        assert final.mean() == pytest.approx(target["discharge_mean"], abs=0.2 * scale)
        assert final.std() == pytest.approx(target["discharge_sd"], abs=0.2 * scale)
    for measure in ("wsas", "bsi"):
        missing_final = patients[f"final_{measure}"].isna().sum()
        assert missing_final == pytest.approx(PUBLISHED["missing_data"][f"final_{measure}_missing_n"], abs=4)
    wsas_good = patients["wsas_outcome"].eq("good")
    assert 100 * wsas_good.sum() / patients["wsas_outcome"].ne("").sum() == pytest.approx(
        PUBLISHED["outcome_change"]["wsas_mild_at_end_pct"], abs=6
    )


TABLE_2_COLUMNS = {
    "Paranoid PD": "paranoid_pd",
    "Mood": "mood_disorder",
    "Borderline PD": "borderline",
    "Anxiety": "anxiety",
    "Gender female": None,
    "No work/study at all last year": "no_work_study",
}


@pytest.mark.parametrize("label", list(TABLE_2_COLUMNS))
def test_table_2_prevalences_by_outcome_group(default_cohort, label):
    _, _, clean = default_cohort
    row = next(r for r in PUBLISHED["table_2"]["rows"] if r["label"] == label)
    patients = clean.patients
    values = (
        patients["gender"].eq("female").astype(float)
        if TABLE_2_COLUMNS[label] is None
        else patients[TABLE_2_COLUMNS[label]].astype(float)
    )
    for group in ("good", "poor"):
        in_group = values[patients["outcome_group"].eq(group)]
        assert 100 * in_group.mean() == pytest.approx(row[group], abs=3), group


def test_age_by_outcome_group(default_cohort):
    _, _, clean = default_cohort
    row = next(r for r in PUBLISHED["table_2"]["rows"] if r["label"] == "Age")
    for group in ("good", "poor"):
        ages = clean.patients.loc[clean.patients["outcome_group"].eq(group), "age"].astype(float)
        assert ages.mean() == pytest.approx(row[group][0], abs=1.5)
