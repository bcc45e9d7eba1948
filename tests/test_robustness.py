"""Pattern-mixture and WAI-version controls, and the robustness table (issue 4, items 4-7).

The controls are ordinary catalogue models generated from config/models.yaml's `robustness` section;
these tests check the generation, the model data each control produces (indicators, time-varying and
centred covariates), the common-items scoring, the pattern-averaged slopes and their delta-method SE
(against a re-parametrised refit), the tables, and that the controls detect a version effect planted
in a simulated cohort and find none where there is none.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from alliance.data.instruments import InstrumentConfigError, instruments_from_mapping, load_instruments
from alliance.data.pipeline import clean_validated, validate_directory
from alliance.data.scoring import score_wai
from alliance.data.synthetic import simulate_cohort, write_exports
from alliance.data.synthetic_parameters import load_parameters
from alliance.report.formatting import to_markdown
from alliance.report.robustness import (
    pattern_mixture_table,
    robustness_rows,
    robustness_table,
    wai_version_table,
)
from alliance.settings import AnalysisSettings
from alliance.stats.catalogue import (
    CatalogueError,
    ControlSpec,
    ModelSpec,
    catalogue_from_mapping,
    holds,
    load_catalogue,
    variant_model_id,
)
from alliance.stats.engine import fit_growth
from alliance.stats.model_data import ModelDataError, model_data
from alliance.stats.model_runs import collect, pattern_averaged, run_model
from lme4_reference import r_available
from synthetic_cohorts import synthetic_cohort

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
INSTRUMENTS_SPEC = yaml.safe_load((ROOT / "config" / "instruments.yaml").read_text())
INSTRUMENTS = load_instruments(ROOT / "config" / "instruments.yaml")
CATALOGUE_SPEC = yaml.safe_load((ROOT / "config" / "models.yaml").read_text())
CATALOGUE = load_catalogue(ROOT / "config" / "models.yaml")


@pytest.fixture(scope="module")
def clean():
    return synthetic_cohort()[2]


# --------------------------------------------------------------------------------------------------
# The catalogue's robustness section
# --------------------------------------------------------------------------------------------------


def test_every_finding_has_a_model_under_every_applicable_variant():
    for finding in CATALOGUE.robustness.findings:
        for variant in CATALOGUE.robustness.variants:
            model_id = variant_model_id(CATALOGUE, finding.model, variant.id)
            base = CATALOGUE.model(finding.model)
            if variant.replace_predictor and base.predictor not in variant.replace_predictor:
                assert model_id is None, (finding.id, variant.id)
                continue
            assert model_id is not None, (finding.id, variant.id)
            spec = CATALOGUE.model(model_id)
            assert spec.controls[: len(base.controls)] == base.controls
            assert set(variant.controls) <= set(spec.controls)
            if variant.common_items:
                assert spec.outcome == f"{base.outcome}_common"
            if variant.replace_predictor:
                assert spec.predictor == variant.replace_predictor[str(base.predictor)]
                assert spec.moderator == base.moderator


def test_a_variant_model_is_compared_with_its_reference_under_the_same_variant():
    spec = CATALOGUE.model("tasks_poor_outcome__version_group")
    assert spec.reference == "tasks_growth__version_group"
    # The growth model with the control is tested against the growth model without it.
    assert CATALOGUE.model("tasks_growth__version_group").reference == "tasks_growth"
    # Common items change the outcome, so the growth model has no reference to be tested against.
    assert CATALOGUE.model("tasks_growth__common_items").reference is None
    assert CATALOGUE.model("tasks_poor_outcome__common_items").reference == "tasks_growth__common_items"


def test_a_variant_identical_to_a_catalogue_model_is_not_fitted_twice():
    assert variant_model_id(CATALOGUE, "goals_poor_outcome", "wsas_outcome") == "goals_poor_wsas"
    assert "goals_poor_outcome__wsas_outcome" not in {m.id for m in CATALOGUE.models}
    assert variant_model_id(CATALOGUE, "goals_poor_outcome", "none") == "goals_poor_outcome"
    ids = [m.id for m in CATALOGUE.models]
    assert len(ids) == len(set(ids))


def test_robustness_section_errors_name_the_problem():
    def with_robustness(robustness):
        spec = copy.deepcopy(CATALOGUE_SPEC)
        spec["robustness"] = robustness
        return spec

    base = CATALOGUE_SPEC["robustness"]
    cases = [
        ({**base, "findings": [{"id": "x", "model": "no_such_model"}]}, "no_such_model"),
        ({**base, "findings": [{"id": "x", "model": "goals_growth"}]}, "has no predictor"),
        ({**base, "variants": [*base["variants"], {"id": "a__b"}]}, "reserved"),
        ({**base, "pattern_mixture_variant": "version_group"}, "no centred control"),
        ({**base, "version_variants": ["nope"]}, "'nope' is not one of the variants"),
        ({**base, "variants": [{"id": "v", "controls": [{"colum": "n_wai"}]}]}, "a control is a column name"),
        ({**base, "variants": [{"id": "v", "controls": [{"column": "n_wai", "centred": True}]}]}, "unknown keys"),
    ]
    for robustness, message in cases:
        with pytest.raises(CatalogueError, match=message):
            catalogue_from_mapping(with_robustness(robustness))


# --------------------------------------------------------------------------------------------------
# Model data of the controls
# --------------------------------------------------------------------------------------------------


def test_version_group_enters_as_indicators_against_the_reference_level(clean):
    spec = ModelSpec("m", "tasks", controls=(ControlSpec("wai_version_group", reference="S_only"),))
    data = model_data(spec, clean.patients, clean.wai_long, clean.outcomes_long)
    assert data.terms == (
        "Intercept",
        "time",
        "wai_version_group[SR_only]",
        "time:wai_version_group[SR_only]",
        "wai_version_group[both]",
        "time:wai_version_group[both]",
    )
    group = clean.patients.set_index("patient_id")["wai_version_group"]
    per_patient = data.frame.groupby("patient_id").first()
    assert (per_patient["wai_version_group[both]"] == group.reindex(per_patient.index).eq("both")).all()
    assert (per_patient["wai_version_group[SR_only]"] == group.reindex(per_patient.index).eq("SR_only")).all()
    np.testing.assert_allclose(
        data.frame["time:wai_version_group[both]"], data.frame["wai_version_group[both]"] * data.frame["time"]
    )


def test_version_at_each_assessment_is_an_observation_level_main_effect(clean):
    spec = ModelSpec("m", "goals", controls=(ControlSpec("version", reference="WAI-S", with_time=False),))
    data = model_data(spec, clean.patients, clean.wai_long, clean.outcomes_long)
    assert data.terms == ("Intercept", "time", "version[WAI-SR]")
    observed = clean.wai_long.dropna(subset=["goals"])
    assert data.n_obs == len(observed)
    assert data.frame["version[WAI-SR]"].sum() == observed["version"].eq("WAI-SR").sum()
    # It varies within patients who answered both forms (unless a form's Goals items were left empty).
    both = clean.patients.loc[clean.patients["wai_version_group"].eq("both"), "patient_id"]
    within = data.frame[data.frame["patient_id"].isin(both)].groupby("patient_id")["version[WAI-SR]"].nunique()
    assert len(within) > 0 and (within == 2).mean() > 0.9


def test_centred_control_has_mean_zero_over_the_models_patients(clean):
    spec = ModelSpec("m", "bonds", predictor="poor_outcome", controls=(ControlSpec("n_wai", centre=True),))
    data = model_data(spec, clean.patients, clean.wai_long, clean.outcomes_long)
    assert "n_wai_centred" in data.terms and "time:n_wai_centred" in data.terms
    per_patient = data.frame.groupby("patient_id")["n_wai_centred"].first()
    assert abs(per_patient.mean()) < 1e-12
    raw = clean.patients.set_index("patient_id").loc[per_patient.index, "n_wai"]
    np.testing.assert_allclose(per_patient, raw - raw.mean())


def test_a_control_that_is_nowhere_is_a_clear_error(clean):
    spec = ModelSpec("m", "gaf", controls=(ControlSpec("version"),))
    with pytest.raises(ModelDataError, match="neither of patients.csv nor of the gaf observations"):
        model_data(spec, clean.patients, clean.wai_long, clean.outcomes_long)


# --------------------------------------------------------------------------------------------------
# Common items
# --------------------------------------------------------------------------------------------------


def test_common_items_scores_use_only_the_common_items():
    wai = pd.DataFrame(
        {
            "version": ["WAI-S", "WAI-SR", "WAI-SR"],
            **{f"item_{i:02d}": [1.0, 2.0, 7.0] for i in range(1, 13)},
        }
    )
    wai.loc[0, "item_06"] = 5.0  # a common Goals item
    wai.loc[1, "item_04"] = 7.0  # a Goals item that is not common: changes goals, not goals_common
    wai.loc[2, "item_11"] = np.nan  # one of two common items missing: not scored (min_answered 2)
    scores = score_wai(wai, INSTRUMENTS.wai)
    assert list(scores["goals_common"][:2]) == [3.0, 2.0]  # (5 + 1) / 2 and (2 + 2) / 2
    assert math.isnan(scores["goals_common"][2])
    assert scores["goals"][1] == pytest.approx((7 + 2 + 2 + 2) / 4)
    assert scores["tasks_common"][2] == 7.0 and scores["bonds_common"][2] == 7.0


def test_common_items_must_be_the_same_item_in_every_version():
    def broken(change):
        spec = copy.deepcopy(INSTRUMENTS_SPEC)
        change(spec["wai"])
        return spec

    def not_in_subscale(wai):
        wai["common_items"]["subscales"]["tasks"] = [2, 8]  # 8 is Goals in WAI-SR

    def worded_differently(wai):
        wai["versions"]["WAI-SR"]["wording"][2] = "Something else."

    def keyed_differently(wai):
        wai["versions"]["WAI-SR"]["reversed"] = [2]

    for change, message in (
        (not_in_subscale, "item 8 is not a tasks item of WAI-SR"),
        (worded_differently, "worded or keyed differently"),
        (keyed_differently, "worded or keyed differently"),
    ):
        with pytest.raises(InstrumentConfigError, match=message):
            instruments_from_mapping(broken(change))


def test_the_configured_common_items_are_those_of_the_papers_table_1():
    assert dict(INSTRUMENTS.wai.common_items) == {"tasks": (2, 12), "goals": (6, 11), "bonds": (3, 7)}


# --------------------------------------------------------------------------------------------------
# Pattern-averaged slopes (Hedeker & Gibbons, 1997)
# --------------------------------------------------------------------------------------------------


def _fit_record(spec, clean):
    return run_model(spec, CATALOGUE, clean.patients, clean.wai_long, clean.outcomes_long)


def test_pattern_averaged_slope_equals_the_refit_centred_at_the_groups_mean(clean):
    """Centring the number of assessments at the poor group's own mean re-parametrises the same model:
    its time + time:poor_outcome is the poor group's pattern-averaged slope, and the beta part of the
    delta-method variance is that sum's variance; the rest is b_c^2 Var(n_wai) / n_group."""
    spec = CATALOGUE.model("tasks_poor_outcome__n_assessments")
    record = _fit_record(spec, clean)
    rows = {(r["effect"], r["group"]): r for r in record["pattern_averaged"]}
    poor_slope = rows["slope", "poor_outcome=1"]

    data = model_data(spec, clean.patients, clean.wai_long, clean.outcomes_long)
    per_patient = data.frame.groupby("patient_id").first()
    poor = per_patient[per_patient["poor_outcome"] == 1]
    shift = float(poor["n_wai_centred"].mean())
    recentred = data.frame.copy()
    recentred["n_wai_centred"] -= shift
    recentred["time:n_wai_centred"] = recentred["n_wai_centred"] * recentred["time"]
    refit = fit_growth(replace(data, frame=recentred))
    terms = list(refit.fixed["term"])
    w = np.zeros(len(terms))
    w[terms.index("time")] = w[terms.index("time:poor_outcome")] = 1.0
    beta = refit.fixed["estimate"].to_numpy()
    assert poor_slope["estimate"] == pytest.approx(float(w @ beta), rel=1e-6)
    b_c = beta[terms.index("time:n_wai_centred")]
    pattern_variance = b_c**2 * poor["n_wai_centred"].var(ddof=1) / len(poor)
    assert poor_slope["std_error"] ** 2 == pytest.approx(float(w @ refit.beta_cov @ w) + pattern_variance, rel=1e-4)
    assert poor_slope["n_patients"] == len(poor)

    # Over all patients the centred mean is 0: the pattern-averaged slope is the model's time effect
    # at the mean predictor; its SE is larger than the fixed-effect part alone.
    everyone = rows["slope", "all"]
    fixed = {r["term"]: r for r in record["fit"]["fixed"]}
    share_poor = float(per_patient["poor_outcome"].mean())
    expected = fixed["time"]["estimate"] + share_poor * fixed["time:poor_outcome"]["estimate"]
    assert everyone["estimate"] == pytest.approx(expected, rel=1e-9)
    difference = rows["slope", "poor_outcome=1 - poor_outcome=0"]
    good = rows["slope", "poor_outcome=0"]
    assert difference["estimate"] == pytest.approx(poor_slope["estimate"] - good["estimate"], rel=1e-9)


def test_no_pattern_averages_without_a_centred_control(clean):
    spec = CATALOGUE.model("tasks_poor_outcome__version_group")
    data = model_data(spec, clean.patients, clean.wai_long, clean.outcomes_long)
    assert pattern_averaged(spec, data, {"fixed": [], "fixed_covariance": {"terms": []}}) == []


# --------------------------------------------------------------------------------------------------
# The tables, from hand-made model outputs (what each cell must say)
# --------------------------------------------------------------------------------------------------


def _outputs(estimate_of: dict[str, tuple[float, float]]):
    """fits/estimates for every catalogue model: finding terms get the given (estimate, p)."""
    fits, estimates = [], []
    for spec in CATALOGUE.models:
        fits.append(
            {
                "model_id": spec.id,
                "n_patients": 148,
                "n_obs": 470,
                "converged": spec.id != "tasks_mood_disorder__common_items",
                "explained_slope_pct": 5.0,
            }
        )
        for term in ("Intercept", "time"):
            estimates.append(
                {
                    "model_id": spec.id,
                    "term": term,
                    "estimate": 0.02,
                    "std_error": 0.01,
                    "df": 100.0,
                    "statistic": 2.0,
                    "p_value": 0.04,
                }
            )
        if spec.predictor_term:
            for term in (spec.predictor_term, f"time:{spec.predictor_term}"):
                value, p = estimate_of.get(spec.id, (-0.03, 0.001))
                estimates.append(
                    {
                        "model_id": spec.id,
                        "term": term,
                        "estimate": value,
                        "std_error": 0.01,
                        "df": 100.0,
                        "statistic": value / 0.01,
                        "p_value": p,
                    }
                )
    return pd.DataFrame(fits), pd.DataFrame(estimates)


def test_robustness_table_says_where_a_finding_fails():
    fits, estimates = _outputs({"goals_poor_outcome__n_assessments": (-0.02, 0.08), "bonds_poor_bsi": (0.03, 0.01)})
    records = {(r["finding_id"], r["variant_id"]): r for r in robustness_rows(CATALOGUE, fits, estimates)}
    assert records["goals_poor_slope", "none"]["holds"]
    assert not records["goals_poor_slope", "n_assessments"]["holds"]  # p >= alpha
    assert not records["bonds_poor_slope", "bsi_outcome"]["holds"]  # wrong direction
    assert not records["goals_mood_intercept", "wsas_outcome"]["applies"]
    assert records["tasks_paranoid_poor_slope", "none"]["term"] == "time:poor_outcome[paranoid_pd=1]"
    assert records["tasks_mood_intercept", "none"]["term"] == "mood_disorder"

    table = robustness_table(CATALOGUE, fits, estimates).paper.frame.set_index("Finding")
    assert table.loc["Goals: poor outcome, slower growth", "Holds under every control"] == (
        "no: Number of assessments (centred, x time)"
    )
    assert table.loc["Tasks: poor outcome, slower growth", "Holds under every control"] == "yes"
    assert table.loc["Goals: mood disorder, lower initial level", "WSAS < 15 outcome in place of GAF"] == "n/a"
    assert table.loc["Tasks: mood disorder, lower initial level", "Common items only"].endswith("\u2020")
    assert table.loc["Goals: poor outcome, slower growth", "No control"] == "-0.03 (0.01)**"  # p = .001: two stars
    full = robustness_table(CATALOGUE, fits, estimates, min_cell=200).full.frame
    assert set(full["Patients"]) == {"< 200"}


def test_wai_version_table_reports_explained_slope_variance_test_and_aic():
    fits, estimates = _outputs({})
    tests = pd.DataFrame(
        [
            {
                "model_id": "goals_growth__version_group",
                "versus_model_id": "goals_growth",
                "chi2": 3.0,
                "df": 4,
                "p_value": 0.56,
            }
        ]
    )
    frame = wai_version_table(CATALOGUE, fits, estimates, tests).paper.frame
    row = frame[(frame["Control"] == "WAI version group (x time)") & (frame["Subscale"] == "Goals")].iloc[0]
    assert row["Slope variance explained %"] == "5"
    assert row["LR chi2 (df)"] == "3.00 (4)"
    assert row["p"] == ".560"
    assert row["Change in AIC"] == "5.0"  # -3 + 2 * 4: no AIC gain
    assert set(frame["Control"]) == {
        "WAI version group (x time)",
        "WAI version at each assessment",
        "Common items only",
    }
    assert len(frame) == 9


def test_pattern_mixture_table_has_a_row_per_pattern_mixture_model():
    fits, estimates = _outputs({})
    averaged = pd.DataFrame(
        [
            {
                "model_id": "tasks_poor_outcome__n_assessments",
                "effect": "slope",
                "group": "poor_outcome=1 - poor_outcome=0",
                "estimate": -0.025,
                "std_error": 0.008,
                "statistic": -3.1,
                "p_value": 0.002,
                "n_patients": 148,
            }
        ]
    )
    table = pattern_mixture_table(CATALOGUE, fits, estimates, averaged)
    frame = table.paper.frame
    expected = {m for (base, v), m in CATALOGUE.variant_models.items() if v == "n_assessments" and m}
    assert set(table.paper.model_ids) == expected
    row = frame[frame["Model"] == "Tasks: poor outcome, slower growth"].iloc[0]
    assert row["Pattern-averaged"] == "-0.025 (0.008)**"
    assert "Hedeker" in to_markdown(table)


# --------------------------------------------------------------------------------------------------
# A simulated cohort in which the version switch has a real effect
# --------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _cohort_with_version_shift(shift: float):
    parameters = load_parameters(ROOT / "config" / "synthetic.yaml")
    parameters = replace(parameters, wai_model=replace(parameters.wai_model, version_from_switch_shift=shift))
    cohort = simulate_cohort(int(CONFIG["cohorts"]["synthetic"]["simulate"]["seed"]), 155, parameters, INSTRUMENTS)
    with tempfile.TemporaryDirectory() as directory:
        write_exports(cohort, Path(directory))
        validated = validate_directory(directory, INSTRUMENTS)
    return clean_validated(validated.tables, INSTRUMENTS, AnalysisSettings.from_mapping(CONFIG["analysis"]))


def _version_effect(clean, outcome: str) -> dict:
    spec = ModelSpec("m", outcome, controls=(ControlSpec("version", reference="WAI-S", with_time=False),))
    fit = fit_growth(model_data(spec, clean.patients, clean.wai_long, clean.outcomes_long))
    return fit.fixed.set_index("term").loc["version[WAI-SR]"].to_dict()


def test_the_controls_detect_a_planted_version_effect_and_common_items_remove_it():
    """The new form's non-common items are answered one point lower (half of each subscale's items).

    The version indicator of the full subscales must find it; the common items are untouched by the
    planted effect, so their estimate must not move. (Without a planted effect the indicator is not
    zero in this cohort: later admissions are SR-only and have fewer assessments, hence lower alliance;
    that between-patient difference is the same for both scorings, and cancels in the comparison.)
    """
    shifted, unshifted = _cohort_with_version_shift(-1.0), _cohort_with_version_shift(0.0)
    for outcome in ("goals", "bonds", "tasks"):
        planted = _version_effect(shifted, outcome)
        common = _version_effect(shifted, f"{outcome}_common")
        assert planted["p_value"] < 0.001, (outcome, planted)
        # Half the items one point lower: about -0.5 on the subscale, beyond what the common items show.
        assert -0.7 < planted["estimate"] - common["estimate"] < -0.3, (outcome, planted, common)
        assert common["estimate"] == pytest.approx(_version_effect(unshifted, f"{outcome}_common")["estimate"])

    # The growth model's version control: a significant likelihood-ratio test and an AIC gain.
    record = run_model(
        CATALOGUE.model("tasks_growth__version_at_assessment"),
        CATALOGUE,
        shifted.patients,
        shifted.wai_long,
        shifted.outcomes_long,
    )
    test = collect([record])["likelihood_ratio_tests"].iloc[0]
    assert test["versus_model_id"] == "tasks_growth"
    assert test["p_value"] < 0.001 and -test["chi2"] + 2 * test["df"] < 0


def test_without_a_planted_effect_both_scorings_agree():
    unshifted = _cohort_with_version_shift(0.0)
    for outcome in ("goals", "bonds", "tasks"):
        full = _version_effect(unshifted, outcome)
        common = _version_effect(unshifted, f"{outcome}_common")
        assert abs(full["estimate"] - common["estimate"]) < 0.1, (outcome, full, common)


def test_holds_needs_significance_and_direction():
    finding = CATALOGUE.robustness.findings[0]
    assert holds(finding, -0.02, 0.01, 0.05)
    assert not holds(finding, -0.02, 0.05, 0.05)
    assert not holds(finding, 0.02, 0.01, 0.05)
    assert not holds(finding, math.nan, 0.01, 0.05)


# --------------------------------------------------------------------------------------------------
# The controls' coding against R's own formula interface (factor(), relevel(), centring in R)
# --------------------------------------------------------------------------------------------------

R_CONTROLS = r"""
suppressPackageStartupMessages({library(lmerTest); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
d$patient_id <- factor(d$patient_id)
d$group <- relevel(factor(d$wai_version_group), ref = "S_only")
d$form <- relevel(factor(d$version), ref = "WAI-S")
per_patient <- d[!duplicated(d$patient_id), ]
d$n_wai_c <- d$n_wai - mean(per_patient$n_wai)
control <- lmerControl(optimizer = "bobyqa", check.conv.singular = "ignore")
fits <- list(
  group = lmer(y ~ time * group + (1 + time | patient_id), data = d, REML = FALSE, control = control),
  form = lmer(y ~ time + form + (1 + time | patient_id), data = d, REML = FALSE, control = control),
  pattern = lmer(y ~ time * n_wai_c + (1 + time | patient_id), data = d, REML = FALSE, control = control)
)
out <- lapply(fits, function(f) as.list(fixef(f)))
write(toJSON(out, digits = NA, auto_unbox = TRUE), args[2])
"""


def test_controls_are_coded_as_rs_formula_interface_codes_them(clean, tmp_path):
    """Our indicators, time-varying main effect and centring, against lme4 given the raw columns."""
    assert r_available(), "R with lme4/lmerTest is needed (tests/install_r.sh installs it)"
    observed = clean.wai_long.dropna(subset=["tasks"])[["patient_id", "time_months", "version", "tasks"]]
    people = clean.patients.set_index("patient_id")
    raw = observed.rename(columns={"time_months": "time", "tasks": "y"}).assign(
        wai_version_group=lambda f: f["patient_id"].map(people["wai_version_group"]),
        n_wai=lambda f: f["patient_id"].map(people["n_wai"]),
    )
    raw.to_csv(tmp_path / "data.csv", index=False, float_format="%.17g")
    (tmp_path / "fit.R").write_text(R_CONTROLS)
    result = subprocess.run(
        ["Rscript", str(tmp_path / "fit.R"), str(tmp_path / "data.csv"), str(tmp_path / "out.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    r = json.loads((tmp_path / "out.json").read_text())
    names = {
        "group": {
            "Intercept": "(Intercept)",
            "time": "time",
            "wai_version_group[SR_only]": "groupSR_only",
            "time:wai_version_group[SR_only]": "time:groupSR_only",
            "wai_version_group[both]": "groupboth",
            "time:wai_version_group[both]": "time:groupboth",
        },
        "form": {"Intercept": "(Intercept)", "time": "time", "version[WAI-SR]": "formWAI-SR"},
        "pattern": {
            "Intercept": "(Intercept)",
            "time": "time",
            "n_wai_centred": "n_wai_c",
            "time:n_wai_centred": "time:n_wai_c",
        },
    }
    controls = {
        "group": ControlSpec("wai_version_group", reference="S_only"),
        "form": ControlSpec("version", reference="WAI-S", with_time=False),
        "pattern": ControlSpec("n_wai", centre=True),
    }
    for key, control in controls.items():
        data = model_data(
            ModelSpec("m", "tasks", controls=(control,)), clean.patients, clean.wai_long, clean.outcomes_long
        )
        ours = fit_growth(data).fixed.set_index("term")["estimate"]
        assert set(ours.index) == set(names[key]), key
        for term, r_name in names[key].items():
            assert ours[term] == pytest.approx(r[key][r_name], rel=1e-4, abs=1e-6), (key, term)
