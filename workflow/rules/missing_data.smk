# Missing-data pattern checks: assessment counts and patterns, Little's MCAR test.


rule missing_data:
    input:
        patients="results/{cohort}/clean/patients.csv",
        wai_long="results/{cohort}/clean/wai_long.csv",
        outcomes_long="results/{cohort}/clean/outcomes_long.csv",
        rows=SETTINGS.files.tables,
    output:
        summary=f"results/{{cohort}}/missing_data/{layout.MISSING_DATA_SUMMARY}",
        table=report(
            "results/{cohort}/missing_data/table_missing_data.html",
            caption="../report/table_missing_data.rst",
            category="Missing data",
            labels={"table": "Missing data", "cohort": "{cohort}"},
        ),
        other=other_formats(
            "results/{cohort}/missing_data",
            layout.table_files(layout.MISSING_DATA_TABLES),
            shown="html",
            of=("table_missing_data",),
        ),
    log:
        "logs/{cohort}/missing_data.log",
    benchmark:
        "logs/{cohort}/missing_data.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=memory_mb,
        runtime=60,
    params:
        code=code_version("../scripts/missing_data.py"),
        min_cell=min_cell,
    script:
        "../scripts/missing_data.py"


rule missing_data_figures:
    input:
        patients="results/{cohort}/clean/patients.csv",
        wai_long="results/{cohort}/clean/wai_long.csv",
    output:
        pattern_map=report(
            "results/{cohort}/missing_data/missing_pattern_map.png",
            caption="../report/missing_pattern_map.rst",
            category="Missing data",
            labels={"figure": "Assessment patterns", "cohort": "{cohort}"},
        ),
        retention=report(
            "results/{cohort}/missing_data/missing_retention.png",
            caption="../report/missing_retention.rst",
            category="Missing data",
            labels={"figure": "Patients assessed per wave", "cohort": "{cohort}"},
        ),
        other=other_formats(
            "results/{cohort}/missing_data",
            layout.figure_files(layout.PATTERN_FIGURES),
            shown="png",
        ),
    log:
        "logs/{cohort}/missing_data_figures.log",
    benchmark:
        "logs/{cohort}/missing_data_figures.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=memory_mb,
        runtime=30,
    params:
        code=code_version("../scripts/missing_data_figures.py"),
        min_cell=min_cell,
        waves=config["analysis"]["schedule"]["wai_months"],
    script:
        "../scripts/missing_data_figures.py"
