# Mixed models of the catalogue: one job per outcome fits all of that outcome's models in one process
# (a fit takes milliseconds, a job's start seconds); a cluster can still spread the outcomes. Then the
# records are collected into the tables of outputs.md, in catalogue order.


rule fit_models:
    input:
        patients="results/{cohort}/clean/patients.csv",
        wai_long="results/{cohort}/clean/wai_long.csv",
        outcomes_long="results/{cohort}/clean/outcomes_long.csv",
        catalogue=SETTINGS.files.models,
    output:
        "results/{cohort}/models/fits/{outcome}.json",
    log:
        "logs/{cohort}/fit_models/{outcome}.log",
    benchmark:
        "logs/{cohort}/fit_models/{outcome}.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=memory_mb,
        runtime=60,
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
        catalogue=SETTINGS.files.models,
    output:
        **{
            name: f"results/{{cohort}}/models/{name}.csv"
            for name in layout.MODEL_OUTPUTS
        },
    log:
        "logs/{cohort}/collect_models.log",
    benchmark:
        "logs/{cohort}/collect_models.benchmark.tsv"
    localrule: True
    conda:
        "../envs/alliance.yaml"
    threads: 1
    params:
        code=code_version("../scripts/collect_models.py"),
    script:
        "../scripts/collect_models.py"
