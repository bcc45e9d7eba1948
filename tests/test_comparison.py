"""The main findings across cohorts (docs/comparison.md): the random-effects meta-analysis against a published
example, each cohort's estimates collected (and the absent ones said), the mixed model pooled over cohorts,
the outputs and their determinism, the manuscript's sourced numbers, and the default target with two
cohorts. No workflow is built here (one dry run)."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from alliance import layout
from alliance.data.pipeline import write_csv
from alliance.report.comparison import comparison_context, write_comparison
from alliance.stats.catalogue import load_catalogue
from alliance.stats.comparison import (
    ESTIMATE_COLUMNS,
    META_COLUMNS,
    POOLED_COLUMNS,
    collect_estimates,
    meta_analysis,
    pooled_data,
    pooled_fit,
    prefixed,
    random_effects,
)
from alliance.stats.model_data import model_data
from alliance.stats.model_runs import ESTIMATES_COLUMNS, FITS_COLUMNS
from synthetic_cohorts import synthetic_cohort

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = load_catalogue(ROOT / "config" / "models.yaml")
FINDINGS = CATALOGUE.robustness.findings
CLEAN = ("patients", "wai_long", "outcomes_long")

# The BCG vaccine trials (Colditz et al., 1994; metafor's dat.bcg): tpos, tneg, cpos, cneg of 13 trials.
BCG = np.array(
    [
        [4, 119, 11, 128],
        [6, 300, 29, 274],
        [3, 228, 11, 209],
        [62, 13536, 248, 12619],
        [33, 5036, 47, 5761],
        [180, 1361, 372, 1079],
        [8, 2537, 10, 619],
        [505, 87886, 499, 87892],
        [29, 7470, 45, 7232],
        [17, 1699, 65, 1600],
        [186, 50448, 141, 27197],
        [5, 2493, 3, 2338],
        [27, 16886, 29, 17825],
    ],
    float,
)


def bcg_log_risk_ratios() -> tuple[np.ndarray, np.ndarray]:
    tpos, tneg, cpos, cneg = BCG.T
    yi = np.log((tpos / (tpos + tneg)) / (cpos / (cpos + cneg)))
    vi = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return yi, vi


def test_the_meta_analysis_reproduces_metafor_on_the_bcg_trials():
    """metafor's rma(yi, vi, method="DL") on dat.bcg: -0.7141 (SE 0.1787), tau^2 0.3088, Q(12) = 152.2330,
    p < .0001. I^2 is checked by hand: for DerSimonian-Laird it is (Q - df) / Q = 92.12 %."""
    yi, vi = bcg_log_risk_ratios()
    result = random_effects(yi, vi)
    assert result.cohorts == 13 and result.q_df == 12 and result.method == "DerSimonian-Laird"
    assert result.estimate == pytest.approx(-0.7141, abs=5e-5)
    assert result.std_error == pytest.approx(0.1787, abs=5e-5)
    assert result.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert result.q == pytest.approx(152.2330, abs=5e-5)
    assert result.q_p_value < 1e-4
    assert result.i2 == pytest.approx(100 * (result.q - 12) / result.q) and result.i2 == pytest.approx(92.12, abs=5e-3)
    # Wald interval with normal quantiles, as metafor's: -1.0644 to -0.3638.
    assert (result.ci_low, result.ci_high) == (pytest.approx(-1.0644, abs=5e-5), pytest.approx(-0.3638, abs=5e-5))


def test_hand_worked_dersimonian_laird_on_two_cohorts():
    """Two estimates 0.1 (variance 0.01) and 0.5 (0.04): w = 100, 25; fixed mean 0.18; Q = 100 x 0.08^2 +
    25 x 0.32^2 = 3.2; tau^2 = (Q - 1) / (125 - 10625 / 125) = 0.055; random weights 1/0.065, 1/0.095."""
    result = random_effects([0.1, 0.5], [0.01, 0.04])
    tau2 = (3.2 - 1) / (125 - (100**2 + 25**2) / 125)
    w = np.array([1 / (0.01 + tau2), 1 / (0.04 + tau2)])
    assert tau2 == pytest.approx(0.055)
    assert result.q == pytest.approx(3.2) and result.tau2 == pytest.approx(tau2)
    assert result.estimate == pytest.approx((w @ [0.1, 0.5]) / w.sum())
    assert result.std_error == pytest.approx(math.sqrt(1 / w.sum()))
    assert result.i2 == pytest.approx(100 * 2.2 / 3.2)


def test_less_heterogeneity_than_chance_gives_tau2_zero_and_the_fixed_effect_estimate():
    """Q < df: DerSimonian-Laird's tau^2 is max(0, (Q - df) / c) = 0, I^2 is 0, and the pooled estimate is
    the inverse-variance (fixed-effect) mean: here 0.05 with SE sqrt(1 / 200)."""
    result = random_effects([0.0, 0.1], [0.01, 0.01])
    assert result.q == pytest.approx(0.5) and result.tau2 == 0.0 and result.i2 == 0.0
    assert result.estimate == pytest.approx(0.05) and result.std_error == pytest.approx(math.sqrt(1 / 200))


def test_one_cohort_pools_nothing_and_says_so():
    one = random_effects([0.2], [0.01])
    assert one.cohorts == 1 and math.isnan(one.estimate) and math.isnan(one.tau2) and "one cohort" in one.note
    none = random_effects([], [])
    assert none.cohorts == 0 and math.isnan(none.q) and none.note


# --------------------------------------------------------------------------------------------------
# Each cohort's estimates
# --------------------------------------------------------------------------------------------------


def model_tables(shift: float, n_patients: int, missing: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    """Tiny models/fits.csv and estimates.csv with every finding's model: its term's estimate is
    ``shift`` plus the finding's position; the models ``missing`` are "not collected"."""
    fits, estimates = [], []
    for index, finding in enumerate(FINDINGS):
        spec = CATALOGUE.model(finding.model)
        status = "not collected" if spec.id in missing else "converged"
        fits.append({"model_id": spec.id, "n_patients": n_patients, "status": status})
        if spec.id not in missing:
            value = shift + index
            estimates.append(
                {"model_id": spec.id, "term": finding.term(spec), "estimate": value, "std_error": 0.1}
                | {"ci_low": value - 0.196, "ci_high": value + 0.196}
            )
    fits_frame = pd.DataFrame(fits).reindex(columns=FITS_COLUMNS)
    return {"fits": fits_frame, "estimates": pd.DataFrame(estimates).reindex(columns=ESTIMATES_COLUMNS)}


def written_tables(tmp_path: Path, name: str, tables: dict[str, pd.DataFrame]) -> dict[str, Path]:
    folder = tmp_path / name / "models"
    folder.mkdir(parents=True)
    paths = {key: folder / f"{key}.csv" for key in tables}
    for key, frame in tables.items():
        write_csv(frame, paths[key])
    return paths


def test_estimates_are_collected_from_each_cohort_s_model_csvs(tmp_path):
    from alliance.stats.comparison import read_model_tables

    paths = {
        "a": written_tables(tmp_path, "a", model_tables(0.0, 40)),
        "b": written_tables(tmp_path, "b", model_tables(0.5, 60)),
    }
    estimates, notes = collect_estimates(CATALOGUE, {c: read_model_tables(p) for c, p in paths.items()})
    assert list(estimates.columns) == ESTIMATE_COLUMNS and not notes
    assert len(estimates) == 2 * len(FINDINGS)
    first = estimates[estimates["finding"] == FINDINGS[0].id]
    assert list(first["cohort"]) == ["a", "b"] and list(first["estimate"]) == [0.0, 0.5]
    assert list(first["n_patients"]) == [40, 60]


def test_a_model_missing_in_one_cohort_gives_no_row_and_a_note(caplog):
    import logging

    absent = FINDINGS[0].model
    cohorts = {"a": model_tables(0.0, 40), "b": model_tables(0.5, 60, missing=(absent,))}
    log = logging.getLogger("test_comparison")
    with caplog.at_level(logging.INFO, logger="test_comparison"):
        estimates, notes = collect_estimates(CATALOGUE, cohorts, log)
    first = estimates[estimates["finding"] == FINDINGS[0].id]
    assert list(first["cohort"]) == ["a"]
    assert notes == [f"{FINDINGS[0].id}: no estimate in cohort b (model {absent} not collected)"]
    assert notes[0] in caplog.text
    meta = meta_analysis(estimates, FINDINGS)
    row = meta.set_index("finding").loc[FINDINGS[0].id]
    assert row["cohorts"] == 1 and math.isnan(row["estimate"]) and "one cohort" in row["note"]
    assert meta.set_index("finding").loc[FINDINGS[1].id, "cohorts"] == 2


# --------------------------------------------------------------------------------------------------
# The pooled model
# --------------------------------------------------------------------------------------------------


def clean_of(seed: int) -> dict[str, pd.DataFrame]:
    clean = synthetic_cohort(seed, 80)[2]
    return {name: getattr(clean, name) for name in CLEAN}


def test_patient_ids_that_collide_across_cohorts_are_kept_apart():
    a, b = clean_of(1), clean_of(2)
    assert set(a["patients"]["patient_id"]) & set(b["patients"]["patient_id"])  # the generator's ids collide
    spec = CATALOGUE.model(FINDINGS[0].model)
    alone = [model_data(spec, *(t[n] for n in CLEAN)).n_patients for t in (a, b)]
    data = pooled_data(CATALOGUE, spec.id, {"a": prefixed(a, "a"), "b": prefixed(b, "b")})
    assert data.n_patients == sum(alone)
    assert {pid.split(":")[0] for pid in data.frame["patient_id"]} == {"a", "b"}
    assert "cohort_b" in data.terms and "time:cohort_b" in data.terms and "cohort_a" not in data.terms


def with_known_goals(tables: dict[str, pd.DataFrame], seed: int, offset: float, difference: float) -> dict:
    """Goals simulated as 4 + offset + (0.02 + offset / 20 + difference x poor) x time + patient effects."""
    rng = np.random.default_rng(seed)
    poor = tables["patients"].set_index("patient_id")["poor_outcome"].astype(float).fillna(0.0)
    wai = tables["wai_long"].copy()
    ids = wai["patient_id"].unique()
    b0 = pd.Series(rng.normal(0, 0.5, len(ids)), index=ids)
    b1 = pd.Series(rng.normal(0, 0.01, len(ids)), index=ids)
    t = wai["time_months"].to_numpy(float)
    slope = 0.02 + offset / 20 + difference * wai["patient_id"].map(poor).to_numpy(float) + wai["patient_id"].map(b1)
    wai["goals"] = 4 + offset + wai["patient_id"].map(b0) + slope * t + rng.normal(0, 0.3, len(wai))
    return tables | {"wai_long": wai}


def test_the_pooled_model_recovers_a_known_slope_difference_across_two_cohorts():
    difference = -0.05
    cohorts = {
        "site_a": prefixed(with_known_goals(clean_of(1), 11, 0.0, difference), "site_a"),
        "site_b": prefixed(with_known_goals(clean_of(2), 12, 0.8, difference), "site_b"),
    }
    row = pooled_fit(FINDINGS[0], CATALOGUE, cohorts)
    assert row["term"] == "time:poor_outcome" and row["n_cohorts"] == 2 and row["note"] == ""
    assert abs(row["estimate"] - difference) < 3 * row["std_error"]
    assert row["ci_low"] < difference < row["ci_high"] and row["p_value"] < 0.001
    fit_b = pooled_data(CATALOGUE, FINDINGS[0].model, cohorts)
    assert fit_b.frame.groupby("cohort_site_b")["patient_id"].nunique().to_dict().keys() == {0.0, 1.0}
    alone = pooled_fit(FINDINGS[0], CATALOGUE, {"site_a": cohorts["site_a"]})
    assert math.isnan(float(alone.get("estimate", math.nan))) and "fewer than two" in str(alone["note"])


# --------------------------------------------------------------------------------------------------
# The outputs
# --------------------------------------------------------------------------------------------------


# The outputs' tests use two findings, to stay quick.
TWO = replace(CATALOGUE, robustness=replace(CATALOGUE.robustness, findings=FINDINGS[:2]))


def write_two_cohorts(tmp_path: Path, out: str) -> tuple[list[Path], dict[str, Path]]:
    models, clean = {}, {}
    for index, cohort in enumerate(("a", "b")):
        models[cohort] = written_tables(tmp_path / out, cohort, model_tables(0.1 * index, 80))
        folder = tmp_path / out / cohort / "clean"
        folder.mkdir(parents=True)
        clean[cohort] = {name: folder / f"{name}.csv" for name in CLEAN}
        for name, frame in clean_of(index + 1).items():
            write_csv(frame, clean[cohort][name])
    target = tmp_path / out / "comparison"
    target.mkdir()
    files = {name: target / name for name in layout.comparison_files(f.id for f in FINDINGS[:2])}
    return write_comparison(TWO, models, clean, files), files


def test_the_outputs_have_their_columns_and_are_written_identically_twice(tmp_path):
    written, files = write_two_cohorts(tmp_path, "first")
    _, files_again = write_two_cohorts(tmp_path, "second")
    assert sorted(p.name for p in written) == sorted(files) and len(files) == 3 + 3 * 2
    assert files["forest_goals_poor_slope.svg"].name in {p.name for p in written}
    for name, path in files.items():
        assert path.read_bytes() == files_again[name].read_bytes(), name
    assert list(pd.read_csv(files["estimates.csv"]).columns) == ESTIMATE_COLUMNS
    meta = pd.read_csv(files["meta_analysis.csv"])
    assert list(meta.columns) == META_COLUMNS and (meta["cohorts"] == 2).all()
    pooled = pd.read_csv(files["pooled_models.csv"])
    assert list(pooled.columns) == POOLED_COLUMNS and (pooled["n_cohorts"] == 2).all()
    context = comparison_context(files["meta_analysis.csv"], files["pooled_models.csv"], files["estimates.csv"])
    first = context[FINDINGS[0].id]
    assert first["meta"]["estimate"].file == "../comparison/meta_analysis.csv"  # beside the cohort's results
    assert first["meta"]["estimate"].key == f"finding={FINDINGS[0].id}; column=estimate"
    assert first["meta"]["estimate"].value == pytest.approx(meta.loc[0, "estimate"])
    assert first["meta"]["method"] == "DerSimonian-Laird"
    assert first["cohorts"]["b"]["estimate"].key == f"cohort=b; finding={FINDINGS[0].id}; column=estimate"
    assert first["pooled"]["n_cohorts"].value == 2


def test_two_configured_cohorts_put_the_comparison_in_the_default_build(tmp_path):
    """A dry run with two simulated cohorts plans the comparison (with one cohort the default target leaves
    it out: cohort_outputs in workflow/rules/common.smk)."""
    from alliance.build.project import copy_project

    project = copy_project(ROOT, tmp_path / "project")
    cohort = {"simulate": {"seed": 1, "n_patients": 80}, "disclosure": {"min_cell": 0}}
    two = {"cohorts": {"north": cohort, "south": cohort | {"simulate": {"seed": 2, "n_patients": 80}}}}
    (project / "two.yaml").write_text(yaml.safe_dump(two))
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--configfile", "two.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "rule comparison:" in output and "results/comparison/meta_analysis.csv" in output
    assert "results/comparison/forest_goals_poor_slope.pdf" in output


def test_the_manuscript_context_names_the_findings_and_the_text_reports_the_pooled_estimates(tmp_path):
    """With two cohorts the results text gets a paragraph across cohorts, every number sourced."""
    from alliance.report.manuscript import numbers, render

    _, files = write_two_cohorts(tmp_path, "manuscript")
    tables = [files[f"{name}.csv"] for name in layout.COMPARISON_TABLES]
    catalogue = load_catalogue(ROOT / "config" / "models.yaml")
    context = numbers.across_cohorts(layout.by_name(tables), catalogue)
    assert context[FINDINGS[0].id]["name"] == FINDINGS[0].text
    template = ROOT / "manuscript" / "results.md.j2"
    paragraph = template.read_text(encoding="utf-8").split("{% if comparison %}")[1].split("{% endif %}")[0]
    (tmp_path / "across.md.j2").write_text("{% if comparison %}" + paragraph + "{% endif %}", encoding="utf-8")
    rendered = render.render([tmp_path / "across.md.j2"], "across.md.j2", {"comparison": context, "tables": {}}, 0.05)
    assert rendered.text.count("the random-effects estimate over 2 cohorts was") == 2
    assert "*I*² =" in rendered.text and "nan" not in rendered.text
