# The manuscript: methods and results rendered from the outputs (manuscript/*.md.j2), assembled with the
# tables and figures, and converted to HTML and DOCX (and PDF when an engine is installed).


rule manuscript_descriptives:
    input:
        patients="results/{cohort}/clean/patients.csv",
        rows=config["tables"],
    output:
        "results/{cohort}/manuscript/descriptives.json",
    log:
        "logs/{cohort}/manuscript_descriptives.log",
    conda:
        "../envs/alliance.yaml"
    params:
        code=code_version("../scripts/manuscript_descriptives.py"),
        min_cell=min_cell,
    script:
        "../scripts/manuscript_descriptives.py"


rule manuscript_text:
    input:
        models=expand(
            "results/{{cohort}}/models/{name}.csv",
            name=layout.MODEL_OUTPUTS,
        ),
        summary="results/{cohort}/missing_data/summary.json",
        descriptives="results/{cohort}/manuscript/descriptives.json",
        tables=expand(
            "results/{{cohort}}/tables/{table}{ext}",
            table=layout.MANUSCRIPT_TABLES,
            ext=(".md", "_full.csv"),
        ),
        templates=MANUSCRIPT_TEMPLATES,
        catalogue=config["models"],
        instruments=config["instruments"],
    output:
        manuscript="results/{cohort}/manuscript/manuscript.md",
        sections=expand(
            "results/{{cohort}}/manuscript/{section}.md",
            section=("methods", "results"),
        ),
        provenance="results/{cohort}/manuscript/provenance.json",
    log:
        "logs/{cohort}/manuscript_text.log",
    conda:
        "../envs/alliance.yaml"
    params:
        code=code_version("../scripts/manuscript_text.py"),
        analysis=config["analysis"],
        min_cell=min_cell,
    script:
        "../scripts/manuscript_text.py"


rule manuscript_documents:
    input:
        manuscript="results/{cohort}/manuscript/manuscript.md",
        figures=expand(
            "results/{{cohort}}/figures/{figure}.png",
            figure=("figure_1", "figure_2"),
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
    conda:
        "../envs/alliance.yaml"
    params:
        code=code_version("../scripts/manuscript_documents.py"),
    script:
        "../scripts/manuscript_documents.py"


rule manuscript_pdf:
    input:
        manuscript="results/{cohort}/manuscript/manuscript.md",
        figures=expand(
            "results/{{cohort}}/figures/{figure}.png",
            figure=("figure_1", "figure_2"),
        ),
    output:
        pdf="results/{cohort}/manuscript/manuscript.pdf",
    log:
        "logs/{cohort}/manuscript_pdf.log",
    conda:
        "../envs/alliance.yaml"
    params:
        code=code_version("../scripts/manuscript_documents.py"),
    script:
        "../scripts/manuscript_documents.py"
