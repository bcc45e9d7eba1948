"""The verification of a companion study (results/<study>/verify/, part of ``snakemake --cores all verify``):

* **published vs reproduced**: the paper's values (``config/published/<paper>.yaml``) beside the study's, where
  its mapping (``config/verify_<study>.yaml``, JSON and table sources only) says they are, with the verdicts of
  :mod:`alliance.verify.compare` (a frequency label is compared as a word);
* **internal consistency** of its tables (:mod:`alliance.verify.consistency`);
* **privacy**: no session, patient, therapist, rater or participant id and no date of the study's exports in
  any of its publishable outputs (the extreme sessions' list and validation.txt are not publishable);
* **determinism**: the SHA-256 manifest of its publishable outputs (``verify/manifest.json``) against a rebuild
  of the study from its exports, in a scratch folder, by the same code the rules run.

Written as ``verify/report.{md,html,json}`` like a cohort's report.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alliance import layout
from alliance.data.codebook import ID_COLUMNS as PARTICIPANT_IDS
from alliance.data.fidelity import CO_THERAPISTS
from alliance.data.fidelity import ID_COLUMNS as FIDELITY_IDS
from alliance.errors import ConfigError
from alliance.report.fidelity import run_fidelity_study
from alliance.report.qualitative import run_qualitative_study
from alliance.report.thematic_map import write_thematic_map
from alliance.settings import Study
from alliance.verify.compare import Comparison, Outputs, compare_all
from alliance.verify.consistency import check_declared_files
from alliance.verify.declared import Declared
from alliance.verify.manifest import build_manifest, compare_hashes, hash_tree
from alliance.verify.mapping import check_published, check_study_mapping, load_mapping, load_published
from alliance.verify.pipeline import export_files, privacy_scan, write_report
from alliance.verify.privacy import Identifiers, Leak, identifiers_from_exports
from alliance.verify.report import Determinism, VerifyReport

CONSISTENCY_DIRS = ("tables", layout.FIDELITY_DIR)
IDENTIFIERS = {"fidelity": FIDELITY_IDS, "qualitative": PARTICIPANT_IDS}


@dataclass(frozen=True)
class StudyVerifyInputs:
    """What rule study_verify declares, and the only files the verification reads."""

    study: Study
    root: Path  # results/<study>/, which the outputs' names are relative to
    outputs: Sequence[Path]  # the study's publishable outputs
    exports: Sequence[Path]
    mapping: Path | None  # config/verify_<study>.yaml, when the study has one
    published: Path | None  # the published values it names
    config_files: Sequence[Path]


def comparisons(inputs: StudyVerifyInputs) -> list[Comparison]:
    """The study's published values beside its reproduced ones (none without a mapping)."""
    if inputs.mapping is None:
        return []
    mapping = load_mapping(inputs.mapping)
    if inputs.published is None or Path(mapping.published).resolve() != inputs.published.resolve():
        raise ConfigError(
            f"names {mapping.published}, but the rule declares {inputs.published}", mapping.file, "published"
        )
    published = load_published(inputs.published)
    check_published(mapping, published)
    check_study_mapping(mapping)
    return compare_all(mapping, published, Outputs(files=Declared.under(inputs.outputs, inputs.root).files))


def identifiers(study: Study, exports: Sequence[Path]) -> Identifiers:
    """Every id of the study's exports (co-therapists also one by one) and every date."""
    found = identifiers_from_exports(export_files(exports), study.delimiter, study.encoding, IDENTIFIERS[study.kind])
    parts = {part for value in found.patient_ids for part in value.split(CO_THERAPISTS) if part}
    return Identifiers(frozenset(found.patient_ids | parts), found.dates)


def rebuild(study: Study, scratch: Path) -> Path:
    """The study built again from its exports under ``scratch`` by the code its rules run; returns the folder
    that holds the rebuilt results/<study>/ files."""
    root = scratch / study.name
    files = layout.by_name([root / name for name in [*layout.study_files(study.kind), layout.STUDY_QUARANTINE]])
    if study.kind == "fidelity":
        run_fidelity_study(study, files)
    else:
        run_qualitative_study(study, files)
        table = layout.declared(files, "table_prevalence.csv")
        write_thematic_map(table, study.title or study.name, files)
    return root


def determinism(study: Study, outputs: Declared, manifest: Mapping[str, Any]) -> Determinism:
    """The manifest's hashes against those of a rebuild in a scratch folder."""
    with tempfile.TemporaryDirectory(prefix="alliance-study-") as scratch:
        try:
            root = rebuild(study, Path(scratch))
        except Exception as error:  # noqa: BLE001 -- the report says why the rebuild failed
            return Determinism(True, error=f"{type(error).__name__}: {error}", code=dict(manifest["code"]))
        rebuilt = hash_tree([root / name for name in outputs.names() if (root / name).is_file()], root)
    differences = compare_hashes(manifest["outputs"], rebuilt)
    return Determinism(
        ran=True,
        files_compared=len(set(manifest["outputs"]) | set(rebuilt)),
        differences=differences,
        outputs_sha256=str(manifest["outputs_sha256"]),
        code=dict(manifest["code"]),
    )


def verify_study(
    inputs: StudyVerifyInputs, config: Mapping[str, Any], project: Path, files: Mapping[str, Path]
) -> tuple[VerifyReport, list[Leak]]:
    """Write the study's manifest and report (``files``: manifest, md, html, json) and return the report with
    every privacy leak (of the outputs and of the report itself)."""
    study = inputs.study
    publishable = Declared.under(inputs.outputs, inputs.root)  # the manifest refuses a sensitive one
    manifest = build_manifest(study.name, publishable, inputs.exports, config, inputs.config_files, project)
    files["manifest"].parent.mkdir(parents=True, exist_ok=True)
    files["manifest"].write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    findings, checked = check_declared_files(publishable, CONSISTENCY_DIRS)
    found = identifiers(study, inputs.exports)
    leaks, scanned = privacy_scan(publishable, found, 0)
    report = VerifyReport(
        cohort=study.name,
        synthetic=study.example,
        comparisons=comparisons(inputs),
        findings=findings,
        files_checked=checked,
        leaks=leaks,
        files_scanned=scanned + 3,
        min_cell=0,
        determinism=determinism(study, publishable, manifest),
        kind="study",
        mapping_file=str(inputs.mapping or "its mapping"),
        identifiers="id (" + ", ".join(IDENTIFIERS[study.kind]) + ")",
    )
    outputs = {kind: files[kind] for kind in ("md", "html", "json")}
    return report, write_report(report, found, leaks, outputs)
