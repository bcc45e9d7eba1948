"""The formatting every table of the report shares: cells, layouts, renderers and the declared files.

A table is a :class:`TableFrame` holding two :class:`TableLayout`\\ s of the same rows: the paper's
layout and the full one (every column). Every cell is a formatted string (the ``format_*`` functions
here), so the renderers (CSV, Markdown, HTML, LaTeX) only lay the cells out and the same inputs always
give the same bytes. :func:`write_tables` writes both layouts in the four formats to the files the rule
declares (``alliance.layout`` names them).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from alliance import layout as file_layout

Layout = Literal["paper", "full"]
Align = Literal["l", "r"]

DAGGER = "\u2020"  # the fit did not converge (model tables), Welch's test (Table II)
DOUBLE_DAGGER = "\u2021"  # no fit in the model outputs (model tables), Fisher's test (Table II)
GEQ = "\u2265"


@dataclass(frozen=True, eq=False)
class TableLayout:
    """One layout of a table: string cells, column alignment, title and notes."""

    table_id: str
    layout: Layout
    number: str  # "III"
    title: str  # without "Table III."
    frame: pd.DataFrame  # every cell a string; "" for empty
    align: tuple[Align, ...]
    notes: tuple[str, ...]
    model_ids: tuple[str, ...]  # the model (or other key) of each row
    source: str = "Folmo et al. (2020)"  # the paper the table reproduces (named in the LaTeX)

    @property
    def heading(self) -> str:
        suffix = " (all estimates)" if self.layout == "full" else ""
        return f"Table {self.number}{suffix}."

    @property
    def key(self) -> str:
        """``table_3`` or ``table_3_full``: the layout's file stem (:data:`LAYOUT_SUFFIXES`)."""
        return f"{self.table_id}{LAYOUT_SUFFIXES[self.layout]}"


@dataclass(frozen=True, eq=False)
class TableFrame:
    """A table in the paper's layout and in the full layout."""

    table_id: str
    paper: TableLayout
    full: TableLayout

    def layout(self, layout: Layout = "paper") -> TableLayout:
        return self.paper if layout == "paper" else self.full


# --------------------------------------------------------------------------------------------------
# Values as read from CSV
# --------------------------------------------------------------------------------------------------


def to_float(value: Any) -> float:
    """A finite float, or NaN for anything missing or not a number."""
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def text(value: Any) -> str:
    """A cell's text, stripped; "" for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def truthy(value: Any) -> bool:
    """True/False, "True"/"False" (as read from CSV), 1/0; missing is False."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    if value is None:
        return False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return not math.isnan(number) and number != 0


def records_by_model(frame: pd.DataFrame | None) -> dict[str, list[dict[str, Any]]]:
    """The rows of a model output (``fits.csv``, ``estimates.csv``, ...) by model id, in file order."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    if frame is None or frame.empty:
        return grouped
    for record in frame.to_dict("records"):
        grouped.setdefault(text(record.get("model_id")), []).append(record)
    return grouped


def first_by_model(frame: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    """The first row of each model: its fit, in ``fits.csv``."""
    return {model_id: rows[0] for model_id, rows in records_by_model(frame).items()}


# --------------------------------------------------------------------------------------------------
# Numbers as printed
# --------------------------------------------------------------------------------------------------


def _round_half_up(value: float, places: int) -> Decimal:
    quantum = Decimal(1).scaleb(-places)
    return Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)


def format_number(value: Any, decimals: int = 2, digits: int = 2) -> str:
    """``decimals`` places, more for small values so that ``digits`` significant digits remain.

    25.3 -> "25.30", -0.034 -> "-0.034", 0.004 -> "0.004", 0.0042 -> "0.0042"; NaN -> "".
    """
    number = to_float(value)
    if math.isnan(number):
        return ""
    places = decimals
    if number != 0:
        magnitude = math.floor(math.log10(abs(number)))
        places = min(max(decimals, digits - 1 - magnitude), 10)
    printed = format(_round_half_up(number, places), "f")
    if places > decimals and "." in printed:
        whole, fraction = printed.split(".")
        fraction = fraction.rstrip("0").ljust(decimals, "0")
        printed = f"{whole}.{fraction}"
    return printed[1:] if printed.startswith("-") and float(printed) == 0 else printed


def format_integer(value: Any) -> str:
    """Rounded half away from zero to an integer; NaN -> ""."""
    number = to_float(value)
    if math.isnan(number):
        return ""
    printed = format(_round_half_up(number, 0), "f")
    return "0" if printed == "-0" else printed


def format_fixed(value: Any, places: int = 2) -> str:
    number = to_float(value)
    if math.isnan(number):
        return ""
    printed = format(_round_half_up(number, places), "f")
    return printed[1:] if printed.startswith("-") and float(printed) == 0 else printed


def format_df(value: Any) -> str:
    number = to_float(value)
    if math.isnan(number):
        return ""
    return format_integer(number) if abs(number - round(number)) < 1e-9 else format_fixed(number, 1)


def format_p(value: Any) -> str:
    """Exact p to 3 decimals without the leading zero; "< .001" below .001."""
    p = to_float(value)
    if math.isnan(p):
        return ""
    if p < 0.001:
        return "< .001"
    printed = format(_round_half_up(min(p, 1.0), 3), "f")
    return printed[1:] if printed.startswith("0.") else printed


def stars(p_value: Any) -> str:
    """* p < .05, ** p < .01, *** p < .001."""
    p = to_float(p_value)
    if math.isnan(p):
        return ""
    if p < 0.001:
        return "***"
    if p < 0.01:
        return "**"
    if p < 0.05:
        return "*"
    return ""


def format_estimate(
    estimate: Any, std_error: Any, p_value: Any, *, alpha: float = 0.05, ns: bool = True, mark: bool = True
) -> str:
    """``estimate (SE)`` with stars; "ns" when ``ns`` and p >= alpha; "" when there is no estimate."""
    value = to_float(estimate)
    if math.isnan(value):
        return ""
    p = to_float(p_value)
    if ns and not math.isnan(p) and p >= alpha:
        return "ns"
    se = format_number(std_error)
    printed = format_number(value) + (f" ({se})" if se else "")
    return printed + (stars(p) if mark else "")


ROMAN_NUMERALS = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)  # fmt: skip


def roman(number: int) -> str:
    out = []
    for value, numeral in ROMAN_NUMERALS:
        count, number = divmod(number, value)
        out.append(numeral * count)
    return "".join(out)


def table_number(table_id: str) -> str:
    """``table_3`` -> "III"; an id without a number is returned as is."""
    suffix = table_id.rsplit("_", 1)[-1]
    return roman(int(suffix)) if suffix.isdigit() and int(suffix) > 0 else table_id


def join_names(names: Sequence[str], conjunction: str = "and") -> str:
    """["Goals", "Bonds", "Tasks"] -> "Goals, Bonds, and Tasks" (APA serial comma)."""
    names = list(names)
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} {conjunction} {names[1]}"
    return ", ".join(names[:-1]) + f", {conjunction} {names[-1]}"


# --------------------------------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------------------------------


def _layout(table: TableFrame | TableLayout, layout: Layout) -> TableLayout:
    return table.layout(layout) if isinstance(table, TableFrame) else table


def _cells(layout: TableLayout) -> list[list[str]]:
    return [[text(value) for value in row] for row in layout.frame.itertuples(index=False, name=None)]


def to_csv(table: TableFrame | TableLayout, layout: Layout = "paper") -> str:
    """The cells as CSV (header row, no index, "\\n" line ends); title and notes are in the other formats."""
    chosen = _layout(table, layout)
    return str(chosen.frame.to_csv(index=False, lineterminator="\n"))


def _markdown_escape(cell: str) -> str:
    for char in ("\\", "`", "*", "_", "|", "<", ">"):
        cell = cell.replace(char, "\\" + char)
    return cell


def to_markdown(table: TableFrame | TableLayout, layout: Layout = "paper") -> str:
    """A pipe table with the title above and the notes below."""
    chosen = _layout(table, layout)
    header = [_markdown_escape(str(c)) for c in chosen.frame.columns]
    rule = ["---:" if a == "r" else ":---" for a in chosen.align]
    lines = [f"**{chosen.heading}** {_markdown_escape(chosen.title)}", ""]
    lines += ["| " + " | ".join(cells) + " |" for cells in (header, rule)]
    lines += ["| " + " | ".join(_markdown_escape(c) for c in row) + " |" for row in _cells(chosen)]
    lines.append("")
    for note in chosen.notes:
        lines += [_markdown_escape(note), ""]
    return "\n".join(lines)


def _html_escape(cell: str) -> str:
    return html.escape(cell, quote=True)


def to_html(table: TableFrame | TableLayout, layout: Layout = "paper") -> str:
    """A self-contained ``<table>`` (caption, head, body, notes in ``<tfoot>``); every cell escaped."""
    chosen = _layout(table, layout)
    esc = _html_escape

    def align(index: int) -> str:
        return ' style="text-align: right"' if chosen.align[index] == "r" else ""

    width = len(chosen.frame.columns)
    lines = [
        f'<table id="{esc(chosen.key)}">',
        f"<caption><strong>{esc(chosen.heading)}</strong> {esc(chosen.title)}</caption>",
        "<thead>",
        "<tr>"
        + "".join(f'<th scope="col"{align(i)}>{esc(str(c))}</th>' for i, c in enumerate(chosen.frame.columns))
        + "</tr>",
        "</thead>",
        "<tbody>",
    ]
    lines += [
        "<tr>" + "".join(f"<td{align(i)}>{esc(c)}</td>" for i, c in enumerate(row)) + "</tr>" for row in _cells(chosen)
    ]
    lines += ["</tbody>", "<tfoot>"]
    lines += [f'<tr><td colspan="{width}">{esc(note)}</td></tr>' for note in chosen.notes]
    lines += ["</tfoot>", "</table>", ""]
    return "\n".join(lines)


LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    DAGGER: r"\dag{}",
    DOUBLE_DAGGER: r"\ddag{}",
    GEQ: r"$\geq$",
    "\u2264": r"$\leq$",
}


def latex_escape(cell: str) -> str:
    return "".join(LATEX_SPECIALS.get(char, char) for char in cell)


def to_latex(table: TableFrame | TableLayout, layout: Layout = "paper") -> str:
    """A ``table`` environment: booktabs ``tabular`` (needs ``\\usepackage{booktabs}``), notes below it."""
    chosen = _layout(table, layout)
    size = r"\small" if chosen.layout == "paper" else r"\scriptsize"
    lines = [
        f"% Table {chosen.number} of {chosen.source}, {chosen.layout} layout",
        r"\begin{table}[htbp]",
        r"\centering",
        size,
        rf"\caption{{{latex_escape(chosen.title)}}}",
        rf"\label{{tab:{chosen.key.replace('_', '-')}}}",
        rf"\begin{{tabular}}{{{''.join(chosen.align)}}}",
        r"\toprule",
        " & ".join(latex_escape(str(c)) for c in chosen.frame.columns) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(latex_escape(c) for c in row) + r" \\" for row in _cells(chosen)]
    lines += [r"\bottomrule", r"\end{tabular}", "", r"\medskip", r"\begin{minipage}{\linewidth}", r"\footnotesize"]
    lines += [latex_escape(note) + r"\par" for note in chosen.notes]
    lines += [r"\end{minipage}", r"\end{table}", ""]
    return "\n".join(lines)


Renderer = Callable[[TableFrame | TableLayout, Layout], str]
RENDERERS: dict[str, Renderer] = {"csv": to_csv, "md": to_markdown, "html": to_html, "tex": to_latex}
LAYOUTS: tuple[Layout, ...] = ("paper", "full")
# The file-name suffix of each layout (alliance.layout.TABLE_LAYOUTS: "" and "_full").
LAYOUT_SUFFIXES: dict[Layout, str] = dict(zip(LAYOUTS, file_layout.TABLE_LAYOUTS, strict=True))


def _targets(table: TableFrame, files: Mapping[str, Path]) -> list[tuple[Path, Layout, str]]:
    return [
        (file_layout.declared(files, f"{table.table_id}{LAYOUT_SUFFIXES[layout]}.{extension}"), layout, extension)
        for layout in LAYOUTS
        for extension in file_layout.TABLE_FORMATS
    ]


def write_tables(tables: Sequence[TableFrame], files: Mapping[str, Path]) -> list[Path]:
    """Both layouts of each table in every format (``table_3.csv`` ... ``table_3_full.tex``), each to its
    declared file in ``files`` (by file name, :func:`alliance.layout.by_name`); UTF-8, same bytes every time.

    A file the rules do not declare is a KeyError naming it, raised before anything is written.
    """
    targets = [(table, *target) for table in tables for target in _targets(table, files)]
    for table, path, layout, extension in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(RENDERERS[extension](table, layout).encode("utf-8"))
    return [path for _, path, _, _ in targets]


def write_table(table: TableFrame, files: Mapping[str, Path]) -> list[Path]:
    """:func:`write_tables` of one table."""
    return write_tables([table], files)
