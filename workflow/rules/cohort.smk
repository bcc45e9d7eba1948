# From raw exports to clean, scored data: simulate (synthetic cohorts only), validate, clean.


rule simulate_cohort:
    output:
        exports=directory("results/{cohort}/simulated/exports"),
        truth=directory("results/{cohort}/simulated/truth"),
    input:
        instruments=config["instruments"],
        parameters=config["synthetic_parameters"],
    params:
        simulate=lambda wildcards: COHORTS[wildcards.cohort]["simulate"],
    log:
        "logs/{cohort}/simulate_cohort.log",
    script:
        "../scripts/simulate_cohort.py"


rule validate_exports:
    output:
        report="results/{cohort}/validation.txt",
        validated=directory("results/{cohort}/clean/validated"),
        quarantine=directory("results/{cohort}/quarantine"),
    input:
        exports=export_files,
        instruments=config["instruments"],
    params:
        exports_dir=exports_dir,
        cohort=cohort_options,
    log:
        "logs/{cohort}/validate_exports.log",
    script:
        "../scripts/validate_exports.py"


rule clean_cohort:
    output:
        patients="results/{cohort}/clean/patients.csv",
        wai_long="results/{cohort}/clean/wai_long.csv",
        outcomes_long="results/{cohort}/clean/outcomes_long.csv",
        row_accounting="results/{cohort}/clean/row_accounting.csv",
    input:
        validated="results/{cohort}/clean/validated",
        report="results/{cohort}/validation.txt",
        instruments=config["instruments"],
    params:
        analysis=config["analysis"],
    log:
        "logs/{cohort}/clean_cohort.log",
    script:
        "../scripts/clean_cohort.py"
