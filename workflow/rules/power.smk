# Simulation-based power of the main findings (docs/power.md), on request: `snakemake --cores all power`,
# not part of the default build. One job per finding simulates cohorts from its fitted model over the
# whole grid of designs of `power:` in the config (each replicate with its own seed, so that the results
# do not depend on the jobs); the report gathers them into power.csv, the power curves and a summary.
from alliance.errors import AllianceError
from alliance.stats.power_design import check_power_settings
from snakemake.exceptions import WorkflowError

# power.findings must name findings of the catalogue, power.waves fit in the assessment schedule.
try:
    check_power_settings(
        SETTINGS.power,
        [finding.id for finding in CATALOGUE.robustness.findings],
        SETTINGS.analysis.wai_waves,
        " + ".join(SETTINGS.sources),
    )
except AllianceError as error:
    raise WorkflowError(str(error)) from None

POWER_FINDINGS = list(SETTINGS.power.findings)
POWER_FILES = layout.power_files()


wildcard_constraints:
    finding="|".join(POWER_FINDINGS) or "(?!)",


rule power_simulation:
    input:
        patients="results/{cohort}/clean/patients.csv",
        wai_long="results/{cohort}/clean/wai_long.csv",
        outcomes_long="results/{cohort}/clean/outcomes_long.csv",
        fits="results/{cohort}/models/fits.csv",
        estimates="results/{cohort}/models/estimates.csv",
        variance_components="results/{cohort}/models/variance_components.csv",
        catalogue=SETTINGS.files.models,
    output:
        "results/{cohort}/power/findings/{finding}.csv",
    log:
        "logs/{cohort}/power/{finding}.log",
    benchmark:
        "logs/{cohort}/power/{finding}.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=memory_mb,
        runtime=240,
    params:
        code=code_version("../scripts/power_simulation.py"),
        effect=lambda wildcards: SETTINGS.power.effects.get(wildcards.finding),
        n_patients=list(SETTINGS.power.n_patients),
        waves=list(SETTINGS.power.waves),
        dropout=list(SETTINGS.power.dropout),
        replicates=SETTINGS.power.replicates,
        seed=SETTINGS.power.seed,
        months=list(SETTINGS.analysis.wai_waves),
    script:
        "../scripts/power_simulation.py"


rule power_report:
    input:
        findings=expand(
            "results/{{cohort}}/power/findings/{finding}.csv", finding=POWER_FINDINGS
        ),
        catalogue=SETTINGS.files.models,
    output:
        [f"results/{{cohort}}/power/{name}" for name in POWER_FILES],
    log:
        "logs/{cohort}/power/power_report.log",
    localrule: True
    conda:
        "../envs/alliance.yaml"
    threads: 1
    params:
        code=code_version("../scripts/power_report.py"),
        findings=POWER_FINDINGS,
        target=SETTINGS.power.target,
        from_config=sorted(SETTINGS.power.effects),
    script:
        "../scripts/power_report.py"


rule power:
    input:
        expand("results/{cohort}/power/{name}", cohort=COHORTS, name=POWER_FILES),
