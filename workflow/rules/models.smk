# Mixed models of the catalogue: one job per model (so a cluster can spread them), then collected.


rule fit_model:
    input:
        patients="results/{cohort}/clean/patients.csv",
        wai_long="results/{cohort}/clean/wai_long.csv",
        outcomes_long="results/{cohort}/clean/outcomes_long.csv",
        catalogue=config["models"],
    output:
        "results/{cohort}/models/fits/{model_id}.json",
    log:
        "logs/{cohort}/fit_model/{model_id}.log",
    conda:
        "../envs/alliance.yaml"
    script:
        "../scripts/fit_model.py"


rule collect_models:
    input:
        expand("results/{{cohort}}/models/fits/{model_id}.json", model_id=MODEL_IDS),
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
    script:
        "../scripts/collect_models.py"
