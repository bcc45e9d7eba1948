# Reproducible workflow for Folmo et al. (2020), "Development of therapeutic alliance in
# mentalization-based treatment". See README.md; the rules live in workflow/rules/.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/studies.smk"
include: "workflow/rules/cohort.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/bootstrap.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/verify.smk"
include: "workflow/rules/missing_data.smk"
include: "workflow/rules/manuscript.smk"
include: "workflow/rules/power.smk"
include: "workflow/rules/comparison.smk"


rule all:
    default_target: True
    input:
        cohort_outputs,
        study_outputs,


# One cohort's whole build: `snakemake --cores all results/<cohort>/all`; the file lists what was built.
rule cohort_all:
    input:
        lambda wildcards: outputs_of(wildcards.cohort),
    output:
        "results/{cohort}/all",
    log:
        "logs/{cohort}/all.log",
    localrule: True
    conda:
        "workflow/envs/alliance.yaml"
    shell:
        "printf '%s\\n' {input} > {output} 2> {log}"
