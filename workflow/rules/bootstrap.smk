# The patient-level bootstrap (alliance.stats.bootstrap): the replicates run in shards, one job each with
# streams derived from the seed and each replicate's number (so any split gives the same numbers); the
# jackknife for the BCa acceleration runs beside them; a last step gathers them into the intervals.
rule bootstrap_shard:
    input:
        patients="results/{cohort}/clean/patients.csv",
        wai_long="results/{cohort}/clean/wai_long.csv",
        outcomes_long="results/{cohort}/clean/outcomes_long.csv",
        catalogue=SETTINGS.files.models,
    output:
        # Intermediate (temp): each replicate's estimates, deleted once the intervals are written; with the
        # jackknife's leave-one-out values they are not among a cohort's publishable outputs.
        replicates=temp("results/{cohort}/bootstrap/shards/{shard}.csv"),
        variance=temp("results/{cohort}/bootstrap/shards/{shard}.variance.csv"),
    log:
        "logs/{cohort}/bootstrap/shard_{shard}.log",
    benchmark:
        "logs/{cohort}/bootstrap/shard_{shard}.benchmark.tsv"
    wildcard_constraints:
        shard=r"\d+",
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=memory_mb,
        runtime=120,
    params:
        code=code_version("../scripts/bootstrap_shard.py"),
        seed=lambda wildcards: bootstrap_of(wildcards).seed,
        replicates=lambda wildcards: bootstrap_of(wildcards).replicate_range(
            int(wildcards.shard)
        ),
        variance_replicates=lambda wildcards: bootstrap_of(wildcards).variance_range(
            int(wildcards.shard)
        ),
    script:
        "../scripts/bootstrap_shard.py"


rule bootstrap_jackknife:
    input:
        patients="results/{cohort}/clean/patients.csv",
        wai_long="results/{cohort}/clean/wai_long.csv",
        outcomes_long="results/{cohort}/clean/outcomes_long.csv",
        catalogue=SETTINGS.files.models,
    output:
        jackknife=temp("results/{cohort}/bootstrap/jackknife.csv"),
        estimates=temp("results/{cohort}/bootstrap/full_estimates.csv"),
    log:
        "logs/{cohort}/bootstrap/jackknife.log",
    benchmark:
        "logs/{cohort}/bootstrap/jackknife.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=memory_mb,
        runtime=120,
    params:
        code=code_version("../scripts/bootstrap_jackknife.py"),
        seed=lambda wildcards: bootstrap_of(wildcards).seed,
        groups=lambda wildcards: bootstrap_of(wildcards).jackknife_groups,
    script:
        "../scripts/bootstrap_jackknife.py"


rule bootstrap_intervals:
    input:
        shards=bootstrap_shards(".csv"),
        variance_shards=bootstrap_shards(".variance.csv"),
        jackknife="results/{cohort}/bootstrap/jackknife.csv",
        estimates="results/{cohort}/bootstrap/full_estimates.csv",
        patients="results/{cohort}/clean/patients.csv",
        wai_long="results/{cohort}/clean/wai_long.csv",
        outcomes_long="results/{cohort}/clean/outcomes_long.csv",
        catalogue=SETTINGS.files.models,
    output:
        **{
            name: f"results/{{cohort}}/bootstrap/{name}.csv"
            for name in layout.BOOTSTRAP_OUTPUTS
        },
    log:
        "logs/{cohort}/bootstrap/intervals.log",
    benchmark:
        "logs/{cohort}/bootstrap/intervals.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=memory_mb,
        runtime=60,
    params:
        code=code_version("../scripts/bootstrap_intervals.py"),
        seed=lambda wildcards: bootstrap_of(wildcards).seed,
        replicates=lambda wildcards: bootstrap_of(wildcards).replicates,
        confidence=lambda wildcards: bootstrap_of(wildcards).confidence,
    script:
        "../scripts/bootstrap_intervals.py"
