# Helpers of the verification rules (workflow/rules/verify.smk).
from pathlib import Path

from alliance.build.project import project_files
from alliance.verify.declared import publishable


def publishable_outputs(wildcards):
    """Every publishable file the default build writes for a cohort (docs/outputs.md): its targets and the
    files their rules write beside them or on the way (the models' records, the missing-data tables, the
    other formats of its figures, the manuscript's sections), as those rules declare them, never the
    patient-level areas. The manifest hashes exactly these; the report reads and scans only these.
    """
    on_the_way = (
        rules.fit_models,
        rules.missing_data,
        rules.missing_data_figures,
        rules.manuscript_descriptives,
        rules.manuscript_text,
    )
    written = expand(
        [str(path) for rule in on_the_way for path in rule.output],
        cohort=wildcards.cohort,
        outcome=MODEL_GROUPS,
    )
    return publishable(
        cohort_outputs(wildcards) + written, f"results/{wildcards.cohort}/"
    )


def project_sources(wildcards):
    """The project's own files (code, config, docs): the reviewers' package holds them."""
    return [str(path) for path in project_files(Path("."))]
