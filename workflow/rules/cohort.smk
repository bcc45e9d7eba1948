# From raw exports to clean, scored data: simulate (synthetic cohorts only), validate, clean.


rule simulate_cohort:
    input:
        instruments=config["instruments"],
        parameters=config["synthetic_parameters"],
    output:
        exports=directory("results/{cohort}/simulated/exports"),
        truth=directory("results/{cohort}/simulated/truth"),
    log:
        "logs/{cohort}/simulate_cohort.log",
    conda:
        "../envs/alliance.yaml"
    params:
        code=code_version("../scripts/simulate_cohort.py"),
        simulate=lambda wildcards: COHORTS[wildcards.cohort]["simulate"],
    script:
        "../scripts/simulate_cohort.py"


rule validate_exports:
    input:
        exports=export_files,
        instruments=config["instruments"],
    output:
        report="results/{cohort}/validation.txt",
        validated=directory("results/{cohort}/clean/validated"),
        quarantine=directory("results/{cohort}/quarantine"),
    log:
        "logs/{cohort}/validate_exports.log",
    conda:
        "../envs/alliance.yaml"
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
        instruments=config["instruments"],
    output:
        patients="results/{cohort}/clean/patients.csv",
        wai_long="results/{cohort}/clean/wai_long.csv",
        outcomes_long="results/{cohort}/clean/outcomes_long.csv",
        row_accounting="results/{cohort}/clean/row_accounting.csv",
    log:
        "logs/{cohort}/clean_cohort.log",
    conda:
        "../envs/alliance.yaml"
    params:
        code=code_version("../scripts/clean_cohort.py"),
        analysis=config["analysis"],
    script:
        "../scripts/clean_cohort.py"
