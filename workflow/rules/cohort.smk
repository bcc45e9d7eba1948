# From raw exports to clean, scored data: simulate (synthetic cohorts only), validate, clean.


rule simulate_cohort:
    input:
        instruments=SETTINGS.files.instruments,
        parameters=SETTINGS.files.synthetic_parameters,
    output:
        exports=directory("results/{cohort}/simulated/exports"),
        truth=directory("results/{cohort}/simulated/truth"),
    log:
        "logs/{cohort}/simulate_cohort.log",
    benchmark:
        "logs/{cohort}/simulate_cohort.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=30,
    params:
        code=code_version("../scripts/simulate_cohort.py"),
        simulate=lambda wildcards: asdict(COHORTS[wildcards.cohort].simulate),
    script:
        "../scripts/simulate_cohort.py"


rule validate_exports:
    input:
        exports=export_files,
        instruments=SETTINGS.files.instruments,
    output:
        report="results/{cohort}/validation.txt",
        validated=directory("results/{cohort}/clean/validated"),
        quarantine=directory("results/{cohort}/quarantine"),
    log:
        "logs/{cohort}/validate_exports.log",
    benchmark:
        "logs/{cohort}/validate_exports.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=memory_mb,
        runtime=60,
    params:
        code=code_version("../scripts/validate_exports.py"),
        exports_dir=exports_dir,
        cohort=cohort_options,
    script:
        "../scripts/validate_exports.py"


rule clean_cohort:
    input:
        validated="results/{cohort}/clean/validated",
        report="results/{cohort}/validation.txt",
        instruments=SETTINGS.files.instruments,
    output:
        **{name: f"results/{{cohort}}/clean/{name}.csv" for name in layout.CLEAN_TABLES},
    log:
        "logs/{cohort}/clean_cohort.log",
    benchmark:
        "logs/{cohort}/clean_cohort.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=memory_mb,
        runtime=60,
    params:
        code=code_version("../scripts/clean_cohort.py"),
        analysis=SETTINGS.analysis,
    script:
        "../scripts/clean_cohort.py"
