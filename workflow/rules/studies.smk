# Companion studies (docs/companion-studies.md): each study of the config's `studies:` is read from its own
# exports (a fidelity study's ratings, docs/fidelity-format.md; a qualitative study's codebook,
# docs/qualitative-format.md) and built into results/<study>/ by one step (a qualitative study's thematic map
# by a second). Their verification joins the `verify` target. The files are listed once, in alliance.layout.
# On a cluster the studies' steps are light (local rules), their map a job like the cohort's figures.


include: "studies_common.smk"


rule fidelity_study:
    input:
        exports=study_export_files,
    output:
        validation=f"results/{{study}}/{layout.STUDY_VALIDATION}",
        quarantine=directory(f"results/{{study}}/{layout.STUDY_QUARANTINE}"),
        table=report(
            "results/{study}/fidelity/table_fidelity.html",
            caption="../report/table_fidelity.rst",
            category="Companion studies",
            labels={"study": "{study}", "output": "Table 1 (fidelity)"},
        ),
        other=other_formats(
            "results/{study}/fidelity",
            [
                name.split("/", 1)[1]
                for name in layout.fidelity_files()
                if name.startswith("fidelity/")
            ],
            shown="html",
            of=[layout.FIDELITY_TABLE],
        ),
    log:
        "logs/{study}/fidelity_study.log",
    wildcard_constraints:
        study=studies_of_kind("fidelity"),
    localrule: True
    conda:
        "../envs/alliance.yaml"
    threads: 1
    params:
        code=code_version("../scripts/fidelity_study.py"),
        study=lambda wildcards: STUDIES[wildcards.study],
    script:
        "../scripts/fidelity_study.py"


rule qualitative_study:
    input:
        exports=study_export_files,
    output:
        validation=f"results/{{study}}/{layout.STUDY_VALIDATION}",
        quarantine=directory(f"results/{{study}}/{layout.STUDY_QUARANTINE}"),
        participants=report(
            "results/{study}/tables/table_participants.html",
            caption="../report/table_participants.rst",
            category="Companion studies",
            labels={"study": "{study}", "output": "Table 1 (participants)"},
        ),
        themes=report(
            "results/{study}/tables/table_themes.html",
            caption="../report/table_themes.rst",
            category="Companion studies",
            labels={"study": "{study}", "output": "Table 2 (themes)"},
        ),
        prevalence=report(
            "results/{study}/tables/table_prevalence.html",
            caption="../report/table_prevalence.rst",
            category="Companion studies",
            labels={"study": "{study}", "output": "Table 3 (prevalence)"},
        ),
        other=other_formats(
            "results/{study}/tables",
            [
                *layout.table_files(
                    layout.QUALITATIVE_TABLES, layout.STUDY_TABLE_LAYOUTS
                ),
                layout.QUALITATIVE_SUMMARY,
            ],
            shown="html",
            of=layout.QUALITATIVE_TABLES,
        ),
    log:
        "logs/{study}/qualitative_study.log",
    wildcard_constraints:
        study=studies_of_kind("qualitative"),
    localrule: True
    conda:
        "../envs/alliance.yaml"
    threads: 1
    params:
        code=code_version("../scripts/qualitative_study.py"),
        study=lambda wildcards: STUDIES[wildcards.study],
    script:
        "../scripts/qualitative_study.py"


rule thematic_map:
    input:
        prevalence="results/{study}/tables/table_prevalence.csv",
    output:
        figure=report(
            "results/{study}/figures/thematic_map.png",
            caption="../report/thematic_map.rst",
            category="Companion studies",
            labels={"study": "{study}", "output": "Thematic map"},
        ),
        other=other_formats(
            "results/{study}/figures",
            layout.figure_files([layout.THEMATIC_MAP]),
            shown="png",
        ),
    log:
        "logs/{study}/thematic_map.log",
    wildcard_constraints:
        study=studies_of_kind("qualitative"),
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=memory_mb,
        runtime=30,
    params:
        code=code_version("../scripts/thematic_map.py"),
        title=lambda wildcards: STUDIES[wildcards.study].title or wildcards.study,
    script:
        "../scripts/thematic_map.py"


# One study's whole build: `snakemake --cores all results/<study>/all`; the file lists what was built.
rule study_all:
    input:
        lambda wildcards: study_outputs_of(wildcards.study),
    output:
        "results/{study}/all",
    log:
        "logs/{study}/all.log",
    wildcard_constraints:
        study="|".join(STUDIES) or "(?!x)x",
    localrule: True
    conda:
        "../envs/alliance.yaml"
    shell:
        "printf '%s\\n' {input} > {output} 2> {log}"


# A study's verification (part of the `verify` target): published vs reproduced, consistency, privacy, and
# its manifest against a rebuild from its exports in a scratch folder.
rule study_verify:
    input:
        outputs=study_publishable,
        exports=study_export_files,
        mapping=study_mapping,
        published=study_published,
        config=study_config_files,
    output:
        md="results/{study}/verify/report.md",
        html=report(
            "results/{study}/verify/report.html",
            caption="../report/verify_study.rst",
            category="Companion studies",
            labels={"study": "{study}", "output": "Verification"},
        ),
        json="results/{study}/verify/report.json",
        manifest="results/{study}/verify/manifest.json",
    log:
        "logs/{study}/study_verify.log",
    wildcard_constraints:
        study="|".join(STUDIES) or "(?!x)x",
    localrule: True
    conda:
        "../envs/alliance.yaml"
    threads: 1
    params:
        code=code_version("../scripts/study_verify.py"),
        study=lambda wildcards: STUDIES[wildcards.study],
        root=lambda wildcards: f"results/{wildcards.study}",
    script:
        "../scripts/study_verify.py"
