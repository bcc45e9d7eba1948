# The companion studies (workflow/rules/studies.smk, docs/companion-studies.md): their settings (parsed with the
# rest of the configuration, alliance.settings), their verification mappings checked against the published
# values they name, and the helpers the rules share. Light modules only, as in common.smk.
from alliance.verify.declared import publishable
from alliance.verify.mapping import check_study_mapping

STUDIES = SETTINGS.studies
# What the Snakemake report sees: the studies built.
config["studies"] = {name: config["studies"][name] for name in STUDIES}
try:
    STUDY_MAPPINGS = {
        name: load_mapping(study.verify)
        for name, study in STUDIES.items()
        if study.verify
    }
    for _mapping in STUDY_MAPPINGS.values():
        check_study_mapping(_mapping)
        check_published(_mapping, load_published(_mapping.published))
except AllianceError as error:
    raise WorkflowError(str(error)) from None


def studies_of_kind(kind):
    """A wildcard pattern of the studies of one kind (one that matches nothing when there are none)."""
    names = [name for name, study in STUDIES.items() if study.kind == kind]
    return "|".join(names) or "(?!x)x"


def study_export_files(wildcards):
    """The export files of a study present in its exports folder, so that editing one re-runs the study."""
    study = STUDIES[wildcards.study]
    folder = Path(study.exports)
    return sorted(
        str(folder / f"{name}{suffix}")
        for name in layout.STUDY_EXPORTS[study.kind]
        for suffix in (".csv", ".sav")
        if (folder / f"{name}{suffix}").exists()
    )


def study_outputs_of(name):
    """Every file the default build writes for one study (alliance.layout.study_files)."""
    return [f"results/{name}/{file}" for file in layout.study_files(STUDIES[name].kind)]


def study_outputs(wildcards):
    """Every file the default build writes for the studies the config names."""
    return [path for name in STUDIES for path in study_outputs_of(name)]


def study_publishable(wildcards):
    """A study's publishable outputs (not validation.txt, quarantine/ or its extreme sessions' ids)."""
    name = wildcards.study
    return publishable(study_outputs_of(name), f"results/{name}/")


def study_mapping(wildcards):
    """The study's verification mapping, or nothing."""
    study = STUDIES[wildcards.study]
    return [study.verify] if study.verify else []


def study_published(wildcards):
    """The published values the study's mapping names, or nothing."""
    mapping = STUDY_MAPPINGS.get(wildcards.study)
    return [mapping.published] if mapping else []


def study_config_files(wildcards):
    """The configuration files a study's build reads, for its manifest."""
    return sorted(
        {*SETTINGS.sources, *study_mapping(wildcards), *study_published(wildcards)}
    )


STUDY_VERIFY_OUTPUTS = [
    f"results/{name}/verify/{file}"
    for name in STUDIES
    for file in ("report.md", "report.html", "report.json", "manifest.json")
]
