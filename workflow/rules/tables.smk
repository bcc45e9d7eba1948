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
    params:
        code=code_version("../scripts/model_tables.py"),
        min_cell=min_cell,
    script:
        "../scripts/model_tables.py"


rule descriptive_tables:
    input:
        patients="results/{cohort}/clean/patients.csv",
        instruments=config["instruments"],
        rows=config["tables"],
    output:
        table_1=report(
            "results/{cohort}/tables/table_1.html",
            caption="../report/table_1.rst",
            category="Tables",
            labels={"table": "Table I", "cohort": "{cohort}"},
        ),
        table_2=report(
            "results/{cohort}/tables/table_2.html",
            caption="../report/table_2.rst",
            category="Tables",
            labels={"table": "Table II", "cohort": "{cohort}"},
        ),
        outcome_change=report(
            "results/{cohort}/tables/table_outcome_change.html",
            caption="../report/table_outcome_change.rst",
            category="Tables",
            labels={"table": "Outcome change", "cohort": "{cohort}"},
        ),
        other=expand(
            "results/{{cohort}}/tables/{table}{layout}.{ext}",
            table=("table_1", "table_2", "table_outcome_change"),
            layout=("", "_full"),
            ext=("csv", "md", "tex"),
        )
        + expand(
            "results/{{cohort}}/tables/{table}_full.html",
            table=("table_1", "table_2", "table_outcome_change"),
        ),
    log:
        "logs/{cohort}/descriptive_tables.log",
    conda:
        "../envs/alliance.yaml"
    params:
        code=code_version("../scripts/descriptive_tables.py"),
        min_cell=min_cell,
    script:
        "../scripts/descriptive_tables.py"


rule robustness_tables:
    input:
        fits="results/{cohort}/models/fits.csv",
        estimates="results/{cohort}/models/estimates.csv",
        likelihood_ratio_tests="results/{cohort}/models/likelihood_ratio_tests.csv",
        pattern_averaged="results/{cohort}/models/pattern_averaged.csv",
        catalogue=config["models"],
    output:
        table_robustness=report(
            "results/{cohort}/tables/table_robustness.html",
            caption="../report/table_robustness.rst",
            category="Robustness",
            labels={"table": "Table S2 (robustness)", "cohort": "{cohort}"},
        ),
        table_pattern_mixture=report(
            "results/{cohort}/tables/table_pattern_mixture.html",
            caption="../report/table_pattern_mixture.rst",
            category="Robustness",
            labels={"table": "Table S3 (pattern mixture)", "cohort": "{cohort}"},
        ),
        table_wai_version=report(
            "results/{cohort}/tables/table_wai_version.html",
            caption="../report/table_wai_version.rst",
            category="Robustness",
            labels={"table": "Table S4 (WAI version)", "cohort": "{cohort}"},
        ),
        other=expand(
            "results/{{cohort}}/tables/{table}{layout}.{ext}",
            table=layout.ROBUSTNESS_TABLES,
            layout=("", "_full"),
            ext=("csv", "md", "tex"),
        )
        + expand(
            "results/{{cohort}}/tables/{table}_full.html",
            table=layout.ROBUSTNESS_TABLES,
        ),
    log:
        "logs/{cohort}/robustness_tables.log",
    conda:
        "../envs/alliance.yaml"
    params:
        code=code_version("../scripts/robustness_tables.py"),
        min_cell=min_cell,
    script:
        "../scripts/robustness_tables.py"
