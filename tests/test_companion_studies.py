"""The companion studies (issue 16, docs/companion-studies.md): the fidelity and codebook export formats and their
checks, the G study (against textbook examples and lme4), the extreme sessions, the qualitative tables, the
examples, the verification, and the studies in the default build. Package functions are called directly; one
dry run plans a study from a --configfile, and the default build (tests/conftest.py) is only read."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from alliance import layout
from alliance.data.codebook import read_codebook
from alliance.data.companion_examples import generate
from alliance.data.fidelity import read_fidelity
from alliance.data.study_exports import InvalidStudyExportsError
from alliance.errors import ConfigError
from alliance.report.fidelity import run_fidelity_study
from alliance.report.qualitative import run_qualitative_study
from alliance.report.thematic_map import write_thematic_map
from alliance.settings import PETTERSEN_LABELS, load_settings, load_studies
from alliance.stats.extreme_cases import select_extremes
from alliance.stats.fidelity import session_scores
from alliance.stats.generalizability import (
    anova_components,
    g_study_data,
    reml_components,
    variance_components,
)
from alliance.stats.themes import frequency_label
from alliance.verify.declared import publishable
from alliance.verify.mapping import check_published, check_study_mapping, load_mapping, load_published
from alliance.verify.privacy import scan_files
from alliance.verify.studies import StudyVerifyInputs, identifiers, verify_study

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "config" / "examples"
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
SETTINGS = load_settings(CONFIG, ["config/config.yaml"])

# Brennan, R. L. (2001). Generalizability theory. New York: Springer. Chapter 2, Synthetic Data Set No. 1: 10
# persons x 12 items (0/1), a p x i design, with the G study's estimates sigma2(p) = .0574, sigma2(i) = .0754,
# sigma2(pi,e) = .1269 and, for 12 items, E rho^2 = .844 and Phi = .773. Persons play the sessions, items the
# raters (both designs are two crossed random facets with one observation per cell).
BRENNAN_1 = [
    [1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
    [1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0],
    [1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
    [1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 0],
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0],
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
]
# Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater reliability.
# Psychological Bulletin, 86(2), 420-428, Table 2: 6 targets rated by 4 judges; Table 4: ICC(2,1) = .29,
# ICC(3,1) = .71, ICC(2,4) = .62, ICC(3,4) = .91. In G theory ICC(2,k) is the absolute coefficient (Phi) and
# ICC(3,k) the relative one (E rho^2) for the mean of k raters.
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]


def crossed(table: list[list[int]]) -> pd.DataFrame:
    rows = [(f"s{s:02d}", f"r{r:02d}", float(v)) for s, row in enumerate(table) for r, v in enumerate(row)]
    return pd.DataFrame(rows, columns=["session", "rater", "score"])


# --------------------------------------------------------------------------------------------------
# Two subprocesses (lme4's fits, a Snakemake dry run), started with the module so that they run on the other
# core while its other tests run; their tests, at the end, wait for them.
# --------------------------------------------------------------------------------------------------


def start(command: list[str], folder: Path, cwd: Path) -> subprocess.Popen:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "stdout", "w") as out, open(folder / "stderr", "w") as err:
        return subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, text=True)


def finish(process: subprocess.Popen, folder: Path) -> str:
    """Wait for ``process``; its return code must be 0; its stdout and stderr."""
    process.wait(timeout=600)
    output = (folder / "stdout").read_text() + (folder / "stderr").read_text()
    assert process.returncode == 0, output[-3000:]
    return output


@pytest.fixture(scope="module", autouse=True)
def background(tmp_path_factory):
    from alliance.build.project import copy_project

    folder = tmp_path_factory.mktemp("background")
    assert shutil.which("Rscript"), "R is needed (tests/install_r.sh installs it)"
    (folder / "r").mkdir()
    for name, data in r_datasets().items():
        data.to_csv(folder / "r" / f"{name}.csv", index=False)
    fits = start(
        ["Rscript", str(ROOT / "tests" / "r" / "gstudy_reference.R"), str(folder / "r")], folder / "r_log", ROOT
    )
    project = copy_project(ROOT, folder / "project")
    exports = shutil.copytree(EXAMPLES / "gardner", folder / "interviews")
    (project / "mine.yaml").write_text(
        f"studies:\n  interviews:\n    kind: qualitative\n    exports: {exports}\n    verify: config/verify_gardner.yaml\n"
    )
    targets = ["results/interviews/all", "results/interviews/verify/report.md"]
    plan = start(
        [sys.executable, "-m", "snakemake", "-n", *targets, "--configfile", "mine.yaml"], folder / "plan", project
    )
    yield {"folder": folder, "fits": fits, "plan": plan}
    for process in (fits, plan):
        if process.poll() is None:
            process.kill()


# --------------------------------------------------------------------------------------------------
# The G study
# --------------------------------------------------------------------------------------------------


def test_the_g_study_reproduces_brennan_s_synthetic_data_set_1():
    components = variance_components(crossed(BRENNAN_1))
    assert components.method.startswith("ANOVA") and components.balanced
    assert round(components.session, 4) == 0.0574
    assert round(components.rater, 4) == 0.0754
    assert round(components.residual, 4) == 0.1269
    assert round(components.relative(12), 3) == 0.844
    assert round(components.absolute(12), 3) == 0.773


def test_the_g_coefficients_are_shrout_and_fleiss_s_intraclass_correlations():
    components = variance_components(crossed(SHROUT_FLEISS))
    assert [round(x, 2) for x in (components.absolute(1), components.relative(1))] == [0.29, 0.71]
    assert [round(x, 2) for x in (components.absolute(4), components.relative(4))] == [0.62, 0.91]


def test_reml_equals_the_anova_estimates_on_balanced_data():
    for table in (BRENNAN_1, SHROUT_FLEISS):
        anova, reml = anova_components(crossed(table)), reml_components(crossed(table))
        for name, value in anova.components().items():
            assert reml.components()[name] == pytest.approx(value, rel=1e-5, abs=1e-8), name


def r_datasets() -> dict[str, pd.DataFrame]:
    """The G studies checked against lme4: balanced, unbalanced, and the fidelity example's (unbalanced)."""
    ratings = pd.read_csv(EXAMPLES / "folmo2020_fidelity" / "fidelity.csv", dtype=str)
    ratings["quality"] = ratings["quality"].astype(float)
    return {
        "brennan": crossed(BRENNAN_1),
        "shrout_fleiss_unbalanced": crossed(SHROUT_FLEISS).drop([1, 7, 13, 22]).reset_index(drop=True),
        "brennan_unbalanced": crossed(BRENNAN_1).iloc[::3].reset_index(drop=True),
        "folmo2020_quality": g_study_data(ratings, "quality"),
    }


def test_a_g_study_needs_two_raters_of_two_sessions():
    one_rater = crossed([[3], [4], [5]])
    with pytest.raises(Exception, match="two or more sessions rated by two or more raters"):
        variance_components(one_rater)


# --------------------------------------------------------------------------------------------------
# Extreme sessions and frequency labels
# --------------------------------------------------------------------------------------------------


def test_extreme_sessions_break_ties_by_session_id_whatever_the_order_of_the_rows():
    sessions = pd.DataFrame(
        {
            "session_id": ["S5", "S1", "S3", "S2", "S4", "S6"],
            "format": ["individual"] * 5 + ["group"],
            "therapist_id": "T1",
            "ratings": 1,
            "adherence": [7.0, 7.0, 2.0, 7.0, 2.0, 7.0],
            "quality": [7.0, 7.0, 2.0, 6.0, 2.0, 7.0],
        }
    )
    chosen = select_extremes(sessions, k=2, pool="individual")
    again = select_extremes(sessions.sample(frac=1, random_state=3), k=2, pool="individual")
    assert chosen.equals(again)
    assert list(chosen["session_id"]) == ["S1", "S5", "S3", "S4"]  # 7/7 before 7/6; ties by id
    assert list(chosen["selection"]) == ["high", "high", "low", "low"]
    assert set(chosen["pool_sessions"]) == {5}  # the group session is not in the individual pool


def test_pettersen_s_frequency_labels_are_the_default():
    assert [frequency_label(n, 6, PETTERSEN_LABELS) for n in range(7)] == [
        "", "one or two", "one or two", "some", "most", "most", "all",
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------------
# The export formats: every problem with file, line, column and value; stop or quarantine
# --------------------------------------------------------------------------------------------------

FIDELITY_HEADER = "session_id,patient_id,therapist_id,rater_id,format,date,adherence,quality,adherence_01"


def write(folder: Path, files: dict[str, list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_bad_fidelity_ratings_are_each_named_with_line_column_and_value(tmp_path):
    folder = write(
        tmp_path / "ratings",
        {
            "fidelity": [
                FIDELITY_HEADER,
                "S1,P1,T1,R1,individual,2014-01-02,5,4,5",
                "S1,P1,T2,R2,individual,2014-01-02,6,5,",  # another therapist than line 2
                "S2,P2,T1,R1,individual,2014-02-03,8,4,4",  # adherence out of range
                "S3,,T3+T4,R2,plenary,2014-03-04,5,5,9",  # unknown format, item out of range
                "S4,P4,T1,R1,individual,2014-04-01,5,5,",
                "S4,P4,T1,R1,individual,2014-04-01,5,5,",  # the same session and rater again
            ]
        },
    )
    with pytest.raises(InvalidStudyExportsError) as stopped:
        read_fidelity(folder, {"name": "x", "on_invalid": "stop"})
    text = str(stopped.value)
    for expected in (
        (
            "fidelity.csv, line 3, column 'therapist_id', value 'T2': inconsistent session: session 'S1' has "
            "therapist_id 'T1' on line 2"
        ),
        "fidelity.csv, line 4, column 'adherence', value '8': out of range: expected 1-7",
        "fidelity.csv, line 5, column 'format', value 'plenary': not an allowed value",
        "fidelity.csv, line 5, column 'adherence_01', value '9': out of range",
        "fidelity.csv, line 7, column 'session_id+rater_id', value 'S4|R1': duplicate key",
    ):
        assert expected in text, text
    ratings, validated = read_fidelity(folder, {"name": "x", "on_invalid": "quarantine"})
    assert list(ratings.ratings["session_id"]) == ["S1"]
    assert ratings.items == ("01",)
    accounting = validated.accounting.set_index("file").loc["fidelity.csv"]
    assert (accounting.rows_read, accounting.rows_kept, accounting.rows_quarantined) == (6, 1, 5)
    assert list(validated.quarantined["fidelity"]["line"]) == [3, 4, 5, 6, 7]


def test_a_codebook_s_excerpts_name_known_participants_and_themes(tmp_path):
    folder = write(
        tmp_path / "codebook",
        {
            "participants": [
                "participant_id,unit,occupation,years_mbt,years_care,modality",
                "Ann,Interview 1,Nurse,2,10,both",
            ],
            "themes": ["code,name", "1,Being there", "1.1,Arriving", "3.1,Lost", "x,Odd"],
            "excerpts": ["excerpt_id,participant_id,code", "E1,Ann,1.1", "E2,Bob,1.1", "E3,Ann,2"],
        },
    )
    with pytest.raises(InvalidStudyExportsError) as stopped:
        read_codebook(folder, {"name": "x"})
    text = str(stopped.value)
    for expected in (
        "themes.csv, line 4, column 'code', value '3.1': unknown theme: subtheme 3.1 needs a row for theme 3",
        "themes.csv, line 5, column 'code', value 'x': not a theme number",
        "excerpts.csv, line 3, column 'participant_id', value 'Bob': unknown participant_id",
        "excerpts.csv, line 4, column 'code', value '2': unknown theme",
    ):
        assert expected in text, text
    codebook, _ = read_codebook(folder, {"name": "x", "on_invalid": "quarantine"})
    assert [theme.code for theme in codebook.themes] == ["1", "1.1"]
    assert list(codebook.excerpts["excerpt_id"]) == ["E1"]


# --------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------


def test_a_study_may_not_share_a_cohort_s_name_nor_the_comparison_folder():
    config = json.loads(json.dumps(CONFIG))
    config["studies"]["synthetic"] = config["studies"]["gardner"]
    with pytest.raises(ConfigError, match="'synthetic' is also a cohort") as error:
        load_studies(config, "config/config.yaml")
    assert error.value.key == "studies.synthetic"
    config["studies"] = {"comparison": CONFIG["studies"]["gardner"]}
    with pytest.raises(ConfigError, match="the workflow's own folder"):
        load_studies(config, "config/config.yaml")


def test_the_last_frequency_rule_must_label_every_voiced_theme():
    config = json.loads(json.dumps(CONFIG))
    config["studies"]["gardner"]["qualitative"]["frequency_labels"] = [{"label": "all", "share": 1.0}]
    with pytest.raises(ConfigError) as error:
        load_settings(config, ["config/config.yaml"])
    assert error.value.key == "studies.gardner.qualitative.frequency_labels[0]"


def test_a_configfile_naming_cohorts_builds_no_example_study(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("cohorts:\n  synthetic: {}\n")
    assert load_settings(CONFIG, ["config/config.yaml"], [mine]).studies == {}
    mine.write_text("studies:\n  gardner: {}\n")
    assert list(load_settings(CONFIG, ["config/config.yaml"], [mine]).studies) == ["gardner"]


# --------------------------------------------------------------------------------------------------
# The examples, the studies' outputs and their verification
# --------------------------------------------------------------------------------------------------


def test_the_examples_are_what_their_seeded_generator_writes():
    parameters = yaml.safe_load((EXAMPLES / "examples.yaml").read_text(encoding="utf-8"))
    for study, files in generate(parameters).items():
        for name, text in files.items():
            assert (EXAMPLES / study / name).read_text(encoding="utf-8") == text, f"{study}/{name}"
    fidelity = pd.read_csv(EXAMPLES / "folmo2020_fidelity" / "fidelity.csv")
    sessions = session_scores(fidelity)
    assert sessions["format"].value_counts().to_dict() == {"individual": 19, "group": 9}
    assert pd.read_csv(EXAMPLES / "folmo2019" / "fidelity.csv")["session_id"].nunique() == 108


def build_study(name: str, root: Path) -> Path:
    """A study's outputs, by the functions its rules run, under root/<name>/."""
    study = SETTINGS.studies[name]
    folder = root / name
    files = layout.by_name([folder / f for f in [*layout.study_files(study.kind), layout.STUDY_QUARANTINE]])
    if study.kind == "fidelity":
        run_fidelity_study(study, files)
    else:
        run_qualitative_study(study, files)
        write_thematic_map(folder / "tables" / "table_prevalence.csv", study.title, files)
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Every study of config/config.yaml built, from the project folder (the examples' paths are relative)."""
    root = tmp_path_factory.mktemp("studies")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        for name in SETTINGS.studies:
            build_study(name, root)
    return root


def test_the_qualitative_tables_have_the_papers_layouts(built):
    participants = pd.read_csv(
        built / "gardner" / "tables" / "table_participants.csv", dtype=str, keep_default_na=False
    )
    assert participants.iloc[:, 0].tolist() == [
        "One-to-one interview 1", "One-to-one interview 2", "Focus group 1 (4 participants)",
        "Focus group 2 (3 participants)", "Focus group 3 (5 participants)",
    ]  # fmt: skip
    assert participants.iloc[0, 1:].tolist() == ["Consultant clinical psychologist", "5", "20", "Both"]
    assert re.fullmatch(r"\d+\.\d\d \(\d+\.\d\d\)", participants.iloc[2, 2])
    assert participants.iloc[2, 4] == "n = 3 Both; n = 1 Group"
    themes = pd.read_csv(built / "pettersen2021" / "tables" / "table_themes.csv", dtype=str, keep_default_na=False)
    assert themes.columns.tolist() == ["Main themes", "Subthemes"]
    assert themes["Main themes"].tolist() == [
        "Scarcity of explicit personal narratives",
        "",
        "On being a therapist",
        "",
    ]
    prevalence = pd.read_csv(built / "pettersen2021" / "tables" / "table_prevalence.csv", keep_default_na=False)
    assert prevalence["Frequency"].tolist() == ["all", "all", "most", "all", "all", "some"]
    for kind in ("png", "svg", "pdf"):
        assert (built / "gardner" / "figures" / f"thematic_map.{kind}").stat().st_size > 1000


def test_the_fidelity_outputs(built):
    table = pd.read_csv(built / "folmo2020_fidelity" / "fidelity" / "table_fidelity.csv", dtype=str)
    assert table["Format"].tolist() == ["Individual", "Group", "All sessions"]
    assert table[["Sessions", "Therapists", "Raters"]].iloc[0].tolist() == ["19", "8", "5"]
    reliability = json.loads((built / "folmo2019" / "fidelity" / "reliability.json").read_text())
    adherence = reliability["scores"]["adherence"]
    assert (adherence["sessions"], adherence["raters"], adherence["ratings"], adherence["balanced"]) == (
        15,
        2,
        30,
        True,
    )
    assert 0 < adherence["g"]["absolute_single_rater"] <= adherence["g"]["absolute"] <= adherence["g"]["relative"]
    extremes = pd.read_csv(built / "folmo2019" / "fidelity" / "extreme_cases.csv")
    assert extremes["selection"].tolist() == ["high", "high", "low", "low"]
    assert set(extremes["pool_sessions"]) == {108}
    assert publishable([f"results/x/{f}" for f in layout.fidelity_files()], "results/x") == [
        f"results/x/fidelity/{name}"
        for name in (*layout.table_files(["table_fidelity"], ("",)), "reliability.json", "summary.json")
    ]  # the extreme sessions' ids and validation.txt are not publishable


def verify(name: str, built: Path, target: Path) -> dict:
    """The study's verification (as rule study_verify runs it) of its outputs under ``built``."""
    study = SETTINGS.studies[name]
    root = built / name
    outputs = [Path(p) for p in publishable([str(root / f) for f in layout.study_files(study.kind)], str(root))]
    mapping = load_mapping(ROOT / str(study.verify))
    files = {kind: target / name / f"report.{kind}" for kind in ("md", "html", "json")}
    files["manifest"] = target / name / "manifest.json"
    inputs = StudyVerifyInputs(
        study=study,
        root=root,
        outputs=outputs,
        exports=sorted(Path(study.exports).glob("*.csv")),
        mapping=ROOT / str(study.verify),
        published=ROOT / mapping.published,
        config_files=[Path("config/config.yaml")],
    )
    _, leaks = verify_study(inputs, CONFIG, ROOT, files)
    assert not leaks, leaks
    return json.loads(files["json"].read_text())


@pytest.fixture(scope="module")
def verified(built, tmp_path_factory) -> dict[str, dict]:
    """Each study's report.json."""
    target = tmp_path_factory.mktemp("verify")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)  # the examples' paths are relative to the project, as in a build
        return {name: verify(name, built, target) for name in SETTINGS.studies}


def test_each_study_s_verification_sets_the_published_values_beside_its_own(verified):
    for name, report in verified.items():
        assert report["study"] == name and report["synthetic"] is True
        status = report["status"]
        assert (status["privacy"], status["determinism"], status["internal_consistency"]) == ("pass",) * 3, name
        assert report["determinism"]["files_compared"] > 4, name
        assert report["summary"]["values"]["not reproduced"] == 0, name
    labels = [c for c in verified["pettersen2021"]["comparisons"] if c["section"] == "Frequency labels"]
    assert len(labels) == 5 and {c["verdict"] for c in labels} == {"matches"}
    g = next(c for c in verified["folmo2019"]["comparisons"] if c["id"] == "reliability.g_absolute.adherence")
    assert g["verdict"] in ("matches", "within tolerance") and g["source"].startswith("fidelity/reliability.json")


def test_a_pseudonym_or_an_id_in_a_publishable_output_is_a_privacy_leak(built, tmp_path):
    table = built / "gardner" / "tables" / "table_themes.md"
    leaked = tmp_path / "table_themes.md"
    leaked.write_text(table.read_text() + "\nQuoted by Harley.\n")
    found = identifiers(SETTINGS.studies["gardner"], sorted((EXAMPLES / "gardner").glob("*.csv")))
    assert [leak.kind for leak in scan_files([leaked], tmp_path, found, 0)] == ["patient_id"]
    assert not scan_files([table], table.parent, found, 0)
    ratings = identifiers(SETTINGS.studies["folmo2020_fidelity"], [EXAMPLES / "folmo2020_fidelity" / "fidelity.csv"])
    assert {"T09", "T10", "R1", "S001", "P001"} <= ratings.patient_ids  # co-therapists one by one too


def test_every_published_value_of_the_companion_papers_is_compared_or_listed():
    for name, study in SETTINGS.studies.items():
        mapping = load_mapping(ROOT / str(study.verify))
        published = load_published(ROOT / mapping.published)
        check_published(mapping, published)
        check_study_mapping(mapping)
        covered = {entry.published for entry in mapping.entries} | {item.published for item in mapping.not_compared}
        scope = "fidelity" if name == "folmo2020_fidelity" else ""  # the alliance paper: only its fidelity block
        values = published.value(scope) if scope else published.values
        missing = [path for path in leaf_paths(values, scope) if not any(covers(c, path) for c in covered)]
        assert not missing, (name, missing)


def leaf_paths(value: object, prefix: str) -> list[str]:
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in leaf_paths(item, f"{prefix}.{key}" if prefix else key)]
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return [p for index, item in enumerate(value) for p in leaf_paths(item, f"{prefix}[{index}]")]
    return [prefix]


def covers(mapped: str, path: str) -> bool:
    return path == mapped or path.startswith((f"{mapped}.", f"{mapped}["))


# --------------------------------------------------------------------------------------------------
# The workflow: a study of one's own, and the default build
# --------------------------------------------------------------------------------------------------


def test_reml_agrees_with_lme4_on_balanced_and_unbalanced_data(background):
    finish(background["fits"], background["folder"] / "r_log")
    for name, data in r_datasets().items():
        reference = json.loads((background["folder"] / "r" / f"{name}.json").read_text())
        ours = reml_components(data).components()
        for component, value in ours.items():
            assert value == pytest.approx(reference[component], rel=2e-4, abs=1e-6), (name, component)


def test_a_configfile_naming_a_study_plans_that_study_and_its_verification(background):
    output = finish(background["plan"], background["folder"] / "plan")
    planned = {rule for rule, _ in re.findall(r"^(\w+)\s+(\d+)$", output, re.MULTILINE)} - {"total"}
    assert planned == {"qualitative_study", "thematic_map", "study_all", "study_verify"}, planned
    assert set(re.findall(r"results/([\w-]+)/", output)) == {"interviews"}


def test_the_default_build_writes_every_companion_table(default_build):
    results = default_build.project / "results"
    for name, study in SETTINGS.studies.items():
        for file in layout.study_files(study.kind):
            assert (results / name / file).stat().st_size > 0, f"{name}/{file}"
        assert "No problems found." in (results / name / "validation.txt").read_text()
