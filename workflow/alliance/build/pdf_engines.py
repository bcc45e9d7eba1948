"""Which PDF engine pandoc can use here: a module of its own, so that the workflow can ask at load time
(whether to declare manuscript.pdf) without importing the manuscript machinery (scipy, jinja2, ...)."""

from __future__ import annotations

import shutil
from collections.abc import Callable

PDF_ENGINES = ("tectonic", "xelatex", "lualatex", "pdflatex", "typst", "weasyprint", "wkhtmltopdf")


def find_pdf_engine(which: Callable[[str], str | None] | None = None) -> str | None:
    """The first PDF engine pandoc can use that is installed, or None (then no PDF is made)."""
    look = which or shutil.which
    return next((engine for engine in PDF_ENGINES if look(engine)), None)
