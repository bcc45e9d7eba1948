# Figures of the paper, from the fitted models and the clean data's wave means.


rule figures:
    input:
        records=expand(
            "results/{{cohort}}/models/fits/{outcome}.json", outcome=MODEL_GROUPS
        ),
        wai_long="results/{cohort}/clean/wai_long.csv",
        patients="results/{cohort}/clean/patients.csv",
    output:
        figure_1=report(
            "results/{cohort}/figures/figure_1.png",
            caption="../report/figure_1.rst",
            category="Figures",
            labels={"figure": "Figure 1", "cohort": "{cohort}"},
        ),
        figure_2=report(
            "results/{cohort}/figures/figure_2.png",
            caption="../report/figure_2.rst",
            category="Figures",
            labels={"figure": "Figure 2", "cohort": "{cohort}"},
        ),
        other=other_formats(
            "results/{cohort}/figures",
            layout.figure_files(layout.FIGURES),
            shown="png",
        ),
    log:
        "logs/{cohort}/figures.log",
    benchmark:
        "logs/{cohort}/figures.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=memory_mb,
        runtime=30,
    params:
        code=code_version("../scripts/figures.py"),
        min_cell=min_cell,
    script:
        "../scripts/figures.py"
