"""The verification of one cohort, end to end: published vs reproduced, consistency of the rendered tables and
the manuscript, privacy scan of every publishable output (the report included), determinism from the scratch
rebuild; written as ``verify/report.{md,html,json}``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from alliance.verify.compare import Outputs, compare_all, load_mapping, load_published
from alliance.verify.consistency import scan_directories
from alliance.verify.manifest import Difference, publishable_files
from alliance.verify.privacy import Identifiers, Leak, identifiers_from_exports, scan_files, scan_text
from alliance.verify.report import Determinism, VerifyReport, to_html, to_json, to_markdown

# Folders of results/<cohort>/ whose Markdown and CSV are checked for internal consistency.
CONSISTENCY_DIRS = ("tables", "missing_data", "manuscript")
# Folders whose CSV and Markdown are tables (small-cell check for real cohorts).
TABLE_DIRS = ("tables", "missing_data", "manuscript")


def export_files(exports: Sequence[Path]) -> list[Path]:
    """The CSV and SPSS files among ``exports`` (files or directories)."""
    found: list[Path] = []
    for path in exports:
        candidates = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
        found += [p for p in candidates if p.is_file() and p.suffix.lower() in (".csv", ".sav")]
    return sorted(found)


def determinism_from(manifest: Mapping[str, object], rebuild: Mapping[str, object]) -> Determinism:
    differences = [Difference(str(d["file"]), str(d["status"])) for d in rebuild.get("differences", [])]  # type: ignore[attr-defined]
    return Determinism(
        ran=bool(rebuild.get("ran")),
        files_compared=int(rebuild.get("files_compared", 0)),  # type: ignore[call-overload]
        differences=differences,
        error=str(rebuild.get("error", "")),
        outputs_sha256=str(manifest.get("outputs_sha256", "")),
        code=dict(manifest.get("code", {})),  # type: ignore[call-overload]
    )


def privacy_scan(cohort_dir: Path, identifiers: Identifiers, min_cell: int) -> tuple[list[Leak], int]:
    """Leaks in every publishable output of a cohort (the previous verification report excluded: it is
    being rewritten) and the number of files scanned."""
    files = [p for p in publishable_files(cohort_dir, include_verify=True) if p.parent.name != "verify"]
    tables = [p for p in files if p.relative_to(cohort_dir).parts[0] in TABLE_DIRS and p.suffix in (".csv", ".md")]
    return scan_files(files, cohort_dir, identifiers, min_cell, tables), len(files)


def write_verify_report(
    cohort: str,
    cohort_dir: Path,
    mapping_path: Path,
    manifest_path: Path,
    rebuild_path: Path | None,
    exports: Sequence[Path],
    delimiter: str,
    min_cell: int,
    synthetic: bool,
    outputs: Mapping[str, Path],
    patients: Path | None = None,
    encoding: str = "utf-8",
) -> tuple[VerifyReport, list[Leak]]:
    """Write the report (``outputs``: md, html, json paths) and return it with every privacy leak (of the
    outputs and of the report itself)."""
    mapping = load_mapping(mapping_path)
    published = load_published(mapping.published)
    comparisons = compare_all(mapping, published, Outputs.read(cohort_dir, patients))
    findings, checked = scan_directories([cohort_dir / d for d in CONSISTENCY_DIRS], cohort_dir)
    identifiers = identifiers_from_exports(export_files(exports), delimiter, encoding)
    leaks, scanned = privacy_scan(cohort_dir, identifiers, min_cell)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    rebuild = json.loads(rebuild_path.read_text(encoding="utf-8")) if rebuild_path else {"ran": False}
    report = VerifyReport(
        cohort=cohort,
        synthetic=synthetic,
        comparisons=comparisons,
        findings=findings,
        files_checked=checked,
        leaks=leaks,
        files_scanned=scanned + len(outputs),
        min_cell=min_cell,
        determinism=determinism_from(manifest, rebuild),
    )
    rendered = {"md": to_markdown(report), "html": to_html(report), "json": to_json(report)}
    report_leaks = list(leaks)
    for kind, text in rendered.items():
        path = outputs[kind]
        report_leaks += [leak for leak in scan_text(text, f"verify/{path.name}", identifiers) if leak not in leaks]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return report, report_leaks
