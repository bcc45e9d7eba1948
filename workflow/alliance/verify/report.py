"""The verification report of one cohort: published vs reproduced, internal consistency, privacy scan and
determinism, as Markdown, HTML (self-contained) and JSON. Same inputs, same bytes (no timestamps)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from alliance.verify.compare import Comparison, summarise, summary_line
from alliance.verify.consistency import Finding
from alliance.verify.manifest import Difference
from alliance.verify.privacy import Leak

COMPARISON_COLUMNS = (
    ("id", "Published entry"),
    ("label", "What"),
    ("published", "Published"),
    ("reproduced", "Reproduced"),
    ("difference", "Difference"),
    ("tolerance", "Tolerance"),
    ("verdict", "Verdict"),
    ("expected_significance", "Paper's p"),
    ("reproduced_p", "Reproduced p"),
    ("significance", "Significance"),
    ("source", "Reproduced from"),
    ("note", "Note"),
)


@dataclass(frozen=True)
class Determinism:
    """The scratch rebuild: whether it ran, the files compared and those that differ."""

    ran: bool
    files_compared: int = 0
    differences: Sequence[Difference] = ()
    error: str = ""
    outputs_sha256: str = ""
    code: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifyReport:
    cohort: str
    synthetic: bool
    comparisons: Sequence[Comparison]
    findings: Sequence[Finding]
    files_checked: Sequence[str]
    leaks: Sequence[Leak]
    files_scanned: int
    min_cell: int
    determinism: Determinism
    kind: str = "cohort"  # or "study": a companion study (alliance.verify.studies)
    mapping_file: str = "config/verify.yaml"
    identifiers: str = "patient_id"  # what the privacy scan looked for, as the report names it

    def status(self) -> dict[str, str]:
        counts = summarise(self.comparisons)
        return {
            "published_vs_reproduced": (
                "all match or within tolerance"
                if counts["values"]["differs"] == 0 and counts["significance"]["disagrees"] == 0
                else "some differ"
            ),
            "internal_consistency": "pass" if not self.findings else "fail",
            "privacy": "pass" if not self.leaks else "fail",
            "determinism": (
                "not run"
                if not self.determinism.ran
                else ("fail" if self.determinism.error or self.determinism.differences else "pass")
            ),
        }


def to_json(report: VerifyReport) -> str:
    record = {
        report.kind: report.cohort,
        "synthetic": report.synthetic,
        "status": report.status(),
        "summary": summarise(report.comparisons),
        "summary_line": summary_line(report.comparisons),
        "comparisons": [asdict(c) for c in report.comparisons],
        "consistency": {
            "files_checked": list(report.files_checked),
            "inconsistencies": [asdict(f) for f in report.findings],
        },
        "privacy": {
            "files_scanned": report.files_scanned,
            "min_cell": report.min_cell,
            "leaks": [asdict(leak) for leak in report.leaks],
        },
        "determinism": {
            "ran": report.determinism.ran,
            "files_compared": report.determinism.files_compared,
            "differences": [asdict(d) for d in report.determinism.differences],
            "error": report.determinism.error,
            "outputs_sha256": report.determinism.outputs_sha256,
            "code": dict(report.determinism.code),
        },
    }
    return json.dumps(record, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _intro(report: VerifyReport) -> list[str]:
    purpose = (
        "This cohort is **synthetic**: the comparison with the published numbers is a calibration check of the "
        "generator, not a test of the paper."
        if report.synthetic
        else "This cohort is read from a clinic's exports: the comparison with the published numbers is the review."
    )
    if report.kind == "study":
        purpose = (
            "This study reads the **synthetic example** shipped with the workflow (config/examples/): the comparison "
            "with the published numbers checks the example, not the paper."
            if report.synthetic
            else "This study is read from a research group's exports: the comparison with the published numbers is "
            "the review."
        )
    return [
        purpose,
        "",
        (
            "Verdicts: **matches** = the reproduced value rounds to the published one at the published precision; "
            f"**within tolerance** = it does not, but the difference is within the tolerance of `{report.mapping_file}`; "
            "**differs** = outside it; **not reproduced** = the workflow has no such value. Significance: the paper's "
            '"ns" means p >= .05, stars and "<.05"/"<.001" a p below that; **stars differ** = significant at .05 on both '
            "sides, at different star levels."
        ),
    ]


def to_markdown(report: VerifyReport) -> str:
    lines = [f"# Verification report: {report.kind} `{report.cohort}`", ""]
    lines += _markdown_summary(report) + _intro(report) + [""]
    lines += _markdown_comparisons(report.comparisons)
    lines += _markdown_consistency(report) + _markdown_privacy(report) + _markdown_determinism(report.determinism)
    lines += [
        "",
        "The full manifest (every file's SHA-256, inputs, config, environment) is `verify/manifest.json`.",
        "",
    ]
    return "\n".join(lines)


def _markdown_summary(report: VerifyReport) -> list[str]:
    status = report.status()
    determinism = report.determinism
    return [
        "## Summary",
        "",
        f"- Published vs reproduced: {summary_line(report.comparisons)}",
        (
            f"- Internal consistency: {status['internal_consistency']} "
            f"({len(report.findings)} inconsistencies in {len(report.files_checked)} files)"
        ),
        (
            f"- Privacy scan: {status['privacy']} ({len(report.leaks)} findings in {report.files_scanned} files; "
            f"min_cell {report.min_cell})"
        ),
        f"- Determinism (scratch rebuild): {status['determinism']}"
        + (
            f" ({len(determinism.differences)} of {determinism.files_compared} files differ)" if determinism.ran else ""
        ),
        "",
    ]


def _markdown_comparisons(comparisons: Sequence[Comparison]) -> list[str]:
    """One table per section of the paper, in the mapping's order."""
    lines = ["## Published vs reproduced", ""]
    section = None
    for comparison in comparisons:
        if comparison.section != section:
            section = comparison.section
            lines += ["", f"### {section}", ""]
            lines += ["| " + " | ".join(title for _, title in COMPARISON_COLUMNS) + " |"]
            lines += ["| " + " | ".join("---" for _ in COMPARISON_COLUMNS) + " |"]
        lines.append("| " + " | ".join(_md(getattr(comparison, key)) for key, _ in COMPARISON_COLUMNS) + " |")
    return lines


def _markdown_consistency(report: VerifyReport) -> list[str]:
    lines = ["", "## Internal consistency", ""]
    lines += [
        (
            "Estimates, SEs, df, t (Z) and p reported together must agree after rounding; p stated as < .05 must be; "
            '"ns" must have p >= .05; stars must match p.'
        ),
        "",
    ]
    if not report.findings:
        return [*lines, f"No inconsistencies in {len(report.files_checked)} files."]
    lines += ["| Location | Check | Reported | Problem |", "| --- | --- | --- | --- |"]
    return lines + [
        f"| {_md(f.location())} | {_md(f.check)} | {_md(f.reported)} | {_md(f.message)} |" for f in report.findings
    ]


def _markdown_privacy(report: VerifyReport) -> list[str]:
    lines = ["", "## Privacy scan", ""]
    if report.leaks:
        return lines + [f"- {_md(leak.describe())}" for leak in report.leaks]
    return [
        *lines,
        f"No {report.identifiers} or date of the exports in {report.files_scanned} publishable files"
        + (f"; no count under {report.min_cell} in the tables." if report.min_cell > 0 else "."),
    ]


def _markdown_determinism(determinism: Determinism) -> list[str]:
    lines = ["", "## Determinism", ""]
    if not determinism.ran:
        lines.append("The scratch rebuild was not run.")
    elif determinism.error:
        lines.append(f"The scratch rebuild failed: {_md(determinism.error)}")
    elif determinism.differences:
        lines += [f"- `{d.file}`: {d.status}" for d in determinism.differences]
    else:
        lines.append(
            f"A rebuild from nothing in a scratch copy gave the same bytes for all {determinism.files_compared} "
            "publishable files."
        )
    lines += ["", f"Outputs SHA-256 (of the manifest's list): `{determinism.outputs_sha256}`"]
    code = dict(determinism.code)
    if code:
        lines += [f"Code: {', '.join(f'{k} `{v}`' for k, v in sorted(code.items()))}"]
    return lines


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin-bottom: 1em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.matches, .agrees, .pass { background: #e3f4e3; }
.within-tolerance, .stars-differ { background: #fff6d6; }
.differs, .disagrees, .fail { background: #f9dcdc; }
.not-reproduced { background: #eee; }
"""


def _cls(text: str) -> str:
    return text.replace(" ", "-")


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def to_html(report: VerifyReport) -> str:
    """A self-contained HTML page (inline style, no script, no external resources)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        f"<title>Verification report: {_esc(report.cohort)}</title>",
        f"<style>{STYLE}</style></head>",
        "<body>",
        f"<h1>Verification report: {_esc(report.kind)} <code>{_esc(report.cohort)}</code></h1>",
    ]
    parts += _html_summary(report)
    parts += [f"<p>{_esc(line)}</p>" for line in _intro(report) if line]
    parts += _html_comparisons(report.comparisons)
    parts += _html_consistency(report) + _html_privacy(report) + _html_determinism(report.determinism)
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _html_summary(report: VerifyReport) -> list[str]:
    status = report.status()
    determinism = report.determinism
    return [
        '<h2 id="summary">Summary</h2>',
        '<table id="verify-summary"><tbody>',
        f"<tr><th>Published vs reproduced</th><td>{_esc(summary_line(report.comparisons))}</td></tr>",
        (
            f'<tr><th>Internal consistency</th><td class="{status["internal_consistency"]}">'
            f"{_esc(status['internal_consistency'])}: {len(report.findings)} inconsistencies in "
            f"{len(report.files_checked)} files</td></tr>"
        ),
        (
            f'<tr><th>Privacy scan</th><td class="{status["privacy"]}">{_esc(status["privacy"])}: {len(report.leaks)} '
            f"findings in {report.files_scanned} files (min_cell {report.min_cell})</td></tr>"
        ),
        f'<tr><th>Determinism</th><td class="{_cls(status["determinism"])}">{_esc(status["determinism"])}'
        + (f": {len(determinism.differences)} of {determinism.files_compared} files differ" if determinism.ran else "")
        + "</td></tr>",
        "</tbody></table>",
    ]


def _html_comparisons(comparisons: Sequence[Comparison]) -> list[str]:
    """One table per section of the paper; verdicts coloured by their class."""
    parts = ['<h2 id="published">Published vs reproduced</h2>']
    section = None
    for comparison in comparisons:
        if comparison.section != section:
            if section is not None:
                parts.append("</tbody></table>")
            section = comparison.section
            parts.append(f"<h3>{_esc(section)}</h3>")
            parts.append(
                "<table><thead><tr>"
                + "".join(f"<th>{_esc(t)}</th>" for _, t in COMPARISON_COLUMNS)
                + "</tr></thead><tbody>"
            )
        cells = []
        for key, _ in COMPARISON_COLUMNS:
            value = getattr(comparison, key)
            css = f' class="{_cls(value)}"' if key in ("verdict", "significance") and value else ""
            cells.append(f"<td{css}>{_esc(value)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    if section is not None:
        parts.append("</tbody></table>")
    return parts


def _html_consistency(report: VerifyReport) -> list[str]:
    parts = ['<h2 id="consistency">Internal consistency</h2>']
    if not report.findings:
        return [*parts, f"<p>No inconsistencies in {len(report.files_checked)} files.</p>"]
    parts.append(
        "<table><thead><tr><th>Location</th><th>Check</th><th>Reported</th><th>Problem</th></tr></thead><tbody>"
    )
    parts += [
        f"<tr><td>{_esc(f.location())}</td><td>{_esc(f.check)}</td><td>{_esc(f.reported)}</td>"
        f"<td>{_esc(f.message)}</td></tr>"
        for f in report.findings
    ]
    return [*parts, "</tbody></table>"]


def _html_privacy(report: VerifyReport) -> list[str]:
    parts = ['<h2 id="privacy">Privacy scan</h2>']
    if report.leaks:
        return [*parts, "<ul>" + "".join(f"<li>{_esc(leak.describe())}</li>" for leak in report.leaks) + "</ul>"]
    return [
        *parts,
        f"<p>No {_esc(report.identifiers)} or date of the exports in {report.files_scanned} publishable files.</p>",
    ]


def _html_determinism(determinism: Determinism) -> list[str]:
    parts = ['<h2 id="determinism">Determinism</h2>']
    if not determinism.ran:
        parts.append("<p>The scratch rebuild was not run.</p>")
    elif determinism.error:
        parts.append(f"<p>The scratch rebuild failed: {_esc(determinism.error)}</p>")
    elif determinism.differences:
        parts.append(
            "<ul>"
            + "".join(f"<li><code>{_esc(d.file)}</code>: {_esc(d.status)}</li>" for d in determinism.differences)
            + "</ul>"
        )
    else:
        parts.append(
            f"<p>A rebuild from nothing in a scratch copy gave the same bytes for all {determinism.files_compared} "
            "publishable files.</p>"
        )
    parts.append(f"<p>Outputs SHA-256: <code>{_esc(determinism.outputs_sha256)}</code></p>")
    return parts
