# Helpers of the verification rules (workflow/rules/verify.smk).
from pathlib import Path

VERIFY_MAPPING = SETTINGS.files.verify


def cohort_build(wildcards):
    """The default build's outputs of one cohort: the manifest hashes them once they all exist."""
    prefix = f"results/{wildcards.cohort}/"
    return [path for path in cohort_outputs(wildcards) if path.startswith(prefix)]


def verify_exports(wildcards):
    """What the privacy scan reads identifiers from: the exports (files, or the simulated directory)."""
    return export_files(wildcards)
