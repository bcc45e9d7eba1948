# Tables of the paper, regenerated from the machine-readable outputs.


rule model_tables:
    input:
        fits="results/{cohort}/models/fits.csv",
        estimates="results/{cohort}/models/estimates.csv",
        variance_components="results/{cohort}/models/variance_components.csv",
        catalogue=config["models"],
    output:
        expand(
            "results/{{cohort}}/tables/{table}{layout}.{ext}",
            table=("table_3", "table_4"),
            layout=("", "_full"),
            ext=("csv", "md", "html", "tex"),
        ),
    log:
        "logs/{cohort}/model_tables.log",
    conda:
        "../envs/alliance.yaml"
    script:
        "../scripts/model_tables.py"
