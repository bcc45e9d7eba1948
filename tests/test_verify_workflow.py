"""The README's quick-start build and the reviewer's three commands, once, in a fresh copy of the project, each
run as the docs show it (doc_commands.run_documented): the build, `verify` (which rebuilds the cohort from
nothing in a scratch directory), `package`, and `--report` opened in headless Chromium."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from alliance.verify.declared import publishable
from browser import chromium, dump_dom, image_sizes
from conftest import built_copy
from doc_commands import run_documented

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def verified(tmp_path_factory, default_build):
    """A copy of the project after the quick start's build (the session's, tests/conftest.py: the command
    then finds nothing to do), then `verify`."""
    project = built_copy(default_build, tmp_path_factory.mktemp("verify") / "project")
    build = run_documented(project, ".venv/bin/snakemake --cores all")
    assert build.returncode == 0, build.stderr[-5000:]
    result = run_documented(project, ".venv/bin/snakemake --cores all verify")
    assert result.returncode == 0, result.stderr[-5000:]
    return project


def test_verify_writes_the_report_and_the_rebuild_is_byte_identical(verified):
    verify_dir = verified / "results" / "synthetic" / "verify"
    for name in ("report.md", "report.html", "report.json", "manifest.json", "rebuild.json"):
        assert (verify_dir / name).stat().st_size > 0, name
    report = json.loads((verify_dir / "report.json").read_text())
    assert report["status"]["determinism"] == "pass", report["determinism"]
    assert report["determinism"]["files_compared"] > 50
    assert report["status"]["privacy"] == "pass", report["privacy"]
    assert report["status"]["internal_consistency"] == "pass", report["consistency"]["inconsistencies"][:5]
    assert any(name.startswith("tables/table_3") for name in report["consistency"]["files_checked"])
    counts = report["summary"]["values"]
    numbers = [c for c in report["comparisons"] if c["verdict"]]
    assert sum(counts.values()) == len(numbers) > 150
    for comparison in report["comparisons"]:  # only a model the catalogue does not fit (yet) may be missing
        if comparison["verdict"] == "not reproduced":
            assert comparison["note"].startswith("no model_id="), comparison
    markdown = (verify_dir / "report.md").read_text()
    assert "## Published vs reproduced" in markdown and report["summary_line"] in markdown
    manifest = json.loads((verify_dir / "manifest.json").read_text())
    assert "tables/table_4.csv" in manifest["outputs"]
    assert not any(name.startswith(("clean/", "simulated/")) for name in manifest["outputs"])
    # The rule declares every publishable file the build writes, and the manifest hashes exactly those.
    cohort = verified / "results" / "synthetic"
    written = [p.relative_to(verified).as_posix() for p in cohort.rglob("*") if p.is_file()]
    hashed = {f"results/synthetic/{name}" for name in manifest["outputs"]}
    assert hashed == set(publishable(written, "results/synthetic"))
    assert set(manifest["inputs"]["exports"]) >= {"patients.csv", "wai.csv"}
    assert {"config/config.yaml", "config/models.yaml", "config/verify.yaml"} <= set(manifest["config"]["files"])


def test_package_holds_code_config_synthetic_exports_and_manifest(verified):
    result = run_documented(verified, ".venv/bin/snakemake --cores all package")
    assert result.returncode == 0, result.stderr[-3000:]
    package = verified / "results" / "reproducibility-package.zip"
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
    assert {"Snakefile", "REVIEWERS.md", "config/verify.yaml", "manifests/synthetic/manifest.json"} <= set(names)
    assert "synthetic_exports/synthetic/patients.csv" in names
    assert not any(name.startswith("results/") for name in names)


def test_the_report_after_a_build(verified):
    result = run_documented(verified, ".venv/bin/snakemake --report report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    text = (verified / "report.html").read_text(encoding="utf-8")
    for label in ("Table I", "Table IV", "Figure 1", "Figure 2", "Table S2 (robustness)"):
        assert label in text, label


def test_snakemake_report_shows_tables_figures_and_verification_in_chromium(verified, tmp_path):
    result = run_documented(verified, ".venv/bin/snakemake --report report.html verify")
    assert result.returncode == 0, result.stderr[-3000:]
    page = verified / "report.html"
    text = page.read_text(encoding="utf-8")
    for label in ("Table III", "Table IV", "Figure 1", "Figure 2", "Verification", "Published vs reproduced"):
        assert label in text, label
    if chromium() is None:
        pytest.skip("chromium is not installed (tests/install_system.sh installs it)")
    dom = dump_dom(page)
    assert "<nav" in dom and "Verification" in dom, "the report's app did not render"
    figures = dict(re.findall(r'"data_uri": "(data:image/(?:png|svg\+xml)[^"]*filename=([^;"]+)[^"]*)"', text))
    uris = {name: uri for uri, name in figures.items()}
    assert {"figure_1.png", "figure_2.png"} <= set(uris), sorted(uris)
    sizes = image_sizes(uris, tmp_path)
    for name in uris:
        width, height = sizes[name]
        assert width > 100 and height > 100, (name, width, height)
