# The main findings compared across cohorts (docs/comparison.md): each cohort's estimate, a random-effects
# meta-analysis per finding, a mixed model pooled over the cohorts with cohort as a factor, and a forest
# plot per finding, in results/comparison/. Part of the default build when the config names two or more
# cohorts (cohort_outputs in common.smk); `snakemake --cores all comparison` builds it on request.
COMPARISON_FILES = layout.comparison_files(
    finding.id for finding in CATALOGUE.robustness.findings
)
COMPARISON_OUTPUTS = [f"results/comparison/{name}" for name in COMPARISON_FILES]


rule comparison:
    input:
        fits=expand("results/{cohort}/models/fits.csv", cohort=COHORTS),
        estimates=expand("results/{cohort}/models/estimates.csv", cohort=COHORTS),
        patients=expand("results/{cohort}/clean/patients.csv", cohort=COHORTS),
        wai_long=expand("results/{cohort}/clean/wai_long.csv", cohort=COHORTS),
        outcomes_long=expand("results/{cohort}/clean/outcomes_long.csv", cohort=COHORTS),
        catalogue=SETTINGS.files.models,
    output:
        COMPARISON_OUTPUTS,
    log:
        "logs/comparison.log",
    benchmark:
        "logs/comparison.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=memory_mb,
        runtime=60,
    params:
        code=code_version("../scripts/comparison.py"),
        cohorts=list(COHORTS),
    script:
        "../scripts/comparison.py"
