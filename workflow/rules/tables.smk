# Tables of the paper, regenerated from the machine-readable outputs.


rule model_tables:
    input:
        fits="results/{cohort}/models/fits.csv",
        estimates="results/{cohort}/models/estimates.csv",
        variance_components="results/{cohort}/models/variance_components.csv",
        catalogue=config["models"],
    output:
        table_3=report(
            "results/{cohort}/tables/table_3.html",
            caption="../report/table_3.rst",
            category="Tables",
            labels={"table": "Table III", "cohort": "{cohort}"},
        ),
        table_4=report(
            "results/{cohort}/tables/table_4.html",
            caption="../report/table_4.rst",
            category="Tables",
            labels={"table": "Table IV", "cohort": "{cohort}"},
        ),
        other=expand(
            "results/{{cohort}}/tables/{table}{layout}.{ext}",
            table=("table_3", "table_4"),
            layout=("", "_full"),
            ext=("csv", "md", "tex"),
        )
        + expand(
            "results/{{cohort}}/tables/{table}_full.html", table=("table_3", "table_4")
        ),
    log:
        "logs/{cohort}/model_tables.log",
    conda:
        "../envs/alliance.yaml"
    script:
        "../scripts/model_tables.py"
