# Helpers of the verification rules (workflow/rules/verify.smk).
from pathlib import Path

from alliance.build.project import project_files
from alliance.verify.declared import publishable

VERIFY_MAPPING = SETTINGS.files.verify


def cohort_build(wildcards):
    """The default build's outputs of one cohort."""
    prefix = f"results/{wildcards.cohort}/"
    return [path for path in cohort_outputs(wildcards) if path.startswith(prefix)]


def publishable_outputs(wildcards):
    """Every publishable file the default build writes for a cohort (docs/outputs.md): its targets and the
    files their rules write beside them or on the way (the models' records, the missing-data tables, the
    other formats of its figures, the manuscript's sections), never the patient-level areas. The manifest
    hashes exactly these; the report reads and scans only these.
    """
    prefix = f"results/{wildcards.cohort}/"
    written = [
        *[f"models/fits/{outcome}.json" for outcome in MODEL_GROUPS],
        *[
            f"missing_data/{name}"
            for name in layout.table_files(layout.MISSING_DATA_TABLES)
            + layout.figure_files(layout.PATTERN_FIGURES)
        ],
        *[f"manuscript/{section}.md" for section in layout.MANUSCRIPT_SECTIONS],
        f"manuscript/{layout.DESCRIPTIVES}",
    ]
    return publishable(
        cohort_build(wildcards) + [prefix + name for name in written], prefix
    )


def verify_exports(wildcards):
    """What the privacy scan reads identifiers from: the exports (files, or the simulated directory)."""
    return export_files(wildcards)


def project_sources(wildcards):
    """The project's own files (code, config, docs): the reviewers' package holds them."""
    return [str(path) for path in project_files(Path("."))]
