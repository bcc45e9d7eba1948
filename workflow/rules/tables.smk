# Tables of the paper, regenerated from the machine-readable outputs. The files of each table are listed
# once, in alliance.layout; the HTML of the paper's layout is also shown in the Snakemake report.


rule model_tables:
    input:
        fits="results/{cohort}/models/fits.csv",
        estimates="results/{cohort}/models/estimates.csv",
        variance_components="results/{cohort}/models/variance_components.csv",
        intervals=bootstrap_intervals,
        catalogue=SETTINGS.files.models,
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
        other=other_formats(
            "results/{cohort}/tables",
            layout.table_files(layout.MODEL_TABLES),
            shown="html",
            of=layout.MODEL_TABLES,
        ),
    log:
        "logs/{cohort}/model_tables.log",
    benchmark:
        "logs/{cohort}/model_tables.benchmark.tsv"
    localrule: True
    conda:
        "../envs/alliance.yaml"
    threads: 1
    params:
        code=code_version("../scripts/model_tables.py"),
        min_cell=min_cell,
        reported=lambda wildcards: bootstrap_of(wildcards).reported,
        confidence=lambda wildcards: bootstrap_of(wildcards).confidence,
    script:
        "../scripts/model_tables.py"


rule descriptive_tables:
    input:
        patients="results/{cohort}/clean/patients.csv",
        instruments=SETTINGS.files.instruments,
        rows=SETTINGS.files.tables,
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
        other=other_formats(
            "results/{cohort}/tables",
            layout.table_files(layout.DESCRIPTIVE_TABLES),
            shown="html",
            of=layout.DESCRIPTIVE_TABLES,
        ),
    log:
        "logs/{cohort}/descriptive_tables.log",
    benchmark:
        "logs/{cohort}/descriptive_tables.benchmark.tsv"
    localrule: True
    conda:
        "../envs/alliance.yaml"
    threads: 1
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
        catalogue=SETTINGS.files.models,
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
        other=other_formats(
            "results/{cohort}/tables",
            layout.table_files(layout.ROBUSTNESS_TABLES),
            shown="html",
            of=layout.ROBUSTNESS_TABLES,
        ),
    log:
        "logs/{cohort}/robustness_tables.log",
    benchmark:
        "logs/{cohort}/robustness_tables.benchmark.tsv"
    localrule: True
    conda:
        "../envs/alliance.yaml"
    threads: 1
    params:
        code=code_version("../scripts/robustness_tables.py"),
        min_cell=min_cell,
    script:
        "../scripts/robustness_tables.py"
