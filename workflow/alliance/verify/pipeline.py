"""The verification of one cohort, end to end: published vs reproduced, consistency of the rendered tables and
the manuscript, privacy scan of every publishable output (the report included), determinism from the scratch
rebuild; written as ``verify/report.{md,html,json}``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from alliance.errors import ConfigError
from alliance.verify.compare import Outputs, compare_all
from alliance.verify.consistency import check_declared_files
from alliance.verify.declared import Declared
from alliance.verify.manifest import Difference
from alliance.verify.mapping import VerifyMapping, check_published, load_mapping, load_published
from alliance.verify.privacy import Identifiers, Leak, identifiers_from_exports, scan_files, scan_text
from alliance.verify.report import Determinism, VerifyReport, to_html, to_json, to_markdown

# Folders of results/<cohort>/ whose Markdown and CSV are checked for internal consistency.
CONSISTENCY_DIRS = ("tables", "missing_data", "manuscript")
# Folders whose CSV and Markdown are tables (small-cell check for real cohorts).
TABLE_DIRS = ("tables", "missing_data", "manuscript")


@dataclass(frozen=True)
class VerifyInputs:
    """The files rule verify_report declares, and the only ones the report reads."""

    outputs: Sequence[Path]  # the cohort's publishable outputs (what the manifest hashes)
    patients: Path
    estimates: Path
    fits: Path
    variance_components: Path
    mapping: Path  # config/verify.yaml
    published: Path  # the published values it names
    manifest: Path
    rebuild: Path | None  # None: the scratch rebuild was not run
    exports: Sequence[Path]


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


def privacy_scan(outputs: Declared, identifiers: Identifiers, min_cell: int) -> tuple[list[Leak], int]:
    """Leaks in every declared publishable output of a cohort and the number of files scanned."""
    files = outputs.paths()
    tables = [outputs.files[n] for n in outputs.names(TABLE_DIRS) if n.endswith((".csv", ".md"))]
    return scan_files(files, outputs.root, identifiers, min_cell, tables), len(files)


def read_mapping(inputs: VerifyInputs) -> VerifyMapping:
    """The mapping, checked against the published values the rule declares (the file the mapping names)."""
    mapping = load_mapping(inputs.mapping)
    if Path(mapping.published).resolve() != inputs.published.resolve():
        raise ConfigError(
            f"names {mapping.published}, but the verification rule declares {inputs.published}",
            mapping.file,
            "published",
        )
    return mapping


def write_verify_report(
    cohort: str,
    inputs: VerifyInputs,
    delimiter: str,
    min_cell: int,
    synthetic: bool,
    outputs: Mapping[str, Path],
    encoding: str = "utf-8",
) -> tuple[VerifyReport, list[Leak]]:
    """Write the report (``outputs``: md, html, json paths) and return it with every privacy leak (of the
    outputs and of the report itself)."""
    mapping, published = read_mapping(inputs), load_published(inputs.published)
    check_published(mapping, published)
    publishable = Declared.of(inputs.outputs)
    tables = (inputs.patients, inputs.estimates, inputs.fits, inputs.variance_components)
    cohort_files = Declared.of([*inputs.outputs, *tables])
    comparisons = compare_all(mapping, published, Outputs.read(cohort_files.files, *tables))
    findings, checked = check_declared_files(publishable, CONSISTENCY_DIRS)
    identifiers = identifiers_from_exports(export_files(inputs.exports), delimiter, encoding)
    leaks, scanned = privacy_scan(publishable, identifiers, min_cell)
    manifest = json.loads(inputs.manifest.read_text(encoding="utf-8"))
    rebuild = json.loads(inputs.rebuild.read_text(encoding="utf-8")) if inputs.rebuild else {"ran": False}
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
    return report, write_report(report, identifiers, leaks, outputs)


def write_report(
    report: VerifyReport, identifiers: Identifiers, leaks: Sequence[Leak], outputs: Mapping[str, Path]
) -> list[Leak]:
    """Write the report as Markdown, HTML and JSON; returns ``leaks`` and those in the report's own text."""
    rendered = {"md": to_markdown(report), "html": to_html(report), "json": to_json(report)}
    report_leaks = list(leaks)
    for kind, text in rendered.items():
        path = outputs[kind]
        report_leaks += [leak for leak in scan_text(text, f"verify/{path.name}", identifiers) if leak not in leaks]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return report_leaks
