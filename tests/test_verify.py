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
from alliance.verify import compare as verify
from alliance.verify import consistency, manifest, privacy
from exports_factory import valid_exports, write_exports

ROOT = Path(__file__).resolve().parents[1]
MAPPING = verify.load_mapping(ROOT / "config" / "verify.yaml")
PUBLISHED = verify.load_published(ROOT / MAPPING.published)


# --------------------------------------------------------------------------------------------------
# The mapping covers every published number
# --------------------------------------------------------------------------------------------------


def test_every_mapping_entry_points_at_a_published_number():
    for entry in MAPPING.entries:
        value = verify.lookup(PUBLISHED, entry["published"])
        if "part" in entry:
            value = value[entry["part"]]
        if entry.get("kind") == "significance":
            assert isinstance(value, dict), entry
        else:
            assert isinstance(value, float), entry
    for row in MAPPING.model_rows:
        assert isinstance(verify.lookup(PUBLISHED, row["published"]), dict), row
    for finding in MAPPING.findings:
        assert verify.lookup(PUBLISHED, finding["published"]), finding


def test_every_published_table_row_and_text_finding_is_mapped():
    mapped = {e["published"] for e in MAPPING.entries} | {r["published"] for r in MAPPING.model_rows}
    mapped |= {f["published"] for f in MAPPING.findings}
    for table in ("table_3", "table_4"):
        for index in range(len(PUBLISHED[table])):
            assert f"{table}[{index}]" in mapped, (table, index)
    for index, row in enumerate(PUBLISHED["table_2"]["rows"]):
        for group in ("good", "poor"):
            assert f"table_2.rows[{index}].{group}" in mapped, row["label"]
    for index in range(len(PUBLISHED["text_findings"])):
        assert f"text_findings[{index}]" in mapped, index
    mapped |= {item["published"] for item in MAPPING.not_compared}

    def leaves(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from leaves(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list) and path not in ("text_findings",):
            for index, item in enumerate(value):
                yield from leaves(item, f"{path}[{index}]")
        else:
            yield path

    for leaf in leaves(PUBLISHED, ""):
        if leaf == "text_findings":  # each finding is checked above
            continue
        assert any(leaf == m or leaf.startswith((f"{m}.", f"{m}[")) for m in mapped), f"{leaf} is not mapped"


def test_model_rows_name_models_of_the_catalogue():
    catalogue = yaml.safe_load((ROOT / "config" / "models.yaml").read_text())
    ids = {model["id"] for model in catalogue["models"]}
    for row in MAPPING.model_rows:
        assert row["model_id"] in ids, row


def test_published_numbers_keep_their_printed_precision(tmp_path):
    path = tmp_path / "published.yaml"
    path.write_text("a: 0.10\nb: 49\nc: [4.98, 0.1]\nd: -0.003\n")
    loaded = verify.load_published(path)
    assert [verify.decimals_of(loaded[k]) for k in ("a", "b", "d")] == [2, 0, 3]
    assert verify.decimals_of(loaded["c"][1]) == 1
    assert verify.decimals_of(PUBLISHED["table_4"][4]["intercept"][1]) == 2  # "5.04(0.11)"


# --------------------------------------------------------------------------------------------------
# Verdicts
# --------------------------------------------------------------------------------------------------


def test_number_verdicts():
    published = verify.PublishedNumber(-0.02, 2)
    assert verify.compare_number(published, -0.0249, {"se": 1}, 0.01)[0] == "matches"
    assert verify.compare_number(published, -0.026, {"se": 1}, 0.01)[0] == "within tolerance"
    assert verify.compare_number(published, -0.05, {"se": 1}, 0.01)[0] == "differs"
    assert verify.compare_number(verify.PublishedNumber(155, 0), 150, {"relative": 0.05})[0] == "within tolerance"
    assert verify.compare_number(verify.PublishedNumber(155, 0), 140, {"relative": 0.05})[0] == "differs"


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
    return verify.Outputs(root=tmp_path, estimates=estimates, fits=fits, variance_components=components)


ROWS = [
    {"published": "table_4[0]", "model_id": "goals_growth", "intercept_term": "Intercept", "slope_term": "time"},
    {
        "published": "table_4[1]",
        "model_id": "goals_poor",
        "intercept_term": "poor_outcome",
        "slope_term": "time:poor_outcome",
    },
]


def by_id(comparisons):
    return {c.id: c for c in comparisons}


def test_model_rows_match_and_an_altered_number_differs(tmp_path):
    published = yaml.load(PUBLISHED_ROWS, Loader=verify._PublishedLoader)
    mapping = verify.VerifyMapping(published="", tolerances=MAPPING.tolerances, model_rows=ROWS)
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
    published = yaml.load(PUBLISHED_ROWS, Loader=verify._PublishedLoader)
    finding = {
        "id": "f",
        "published": "text_findings[0]",
        "claims": [
            {"model_id": "goals_growth", "term": "time", "direction": "positive", "p": "<.05"},
            {"model_id": "goals_growth", "term": "time", "direction": "negative", "p": "<.05"},
            {"model_id": "not_in_catalogue", "term": "time", "direction": "any", "p": "<.05"},
        ],
    }
    mapping = verify.VerifyMapping(published="", findings=[finding], model_rows=[{**ROWS[0], "model_id": "nope"}])
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
    stat = verify.patient_statistic
    assert stat(patients, {"stat": "n"}) == 4
    assert stat(patients, {"stat": "missing", "column": "outcome_group"}) == 1
    assert stat(patients, {"stat": "pct", "column": "outcome_group", "equals": "poor"}) == pytest.approx(100 / 3)
    assert stat(patients, {"stat": "pct", "column": "treatment_months", "below": 6}) == 50
    assert stat(patients, {"stat": "count", "column": "termination", "equals": "advised"}) == 1
    assert stat(patients, {"stat": "mean", "column": "treatment_months", "where": {"outcome_group": "good"}}) == 20.5


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
    (tmp_path / "tables").mkdir()
    found, checked = consistency.scan_directories(
        [tmp_path / "tables", tmp_path / "manuscript", tmp_path / "x"], tmp_path
    )
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


def test_publishable_files_leave_out_patient_level_areas(tmp_path):
    cohort = cohort_tree(tmp_path)
    names = [p.relative_to(cohort).as_posix() for p in manifest.publishable_files(cohort)]
    assert names == ["figures/figure_1.svg", "models/fits.csv", "tables/table_1.csv"]


def test_manifest_is_deterministic_and_holds_hashes_not_content(tmp_path):
    cohort = cohort_tree(tmp_path)
    exports = write_exports(tmp_path / "exports", valid_exports())
    files = sorted(exports.glob("*.csv"))

    def build():
        return manifest.build_manifest(
            "clinic", cohort, files, exports, {"cohorts": {"clinic": {}}}, [ROOT / "config" / "config.yaml"], ROOT
        )

    first, second = build(), build()
    assert first == second
    text = json.dumps(first)
    assert "A01" not in text and "2011-01-10" not in text
    assert set(first["inputs"]["exports"]) == {p.name for p in files}
    assert first["code"]["code_sha256"] and first["environment"]["packages"]["pandas"]
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:", text)  # no timestamps


def test_a_changed_byte_is_reported(tmp_path):
    cohort = cohort_tree(tmp_path)
    before = manifest.hash_tree(manifest.publishable_files(cohort), cohort)
    path = cohort / "tables" / "table_1.csv"
    path.write_bytes(path.read_bytes().replace(b"2", b"3"))
    (cohort / "figures" / "figure_1.svg").unlink()
    (cohort / "tables" / "table_2.csv").write_text("new\n")
    after = manifest.hash_tree(manifest.publishable_files(cohort), cohort)
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
    project = tmp_path / "project"
    manifest.copy_project(ROOT, project)
    real = write_exports(project / "config" / "clinic_exports", valid_exports())  # inside the project!
    synthetic = write_exports(project / "results" / "synthetic" / "simulated" / "exports", valid_exports())
    manifests = {"synthetic": project / "m.json"}
    manifests["synthetic"].write_text("{}")
    members = manifest.package_members(project, [real], {"synthetic": synthetic}, manifests)
    names = [name for name, _ in members]
    assert "Snakefile" in names and "config/verify.yaml" in names and "workflow/alliance/verify/compare.py" in names
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


def test_cohort_scan_catches_a_small_model_cell_and_skips_patient_level_areas(tmp_path, identifiers):
    from alliance.verify.pipeline import privacy_scan

    cohort = cohort_tree(tmp_path)  # clean/, simulated/, validation.txt hold "A01": patient-level, not scanned
    (cohort / "tables" / "table_3_full.csv").write_text(
        "Model ID,Term,Estimate,Patients,Observations\ngoals_poor_only,Intercept,5.1,3,9\n"
    )
    leaks, scanned = privacy_scan(cohort, identifiers, min_cell=5)
    assert [leak.describe() for leak in leaks] == ["tables/table_3_full.csv:2: small cell (column 'Patients': 3 < 5)"]
    assert scanned == 4  # table_1.csv, table_3_full.csv, figure_1.svg, fits.csv
    (cohort / "models" / "fits.csv").write_text("model_id,note\nx,A01\n")
    leaks, _ = privacy_scan(cohort, identifiers, min_cell=0)
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
    outputs = Outputs(tmp_path, fits=fits, estimates=pd.DataFrame(columns=["model_id", "term", "estimate"]))
    with pytest.raises(NotReproduced, match="WSAS not collected"):
        source_value({"estimates": {"model_id": "wsas_growth", "term": "time"}}, outputs)
