# The manuscript: methods and results rendered from the outputs (manuscript/*.md.j2), assembled with the
# tables and figures, and converted to HTML and DOCX (and PDF when the config asks for it).


rule manuscript_descriptives:
    input:
        patients="results/{cohort}/clean/patients.csv",
        rows=SETTINGS.files.tables,
    output:
        descriptives=f"results/{{cohort}}/manuscript/{layout.DESCRIPTIVES}",
    log:
        "logs/{cohort}/manuscript_descriptives.log",
    benchmark:
        "logs/{cohort}/manuscript_descriptives.benchmark.tsv"
    localrule: True
    conda:
        "../envs/alliance.yaml"
    threads: 1
    params:
        code=code_version("../scripts/manuscript_descriptives.py"),
        min_cell=min_cell,
    script:
        "../scripts/manuscript_descriptives.py"


rule manuscript_text:
    input:
        models=expand(
            "results/{{cohort}}/models/{name}",
            name=layout.csv_files(layout.MODEL_OUTPUTS),
        ),
        summary=f"results/{{cohort}}/missing_data/{layout.MISSING_DATA_SUMMARY}",
        descriptives=f"results/{{cohort}}/manuscript/{layout.DESCRIPTIVES}",
        tables=expand(
            "results/{{cohort}}/tables/{table}{ext}",
            table=layout.MANUSCRIPT_TABLES,
            ext=(".md", "_full.csv"),
        ),
        intervals=bootstrap_intervals,
        comparison=comparison_tables,
        templates=MANUSCRIPT_TEMPLATES,
        catalogue=SETTINGS.files.models,
        instruments=SETTINGS.files.instruments,
    output:
        manuscript="results/{cohort}/manuscript/manuscript.md",
        sections=expand(
            "results/{{cohort}}/manuscript/{section}.md",
            section=layout.MANUSCRIPT_SECTIONS,
        ),
        provenance=f"results/{{cohort}}/manuscript/{layout.PROVENANCE}",
    log:
        "logs/{cohort}/manuscript_text.log",
    benchmark:
        "logs/{cohort}/manuscript_text.benchmark.tsv"
    localrule: True
    conda:
        "../envs/alliance.yaml"
    threads: 1
    params:
        code=code_version("../scripts/manuscript_text.py"),
        analysis=config["analysis"],
        config_files=CONFIG_FILES,
        min_cell=min_cell,
        reported=lambda wildcards: bootstrap_of(wildcards).reported,
        confidence=lambda wildcards: bootstrap_of(wildcards).confidence,
    script:
        "../scripts/manuscript_text.py"


rule manuscript_documents:
    input:
        manuscript="results/{cohort}/manuscript/manuscript.md",
        figures=expand(
            "results/{{cohort}}/figures/{figure}.png",
            figure=layout.FIGURES,
        ),
    output:
        html=report(
            "results/{cohort}/manuscript/manuscript.html",
            caption="../report/manuscript.rst",
            category="Manuscript",
            labels={"document": "Manuscript", "cohort": "{cohort}"},
        ),
        docx="results/{cohort}/manuscript/manuscript.docx",
    log:
        "logs/{cohort}/manuscript_documents.log",
    benchmark:
        "logs/{cohort}/manuscript_documents.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=30,
    params:
        code=code_version("../scripts/manuscript_documents.py"),
    script:
        "../scripts/manuscript_documents.py"


rule manuscript_pdf:
    input:
        manuscript="results/{cohort}/manuscript/manuscript.md",
        figures=expand(
            "results/{{cohort}}/figures/{figure}.png",
            figure=layout.FIGURES,
        ),
    output:
        pdf="results/{cohort}/manuscript/manuscript.pdf",
    log:
        "logs/{cohort}/manuscript_pdf.log",
    benchmark:
        "logs/{cohort}/manuscript_pdf.benchmark.tsv"
    conda:
        "../envs/alliance.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=30,
    params:
        code=code_version("../scripts/manuscript_documents.py"),
    script:
        "../scripts/manuscript_documents.py"
