# Missing-data pattern checks: assessment counts and patterns, Little's MCAR test.


rule missing_data:
    input:
        patients="results/{cohort}/clean/patients.csv",
        wai_long="results/{cohort}/clean/wai_long.csv",
        outcomes_long="results/{cohort}/clean/outcomes_long.csv",
        rows=config["tables"],
    output:
        summary="results/{cohort}/missing_data/summary.json",
        table=report(
            "results/{cohort}/missing_data/table_missing_data.html",
            caption="../report/table_missing_data.rst",
            category="Missing data",
            labels={"table": "Missing data", "cohort": "{cohort}"},
        ),
        other=expand(
            "results/{{cohort}}/missing_data/{table}{layout}.{ext}",
            table=("table_missing_data", "table_missing_final_wai"),
            layout=("", "_full"),
            ext=("csv", "md", "tex"),
        )
        + expand(
            "results/{{cohort}}/missing_data/{table}.html",
            table=(
                "table_missing_data_full",
                "table_missing_final_wai",
                "table_missing_final_wai_full",
            ),
        ),
    log:
        "logs/{cohort}/missing_data.log",
    conda:
        "../envs/alliance.yaml"
    params:
        min_cell=min_cell,
    script:
        "../scripts/missing_data.py"
