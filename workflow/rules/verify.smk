# Peer-review verification (on request: `snakemake --cores all verify`): published vs reproduced,
# internal consistency, privacy scan, SHA-256 manifest and a rebuild in a scratch copy; `package`
# writes the reviewers' reproducibility zip. Not part of the default build (the rebuild doubles it).
# The manifest and the report read the cohort's outputs their rule declares, and only those.


include: "verify_common.smk"


rule verify_manifest:
    input:
        outputs=publishable_outputs,
        exports=export_files,
        config=CONFIG_FILES,
    output:
        manifest="results/{cohort}/verify/manifest.json",
    log:
        "logs/{cohort}/verify_manifest.log",
    localrule: True
    conda:
        "../envs/alliance.yaml"
    threads: 1
    params:
        code=code_version("../scripts/verify_manifest.py"),
    script:
        "../scripts/verify_manifest.py"


rule verify_rebuild:
    input:
        manifest="results/{cohort}/verify/manifest.json",
    output:
        rebuild="results/{cohort}/verify/rebuild.json",
    log:
        "logs/{cohort}/verify_rebuild.log",
    benchmark:
        "logs/{cohort}/verify_rebuild.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 4  # at most --cores; the scratch build runs its jobs on them
    resources:
        # The scratch build's jobs, each at least 1 GB as memory_mb asks, and Snakemake itself; the
        # runtime (minutes) is also the rebuild's time limit.
        mem_mb=lambda wildcards, threads: 1024 * (threads + 1),
        runtime=60,
    params:
        code=code_version("../scripts/verify_rebuild.py"),
    script:
        "../scripts/verify_rebuild.py"


rule verify_report:
    input:
        outputs=publishable_outputs,
        patients="results/{cohort}/clean/patients.csv",
        estimates="results/{cohort}/models/estimates.csv",
        fits="results/{cohort}/models/fits.csv",
        variance_components="results/{cohort}/models/variance_components.csv",
        manifest="results/{cohort}/verify/manifest.json",
        rebuild="results/{cohort}/verify/rebuild.json",
        mapping=SETTINGS.files.verify,
        published=VERIFY.published,
        exports=export_files,
    output:
        md="results/{cohort}/verify/report.md",
        html=report(
            "results/{cohort}/verify/report.html",
            caption="../report/verify.rst",
            category="Verification",
            labels={"report": "Published vs reproduced", "cohort": "{cohort}"},
        ),
        json="results/{cohort}/verify/report.json",
    log:
        "logs/{cohort}/verify_report.log",
    benchmark:
        "logs/{cohort}/verify_report.benchmark.tsv"
    localrule: True
    conda:
        "../envs/alliance.yaml"
    threads: 1
    params:
        code=code_version("../scripts/verify_report.py"),
        delimiter=lambda wildcards: cohort_options(wildcards)["delimiter"],
        encoding=lambda wildcards: cohort_options(wildcards)["encoding"],
        min_cell=min_cell,
        synthetic=lambda wildcards: is_simulated(wildcards.cohort),
    script:
        "../scripts/verify_report.py"


rule verify:
    input:
        expand(
            "results/{cohort}/verify/report.{ext}",
            cohort=COHORTS,
            ext=("md", "html", "json"),
        ),
        STUDY_VERIFY_OUTPUTS,


rule package:
    input:
        sources=project_sources,
        manifests=expand("results/{cohort}/verify/manifest.json", cohort=COHORTS),
        study_manifests=[f"results/{name}/verify/manifest.json" for name in STUDIES],
        synthetic=[
            f"results/{cohort}/simulated/exports"
            for cohort in COHORTS
            if is_simulated(cohort)
        ],
    output:
        zip="results/reproducibility-package.zip",
    log:
        "logs/package.log",
    localrule: True
    conda:
        "../envs/alliance.yaml"
    threads: 1
    params:
        code=code_version("../scripts/package.py"),
        real_exports=[cohort.exports for cohort in COHORTS.values() if cohort.exports]
        + [study.exports for study in STUDIES.values() if not study.example],
        synthetic_exports={
            cohort: f"results/{cohort}/simulated/exports"
            for cohort in COHORTS
            if is_simulated(cohort)
        },
        manifests={
            name: f"results/{name}/verify/manifest.json"
            for name in [*COHORTS, *STUDIES]
        },
    script:
        "../scripts/package.py"
