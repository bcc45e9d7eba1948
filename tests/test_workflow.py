"""The workflow as a user runs it: `snakemake` in a copy of the project, with good and bad cohorts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from alliance.build.project import copy_project
from conftest import built_copy
from exports_factory import valid_exports, write_exports

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


@pytest.fixture()
def project(tmp_path):
    """A copy of the workflow (no results), as a fresh clone would have it."""
    return copy_project(ROOT, tmp_path / "project")


def run_snakemake(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SNAKEMAKE, "--cores", "2", *args], cwd=project, capture_output=True, text=True, timeout=600, check=False
    )


def cohort_config(project: Path, name: str, exports: Path, **options: str) -> Path:
    lines = ["cohorts:", f"  {name}:", f"    exports: {exports}"]
    lines += [f'    {key}: "{value}"' for key, value in options.items()]
    path = project / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_lint_reports_nothing(project):
    result = run_snakemake(project, "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr


def test_snakefmt_clean():
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/rules"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_new_cohort_from_exports_lands_beside_the_others(project, tmp_path):
    exports = write_exports(tmp_path / "clinic", valid_exports())
    config = cohort_config(project, "clinic", exports)
    result = run_snakemake(project, "results/clinic/clean/patients.csv", "--configfile", str(config))
    assert result.returncode == 0, result.stderr
    clean = project / "results" / "clinic" / "clean"
    patients = pd.read_csv(clean / "patients.csv")
    assert list(patients["patient_id"]) == ["A01", "A02", "A03"]
    accounting = pd.read_csv(clean / "row_accounting.csv")
    assert (accounting.rows_read == accounting.rows_kept).all()
    assert "No problems found." in (project / "results" / "clinic" / "validation.txt").read_text()


def test_a_configfile_naming_cohorts_builds_exactly_those_and_one_cohort_has_its_target(project, tmp_path):
    """`--configfile mine.yaml` naming a cohort plans that cohort alone (not config.yaml's synthetic one as
    well); results/<cohort>/all is one cohort's whole build."""
    config = cohort_config(project, "clinic", write_exports(tmp_path / "clinic", valid_exports()))
    plan = run_snakemake(project, "--dry-run", "--configfile", str(config))
    assert plan.returncode == 0, plan.stderr
    cohorts = set(re.findall(r"wildcards: cohort=(\w+)", plan.stdout + plan.stderr))
    assert cohorts == {"clinic"}
    one = run_snakemake(project, "--dry-run", "results/synthetic/all")
    assert one.returncode == 0, one.stderr
    assert "rule cohort_all" in one.stdout + one.stderr and "cohort=clinic" not in one.stdout + one.stderr
    assert "rule comparison" not in plan.stdout + plan.stderr  # one cohort: nothing to compare
    # A cohort whose bootstrap is off (replicates: 0) plans no bootstrap job; the others keep theirs.
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("cohorts:\n  clinic:\n", "cohorts:\n  synthetic: {}\n  clinic:\n    bootstrap: {replicates: 0}\n")
    )
    both = run_snakemake(project, "--dry-run", "--configfile", str(config))
    assert both.returncode == 0, both.stderr[-2000:]
    assert "rule comparison:" in both.stdout + both.stderr  # two cohorts: compared in the default build
    shards = re.findall(r"bootstrap/shards/(\d+)\.csv", both.stdout)
    assert sorted(set(shards)) == ["0", "1", "2", "3"]  # the default 2,000 replicates in four shards, gathered
    blocks = (both.stdout + both.stderr).split("\nrule ")
    cohorts = {re.search(r"cohort=(\w+)", b).group(1) for b in blocks if b.startswith("bootstrap_") and "cohort=" in b}
    assert cohorts == {"synthetic"}


def test_bad_exports_stop_the_build_with_every_problem_and_no_traceback(project, tmp_path):
    bad = valid_exports()
    bad["patients"][2] = "A02,31,male,2012-09-03,2013-03-01,dropout_late,13"
    bad["gaf"].append("Z77,2014-02-01,44,,")
    exports = write_exports(tmp_path / "clinic", bad)
    config = cohort_config(project, "clinic", exports)
    result = run_snakemake(project, "results/clinic/clean/patients.csv", "--configfile", str(config))
    assert result.returncode != 0
    for expected in (
        "patients.csv, line 3, column 'work_study_months', value '13': out of range",
        "gaf.csv, line 7, column 'patient_id', value 'Z77': unknown patient_id",
    ):
        assert expected in result.stderr
    assert "Traceback" not in result.stderr
    report = (project / "results" / "clinic" / "validation.txt").read_text()
    assert "work_study_months" in report and "Z77" in report
    assert not (project / "results" / "clinic" / "clean" / "patients.csv").exists()


def test_quarantine_goes_on_and_accounts_for_every_row(project, tmp_path):
    bad = valid_exports()
    bad["wai"].append("A03,2014-06-01,WAI-SR,8,3,3,3,3,3,3,3,3,3,3,3")
    exports = write_exports(tmp_path / "clinic", bad)
    config = cohort_config(project, "clinic", exports, on_invalid="quarantine")
    result = run_snakemake(project, "results/clinic/clean/patients.csv", "--configfile", str(config))
    assert result.returncode == 0, result.stderr
    accounting = pd.read_csv(project / "results" / "clinic" / "clean" / "row_accounting.csv").set_index("file")
    assert accounting.loc["wai.csv"].tolist() == [6, 5, 1]
    quarantined = pd.read_csv(project / "results" / "clinic" / "quarantine" / "wai.csv")
    assert quarantined["line"].tolist() == [7]


def test_nordic_dialect_from_config(project, tmp_path):
    directory = tmp_path / "clinic"
    directory.mkdir()
    for name, lines in valid_exports().items():
        text = "\n".join(line.replace(",", ";") for line in lines).replace("23.5", "23,5")
        (directory / f"{name}.csv").write_text(text + "\n")
    config = cohort_config(project, "clinic", directory, delimiter=";", decimal=",")
    result = run_snakemake(project, "results/clinic/clean/patients.csv", "--configfile", str(config))
    assert result.returncode == 0, result.stderr
    patients = pd.read_csv(project / "results" / "clinic" / "clean" / "patients.csv")
    assert patients.loc[0, "sipp_self_control"] == pytest.approx(23.5)


def test_only_required_files_without_optional_columns_in_a_declared_encoding(project, tmp_path):
    exports = {
        name: lines for name, lines in valid_exports().items() if name in ("patients", "diagnoses", "wai", "gaf")
    }
    exports["gaf"] = [",".join(line.split(",")[:3]) for line in exports["gaf"]]  # no gaf_symptom, gaf_function
    exports["patients"] = [exports["patients"][0] + ",unit"] + [f"{line},Ålesund" for line in exports["patients"][1:]]
    directory = write_exports(tmp_path / "clinic", exports)
    for path in directory.glob("*.csv"):
        path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    config = cohort_config(project, "clinic", directory, encoding="cp1252")
    result = run_snakemake(project, "results/clinic/clean/patients.csv", "--configfile", str(config))
    assert result.returncode == 0, result.stderr
    report = (project / "results" / "clinic" / "validation.txt").read_text()
    assert "No problems found." in report
    assert "gaf.csv: optional columns absent, counted as empty: gaf_symptom, gaf_function" in report
    assert "wsas.csv: optional export absent" in report
    patients = pd.read_csv(project / "results" / "clinic" / "clean" / "patients.csv")
    assert patients["outcome_group"].tolist()[0] == "good"


def test_a_wrong_delimiter_is_said_once_per_file_with_its_config_key(project, tmp_path):
    directory = write_exports(tmp_path / "clinic", valid_exports(), delimiter=";")
    config = cohort_config(project, "clinic", directory)
    result = run_snakemake(project, "results/clinic/clean/patients.csv", "--configfile", str(config))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.count("wrong delimiter") == len(valid_exports())  # once per file
    assert 'delimiter: ";"' in result.stderr
    assert "missing column" not in result.stderr


def test_config_errors_are_clear(project, tmp_path):
    config = cohort_config(project, "clinic", tmp_path / "nowhere")
    result = run_snakemake(project, "-n", "--configfile", str(config))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "exports directory" in output and "nowhere" in output
    (project / "bad.yaml").write_text("cohorts:\n  clinic:\n    exports: .\n    on_invalid: ignore\n")
    result = run_snakemake(project, "-n", "--configfile", str(project / "bad.yaml"))
    assert result.returncode != 0
    assert "'ignore' is not one of" in result.stdout + result.stderr


PATIENT_COLUMNS = [  # outputs.md, clean/patients.csv (the listed ones; more may follow)
    "patient_id", "age", "gender", "termination", "completed_as_planned", "treatment_months",
    "work_study_months", "no_work_study", "paranoid_pd", "mood_disorder", "final_gaf", "outcome_group",
    "wsas_outcome", "bsi_outcome", "wai_version_group", "n_wai",
]  # fmt: skip


def test_default_build_follows_the_output_contract(default_build, tmp_path):
    import re

    # The session's build of a fresh copy (tests/conftest.py), copied: a second run finds nothing to do.
    project = built_copy(default_build, tmp_path / "built")
    result = run_snakemake(project)
    assert result.returncode == 0, result.stderr
    assert "Nothing to be done" in result.stdout + result.stderr
    clean = project / "results" / "synthetic" / "clean"
    patients = pd.read_csv(clean / "patients.csv", keep_default_na=False)
    assert [c for c in patients.columns if c in PATIENT_COLUMNS] == PATIENT_COLUMNS
    # The contract's columns, then the common-items scores (config/instruments.yaml wai.common_items).
    assert list(pd.read_csv(clean / "wai_long.csv").columns) == [
        "patient_id", "time_months", "wave", "version", "goals", "bonds", "tasks", "total",
        "goals_common", "bonds_common", "tasks_common",
    ]  # fmt: skip
    assert list(pd.read_csv(clean / "outcomes_long.csv").columns) == [
        "patient_id",
        "time_months",
        "wave",
        "measure",
        "value",
    ]
    assert list(pd.read_csv(clean / "row_accounting.csv").columns) == [
        "file",
        "rows_read",
        "rows_kept",
        "rows_quarantined",
    ]
    assert set(patients["outcome_group"]) == {"good", "poor", ""}
    assert set(patients["wai_version_group"]) <= {"S_only", "SR_only", "both", "none"}

    report = run_snakemake(project, "--report", "report.html")
    assert report.returncode == 0, report.stderr
    html = (project / "report.html").read_text(encoding="utf-8")
    for label in ("Table I", "Table II", "Table III", "Table IV", "Outcome change", "Figure 1", "Figure 2",
                  "Table S2 (robustness)", "Table S3 (pattern mixture)", "Table S4 (WAI version)"):  # fmt: skip
        assert label in html, label
    for stem in ("figure_1", "figure_2"):
        assert all(
            (project / "results" / "synthetic" / "figures" / f"{stem}.{ext}").stat().st_size > 0
            for ext in ("png", "svg", "pdf")
        )

    # Same inputs, same bytes: shown without a third build here. test_resume compares every file under
    # results/ of an independent (killed and resumed) build with this session's build, and
    # test_verify_workflow the scratch rebuild's publishable files.

    # Editing a template re-runs the rendering steps only.
    template = project / "manuscript" / "results.md.j2"
    template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    dry = run_snakemake(project, "--dry-run", "--quiet", "rules")
    assert dry.returncode == 0, dry.stderr
    planned = {match.group(1) for match in re.finditer(r"^(\w+)\s+\d+$", dry.stdout, re.MULTILINE)} - {"total"}
    assert planned == {"manuscript_text", "manuscript_documents", "all"}, dry.stdout

    # Code is an input: editing a package module re-runs the steps whose code imports it, and only those.
    def planned_after_editing(module: str) -> set[str]:
        path = project / "workflow" / "alliance" / module
        path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
        dry = run_snakemake(project, "--dry-run", "--quiet", "rules")
        assert dry.returncode == 0, dry.stderr
        return {match.group(1) for match in re.finditer(r"^(\w+)\s+\d+$", dry.stdout, re.MULTILINE)} - {"total"}

    formatting = planned_after_editing("report/formatting.py")
    assert {"model_tables", "descriptive_tables", "robustness_tables", "manuscript_text"} <= formatting, formatting
    assert not formatting & {"validate_exports", "clean_cohort", "fit_models", "collect_models"}, formatting
    scoring = planned_after_editing("data/scoring.py")
    assert {"clean_cohort", "fit_models", "collect_models", "figures", "missing_data"} <= scoring, scoring
