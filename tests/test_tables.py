"""Tables III and IV from the model outputs: formatting, markers, layouts and the four renderers.

The fixtures in ``tests/data/model_outputs`` are made-up model outputs with the columns of the model step;
their p-values are set by hand just below and above .05, .01 and .001, one fit did not converge
(``gaf_completed_as_planned``) and one failed (``tasks_good_outcome_paranoid0``, no estimates).
"""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from alliance import layout
from alliance.report import formatting
from alliance.report.formatting import (
    DAGGER,
    DOUBLE_DAGGER,
    TableFrame,
    format_estimate,
    format_integer,
    format_number,
    format_p,
    stars,
    to_csv,
    to_html,
    to_latex,
    to_markdown,
    write_table,
)
from alliance.report.tables import model_table, predictor_terms, read_model_outputs, write_model_tables

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ROOT / "tests" / "data" / "model_outputs"

CATALOGUE = [
    {"id": "wsas_growth", "outcome": "wsas", "table": "table_3", "label": "WSAS"},
    {"id": "bsi_growth", "outcome": "bsi", "table": "table_3", "label": "BSI"},
    {"id": "gaf_means", "outcome": "gaf", "kind": "means"},
    {"id": "gaf_growth", "outcome": "gaf", "table": "table_3", "label": "GAF"},
    {"id": "gaf_age", "outcome": "gaf", "predictor": "age", "reference": "gaf_growth", "table": "table_3", "label": "Age"},
    {"id": "gaf_mood_disorder", "outcome": "gaf", "predictor": "mood_disorder", "reference": "gaf_growth",
     "table": "table_3", "label": "Mood disorder"},
    {"id": "gaf_completed_as_planned", "outcome": "gaf", "predictor": "completed_as_planned",
     "reference": "gaf_growth", "table": "table_3", "label": "Completed as planned"},
    {"id": "goals_growth", "outcome": "goals", "table": "table_4", "label": "GOALS"},
    {"id": "goals_poor_outcome", "outcome": "goals", "predictor": "poor_outcome", "reference": "goals_growth",
     "table": "table_4", "label": "Poor vs high outcome"},
    {"id": "tasks_growth", "outcome": "tasks", "table": "table_4", "label": "TASKS"},
    {"id": "tasks_poor_outcome", "outcome": "tasks", "predictor": "poor_outcome", "reference": "tasks_growth",
     "table": "table_4", "label": "Poor vs high outcome"},
    {"id": "tasks_paranoid_pd", "outcome": "tasks", "predictor": "paranoid_pd", "reference": "tasks_growth",
     "table": "table_4", "label": "Paranoid PD"},
    {"id": "tasks_poor_outcome_paranoid1", "outcome": "tasks", "predictor": "poor_outcome",
     "moderator": {"paranoid_pd": 1}, "reference": "tasks_growth", "table": "table_4", "label": "Poor outcome"},
    {"id": "tasks_good_outcome_paranoid0", "outcome": "tasks", "predictor": "good_outcome",
     "moderator": {"paranoid_pd": 0}, "reference": "tasks_growth", "table": "table_4", "label": "High outcome"},
    {"id": "goals_age", "outcome": "goals", "predictor": "age", "reference": "goals_growth"},
]  # fmt: skip


@pytest.fixture(scope="module")
def outputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return read_model_outputs(*(OUTPUTS / f"{name}.csv" for name in ("fits", "estimates", "variance_components")))


def build(table_id: str, outputs, catalogue=CATALOGUE, **kwargs) -> TableFrame:
    fits, estimates, variance_components = outputs
    return model_table(table_id, catalogue, fits, estimates, variance_components, **kwargs)


def row(table: TableFrame, model_id: str) -> dict[str, str]:
    return table.paper.frame.iloc[table.paper.model_ids.index(model_id)].to_dict()


# --------------------------------------------------------------------------------------------------
# Number formatting
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(25.3, "25.30"), (-0.3, "-0.30"), (0.03, "0.03"), (0.034, "0.034"), (0.004, "0.004"), (0.0042, "0.0042"),
     (0.0999, "0.10"), (2.675, "2.68"), (0.0, "0.00"), (-0.001, "-0.001"), (-0.00001, "-0.00001"),
     (float("nan"), ""), (None, "")],
)  # fmt: skip
def test_estimates_keep_two_decimals_or_two_significant_digits(value, expected):
    assert format_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(4531.5, "4532"), (1469.49, "1469"), (22.5, "23"), (-1.4, "-1"), (-0.4, "0"), (35.2, "35"), ("", "")],
)
def test_integers_round_half_up_without_negative_zero(value, expected):
    assert format_integer(value) == expected


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0.00099, "***"), (0.001, "**"), (0.0099, "**"), (0.01, "*"), (0.049, "*"), (0.05, ""), (0.051, ""), (None, "")],
)
def test_stars_follow_p_thresholds(p, expected):
    assert stars(p) == expected


@pytest.mark.parametrize(
    ("p", "expected"), [(0.0004, "< .001"), (0.00099, "< .001"), (0.0012, ".001"), (0.0456, ".046"), (1.0, "1.000")]
)
def test_exact_p(p, expected):
    assert format_p(p) == expected


def test_ns_where_p_reaches_alpha():
    assert format_estimate(-0.03, 0.01, 0.049) == "-0.03 (0.01)*"
    assert format_estimate(-0.03, 0.01, 0.05) == "ns"
    assert format_estimate(-0.03, 0.01, 0.051) == "ns"
    assert format_estimate(-0.03, 0.01, 0.051, ns=False) == "-0.03 (0.01)"
    assert format_estimate(-0.03, 0.01, 0.07, alpha=0.1) == "-0.03 (0.01)"
    assert format_estimate(4.98, 0.1, 1e-9, ns=False, mark=False) == "4.98 (0.10)"


def test_predictor_terms_are_read_from_the_estimates():
    terms = ["Intercept", "time", "poor_outcome[paranoid_pd=1]", "time:poor_outcome[paranoid_pd=1]"]
    assert predictor_terms(terms, "poor_outcome[paranoid_pd=1]") == (terms[2], terms[3])
    assert predictor_terms(terms, "poor_outcome") == (terms[2], terms[3])
    assert predictor_terms(["Intercept", "time", "age", "age:time"], "age") == ("age", "age:time")
    assert predictor_terms(["Intercept", "time"], "age") == (None, None)


# --------------------------------------------------------------------------------------------------
# The paper layout
# --------------------------------------------------------------------------------------------------


def test_table_3_rows_columns_and_cells(outputs):
    table = build("table_3", outputs)
    paper = table.paper
    assert paper.model_ids == (
        "wsas_growth", "bsi_growth", "gaf_growth", "gaf_age", "gaf_mood_disorder", "gaf_completed_as_planned"
    )  # fmt: skip
    assert list(paper.frame.columns) == [
        "Model", "Predictor", "Intercept Mean (SE)", "Linear slope Mean (SE)", "Explained intercept variation %",
        "Explained slope variation %", "AIC",
    ]  # fmt: skip
    assert list(row(table, "wsas_growth").values()) == ["WSAS", "", "25.30 (0.60)", "-0.31 (0.031)", "", "", "3977"]
    assert row(table, "bsi_growth")["Linear slope Mean (SE)"] == "-0.03 (0.0031)"
    assert list(row(table, "gaf_growth").values()) == [
        "GAF", "", "49.00 (0.40)", "0.40 (0.03)", "Reference*", "Reference*", "4532"
    ]  # fmt: skip
    # age p = .051 -> ns; time:age p = .049 -> *; explained -0.4 -> 0, 4.8 -> 5; AIC 4531.5 -> 4532
    assert list(row(table, "gaf_age").values()) == ["", "Age", "ns", "-0.012 (0.0041)*", "0", "5", "4532"]
    mood = row(table, "gaf_mood_disorder")  # p = .0099 -> **, p = .5 -> ns
    assert (mood["Intercept Mean (SE)"], mood["Linear slope Mean (SE)"]) == ("-2.02 (0.90)**", "ns")
    completed = row(table, "gaf_completed_as_planned")  # p = .011 -> *, p = .00099 -> ***
    assert (completed["Intercept Mean (SE)"], completed["Linear slope Mean (SE)"]) == (
        "1.50 (0.60)*",
        "-0.30 (0.06)***",
    )
    assert paper.title == "Linear mixed model estimations: Clinical outcomes and variation for patients in MBT."
    assert paper.heading == "Table III."


def test_non_converged_fits_are_marked(outputs):
    table = build("table_3", outputs)
    assert row(table, "gaf_completed_as_planned")["Predictor"] == f"Completed as planned{DAGGER}"
    assert row(table, "gaf_age")["Predictor"] == "Age"
    dagger_notes = [n for n in table.paper.notes if n.startswith(DAGGER)]
    assert len(dagger_notes) == 1 and "gaf_completed_as_planned" in dagger_notes[0]
    full = table.full.frame
    assert set(full.loc[full["Model ID"] == "gaf_completed_as_planned", "Model"]) == {f"Completed as planned{DAGGER}"}
    assert f"no{DAGGER}" in set(full.loc[full["Model ID"] == "gaf_completed_as_planned", "Converged"])
    assert any("Hessian not positive definite" in n for n in table.full.notes)


def test_failed_and_missing_fits(outputs):
    catalogue = CATALOGUE + [
        {"id": "tasks_not_run", "outcome": "tasks", "predictor": "age", "reference": "tasks_growth",
         "table": "table_4", "label": "Age"},
    ]  # fmt: skip
    table = build("table_4", outputs, catalogue)
    failed = row(table, "tasks_good_outcome_paranoid0")
    assert failed["Predictor"] == f"High outcome{DAGGER}"
    assert failed["Moderator"] == "Paranoid PD=0"
    assert failed["Intercept Mean (SE)"] == failed["Linear slope Mean (SE)"] == failed["AIC"] == ""
    assert row(table, "tasks_not_run")["Predictor"] == f"Age{DOUBLE_DAGGER}"
    assert any(n.startswith(DOUBLE_DAGGER) and "tasks_not_run" in n for n in table.paper.notes)


def test_table_4_reference_rows_follow_the_variance_components(outputs):
    table = build("table_4", outputs)
    goals = row(table, "goals_growth")  # intercept variance p < .05, slope variance p = .08
    assert (goals["Explained intercept variation %"], goals["Explained slope variation %"]) == (
        "Reference*",
        "Reference",
    )
    tasks = row(table, "tasks_growth")
    assert (tasks["Explained intercept variation %"], tasks["Explained slope variation %"]) == (
        "Reference*",
        "Reference*",
    )
    assert goals["Intercept Mean (SE)"] == "4.98 (0.10)" and goals["Linear slope Mean (SE)"] == "0.02 (0.01)"


@pytest.mark.parametrize(("p", "expected"), [(0.049, "Reference*"), (0.05, "Reference"), (0.051, "Reference")])
def test_reference_star_switches_at_alpha(outputs, p, expected):
    fits, estimates, components = outputs
    components = components.copy()
    components.loc[(components["model_id"] == "tasks_growth") & (components["component"] == "slope"), "p_value"] = p
    table = model_table("table_4", CATALOGUE, fits, estimates, components)
    assert row(table, "tasks_growth")["Explained slope variation %"] == expected


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0.00099, "-0.03 (0.01)***"), (0.0011, "-0.03 (0.01)**"), (0.0099, "-0.03 (0.01)**"), (0.011, "-0.03 (0.01)*"),
     (0.049, "-0.03 (0.01)*"), (0.051, "ns")],
)  # fmt: skip
def test_stars_and_ns_follow_the_estimates(outputs, p, expected):
    fits, estimates, components = outputs
    estimates = estimates.copy()
    estimates.loc[
        (estimates["model_id"] == "tasks_poor_outcome") & (estimates["term"] == "time:poor_outcome"), "p_value"
    ] = p
    table = model_table("table_4", CATALOGUE, fits, estimates, components)
    assert row(table, "tasks_poor_outcome")["Linear slope Mean (SE)"] == expected


def test_table_4_predictor_and_moderator_rows(outputs):
    table = build("table_4", outputs)
    assert "Moderator" in table.paper.frame.columns
    assert list(row(table, "tasks_poor_outcome").values()) == [
        "", "Poor vs high outcome", "", "ns", "-0.03 (0.01)***", "8", "35", "1469"
    ]  # fmt: skip
    paranoid = row(table, "tasks_paranoid_pd")  # p exactly .05 -> ns; explained -1.4 -> -1
    assert (paranoid["Intercept Mean (SE)"], paranoid["Explained intercept variation %"]) == ("ns", "-1")
    moderated = row(table, "tasks_poor_outcome_paranoid1")
    assert list(moderated.values()) == ["", "Poor outcome", "Paranoid PD=1", "ns", "-0.05 (0.021)*", "8", "45", "1470"]
    assert row(table, "goals_poor_outcome")["Explained slope variation %"] == "23"  # 22.5
    assert row(table, "tasks_growth")["Model"] == "TASKS"
    assert row(table, "tasks_poor_outcome")["Model"] == ""


def test_rows_follow_the_real_catalogue_order(outputs):
    catalogue = yaml.safe_load((ROOT / "config" / "models.yaml").read_text(encoding="utf-8"))["models"]
    for table_id in ("table_3", "table_4"):
        table = build(table_id, outputs, catalogue)
        # Section headings ("Patient factors") are rows of their own, without a model.
        assert tuple(m for m in table.paper.model_ids if m) == tuple(
            m["id"] for m in catalogue if m.get("table") == table_id
        )
    table_3 = build("table_3", outputs, catalogue).paper
    headings = [table_3.frame.iloc[i]["Predictor"] for i, m in enumerate(table_3.model_ids) if not m]
    assert headings == ["Patient factors", "Treatment factors"]  # as the paper prints Table III
    first = table_3.model_ids.index("gaf_age")
    assert table_3.frame.iloc[first - 1]["Predictor"] == "Patient factors"
    assert set(table_3.frame.iloc[first - 1].drop("Predictor")) == {""}
    table = build("table_4", outputs, catalogue)
    assert list(table.paper.frame["Moderator"])[-4:] == ["Paranoid PD=1", "Paranoid PD=0"] * 2


def test_full_layout_withholds_small_patient_counts(outputs):
    shown = build("table_4", outputs).full.frame["Patients"]
    assert "139" in set(shown)  # the fixture's fits
    hidden = build("table_4", outputs, min_cell=200).full.frame["Patients"]
    assert set(hidden) <= {"< 200", ""} and "< 200" in set(hidden)


def test_catalogue_objects_with_attributes(outputs):
    specs = [SimpleNamespace(**{"predictor": None, "moderator": None, "subset": None, **m}) for m in CATALOGUE]
    assert to_csv(build("table_4", outputs, specs)) == to_csv(build("table_4", outputs))


def test_stars_on_reference_rows_on_request(outputs):
    table = build("table_4", outputs, mark_reference=True)
    assert row(table, "goals_growth")["Intercept Mean (SE)"] == "4.98 (0.10)***"


def test_notes(outputs):
    notes = " ".join(build("table_4", outputs).paper.notes)
    for text in (
        "* (p < 0.05) ** (p < 0.01) or *** (p < 0.001)",
        "ns: not significant",
        "Reference*",
        "Estimation: ML.",
    ):
        assert text in notes
    assert notes.startswith("Notes: Linear mixed model estimations with WAI-S/SR subscales as dependent variables.")


# --------------------------------------------------------------------------------------------------
# The full layout
# --------------------------------------------------------------------------------------------------


def test_full_layout_has_every_term_and_component(outputs):
    full = build("table_4", outputs).full.frame
    moderated = full[full["Model ID"] == "tasks_poor_outcome_paranoid1"]
    assert list(moderated["Term"]) == [
        "Intercept", "time", "poor_outcome[paranoid_pd=1]", "time:poor_outcome[paranoid_pd=1]",
        "Var(intercept)", "Cov(intercept, slope)", "Var(slope)", "Var(residual)",
    ]  # fmt: skip
    slope = moderated[moderated["Term"] == "time:poor_outcome[paranoid_pd=1]"].iloc[0]
    assert (slope["Estimate"], slope["SE"], slope["p"], slope["df"]) == ("-0.05", "0.021", ".020", "479.5")
    assert slope["95% CI"] == "[-0.091, -0.0088]"
    first = moderated.iloc[0]
    assert (first["AIC"], first["Patients"], first["Observations"], first["Converged"]) == (
        "1470.00",
        "139",
        "487",
        "yes",
    )
    assert moderated[moderated["Term"] == "Var(slope)"].iloc[0]["Explained %"] == "45"
    assert set(full.loc[full["Model ID"] == "tasks_good_outcome_paranoid0", "Term"]) == {""}


# --------------------------------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------------------------------


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.rows: list[int] = []
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.stack.append(tag)
        if tag == "tr":
            self.rows.append(0)
        if tag in ("td", "th") and not dict(attrs).get("colspan"):
            self.rows[-1] += 1

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, tag

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("layout", ["paper", "full"])
def test_html_is_well_formed(outputs, layout):
    table = build("table_4", outputs)
    checker = _Checker()
    checker.feed(to_html(table, layout))
    checker.close()
    assert checker.stack == []
    assert {"table", "caption", "thead", "tbody", "tfoot"} <= checker.tags
    assert not {"script", "link", "style"} & checker.tags
    width = len(table.layout(layout).frame.columns)
    assert {n for n in checker.rows if n} == {width}


def test_html_and_latex_escape_cell_text(outputs):
    catalogue = [dict(m) for m in CATALOGUE]
    catalogue[-2]["label"] = "<b>High & 100% #1_x</b>"
    table = build("table_4", outputs, catalogue)
    html_text = to_html(table)
    assert "&lt;b&gt;High &amp; 100% #1_x&lt;/b&gt;" in html_text and "<b>" not in html_text
    assert r"\textless{}b\textgreater{}High \& 100\% \#1\_x" in to_latex(table)


@pytest.mark.parametrize("layout", ["paper", "full"])
def test_latex_is_balanced_and_escaped(outputs, layout):
    table = build("table_4", outputs)
    tex = to_latex(table, layout)
    begins, ends = re.findall(r"\\begin\{(\w+)\}", tex), re.findall(r"\\end\{(\w+)\}", tex)
    assert begins == ["table", "tabular", "minipage"] and sorted(begins) == sorted(ends)
    for marker in ("\\toprule", "\\midrule", "\\bottomrule", "\\caption{"):
        assert marker in tex
    body = "\n".join(line for line in tex.splitlines() if not line.startswith("%"))
    assert not re.search(r"(?<!\\)[_%#]", body)
    width = len(table.layout(layout).frame.columns)
    start, stop = tex.index("\\toprule"), tex.index("\\bottomrule")
    rows = [line for line in tex[start:stop].splitlines() if line.endswith("\\\\")]
    assert len(rows) == len(table.layout(layout).frame) + 1
    assert all(len(re.findall(r"(?<!\\)&", line)) == width - 1 for line in rows)
    if layout == "full":
        assert "tasks\\_poor\\_outcome" in tex


@pytest.mark.parametrize("layout", ["paper", "full"])
def test_markdown_rows_have_equal_columns(outputs, layout):
    table = build("table_4", outputs)
    text = to_markdown(table, layout)
    rows = [line for line in text.splitlines() if line.startswith("|")]
    counts = {len(re.findall(r"(?<!\\)\|", line)) for line in rows}
    assert counts == {len(table.layout(layout).frame.columns) + 1}
    assert len(rows) == len(table.layout(layout).frame) + 2
    assert text.startswith("**Table IV")
    assert "Estimation: ML." in text
    if layout == "paper":
        assert "| Reference\\* |" in text


@pytest.mark.parametrize("layout", ["paper", "full"])
def test_csv_round_trips(outputs, layout):
    table = build("table_3", outputs)
    parsed = list(csv.reader(io.StringIO(to_csv(table, layout))))
    frame = table.layout(layout).frame
    assert parsed[0] == list(frame.columns)
    assert parsed[1:] == frame.astype(str).values.tolist()


def declared(folder: Path, names: list[str]) -> dict[str, Path]:
    """The files a rule would declare in ``folder``, by name (as a script passes its outputs)."""
    return layout.by_name(folder / name for name in names)


def test_write_table_is_byte_deterministic(outputs, tmp_path):
    first = write_table(build("table_4", outputs), declared(tmp_path / "a", layout.table_files(["table_4"])))
    second = write_table(build("table_4", outputs), declared(tmp_path / "b", layout.table_files(["table_4"])))
    assert [p.name for p in first] == [
        "table_4.csv", "table_4.md", "table_4.html", "table_4.tex",
        "table_4_full.csv", "table_4_full.md", "table_4_full.html", "table_4_full.tex",
    ]  # fmt: skip
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert b"\r" not in a.read_bytes()
    table = build("table_3", outputs)
    for render in (to_csv, to_markdown, to_html, to_latex):
        assert render(table) == render(build("table_3", outputs))


# --------------------------------------------------------------------------------------------------
# Declared files
# --------------------------------------------------------------------------------------------------


def test_writers_refuse_a_file_the_rule_does_not_declare(tmp_path):
    """A table the rule does not declare is an error naming it, and nothing is written beside the rule's files."""
    files = declared(tmp_path, layout.table_files(["table_3"]))  # table_4's files are not declared
    with pytest.raises(KeyError, match="table_4.csv is not among the files the rule declares"):
        write_model_tables(
            *(OUTPUTS / f"{name}.csv" for name in ("fits", "estimates", "variance_components")),
            CATALOGUE,
            files,
        )
    assert list(tmp_path.iterdir()) == []


def test_writers_write_exactly_the_declared_files(tmp_path):
    names = layout.table_files(layout.MODEL_TABLES)
    files = declared(tmp_path / "somewhere" / "else", names)
    written = write_model_tables(
        *(OUTPUTS / f"{name}.csv" for name in ("fits", "estimates", "variance_components")), CATALOGUE, files
    )
    assert sorted(written) == sorted(files.values())
    assert sorted(p.name for p in (tmp_path / "somewhere" / "else").iterdir()) == sorted(names)


def test_the_formatting_library_is_a_public_module():
    """Every table formats its cells with one public module; its helpers are not another module's privates."""
    for name in ("to_float", "truthy", "text", "format_number", "format_p", "stars", "write_table", "join_names"):
        assert callable(getattr(formatting, name)), name
    assert formatting.to_float("1.5") == 1.5 and formatting.to_float("x") != formatting.to_float("x")
    assert formatting.truthy("True") and not formatting.truthy("False") and not formatting.truthy(None)
    assert formatting.text(float("nan")) == "" and formatting.text(" a ") == "a"
    assert formatting.TableFrame is TableFrame
