# Mixed models of the catalogue: one job per outcome fits all of that outcome's models in one process
# (a fit takes milliseconds, a job's start seconds); a cluster can still spread the outcomes. Then the
# records are collected into the tables of outputs.md, in catalogue order.


rule fit_models:
    input:
        patients="results/{cohort}/clean/patients.csv",
        wai_long="results/{cohort}/clean/wai_long.csv",
        outcomes_long="results/{cohort}/clean/outcomes_long.csv",
        catalogue=config["models"],
    output:
        "results/{cohort}/models/fits/{outcome}.json",
    log:
        "logs/{cohort}/fit_models/{outcome}.log",
    benchmark:
        "logs/{cohort}/fit_models/{outcome}.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    params:
        code=code_version("../scripts/fit_models.py"),
        model_ids=lambda wildcards: MODEL_GROUPS[wildcards.outcome],
    script:
        "../scripts/fit_models.py"


rule collect_models:
    input:
        records=expand(
            "results/{{cohort}}/models/fits/{outcome}.json", outcome=MODEL_GROUPS
        ),
        catalogue=config["models"],
    output:
        fits="results/{cohort}/models/fits.csv",
        estimates="results/{cohort}/models/estimates.csv",
        variance_components="results/{cohort}/models/variance_components.csv",
        likelihood_ratio_tests="results/{cohort}/models/likelihood_ratio_tests.csv",
        pattern_averaged="results/{cohort}/models/pattern_averaged.csv",
    log:
        "logs/{cohort}/collect_models.log",
    conda:
        "../envs/alliance.yaml"
    params:
        code=code_version("../scripts/collect_models.py"),
    script:
        "../scripts/collect_models.py"
