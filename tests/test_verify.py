"""Peer-review verification (issue 7): published vs reproduced, internal consistency, privacy scan, manifest
and package. Small inputs written here; the whole `verify` target runs once, in test_verify_workflow.py."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from alliance.build.project import copy_project, project_files
from alliance.errors import ConfigError
from alliance.verify import compare as verify
from alliance.verify import consistency, manifest, privacy
from alliance.verify.declared import Declared, publishable
from alliance.verify.mapping import (
    Claim,
    ModelRow,
    ModelValue,
    PatientStatistic,
    PublishedNumber,
    TextFinding,
    Tolerance,
    VerifyMapping,
    check_published,
    load_mapping,
    load_published,
    mapping_from_text,
    published_from_text,
)
from exports_factory import valid_exports, write_exports

ROOT = Path(__file__).resolve().parents[1]
MAPPING = load_mapping(ROOT / "config" / "verify.yaml")
PUBLISHED = load_published(ROOT / MAPPING.published)
VALUES = PUBLISHED.values


# --------------------------------------------------------------------------------------------------
# The mapping covers every published number
# --------------------------------------------------------------------------------------------------


def test_every_mapping_entry_points_at_a_published_number():
    check_published(MAPPING, PUBLISHED)  # what the workflow checks when it loads
    for entry in MAPPING.entries:
        value = PUBLISHED.value(entry.published)
        if entry.part is not None:
            value = value[entry.part]
        if entry.kind == "significance":
            assert isinstance(value, dict), entry
        else:
            assert isinstance(value, float), entry
    for row in MAPPING.model_rows:
        assert isinstance(PUBLISHED.value(row.published), dict), row
    for finding in MAPPING.findings:
        assert PUBLISHED.value(finding.published), finding


def test_every_published_table_row_and_text_finding_is_mapped():
    mapped = {e.published for e in MAPPING.entries} | {r.published for r in MAPPING.model_rows}
    mapped |= {f.published for f in MAPPING.findings}
    for table in ("table_3", "table_4"):
        for index in range(len(VALUES[table])):
            assert f"{table}[{index}]" in mapped, (table, index)
    for index, row in enumerate(VALUES["table_2"]["rows"]):
        for group in ("good", "poor"):
            assert f"table_2.rows[{index}].{group}" in mapped, row["label"]
    for index in range(len(VALUES["text_findings"])):
        assert f"text_findings[{index}]" in mapped, index
    mapped |= {item.published for item in MAPPING.not_compared}

    def leaves(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from leaves(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list) and path not in ("text_findings",):
            for index, item in enumerate(value):
                yield from leaves(item, f"{path}[{index}]")
        else:
            yield path

    for leaf in leaves(VALUES, ""):
        if leaf == "text_findings":  # each finding is checked above
            continue
        assert any(leaf == m or leaf.startswith((f"{m}.", f"{m}[")) for m in mapped), f"{leaf} is not mapped"


def test_model_rows_name_models_of_the_catalogue():
    catalogue = yaml.safe_load((ROOT / "config" / "models.yaml").read_text())
    ids = {model["id"] for model in catalogue["models"]}
    for row in MAPPING.model_rows:
        assert row.model_id in ids, row


def test_published_numbers_keep_their_printed_precision(tmp_path):
    path = tmp_path / "published.yaml"
    path.write_text("a: 0.10\nb: 49\nc: [4.98, 0.1]\nd: -0.003\n")
    loaded = load_published(path).values
    assert [verify.decimals_of(loaded[k]) for k in ("a", "b", "d")] == [2, 0, 3]
    assert verify.decimals_of(loaded["c"][1]) == 1
    assert verify.decimals_of(VALUES["table_4"][4]["intercept"][1]) == 2  # "5.04(0.11)"


# --------------------------------------------------------------------------------------------------
# The mapping and the published values are checked once, when the workflow loads
# --------------------------------------------------------------------------------------------------

ENTRY = "{published: sample.n_patients, kind: count, source: {patients: {stat: n}}}"


def mapping_with(entry: str = ENTRY, **sections: str) -> str:
    text = (
        f"published: config/published/folmo2020.yaml\ntolerances:\n  count: {{relative: 0.05}}\nentries:\n  - {entry}\n"
    )
    return text + "".join(f"{name}:\n  - {item}\n" for name, item in sections.items())


@pytest.mark.parametrize(
    ("text", "key", "says"),
    [
        (mapping_with("{published: sample.n_patients, kind: count, source: {patients: {stat: median}}}"),
         "entries[0].source.patients.stat", "'median' is not one of"),
        (mapping_with("{published: sample.n_patients, kind: count, source: {patients: {stat: mean}}}"),
         "entries[0].source.patients.column", "missing"),
        (mapping_with("{published: sample.n_patients, kind: tally, source: {patients: {stat: n}}}"),
         "entries[0].kind", "'tally' is not one of"),
        (mapping_with("{published: sample.n_patients, kind: count, sorce: {patients: {stat: n}}}"),
         "entries[0].sorce", "unknown key"),
        (mapping_with("{published: x, kind: significance, expected_p: '<<.05', p_source: {patients: {stat: n}}}"),
         "entries[0].expected_p", "not a significance statement"),
        (mapping_with("{published: x, kind: count, source: {estimates: {model_id: m}}}"),
         "entries[0].source.estimates.term", "missing"),
        (mapping_with("{published: x, kind: count, source: {json: {file: a.json, key: k}, patients: {stat: n}}}"),
         "entries[0].source", "exactly one of"),
        (mapping_with("{published: x, kind: count, source: {table: {file: t.csv, column: c, part: -1}}}"),
         "entries[0].source.table.part", "expected the index"),
        (mapping_with("{published: x, kind: count, tolerance: {absolute: lots}, source: {patients: {stat: n}}}"),
         "entries[0].tolerance.absolute", "expected a number"),
        (mapping_with(findings="{published: x, claims: [{model_id: m, term: time, direction: up}]}"),
         "findings[0].claims[0].direction", "'up' is not one of"),
        (mapping_with(model_rows="{published: 'table_4[0]', label: GOALS}"), "model_rows[0].model_id", "missing"),
        ("entries: []\n", "published", "missing"),
    ],
)  # fmt: skip
def test_a_bad_mapping_entry_is_one_config_error_naming_file_and_key(tmp_path, text, key, says):
    path = tmp_path / "verify.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_mapping(path)
    assert (raised.value.file, raised.value.key) == (str(path), key)
    assert says in str(raised.value) and str(path) in str(raised.value) and key in str(raised.value)


def test_a_mapping_that_is_not_yaml_says_where(tmp_path):
    path = tmp_path / "verify.yaml"
    path.write_text("published: x\nentries: [\n")
    with pytest.raises(ConfigError, match=r"verify.yaml: not valid YAML \(line 3\)"):
        load_mapping(path)


@pytest.mark.parametrize(
    ("text", "key", "says"),
    [
        ("sample:\n  switch: 2012-06-01\n", "sample.switch", "reads as a date"),
        ("table_4:\n  - {intercept: [4.98], slope: ns}\n", "table_4[0].intercept", "expected [estimate, SE] or ns"),
        ("table_4:\n  - {intercept: ns, slope: ns, slope_p: often}\n", "table_4[0].slope_p", "not a significance"),
        ("table_4:\n  - {intercept: ns, slope: ns, aic: high}\n", "table_4[0].aic", "expected a number"),
    ],
)
def test_a_bad_published_value_is_one_config_error_naming_file_and_key(tmp_path, text, key, says):
    path = tmp_path / "published.yaml"
    path.write_text(text)
    rows = ModelRow("table_4[0]", "goals_growth", intercept_term="Intercept", slope_term="time")
    with pytest.raises(ConfigError) as raised:
        check_published(
            VerifyMapping(published=str(path), model_rows=(rows,), file="verify.yaml"), load_published(path)
        )
    assert (raised.value.file, raised.value.key) == (str(path), key)
    assert says in str(raised.value)


def test_a_mapping_entry_naming_no_published_value_names_its_key():
    text = mapping_with("{published: sample.n_patient, kind: count, source: {patients: {stat: n}}}")
    mapping = mapping_from_text(text, "config/verify.yaml")
    with pytest.raises(ConfigError) as raised:
        check_published(mapping, PUBLISHED)
    assert (raised.value.file, raised.value.key) == ("config/verify.yaml", "entries[0].published")
    assert "'sample.n_patient' names no value of" in str(raised.value)


def test_the_mapping_reads_only_files_the_rule_declares(tmp_path):
    table = tmp_path / "results" / "c" / "tables" / "table_2_full.csv"
    table.parent.mkdir(parents=True)
    table.write_text("Characteristic,p\nAge,.030\n")
    entry = (
        "{published: 'table_2.rows[24]', kind: significance, expected_p: <.05, "
        "p_source: {table: {file: tables/table_2_full.csv, row: {Characteristic: Age}, column: p}}}"
    )
    mapping = mapping_from_text(mapping_with(entry), "config/verify.yaml")
    declared = Declared.of([table, tmp_path / "results" / "c" / "models" / "fits.csv"])
    [comparison] = verify.compare_all(mapping, PUBLISHED, verify.Outputs(files=declared.files))
    assert (comparison.reproduced_p, comparison.significance) == (".030", "agrees")
    with pytest.raises(verify.UndeclaredFile) as raised:  # the same file, not declared by the rule
        verify.compare_all(mapping, PUBLISHED, verify.Outputs(files={"tables/table_2.csv": table}))
    assert (raised.value.file, raised.value.key) == ("config/verify.yaml", "entries[0].p_source.table.file")
    assert "'tables/table_2_full.csv' is not among the 1 files the verification rule declares" in str(raised.value)


def test_the_report_reads_the_published_values_the_rule_declares(tmp_path):
    from alliance.verify.pipeline import VerifyInputs, read_mapping

    other = tmp_path / "other.yaml"
    inputs = VerifyInputs([], *[tmp_path / "x.csv"] * 4, ROOT / "config" / "verify.yaml", other, other, None, [])
    with pytest.raises(ConfigError) as raised:
        read_mapping(inputs)
    assert raised.value.key == "published" and "but the verification rule declares" in str(raised.value)


# --------------------------------------------------------------------------------------------------
# Verdicts
# --------------------------------------------------------------------------------------------------


def test_number_verdicts():
    published = PublishedNumber(-0.02, 2)
    se = Tolerance(se=1)
    assert verify.compare_number(published, -0.0249, se, 0.01)[0] == "matches"
    assert verify.compare_number(published, -0.026, se, 0.01)[0] == "within tolerance"
    assert verify.compare_number(published, -0.05, se, 0.01)[0] == "differs"
    assert verify.compare_number(PublishedNumber(155, 0), 150, Tolerance(relative=0.05))[0] == "within tolerance"
    assert verify.compare_number(PublishedNumber(155, 0), 140, Tolerance(relative=0.05))[0] == "differs"


@pytest.mark.parametrize(
    ("expected", "p", "verdict"),
    [
        ("ns", 0.2, "agrees"),
        ("ns", 0.049, "disagrees"),
        ("<.05", 0.03, "agrees"),
        ("<.001", 0.03, "stars differ"),
        ("<.001", 0.2, "disagrees"),
        (">.1", 0.08, "disagrees"),
        ("=.11", 0.114, "agrees"),
        ("", 0.5, "not stated"),
    ],
)
def test_significance_verdicts(expected, p, verdict):
    assert verify.significance_verdict(expected, p) == verdict


PUBLISHED_ROWS = """
table_4:
  - {outcome: goals, predictor: null, intercept: [4.98, 0.1], slope: [0.02, 0.01], aic: 1449, reference: true}
  - {outcome: goals, predictor: poor_outcome, intercept: ns, slope: [-0.02, 0.01], slope_p: "<.05",
     explained_intercept: 0, explained_slope: 23, aic: 1434}
text_findings: ["Goals rise in the good subgroup (p < .05)."]
"""


def outputs(tmp_path: Path, slope: float = -0.021, intercept_p: float = 0.4) -> verify.Outputs:
    estimates = pd.DataFrame(
        [
            ["goals_growth", "Intercept", 4.975, 0.1, 0.0],
            ["goals_growth", "time", 0.021, 0.01, 0.04],
            ["goals_poor", "Intercept", 5.0, 0.1, 0.0],
            ["goals_poor", "time", 0.03, 0.01, 0.01],
            ["goals_poor", "poor_outcome", -0.1, 0.2, intercept_p],
            ["goals_poor", "time:poor_outcome", slope, 0.01, 0.03],
        ],
        columns=["model_id", "term", "estimate", "std_error", "p_value"],
    )
    fits = pd.DataFrame(
        [["goals_growth", 1449.4, None, None], ["goals_poor", 1434.2, 0.3, 23.4]],
        columns=["model_id", "aic", "explained_intercept_pct", "explained_slope_pct"],
    )
    components = pd.DataFrame(
        [["goals_growth", "intercept", 0.001], ["goals_growth", "slope", 0.02]],
        columns=["model_id", "component", "p_value"],
    )
    return verify.Outputs(estimates=estimates, fits=fits, variance_components=components)


ROWS = (
    ModelRow("table_4[0]", "goals_growth", intercept_term="Intercept", slope_term="time"),
    ModelRow("table_4[1]", "goals_poor", intercept_term="poor_outcome", slope_term="time:poor_outcome"),
)


def by_id(comparisons):
    return {c.id: c for c in comparisons}


def test_model_rows_match_and_an_altered_number_differs(tmp_path):
    published = published_from_text(PUBLISHED_ROWS, "published.yaml")
    mapping = VerifyMapping(published="", tolerances=MAPPING.tolerances, model_rows=ROWS)
    results = by_id(verify.compare_all(mapping, published, outputs(tmp_path)))
    assert results["table_4[1].slope.estimate"].verdict == "matches"
    assert results["table_4[1].slope.estimate"].significance == "agrees"
    assert results["table_4[1].intercept"].significance == "agrees"  # ns and p = .4
    assert results["table_4[0].aic"].verdict == "matches"
    assert results["table_4[1].explained_slope"].verdict == "matches"
    assert results["table_4[0].reference_slope"].significance == "agrees"

    altered = by_id(verify.compare_all(mapping, published, outputs(tmp_path, slope=-0.09, intercept_p=0.01)))
    assert altered["table_4[1].slope.estimate"].verdict == "differs"
    assert altered["table_4[1].intercept"].significance == "disagrees"  # "ns" but p = .01
    summary = verify.summarise(list(altered.values()))
    assert summary["values"]["differs"] >= 1 and summary["significance"]["disagrees"] == 1


def test_a_model_that_is_not_fitted_is_not_reproduced_never_skipped(tmp_path):
    published = published_from_text(PUBLISHED_ROWS, "published.yaml")
    claims = (
        Claim("goals_growth", "time", "positive", "<.05"),
        Claim("goals_growth", "time", "negative", "<.05"),
        Claim("not_in_catalogue", "time", "any", "<.05"),
    )
    finding = TextFinding("text_findings[0]", id="f", claims=claims)
    nope = ModelRow("table_4[0]", "nope", intercept_term="Intercept", slope_term="time")
    mapping = VerifyMapping(published="", findings=(finding,), model_rows=(nope,))
    results = verify.compare_all(mapping, published, outputs(tmp_path))
    claims = [c for c in results if c.section == "Text findings"]
    assert [c.significance for c in claims] == ["agrees", "disagrees", "not reproduced"]
    row = [c for c in results if c.section == "table_4"]
    assert {c.verdict for c in row if c.published != "Reference*"} == {"not reproduced"}
    assert {c.significance for c in row} <= {"not reproduced", "not stated"}


def test_patient_statistics():
    patients = pd.DataFrame(
        {
            "outcome_group": ["good", "good", "poor", None],
            "termination": ["planned", "advised", "referred", "planned"],
            "treatment_months": [36.0, 5.0, 20.0, 3.0],
        }
    )

    def stat(**spec):
        return verify.patient_statistic(patients, PatientStatistic(**spec))

    assert stat(stat="n") == 4
    assert stat(stat="missing", column="outcome_group") == 1
    assert stat(stat="pct", column="outcome_group", equals="poor") == pytest.approx(100 / 3)
    assert stat(stat="pct", column="treatment_months", below=6) == 50
    assert stat(stat="count", column="termination", equals="advised") == 1
    assert stat(stat="mean", column="treatment_months", where={"outcome_group": "good"}) == 20.5


# --------------------------------------------------------------------------------------------------
# Internal consistency
# --------------------------------------------------------------------------------------------------

FULL_TABLE = """**Table IV (all estimates).** Title.

| Model ID | Effect | Term | Estimate | SE | df | t / Z | p | 95% CI |
| :--- | :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: |
| goals\\_growth | Fixed | Intercept | 4.98 | 0.10 | 150.2 | 49.80 | \\< .001 | [4.78, 5.18] |
| goals\\_growth | Fixed | time | 0.020 | 0.0080 | 90.1 | 2.50 | .014 | [0.0041, 0.036] |
| goals\\_growth | Random | Var(intercept) | 0.90 | 0.15 |  | 6.00 | \\< .001 |  |
"""


def test_consistent_table_has_no_findings():
    assert consistency.check_text(FULL_TABLE, "tables/table_4_full.md", ".md") == []


@pytest.mark.parametrize(
    ("old", "new", "check"),
    [
        ("| 2.50 | .014 |", "| 3.50 | .014 |", "t = estimate / SE"),
        ("| 2.50 | .014 |", "| 2.50 | .140 |", "p from the test statistic"),
        ("| 6.00 | \\< .001 |", "| 6.00 | .08 |", "p from the test statistic"),
        ("[0.0041, 0.036]", "[0.0141, 0.046]", "95% CI"),
    ],
)
def test_an_injected_inconsistency_is_found_with_its_line(old, new, check):
    assert old in FULL_TABLE
    text = FULL_TABLE.replace(old, new)
    findings = consistency.check_text(text, "tables/table_4_full.md", ".md")
    assert findings and findings[0].check == check  # a wrong t also no longer fits its p: both are named
    line = next(n for n, line in enumerate(text.splitlines(), start=1) if new in line)
    assert {f.location() for f in findings} == {f"tables/table_4_full.md:{line}"}


def test_csv_rows_report_the_file_line():
    text = "Term,Estimate,SE,df,t / Z,p\nIntercept,1.00,0.50,100,2.00,.048\ntime,1.00,0.50,100,2.00,.48\n"
    findings = consistency.check_text(text, "t.csv", ".csv")
    assert [(f.line, f.check) for f in findings] == [(3, "p from the test statistic")]


def test_stars_and_ns_in_table_2_style_rows():
    text = (
        "Characteristic,Good,Poor,Test statistic,p,Sig.\n"
        "Age,26 (6),30 (6),t(146) = -4.05,< .001,***\n"
        "Mood,65,83,chi2(1) = 6.02,.014,*\n"
        "Anxiety,74,71,chi2(1) = 0.15,.70,*\n"
        "PTSD,17,18,t(146) = 2.50,.40,\n"
    )
    findings = consistency.check_text(text, "tables/table_2.csv", ".csv")
    assert [(f.line, f.check) for f in findings] == [
        (4, "stars match p"),
        (5, "p from the test statistic"),
    ]


def test_prose_statistics_in_a_manuscript(tmp_path):
    text = (
        "# Results\n"
        "\n"
        "Goals rose, t(120) = 2.10, p = .038, and Tasks too (b = 0.03, SE = 0.01, t(80.5) = 3.00, p = .004).\n"
        "Bonds did not change, t(100) = 1.20, p < .05.\n"
        "Mood lowered the intercept, z = 2.50, p = .012; the slope was ns, t(90) = 2.80, ns.\n"
        "A chi-square test gave chi2(1) = 3.84, p = .05."
    )
    findings = consistency.check_prose(text, "manuscript/results.md")
    assert [(f.line, f.check) for f in findings] == [(4, "p from the test statistic"), (5, "p from the test statistic")]
    (tmp_path / "manuscript").mkdir()
    (tmp_path / "manuscript" / "results.md").write_text(text)
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "figure_1.svg").write_text("<svg/>")
    declared = Declared.of([tmp_path / "manuscript" / "results.md", tmp_path / "figures" / "figure_1.svg"])
    found, checked = consistency.check_declared_files(declared, ("tables", "manuscript", "x"))
    assert checked == ["manuscript/results.md"] and len(found) == 2


def test_paper_layout_ns_and_stars_are_held_against_the_full_table():
    full = consistency.parse_csv_table(
        "Model ID,Effect,Term,p\n"
        "goals_growth,Fixed,Intercept,< .001\ngoals_growth,Fixed,time,.002\n"
        "goals_poor,Fixed,Intercept,< .001\ngoals_poor,Fixed,time,.010\n"
        "goals_poor,Fixed,poor_outcome,.030\ngoals_poor,Fixed,time:poor_outcome,.0004\n"
    )
    paper = consistency.parse_csv_table(
        "Model,Predictor,Intercept Mean (SE),Linear slope Mean (SE)\n"
        "GOALS,,4.98 (0.10),0.020 (0.0064)\n"
        ",Poor vs high outcome,ns,-0.03 (0.0086)*\n"
    )
    assert full is not None and paper is not None
    findings = consistency.check_paper_against_full(paper, full, "tables/table_4.csv")
    assert [(f.line, f.check) for f in findings] == [(3, "ns means p >= .05"), (3, "stars match p")]

    # A section heading row ("Patient factors", no estimates) is not a model: the rows still line up.
    with_heading = consistency.parse_csv_table(
        "Model,Predictor,Intercept Mean (SE),Linear slope Mean (SE)\n"
        "GOALS,,4.98 (0.10),0.020 (0.0064)\n"
        ",Patient factors,,\n"
        ",Poor vs high outcome,ns,-0.03 (0.0086)*\n"
    )
    assert with_heading is not None
    findings = consistency.check_paper_against_full(with_heading, full, "tables/table_4.csv")
    assert [(f.line, f.check) for f in findings] == [(4, "ns means p >= .05"), (4, "stars match p")]


# --------------------------------------------------------------------------------------------------
# Privacy
# --------------------------------------------------------------------------------------------------


@pytest.fixture()
def identifiers(tmp_path):
    exports = write_exports(tmp_path / "clinic", valid_exports())
    return privacy.identifiers_from_exports(sorted(exports.glob("*.csv")))


def test_identifiers_come_from_the_exports(identifiers):
    assert {"A01", "A02", "A03"} <= identifiers.patient_ids
    assert "2011-01-10" in identifiers.dates and "10.01.2011" in identifiers.dates


def test_a_planted_patient_id_or_date_is_caught_and_named(tmp_path, identifiers):
    tables = tmp_path / "results" / "tables"
    tables.mkdir(parents=True)
    (tables / "table_9.csv").write_text("Model,Patients\ngoals,155\n")
    (tables / "table_9.md").write_text("| Model | Note |\n| --- | --- |\n| goals | patient A02 dropped |\n")
    (tables / "fig.svg").write_text("<svg><text>admitted 2012-09-03</text></svg>\n")
    (tables / "ok.md").write_text("Model A010 and XA01 and 2011-01-100 are not identifiers.\n")
    (tables / "ok.html").write_text('<img src="data:image/png;charset=utf8;base64,iVBO+A01/xyz=">\n')
    files = sorted(tables.iterdir())
    leaks = privacy.scan_files(files, tmp_path / "results", identifiers, 0)
    assert [(leak.file, leak.line, leak.kind) for leak in leaks] == [
        ("tables/fig.svg", 1, "date"),
        ("tables/table_9.md", 3, "patient_id"),
    ]
    assert all("A02" not in leak.describe() for leak in leaks)  # the report names the file, not the id


def test_small_cells_are_caught_in_real_cohort_tables(tmp_path, identifiers):
    table = tmp_path / "table_3_full.csv"
    table.write_text("Model ID,Term,Estimate,Patients,Observations\ngoals_poor_only,Intercept,5.1,3,9\nx,time,1,,\n")
    md = tmp_path / "table_2.md"
    md.write_text(
        "| Characteristic | Good outcome (n = 4) mean (SD) or % | n missing |\n| --- | --- | --- |\n| Age | 26 | 2 |\n"
    )
    text = tmp_path / "results.md"
    text.write_text("Of these, 3 patients (*n* = 3) had no final WAI; *n* = 148 had a final GAF.\n")
    missing = tmp_path / "table_missing_data.csv"
    missing.write_text("Statistic,All,Good\nPatients (n),155,4\n")
    files = [table, md, missing, text]
    leaks = privacy.scan_files(files, tmp_path, identifiers, 5, tables=files)
    assert sorted((leak.file, leak.line) for leak in leaks) == [
        ("results.md", 1),
        ("table_2.md", 1),
        ("table_2.md", 3),
        ("table_3_full.csv", 2),
        ("table_missing_data.csv", 2),
    ]
    assert privacy.scan_files(files, tmp_path, identifiers, 0, tables=files) == []


# --------------------------------------------------------------------------------------------------
# Manifest, rebuild comparison, package
# --------------------------------------------------------------------------------------------------


def cohort_tree(root: Path) -> Path:
    cohort = root / "results" / "clinic"
    for name, text in {
        "tables/table_1.csv": "a,b\n1,2\n",
        "figures/figure_1.svg": "<svg/>",
        "models/fits.csv": "model_id\nx\n",
        "clean/patients.csv": "patient_id\nA01\n",
        "simulated/exports/patients.csv": "patient_id\nA01\n",
        "quarantine/wai.csv": "line\n",
        "validation.txt": "A01 ...",
        "verify/report.md": "# report",
    }.items():
        path = cohort / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return cohort


def declared_outputs(cohort: Path) -> Declared:
    """What rule verify_manifest declares for ``cohort_tree``: its publishable files."""
    written = [p.as_posix() for p in sorted(cohort.rglob("*")) if p.is_file()]
    return Declared.of(publishable(written, cohort.as_posix()))


def test_publishable_files_leave_out_patient_level_areas(tmp_path):
    outputs = declared_outputs(cohort_tree(tmp_path))
    assert outputs.names() == ["figures/figure_1.svg", "models/fits.csv", "tables/table_1.csv"]
    assert outputs.root == tmp_path / "results" / "clinic"


def test_the_manifest_refuses_a_patient_level_file(tmp_path):
    cohort = cohort_tree(tmp_path)
    with pytest.raises(manifest.NotPublishable, match="clean/patients.csv"):
        manifest.output_hashes(Declared.of([cohort / "tables" / "table_1.csv", cohort / "clean" / "patients.csv"]))


def test_manifest_is_deterministic_and_holds_hashes_not_content(tmp_path):
    outputs = declared_outputs(cohort_tree(tmp_path))
    exports = write_exports(tmp_path / "exports", valid_exports())
    files = sorted(exports.glob("*.csv"))

    def build():
        config = {"cohorts": {"clinic": {}}}
        return manifest.build_manifest("clinic", outputs, files, config, [Path("config/config.yaml")], ROOT)

    first, second = build(), build()
    assert first == second
    text = json.dumps(first)
    assert "A01" not in text and "2011-01-10" not in text
    assert set(first["outputs"]) == {"figures/figure_1.svg", "models/fits.csv", "tables/table_1.csv"}
    assert set(first["inputs"]["exports"]) == {p.name for p in files}
    assert set(first["config"]["files"]) == {"config/config.yaml"}  # the files used, named as in the project
    assert first["code"]["code_sha256"] and first["environment"]["packages"]["pandas"]
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:", text)  # no timestamps


def test_a_declared_exports_directory_is_hashed_file_by_file(tmp_path):
    exports = write_exports(tmp_path / "simulated" / "exports", valid_exports())
    hashes = manifest.export_hashes([exports])
    assert set(hashes) == {p.name for p in exports.glob("*.csv")}


def test_a_changed_byte_is_reported(tmp_path):
    cohort = cohort_tree(tmp_path)
    before = manifest.output_hashes(declared_outputs(cohort))
    path = cohort / "tables" / "table_1.csv"
    path.write_bytes(path.read_bytes().replace(b"2", b"3"))
    (cohort / "figures" / "figure_1.svg").unlink()
    (cohort / "tables" / "table_2.csv").write_text("new\n")
    after = manifest.output_hashes(declared_outputs(cohort))
    assert [(d.file, d.status) for d in manifest.compare_hashes(before, after)] == [
        ("figures/figure_1.svg", "missing in rebuild"),
        ("tables/table_1.csv", "differs"),
        ("tables/table_2.csv", "only in rebuild"),
    ]


def test_scratch_config_keeps_one_cohort_with_absolute_exports(tmp_path):
    config = {"cohorts": {"synthetic": {"simulate": {}}, "clinic": {"exports": "data/clinic", "delimiter": ";"}}}
    scratch = manifest.scratch_config(config, "clinic", tmp_path)
    assert scratch["cohorts"] == {"clinic": {"exports": str(tmp_path / "data" / "clinic"), "delimiter": ";"}}
    assert config["cohorts"]["clinic"]["exports"] == "data/clinic"


def test_package_is_deterministic_and_never_holds_real_exports(tmp_path):
    project = copy_project(ROOT, tmp_path / "project")
    real = write_exports(project / "config" / "clinic_exports", valid_exports())  # inside the project!
    synthetic = write_exports(project / "results" / "synthetic" / "simulated" / "exports", valid_exports())
    manifests = {"synthetic": project / "m.json"}
    manifests["synthetic"].write_text("{}")
    sources = project_files(project)
    members = manifest.package_members(project, sources, [real], {"synthetic": synthetic}, manifests)
    names = [name for name, _ in members]
    assert "Snakefile" in names and "config/verify.yaml" in names and "workflow/alliance/verify/compare.py" in names
    assert "README.md" in names and "docs/outputs.md" in names
    assert "synthetic_exports/synthetic/patients.csv" in names
    assert "manifests/synthetic/manifest.json" in names
    assert not any(name.startswith("config/clinic_exports") for name in names)
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    manifest.write_zip(members, {"REVIEWERS.md": manifest.PACKAGE_README}, first)
    manifest.write_zip(list(reversed(members)), {"REVIEWERS.md": manifest.PACKAGE_README}, second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert {info.date_time for info in archive.infolist()} == {manifest.FIXED_TIME}
        assert archive.namelist() == sorted(archive.namelist())


def test_cohort_scan_catches_a_small_model_cell_and_reads_only_the_declared_outputs(tmp_path, identifiers):
    from alliance.verify.pipeline import privacy_scan

    cohort = cohort_tree(tmp_path)  # clean/, simulated/, validation.txt hold "A01": patient-level, not declared
    (cohort / "tables" / "table_3_full.csv").write_text(
        "Model ID,Term,Estimate,Patients,Observations\ngoals_poor_only,Intercept,5.1,3,9\n"
    )
    (cohort / "tables" / "undeclared.csv").write_text("note\nA01\n")
    outputs = Declared.of(p for p in declared_outputs(cohort).paths() if p.name != "undeclared.csv")
    leaks, scanned = privacy_scan(outputs, identifiers, min_cell=5)
    assert [leak.describe() for leak in leaks] == ["tables/table_3_full.csv:2: small cell (column 'Patients': 3 < 5)"]
    assert scanned == 4  # table_1.csv, table_3_full.csv, figure_1.svg, fits.csv
    (cohort / "models" / "fits.csv").write_text("model_id,note\nx,A01\n")
    leaks, _ = privacy_scan(outputs, identifiers, min_cell=0)
    assert [(leak.file, leak.kind) for leak in leaks] == [("models/fits.csv", "patient_id")]


def test_manuscript_apa_statements_are_checked():
    text = (
        "Tasks rose (*b* = 0.03, *SE* = 0.01, *t*(80.5) = 3.00, *p* = .004, 95% CI [0.01, 0.05]).\n"
        "Goals fell (*b* = \u22120.02, *SE* = 0.01, *t*(139.2) = \u22122.10, *p* = .370, 95% CI [\u22120.04, 0.00]).\n"
        "Bonds (*b* = 0.02, *SE* = 0.01, *t*(100.0) = 2.00, *p* = .048, 95% CI [0.10, 0.30]).\n"
        "The fit improved, \u03c7\u00b2(2) = 14.80, *p* < .001, for all subscales (all *p* \u2264 .034).\n"
    )
    findings = consistency.check_prose(text, "manuscript/results.md")
    assert [(f.line, f.check) for f in findings] == [(2, "p from the test statistic"), (3, "95% CI")]


def test_a_model_on_an_instrument_the_cohort_did_not_collect_is_not_reproduced_and_says_why(tmp_path):
    from alliance.verify.compare import NotReproduced, Outputs, source_value

    fits = pd.DataFrame(
        [
            {
                "model_id": "wsas_growth",
                "status": "not collected",
                "warnings": "not analysed: WSAS not collected (no assessments in this cohort's exports)",
            }
        ]
    )
    outputs = Outputs(fits=fits, estimates=pd.DataFrame(columns=["model_id", "term", "estimate"]))
    with pytest.raises(NotReproduced, match="WSAS not collected"):
        source_value(ModelValue("estimates", "wsas_growth", term="time"), outputs)
