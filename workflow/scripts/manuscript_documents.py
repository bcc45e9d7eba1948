"""Snakemake adapter: manuscript.md to HTML and DOCX, or PDF (rules manuscript_documents, manuscript_pdf)."""
# `snakemake` is injected by Snakemake's script directive.
# ruff: noqa: F821

from pathlib import Path

from alliance.logs import step_logger
from alliance.report.manuscript.documents import TITLE, convert

log = step_logger("manuscript_documents", snakemake.log[0], snakemake.wildcards)
# The documents by format (html, docx, pdf), as the rule names its outputs.
outputs = {name: Path(path) for name, path in snakemake.output.items()}
written = convert(
    Path(snakemake.input.manuscript),
    outputs,
    # pandoc finds the figures the manuscript links in the folders of the declared figures.
    [Path(p).parent for p in snakemake.input.figures],
    TITLE,
)
log.info(f"wrote {', '.join(p.name for p in written)}")
