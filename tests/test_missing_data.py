"""Missing-data summary, Little's MCAR test and the with/without-final-WAI comparison."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from alliance import layout
from alliance.report.missing_data import compare_with_and_without_final, missing_summary_table, write_missing_data
from alliance.report.table_rows import RowSpec
from alliance.stats.missing_data import em_mvn, little_mcar_test, missing_summary, wave_matrix
from lme4_reference import r_available
from scipy import stats
from synthetic_cohorts import synthetic_cohort

NAN = math.nan


def tiny_patients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "outcome_group": ["good", "good", "poor", "poor", "", "good"],
            "wai_version_group": ["S_only", "SR_only", "both", "both", "none", "SR_only"],
            "n_wai": [1, 1, 3, 4, 0, 5],
            "has_final_wai": [0, 0, 1, 1, 0, 1],
            "final_gaf": [50.0, 60.0, 55.0, 40.0, NAN, 70.0],
            "final_wsas": [NAN, 10.0, 12.0, NAN, NAN, 5.0],
            "final_bsi": [NAN, 1.0, 1.2, 0.5, NAN, 0.3],
            "age": [20, 30, 40, 25, 35, 45],
        }
    )


def tiny_wai() -> pd.DataFrame:
    rows = [
        ("P1", 5.0, 3, "WAI-S", 5.0),
        ("P2", 2.0, 3, "WAI-SR", NAN),  # an empty form: not an assessment
        ("P2", 14.0, 15, "WAI-SR", 4.0),
        *(("P3", t, w, "WAI-S", 4.0 + i) for i, (t, w) in enumerate([(3.0, 3), (9.0, 9), (15.0, 15)])),
        *(("P4", t, w, "WAI-SR", 3.0 + i) for i, (t, w) in enumerate([(3.0, 3), (9.0, 9), (9.5, 9), (21.0, 21)])),
        *(("P6", float(w), w, "WAI-SR", 5.0) for w in (3, 9, 15, 21, 27)),
    ]
    frame = pd.DataFrame(rows, columns=["patient_id", "time_months", "wave", "version", "total"])
    for subscale in ("goals", "bonds", "tasks"):
        frame[subscale] = frame["total"]
    return frame


def tiny_outcomes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2", "P3"],
            "time_months": [0.0, 36.0, 0.0, 0.0],
            "wave": [0, 36, 0, 0],
            "measure": ["gaf", "gaf", "gaf", "wsas"],
            "value": [40.0, 50.0, 45.0, NAN],
        }
    )


# --------------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------------


def test_summary_all_patients_by_hand():
    s = missing_summary(tiny_patients(), tiny_wai())["groups"]["all"]
    counts = [1, 1, 3, 4, 0, 5]
    assert s["n_patients"] == 6
    assert s["wai_assessments_mean"] == round(14 / 6, 4)
    assert s["wai_assessments_sd"] == round(statistics.stdev(counts), 4)
    assert (s["wai_assessments_min"], s["wai_assessments_max"]) == (0, 5)
    assert (s["lacking_final_wai_n"], s["lacking_final_wai_pct"]) == (3, 50.0)
    assert (s["only_one_wai_n"], s["only_one_wai_pct"]) == (2, round(100 * 2 / 6, 4))
    # P1's single WAI at 5 months; P2's at 14 months (its empty form at 2 months does not count).
    assert (s["only_one_within_first_year_n"], s["only_one_within_first_year_pct"]) == (1, 50.0)
    assert (s["at_least_three_wai_n"], s["at_least_three_wai_pct"]) == (3, 50.0)
    assert (s["at_least_four_wai_n"], s["at_least_four_wai_pct"]) == (2, round(100 * 2 / 6, 4))
    assert (s["final_gaf_missing_n"], s["final_wsas_missing_n"], s["final_bsi_missing_n"]) == (1, 3, 2)
    assert s["final_wsas_missing_pct"] == 50.0


def test_summary_by_group_by_hand():
    groups = missing_summary(tiny_patients(), tiny_wai())["groups"]
    assert {k: v["n_patients"] for k, v in groups.items()} == {
        "all": 6,
        "good": 3,
        "poor": 2,
        "S_only": 1,
        "SR_only": 2,
        "both": 2,
    }
    good = groups["good"]  # P1, P2, P6
    assert good["wai_assessments_mean"] == round(7 / 3, 4)
    assert (good["lacking_final_wai_n"], good["only_one_wai_n"], good["only_one_within_first_year_n"]) == (2, 2, 1)
    assert (good["at_least_three_wai_n"], good["at_least_four_wai_n"]) == (1, 1)
    poor = groups["poor"]  # P3, P4
    assert (poor["wai_assessments_min"], poor["wai_assessments_max"], poor["wai_assessments_mean"]) == (3, 4, 3.5)
    assert poor["only_one_within_first_year_pct"] is None  # no patient with a single WAI: no denominator
    assert groups["S_only"]["wai_assessments_sd"] is None
    assert groups["SR_only"]["only_one_within_first_year_n"] == 0


def test_table_suppresses_small_cells():
    summary = missing_summary(tiny_patients(), tiny_wai())
    shown = missing_summary_table(summary, min_cell=0).paper.frame.set_index("Statistic")
    assert shown.loc["Patients (n)"].tolist() == ["6", "3", "2", "1", "2", "2"]
    assert shown.loc["Lacking the final WAI, %", "All"] == "50"
    hidden = missing_summary_table(summary, min_cell=5).paper.frame.set_index("Statistic")
    assert hidden.loc["Patients (n)", "All"] == "6"
    assert (hidden.loc["Patients (n)"].iloc[1:] == "< 5").all()
    # Every percentage rests on fewer than 5 patients (numerator, complement or denominator).
    percentages = hidden[hidden.index.str.endswith("%")]
    assert percentages.isin(["< 5", "\u2013"]).all().all()  # withheld, or not defined (a group of no one)
    assert hidden.loc["WAI assessments per patient, mean (SD)", "All"] == "2.3 (2.0)"  # 6 patients: shown; SD 1.966
    assert hidden.loc["WAI assessments per patient, mean (SD)", "Good"] == "< 5"
    full = missing_summary_table(summary, min_cell=3).full.frame.set_index("Statistic")
    assert full.loc["Lacking the final WAI, n", "All"] == "3"
    assert full.loc["Exactly one WAI, n", "All"] == "< 3"
    assert any(note.startswith("< 3:") for note in missing_summary_table(summary, 3).paper.notes)


def declared(folder: Path) -> dict[str, Path]:
    """The files the rule missing_data declares, in ``folder``, by name."""
    names = [layout.MISSING_DATA_SUMMARY, *layout.table_files(layout.MISSING_DATA_TABLES)]
    return layout.by_name(folder / name for name in names)


def test_written_outputs_are_deterministic(tmp_path):
    rows = [RowSpec("Age", "age", "mean")]
    args = (tiny_patients(), tiny_wai(), tiny_outcomes())
    first = write_missing_data(*args, declared(tmp_path / "a"), min_cell=0, rows=rows)
    second = write_missing_data(*args, declared(tmp_path / "b"), min_cell=0, rows=rows)
    names = sorted(p.name for p in first)
    assert "summary.json" in names and "table_missing_data.tex" in names and "table_missing_final_wai.csv" in names
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    text = (tmp_path / "a" / "summary.json").read_text()
    assert "NaN" not in text and '"mcar_wai_total_by_wave"' in text
    assert text.index('"mcar_wai_total_by_wave"') < text.index('"summary"')  # sorted keys


def test_summary_json_withholds_small_counts(tmp_path):
    """summary.json is publishable: with min_cell 3 no count of 1-2 patients (or its complement) remains."""
    args = (tiny_patients(), tiny_wai(), tiny_outcomes())
    write_missing_data(*args, declared(tmp_path), min_cell=3)
    record = json.loads((tmp_path / "summary.json").read_text())
    everyone = record["summary"]["groups"]["all"]
    assert everyone["n_patients"] == 6 and everyone["lacking_final_wai_n"] == 3  # 3 of 6: both sides >= 3
    assert everyone["only_one_wai_n"] is None and everyone["only_one_wai_pct"] is None  # 2 patients
    assert everyone["at_least_four_wai_n"] is None  # 2 patients with >= 4
    assert all(value is None for value in record["summary"]["groups"]["poor"].values())  # a group of 2
    assert "summary.groups.poor" in record["suppressed"]
    assert record["outcome_patients_by_wave"]["gaf"]["0"] is None  # P1 and P2
    for group in record["summary"]["groups"].values():
        for key, value in group.items():
            if key.endswith("_n") and value is not None:
                assert value == 0 or value >= 3, key  # none is not a small cell (as in the tables)
    open_record = json.loads(
        (
            Path(write_missing_data(*args, declared(tmp_path / "open"), min_cell=0)[0]).parent / "summary.json"
        ).read_text()
    )
    assert open_record["summary"]["groups"]["all"]["only_one_wai_n"] == 2 and open_record["suppressed"] == []


# --------------------------------------------------------------------------------------------------
# Little's MCAR test
# --------------------------------------------------------------------------------------------------

COV = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]])


def simulate(seed: int, n: int = 200) -> np.ndarray:
    return np.random.default_rng(seed).multivariate_normal([0.0, 1.0, 2.0], COV, size=n)


def test_mcar_deletion_rejects_at_the_nominal_rate():
    rejections = 0
    p_values = []
    for seed in range(50):
        x = simulate(seed)
        rng = np.random.default_rng(1000 + seed)
        x[:, 1:][rng.random((x.shape[0], 2)) < 0.2] = np.nan
        result = little_mcar_test(pd.DataFrame(x))
        p_values.append(result["p_value"])
        rejections += result["p_value"] < 0.05
    assert 0.0 <= rejections / 50 <= 0.15
    assert 0.3 < float(np.mean(p_values)) < 0.7  # uniform p: mean near .5


def test_mar_deletion_is_detected():
    x = simulate(7, n=300)
    x[x[:, 0] > 0.3, 1] = np.nan  # x2 missing when x1 is high
    result = little_mcar_test(pd.DataFrame(x))
    assert result["p_value"] < 0.001
    assert result["n_patterns"] == 2 and result["df"] == 3 + 2 - 3


def test_complete_data_em_is_the_sample_moments_and_there_is_no_test():
    x = simulate(3, n=50)
    mu, sigma, _ = em_mvn(x)
    np.testing.assert_allclose(mu, x.mean(axis=0), atol=1e-10)
    np.testing.assert_allclose(sigma, np.cov(x, rowvar=False, ddof=0), atol=1e-10)
    result = little_mcar_test(pd.DataFrame(x))
    assert result["df"] == 0 and result["n_patterns"] == 1 and math.isnan(result["p_value"])
    assert result["chi2"] == pytest.approx(0.0, abs=1e-12)
    assert "nothing to compare" in result["note"]


def test_two_variables_against_closed_form_ml_and_hand_d2():
    """x1 complete, x2 partly missing (monotone): the ML estimates have a closed form (Anderson 1957)."""
    x = np.array(
        [[1.0, 2.1], [2.0, 2.9], [3.0, 4.2], [4.0, 4.8], [5.0, 6.3], [6.0, 6.8], [2.5, NAN], [7.0, NAN], [8.0, NAN]]
    )
    mu, sigma, _ = em_mvn(x, tol=1e-12)
    complete = x[:6]
    m1 = x[:, 0].mean()
    s11 = x[:, 0].var()
    c = np.cov(complete, rowvar=False, ddof=0)
    beta = c[0, 1] / c[0, 0]
    mu2 = complete[:, 1].mean() + beta * (m1 - complete[:, 0].mean())
    s22 = c[1, 1] - beta**2 * c[0, 0] + beta**2 * s11
    np.testing.assert_allclose(mu, [m1, mu2], atol=1e-8)
    np.testing.assert_allclose(sigma, [[s11, beta * s11], [beta * s11, s22]], atol=1e-8)
    # d2 by hand: the complete pattern (6 rows, both variables) and the x1-only pattern (3 rows).
    diff = complete.mean(axis=0) - mu
    d2 = 6 * diff @ np.linalg.inv(sigma) @ diff + 3 * (x[6:, 0].mean() - mu[0]) ** 2 / sigma[0, 0]
    result = little_mcar_test(pd.DataFrame(x, columns=["a", "b"]))
    assert result["df"] == 1 and result["n_patterns"] == 2
    assert result["chi2"] == pytest.approx(d2, rel=1e-7)
    assert result["p_value"] == pytest.approx(stats.chi2.sf(d2, 1), rel=1e-6)


def test_wave_matrix_means_per_wave():
    matrix = wave_matrix(tiny_wai())
    assert list(matrix.columns) == ["3", "9", "15", "21", "27"]
    assert matrix.loc["P4", "9"] == pytest.approx(4.5)  # two assessments at wave 9: 4 and 5
    assert math.isnan(matrix.loc["P1", "9"]) and "P2" in matrix.index and math.isnan(matrix.loc["P2", "3"])


# --------------------------------------------------------------------------------------------------
# With and without the final WAI
# --------------------------------------------------------------------------------------------------


def test_comparison_groups_by_the_final_wai():
    table = compare_with_and_without_final(tiny_patients(), [RowSpec("Age", "age", "mean")], min_cell=0)
    columns = list(table.paper.frame.columns)
    assert columns[1] == "With final WAI (n = 3) mean (SD) or %"
    assert columns[2] == "Without final WAI (n = 3) mean (SD) or %"
    row = table.paper.frame.iloc[0]
    with_final = tiny_patients().query("has_final_wai == 1")["age"]
    assert row.iloc[1].startswith(f"{with_final.mean():.1f}")
    p = stats.ttest_ind(with_final, tiny_patients().query("has_final_wai == 0")["age"]).pvalue
    assert row["p"] == f"{p:.3f}".lstrip("0")
    assert "With final WAI n" in table.full.frame.columns


# --------------------------------------------------------------------------------------------------
# Little's test against an independent implementation in R, on the synthetic cohort's wave matrix
# --------------------------------------------------------------------------------------------------

# naniar::mcar_test is not packaged for Debian; this is its computation (EM estimates of mu and Sigma,
# d2 summed over the missing-data patterns, df = sum of observed variables per pattern - p) written
# in base R from Little (1988), sharing nothing with alliance.stats.missing_data but the data.
R_LITTLE = r"""
args <- commandArgs(trailingOnly = TRUE)
x <- as.matrix(read.csv(args[1], check.names = FALSE))
x <- x[rowSums(!is.na(x)) > 0, , drop = FALSE]
n <- nrow(x); p <- ncol(x)
mu <- colMeans(x, na.rm = TRUE)
S <- diag(apply(x, 2, var, na.rm = TRUE), p)
for (iteration in 1:100000) {
  T1 <- rep(0, p); T2 <- matrix(0, p, p)
  for (i in 1:n) {
    o <- !is.na(x[i, ]); m <- !o; xi <- x[i, ]; C <- matrix(0, p, p)
    if (any(m)) {
      B <- S[m, o, drop = FALSE] %*% solve(S[o, o, drop = FALSE])
      xi[m] <- mu[m] + B %*% (x[i, o] - mu[o])
      C[m, m] <- S[m, m, drop = FALSE] - B %*% S[o, m, drop = FALSE]
    }
    T1 <- T1 + xi; T2 <- T2 + xi %o% xi + C
  }
  mu_new <- T1 / n; S_new <- T2 / n - mu_new %o% mu_new
  change <- max(abs(mu_new - mu), abs(S_new - S)); mu <- mu_new; S <- S_new
  if (change < 1e-12) break
}
pattern <- apply(!is.na(x), 1, paste, collapse = "")
d2 <- 0; df <- -p
for (key in unique(pattern)) {
  rows <- x[pattern == key, , drop = FALSE]
  o <- !is.na(rows[1, ])
  diff <- colMeans(rows[, o, drop = FALSE]) - mu[o]
  d2 <- d2 + nrow(rows) * as.numeric(t(diff) %*% solve(S[o, o, drop = FALSE]) %*% diff)
  df <- df + sum(o)
}
cat(sprintf("%.12g %d %.12g %d\n", d2, df, pchisq(d2, df, lower.tail = FALSE), length(unique(pattern))))
"""


def test_little_test_equals_an_independent_r_implementation(tmp_path):
    assert r_available(), "R is needed (tests/install_r.sh installs it)"
    matrix = wave_matrix(synthetic_cohort()[2].wai_long, "total")
    matrix.to_csv(tmp_path / "matrix.csv", index=False, float_format="%.17g")
    (tmp_path / "little.R").write_text(R_LITTLE)
    result = subprocess.run(
        ["Rscript", str(tmp_path / "little.R"), str(tmp_path / "matrix.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    chi2, df, p_value, n_patterns = result.stdout.split()
    ours = little_mcar_test(matrix, tol=1e-12)
    assert ours["df"] == int(df) and ours["n_patterns"] == int(n_patterns)
    assert ours["chi2"] == pytest.approx(float(chi2), rel=1e-6)
    assert ours["p_value"] == pytest.approx(float(p_value), rel=1e-5)


def test_the_summary_is_written_only_where_the_rule_declares_it(tmp_path):
    files = declared(tmp_path)
    del files[layout.MISSING_DATA_SUMMARY]
    with pytest.raises(KeyError, match="summary.json is not among the files the rule declares"):
        write_missing_data(tiny_patients(), tiny_wai(), tiny_outcomes(), files, min_cell=0)
    assert list(tmp_path.iterdir()) == []


def test_the_statistics_do_not_import_the_report_stage():
    """stats.missing_data computes; its tables and disclosure are the report stage's (imports point down)."""
    import ast

    import alliance.stats.missing_data as statistics_module

    tree = ast.parse(Path(statistics_module.__file__).read_text(encoding="utf-8"))
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name.startswith("alliance.report")], imported
