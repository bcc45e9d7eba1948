"""The manuscript as documents: manuscript.md to HTML (standalone, figures embedded), DOCX (APA 7
reference document, real Word tables) and, when the config asks for it, PDF, with a bundled pandoc.

Every date pandoc and the DOCX zip would take from the clock is fixed, so the same manuscript.md always
gives the same bytes.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from alliance.build.pdf_engines import PDF_ENGINES, find_pdf_engine
from alliance.errors import AllianceError


class DocumentError(AllianceError, RuntimeError):
    """A document could not be made from manuscript.md (pandoc failed, no PDF engine)."""


TITLE = "Development of therapeutic alliance in mentalization-based treatment"

# A fixed timestamp for every date pandoc and the DOCX zip would otherwise take from the clock, so that the
# same manuscript.md always gives the same bytes (2020-10-12, the paper's online date).
SOURCE_DATE_EPOCH = "1602460800"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FONT = "Times New Roman"


def pandoc_path() -> str:
    import pypandoc

    return str(pypandoc.get_pandoc_path())


def _pandoc(arguments: Sequence[str], cwd: Path) -> bytes:
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    result = subprocess.run([pandoc_path(), *arguments], cwd=cwd, env=env, capture_output=True, check=False)
    if result.returncode != 0:
        raise DocumentError(f"pandoc {' '.join(arguments)}: {result.stderr.decode(errors='replace')}")
    return result.stdout


def normalise_zip(data: bytes) -> bytes:
    """The same archive with fixed member dates and attributes (entries in their original order)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            target.writestr(member, source.read(info.filename))
    return out.getvalue()


def reference_docx(path: Path, workdir: Path) -> Path:
    """pandoc's default reference.docx with APA 7 styles: Times New Roman 12 pt, double spacing, black
    headings (bold, level 1 centred), no space between paragraphs. Built offline and byte-deterministic."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Pt, RGBColor

    default = _pandoc(["--print-default-data-file", "reference.docx"], workdir)
    document = docx.Document(io.BytesIO(default))
    styles = {style.name: style for style in document.styles}
    for name in ("Normal", "Body Text", "First Paragraph", "Compact", "Title", "Author", "Date", "Abstract"):
        if name not in styles:
            continue
        style = styles[name]
        style.font.name = FONT  # type: ignore[union-attr]
        style.font.size = Pt(12)  # type: ignore[union-attr]
        fmt = style.paragraph_format  # type: ignore[union-attr]
        fmt.line_spacing_rule = WD_LINE_SPACING.DOUBLE
        fmt.space_before = Pt(0)
        fmt.space_after = Pt(0)
    for level in (1, 2, 3):
        style = styles[f"Heading {level}"]
        style.font.name = FONT  # type: ignore[union-attr]
        style.font.size = Pt(12)  # type: ignore[union-attr]
        style.font.bold = True  # type: ignore[union-attr]
        style.font.italic = level == 3  # type: ignore[union-attr]
        style.font.color.rgb = RGBColor(0, 0, 0)  # type: ignore[union-attr]
        if level == 1:
            style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER  # type: ignore[union-attr]
    for name in ("Table Caption", "Image Caption", "Caption"):
        if name in styles:
            styles[name].font.name = FONT  # type: ignore[union-attr]
            styles[name].font.italic = False  # type: ignore[union-attr]
    buffer = io.BytesIO()
    document.save(buffer)
    Path(path).write_bytes(normalise_zip(buffer.getvalue()))
    return Path(path)


def convert(markdown: Path, outputs: Mapping[str, Path], resource_path: Sequence[Path], title: str) -> list[Path]:
    """manuscript.md -> HTML (standalone, figures embedded), DOCX (APA reference document, real Word tables,
    figures embedded) and, when asked, PDF. ``resource_path``: directories where figures are looked up."""
    markdown = Path(markdown).resolve()
    resources = ":".join(str(Path(p).resolve()) for p in [markdown.parent, *resource_path])
    common = [
        str(markdown),
        "--from=markdown",
        f"--resource-path={resources}",
        f"--metadata=title:{title}",
        "--metadata=date:",
        "--metadata=lang:en-US",
    ]
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "html" in outputs:
            target = Path(outputs["html"]).resolve()
            _pandoc([*common, "--to=html5", "--standalone", "--embed-resources", f"--output={target}"], work)
            written.append(target)
        if "docx" in outputs:
            reference = reference_docx(work / "reference.docx", work)
            target = Path(outputs["docx"]).resolve()
            _pandoc([*common, "--to=docx", f"--reference-doc={reference}", f"--output={target}"], work)
            target.write_bytes(normalise_zip(target.read_bytes()))
            written.append(target)
        if "pdf" in outputs:
            engine = find_pdf_engine()
            if engine is None:
                raise DocumentError("no PDF engine installed (tried " + ", ".join(PDF_ENGINES) + ")")
            target = Path(outputs["pdf"]).resolve()
            _pandoc([*common, f"--pdf-engine={engine}", f"--output={target}"], work)
            written.append(target)
    return written
