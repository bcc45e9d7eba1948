"""The manuscript: templates without typed numbers, a strict sandbox, APA filters, wording that follows the
results, provenance of every number, and deterministic HTML/DOCX.

The cohort's outputs are built here without the slow model fits: the clean data of the cached synthetic
cohort give the descriptive tables, missing-data summary and descriptives, and the model outputs are
written for every catalogue model from chosen estimates, so a test can reverse a finding."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
import shutil
import zipfile
from pathlib import Path

import docx
import jinja2
import matplotlib
import pandas as pd
import pytest
from alliance import layout
from alliance.build.pdf_engines import find_pdf_engine
from alliance.data.pipeline import write_csv, write_json
from alliance.report.descriptives import write_descriptive_tables
from alliance.report.intervals import read_intervals
from alliance.report.manuscript import apa, descriptives, filters, numbers, provenance, render
from alliance.report.manuscript import documents as conversion
from alliance.report.missing_data import write_missing_data
from alliance.report.robustness import write_robustness_tables
from alliance.report.table_rows import load_table_rows
from alliance.report.tables import write_model_tables
from alliance.stats import bootstrap, bootstrap_intervals
from alliance.stats.catalogue import load_catalogue
from alliance.stats.model_runs import PATTERN_AVERAGED_COLUMNS
from scipy import stats
from synthetic_cohorts import CONFIG, INSTRUMENTS, ROOT, synthetic_cohort

matplotlib.use("Agg")
from matplotlib import pyplot as plt

TEMPLATES = ROOT / "manuscript"
TEMPLATE_FILES = sorted(TEMPLATES.glob("*.md.j2"))
CATALOGUE = load_catalogue(ROOT / "config" / "models.yaml")
ALPHA = CATALOGUE.settings.alpha
ROWS = load_table_rows(ROOT / "config" / "tables.yaml")

# Estimates (estimate, SE) by role; the paper's pattern: alliance grows, less so with a poor outcome.
DEFAULTS = {"Intercept": (5.0, 0.1), "time": (0.03, 0.005), "pred": (-0.1, 0.2), "pred_slope": (-0.03, 0.008)}


def _term_role(term: str) -> str:
    if term in ("Intercept", "time"):
        return term
    return "pred_slope" if term.startswith("time:") else "pred"


def _terms(spec) -> list[str]:
    if spec.kind == "means":
        return ["Intercept"]
    terms = ["Intercept", "time"]
    if spec.predictor:
        name = spec.predictor
        if spec.moderator:
            name += "[" + ",".join(f"{k}={v}" for k, v in spec.moderator.items()) + "]"
        terms += [name, f"time:{name}"]
    return terms


def write_model_outputs(models_dir: Path, overrides: dict[tuple[str, str], tuple[float, float]] | None = None) -> None:
    """models/{fits,estimates,variance_components,likelihood_ratio_tests}.csv for every catalogue model."""
    overrides = overrides or {}
    models_dir.mkdir(parents=True, exist_ok=True)
    fits, estimates, components, tests = [], [], [], []
    for number, spec in enumerate(CATALOGUE.models):
        reference = spec.reference or ""
        fits.append(
            {
                "model_id": spec.id, "outcome": spec.outcome, "predictor": spec.predictor or "", "moderator": "",
                "subset": "", "controls": "", "method": "ML", "n_patients": 148, "n_obs": 500, "loglik": -700.25,
                "aic": 1400.5 + number, "bic": 1430.5 + number, "var_intercept": 0.8, "var_slope": 0.001,
                "cov_intercept_slope": -0.01, "var_residual": 0.5, "reference_model_id": reference,
                "explained_intercept_pct": 8.4 if reference else "", "explained_slope_pct": 23.6 if reference else "",
                "converged": True, "warnings": "", "engine": "statsmodels", "optimizer": "lbfgs",
            }
        )  # fmt: skip
        for term in _terms(spec):
            estimate, se = overrides.get((spec.id, term), DEFAULTS[_term_role(term)])
            t = estimate / se
            p = float(2 * stats.t.sf(abs(t), 120.0))
            half = float(stats.t.ppf(0.975, 120.0)) * se
            estimates.append(
                {
                    "model_id": spec.id, "term": term, "estimate": estimate, "std_error": se, "statistic": t,
                    "df": 120.0, "p_value": p, "ci_low": estimate - half, "ci_high": estimate + half,
                }
            )  # fmt: skip
        for component, value in (("intercept", 0.8), ("covariance", -0.01), ("slope", 0.001), ("residual", 0.5)):
            components.append(
                {"model_id": spec.id, "component": component, "estimate": value, "std_error": 0.0004,
                 "statistic": value / 0.0004, "p_value": 0.012}
            )  # fmt: skip
        if spec.kind != "means":
            versus = reference or f"{spec.id} (unconditional means)"
            tests.append(
                {"model_id": spec.id, "versus_model_id": versus, "n_patients": 148, "chi2": 21.5,
                 "df": 2 if reference else 3, "p_value": 0.00002}
            )  # fmt: skip
    for name, rows in (
        ("fits", fits),
        ("estimates", estimates),
        ("variance_components", components),
        ("likelihood_ratio_tests", tests),
    ):
        pd.DataFrame(rows).to_csv(models_dir / f"{name}.csv", index=False)
    pd.DataFrame(columns=PATTERN_AVERAGED_COLUMNS).to_csv(models_dir / "pattern_averaged.csv", index=False)


def _figure(path: Path) -> None:
    figure, axes = plt.subplots(figsize=(2, 1.5), dpi=50)
    axes.plot([0, 1], [0, 1])
    figure.savefig(path, metadata={"Software": None})
    plt.close(figure)


def declared(folder: Path, names: list[str]) -> dict[str, Path]:
    """The files a rule declares in ``folder``, by name (as a script passes its outputs)."""
    return layout.by_name(folder / name for name in names)


@functools.lru_cache(maxsize=1)
def bootstrap_intervals_table() -> pd.DataFrame:
    """bootstrap/intervals.csv of a small bootstrap (10 replicates, 10 jackknife groups) of the cohort."""
    _, _, clean = synthetic_cohort()
    the_plan = bootstrap.plan(CATALOGUE, clean.patients, clean.wai_long, clean.outcomes_long)
    replicates = bootstrap.run_shard(the_plan, 1, range(10))
    jackknife = bootstrap.run_jackknife(the_plan, 10, 1)
    return bootstrap_intervals.intervals(replicates, jackknife, bootstrap.full_estimates(the_plan), 0.95, 1)


def build_outputs(results: Path, min_cell: int = 0, overrides=None) -> Path:
    """A cohort's results directory with every file the manuscript reads (no clean/ data in it)."""
    _, _, clean = synthetic_cohort()
    models = results / "models"
    write_model_outputs(models, overrides)
    model_files = [models / f"{name}.csv" for name in ("fits", "estimates", "variance_components")]
    tables = declared(
        results / "tables",
        layout.table_files([*layout.MODEL_TABLES, *layout.ROBUSTNESS_TABLES, *layout.DESCRIPTIVE_TABLES]),
    )
    intervals_file = results / "bootstrap" / "intervals.csv"
    intervals_file.parent.mkdir(parents=True, exist_ok=True)
    write_csv(bootstrap_intervals_table(), intervals_file)
    reported = read_intervals(intervals_file, "percentile", 0.95)
    write_model_tables(*model_files, list(CATALOGUE.models), tables, alpha=ALPHA, intervals=reported)
    robustness_files = [models / f"{name}.csv" for name in ("likelihood_ratio_tests", "pattern_averaged")]
    write_robustness_tables(*model_files[:2], *robustness_files, CATALOGUE, tables, min_cell)
    write_descriptive_tables(clean.patients, INSTRUMENTS, ROWS, tables, min_cell)
    missing = declared(
        results / "missing_data", [layout.MISSING_DATA_SUMMARY, *layout.table_files(layout.MISSING_DATA_TABLES)]
    )
    write_missing_data(clean.patients, clean.wai_long, clean.outcomes_long, missing, min_cell, ROWS)
    (results / "manuscript").mkdir(parents=True, exist_ok=True)
    record = descriptives.cohort_descriptives(clean.patients, ROWS, min_cell)
    write_json(record, results / "manuscript" / layout.DESCRIPTIVES)
    (results / "figures").mkdir(parents=True, exist_ok=True)
    for stem in layout.FIGURES:
        _figure(results / "figures" / f"{stem}.png")
    return results


def inputs(results: Path) -> numbers.ManuscriptInputs:
    """The inputs the rule manuscript_text declares, in the cohort's results directory."""
    return numbers.ManuscriptInputs.declared(
        models=[results / "models" / name for name in layout.csv_files(layout.MODEL_OUTPUTS)],
        tables=[results / "tables" / f"{t}{ext}" for t in layout.MANUSCRIPT_TABLES for ext in (".md", "_full.csv")],
        summary=results / "missing_data" / layout.MISSING_DATA_SUMMARY,
        descriptives=results / "manuscript" / layout.DESCRIPTIVES,
        catalogue=Path("config/models.yaml"),
        intervals=results / "bootstrap" / "intervals.csv",
    )


def context(results: Path, min_cell: int = 0) -> dict:
    # The config files as the workflow names them, relative to the project (where the rule runs).
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        values = provenance.config_values(
            CONFIG["analysis"],
            INSTRUMENTS,
            config_files=["config/config.yaml", "config/instruments.yaml", "config/models.yaml"],
            instruments_file="config/instruments.yaml",
            confidence=0.95,
        )
    return numbers.build_context(inputs(results), CATALOGUE, values, min_cell=min_cell, reported=("percentile", 0.95))


def write_text(results: Path, min_cell: int = 0) -> list[Path]:
    """The rule manuscript_text: methods, results, the manuscript and its provenance."""
    names = [f"{name}.md" for name in (*layout.MANUSCRIPT_SECTIONS, "manuscript")] + [layout.PROVENANCE]
    files = declared(results / "manuscript", names)
    return render.write_manuscript(TEMPLATE_FILES, context(results, min_cell), ALPHA, files)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The default outputs with the manuscript rendered."""
    results = build_outputs(tmp_path_factory.mktemp("cohort") / "results" / "synthetic")
    write_text(results)
    return results


def render_string(tmp_path: Path, source: str, values: dict | None = None) -> render.Rendered:
    (tmp_path / "t.md.j2").write_text(source, encoding="utf-8")
    return render.render([tmp_path / "t.md.j2"], "t.md.j2", {"tables": {}, **(values or {})}, ALPHA)


def effect(estimate: float, se: float, p: float, df: float = 40.0) -> dict:
    def num(value, column):
        return provenance.Num(value, "models/estimates.csv", f"model_id=x; term=time; column={column}")

    return {
        "estimate": num(estimate, "estimate"), "std_error": num(se, "std_error"),
        "statistic": num(estimate / se, "statistic"), "df": num(df, "df"), "p_value": num(p, "p_value"),
        "ci_low": num(estimate - 2 * se, "ci_low"), "ci_high": num(estimate + 2 * se, "ci_high"),
    }  # fmt: skip


# --------------------------------------------------------------------------------------------------
# No typed numbers
# --------------------------------------------------------------------------------------------------


def test_templates_exist_and_hold_no_numeric_literals():
    literals = render.templates_literals(TEMPLATE_FILES)
    assert set(literals) == {"manuscript.md.j2", "methods.md.j2", "results.md.j2"}
    assert literals == {name: [] for name in literals}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AIC was 1449 for Goals", ["1449"]),
        ("an estimate of -0.02 and .05", ["-0.02", ".05"]),
        ("{{ x | num(places=1) }} (Singer & Willett, 2003), Figure 1, BSI-18", []),
        ("model tasks_poor_outcome_paranoid1 {# a comment with 12 #}", []),
        ("Figure 3", ["3"]),
    ],
)
def test_the_literal_scan_finds_numbers_outside_the_allow_list(text, expected):
    assert provenance.numeric_literals(text) == expected


def test_a_number_typed_into_a_template_fails_the_render(tmp_path):
    with pytest.raises(provenance.ManuscriptError, match="without a source.*'1449'"):
        render_string(tmp_path, "The AIC was 1449.\n")


def test_a_bare_number_or_an_unformatted_num_fails(tmp_path):
    with pytest.raises(provenance.ManuscriptError, match="no source"):
        render_string(tmp_path, "{{ value }}\n", {"value": 3.5})
    with pytest.raises(provenance.ManuscriptError, match="without a format filter"):
        render_string(tmp_path, "{{ value }}\n", {"value": provenance.Num(3.5, "f.csv", "k")})


# --------------------------------------------------------------------------------------------------
# Strict sandbox
# --------------------------------------------------------------------------------------------------


def test_an_undefined_key_names_the_key_and_the_template_line(tmp_path):
    source = "First line.\n\nThe slope was {{ m.goals_growth.slope.estimat | num }}.\n"
    values = {"m": {"goals_growth": {"slope": effect(0.02, 0.01, 0.04)}}}
    with pytest.raises(provenance.ManuscriptError) as error:
        render_string(tmp_path, source, values)
    message = str(error.value)
    assert "t.md.j2, line 3" in message
    assert "estimat" in message
    assert "undefined" in message


def test_a_missing_value_is_not_rendered_blank(tmp_path):
    with pytest.raises(provenance.ManuscriptError, match="blank where a number should be"):
        render_string(tmp_path, "AIC {{ aic | integer }}\n", {"aic": provenance.Num(math.nan, "models/fits.csv", "k")})


def test_the_environment_is_sandboxed(tmp_path):
    with pytest.raises(jinja2.exceptions.SecurityError):
        render_string(tmp_path, "{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    env = render.make_environment([], ALPHA, provenance.Recorder())
    assert isinstance(env, jinja2.sandbox.SandboxedEnvironment)
    assert env.undefined is jinja2.StrictUndefined


# --------------------------------------------------------------------------------------------------
# APA filters
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        ("p", 0.0004, ".001"),
        ("p", 0.0345, ".035"),
        ("p", 0.5, ".500"),
        ("corr", 0.456, ".46"),
        ("corr", -0.456, "\u2212.46"),
        ("fixed2", -0.004, "0.00"),
        ("fixed2", -1.236, "\u22121.24"),
        ("fixed1", 2.25, "2.3"),
        ("int", 1449.5, "1450"),
        ("pct0", 42.5, "43"),
        ("prob", 0.05, ".05"),
    ],
)
def test_format_value(kind, value, text):
    assert apa.format_value(kind, value) == text


def test_apa_filters_render_estimates_tests_and_percentages(tmp_path):
    values = {
        "e": effect(-0.0312, 0.0101, 0.0026, df=139.24),
        "tiny": effect(0.5, 0.01, 1e-9),
        "lrt": {
            "chi2": provenance.Num(18.004, "lrt.csv", "chi2"),
            "df": provenance.Num(2, "lrt.csv", "df"),
            "p_value": provenance.Num(0.00012, "lrt.csv", "p"),
        },
        "share": provenance.Num(57.14, "d.json", "pct"),
        "few": provenance.Num(math.nan, "d.json", "few", suppressed=5),
        "pair": {"mean": provenance.Num(48.04, "t.csv", "m"), "sd": provenance.Num(5.45, "t.csv", "sd")},
    }
    source = (
        "{{ e | coef }}\n{{ e | est_se }}\n{{ tiny.p_value | p }}\n{{ lrt | chi2 }}\n{{ share | pct }}\n"
        "{{ few | pct }}\n{{ pair | mean_sd }}\n"
    )
    lines = render_string(tmp_path, source, values).text.splitlines()
    assert (
        lines[0]
        == "*b* = \u22120.03, *SE* = 0.01, *t*(139.2) = \u22123.09, *p* = .003, 95% CI [\u22120.05, \u22120.01]"
    )
    assert lines[1] == "\u22120.03 (0.01)"
    assert lines[2] == "*p* < .001"
    assert lines[3] == "χ²(2) = 18.00, *p* < .001"
    assert lines[4] == "57%"
    assert lines[5] == "< 5 patients"
    assert lines[6] == "48.0 (*SD* = 5.5)"


def test_several_p_values_in_one_phrase(tmp_path):
    source = "{{ a | ps }}\n{{ b | ps }}\n{{ c | ps }}\n"
    values = {
        "a": [effect(1, 1, 0.01), effect(1, 1, 0.034)],
        "b": [effect(1, 1, 0.21), effect(1, 1, 0.6)],
        "c": [effect(1, 1, 0.01), effect(1, 1, 0.6)],
    }
    assert render_string(tmp_path, source, values).text.splitlines() == [
        "all *p* ≤ .034",
        "all *p* ≥ .210",
        "*p* = .010, *p* = .600",
    ]


# --------------------------------------------------------------------------------------------------
# Wording follows the results
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("estimate", "p", "expected"),
    [
        (0.02, 0.01, "increased"),
        (-0.02, 0.01, "decreased"),
        (0.02, ALPHA, "did not change"),
        (0.02, 0.2, "did not change"),
    ],
)
def test_claim_follows_sign_p_and_alpha(estimate, p, expected):
    words = filters.claim(effect(estimate, 0.01, p), ALPHA, "increased", "decreased", "did not change")
    assert words == expected


def test_group_claims_orders_and_groups():
    groups = filters.group_claims(
        [("Goals", effect(1, 1, 0.01)), ("Bonds", effect(1, 1, 0.5)), ("Tasks", effect(1, 1, 0.02))],
        ALPHA,
        "rose",
        "fell",
        "stayed",
    )
    assert [(g["phrase"], g["names"]) for g in groups] == [("rose", ["Goals", "Tasks"]), ("stayed", ["Bonds"])]


def test_wording_flips_when_the_findings_reverse(built, tmp_path):
    default = (built / "manuscript" / "results.md").read_text(encoding="utf-8")
    assert "Fitted on the good outcome subgroup alone, Goals, Bonds, and Tasks increased significantly" in default
    assert "of Goals, Bonds, and Tasks was significantly less positive in the poor outcome subgroup" in default

    # A cohort in which alliance fell in the good outcome subgroup and the subgroups did not differ in
    # the development of Tasks.
    overrides = {(f"{s}_good_only", "time"): (-0.04, 0.01) for s in ("goals", "bonds", "tasks")}
    overrides[("tasks_poor_outcome", "time:poor_outcome")] = (-0.002, 0.01)
    reversed_results = build_outputs(tmp_path / "results" / "reversed", overrides=overrides)
    write_text(reversed_results)
    text = (reversed_results / "manuscript" / "results.md").read_text(encoding="utf-8")
    assert "Fitted on the good outcome subgroup alone, Goals, Bonds, and Tasks decreased significantly" in text
    assert "of Goals and Bonds was significantly less positive in the poor outcome subgroup" in text
    assert "of Tasks did not differ significantly by subgroup" in text
    assert "increased significantly over time (all" not in text.split("Fitted on the poor")[0].split("alone,")[-1]


# --------------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------------


def test_every_number_is_recorded_and_equals_its_source_after_rounding(built):
    record = json.loads((built / "manuscript" / "provenance.json").read_text(encoding="utf-8"))
    lines = (built / "manuscript" / "manuscript.md").read_text(encoding="utf-8").split("\n")
    entries = record["numbers"]
    assert len(entries) > 150
    for entry in entries:
        assert entry["sentence"] and entry["sentence"] in lines[entry["line"] - 1], entry
        assert entry["text"] in entry["sentence"], entry
        if entry["file"].startswith("config/"):
            raw = provenance.lookup(ROOT / entry["file"], entry["key"])
        else:
            raw = provenance.lookup(built / entry["file"], entry["key"])
        if entry["value"] is None:  # withheld for disclosure
            continue
        source = float(str(raw).rstrip("%"))
        assert source == pytest.approx(entry["value"], rel=1e-9, abs=1e-12), entry
        assert apa.format_value(entry["format"], source) == entry["text"], entry
    files = {entry["file"] for entry in entries}
    assert {"models/estimates.csv", "models/fits.csv", "models/likelihood_ratio_tests.csv"} <= files
    assert {"missing_data/summary.json", "manuscript/descriptives.json", f"tables/{numbers.OUTCOME_CHANGE}"} <= files
    assert {"config/config.yaml", "config/instruments.yaml", "config/models.yaml"} <= files
    assert set(record["tables"]) == set(layout.MANUSCRIPT_TABLES)


def test_every_number_of_the_text_has_a_provenance_entry(built):
    """Outside the included tables and figure captions, each number of a line is one recorded entry."""
    record = json.loads((built / "manuscript" / "provenance.json").read_text(encoding="utf-8"))
    lines = (built / "manuscript" / "manuscript.md").read_text(encoding="utf-8").split("\n")
    end_of_text = lines.index("# Tables")
    recorded: dict[int, int] = {}
    for entry in record["numbers"]:
        recorded[entry["line"]] = recorded.get(entry["line"], 0) + 1
    for number, line in enumerate(lines[:end_of_text], start=1):
        found = provenance.numeric_literals(line.replace("\u2212", "-").replace("< ", ""))
        # "all *p* < .001" prints one recorded number; a range "1–9" two.
        assert len(found) == recorded.get(number, 0), (number, line, found)


def test_the_models_numbers_reach_the_text(built):
    """Spot checks against the model outputs, by hand: Table IV's growth and subgroup models."""
    text = (built / "manuscript" / "results.md").read_text(encoding="utf-8")
    estimates = pd.read_csv(built / "models" / "estimates.csv")
    row = estimates[(estimates.model_id == "goals_growth") & (estimates.term == "Intercept")].iloc[0]
    assert f"{row.estimate:.2f} ({row.std_error:.2f}) for Goals" in text
    fits = pd.read_csv(built / "models" / "fits.csv").set_index("model_id")
    assert f"{fits.loc['tasks_poor_outcome', 'aic']:.0f} (Tasks)" in text


def test_withheld_counts_print_as_fewer_than_min_cell(tmp_path):
    results = build_outputs(tmp_path / "results" / "clinic", min_cell=10)
    write_text(results, min_cell=10)
    text = (results / "manuscript" / "manuscript.md").read_text(encoding="utf-8")
    assert "of whom < 10 lacked a final GAF assessment" in text


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def documents(built) -> dict[str, Path]:
    out = built / "manuscript"
    outputs = {"html": out / "manuscript.html", "docx": out / "manuscript.docx"}
    conversion.convert(out / "manuscript.md", outputs, [built / "figures"], conversion.TITLE)
    return outputs


def test_docx_has_word_tables_figures_headings_and_apa_fonts(documents):
    document = docx.Document(str(documents["docx"]))
    assert len(document.tables) == 8  # Tables I-IV and S1-S4
    header = [cell.text for cell in document.tables[2].rows[0].cells]  # Table III (I, II, III, IV, S1)
    assert header[0] == "Model" and "AIC" in header[-1]
    assert len(document.inline_shapes) == 2
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert ("Heading 1", "Method") in headings and ("Heading 1", "Results") in headings
    assert ("Heading 2", "Main Analyses: Longitudinal Course of Working Alliance") in headings
    assert document.styles["Normal"].font.name == "Times New Roman"
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Figure 1." in body and "Table III." in body
    assert "\x02" not in body and "{{" not in body


def test_docx_is_byte_identical_when_rebuilt(documents, tmp_path):
    again = tmp_path / "again.docx"
    conversion.convert(
        documents["docx"].parent / "manuscript.md",
        {"docx": again},
        [documents["docx"].parents[1] / "figures"],
        conversion.TITLE,
    )
    assert again.read_bytes() == documents["docx"].read_bytes()
    core = zipfile.ZipFile(again).read("docProps/core.xml").decode()
    assert "2020-10-12T00:00:00Z" in core
    assert {info.date_time for info in zipfile.ZipFile(again).infolist()} == {conversion.ZIP_DATE}


def test_html_is_standalone_with_tables_and_embedded_figures(documents):
    html = documents["html"].read_text(encoding="utf-8")
    assert html.count("<table") == 8
    assert html.count('src="data:image/png;base64,') == 2
    assert re.search(r"<h1[^>]*>Results</h1>", html)
    assert "Figure 1." in html and "\x02" not in html


def test_no_pdf_without_an_engine():
    assert find_pdf_engine(lambda name: None) is None
    assert find_pdf_engine(lambda name: "/usr/bin/x" if name == "typst" else None) == "typst"


# --------------------------------------------------------------------------------------------------
# Patient-level data stay out
# --------------------------------------------------------------------------------------------------


def test_no_patient_level_data_reaches_the_manuscript(built, documents):
    _, _, clean = synthetic_cohort()
    ids = set(clean.patients["patient_id"].astype(str))
    for path in (built / "manuscript").iterdir():
        if path.suffix in (".md", ".json", ".html"):
            text = path.read_text(encoding="utf-8")
            words = set(re.findall(r"[A-Za-z]*\d+[A-Za-z0-9_-]*", text))
            assert not ids & words, path
    declared_inputs = inputs(built)
    fields = [f.name for f in dataclasses.fields(declared_inputs) if f.name not in ("tables", "comparison")]
    paths = [getattr(declared_inputs, name) for name in fields]
    read = [*paths, *declared_inputs.tables.values(), *(declared_inputs.comparison or {}).values()]
    assert not [p for p in read if p is not None and "clean" in Path(p).parts]
    rules = (ROOT / "workflow" / "rules" / "manuscript.smk").read_text(encoding="utf-8")
    text_rules = rules.split("rule manuscript_text:")[1]
    assert "clean/" not in text_rules


def test_descriptives_are_aggregates(built):
    record = json.loads((built / "manuscript" / "descriptives.json").read_text(encoding="utf-8"))
    assert set(record) == {"n_patients", "treatment_months", "termination", "groups", "tests", "table_2"}
    assert record["groups"]["good"]["n"] + record["groups"]["poor"]["n"] <= record["n_patients"]
    assert len(record["table_2"]) == len(ROWS)


def test_a_fresh_copy_of_the_templates_renders_the_same(built, tmp_path):
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    texts, _ = render.render_manuscript(sorted(copy.glob("*.md.j2")), context(built), ALPHA)
    assert texts["manuscript"] == (built / "manuscript" / "manuscript.md").read_text(encoding="utf-8")


def test_robustness_sentences_follow_the_controlled_models(tmp_path):
    """A finding that loses significance under a control is named as not remaining significant."""
    weakened = {("goals_poor_outcome__n_assessments", "time:poor_outcome"): (-0.001, 0.01)}
    results = build_outputs(tmp_path / "results" / "weak", overrides=weakened)
    write_text(results)
    text = (results / "manuscript" / "results.md").read_text(encoding="utf-8")
    sentence = next(line for line in text.split(". ") if "pattern-mixture models" in line)
    kept, lost = sentence.split("whereas")
    assert "the poorer Goals development in the poor outcome subgroup" in lost
    assert "the poorer Goals development in the poor outcome subgroup" not in kept
    assert "the poorer Bonds development in the poor outcome subgroup" in kept
    unweakened = (build_outputs(tmp_path / "results" / "plain") / "manuscript").parent
    write_text(unweakened)
    plain = (unweakened / "manuscript" / "results.md").read_text(encoding="utf-8")
    plain_sentence = next(line for line in plain.split(". ") if "pattern-mixture models" in line)
    assert "the poorer Goals development in the poor outcome subgroup" in plain_sentence.split("whereas")[0]


# --------------------------------------------------------------------------------------------------
# Values absent by design (issue 18)
# --------------------------------------------------------------------------------------------------


def test_a_value_absent_by_design_is_said_in_words_and_recorded(tmp_path):
    undefined = provenance.Num(math.nan, "tables/t.csv", "k", reason="not defined")
    rendered = render_string(tmp_path, "a share of {{ share | pct }}\n", {"share": undefined})
    assert rendered.text.strip() == "a share of not defined"
    assert [(e["key"], e["text"]) for e in rendered.provenance] == [("k", "not defined")]
    effect = {
        c: provenance.Num(math.nan, "models/estimates.csv", c, reason="not estimable") for c in numbers.EFFECT_COLUMNS
    }
    text = render_string(tmp_path, "slope {{ e | coef }}; {{ e | claim('up', 'down', 'none') }}\n", {"e": effect}).text
    assert text.strip() == f"slope not estimable; {filters.NOT_ESTIMABLE}"


def test_a_misspelt_key_still_fails_beside_values_absent_by_design(tmp_path):
    effect = {
        c: provenance.Num(math.nan, "models/estimates.csv", c, reason="not estimable") for c in numbers.EFFECT_COLUMNS
    }
    with pytest.raises((jinja2.exceptions.UndefinedError, provenance.ManuscriptError)):
        render_string(tmp_path, "{{ e.estimat | num }}\n", {"e": effect})


def test_effects_that_cannot_be_estimated_are_grouped_apart():
    fine = {"estimate": provenance.Num(0.2, "f", "e"), "p_value": provenance.Num(0.01, "f", "p")}
    gone = {
        "estimate": provenance.Num(math.nan, "f", "e", reason="not estimable"),
        "p_value": provenance.Num(math.nan, "f", "p"),
    }
    groups = filters.group_claims([("Goals", fine), ("Bonds", gone)], ALPHA, "rose", "fell", "stayed")
    assert [(g["phrase"], g["names"]) for g in groups] == [("rose", ["Goals"]), (filters.NOT_ESTIMABLE, ["Bonds"])]


def test_records_of_models_without_a_fit_have_every_role_as_words():
    catalogue = load_catalogue(ROOT / "config" / "models.yaml")
    fits = pd.DataFrame(
        [
            {"model_id": "wsas_growth", "outcome": "wsas", "status": "not collected", "converged": "False"},
            {"model_id": "goals_poor_outcome", "outcome": "goals", "status": "failed", "converged": "False"},
        ]
    )
    empty = pd.DataFrame(columns=["model_id", "term", "component", "versus_model_id"])
    records = numbers.model_records(fits, empty, empty, empty, catalogue)
    assert records["wsas_growth"]["collected"] is False
    assert records["wsas_growth"]["slope"]["estimate"].reason == "not collected"
    assert records["goals_poor_outcome"]["pred_slope"]["p_value"].reason == "not estimable"
    assert records["goals_poor_outcome"]["lrt"]["chi2"].reason == "not estimable"
    assert numbers.collected_outcomes(fits)["wsas"] is False and numbers.collected_outcomes(fits)["goals"] is True


# --------------------------------------------------------------------------------------------------
# Declared files only
# --------------------------------------------------------------------------------------------------


def test_the_text_is_written_only_to_declared_files(built, tmp_path):
    files = declared(tmp_path, ["manuscript.md", "methods.md", "results.md"])  # no provenance.json
    with pytest.raises(KeyError, match="provenance.json is not among the files the rule declares"):
        render.write_manuscript(TEMPLATE_FILES, context(built), ALPHA, files)
    assert list(tmp_path.iterdir()) == []


def test_the_context_reads_only_declared_inputs(built):
    declared_inputs = inputs(built)
    missing_table = dataclasses.replace(
        declared_inputs, tables={k: v for k, v in declared_inputs.tables.items() if k != "table_2.md"}
    )
    values = context(built)["config"]
    with pytest.raises(KeyError, match="table_2.md is not among the files the rule declares"):
        numbers.build_context(missing_table, CATALOGUE, values)
    with pytest.raises(KeyError, match="estimates.csv"):
        numbers.ManuscriptInputs.declared(
            models=[built / "models" / "fits.csv"],
            tables=[],
            summary=declared_inputs.summary,
            descriptives=declared_inputs.descriptives,
            catalogue=declared_inputs.catalogue,
        )


def test_a_config_value_is_sourced_to_the_file_that_sets_it(tmp_path):
    """With several config files, a value's source is the file whose value is the one in use."""
    main = tmp_path / "config.yaml"
    main.write_text("analysis:\n  gaf_cutoff: 60\n  schedule: {wai_months: [3, 9]}\n", encoding="utf-8")
    override = tmp_path / "clinic.yaml"
    override.write_text("analysis:\n  gaf_cutoff: 55\n", encoding="utf-8")
    files = sorted([str(override), str(main), str(tmp_path / "models.yaml")])
    assert provenance.config_source(files, "analysis.gaf_cutoff", 55) == str(override)
    assert provenance.config_source(files, "analysis.gaf_cutoff", 60) == str(main)
    assert provenance.config_source(files, "analysis.schedule.wai_months", [3, 9]) == str(main)
    assert provenance.config_source(files, "analysis.gaf_cutoff", 50) == provenance.COMMAND_LINE


def test_a_cohorts_own_bootstrap_level_is_sourced_to_its_setting(tmp_path):
    """A cohort that sets its own bootstrap.confidence: the text's level names that key and file, not
    "--config" (the top-level value is another) nor the top-level key."""
    main = tmp_path / "config.yaml"
    main.write_text("bootstrap:\n  confidence: 0.95\n", encoding="utf-8")
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text("cohorts:\n  clinic:\n    bootstrap: {confidence: 0.9}\n", encoding="utf-8")
    files = [str(main), str(clinic)]
    analysis = {"gaf_cutoff": 60, "schedule": {"wai_months": [3], "outcome_months": [0]}}
    own = provenance.config_values(analysis, INSTRUMENTS, files, "config/instruments.yaml", 0.9, cohort="clinic")
    assert (own["bootstrap_confidence"].file, own["bootstrap_confidence"].key) == (
        str(clinic),
        "cohorts.clinic.bootstrap.confidence",
    )
    other = provenance.config_values(analysis, INSTRUMENTS, files, "config/instruments.yaml", 0.95, cohort="other")
    assert (other["bootstrap_confidence"].file, other["bootstrap_confidence"].key) == (
        str(main),
        "bootstrap.confidence",
    )
    given = provenance.config_values(analysis, INSTRUMENTS, files, "config/instruments.yaml", 0.8, cohort="clinic")
    assert given["bootstrap_confidence"].file == provenance.COMMAND_LINE


def test_the_manuscript_modules_are_imported_one_by_one():
    """The subpackage's __init__ is only a docstring, no re-exports: a step's code version follows the modules
    its script imports."""
    import ast

    init = ROOT / "workflow" / "alliance" / "report" / "manuscript" / "__init__.py"
    body = ast.parse(init.read_text(encoding="utf-8")).body
    assert len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
